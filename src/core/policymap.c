/* policymap.c - Postfix smtp_tls_policy_maps tables: parse the text, look up destinations
 *
 * The input is the text a Postfix administrator feeds to postmap(1) for a
 * texthash:/hash: smtp_tls_policy_maps table. It is untrusted: every line is
 * capped, every error names file:line:column, and nothing here does I/O.
 *
 * Format (Postfix readlline(3) + postmap(1) + smtp_tls_policy.c semantics):
 * - A logical line starts with non-whitespace text; a line starting with
 *   whitespace continues it. Empty, whitespace-only and comment lines ('#' as
 *   first non-whitespace character) are skipped and do NOT end a logical line.
 * - The key is the text up to the first whitespace; the value is a security
 *   level followed by name=value attributes, separated by whitespace and/or
 *   commas; "{ name = value }" groups a value that contains those.
 * - Lookup (postconf(5) smtp_tls_policy_maps): the full next-hop destination,
 *   verbatim; only a bare domain then tries ".parent" keys, nearest first.
 * Where mxtls is stricter than Postfix (Postfix warns and carries on, or
 * defers mail at delivery time), docs/policymap.md says so. */
#include "core/policymap.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ctx.h"
#include "core/fingerprint.h"
#include "core/tlsparams.h"

struct mxtls_policymap {
    mxtls_policy_entry *v; /* entries in file order */
    size_t n, cap;
    size_t *slots;         /* open addressing on norm: entry index + 1, 0 = empty */
    size_t nslots;         /* a power of two, at least twice n */
};

/* A failed check: offset into the checked text and a finished sentence. */
typedef struct pm_fail {
    mxtls_status code; /* MXTLS_ERR_PARSE, or MXTLS_ERR_NOMEM */
    size_t off;
    char msg[MXTLS_ERR_MESSAGE_MAX];
} pm_fail;

/* A physical line's place in the logical line being parsed. */
typedef struct pm_seg {
    size_t off;  /* logical offset of the physical line's first byte */
    size_t line; /* 1-based physical line number */
} pm_seg;

typedef struct pm_parser {
    mxtls_ctx *ctx;
    const char *name;
    mxtls_policymap *map;
    strbuf text;       /* the logical line */
    strbuf match_raw;  /* the current entry's match values, joined */
    strbuf tafile_raw; /* the current entry's tafile values, joined */
    pm_seg *segs;
    size_t nsegs, capsegs;
} pm_parser;

enum pm_attr {
    PM_MATCH,
    PM_PROTOCOLS,
    PM_CIPHERS,
    PM_EXCLUDE,
    PM_TAFILE,
    PM_SERVERNAME,
    PM_CONNECTION_REUSE,
    PM_ENABLE_RPK,
    PM_ATTR_COUNT
};

/* The attributes Postfix's policy table accepts for a built-in policy. */
static const char *const pm_attr_names[PM_ATTR_COUNT] = {
    "match", "protocols", "ciphers", "exclude", "tafile", "servername",
    "connection_reuse", "enable_rpk",
};

/* Postfix cipher grades (smtp_tls_mandatory_ciphers values). */
static const char *const pm_cipher_grades[] = {"null", "export", "low", "medium", "high"};

#define PM_SHOW_MAX 100 /* bytes of untrusted text quoted in a message */
#define PM_SHOW_BUF (4 * PM_SHOW_MAX + 8)
#define PM_NORM_MAX (4 * MXTLS_POLICYMAP_MAX_LINE + 16) /* A-labels can be longer than U-labels */

/* pm_space - whitespace as Postfix's ISSPACE sees it (ASCII only, locale-free) */
static int pm_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* pm_sep - attribute separator: whitespace or comma (Postfix CHARS_COMMA_SP) */
static int pm_sep(char c)
{
    return c == ',' || pm_space(c);
}

