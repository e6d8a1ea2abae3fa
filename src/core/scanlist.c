/* scanlist.c - the lines `mxtls scan` reads and writes (scanlist.h) */
#include "core/scanlist.h"

#include <stdlib.h>
#include <string.h>

#include "core/evidence.h"
#include "core/names.h"

#define SCANLIST_SHOWN_MAX 256 /* bytes of a malformed line kept for its error object */
#define SCANLIST_MAX_SHARDS 1000000UL

static int scanlist_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* scanlist_shown - the line as an error object shows it: valid UTF-8 kept,
 * control characters and bytes that start no valid UTF-8 sequence as '?',
 * at most SCANLIST_SHOWN_MAX bytes (so that the JSON writer writes it back
 * unchanged and --resume recognises it) */
static char *scanlist_shown(const char *s, size_t n)
{
    char *o = malloc(SCANLIST_SHOWN_MAX + 4);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n && j < SCANLIST_SHOWN_MAX;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c >= 0x80 ? utf8_seq_len((const unsigned char *)s + i, n - i) : 1;
        if (c >= 0x80 && k > 0) {
            if (j + k > SCANLIST_SHOWN_MAX)
                break;
            memcpy(o + j, s + i, k);
            j += k;
            i += k;
            continue;
        }
        o[j++] = (c < 0x20 || c == 0x7f || c >= 0x80) ? '?' : (char)c;
        i++;
    }
    o[j] = '\0';
    return o;
}

static scanlist_kind scanlist_bad(const char *s, size_t n, char **out, err_rec *e,
                                  const char *why)
{
    err_set(e, MXTLS_ERR_INVALID, "input", "%s", why);
    if (!(*out = scanlist_shown(s, n)))
        err_set(e, MXTLS_ERR_NOMEM, "input", "out of memory");
    return SCANLIST_BAD;
}

scanlist_kind scanlist_line(const char *line, size_t len, char **out, err_rec *e)
{
    *out = NULL;
    size_t a = 0, b = len;
    while (a < b && scanlist_blank(line[a]))
        a++;
    /* a '#' at the start or after a blank starts a comment */
    for (size_t i = a; i < b; i++)
        if (line[i] == '#' && (i == a || scanlist_blank(line[i - 1]))) {
            b = i;
            break;
        }
    while (b > a && scanlist_blank(line[b - 1]))
        b--;
    if (a == b)
        return SCANLIST_SKIP;
    const char *s = line + a;
    size_t n = b - a;
    if (len > SCANLIST_MAX_LINE)
        return scanlist_bad(s, n, out, e, "line longer than 1024 bytes");
    if (memchr(s, '\0', n))
        return scanlist_bad(s, n, out, e, "NUL byte in the line");
    for (size_t i = 0; i < n; i++)
        if (scanlist_blank(s[i]))
            return scanlist_bad(s, n, out, e, "more than one word: one domain per line");
    char *tmp = malloc(n + 1);
    if (!tmp) {
        err_set(e, MXTLS_ERR_NOMEM, "input", "out of memory");
        return SCANLIST_BAD;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (evidence_is_ip(tmp)) {
        free(tmp);
        return scanlist_bad(s, n, out, e, "an IP address, not a mail domain");
    }
    err_rec ne;
    err_clear(&ne);
    char *d = names_normalize(tmp, 0, &ne);
    free(tmp);
    if (!d) {
        if (ne.code == MXTLS_ERR_NOMEM) {
            *e = ne;
            return SCANLIST_BAD;
        }
        return scanlist_bad(s, n, out, e, ne.message[0] ? ne.message : "not a domain name");
    }
    if (!*d || evidence_is_ip(d)) { /* "192.0.2.1." is an address too */
        int empty = !*d;
        free(d);
        return scanlist_bad(s, n, out, e,
                            empty ? "empty name" : "an IP address, not a mail domain");
    }
    *out = d;
    return SCANLIST_DOMAIN;
}

uint64_t scanlist_hash(const char *key)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a offset basis */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL; /* FNV prime */
    }
    return h;
}

int scanlist_in_shard(const char *key, unsigned long i, unsigned long n)
{
    return n <= 1 || scanlist_hash(key) % n == i;
}

int scanlist_shard_parse(const char *s, unsigned long *i, unsigned long *n)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash == s || (size_t)(slash - s) > 7)
        return -1;
    char left[8];
    memcpy(left, s, (size_t)(slash - s));
    left[slash - s] = '\0';
    long li = decimal_parse(left, 0, (long)SCANLIST_MAX_SHARDS - 1);
    long ln = decimal_parse(slash + 1, 1, (long)SCANLIST_MAX_SHARDS);
    if (li < 0 || ln < 0 || li >= ln)
        return -1;
    *i = (unsigned long)li;
    *n = (unsigned long)ln;
    return 0;
}

