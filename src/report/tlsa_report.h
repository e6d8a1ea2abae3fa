/* tlsa_report.h - what `mxtls tlsa gen` and `mxtls tlsa check` print
 * (docs/tlsa.md): the zone-file lines of a certificate's TLSA records, and a
 * check of the published records against the servers, as text and JSON
 *
 * Pure formatting: no I/O, no decisions (src/engine/tlsa_check.h judges).
 * Every function returns a string the caller frees, or NULL when memory runs
 * out. Text ends in '\n'; a JSON document has no trailing newline. */
#ifndef MXTLS_REPORT_TLSA_REPORT_H
#define MXTLS_REPORT_TLSA_REPORT_H

#include "engine/tlsa_check.h"

/* One record of `tlsa gen`: the certificate (chain) or key it was made from. */
typedef struct tlsa_gen_item {
    const char *file;          /* as given: --cert, --next */
    const dane_rr *rr;
    X509 *ta;                  /* usage 2: the CA certificate the record names */
    int index;                 /* chain index the record was made from; -1 the key */
} tlsa_gen_item;

typedef struct tlsa_gen_report {
    const char *owner;         /* "_PORT._tcp.HOST." */
    const char *host;          /* HOST */
    int host_derived;          /* HOST is the first DNS name of the certificate */
    long ttl;                  /* -1: none (the zone's $TTL) */
    int usage, selector;
    const tlsa_gen_item *items; /* the current certificate first, then --next */
    size_t nitems;
} tlsa_gen_report;

/* tlsa_report_gen_text - comment lines (";") explaining the choice, then one
 * zone-file line per distinct record */
char *tlsa_report_gen_text(const tlsa_gen_report *g);

/* tlsa_report_check_text / _json - the check of `name` (DOMAIN or HOST) */
char *tlsa_report_check_text(const tlsa_check_result *r, const char *name);
char *tlsa_report_check_json(const tlsa_check_result *r, const char *name);

#endif
