/* dns.h - asynchronous DNS with DNSSEC validation (libunbound on libevent)
 *
 * One resolver per event loop. Default: libunbound's embedded recursive,
 * validating resolver with the root trust anchor from Debian's dns-root-data
 * (/usr/share/dns/root.key). Every answer carries its DNSSEC status and how
 * it ended (data, no data, NXDOMAIN, SERVFAIL, timeout); these are different
 * outcomes and callers keep them apart. */
#ifndef MXTLS_IO_DNS_H
#define MXTLS_IO_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

struct event_base;

#define DNS_DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define DNS_DEFAULT_TIMEOUT_MS 10000   /* per query, then DNS_TIMEOUT */
#define DNS_MAX_RECORDS 256           /* records kept per answer (more: truncated, flagged) */

/* Record types we ask for. */
enum { DNS_T_A = 1, DNS_T_CNAME = 5, DNS_T_PTR = 12, DNS_T_MX = 15, DNS_T_TXT = 16,
       DNS_T_AAAA = 28, DNS_T_TLSA = 52 };

typedef struct dns_config {
    const char *resolver;      /* "ADDR" or "ADDR@PORT": forward to it (still validating
                                  locally); NULL: embedded recursive resolver */
    const char *trust_anchor;  /* file (DS/DNSKEY zone-file lines or root.key); NULL: default */
    const char *root_hints;    /* file; also turns off libunbound's built-in answers for
                                  special-use names (test., 127.in-addr.arpa., ...) and allows
                                  servers on 127.0.0.0/8, for private roots (docs/dns.md) */
    int timeout_ms;            /* 0: DNS_DEFAULT_TIMEOUT_MS */
} dns_config;

typedef enum dns_security {
    DNS_SEC_SECURE = 0,        /* the whole chain validated */
    DNS_SEC_INSECURE = 1,      /* provably unsigned (insecure delegation) */
    DNS_SEC_BOGUS = 2,         /* signed but failed validation (why_bogus says why) */
    DNS_SEC_INDETERMINATE = 3  /* no answer to judge (SERVFAIL, timeout, error) */
} dns_security;

typedef enum dns_outcome {
    DNS_DATA = 0,       /* records of the type asked for (possibly via CNAME) */
    DNS_NODATA = 1,     /* name exists, no records of that type */
    DNS_NXDOMAIN = 2,   /* name does not exist */
    DNS_SERVFAIL = 3,   /* server failure (includes bogus answers, which unbound turns
                           into SERVFAIL: security says BOGUS then) */
    DNS_TIMEOUT = 4,
    DNS_ERROR = 5       /* local failure (message in why) */
} dns_outcome;

typedef struct dns_record {
    uint16_t type;
    uint32_t ttl;
    /* A, AAAA: address text; MX, PTR, CNAME: target name (lower case, no trailing
       dot; "." for the root, e.g. null MX); TXT: the character-strings joined */
    char *text;
    uint16_t pref;              /* MX preference */
    uint8_t usage, selector, mtype; /* TLSA */
    unsigned char *data;        /* TLSA certificate association data */
    size_t data_len;
} dns_record;

typedef struct dns_answer {
    char *qname;        /* as asked, normalised */
    uint16_t qtype;
    dns_outcome outcome;
    int rcode;          /* DNS rcode of the final answer */
    dns_security security;
    char *why;          /* why_bogus / error text, or NULL */
    char *canonname;    /* owner name after CNAME expansion, NULL if none */
    dns_record *rr;     /* records of qtype in the answer (after CNAMEs) */
    size_t n;
    int truncated;      /* more than DNS_MAX_RECORDS */
} dns_answer;

void dns_answer_free(dns_answer *a);
/* dns_security_name, dns_outcome_name - "secure", "nxdomain", ... */
const char *dns_security_name(dns_security s);
const char *dns_outcome_name(dns_outcome o);

typedef struct dns_resolver dns_resolver;

/* dns_resolver_new - a resolver on this loop; NULL with the error in e */
dns_resolver *dns_resolver_new(struct event_base *base, const dns_config *cfg, err_rec *e);
/* dns_resolver_free - cancels outstanding queries (their callbacks are not called) */
void dns_resolver_free(dns_resolver *r);

/* dns_cb - called once per query, from the event loop; the callee owns `a` */
typedef void (*dns_cb)(void *arg, dns_answer *a);

/* dns_resolve - start a query; returns 0, or -1 with the error in e (no callback).
 * The callback never runs inside dns_resolve(). */
int dns_resolve(dns_resolver *r, const char *name, uint16_t qtype, dns_cb cb, void *arg,
                err_rec *e);

/* dns_ptr_name - "4.3.2.1.in-addr.arpa" / ip6.arpa nibble name for an address
 * text; returns 0 or -1 if ip is not an address */
int dns_ptr_name(const char *ip, char *out, size_t outlen);

#endif