/* ---- --resume: which input an output line answers --------------------- */

typedef struct jscan {
    const char *p, *end;
} jscan;

static void js_ws(jscan *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static int js_hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

static void js_utf8(strbuf *b, unsigned cp, int *bad)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (sb_append(b, u, n) != MXTLS_OK)
        *bad = 1;
}

/* js_string - a JSON string at j->p; decoded into b when b is not NULL.
 * 0, or -1 when malformed (or b is full) */
static int js_string(jscan *j, strbuf *b)
{
    int bad = 0;
    if (j->p >= j->end || *j->p != '"')
        return -1;
    j->p++;
    while (j->p < j->end && !bad) {
        char c = *j->p++;
        if (c == '"')
            return 0;
        if ((unsigned char)c < 0x20)
            return -1;
        if (c != '\\') {
            if (b && sb_append(b, &c, 1) != MXTLS_OK)
                bad = 1;
            continue;
        }
        if (j->p >= j->end)
            return -1;
        char x = *j->p++;
        const char *simple = strchr("\"\\/bfnrt", x);
        if (x && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            char d = map[simple - "\"\\/bfnrt"];
            if (b && sb_append(b, &d, 1) != MXTLS_OK)
                bad = 1;
            continue;
        }
        if (x != 'u' || j->end - j->p < 4)
            return -1;
        unsigned cp;
        if (js_hex4(j->p, &cp) != 0)
            return -1;
        j->p += 4;
        if (cp >= 0xd800 && cp < 0xdc00) {
            unsigned lo;
            if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                js_hex4(j->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
                return -1;
            j->p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            return -1;
        }
        if (b)
            js_utf8(b, cp, &bad);
    }
    return -1;
}

/* js_skip - skip one value (nesting bounded) */
static int js_skip(jscan *j)
{
    int depth = 0;
    js_ws(j);
    do {
        js_ws(j);
        if (j->p >= j->end)
            return -1;
        char c = *j->p;
        if (c == '"') {
            if (js_string(j, NULL) != 0)
                return -1;
        } else if (c == '{' || c == '[') {
            if (++depth > 64)
                return -1;
            j->p++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return -1;
            depth--;
            j->p++;
        } else if (c == ',' || c == ':') {
            if (depth == 0)
                return -1;
            j->p++;
        } else {
            const char *s = j->p;
            while (j->p < j->end && strchr("0123456789+-.eEtruefalsn", *j->p) && *j->p)
                j->p++;
            if (j->p == s)
                return -1;
        }
    } while (depth > 0);
    return 0;
}

char *scanlist_output_key(const char *line, size_t len)
{
    jscan j = {line, line + len};
    char *domain = NULL, *input = NULL;
    js_ws(&j);
    if (j.p >= j.end || *j.p != '{')
        return NULL;
    j.p++;
    js_ws(&j);
    int first = 1;
    while (j.p < j.end && *j.p != '}') {
        if (!first) {
            if (*j.p != ',')
                goto bad;
            j.p++;
            js_ws(&j);
        }
        first = 0;
        strbuf k;
        sb_init(&k, 64);
        int krc = js_string(&j, &k);
        int is_domain = krc == 0 && k.s && !strcmp(k.s, "domain");
        int is_input = krc == 0 && k.s && !strcmp(k.s, "input");
        sb_free(&k);
        if (krc != 0)
            goto bad;
        js_ws(&j);
        if (j.p >= j.end || *j.p != ':')
            goto bad;
        j.p++;
        js_ws(&j);
        if ((is_domain || is_input) && j.p < j.end && *j.p == '"') {
            strbuf v;
            sb_init(&v, 4 * SCANLIST_MAX_LINE);
            if (js_string(&j, &v) != 0) {
                sb_free(&v);
                goto bad;
            }
            char *t = v.s ? sb_take(&v) : strdup("");
            sb_free(&v);
            if (!t)
                goto bad;
            char **slot = is_domain ? &domain : &input;
            free(*slot);
            *slot = t;
        } else if (js_skip(&j) != 0) {
            goto bad;
        }
        js_ws(&j);
    }
    if (j.p >= j.end)
        goto bad;
    j.p++;
    js_ws(&j);
    if (j.p != j.end)
        goto bad;
    if (domain) {
        free(input);
        return domain;
    }
    return input;
bad:
    free(domain);
    free(input);
    return NULL;
}