/* pm_lower - ASCII lower case, whatever the locale */
static char pm_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* pm_digit - ASCII decimal digit */
static int pm_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* pm_alpha - ASCII letter */
static int pm_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* pm_hex - ASCII hexadecimal digit */
static int pm_hex(char c)
{
    return pm_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* pm_show - printable, bounded, quote-safe copy of untrusted text for a message */
static const char *pm_show(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    size_t lim = n > PM_SHOW_MAX ? PM_SHOW_MAX : n;
    for (size_t i = 0; i < lim && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(dst + o, cap - o, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            dst[o++] = (char)c;
        else
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
    }
    if (lim < n && o + 4 < cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o < cap ? o : cap - 1] = '\0';
    return dst;
}

/* pm_failf - fill a pm_fail and return -1 */
static int pm_failf(pm_fail *f, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pm_failf(pm_fail *f, size_t off, const char *fmt, ...)
{
    va_list ap;
    f->code = MXTLS_ERR_PARSE;
    f->off = off;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* pm_oom - fill a pm_fail for an allocation failure and return -1 */
static int pm_oom(pm_fail *f)
{
    f->code = MXTLS_ERR_NOMEM;
    f->off = 0;
    snprintf(f->msg, sizeof f->msg, "out of memory");
    return -1;
}

/* pm_labels_check - LDH(+underscore) labels as Postfix valid_hostname() wants them
 *
 * `name` is ASCII. Offsets in failures are relative to name when `exact`, else
 * 0 (a converted IDN has no byte-for-byte mapping back to the input). */
static int pm_labels_check(const char *name, size_t n, int exact, const char *shown, pm_fail *f)
{
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && name[i] != '.') {
            char c = name[i];
            if (!(pm_alpha(c) || pm_digit(c) || c == '-' || c == '_')) {
                char ch[8];
                return pm_failf(f, exact ? i : 0, "invalid character \"%s\" in destination \"%s\"",
                                pm_show(ch, sizeof ch, name + i, 1), shown);
            }
            continue;
        }
        size_t len = i - label;
        if (len == 0)
            return pm_failf(f, exact ? i : 0, "empty label in destination \"%s\"", shown);
        if (len > 63)
            return pm_failf(f, exact ? label : 0,
                            "label longer than 63 bytes in destination \"%s\"", shown);
        if (name[label] == '-' || name[i - 1] == '-')
            return pm_failf(f, exact ? label : 0,
                            "label starting or ending with \"-\" in destination \"%s\"", shown);
        label = i + 1;
    }
    if (n > MXTLS_MAX_NAME)
        return pm_failf(f, 0, "host name longer than %d bytes in destination \"%s\"",
                        MXTLS_MAX_NAME, shown);
    return 0;
}

/* pm_host_norm - check a host name and append its lookup form to out
 *
 * One trailing dot is dropped (absolute form of the same name). U-labels are
 * converted to A-labels with libidn2: IDNA2008 (non-transitional) first, as
 * current mail software does, then UTS#46 transitional for names IDNA2008
 * rejects. `base` is the host's offset in the key, for failure offsets. */
static int pm_host_norm(const char *s, size_t n, size_t base, int allow_idn, const char *shown,
                        strbuf *out, pm_fail *f)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0)
        return pm_failf(f, base, "empty host name in destination \"%s\"", shown);
    int ascii = 1, numeric = 1;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] >= 0x80)
            ascii = 0;
        if (!pm_digit(s[i]) && s[i] != '.')
            numeric = 0;
    }
    /* Postfix valid_hostname() refuses all-numeric names: an address is
     * written as a [literal]. */
    if (numeric)
        return pm_failf(f, base, "numeric host name in destination \"%s\" (write an address as "
                                 "\"[address]\")", shown);
    size_t start = out->len;
    if (ascii) {
        if (pm_labels_check(s, n, 1, shown, f) != 0) {
            f->off += base;
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            char c = pm_lower(s[i]);
            if (sb_append(out, &c, 1) != MXTLS_OK)
                return pm_oom(f);
        }
        return 0;
    }
    if (!allow_idn)
        return pm_failf(f, base, "non-ASCII host name \"%s\"", shown);
    char *tmp = xstrndup(s, n);
    if (!tmp)
        return pm_oom(f);
    char *a = NULL;
    int rc = idn2_to_ascii_8z(tmp, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK)
        rc = idn2_to_ascii_8z(tmp, &a, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    free(tmp);
    if (rc == IDN2_MALLOC)
        return pm_oom(f);
    if (rc != IDN2_OK)
        return pm_failf(f, base, "invalid internationalised name in destination \"%s\": %s",
                        shown, idn2_strerror(rc));
    size_t an = strlen(a);
    int bad = pm_labels_check(a, an, 0, shown, f);
    if (bad == 0)
        for (size_t i = 0; i < an && bad == 0; i++) {
            char c = pm_lower(a[i]);
            if (sb_append(out, &c, 1) != MXTLS_OK)
                bad = pm_oom(f);
        }
    idn2_free(a);
    if (bad) {
        f->off += base;
        out->len = start;
        return -1;
    }
    return 0;
}

/* pm_port_norm - check a port (number 1-65535 or service name) and append it
 *
 * Postfix next-hops accept "[host]:smtp" as well as "[host]:25"; both are
 * compared as written (lower case), as Postfix compares lookup keys. */
static int pm_port_norm(const char *s, size_t n, size_t base, const char *shown, strbuf *out,
                        pm_fail *f)
{
    char pshow[PM_SHOW_BUF];
    if (n == 0)
        return pm_failf(f, base - 1, "missing port after \":\" in destination \"%s\"", shown);
    int ok = 1;
    if (pm_digit(s[0])) {
        unsigned long v = 0;
        for (size_t i = 0; i < n && ok; i++) {
            if (!pm_digit(s[i]) || i >= 5)
                ok = 0;
            else
                v = v * 10 + (unsigned long)(s[i] - '0');
        }
        if (v < 1 || v > 65535)
            ok = 0;
    } else {
        ok = pm_alpha(s[0]);
        for (size_t i = 1; i < n && ok; i++)
            ok = pm_alpha(s[i]) || pm_digit(s[i]) || s[i] == '-';
    }
    if (!ok)
        return pm_failf(f, base, "invalid port \"%s\" in destination \"%s\"",
                        pm_show(pshow, sizeof pshow, s, n), shown);
    if (sb_append(out, ":", 1) != MXTLS_OK)
        return pm_oom(f);
    for (size_t i = 0; i < n; i++) {
        char c = pm_lower(s[i]);
        if (sb_append(out, &c, 1) != MXTLS_OK)
            return pm_oom(f);
    }
    return 0;
}

/* pm_literal_norm - the inside of "[...]": IPv4, IPv6 ("ipv6:" optional) or a host */
static int pm_literal_norm(const char *s, size_t n, const char *shown, strbuf *out, pm_fail *f)
{
    const char *in = s + 1; /* after '[' */
    char buf[INET6_ADDRSTRLEN + 8];
    unsigned char addr[sizeof(struct in6_addr)];
    size_t skip = 0;
    if (n == 0)
        return pm_failf(f, 0, "empty host in destination \"%s\"", shown);
    if (n >= 5 && strncasecmp(in, "ipv6:", 5) == 0)
        skip = 5;
    int v6 = skip || memchr(in, ':', n) != NULL;
    int v4 = !v6;
    for (size_t i = 0; i < n && v4; i++)
        v4 = pm_digit(in[i]) || in[i] == '.';
    if (!v4 && !v6)
        return pm_host_norm(in, n, 1, 1, shown, out, f);
    size_t an = n - skip;
    if (an >= sizeof buf)
        return pm_failf(f, 1, "invalid %s address in destination \"%s\"", v6 ? "IPv6" : "IPv4",
                        shown);
    memcpy(buf, in + skip, an);
    buf[an] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) != 1)
        return pm_failf(f, 1, "invalid %s address in destination \"%s\"", v6 ? "IPv6" : "IPv4",
                        shown);
    for (size_t i = 0; i < n; i++) {
        char c = pm_lower(in[i]);
        if (sb_append(out, &c, 1) != MXTLS_OK)
            return pm_oom(f);
    }
    return 0;
}

/* pm_dest_parse - check a destination key [s, s+n) and build its lookup form
 *
 * Forms: "*", "domain", ".domain", "domain:port", "[host]", "[host]:port",
 * "[address]", "[address]:port". On success *norm is a new string. */
