/* fuzz_ststxt.c - libFuzzer target: the _mta-sts TXT record (RFC 8461 §3.1)
 *
 * Parses the input as one record, then splits it at LF into an RRset and runs
 * the selection. Invariants: a valid record has a 1-32 character alphanumeric
 * id and no errors; an invalid one has at least one error, each with a rule, a
 * message and a position inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mtasts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_RECORDS 16

static void fuzz_check(const mtasts_txt *t, size_t len, size_t max_line)
{
    if (t->valid) {
        size_t n = strlen(t->id);
        if (n < 1 || n > MTASTS_ID_MAX || recerr_count(&t->errors) != 0)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!((t->id[i] >= '0' && t->id[i] <= '9') || (t->id[i] >= 'a' && t->id[i] <= 'z') ||
                  (t->id[i] >= 'A' && t->id[i] <= 'Z')))
                abort();
        return;
    }
    if (t->errors.n == 0 || t->id[0])
        abort();
    for (size_t i = 0; i < t->errors.n; i++) {
        const recerr *e = &t->errors.v[i];
        if (!e->rule || !*e->rule || !e->message[0] || e->line > max_line || e->column > len + 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    mtasts_txt t;
    if (mtasts_txt_parse(buf, size, &t) == MXTLS_OK)
        fuzz_check(&t, size, 1);
    if (t.valid != mtasts_txt_is_sts(buf, size) && t.valid)
        abort(); /* valid implies it begins with v=STSv1 */
    mtasts_txt_free(&t);

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
    size_t which = 0;
    if (mtasts_txt_select(recs, lens, n, &t, &which) == MXTLS_OK) {
        fuzz_check(&t, size, n);
        if (t.valid && (which >= n || !mtasts_txt_is_sts(recs[which], lens[which])))
            abort();
    }
    mtasts_txt_free(&t);
    return 0;
}
