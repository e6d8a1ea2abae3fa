/* check.h - check one mail domain (or explicit next hops): DNS, probes, verdicts
 *
 * One run resolves the MX hosts (RFC 5321 §5.1, RFC 7505 null MX), their
 * addresses, the PTR names of those addresses, probes every address once,
 * checks revocation, and evaluates every level from that single connection
 * per address. Lookups and probes run concurrently on one event loop, so a
 * domain takes about as long as its slowest address. */
#ifndef MXTLS_ENGINE_CHECK_H
#define MXTLS_ENGINE_CHECK_H

#include <stdint.h>

#include "core/base.h"
#include "core/dane.h"
#include "core/policymap.h"
#include "io/dns.h"
#include "io/probe.h"
#include "io/revocation.h"

#define CHECK_MAX_HOSTS 16       /* MX hosts probed (Postfix: smtp_mx_address_limit 5) */
#define CHECK_MAX_ADDRS 8        /* addresses per host and family */
#define CHECK_MAX_PTR 4          /* PTR names per address that are forward-checked */
#define CHECK_MAX_ROUTES 16
#define CHECK_DEFAULT_TOTAL_TIMEOUT_MS 120000
/* How much later than the check's deadline a probe's own one is set */
#define CHECK_PROBE_DEADLINE_SLACK_MS 1000
#define CHECK_NLEVELS 16
/* Distinct ClientHellos per address: Postfix's, DANE's, Cisco's, a policy
 * entry's limits, --sni-compare's. */
#define CHECK_MAX_CONNS 6

/* Which SNI the probes send. SENDER: each level's sender's own choice (level
 * traits, docs/policies.md); the others override it for every level. */
typedef enum check_sni {
    CHECK_SNI_SENDER = 0,
    CHECK_SNI_HOSTNAME = 1,      /* --sni auto: the MX hostname */
    CHECK_SNI_NONE = 2,
    CHECK_SNI_NAME = 3
} check_sni;

typedef struct check_options {
    const char *domain;          /* recipient domain (required) */
    const char *routes[CHECK_MAX_ROUTES]; /* explicit next hops: no MX lookup */
    size_t nroutes;
    uint16_t port;               /* 0: 25 (465 with implicit_tls) */
    int family;                  /* 0: both, 4 or 6 */
    dns_config dns;
    check_sni sni;
    const char *sni_name;        /* with CHECK_SNI_NAME */
    /* Postfix smtp_tls_servername: NULL (unset: no SNI), "hostname" (the MX
     * hostname), "nexthop" (the next-hop domain) or a literal name. */
    const char *servername;
    int sni_compare;             /* also connect with the other SNI choice */
    int implicit_tls;
    const char *ehlo_name;       /* NULL: this machine's FQDN or "mxtls.invalid" */
    int connect_timeout_ms, phase_timeout_ms, total_timeout_ms;
    const mxtls_policymap *policy_map; /* for the auto level and match= (may be NULL) */
    const char *ip_override;     /* probe this address instead of resolving (probe --ip) */
    const char *client_cert;     /* PEM chain to present when a server asks (or NULL) */
    const char *client_key;      /* its key (NULL: in client_cert) */
    const char *sts_cache;       /* MTA-STS policy cache file (--sts-cache), or NULL */
    /* `mxtls policyd`: MX, addresses, TLSA and MTA-STS only; no PTR, no
     * probes, no verdicts (the report's levels are empty) */
    int lookups_only;
} check_options;

/* check_hello - what a sender puts in its ClientHello (all strings owned) */
typedef struct check_hello {
    char *sni;                   /* NULL: no SNI */
    char *protocols;             /* policy entry's protocols= (Postfix syntax), or NULL */
    char *ciphers;               /* policy entry's ciphers= grade, or NULL */
    char *exclude;               /* policy entry's exclude=, or NULL */
    /* OpenSSL security level 1 (Postfix raises levels that authenticate the
     * server to it; tls_client.c), instead of the probe's 0 */
    int seclevel1;
} check_hello;

/* check_conn - one connection to an address with one ClientHello */
typedef struct check_conn {
    check_hello hello;
    probe_report *probe;         /* NULL until it finished (or never started) */
    char *probe_error;           /* the probe could not start (bad SNI, EHLO name, ...) */
    revocation_result rev;       /* of this connection's leaf */
    int alt;                     /* --sni-compare's extra connection */
} check_conn;

typedef struct check_address {
    char *ip;
    int family;                  /* 4 or 6 */
    dns_security security;       /* of the A/AAAA answer */
    strlist ptr;                 /* PTR names */
    unsigned char ptr_confirmed[CHECK_MAX_PTR];
    char *ptr_problem;           /* PTR lookup outcome when it gave no names */
    size_t ptr_dropped;          /* PTR records left unread beyond CHECK_MAX_PTR names */
    /* One connection per distinct ClientHello, never one per level; conns[0]
     * is Postfix's default one (or the --sni override's). */
    check_conn conns[CHECK_MAX_CONNS];
    size_t nconns;
    size_t conns_dropped;        /* hellos beyond CHECK_MAX_CONNS (evaluated from conns[0]) */
    int level_conn[CHECK_NLEVELS];            /* conns index each level's verdict comes from */
    int alt_conn;                             /* --sni-compare: conns index, or -1 */
    int legacy_tls;              /* a connection at security level 0 negotiated TLS < 1.2 */
    mxtls_result *results[CHECK_NLEVELS];     /* per level, same order as the run's levels */
    mxtls_result *results_alt[CHECK_NLEVELS]; /* from the --sni-compare connection */
    int pending;                 /* operations still running for this address */
} check_address;

