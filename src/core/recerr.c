/* recerr.c - the error list of the record and policy parsers */
#include "core/recerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void recerr_add(recerr_list *l, size_t line, size_t column, const char *rule, const char *fmt, ...)
{
    if (l->n >= RECERR_MAX_ERRORS) {
        l->dropped++;
        return;
    }
    if (!l->v) {
        l->v = calloc(RECERR_MAX_ERRORS, sizeof *l->v);
        if (!l->v) {
            l->nomem = 1;
            l->dropped++;
            return;
        }
    }
    recerr *r = &l->v[l->n++];
    r->line = line;
    r->column = column;
    r->rule = rule;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

size_t recerr_count(const recerr_list *l)
{
    return l->n + l->dropped;
}

void recerr_free(recerr_list *l)
{
    if (!l)
        return;
    free(l->v);
    l->v = NULL;
    l->n = l->dropped = 0;
    l->nomem = 0;
}

void recerr_show(const char *s, size_t n, size_t max, char *out, size_t outsz)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (outsz == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= max) {
            if (o + 4 <= outsz) {
                out[o++] = '.';
                out[o++] = '.';
                out[o++] = '.';
            }
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (o + 2 > outsz)
                break;
            out[o++] = (char)c;
        } else {
            if (o + 5 > outsz)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

int recerr_txt_has_version(const char *buf, size_t len, const char *v)
{
    size_t vl = strlen(v);
    if (len < vl || memcmp(buf, v, vl) != 0)
        return 0;
    return len == vl || buf[vl] == ';' || buf[vl] == ' ' || buf[vl] == '\t';
}

size_t recerr_txt_select(const char *const *recs, const size_t *lens, size_t n, const char *v,
                         size_t *first, size_t *second)
{
    size_t count = 0;
    *first = (size_t)-1;
    *second = 0;
    for (size_t i = 0; i < n; i++) {
        if (!recerr_txt_has_version(recs[i], lens[i], v))
            continue;
        if (count == 0)
            *first = i;
        else if (count == 1)
            *second = i;
        count++;
    }
    return count;
}
