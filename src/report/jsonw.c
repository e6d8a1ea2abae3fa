/* jsonw.c - a small JSON writer over strbuf */
#include "report/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"

void jw_init(jsonw *w)
{
    memset(w, 0, sizeof *w);
    sb_init(&w->b, JSONW_MAX_OUTPUT);
    w->first[0] = 1;
}

static void jw_raw(jsonw *w, const char *s, size_t n)
{
    if (!w->failed && sb_append(&w->b, s, n) != MXTLS_OK)
        w->failed = 1;
}

/* jw_sep - the comma before a value that is not first at its level */
static void jw_sep(jsonw *w)
{
    if (!w->first[w->depth])
        jw_raw(w, ",", 1);
    w->first[w->depth] = 0;
}

static void jw_open(jsonw *w, const char *c)
{
    jw_sep(w);
    jw_raw(w, c, 1);
    if (w->depth + 1 >= JSONW_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->depth++;
    w->first[w->depth] = 1;
}

static void jw_close(jsonw *w, const char *c)
{
    if (w->depth > 0)
        w->depth--;
    jw_raw(w, c, 1);
}

void jw_obj(jsonw *w) { jw_open(w, "{"); }
void jw_end_obj(jsonw *w) { jw_close(w, "}"); }
void jw_arr(jsonw *w) { jw_open(w, "["); }
void jw_end_arr(jsonw *w) { jw_close(w, "]"); }

/* jw_escaped - a JSON string (docs/json.md): '"' and '\\' escaped, control
 * characters and DEL as \u00XX, valid UTF-8 as is, and every byte that does
 * not start a valid UTF-8 sequence as the escape \ufffd (U+FFFD), so the
 * document is valid UTF-8 whatever the input */
static void jw_escaped(jsonw *w, const char *s)
{
    jw_raw(w, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (*p) {
        unsigned char c = *p;
        char buf[8];
        if (c == '"' || c == '\\') {
            buf[0] = '\\';
            buf[1] = (char)c;
            jw_raw(w, buf, 2);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(buf, sizeof buf, "\\u%04x", c);
            jw_raw(w, buf, 6);
            p++;
        } else if (c < 0x80) {
            /* A run of bytes that need no escape goes in one append: most
             * of a report is names and codes in plain ASCII. */
            const unsigned char *run = p;
            while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
                p++;
            jw_raw(w, (const char *)run, (size_t)(p - run));
        } else {
            size_t n = utf8_seq_len(p, (size_t)(end - p));
            if (n) {
                jw_raw(w, (const char *)p, (size_t)n);
                p += n;
            } else {
                jw_raw(w, "\\ufffd", 6);
                p++;
            }
        }
    }
    jw_raw(w, "\"", 1);
}

char *jw_str_as_read(const char *s)
{
    if (!s)
        return NULL;
    size_t bad = 0, len = 0;
    const unsigned char *end = (const unsigned char *)s + strlen(s);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        bad += n == 0;
        p += n ? n : 1;
        len += n ? n : 3;
    }
    if (bad == 0)
        return strdup(s);
    char *d = malloc(len + 1), *o = d;
    if (!d)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (n) {
            memcpy(o, p, n);
            o += n;
            p += n;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
            o += 3;
            p++;
        }
    }
    *o = '\0';
    return d;
}

void jw_key(jsonw *w, const char *k)
{
    jw_sep(w);
    jw_escaped(w, k);
    jw_raw(w, ":", 1);
    w->first[w->depth] = 1; /* the value that follows takes no comma */
}

void jw_str(jsonw *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    jw_sep(w);
    jw_escaped(w, s);
}

void jw_json(jsonw *w, const char *json)
{
    jw_sep(w);
    if (!json)
        jw_raw(w, "null", 4);
    else
        jw_raw(w, json, strlen(json));
}

void jw_int(jsonw *w, long long v)
{
    /* Digits from the right: snprintf's format parsing showed in scan
     * profiles (a report has hundreds of numbers). */
    char buf[24];
    char *e = buf + sizeof buf, *d = e;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--d = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--d = '-';
    jw_sep(w);
    jw_raw(w, d, (size_t)(e - d));
}

void jw_bool(jsonw *w, int v)
{
    jw_sep(w);
    jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jsonw *w)
{
    jw_sep(w);
    jw_raw(w, "null", 4);
}

void jw_kstr(jsonw *w, const char *k, const char *s) { jw_key(w, k); jw_str(w, s); }
void jw_kint(jsonw *w, const char *k, long long v) { jw_key(w, k); jw_int(w, v); }
void jw_kbool(jsonw *w, const char *k, int v) { jw_key(w, k); jw_bool(w, v); }

void jw_kstrlist(jsonw *w, const char *k, const strlist *l)
{
    jw_key(w, k);
    jw_arr(w);
    for (size_t i = 0; i < l->n; i++)
        jw_str(w, l->v[i]);
    jw_end_arr(w);
}

void jw_chain_cert(jsonw *w, const chain_cert *c)
{
    jw_obj(w);
    jw_kstr(w, "subject", c->subject);
    jw_kstr(w, "issuer", c->issuer);
    jw_kstr(w, "not_before", c->not_before);
    jw_kstr(w, "not_after", c->not_after);
    jw_kstr(w, "sha256", c->sha256);
    jw_end_obj(w);
}

char *jw_finish(jsonw *w)
{
    if (w->failed) {
        sb_free(&w->b);
        return NULL;
    }
    return sb_take(&w->b);
}
