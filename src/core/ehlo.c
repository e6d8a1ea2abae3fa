/* ehlo.c - service extensions from the lines of a 250 EHLO reply
 *
 * Liberal in what we record, precise in what we call a problem: Postfix
 * (smtp_proto.c) and OpenSMTPD (mta_session.c) both match keywords
 * case-insensitively and ignore what they do not know; we do the same for
 * decisions, and additionally keep every deviation for the report. */
#include "core/ehlo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    unsigned bit;
    const char *name;
} ehlo_names[] = {
    {EHLO_STARTTLS, "STARTTLS"},
    {EHLO_REQUIRETLS, "REQUIRETLS"},
    {EHLO_SIZE, "SIZE"},
    {EHLO_PIPELINING, "PIPELINING"},
    {EHLO_8BITMIME, "8BITMIME"},
    {EHLO_SMTPUTF8, "SMTPUTF8"},
    {EHLO_CHUNKING, "CHUNKING"},
    {EHLO_DSN, "DSN"},
    {EHLO_ENHANCEDSTATUSCODES, "ENHANCEDSTATUSCODES"},
    {EHLO_AUTH, "AUTH"},
};

#define EHLO_NNAMES (sizeof ehlo_names / sizeof ehlo_names[0])

/* ehlo_ext_name - name of one extension bit */
const char *ehlo_ext_name(unsigned bit)
{
    for (size_t i = 0; i < EHLO_NNAMES; i++)
        if (ehlo_names[i].bit == bit)
            return ehlo_names[i].name;
    return NULL;
}

/* ehlo_caps_init - empty capabilities */
void ehlo_caps_init(ehlo_caps *c)
{
    memset(c, 0, sizeof *c);
}

/* ehlo_caps_free - release everything; the struct is empty and reusable */
void ehlo_caps_free(ehlo_caps *c)
{
    if (!c)
        return;
    free(c->domain);
    strlist_free(&c->auth);
    strlist_free(&c->keywords);
    strlist_free(&c->unknown);
    free(c->problems);
    ehlo_caps_init(c);
}

/* ehlo_caps_copy - fixed fields by assignment, owned strings duplicated */
mxtls_status ehlo_caps_copy(ehlo_caps *dst, const ehlo_caps *src)
{
    *dst = *src;
    dst->domain = NULL;
    memset(&dst->auth, 0, sizeof dst->auth);
    memset(&dst->keywords, 0, sizeof dst->keywords);
    memset(&dst->unknown, 0, sizeof dst->unknown);
    dst->problems =
        src->nproblems ? xmemdup(src->problems, src->nproblems * sizeof *src->problems) : NULL;
    if ((src->nproblems && !dst->problems) ||
        (src->domain && !(dst->domain = xstrndup(src->domain, strlen(src->domain)))) ||
        strlist_copy(&dst->auth, &src->auth) != MXTLS_OK ||
        strlist_copy(&dst->keywords, &src->keywords) != MXTLS_OK ||
        strlist_copy(&dst->unknown, &src->unknown) != MXTLS_OK) {
        ehlo_caps_free(dst);
        return MXTLS_ERR_NOMEM;
    }
    return MXTLS_OK;
}

/* ehlo_add_problem - keep the first EHLO_MAX_PROBLEMS deviations, count all */
__attribute__((format(printf, 4, 5))) static void
ehlo_add_problem(ehlo_caps *c, size_t line, size_t column, const char *fmt, ...)
{
    c->problems_total++;
    if (c->nproblems >= EHLO_MAX_PROBLEMS)
        return;
    /* Out of memory: not kept; ehlo_parse sees it and fails. */
    ehlo_problem *grown = realloc(c->problems, (c->nproblems + 1) * sizeof *grown);
    if (!grown)
        return;
    c->problems = grown;
    ehlo_problem *p = &c->problems[c->nproblems++];
    p->line = line;
    p->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
}

/* ehlo_is_alnum - ASCII letter or digit (locale-independent) */
static int ehlo_is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ehlo_upper_dup - upper-cased copy of n bytes */
static char *ehlo_upper_dup(const char *s, size_t n)
{
    char *d = xstrndup(s, n);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (d[i] >= 'a' && d[i] <= 'z')
            d[i] = (char)(d[i] - 'a' + 'A');
    return d;
}

/* ehlo_add_upper_unique - add an upper-cased copy unless already present */
static mxtls_status ehlo_add_upper_unique(strlist *l, const char *s, size_t n)
{
    char *u = ehlo_upper_dup(s, n);
    if (!u)
        return MXTLS_ERR_NOMEM;
    mxtls_status st = strlist_add_unique(l, u);
    free(u);
    return st;
}

/* ehlo_parse_size - RFC 1870: "SIZE" [SP 1*20DIGIT]; 0 means no fixed maximum */
static void ehlo_parse_size(ehlo_caps *c, size_t line, const char *p, size_t n, size_t col)
{
    uint64_t v = 0;
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char d = (unsigned char)p[i];
        if (d < '0' || d > '9') {
            ehlo_add_problem(c, line, col + i, "SIZE value is not a number");
            return;
        }
        if (v > (UINT64_MAX - (uint64_t)(d - '0')) / 10) {
            ehlo_add_problem(c, line, col, "SIZE value too large");
            return;
        }
        v = v * 10 + (uint64_t)(d - '0');
    }
    c->size = v;
    c->size_value = 1;
}

