/* tlsa_check.h - the TLSA toolkit: records for certificates and keys
 * (`mxtls tlsa gen`), and whether a published TLSA RRset authenticates a mail
 * server now and after a certificate change (`mxtls tlsa check`)
 *
 * Generation is pure: PEM text in, dane_rr out. The check analysis is pure as
 * well: it takes a check_report (engine/check.h: MX hosts, TLSA RRsets with
 * their DNSSEC state, the chain every address presented) and the chains the
 * operator plans to deploy, and judges everything with OpenSSL's DANE
 * verifier through dane_verify() - the same code the dane levels use. The
 * TTLs come from the check report (check_host.tlsa_ttl).
 *
 *     tlsa_check_config cfg = {.planned = plans, .nplanned = n, .window = 86400};
 *     tlsa_check_result *r = tlsa_check_analyze(report, &cfg, &err);
 *     ... r->status, r->hosts[i].addrs[j].all, r->warnings ...
 *     tlsa_check_result_free(r);
 */
#ifndef MXTLS_ENGINE_TLSA_CHECK_H
#define MXTLS_ENGINE_TLSA_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/base.h"
#include "core/dane.h"
#include "engine/check.h"

#define TLSA_DEFAULT_WINDOW 86400L   /* rollover window (s): 2 x TTL must fit in it */
#define TLSA_MAX_PLANNED 16          /* --cert/--next chains per check */
#define TLSA_TTL_UNKNOWN (-1L)

/* ---- generation ------------------------------------------------------- */

/* tlsa_material - what one PEM file offers for TLSA records: certificates
 * (leaf first, as a server sends them) and/or a private or public key
 * (Postfix keeps key and chain in one file; a key alone is the "next key" of
 * a 3 1 1 rollover). */
typedef struct tlsa_material {
    STACK_OF(X509) *chain;   /* NULL when the file holds no certificate */
    EVP_PKEY *key;           /* NULL when the file holds no key */
} tlsa_material;

/* tlsa_material_load - certificates and the first key of buf; name labels
 * errors. Encrypted keys are refused (never a passphrase prompt). 0, or -1
 * with e set (nothing usable, damaged PEM, too many certificates). */
int tlsa_material_load(const char *buf, size_t len, const char *name, tlsa_material *m,
                       err_rec *e);
void tlsa_material_clear(tlsa_material *m);

/* tlsa_key_matches - 1 when key (private or public) is the key of cert */
int tlsa_key_matches(X509 *cert, EVP_PKEY *key);

/* tlsa_ta_index - the certificate of chain a DANE-TA record is for: the first
 * one after the leaf (it must be a CA that issued the leaf), or the only
 * certificate when it is itself a CA. -1 with e set otherwise. */
int tlsa_ta_index(STACK_OF(X509) *chain, const char *name, err_rec *e);

/* tlsa_make - the record (usage, selector, mtype) for m: "3 1 x" from m->key
 * when there is one (the caller has checked it is the leaf's key:
 * tlsa_key_matches), other usage 3 records from the leaf, usage 2 from
 * tlsa_ta_index(). *index receives the chain index used (-1: the key).
 * Usages 0/1 are refused (RFC 7672 §3.1.3). 0, or -1 with e set (where =
 * name for problems of the file). */
int tlsa_make(const tlsa_material *m, const char *name, uint8_t usage, uint8_t selector,
              uint8_t mtype, dane_rr *out, int *index, err_rec *e);

/* tlsa_key_association - association data of a bare public key (selector 1:
 * its SubjectPublicKeyInfo) for mtype 0/1/2; caller frees; NULL on failure */
unsigned char *tlsa_key_association(EVP_PKEY *key, uint8_t mtype, size_t *len);

/* tlsa_match_depth - depth of the first certificate in chain whose
 * association data (rr's selector and mtype) equals rr's, ignoring usage and
 * every other check; -1 when none does or rr's parameters are unknown */
int tlsa_match_depth(STACK_OF(X509) *chain, const dane_rr *rr);

/* ---- check analysis --------------------------------------------------- */

/* A chain the server will present after a change (--cert/--next). */
typedef struct tlsa_planned {
    const char *option;      /* "cert" or "next" (labels only) */
    const char *file;        /* label */
    STACK_OF(X509) *chain;   /* borrowed, leaf first */
} tlsa_planned;