static int pm_dest_parse(const char *s, size_t n, policymap_dest_kind *kind, char **norm,
                         pm_fail *f)
{
    char shown[PM_SHOW_BUF];
    strbuf out;
    int rc;
    pm_show(shown, sizeof shown, s, n);
    sb_init(&out, PM_NORM_MAX);
    *norm = NULL;
    if (n == 1 && s[0] == '*') {
        /* mxtls extension: Postfix has no wildcard key in this table. */
        *kind = POLICYMAP_DEST_DEFAULT;
        rc = sb_append(&out, "*", 1) == MXTLS_OK ? 0 : pm_oom(f);
    } else if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) {
            rc = pm_failf(f, 0, "missing \"]\" in destination \"%s\"", shown);
        } else {
            size_t c = (size_t)(close - s);
            *kind = POLICYMAP_DEST_NEXTHOP;
            rc = sb_append(&out, "[", 1) == MXTLS_OK ? 0 : pm_oom(f);
            if (rc == 0)
                rc = pm_literal_norm(s, c - 1, shown, &out, f);
            if (rc == 0)
                rc = sb_append(&out, "]", 1) == MXTLS_OK ? 0 : pm_oom(f);
            if (rc == 0 && c + 1 < n) {
                if (s[c + 1] != ':')
                    rc = pm_failf(f, c + 1, "unexpected text after \"]\" in destination \"%s\"",
                                  shown);
                else
                    rc = pm_port_norm(s + c + 2, n - c - 2, c + 2, shown, &out, f);
            }
        }
    } else if (n > 0 && s[0] == '.') {
        *kind = POLICYMAP_DEST_SUBDOMAINS;
        rc = sb_append(&out, ".", 1) == MXTLS_OK ? 0 : pm_oom(f);
        if (rc == 0)
            rc = pm_host_norm(s + 1, n - 1, 1, 1, shown, &out, f);
    } else {
        const char *colon = memchr(s, ':', n);
        size_t hn = colon ? (size_t)(colon - s) : n;
        *kind = colon ? POLICYMAP_DEST_NEXTHOP : POLICYMAP_DEST_DOMAIN;
        rc = pm_host_norm(s, hn, 0, 1, shown, &out, f);
        if (rc == 0 && colon)
            rc = pm_port_norm(s + hn + 1, n - hn - 1, hn + 1, shown, &out, f);
    }
    if (rc != 0) {
        sb_free(&out);
        return -1;
    }
    *norm = sb_take(&out);
    return *norm ? 0 : pm_oom(f);
}

/* ---- the map: entries and a hash index on the lookup form ------------- */

/* pm_hash - FNV-1a; keys are already case-folded */
static uint64_t pm_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* pm_find - the entry whose lookup form is exactly norm, or NULL */
static const mxtls_policy_entry *pm_find(const mxtls_policymap *m, const char *norm)
{
    if (m->nslots == 0)
        return NULL;
    size_t mask = m->nslots - 1;
    for (size_t i = (size_t)pm_hash(norm) & mask; m->slots[i]; i = (i + 1) & mask) {
        const mxtls_policy_entry *e = &m->v[m->slots[i] - 1];
        if (strcmp(e->norm, norm) == 0)
            return e;
    }
    return NULL;
}

/* pm_index_room - grow the hash index so that one more entry keeps it half empty */
static mxtls_status pm_index_room(mxtls_policymap *m)
{
    if ((m->n + 1) * 2 <= m->nslots)
        return MXTLS_OK;
    size_t ns = m->nslots ? m->nslots * 2 : 64;
    size_t *slots = calloc(ns, sizeof *slots);
    if (!slots)
        return MXTLS_ERR_NOMEM;
    for (size_t j = 0; j < m->nslots; j++) {
        if (!m->slots[j])
            continue;
        size_t k = (size_t)pm_hash(m->v[m->slots[j] - 1].norm) & (ns - 1);
        while (slots[k])
            k = (k + 1) & (ns - 1);
        slots[k] = m->slots[j];
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = ns;
    return MXTLS_OK;
}

/* pm_index - put entry idx into the hash index (room made by pm_index_room) */
static void pm_index(mxtls_policymap *m, size_t idx)
{
    size_t k = (size_t)pm_hash(m->v[idx].norm) & (m->nslots - 1);
    while (m->slots[k])
        k = (k + 1) & (m->nslots - 1);
    m->slots[k] = idx + 1;
}

/* pm_entry_free - release what an entry owns */
static void pm_entry_free(mxtls_policy_entry *e)
{
    free(e->key);
    free(e->norm);
    strlist_free(&e->match);
    free(e->match_raw);
    strlist_free(&e->tafile);
    free(e->tafile_raw);
    free(e->protocols);
    free(e->ciphers);
    free(e->exclude);
    free(e->servername);
    free(e->connection_reuse);
    free(e->enable_rpk);
}

/* mxtls_policymap_free - release a map and its entries; NULL is a no-op */
void mxtls_policymap_free(mxtls_policymap *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->n; i++)
        pm_entry_free(&map->v[i]);
    free(map->v);
    free(map->slots);
    free(map);
}


/* mxtls_policymap_count - number of entries */
size_t mxtls_policymap_count(const mxtls_policymap *map)
{
    return map ? map->n : 0;
}

/* policymap_entry_at - i-th entry in file order */
const mxtls_policy_entry *policymap_entry_at(const mxtls_policymap *map, size_t i)
{
    return map && i < map->n ? &map->v[i] : NULL;
}

/* ---- parsing ---------------------------------------------------------- */

