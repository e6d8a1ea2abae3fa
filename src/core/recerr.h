/* recerr.h - the error list of the DNS-record and policy-text parsers
 * (MTA-STS, TLSRPT): every rejection names a stable rule and a position
 *
 * Internal to the library. Pure: no I/O. A list holds at most
 * RECERR_MAX_ERRORS entries; further errors are counted in `dropped`, so a
 * hostile input cannot grow the list without bound. */
#ifndef MXTLS_CORE_RECERR_H
#define MXTLS_CORE_RECERR_H

#include <stddef.h>

#include "mxtls.h"

#define RECERR_MAX_ERRORS 64u
#define RECERR_MESSAGE_MAX 256u

/* recerr - one rejection
 *
 * `line` is 1-based (the policy line, or the record's position in a TXT RRset;
 * 1 for a single record); 0 means the input as a whole (a required field is
 * missing, the input is too large). `column` is the 1-based byte offset in that
 * line, 0 when the error concerns the whole line. `rule` is a stable code
 * (docs/mta-sts.md lists them); a static string, never freed. */
typedef struct recerr {
    size_t line;
    size_t column;
    const char *rule;
    char message[RECERR_MESSAGE_MAX];
} recerr;

typedef struct recerr_list {
    recerr *v;      /* owned; n entries */
    size_t n;
    size_t dropped; /* errors beyond RECERR_MAX_ERRORS, not kept */
    int nomem;      /* an error could not be recorded for lack of memory */
} recerr_list;

/* recerr_add - append one error (message formatted, truncated at
 * RECERR_MESSAGE_MAX); past the cap it only counts. `rule` must be static. */
void recerr_add(recerr_list *l, size_t line, size_t column, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* recerr_count - every error seen, kept or dropped (0: the input was valid) */
size_t recerr_count(const recerr_list *l);
/* recerr_free - release the entries; the list is empty afterwards (NULL ok) */
void recerr_free(recerr_list *l);

/* recerr_show - display form of untrusted bytes for a message: printable ASCII
 * as is, anything else as \xNN, at most `max` input bytes (then "..."). Writes
 * a NUL-terminated string into out (size outsz). */
void recerr_show(const char *s, size_t n, size_t max, char *out, size_t outsz);

/* recerr_txt_has_version - the TXT record begins with the version tag `v`
 * ("v=STSv1", "v=TLSRPTv1") followed by ';', a space or tab, or its end */
int recerr_txt_has_version(const char *buf, size_t len, const char *v);

/* recerr_txt_select - how many of the n TXT records have the version tag v
 * (exactly one is allowed: RFC 8461 §3.1, RFC 8460 §3); *first and *second
 * get the 0-based positions of the first two ((size_t)-1 and 0 when absent) */
size_t recerr_txt_select(const char *const *recs, const size_t *lens, size_t n, const char *v,
                         size_t *first, size_t *second);

#endif
