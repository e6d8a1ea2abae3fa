/* fuzz_tlsrpt.c - libFuzzer target: the _smtp._tls TXT record (RFC 8460 §3)
 *
 * Parses the input as one record and, split at LF, as an RRset. Invariants: a
 * valid record has 1..TLSRPT_MAX_RUA URIs, each of which passes the URI check
 * on its own, and no errors; an invalid one has no URIs and at least one error
 * with a rule, a message and a position inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tlsrpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_RECORDS 16

static void fuzz_check(const tlsrpt_record *r, size_t len, size_t max_line)
{
    if (r->valid) {
        if (r->rua.n < 1 || r->rua.n > TLSRPT_MAX_RUA || recerr_count(&r->errors) != 0)
            abort();
        for (size_t i = 0; i < r->rua.n; i++) {
            const char *rule = NULL;
            size_t at = 0;
            if (tlsrpt_uri_check(r->rua.v[i], strlen(r->rua.v[i]), &rule, &at, NULL, 0) != 0)
                abort();
        }
        return;
    }
    if (r->errors.n == 0 || r->rua.n != 0)
        abort();
    for (size_t i = 0; i < r->errors.n; i++) {
        const recerr *e = &r->errors.v[i];
        if (!e->rule || !*e->rule || !e->message[0] || e->line > max_line || e->column > len + 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    tlsrpt_record r;
    if (tlsrpt_parse(buf, size, &r) == MXTLS_OK)
        fuzz_check(&r, size, 1);
    tlsrpt_free(&r);

    const char *recs[FUZZ_MAX_RECORDS];
    size_t lens[FUZZ_MAX_RECORDS], n = 0, pos = 0;
    while (pos <= size && n < FUZZ_MAX_RECORDS) {
        const char *lf = memchr(buf + pos, '\n', size - pos);
        size_t end = lf ? (size_t)(lf - buf) : size;
        recs[n] = buf + pos;
        lens[n] = end - pos;
        n++;
        if (!lf)
            break;
        pos = end + 1;
    }
    if (tlsrpt_select(recs, lens, n, &r, NULL) == MXTLS_OK)
        fuzz_check(&r, size, n);
    tlsrpt_free(&r);
    return 0;
}
