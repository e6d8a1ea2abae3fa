/* fuzz_dnssec_advice - DNSSEC advice from arbitrary validator texts
 *
 * Input: the why_bogus text (a NUL ends it early, as in the C string
 * libunbound hands over). Checks that the classifier never reads past the
 * text, and that it answers NULL or one of its fixed sentences (the same
 * pointer for the same text). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnssec_advice.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_dnssec_advice: invariant failed: %s (line %d)\n", #c,      \
                    __LINE__);                                                               \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    const char *a = dnssec_advice(s);
    CHECK(a == dnssec_advice(s));
    if (a) {
        size_t n = strlen(a);
        CHECK(n > 40 && n < 400 && a[n - 1] == '.');
    }
    free(s);
    return 0;
}
