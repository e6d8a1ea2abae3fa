/* fuzz_scanlist - the input lines and output lines of mxtls scan:
 * scanlist_line, scanlist_output_key, scanlist_shard_parse
 *
 * Input: arbitrary bytes, split at newlines; each piece is an input line and
 * an output line. Invariants: a domain is its own normal form and comes back
 * as the key of the object the JSON writer makes of it; a malformed line's
 * shown form is valid UTF-8 without control characters and also round-trips
 * through the JSON writer as an "input" key; shards hold every key once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scanlist.h"
#include "report/jsonw.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_scanlist: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define FUZZ_SCANLIST_MAX 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the key of the object {KEYNAME: s} as the JSON writer writes it */
static void roundtrip(const char *keyname, const char *s)
{
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, keyname, s);
    jw_end_obj(&w);
    char *doc = jw_finish(&w);
    if (!doc)
        return;
    char *k = scanlist_output_key(doc, strlen(doc));
    CHECK(k && !strcmp(k, s));
    free(k);
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_SCANLIST_MAX)
        return 0;
    const char *p = (const char *)data, *end = p + size;
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *out = NULL;
        err_rec e;
        err_clear(&e);
        scanlist_kind k = scanlist_line(p, n, &out, &e);
        CHECK(k == SCANLIST_SKIP || k == SCANLIST_DOMAIN || k == SCANLIST_BAD);
        if (k == SCANLIST_SKIP)
            CHECK(out == NULL);
        if (k == SCANLIST_DOMAIN) {
            CHECK(out && *out);
            char *again = NULL;
            err_rec e2;
            err_clear(&e2);
            CHECK(scanlist_line(out, strlen(out), &again, &e2) == SCANLIST_DOMAIN);
            CHECK(!strcmp(again, out));
            free(again);
            roundtrip("domain", out);
        }
        if (k == SCANLIST_BAD && out) {
            CHECK(e.code == MXTLS_ERR_INVALID && e.message[0]);
            for (const unsigned char *c = (const unsigned char *)out; *c; c++)
                CHECK(*c >= 0x20 && *c != 0x7f);
            roundtrip("input", out);
        }
        if (out) {
            int hits = 0;
            for (unsigned long i = 0; i < 3; i++)
                hits += scanlist_in_shard(out, i, 3);
            CHECK(hits == 1);
        }
        free(out);
        char *key = scanlist_output_key(p, n);
        free(key);
        char shard[32];
        size_t sl = n < sizeof shard - 1 ? n : sizeof shard - 1;
        memcpy(shard, p, sl);
        shard[sl] = '\0';
        unsigned long i = 0, m = 0;
        if (scanlist_shard_parse(shard, &i, &m) == 0)
            CHECK(m >= 1 && i < m);
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}