/* pm_where - "name:LINE:COL" of logical offset off */
static void pm_where(const pm_parser *p, size_t off, char *where, size_t cap)
{
    size_t lo = 0, hi = p->nsegs; /* last segment with seg.off <= off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->segs[mid].off <= off)
            lo = mid;
        else
            hi = mid;
    }
    snprintf(where, cap, "%s:%zu:%zu", p->name, p->segs[lo].line, off - p->segs[lo].off + 1);
}

/* pm_error_lc - record an error at a physical line and column */
static mxtls_status pm_error_lc(pm_parser *p, mxtls_status code, size_t line, size_t col,
                                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static mxtls_status pm_error_lc(pm_parser *p, mxtls_status code, size_t line, size_t col,
                                const char *fmt, ...)
{
    char where[MXTLS_ERR_WHERE_MAX], msg[MXTLS_ERR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "%s:%zu:%zu", p->name, line, col);
    return err_set(&p->ctx->err, code, where, "%s", msg);
}

/* pm_error - record a parse error at logical offset off of the current entry */
static mxtls_status pm_error(pm_parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static mxtls_status pm_error(pm_parser *p, size_t off, const char *fmt, ...)
{
    char where[MXTLS_ERR_WHERE_MAX], msg[MXTLS_ERR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pm_where(p, off, where, sizeof where);
    return err_set(&p->ctx->err, MXTLS_ERR_PARSE, where, "%s", msg);
}

/* pm_nomem - record an allocation failure */
static mxtls_status pm_nomem(pm_parser *p)
{
    return err_set(&p->ctx->err, MXTLS_ERR_NOMEM, p->name, "out of memory");
}

/* pm_next_token - next separator-delimited token at or after *pos
 *
 * Braces group, as Postfix's mystrtokq() does: separators inside "{...}" do
 * not end a token. Returns 1 with [*start, *end), 0 at the end of the line,
 * -1 when a '{' is never closed (*start = its offset). */
static int pm_next_token(const char *s, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos, depth = 0, brace = 0;
    while (i < len && pm_sep(s[i]))
        i++;
    if (i == len)
        return 0;
    *start = i;
    for (; i < len; i++) {
        if (depth == 0 && pm_sep(s[i]))
            break;
        if (s[i] == '{') {
            if (depth++ == 0)
                brace = i;
        } else if (s[i] == '}' && depth > 0) {
            depth--;
        }
    }
    if (depth > 0) {
        *start = brace;
        return -1;
    }
    *end = *pos = i;
    return 1;
}

/* pm_attr_value - copy a value; whitespace inside "{ }" becomes one space each
 * (Postfix extpar() EXTPAR_FLAG_NORMAL_WS) */
static char *pm_attr_value(const char *s, size_t n)
{
    char *v = xstrndup(s, n);
    if (v)
        for (size_t i = 0; i < n; i++)
            if (pm_space(v[i]))
                v[i] = ' ';
    return v;
}

/* pm_set_once - store a value for an attribute Postfix allows once per policy */
static mxtls_status pm_set_once(pm_parser *p, char **slot, const char *name, size_t off,
                                const char *val, size_t vn)
{
    if (*slot)
        return pm_error(p, off, "attribute \"%s\" is specified more than once", name);
    *slot = pm_attr_value(val, vn);
    return *slot ? MXTLS_OK : pm_nomem(p);
}

/* pm_set_yesno - "yes" or "no" (any case); the last one wins, as in Postfix */
static mxtls_status pm_set_yesno(pm_parser *p, char **slot, const char *name, size_t voff,
                                 const char *val, size_t vn)
{
    char shown[PM_SHOW_BUF];
    if (!((vn == 3 && strncasecmp(val, "yes", 3) == 0) ||
          (vn == 2 && strncasecmp(val, "no", 2) == 0)))
        return pm_error(p, voff, "attribute \"%s\" must be \"yes\" or \"no\", not \"%s\"", name,
                        pm_show(shown, sizeof shown, val, vn));
    free(*slot);
    *slot = xstrndup(val, vn);
    return *slot ? MXTLS_OK : pm_nomem(p);
}

/* pm_fingerprint_ok - hex digest, optionally with ':' after each byte, at most
 * EVP_MAX_MD_SIZE (64) bytes (what Postfix's hex_decode(ALLOW_COLON) reads) */
static int pm_fingerprint_ok(const char *s, size_t n)
{
    size_t i = 0, bytes = 0;
    while (i < n) {
        if (i + 1 >= n || !pm_hex(s[i]) || !pm_hex(s[i + 1]))
            return 0;
        i += 2;
        bytes++;
        if (i < n && s[i] == ':')
            i++;
    }
    return bytes > 0 && bytes <= 64;
}

/* pm_add_match - split one match= value into the entry's match list
 *
 * postconf(5): with verify and secure, names and strategies are separated by
 * ':'; with fingerprint, digests by '|' (':' occurs inside digests). Several
 * match attributes accumulate. Empty items are skipped, as argv_split() does. */
static mxtls_status pm_add_match(pm_parser *p, mxtls_policy_entry *e, size_t voff, const char *val,
                                 size_t vn)
{
    int fp = e->level == MXTLS_LEVEL_FINGERPRINT;
    char sep = fp ? '|' : ':';
    size_t before = e->match.n;
    for (size_t i = 0; i <= vn;) {
        size_t j = i;
        while (j < vn && val[j] != sep)
            j++;
        if (j > i) {
            if (fp && !pm_fingerprint_ok(val + i, j - i)) {
                char shown[PM_SHOW_BUF];
                return pm_error(p, voff + i,
                                "invalid fingerprint \"%s\" in attribute \"match\" (expected hex "
                                "digits, optionally separated by \":\")",
                                pm_show(shown, sizeof shown, val + i, j - i));
            }
            if (strlist_addn(&e->match, val + i, j - i) != MXTLS_OK)
                return pm_nomem(p);
        }
        i = j + 1;
    }
    if (e->match.n == before)
        return pm_error(p, voff, "attribute \"match\" lists no %s", fp ? "fingerprints" : "names");
    /* Appended here, handed to the entry once it is complete: one entry may
     * have a hundred thousand match= continuation lines. */
    if ((p->match_raw.len && sb_append(&p->match_raw, &sep, 1) != MXTLS_OK) ||
        sb_append(&p->match_raw, val, vn) != MXTLS_OK)
        return pm_nomem(p);
    return MXTLS_OK;
}

/* pm_add_tafile - one more trust-anchor file (Postfix allows several) */
static mxtls_status pm_add_tafile(pm_parser *p, mxtls_policy_entry *e, const char *val, size_t vn)
{
    char *v = pm_attr_value(val, vn);
    mxtls_status st = MXTLS_ERR_NOMEM;
    if (v && strlist_add(&e->tafile, v) == MXTLS_OK &&
        (p->tafile_raw.len == 0 || sb_append(&p->tafile_raw, " ", 1) == MXTLS_OK))
        st = sb_append(&p->tafile_raw, v, vn);
    free(v);
    return st == MXTLS_OK ? MXTLS_OK : pm_nomem(p);
}

/* pm_level_allows - may this attribute appear at this level? (Postfix rejects
 * the policy - "client TLS configuration problem", mail deferred - when not) */
static int pm_level_allows(enum pm_attr a, mxtls_level level)
{
    switch (a) {
    case PM_MATCH: /* name or fingerprint matching levels only */
        return level == MXTLS_LEVEL_FINGERPRINT || level == MXTLS_LEVEL_VERIFY ||
               level == MXTLS_LEVEL_SECURE;
    case PM_TAFILE: /* TLS_MUST_PKIX: only where CA trust is used */
        return level == MXTLS_LEVEL_VERIFY || level == MXTLS_LEVEL_SECURE;
    default:
        return 1;
    }
}

/* pm_attribute - check one attribute token [a, b) and apply it to e */
static mxtls_status pm_attribute(pm_parser *p, mxtls_policy_entry *e, size_t a, size_t b)
{
    const char *s = p->text.s;
    char shown[PM_SHOW_BUF];
    size_t ns, ne, vs, ve; /* name and value ranges */

    if (s[a] == '{') {
        /* "{ name = value }": the group must be the whole token. */
        size_t depth = 0, m = a;
        for (; m < b; m++) {
            if (s[m] == '{')
                depth++;
            else if (s[m] == '}' && --depth == 0)
                break;
        }
        if (m + 1 != b)
            return pm_error(p, m + 1, "unexpected text after \"}\"");
        ns = a + 1;
        ve = m;
    } else {
        if (s[a] == '#')
            return pm_error(p, a, "\"#\" starts a comment only at the beginning of a line");
        ns = a;
        ve = b;
    }
    const char *eq = memchr(s + ns, '=', ve - ns);
    if (!eq) {
        return pm_error(p, a, "missing \"=\" in attribute \"%s\" (expected name=value)",
                        pm_show(shown, sizeof shown, s + a, b - a));
    }
    ne = (size_t)(eq - s);
    vs = ne + 1;
    while (ns < ne && pm_space(s[ns]))
        ns++;
    while (ne > ns && pm_space(s[ne - 1]))
        ne--;
    while (vs < ve && pm_space(s[vs]))
        vs++;
    while (ve > vs && pm_space(s[ve - 1]))
        ve--;
    if (ns == ne)
        return pm_error(p, a, "missing attribute name before \"=\"");

    enum pm_attr attr = PM_ATTR_COUNT;
    for (int i = 0; i < PM_ATTR_COUNT; i++)
        if (strlen(pm_attr_names[i]) == ne - ns &&
            strncasecmp(pm_attr_names[i], s + ns, ne - ns) == 0)
            attr = (enum pm_attr)i;
    if (attr == PM_ATTR_COUNT)
        return pm_error(p, a, "unknown attribute \"%s\"",
                        pm_show(shown, sizeof shown, s + ns, ne - ns));
    const char *name = pm_attr_names[attr];

    /* Postfix ignores every attribute with TLS disabled (it logs a warning);
     * mxtls checks the form and the name above, then ignores it too. */
    if (e->level == MXTLS_LEVEL_NONE)
        return MXTLS_OK;

    const char *val = s + vs;
    size_t vn = ve - vs;
    /* Postfix accepts an empty protocols= or exclude= (an empty list). */
    if (vn == 0 && attr != PM_PROTOCOLS && attr != PM_EXCLUDE &&
        !(attr == PM_TAFILE && !pm_level_allows(attr, e->level)))
        return pm_error(p, a, "attribute \"%s\" has an empty value", name);
    if (!pm_level_allows(attr, e->level))
        return pm_error(p, a, "attribute \"%s\" is not valid at security level \"%s\"", name,
                        mxtls_level_name(e->level));

    switch (attr) {
    case PM_MATCH:
        return pm_add_match(p, e, vs, val, vn);
    case PM_TAFILE:
        return pm_add_tafile(p, e, val, vn);
    case PM_PROTOCOLS:
        return pm_set_once(p, &e->protocols, name, a, val, vn);
    case PM_EXCLUDE:
        return pm_set_once(p, &e->exclude, name, a, val, vn);
    case PM_CIPHERS: {
        int known = 0;
        for (size_t i = 0; i < sizeof pm_cipher_grades / sizeof pm_cipher_grades[0]; i++)
            if (strlen(pm_cipher_grades[i]) == vn && strncasecmp(pm_cipher_grades[i], val, vn) == 0)
                known = 1;
        if (e->ciphers)
            return pm_error(p, a, "attribute \"%s\" is specified more than once", name);
        if (!known)
            return pm_error(p, vs,
                            "attribute \"ciphers\" must be a cipher grade (null, export, low, "
                            "medium, high), not \"%s\"",
                            pm_show(shown, sizeof shown, val, vn));
        return pm_set_once(p, &e->ciphers, name, a, val, vn);
    }
    case PM_SERVERNAME: {
        if (e->servername)
            return pm_error(p, a, "attribute \"%s\" is specified more than once", name);
        /* Postfix valid_hostname(): ASCII host name syntax. */
        strbuf tmp;
        pm_fail f;
        sb_init(&tmp, PM_NORM_MAX);
        int bad = pm_host_norm(val, vn, 0, 0, "", &tmp, &f);
        sb_free(&tmp);
        if (bad && f.code == MXTLS_ERR_NOMEM)
            return pm_nomem(p);
        if (bad || val[vn - 1] == '.')
            return pm_error(p, vs, "attribute \"servername\" is not a valid host name: \"%s\"",
                            pm_show(shown, sizeof shown, val, vn));
        return pm_set_once(p, &e->servername, name, a, val, vn);
    }
    case PM_CONNECTION_REUSE:
        return pm_set_yesno(p, &e->connection_reuse, name, vs, val, vn);
    case PM_ENABLE_RPK:
        return pm_set_yesno(p, &e->enable_rpk, name, vs, val, vn);
    case PM_ATTR_COUNT:
        break;
    }
    return MXTLS_OK;
}

/* pm_level - the security level token [a, b): Postfix's names, any case */
static mxtls_level pm_level(pm_parser *p, size_t a, size_t b)
{
    const char *s = p->text.s;
    char shown[PM_SHOW_BUF], low[24];
    size_t n = b - a;
    mxtls_level level = MXTLS_LEVEL_INVALID;
    if (n < sizeof low) {
        for (size_t i = 0; i < n; i++)
            low[i] = pm_lower(s[a + i]);
        low[n] = '\0';
        /* mxtls_level_from_name() also knows "dane_only" and the Cisco ESA
         * modes; a Postfix table knows neither (tls_level.c). */
        level = strcmp(low, "dane_only") == 0 ? MXTLS_LEVEL_INVALID : mxtls_level_from_name(low);
        if (level != MXTLS_LEVEL_INVALID && level > MXTLS_LEVEL_DANE_ONLY) {
            pm_error(p, a, "unknown level \"%s\" (Cisco ESA modes are not Postfix levels)",
                     pm_show(shown, sizeof shown, s + a, n));
            return MXTLS_LEVEL_INVALID;
        }
        if (strcmp(low, "dane_only") == 0) {
            pm_error(p, a, "unknown level \"%s\" (Postfix spells it \"dane-only\")",
                     pm_show(shown, sizeof shown, s + a, n));
            return MXTLS_LEVEL_INVALID;
        }
    }
    if (level == MXTLS_LEVEL_INVALID)
        pm_error(p, a, "unknown level \"%s\"", pm_show(shown, sizeof shown, s + a, n));
    return level;
}

/* pm_entry - parse the gathered logical line into a new entry */
static mxtls_status pm_entry(pm_parser *p)
{
    const char *s = p->text.s;
    size_t len = p->text.len;
    mxtls_policymap *m = p->map;
    char shown[PM_SHOW_BUF];
    sb_reset(&p->match_raw);
    sb_reset(&p->tafile_raw);
    mxtls_status st;
    pm_fail f;
    mxtls_policy_entry e;
    memset(&e, 0, sizeof e);
    e.line = p->segs[0].line;

    if (m->n >= MXTLS_POLICYMAP_MAX_ENTRIES)
        return pm_error_lc(p, MXTLS_ERR_LIMIT, e.line, 1, "more than %u entries",
                           MXTLS_POLICYMAP_MAX_ENTRIES);

    size_t kend = 0;
    while (kend < len && !pm_space(s[kend]))
        kend++;
    /* A UTF-8 byte order mark (an editor's, at the start of the file) is
     * part of the key for Postfix, whose keys are bytes: that entry matches
     * nothing. libidn2 would drop U+FEFF, so it is taken off before the
     * syntax check and put back on the normalised key, where no destination
     * can ever have it. */
    size_t bom = kend >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    if (pm_dest_parse(s + bom, kend - bom, &e.kind, &e.norm, &f) != 0)
        return f.code == MXTLS_ERR_NOMEM ? pm_nomem(p)
                                         : pm_error(p, f.off + bom, "%s", f.msg);
    if (bom) {
        size_t nl = strlen(e.norm);
        char *marked = malloc(nl + 4);
        if (!marked) {
            free(e.norm);
            return pm_nomem(p);
        }
        memcpy(marked, "\xef\xbb\xbf", 3);
        memcpy(marked + 3, e.norm, nl + 1);
        free(e.norm);
        e.norm = marked;
    }
    const mxtls_policy_entry *first = pm_find(m, e.norm);
    if (first) {
        free(e.norm);
        return pm_error(p, 0, "duplicate destination \"%s\" (first defined at line %zu)",
                        pm_show(shown, sizeof shown, s, kend), first->line);
    }
    e.key = xstrndup(s, kend);
    if (!e.key) {
        st = pm_nomem(p);
        goto fail;
    }

    size_t pos = kend, a, b;
    int t = pm_next_token(s, len, &pos, &a, &b);
    if (t == 0) {
        st = pm_error(p, kend, "destination \"%s\" has no security level",
                      pm_show(shown, sizeof shown, s, kend));
        goto fail;
    }
    if (t < 0) {
        st = pm_error(p, a, "missing \"}\"");
        goto fail;
    }
    size_t level_off = a;
    e.level = pm_level(p, a, b);
    if (e.level == MXTLS_LEVEL_INVALID) {
        st = p->ctx->err.code;
        goto fail;
    }
    while ((t = pm_next_token(s, len, &pos, &a, &b)) != 0) {
        if (t < 0) {
            st = pm_error(p, a, "missing \"}\"");
            goto fail;
        }
        if ((st = pm_attribute(p, &e, a, b)) != MXTLS_OK)
            goto fail;
    }
    /* Postfix falls back to main.cf smtp_tls_fingerprint_cert_match; mxtls
     * reads no main.cf, so such an entry could never match a certificate. */
    if (e.level == MXTLS_LEVEL_FINGERPRINT && e.match.n == 0) {
        st = pm_error(p, level_off, "security level \"fingerprint\" needs a match= attribute");
        goto fail;
    }

    /* match and tafile values are never empty, so text means "present". */
    if ((p->match_raw.len && !(e.match_raw = sb_take(&p->match_raw))) ||
        (p->tafile_raw.len && !(e.tafile_raw = sb_take(&p->tafile_raw)))) {
        st = pm_nomem(p);
        goto fail;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        mxtls_policy_entry *v = realloc(m->v, cap * sizeof *v);
        if (!v) {
            st = pm_nomem(p);
            goto fail;
        }
        m->v = v;
        m->cap = cap;
    }
    if (pm_index_room(m) != MXTLS_OK) {
        st = pm_nomem(p);
        goto fail;
    }
    m->v[m->n] = e;
    pm_index(m, m->n);
    m->n++;
    return MXTLS_OK;
fail:
    pm_entry_free(&e);
    return st;
}

/* pm_append - add physical line `line` to the logical line */
static mxtls_status pm_append(pm_parser *p, const char *s, size_t n, size_t line)
{
    if (p->nsegs == p->capsegs) {
        size_t cap = p->capsegs ? p->capsegs * 2 : 8;
        pm_seg *v = realloc(p->segs, cap * sizeof *v);
        if (!v)
            return pm_nomem(p);
        p->segs = v;
        p->capsegs = cap;
    }
    p->segs[p->nsegs].off = p->text.len;
    p->segs[p->nsegs].line = line;
    p->nsegs++;
    /* Postfix readlline() joins a continuation line as is: its leading
     * whitespace separates it from the text before. */
    if (sb_append(&p->text, s, n) != MXTLS_OK)
        return pm_nomem(p);
    return MXTLS_OK;
}

/* mxtls_policymap_parse - physical lines into logical lines into entries */
mxtls_policymap *mxtls_policymap_parse(mxtls_ctx *ctx, const char *text, size_t len,
                                       const char *name)
{
    if (!ctx)
        return NULL;
    err_clear(&ctx->err);
    if (!name)
        name = "policy map";
    if (!text && len) {
        err_set(&ctx->err, MXTLS_ERR_INVALID, name, "no text given");
        return NULL;
    }
    if (len > MXTLS_MAX_INPUT_FILE) {
        err_set(&ctx->err, MXTLS_ERR_LIMIT, name,
                "policy map is larger than the limit of %u bytes", MXTLS_MAX_INPUT_FILE);
        return NULL;
    }
    pm_parser p;
    memset(&p, 0, sizeof p);
    p.ctx = ctx;
    p.name = name;
    sb_init(&p.text, MXTLS_MAX_INPUT_FILE);
    sb_init(&p.match_raw, MXTLS_MAX_INPUT_FILE);
    sb_init(&p.tafile_raw, MXTLS_MAX_INPUT_FILE);
    p.map = calloc(1, sizeof *p.map);
    if (!p.map) {
        err_set(&ctx->err, MXTLS_ERR_NOMEM, name, "out of memory");
        return NULL;
    }

    mxtls_status st = MXTLS_OK;
    size_t pos = 0, line = 0;
    int gathering = 0; /* a logical line is being gathered */
    while (pos < len && st == MXTLS_OK) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        if (n > 0 && s[n - 1] == '\r')
            n--; /* CRLF; a bare CR elsewhere is whitespace, as for Postfix */
        size_t scan = n > MXTLS_POLICYMAP_MAX_LINE ? MXTLS_POLICYMAP_MAX_LINE + 1 : n;
        const char *nul = memchr(s, '\0', scan);
        if (nul) {
            st = pm_error_lc(&p, MXTLS_ERR_PARSE, line, (size_t)(nul - s) + 1, "%s",
                             "NUL byte in policy map");
            break;
        }
        if (n > MXTLS_POLICYMAP_MAX_LINE) {
            st = pm_error_lc(&p, MXTLS_ERR_LIMIT, line, MXTLS_POLICYMAP_MAX_LINE + 1,
                             "line is longer than %u bytes", MXTLS_POLICYMAP_MAX_LINE);
            break;
        }
        size_t i = 0;
        while (i < n && pm_space(s[i]))
            i++;
        if (i == n || s[i] == '#')
            continue; /* readlline(): skipped, and the logical line goes on */
        if (i > 0) {
            /* Postfix warns and drops such a line; mxtls refuses the map. */
            if (!gathering) {
                st = pm_error_lc(&p, MXTLS_ERR_PARSE, line, i + 1, "%s",
                                 "continuation line (starting with whitespace) without a "
                                 "destination before it");
                break;
            }
            st = pm_append(&p, s, n, line);
            continue;
        }
        if (gathering && (st = pm_entry(&p)) != MXTLS_OK)
            break;
        sb_reset(&p.text);
        p.nsegs = 0;
        gathering = 1;
        st = pm_append(&p, s, n, line);
    }
    if (st == MXTLS_OK && gathering)
        st = pm_entry(&p);

    sb_free(&p.text);
    sb_free(&p.match_raw);
    sb_free(&p.tafile_raw);
    free(p.segs);
    if (st != MXTLS_OK) {
        mxtls_policymap_free(p.map);
        return NULL;
    }
    return p.map;
}

/* ---- lookup and accessors -------------------------------------------- */

/* mxtls_policymap_lookup - exact key, then ".parent" keys for a bare domain
 * (Postfix smtp_tls_policy.c tls_policy_lookup()). "*" is no default: Postfix
 * never looks it up, so an entry "*" applies to no next hop. */
mxtls_status policymap_find(const mxtls_policymap *map, const char *destination,
                            const mxtls_policy_entry **out)
{
    *out = NULL;
    if (!map || !destination)
        return MXTLS_OK;
    size_t n = strnlen(destination, MXTLS_POLICYMAP_MAX_LINE + 1);
    policymap_dest_kind kind;
    char *norm = NULL;
    pm_fail f;
    const mxtls_policy_entry *e = NULL;
    /* A destination that is no valid next-hop cannot equal any (valid) key. */
    if (n > MXTLS_POLICYMAP_MAX_LINE)
        return MXTLS_OK;
    if (pm_dest_parse(destination, n, &kind, &norm, &f) != 0)
        return f.code == MXTLS_ERR_NOMEM ? MXTLS_ERR_NOMEM : MXTLS_OK;
    {
        e = pm_find(map, norm);
        /* postconf(5): only a bare domain walks up its parents as ".parent"
         * keys, nearest first; "example.com" itself never matches
         * ".example.com" (parent_domain_matches_subdomains does not list
         * smtp_tls_policy_maps). */
        if (!e && kind == POLICYMAP_DEST_DOMAIN)
            for (const char *d = strchr(norm + 1, '.'); d && !e; d = strchr(d + 1, '.'))
                e = pm_find(map, d);
        free(norm);
    }
    *out = e;
    return MXTLS_OK;
}

const mxtls_policy_entry *mxtls_policymap_lookup(const mxtls_policymap *map,
                                                 const char *destination)
{
    const mxtls_policy_entry *e;
    /* Out of memory looks like "no entry" here: the public API has no
     * context to say otherwise (policymap_find does). */
    return policymap_find(map, destination, &e) == MXTLS_OK ? e : NULL;
}

/* policymap_lint - what Postfix would do with the table that its author
 * probably does not expect; one "LINE\tKEY\tsentence" per finding, in file
 * order */
static mxtls_status policymap_lint(const mxtls_policymap *map, const char *fp_digest,
                                   strlist *out)
{
    char msg[1200];
    for (size_t i = 0; map && i < map->n; i++) {
        const mxtls_policy_entry *e = &map->v[i];
        int n = 0;
        strlist found = {0};
        if (!strncmp(e->norm, "\xef\xbb\xbf", 3))
            n += strlist_add(&found,
                             "the destination starts with a UTF-8 byte order mark: Postfix keeps "
                             "it as part of the key, so this entry matches no destination (save "
                             "the file without a BOM)") != MXTLS_OK;
        if (e->kind == POLICYMAP_DEST_DEFAULT)
            n += strlist_add(&found,
                             "\"*\" is not a default key in a Postfix TLS policy table: Postfix "
                             "looks up the next-hop destination and its parent domains "
                             "(\".parent\") only, so this entry applies to nothing; set the "
                             "default with smtp_tls_security_level in main.cf") != MXTLS_OK;
        unsigned excluded, floor, ceiling;
        err_rec er;
        err_clear(&er);
        if (e->protocols && e->level != MXTLS_LEVEL_NONE) {
            msg[0] = '\0';
            if (tlsparams_protocols(e->protocols, &excluded, &floor, &ceiling, &er) != 0)
                snprintf(msg, sizeof msg,
                         "protocols=%.100s: %s; Postfix cannot start TLS with it and defers the "
                         "mail",
                         e->protocols, er.message);
            else if (!(tlsparams_enabled(excluded, floor, ceiling) &
                       (TLSP_TLSv1_2 | TLSP_TLSv1_3)))
                snprintf(msg, sizeof msg,
                         "protocols=%.100s leaves neither TLS 1.2 nor TLS 1.3: TLS 1.0 and 1.1 "
                         "are obsolete (RFC 8996) and refused by current servers and OpenSSL "
                         "builds, so handshakes with this destination fail; remove protocols= "
                         "or use protocols=>=TLSv1.2",
                         e->protocols);
            if (msg[0])
                n += strlist_add(&found, msg) != MXTLS_OK;
        }
        /* Digests of another length than the sender computes never match. */
        for (size_t k = 0; fp_digest && e->level == MXTLS_LEVEL_FINGERPRINT && k < e->match.n; k++)
            if (fp_wrong_digest_advice(e->match.v[k], fp_digest, msg, sizeof msg))
                n += strlist_add(&found, msg) != MXTLS_OK;
        for (size_t k = 0; !n && k < found.n; k++) {
            /* the key as written, without the BOM it may start with */
            const char *key = strncmp(e->key, "\xef\xbb\xbf", 3) ? e->key : e->key + 3;
            /* keys are as long as a line may be: no fixed buffer (a cut line
             * would lose its sentence) */
            strbuf line;
            sb_init(&line, MXTLS_MAX_INPUT_FILE);
            char *text = sb_printf(&line, "%zu\t%s\t%s", e->line, key, found.v[k]) == MXTLS_OK
                             ? sb_take(&line)
                             : NULL;
            sb_free(&line);
            n += !text || strlist_add(out, text) != MXTLS_OK;
            free(text);
        }
        strlist_free(&found);
        if (n)
            return MXTLS_ERR_NOMEM;
    }
    return MXTLS_OK;
}

/* mxtls_policy_entry_key - the destination as written */
const char *mxtls_policy_entry_key(const mxtls_policy_entry *e)
{
    return e ? e->key : NULL;
}

/* mxtls_policy_entry_line - 1-based line of the key */
size_t mxtls_policy_entry_line(const mxtls_policy_entry *e)
{
    return e ? e->line : 0;
}

/* mxtls_policy_entry_level - the entry's security level */
mxtls_level mxtls_policy_entry_level(const mxtls_policy_entry *e)
{
    return e ? e->level : MXTLS_LEVEL_INVALID;
}

/* mxtls_policy_entry_attr - an attribute value as written, NULL when absent */
const char *mxtls_policy_entry_attr(const mxtls_policy_entry *e, const char *attr)
{
    if (!e || !attr)
        return NULL;
    const char *v[PM_ATTR_COUNT] = {
        [PM_MATCH] = e->match_raw,
        [PM_PROTOCOLS] = e->protocols,
        [PM_CIPHERS] = e->ciphers,
        [PM_EXCLUDE] = e->exclude,
        [PM_TAFILE] = e->tafile_raw,
        [PM_SERVERNAME] = e->servername,
        [PM_CONNECTION_REUSE] = e->connection_reuse,
        [PM_ENABLE_RPK] = e->enable_rpk,
    };
    for (int i = 0; i < PM_ATTR_COUNT; i++)
        if (strcasecmp(pm_attr_names[i], attr) == 0)
            return v[i];
    return NULL;
}

/* mxtls_policymap_warnings - policymap_lint's findings, one per line */
char *mxtls_policymap_warnings(mxtls_ctx *ctx, const mxtls_policymap *map,
                               const char *fingerprint_digest)
{
    strlist w = {0};
    strbuf b;
    sb_init(&b, MXTLS_MAX_INPUT_FILE);
    int bad = policymap_lint(map, fingerprint_digest, &w) != MXTLS_OK;
    for (size_t i = 0; !bad && i < w.n; i++)
        bad = sb_printf(&b, "%s\n", w.v[i]) != MXTLS_OK;
    strlist_free(&w);
    char *text = bad ? NULL : sb_take(&b);
    if (bad) {
        sb_free(&b);
        err_set(&ctx->err, MXTLS_ERR_NOMEM, "policy map", "out of memory");
    } else if (text && !*text) {
        free(text);
        text = NULL;
    }
    return text;
}
