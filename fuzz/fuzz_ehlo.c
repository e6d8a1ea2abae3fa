/* fuzz_ehlo - EHLO capability parsing on arbitrary lines
 *
 * Input: lines separated by '\n' (a NUL ends a line's text early, as it
 * would in the C strings reply.c hands over; reply.c itself rejects NUL).
 * Checks that parsing never fails except for memory, that the result only
 * holds known bits, upper-case unique AUTH mechanisms, bounded problems, and
 * that parsing twice into the same struct frees the first result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ehlo.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_ehlo: invariant failed: %s (line %d)\n", #c, __LINE__);    \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define FUZZ_EHLO_MAX_LINES 200 /* more than the reply parser's default of 100 */

#define EHLO_ALL_BITS                                                                        \
    (EHLO_STARTTLS | EHLO_REQUIRETLS | EHLO_SIZE | EHLO_PIPELINING | EHLO_8BITMIME |         \
     EHLO_SMTPUTF8 | EHLO_CHUNKING | EHLO_DSN | EHLO_ENHANCEDSTATUSCODES | EHLO_AUTH)

/* fuzz_check_caps - invariants of a parse result */
static void fuzz_check_caps(const ehlo_caps *c, size_t nlines)
{
    CHECK(c->domain != NULL);
    CHECK(strlen(c->domain) <= EHLO_MAX_DOMAIN);
    CHECK((c->ext & ~EHLO_ALL_BITS) == 0);
    CHECK(c->nproblems <= EHLO_MAX_PROBLEMS);
    CHECK(c->nproblems <= c->problems_total);
    CHECK(c->problems_total <= 3 * (nlines ? nlines : 1));
    for (size_t i = 0; i < c->nproblems; i++) {
        CHECK(c->problems[i].line >= 1 && c->problems[i].line <= (nlines ? nlines : 1));
        CHECK(c->problems[i].column >= 1);
        CHECK(c->problems[i].message[0] != '\0');
    }
    CHECK(c->keywords.n < (nlines ? nlines : 1));
    CHECK(c->unknown.n < (nlines ? nlines : 1));
    CHECK(!c->size_value || (c->ext & EHLO_SIZE));
    CHECK(!c->auth.n || (c->ext & EHLO_AUTH));
    CHECK(!c->auth_equals || (c->ext & EHLO_AUTH));
    for (size_t i = 0; i < c->auth.n; i++) {
        CHECK(c->auth.v[i][0] != '\0');
        for (const char *p = c->auth.v[i]; *p; p++)
            CHECK(!(*p >= 'a' && *p <= 'z') && *p != ' ');
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(c->auth.v[i], c->auth.v[j]) != 0);
    }
    for (size_t i = 0; i < c->keywords.n; i++)
        CHECK(c->keywords.v[i][0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *lines[FUZZ_EHLO_MAX_LINES];
    size_t n = 0;
    char *p = copy;
    while (n < FUZZ_EHLO_MAX_LINES) {
        lines[n++] = p;
        char *nl = memchr(p, '\n', (size_t)(copy + size - p));
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    if (size == 0)
        n = 0;

    ehlo_caps c;
    ehlo_caps_init(&c);
    CHECK(ehlo_parse(&c, lines, n) == MXTLS_OK);
    fuzz_check_caps(&c, n);
    unsigned ext = c.ext;
    size_t probs = c.problems_total;
    /* Re-parsing into the same struct frees the old result (ASan sees leaks). */
    CHECK(ehlo_parse(&c, lines, n) == MXTLS_OK);
    CHECK(c.ext == ext && c.problems_total == probs);
    ehlo_caps_free(&c);
    free(copy);
    return 0;
}
