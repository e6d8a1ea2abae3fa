/* fuzz_policymap.c - libFuzzer target: Postfix TLS policy map parser and lookup
 *
 * Parses the input as a policy map. On success, checks invariants that must
 * hold for any map (every entry is found again by its own key; accessors agree
 * with the parsed entry) and looks up destinations derived from the input, so
 * the lookup-side normalisation sees the same hostile bytes as the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/policymap.h"
#include "mxtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_lookup_variants - look up a key and forms Postfix would derive from it */
static void fuzz_lookup_variants(const mxtls_policymap *map, const char *key)
{
    char buf[MXTLS_POLICYMAP_MAX_LINE + 16];
    size_t n = strlen(key);
    if (n > MXTLS_POLICYMAP_MAX_LINE)
        return;
    (void)mxtls_policymap_lookup(map, key);
    const char *base = key[0] == '.' ? key + 1 : key;
    memcpy(buf, "sub.", 4);
    memcpy(buf + 4, base, strlen(base) + 1);
    (void)mxtls_policymap_lookup(map, buf); /* walks up the parents */
    buf[0] = '[';
    memcpy(buf + 1, key, n);
    memcpy(buf + 1 + n, "]:25", 5);
    (void)mxtls_policymap_lookup(map, buf);
    memcpy(buf, key, n);
    memcpy(buf + n, ".", 2);
    (void)mxtls_policymap_lookup(map, buf); /* trailing dot */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return 0;
    mxtls_policymap *map =
        mxtls_policymap_parse(ctx, (const char *)data, size, "fuzz.map");
    if (!map) {
        /* Every failure carries a code, a place and a sentence. */
        if (mxtls_ctx_error_code(ctx) == MXTLS_OK || !*mxtls_ctx_error(ctx) ||
            !*mxtls_ctx_error_where(ctx))
            abort();
        mxtls_ctx_free(ctx);
        return 0;
    }
    size_t n = mxtls_policymap_count(map);
    /* The findings policy check prints: "LINE<TAB>KEY<TAB>sentence" lines. */
    char *warn = mxtls_policymap_warnings(ctx, map, "sha256");
    for (const char *l = warn; l && *l;) {
        const char *nl = strchr(l, '\n'), *t1 = strchr(l, '\t');
        if (!nl || !t1 || t1 > nl || !memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)))
            abort();
        l = nl + 1;
    }
    for (size_t i = 0; i < n; i++) {
        const mxtls_policy_entry *e = policymap_entry_at(map, i);
        /* Keys are unique after normalisation, so a lookup by the written key
         * returns the entry itself; except a key with a byte order mark,
         * which matches nothing (as in Postfix) and is warned about. */
        const char *key = mxtls_policy_entry_key(e);
        if (strncmp(key, "\xef\xbb\xbf", 3) == 0) {
            if (mxtls_policymap_lookup(map, key) == e || !warn)
                abort();
        } else if (mxtls_policymap_lookup(map, key) != e) {
            abort();
        }
        if (mxtls_policy_entry_level(e) < MXTLS_LEVEL_NONE ||
            mxtls_policy_entry_level(e) > MXTLS_LEVEL_DANE_ONLY)
            abort();
        if (i > 0 && mxtls_policy_entry_line(e) <= mxtls_policy_entry_line(policymap_entry_at(map, i - 1)))
            abort();
        if (mxtls_policy_entry_level(e) == MXTLS_LEVEL_FINGERPRINT && e->match.n == 0)
            abort();
        if ((e->match.n == 0) != (mxtls_policy_entry_attr(e, "match") == NULL))
            abort();
        if (i < 8)
            fuzz_lookup_variants(map, mxtls_policy_entry_key(e));
    }
    /* The first line of the input as a destination, whatever it holds. */
    char dest[256];
    size_t k = 0;
    while (k < size && k < sizeof dest - 1 && data[k] != '\n' && data[k] != '\0') {
        dest[k] = (char)data[k];
        k++;
    }
    dest[k] = '\0';
    (void)mxtls_policymap_lookup(map, dest);
    (void)mxtls_policymap_lookup(map, "example.com");
    (void)mxtls_policymap_lookup(map, "[192.0.2.1]:25");
    free(warn);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    return 0;
}
