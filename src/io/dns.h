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
#include "core/dnsmsg.h"

struct event_base;

#define DNS_DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define DNS_DEFAULT_TIMEOUT_MS 10000   /* per query, then DNS_TIMEOUT */
/* address space that must be free before libunbound sets itself up
 * (dns_resolver_new: it crashes when an allocation fails there) */
#define DNS_STARTUP_ROOM (512u * 1024u)

typedef struct dns_config {
    const char *resolver;      /* "ADDR" or "ADDR@PORT": forward to it (still validating
                                  locally; special-use names such as test. go to it
                                  too, see root_hints); NULL: embedded recursive resolver */
    const char *trust_anchor;  /* file (DS/DNSKEY zone-file lines or root.key); NULL: default */
    const char *root_hints;    /* file; also turns off libunbound's built-in answers for
                                  special-use names (test., 127.in-addr.arpa., ...) and allows
                                  servers on 127.0.0.0/8, for private roots (docs/dns.md) */
    int timeout_ms;            /* 0: DNS_DEFAULT_TIMEOUT_MS */
    unsigned inflight;         /* upstream queries in flight (outgoing-range); 0: default */
} dns_config;

/* The answer types (dns_answer, dns_record, dns_security, dns_outcome, DNS_T_*,
 * DNS_MAX_RECORDS, dns_answer_free, dns_*_name) live in core/dnsmsg.h, so that
 * the pure packet-to-answer conversion can sit in the core. */

typedef struct dns_resolver dns_resolver;

/* dns_resolver_new - a resolver on this loop; NULL with the error in e */
dns_resolver *dns_resolver_new(struct event_base *base, const dns_config *cfg, err_rec *e);
/* dns_resolver_free - cancels outstanding queries (their callbacks are not called) */
void dns_resolver_free(dns_resolver *r);

/* dns_cb - called once per query, from the event loop; the callee owns `a` */
typedef void (*dns_cb)(void *arg, dns_answer *a);

/* dns_resolver_queries - queries started on r so far (answered from its
 * cache or not) */
unsigned long dns_resolver_queries(const dns_resolver *r);
/* dns_resolver_peak_inflight - most queries in libunbound's hands at a time */
unsigned dns_resolver_peak_inflight(const dns_resolver *r);

/* dns_resolver_set_max_inflight - at most n queries in libunbound's hands
 * at a time (0: no bound); more wait, first come first served, and their
 * timeout starts when they are sent. 0, or -1 with e set. */
int dns_resolver_set_max_inflight(dns_resolver *r, unsigned n, err_rec *e);

/* dns_resolve - start a query; returns 0, or -1 with the error in e (no callback).
 * The callback never runs inside dns_resolve(). */
int dns_resolve(dns_resolver *r, const char *name, uint16_t qtype, dns_cb cb, void *arg,
                err_rec *e);

/* dns_ptr_name - "4.3.2.1.in-addr.arpa" / ip6.arpa nibble name for an address
 * text; returns 0 or -1 if ip is not an address */
int dns_ptr_name(const char *ip, char *out, size_t outlen);

#endif
