/* fuzz_jsonw - the JSON writer (report/jsonw.c) on untrusted text
 *
 * Every report (check, probe, policy, tlsa) carries text a peer controls
 * through jw_str/jw_key: banner and EHLO lines, certificate names, DNS names.
 * Input: strings separated by NUL bytes, written as the keys and values of an
 * object and as an array. The document must be valid JSON (checked by a small
 * parser here), valid UTF-8 without raw control bytes; a string that was
 * valid UTF-8 decodes back to itself, any other decodes to valid UTF-8 with
 * at least one U+FFFD. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/jsonw.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_jsonw: invariant failed: %s (line %d)\n", #c, __LINE__);   \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define JSONW_FUZZ_MAX_STRINGS 64

/* utf8_len - length of the valid UTF-8 sequence at s (RFC 3629), 0 if invalid */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n + 1;
}

static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 0)
            return 0;
        p += n;
    }
    return 1;
}

/* put_utf8 - encode cp */
static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

/* parse_string - a JSON string at *p (after the quote is checked), decoded into
 * a new buffer; advances *p past the closing quote */
static char *parse_string(const char **p)
{
    const char *s = *p;
    CHECK(*s == '"');
    s++;
    size_t cap = strlen(s) * 3 + 1, o = 0;
    char *out = malloc(cap);
    CHECK(out != NULL);
    for (;;) {
        unsigned char c = (unsigned char)*s;
        CHECK(c != '\0');           /* unterminated */
        CHECK(c >= 0x20 && c != 0x7f); /* raw control bytes (0x7f: the writer escapes it) */
        if (c == '"') {
            s++;
            break;
        }
        if (c == '\\') {
            s++;
            switch (*s) {
            case '"': case '\\': case '/': out[o++] = *s++; break;
            case 'b': out[o++] = '\b'; s++; break;
            case 'f': out[o++] = '\f'; s++; break;
            case 'n': out[o++] = '\n'; s++; break;
            case 'r': out[o++] = '\r'; s++; break;
            case 't': out[o++] = '\t'; s++; break;
            case 'u': {
                unsigned cp = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = s[i];
                    CHECK((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F'));
                    cp = cp << 4 | (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                CHECK(cp < 0xd800 || cp > 0xdfff); /* the writer emits no surrogate pairs */
                CHECK(cp != 0);                     /* C strings hold no NUL */
                o += put_utf8(cp, out + o);
                s += 5;
                break;
            }
            default: CHECK(0 && "bad escape");
            }
            continue;
        }
        size_t n = utf8_len((const unsigned char *)s);
        CHECK(n > 0);
        memcpy(out + o, s, n);
        o += n;
        s += n;
    }
    out[o] = '\0';
    *p = s;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    CHECK(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *str[JSONW_FUZZ_MAX_STRINGS];
    size_t n = 0;
    for (const char *p = copy; n < JSONW_FUZZ_MAX_STRINGS && p <= copy + size; p += strlen(p) + 1)
        str[n++] = p;

    strlist l = {0};
    for (size_t i = 0; i < n; i++)
        CHECK(strlist_add(&l, str[i]) == MXTLS_OK);

    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    for (size_t i = 0; i + 1 < n; i += 2)
        jw_kstr(&w, str[i], str[i + 1]);
    jw_kstrlist(&w, "all", &l);
    jw_end_obj(&w);
    char *doc = jw_finish(&w);
    CHECK(doc != NULL);
    CHECK(utf8_valid(doc));

    /* {"k":"v",...,"all":["s",...]} and nothing else */
    const char *p = doc;
    CHECK(*p++ == '{');
    for (size_t i = 0; i + 1 < n; i += 2) {
        const char *want[2] = {str[i], str[i + 1]};
        for (int k = 0; k < 2; k++) {
            char *got = parse_string(&p);
            CHECK(utf8_valid(got));
            if (utf8_valid(want[k]))
                CHECK(strcmp(got, want[k]) == 0);
            else
                CHECK(strstr(got, "\xef\xbf\xbd") != NULL);
            free(got);
            CHECK(*p++ == (k == 0 ? ':' : ','));
        }
    }
    char *all = parse_string(&p);
    CHECK(strcmp(all, "all") == 0);
    free(all);
    CHECK(*p++ == ':');
    CHECK(*p++ == '[');
    for (size_t i = 0; i < n; i++) {
        char *got = parse_string(&p);
        if (utf8_valid(str[i]))
            CHECK(strcmp(got, str[i]) == 0);
        free(got);
        CHECK(*p++ == (i + 1 < n ? ',' : ']'));
    }
    CHECK(*p++ == '}');
    CHECK(*p == '\0' || (*p == '\n' && p[1] == '\0'));
    free(doc);
    strlist_free(&l);
    free(copy);
    return 0;
}
