/* fuzz_stspolicy.c - libFuzzer target: the MTA-STS policy text (RFC 8461 §3.2)
 * and MX pattern matching (§4.1)
 *
 * Invariants: a valid policy has a mode, a max_age within the limit, mx
 * patterns unless the mode is none, and no errors; every pattern kept is valid
 * and covers a host derived from it (and "*." patterns no host two labels
 * deeper); an invalid policy has errors with rules, messages and lines within
 * the input. The input's first line is also matched as a host name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mtasts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mtasts_policy p;
    if (mtasts_policy_parse((const char *)data, size, &p) != MXTLS_OK) {
        mtasts_policy_free(&p);
        return 0;
    }
    if (p.valid) {
        if (recerr_count(&p.errors) != 0 || p.mode == MTASTS_MODE_UNSET || p.max_age < 0 ||
            p.max_age > MTASTS_MAX_AGE_LIMIT || (p.mode != MTASTS_MODE_NONE && p.mx.n == 0))
            abort();
    } else {
        if (p.errors.n == 0)
            abort();
        for (size_t i = 0; i < p.errors.n; i++) {
            const recerr *e = &p.errors.v[i];
            if (!e->rule || !*e->rule || !e->message[0] || e->line > p.lines + 1)
                abort();
        }
    }
    char host[2 * MXTLS_MAX_NAME + 8];
    for (size_t i = 0; i < p.mx.n && i < 32; i++) {
        const char *pat = p.mx.v[i];
        if (mtasts_mx_pattern_valid(pat, strlen(pat), NULL, 0) != 0)
            abort();
        if (pat[0] == '*') {
            snprintf(host, sizeof host, "x%s", pat + 1);
            if (!mtasts_mx_pattern_match(pat, host))
                abort();
            snprintf(host, sizeof host, "a.b%s", pat + 1);
            if (mtasts_mx_pattern_match(pat, host))
                abort(); /* one label only */
            if (mtasts_mx_pattern_match(pat, pat + 2))
                abort(); /* not the parent itself */
        } else if (!mtasts_mx_pattern_match(pat, pat)) {
            abort();
        }
        size_t which = 99;
        if (!mtasts_mx_match(&p.mx, pat[0] == '*' ? host + 2 : pat, &which) || which > i)
            abort();
    }
    size_t k = 0;
    while (k < size && k < MXTLS_MAX_NAME && data[k] != '\n' && data[k] != '\0') {
        host[k] = (char)data[k];
        k++;
    }
    host[k] = '\0';
    (void)mtasts_mx_match(&p.mx, host, NULL);
    mtasts_policy_free(&p);
    return 0;
}