/* ehlo_parse_line - one ehlo-line: keyword and parameters */
static mxtls_status ehlo_parse_line(ehlo_caps *c, size_t line, const char *s)
{
    size_t n = strlen(s), kw = 0;
    while (kw < n && s[kw] != ' ')
        kw++;
    if (kw == 0) {
        ehlo_add_problem(c, line, 1, n ? "line starts with a space" : "empty line");
        if (n == 0)
            return MXTLS_OK;
        return strlist_add(&c->unknown, s);
    }

    /* The pre-standard "AUTH=LOGIN PLAIN" form (advertised by servers for old
     * Outlook clients) is not an ehlo-keyword, but it means AUTH. */
    int auth_equals = kw >= 5 && strncasecmp(s, "AUTH=", 5) == 0;
    if (!auth_equals) {
        int bad = !ehlo_is_alnum((unsigned char)s[0]);
        size_t badcol = 1;
        for (size_t i = 1; i < kw && !bad; i++)
            if (!ehlo_is_alnum((unsigned char)s[i]) && s[i] != '-') {
                bad = 1;
                badcol = i + 1;
            }
        if (bad)
            ehlo_add_problem(c, line, badcol, "invalid character in keyword");
    }

    /* Parameters: single spaces per the grammar; extra spaces are tolerated
     * but reported, as are bytes outside %d33-126. */
    for (size_t i = kw; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ' && (i + 1 == n || s[i + 1] == ' ')) {
            ehlo_add_problem(c, line, i + 1, "extra space");
            break;
        }
        if (ch != ' ' && (ch < 33 || ch > 126)) {
            ehlo_add_problem(c, line, i + 1, "invalid character in parameter");
            break;
        }
    }

    char *key = ehlo_upper_dup(s, auth_equals ? 4 : kw);
    if (!key)
        return MXTLS_ERR_NOMEM;
    mxtls_status st = strlist_add(&c->keywords, key);
    unsigned bit = 0;
    for (size_t i = 0; i < EHLO_NNAMES; i++)
        if (strcmp(key, ehlo_names[i].name) == 0)
            bit = ehlo_names[i].bit;
    free(key);
    if (st != MXTLS_OK)
        return st;
    if (!bit || (auth_equals && bit != EHLO_AUTH))
        return strlist_add(&c->unknown, s);
    c->ext |= bit;

    if (bit == EHLO_SIZE) {
        size_t p = kw;
        while (p < n && s[p] == ' ')
            p++;
        size_t e = p;
        while (e < n && s[e] != ' ')
            e++;
        ehlo_parse_size(c, line, s + p, e - p, p + 1);
        if (e < n)
            ehlo_add_problem(c, line, e + 1, "SIZE has more than one parameter");
    } else if (bit == EHLO_AUTH) {
        size_t p = auth_equals ? 5 : kw;
        size_t found = 0;
        if (auth_equals)
            c->auth_equals = 1;
        while (p < n) {
            while (p < n && s[p] == ' ')
                p++;
            size_t e = p;
            while (e < n && s[e] != ' ')
                e++;
            if (e > p) {
                st = ehlo_add_upper_unique(&c->auth, s + p, e - p);
                if (st != MXTLS_OK)
                    return st;
                found++;
            }
            p = e;
        }
        if (!found)
            ehlo_add_problem(c, line, n + 1, "AUTH without mechanisms");
    } else if (kw < n) {
        /* STARTTLS, PIPELINING, 8BITMIME, ... take no parameters. Still offered. */
        ehlo_add_problem(c, line, kw + 1, "unexpected parameter after %s",
                         ehlo_ext_name(bit));
    }
    return MXTLS_OK;
}

/* ehlo_problems_kept - MXTLS_ERR_NOMEM when a problem that had room was
 * not kept (its allocation failed) */
static mxtls_status ehlo_problems_kept(const ehlo_caps *c)
{
    size_t want = c->problems_total < EHLO_MAX_PROBLEMS ? c->problems_total : EHLO_MAX_PROBLEMS;
    return c->nproblems == want ? MXTLS_OK : MXTLS_ERR_NOMEM;
}

/* ehlo_parse - see ehlo.h */
mxtls_status ehlo_parse(ehlo_caps *caps, const char *const *lines, size_t nlines)
{
    ehlo_caps_free(caps);
    mxtls_status st = MXTLS_OK;
    if (nlines == 0) {
        caps->domain = xstrndup("", 0);
        if (!caps->domain)
            return MXTLS_ERR_NOMEM;
        ehlo_add_problem(caps, 1, 1, "empty EHLO reply");
        return ehlo_problems_kept(caps);
    }

    /* First line: Domain [ SP ehlo-greet ]. */
    const char *first = lines[0];
    size_t dl = 0;
    while (first[dl] && first[dl] != ' ')
        dl++;
    if (dl == 0)
        ehlo_add_problem(caps, 1, 1, "no domain in the first line");
    if (dl > EHLO_MAX_DOMAIN) {
        ehlo_add_problem(caps, 1, EHLO_MAX_DOMAIN + 1, "domain longer than %d octets",
                         EHLO_MAX_DOMAIN);
        dl = EHLO_MAX_DOMAIN;
    }
    caps->domain = xstrndup(first, dl);
    if (!caps->domain)
        return MXTLS_ERR_NOMEM;

    for (size_t i = 1; i < nlines && st == MXTLS_OK; i++)
        st = ehlo_parse_line(caps, i + 1, lines[i]);
    if (st == MXTLS_OK)
        st = ehlo_problems_kept(caps);
    if (st != MXTLS_OK)
        ehlo_caps_free(caps);
    return st;
}