/* check_address_conn - the connection a level's verdict came from (NULL if none) */
const check_conn *check_address_conn(const check_address *a, size_t level_index);
/* check_address_same_leaf - every finished connection showed the same leaf */
int check_address_same_leaf(const check_address *a);

typedef struct check_host {
    char *name;
    int pref;                    /* MX preference; -1 for routes and implicit MX */
    dns_outcome a_outcome, aaaa_outcome;
    dns_security a_security, aaaa_security;
    char *problem;               /* why the host has no usable address, or NULL */
    int invalid;                 /* the MX target is not a valid host name: not probed */
    int a_queried, aaaa_queried; /* which address families were asked for */
    /* TLSA at _PORT._tcp.NAME (RFC 7672 §2.2), looked up only when an address
     * answer is DNSSEC-secure; for a secure CNAME, at the target first. */
    int tlsa_started;
    int tlsa_done;               /* the TLSA search has its final answer */
    mxtls_tlsa_state tlsa_state;
    char *tlsa_base;
    char *tlsa_why;
    char *canonname;             /* secure CNAME target of the host, or NULL */
    dane_rr tlsa[DANE_MAX_RECORDS];
    size_t ntlsa;
    size_t tlsa_dropped;         /* TLSA records left unread beyond DANE_MAX_RECORDS */
    long tlsa_ttl;               /* smallest TTL of the TLSA RRset, -1 if none */
    /* Where DANE does not look (the address records are not DNSSEC-secure),
     * TLSA is still asked once, only to report records senders ignore. */
    int tlsa_info_started;
    size_t tlsa_ignored;         /* records in that insecure answer */
    check_address *addrs[2 * CHECK_MAX_ADDRS];
    size_t naddrs;
    size_t addrs_dropped;        /* addresses beyond CHECK_MAX_ADDRS per family: not probed */
} check_host;

typedef struct check_domain_verdict {
    mxtls_level level;
    mxtls_verdict verdict;
    mxtls_security security;
    char *code;                  /* decisive reason code */
    char *message;
    char *via;                   /* "host [ip]" that decided, or NULL */
} check_domain_verdict;

/* The public mxtls_report is this structure (include/mxtls.h). */
typedef struct mxtls_report {
    char *domain;
    uint16_t port;
    int routed;                  /* routes given: no MX lookup */
    dns_outcome mx_outcome;
    dns_security mx_security;
    char *mx_why;
    int null_mx, implicit_mx;
    check_host *hosts[CHECK_MAX_HOSTS];
    size_t nhosts;
    size_t hosts_dropped;        /* MX hosts beyond CHECK_MAX_HOSTS */
    mxtls_level levels[CHECK_NLEVELS];
    size_t nlevels;
    check_domain_verdict verdicts[CHECK_NLEVELS];
    mxtls_level auto_level;
    char *auto_reason;
    const mxtls_policy_entry *policy_entry; /* borrowed from the options' map */
    strlist advice;
    int null_mx_mixed;           /* a null MX next to other MX records (RFC 7505 §3) */
    /* With a route given as an address: the domain's MX hostnames, looked up
     * only as reference identities (the address is never one); not probed. */
    strlist route_mx;
    int route_mx_secure;
    struct sts_report *sts;      /* MTA-STS and TLSRPT (engine/sts.h); NULL with routes */
    long elapsed_ms;
    int timed_out;
    /* the verdicts as the public API shows them (strings borrowed from verdicts) */
    mxtls_domain_verdict pub[CHECK_NLEVELS];
} check_report;

void check_report_free(check_report *r);
/* check_report_verdict - the domain verdict for a level, NULL if not evaluated */
const check_domain_verdict *check_report_verdict(const check_report *r, mxtls_level level);

/* check_run - run one check to completion on a private event loop, through
 * the engine (mxtls_engine_new, mxtls_check_start): the trust settings of
 * ctx, the connection and DNS settings of opt. Returns a report (caller
 * frees) or NULL with the error in ctx (bad options, setup failures).
 * Failures of the destination are verdicts in the report. */
check_report *check_run(mxtls_ctx *ctx, const check_options *opt);

/* check_config_from - a configuration with ctx's trust settings and opt's
 * connection and DNS settings (not frozen); NULL with the error in e */
mxtls_config *check_config_from(const mxtls_ctx *ctx, const check_options *opt, mxtls_error *e);

/* check_start - mxtls_check_start with the internal options (routes,
 * ip_override, SNI, policy map, port; the rest comes from the configuration) */
mxtls_check *check_start(mxtls_engine *eng, const check_options *opt, mxtls_check_cb cb,
                         void *arg, mxtls_error *err);

/* Steps of other engine modules (engine/sts.c), counted like the check's
 * own: a DNS query through the check's resolver (the callback is dropped
 * once the check is over), a hold on the check while something else runs
 * (release it exactly once), the check's HTTPS client (made on first use;
 * freed, its transfers cancelled, when the check stops). */
struct https_client;
int check_ext_lookup(mxtls_check *c, const char *name, uint16_t type, dns_cb cb, void *arg);
void check_ext_hold(mxtls_check *c);
void check_ext_release(mxtls_check *c);
struct https_client *check_ext_https(mxtls_check *c);
/* check_ext_https_trust - the engine's trust store for HTTPS fetches (the
 * configuration's CA file, directory or default paths, loaded at the first
 * fetch and again when the CA file changed; https_request.trust), or NULL:
 * let libcurl read the files */
struct x509_store_st *check_ext_https_trust(mxtls_check *c);
/* check_ext_nomem - an allocation of another module failed: the check ends
 * as a local failure (MXTLS_ERR_NOMEM, no report) */
void check_ext_nomem(mxtls_check *c);

#endif
