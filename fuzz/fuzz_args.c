/* fuzz_args - the parsers of names and numbers users and policy maps give:
 * decimal_parse, names_sni, evidence_route_parse
 *
 * Input: one string (up to a NUL). Invariants: a number is in its range and
 * prints back as the input without leading zeros; an SNI name is no address
 * and is its own normal form; a route is either an address or a normalised
 * name, with a port only where the input has a colon (core/hostport.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "core/evidence.h"
#include "core/names.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_args: invariant failed: %s (line %d)\n", #c, __LINE__);    \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define FUZZ_ARGS_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_ARGS_MAX)
        return 0;
    char s[FUZZ_ARGS_MAX + 1];
    memcpy(s, data, size);
    s[size] = '\0';

    long v = decimal_parse(s, 1, 65535);
    CHECK(v == -1 || (v >= 1 && v <= 65535));
    if (v > 0) {
        const char *digits = s + strspn(s, "0");
        char back[16];
        snprintf(back, sizeof back, "%ld", v);
        CHECK(strcmp(back, digits) == 0);
    }

    err_rec e;
    err_clear(&e);
    char *sni = names_sni(s, &e);
    if (sni) {
        CHECK(!evidence_is_ip(sni));
        err_rec e2;
        err_clear(&e2);
        char *again = names_sni(sni, &e2);
        CHECK(again && strcmp(again, sni) == 0);
        free(again);
        free(sni);
    } else {
        CHECK(e.code != MXTLS_OK);
    }

    char out[MXTLS_MAX_NAME + 8];
    int is_ip = 0;
    unsigned port = 0;
    err_clear(&e);
    if (evidence_route_parse(s, out, sizeof out, &is_ip, &port, &e) == MXTLS_OK) {
        CHECK(port <= 65535);
        CHECK(port == 0 || strchr(s, ':'));
        CHECK(!is_ip || evidence_is_ip(out));
    }
    return 0;
}
