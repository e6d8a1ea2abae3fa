/* base.c - error records, bounded strings and string lists */
#include "core/base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *err_errno_text(int err)
{
    if (err == EMFILE || err == ENFILE)
        return "out of file descriptors (ulimit -n)";
    if (err == ENOMEM)
        return "out of memory";
    return strerror(err);
}

mxtls_status err_code_errno(int err)
{
    if (err == EMFILE || err == ENFILE)
        return MXTLS_ERR_RESOURCE;
    if (err == ENOMEM)
        return MXTLS_ERR_NOMEM;
    return MXTLS_ERR_IO;
}

void err_clear(err_rec *e)
{
    if (!e)
        return;
    e->code = MXTLS_OK;
    e->where[0] = '\0';
    e->message[0] = '\0';
}

mxtls_status err_set(err_rec *e, mxtls_status code, const char *where, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    snprintf(e->where, sizeof e->where, "%s", where ? where : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return code;
}

void sb_init(strbuf *b, size_t max)
{
    b->s = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void sb_free(strbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void sb_reset(strbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

static mxtls_status sb_reserve(strbuf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return MXTLS_ERR_LIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return MXTLS_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s)
        return MXTLS_ERR_NOMEM;
    b->s = s;
    b->cap = cap;
    return MXTLS_OK;
}

mxtls_status sb_append(strbuf *b, const char *s, size_t n)
{
    mxtls_status st = sb_reserve(b, n);
    if (st != MXTLS_OK)
        return st;
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return MXTLS_OK;
}

mxtls_status sb_puts(strbuf *b, const char *s)
{
    return sb_append(b, s, strlen(s));
}

mxtls_status sb_vprintf(strbuf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return MXTLS_ERR_INVALID;
    mxtls_status st = sb_reserve(b, (size_t)n);
    if (st != MXTLS_OK)
        return st;
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return MXTLS_OK;
}

mxtls_status sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mxtls_status st = sb_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

char *sb_take(strbuf *b)
{
    char *s = b->s;
    if (!s)
        s = calloc(1, 1);
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void *xmemdup(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

mxtls_status strlist_addn(strlist *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return MXTLS_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    char *d = xstrndup(s, n);
    if (!d)
        return MXTLS_ERR_NOMEM;
    l->v[l->n++] = d;
    return MXTLS_OK;
}

mxtls_status strlist_add(strlist *l, const char *s)
{
    return strlist_addn(l, s, strlen(s));
}

int strlist_contains(const strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

mxtls_status strlist_add_unique(strlist *l, const char *s)
{
    if (strlist_contains(l, s))
        return MXTLS_OK;
    return strlist_add(l, s);
}

mxtls_status strlist_copy(strlist *dst, const strlist *src)
{
    for (size_t i = 0; i < src->n; i++) {
        mxtls_status st = strlist_add(dst, src->v[i]);
        if (st != MXTLS_OK)
            return st;
    }
    return MXTLS_OK;
}

void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned long cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0; /* continuation byte, overlong lead C0/C1, or F5..FF */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

mxtls_status sb_put_display(strbuf *b, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s);
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(s + i, n - i);
        /* C0 controls (newline too: one field is one line), DEL, and C1
         * controls (U+0080..U+009F, which some terminals obey) */
        int control = k == 0 || s[i] < 0x20 || s[i] == 0x7f ||
                      (k == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0);
        if (!control) {
            if (sb_append(b, (const char *)s + i, k) != MXTLS_OK)
                return MXTLS_ERR_LIMIT;
            i += k;
            continue;
        }
        size_t m = k ? k : 1;
        for (size_t j = 0; j < m; j++) {
            char esc[4] = {'\\', 'x', hex[s[i + j] >> 4], hex[s[i + j] & 15]};
            if (sb_append(b, esc, 4) != MXTLS_OK)
                return MXTLS_ERR_LIMIT;
        }
        i += m;
    }
    return MXTLS_OK;
}

char *text_display(const char *s)
{
    strbuf b;
    sb_init(&b, 4 * strlen(s ? s : "") + 1);
    if (sb_put_display(&b, s) != MXTLS_OK) {
        sb_free(&b);
        return NULL;
    }
    return sb_take(&b);
}

long decimal_parse(const char *s, long lo, long hi)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (*end || errno == ERANGE || v < lo || v > hi) /* ERANGE: saturated, not the number */
        return -1;
    return v;
}