typedef struct tlsa_check_config {
    const tlsa_planned *planned;
    size_t nplanned;
    const long *ttl;         /* per report host (same index); TLSA_TTL_UNKNOWN; NULL: unknown */
    long window;             /* seconds; 0: TLSA_DEFAULT_WINDOW */
    time_t at;               /* validation time for DANE-TA checks; 0: now */
} tlsa_check_config;

/* One address of a host against the published records, as it presents now. */
typedef struct tlsa_addr_result {
    const check_address *addr;   /* borrowed from the report */
    /* "authenticated": the RRset authenticates the chain; "fails": it does
     * not; "no-tls": no chain (no STARTTLS, handshake failed); "unreachable":
     * no SMTP dialogue; "not-checked": nothing to check (no secure records) */
    const char *state;
    dane_result all;             /* the whole RRset (valid when a chain was checked) */
    char note[512];              /* why there is no chain */
    dane_result *per_rr;         /* per record of the host, NULL without chain */
    int *raw_depth;              /* per record: tlsa_match_depth(), NULL without chain */
} tlsa_addr_result;

/* A planned chain against a host's published RRset. */
typedef struct tlsa_plan_result {
    const tlsa_planned *plan;
    const char *verdict;         /* "safe", "will-break", "not-applicable" */
    dane_result r;               /* valid unless not-applicable */
    char note[512];              /* not-applicable: why */
    strlist publish;             /* will-break: records to publish first (rdata text) */
} tlsa_plan_result;

typedef struct tlsa_host_result {
    const check_host *host;      /* borrowed */
    char *owner;                 /* "_25._tcp.BASE" */
    long ttl;                    /* TLSA_TTL_UNKNOWN when not known */
    size_t usable;               /* usable records among host->tlsa */
    int published;               /* DNSSEC-secure TLSA records: senders use them */
    tlsa_addr_result *addrs;     /* host->naddrs entries */
    tlsa_plan_result *plans;     /* cfg->nplanned entries */
    size_t nplans;
} tlsa_host_result;

/* A finding worth fixing that does not by itself break delivery. Codes are
 * stable (docs/tlsa.md): mx-insecure, address-insecure, tlsa-insecure,
 * pkix-usage, unusable-record, full-certificate, dane-ta-not-sent,
 * single-record, ttl-long, address-unchecked. */
typedef struct tlsa_warning {
    const char *code;
    char *host;                  /* NULL: the domain */
    char *message;
} tlsa_warning;

typedef enum tlsa_status {
    TLSA_STATUS_OK = 0,          /* records authenticate every server; planned chains safe */
    TLSA_STATUS_FAILS = 1,       /* a published RRset does not authenticate a server now */
    TLSA_STATUS_WILL_BREAK = 2,  /* ... or will not after a planned change */
    TLSA_STATUS_DNS_FAILURE = 3, /* MX or TLSA lookup bogus / failed: senders defer */
    TLSA_STATUS_UNCHECKED = 4,   /* secure records, but no address could be checked */
    TLSA_STATUS_NO_SERVER = 5    /* NXDOMAIN, null MX: no mail server to check */
} tlsa_status;

typedef struct tlsa_check_result {
    const check_report *rep;     /* borrowed */
    tlsa_host_result *hosts;     /* rep->nhosts entries */
    size_t nhosts;
    tlsa_warning *warnings;
    size_t nwarnings, capwarnings;
    tlsa_status status;
    char summary[768];
} tlsa_check_result;

/* tlsa_status_name - "ok", "fails", "will-break", "dns-failure", "unchecked",
 * "no-server" */
const char *tlsa_status_name(tlsa_status s);

/* tlsa_check_analyze - judge every host's TLSA RRset against what its
 * addresses present and against the planned chains. Status, by priority:
 * FAILS or WILL_BREAK (definite findings), then NO_SERVER (NXDOMAIN, null
 * MX), DNS_FAILURE, UNCHECKED, else OK. Returns a result (caller frees; it borrows rep and cfg->planned)
 * or NULL with e set (out of memory, OpenSSL failure). */
tlsa_check_result *tlsa_check_analyze(const check_report *rep, const tlsa_check_config *cfg,
                                      err_rec *e);
void tlsa_check_result_free(tlsa_check_result *r);

#endif
