/* mtasts.c - MTA-STS (RFC 8461): TXT record, policy text, MX patterns
 *
 * Every function works on (pointer, length): NUL bytes are data, never an end.
 * docs/mta-sts.md lists the rules and the behaviour where the RFC is silent. */
#include "core/mtasts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SHOW_MAX 40  /* bytes of untrusted input quoted in a message */
#define SHOW_BUF (SHOW_MAX * 4 + 8)

static int is_alpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static int is_wsp(unsigned char c) { return c == ' ' || c == '\t'; }
/* ext-name characters after the first: ALPHA / DIGIT / "_" / "-" / "." */
static int is_name_char(unsigned char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; }
/* sts-ext-value: %x21-3A / %x3C / %x3E-7E (printable, no '=', ';' or space) */
static int is_ext_value_char(unsigned char c) { return c >= 0x21 && c <= 0x7e && c != '=' && c != ';'; }

const char *mtasts_mode_name(mtasts_mode m)
{
    switch (m) {
    case MTASTS_MODE_ENFORCE: return "enforce";
    case MTASTS_MODE_TESTING: return "testing";
    case MTASTS_MODE_NONE: return "none";
    case MTASTS_MODE_UNSET: break;
    }
    return NULL;
}

mtasts_mode mtasts_mode_parse(const char *s)
{
    if (!s)
        return MTASTS_MODE_UNSET;
    if (!strcmp(s, "enforce"))
        return MTASTS_MODE_ENFORCE;
    if (!strcmp(s, "testing"))
        return MTASTS_MODE_TESTING;
    if (!strcmp(s, "none"))
        return MTASTS_MODE_NONE;
    return MTASTS_MODE_UNSET;
}

/* ---- TXT record ------------------------------------------------------ */

int mtasts_txt_is_sts(const char *buf, size_t len)
{
    return recerr_txt_has_version(buf, len, "v=STSv1");
}

void mtasts_txt_free(mtasts_txt *t)
{
    if (t)
        recerr_free(&t->errors);
}

/* txt_fail - record the error and mark the record unusable */
#define TXT_FAIL(col, rule, ...)                                    \
    do {                                                            \
        recerr_add(&out->errors, 1, (col), (rule), __VA_ARGS__);    \
        out->valid = 0;                                             \
        out->id[0] = '\0';                                          \
        return out->errors.nomem ? MXTLS_ERR_NOMEM : MXTLS_OK;      \
    } while (0)

mxtls_status mtasts_txt_parse(const char *buf, size_t len, mtasts_txt *out)
{
    const unsigned char *s = (const unsigned char *)buf;
    char show[SHOW_BUF];
    memset(out, 0, sizeof *out);
    /* sts-version = %s"v=STSv1" (case-sensitive), then a delimiter or the end */
    if (!mtasts_txt_is_sts(buf, len)) {
        recerr_show(buf, len < 12 ? len : 12, 12, show, sizeof show);
        TXT_FAIL(1, "txt-version",
                 "the record must begin with \"v=STSv1\" followed by \";\" (it begins \"%s\")", show);
    }
    size_t pos = 7;
    int have_id = 0, id_case = 0;
    while (pos < len) {
        /* sts-field-delim = *WSP ";" *WSP */
        size_t d = pos;
        while (pos < len && is_wsp(s[pos]))
            pos++;
        if (pos == len)
            TXT_FAIL(d + 1, "txt-syntax", "white space at the end of the record without a \";\"");
        if (s[pos] != ';') {
            recerr_show(buf + pos, len - pos, 1, show, sizeof show);
            TXT_FAIL(pos + 1, "txt-syntax", "expected \";\" between fields, found \"%s\"", show);
        }
        pos++;
        while (pos < len && is_wsp(s[pos]))
            pos++;
        if (pos == len)
            break; /* [sts-field-delim] at the end */
        /* sts-field = sts-id / sts-extension: name "=" value */
        size_t name = pos;
        if (!is_alnum(s[pos])) {
            recerr_show(buf + pos, len - pos, 1, show, sizeof show);
            TXT_FAIL(pos + 1, "txt-field-name",
                     "a field name must begin with a letter or digit, found \"%s\"", show);
        }
        while (pos < len && is_name_char(s[pos]))
            pos++;
        size_t nlen = pos - name;
        if (nlen > 32)
            TXT_FAIL(name + 1, "txt-field-name", "field name longer than 32 characters");
        if (pos == len || s[pos] != '=') {
            recerr_show(buf + name, nlen, SHOW_MAX, show, sizeof show);
            TXT_FAIL(pos + 1, "txt-syntax", "expected \"=\" after the field name \"%s\"", show);
        }
        pos++;
        size_t val = pos;
        while (pos < len && is_ext_value_char(s[pos]))
            pos++;
        size_t vlen = pos - val;
        if (pos < len && s[pos] != ';' && !is_wsp(s[pos])) {
            recerr_show(buf + pos, 1, 1, show, sizeof show);
            TXT_FAIL(pos + 1, "txt-field-value",
                     "byte \"%s\" is not allowed in a field value (printable ASCII except \"=\" and \";\")",
                     show);
        }
        if (vlen == 0)
            TXT_FAIL(val + 1, "txt-field-value", "empty field value");
        if (nlen == 2 && !memcmp(buf + name, "id", 2)) {
            /* sts-id = %s"id=" 1*32(ALPHA / DIGIT); a field named "id" is
             * always the id, never an extension (the ABNF would allow both) */
            if (have_id)
                TXT_FAIL(name + 1, "txt-id-duplicate", "more than one id field");
            if (vlen > MTASTS_ID_MAX)
                TXT_FAIL(val + 1, "txt-id-syntax", "the id is %zu characters long (at most 32)", vlen);
            for (size_t i = 0; i < vlen; i++)
                if (!is_alnum(s[val + i])) {
                    recerr_show(buf + val + i, 1, 1, show, sizeof show);
                    TXT_FAIL(val + i + 1, "txt-id-syntax",
                             "the id may hold only letters and digits, found \"%s\"", show);
                }
            memcpy(out->id, buf + val, vlen);
            out->id[vlen] = '\0';
            have_id = 1;
        } else {
            if (nlen == 2 && !strncasecmp(buf + name, "id", 2))
                id_case = 1;
            out->extensions++;
        }
    }
    if (!have_id) {
        recerr_add(&out->errors, 1, 0, "txt-id-missing", "the record has no id field%s",
                   id_case ? " (field names are case-sensitive: \"ID\" is not \"id\")" : "");
        out->valid = 0;
        return out->errors.nomem ? MXTLS_ERR_NOMEM : MXTLS_OK;
    }
    out->valid = 1;
    return MXTLS_OK;
}

mxtls_status mtasts_txt_select(const char *const *recs, const size_t *lens, size_t n,
                               mtasts_txt *out, size_t *which)
{
    size_t first, second;
    size_t count = recerr_txt_select(recs, lens, n, "v=STSv1", &first, &second);
    if (which)
        *which = (size_t)-1;
    if (count != 1) {
        memset(out, 0, sizeof *out);
        if (count == 0)
            recerr_add(&out->errors, 0, 0, "txt-none",
                       "none of the %zu TXT records begins with \"v=STSv1\": the domain has no "
                       "MTA-STS policy", n);
        else
            recerr_add(&out->errors, second + 1, 0, "txt-multiple",
                       "%zu TXT records begin with \"v=STSv1\" (records %zu and %zu at least): "
                       "exactly one is allowed, so the domain has no MTA-STS policy",
                       count, first + 1, second + 1);
        return out->errors.nomem ? MXTLS_ERR_NOMEM : MXTLS_OK;
    }
    mxtls_status st = mtasts_txt_parse(recs[first], lens[first], out);
    for (size_t i = 0; i < out->errors.n; i++)
        out->errors.v[i].line = first + 1;
    if (which)
        *which = first;
    return st;
}

/* ---- MX patterns ----------------------------------------------------- */

int mtasts_mx_pattern_valid(const char *p, size_t n, char *why, size_t whysz)
{
#define WHY(...) do { if (why && whysz) snprintf(why, whysz, __VA_ARGS__); return -1; } while (0)
    if (n > 0 && p[n - 1] == '.')
        n--; /* one trailing dot: the absolute form of the same name */
    if (n == 0)
        WHY("empty name");
    if (n > MXTLS_MAX_NAME)
        WHY("longer than %u bytes", MXTLS_MAX_NAME);
    size_t i = 0;
    if (n >= 2 && p[0] == '*' && p[1] == '.')
        i = 2;
    if (i == n)
        WHY("\"*.\" must be followed by a domain name");
    /* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
     * (RFC 5321 §4.1.2): labels of 1-63 letters, digits, hyphens, not
     * beginning or ending with a hyphen */
    while (i < n) {
        size_t start = i;
        while (i < n && p[i] != '.') {
            unsigned char c = (unsigned char)p[i];
            if (c == '*')
                WHY("\"*\" is allowed only as the whole first label (\"*.\")");
            if (!is_alnum(c) && c != '-')
                WHY("byte 0x%02x is not a letter, digit, hyphen or dot", c);
            i++;
        }
        size_t l = i - start;
        if (l == 0)
            WHY("empty label");
        if (l > 63)
            WHY("a label is longer than 63 bytes");
        if (p[start] == '-' || p[i - 1] == '-')
            WHY("a label begins or ends with a hyphen");
        if (i < n)
            i++; /* the dot */
        if (i == n && p[i - 1] == '.')
            WHY("empty label");
    }
    return 0;
#undef WHY
}

int mtasts_mx_pattern_match(const char *pattern, const char *host)
{
    if (!pattern || !host)
        return 0;
    size_t pn = strlen(pattern), hn = strlen(host);
    if (mtasts_mx_pattern_valid(pattern, pn, NULL, 0) != 0)
        return 0;
    if (pn > 0 && pattern[pn - 1] == '.')
        pn--;
    if (hn > 0 && host[hn - 1] == '.')
        hn--;
    if (hn == 0)
        return 0;
    if (pn >= 2 && pattern[0] == '*' && pattern[1] == '.') {
        /* "*.rest": exactly one non-empty label, then ".rest" (RFC 8461 §4.1) */
        const char *rest = pattern + 1; /* ".rest" */
        size_t rn = pn - 1;
        const char *dot = memchr(host, '.', hn);
        if (!dot || dot == host)
            return 0;
        size_t tail = hn - (size_t)(dot - host);
        return tail == rn && !strncasecmp(dot, rest, rn);
    }
    return hn == pn && !strncasecmp(host, pattern, pn);
}

int mtasts_mx_match(const strlist *patterns, const char *host, size_t *which)
{
    for (size_t i = 0; patterns && i < patterns->n; i++)
        if (mtasts_mx_pattern_match(patterns->v[i], host)) {
            if (which)
                *which = i;
            return 1;
        }
    return 0;
}

/* ---- policy ---------------------------------------------------------- */

void mtasts_policy_free(mtasts_policy *p)
{
    if (!p)
        return;
    strlist_free(&p->mx);
    recerr_free(&p->errors);
}

/* utf8_len - length of the well-formed UTF-8 sequence at s (at most n bytes
 * available), 0 if none (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF) */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t k;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return k;
}

/* policy_value_ok - the bytes of a value: VCHAR, inner SP/HTAB, or UTF-8
 * (sts-policy-ext-value, RFC 8461 §3.2); 0, or -1 after recording the error */
static int policy_value_ok(mtasts_policy *out, size_t lineno, size_t col0, const unsigned char *v,
                           size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = v[i];
        if ((c >= 0x21 && c <= 0x7e) || is_wsp(c)) {
            i++;
        } else if (c < 0x80) {
            recerr_add(&out->errors, lineno, col0 + i + 1, "policy-control-char",
                       "control byte \\x%02x in the value", c);
            return -1;
        } else {
            size_t k = utf8_len(v + i, n - i);
            if (k == 0) {
                recerr_add(&out->errors, lineno, col0 + i + 1, "policy-utf8",
                           "byte \\x%02x is not part of valid UTF-8", c);
                return -1;
            }
            i += k;
        }
    }
    return 0;
}

/* policy_line - one line (terminator removed) */
static void policy_line(mtasts_policy *out, size_t lineno, const char *line, size_t n,
                        size_t col0, int seen[3], int *mx_lines)
{
    const unsigned char *s = (const unsigned char *)line;
    char show[SHOW_BUF];
    if (n > MTASTS_POLICY_MAX_LINE) {
        recerr_add(&out->errors, lineno, 0, "policy-line-too-long",
                   "line of %zu bytes (at most %u)", n, MTASTS_POLICY_MAX_LINE);
        return;
    }
    const char *nul = memchr(line, '\0', n);
    if (nul) {
        recerr_add(&out->errors, lineno, col0 + (size_t)(nul - line) + 1, "policy-nul",
                   "NUL byte in the policy");
        return;
    }
    size_t i = 0;
    while (i < n && is_wsp(s[i]))
        i++;
    if (i == n)
        return; /* blank line: ignored */
    if (i > 0) {
        recerr_add(&out->errors, lineno, col0 + 1, "policy-line-syntax",
                   "white space before the field name");
        return;
    }
    /* sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
    if (!is_alnum(s[0])) {
        recerr_show(line, n, 1, show, sizeof show);
        recerr_add(&out->errors, lineno, col0 + 1, "policy-line-syntax",
                   "a line must be \"key: value\"; it begins with \"%s\"", show);
        return;
    }
    while (i < n && is_name_char(s[i]))
        i++;
    size_t klen = i;
    if (i == n || s[i] != ':') {
        recerr_show(line + i, n - i, 1, show, sizeof show);
        recerr_add(&out->errors, lineno, col0 + i + 1, "policy-line-syntax",
                   i == n ? "a line must be \"key: value\"; there is no \":\""
                          : "a line must be \"key: value\"; found \"%s\" after the key",
                   show);
        return;
    }
    if (klen > 32) {
        recerr_add(&out->errors, lineno, col0 + 1, "policy-line-syntax",
                   "field name longer than 32 characters");
        return;
    }
    i++; /* ':' */
    while (i < n && is_wsp(s[i]))
        i++;
    size_t v = i, vn = n;
    while (vn > v && is_wsp(s[vn - 1]))
        vn--;
    vn -= v;
    if (policy_value_ok(out, lineno, col0 + v, s + v, vn) != 0)
        return;
    size_t vcol = col0 + v + 1;
    recerr_show(line + v, vn, SHOW_MAX, show, sizeof show);
    /* Field names are case-sensitive; the first instance of every field but
     * mx counts, later ones are ignored (RFC 8461 §3.2). */
    if (klen == 7 && !memcmp(line, "version", 7)) {
        if (seen[0]++)
            return;
        if (vn == 5 && !memcmp(line + v, "STSv1", 5))
            out->has_version = 1;
        else
            recerr_add(&out->errors, lineno, vcol, "policy-version",
                       "version is \"%s\"; it must be \"STSv1\"", show);
    } else if (klen == 4 && !memcmp(line, "mode", 4)) {
        if (seen[1]++)
            return;
        char m[8] = "";
        if (vn < sizeof m) {
            memcpy(m, line + v, vn);
            m[vn] = '\0';
        }
        out->mode = mtasts_mode_parse(m);
        if (out->mode == MTASTS_MODE_UNSET)
            recerr_add(&out->errors, lineno, vcol, "policy-mode",
                       "mode is \"%s\"; it must be enforce, testing or none", show);
    } else if (klen == 7 && !memcmp(line, "max_age", 7)) {
        if (seen[2]++)
            return;
        /* sts-policy-max-age-value = 1*10(DIGIT) */
        int digits = vn >= 1 && vn <= 10;
        for (size_t k = 0; digits && k < vn; k++)
            digits = is_digit(s[v + k]);
        if (!digits) {
            recerr_add(&out->errors, lineno, vcol, "policy-max-age",
                       "max_age is \"%s\"; it must be 1 to 10 digits", show);
            return;
        }
        long long a = 0;
        for (size_t k = 0; k < vn; k++)
            a = a * 10 + (s[v + k] - '0');
        if (a > MTASTS_MAX_AGE_LIMIT) {
            recerr_add(&out->errors, lineno, vcol, "policy-max-age-range",
                       "max_age %lld is above the maximum %lld (one year)", a, MTASTS_MAX_AGE_LIMIT);
            return;
        }
        out->max_age = a;
    } else if (klen == 2 && !memcmp(line, "mx", 2)) {
        char why[96];
        (*mx_lines)++;
        if (mtasts_mx_pattern_valid(line + v, vn, why, sizeof why) != 0) {
            recerr_add(&out->errors, lineno, vcol, "policy-mx",
                       "mx \"%s\" is not a host name or \"*.\" and a host name: %s", show, why);
            return;
        }
        if (strlist_addn(&out->mx, line + v, vn) != MXTLS_OK)
            out->errors.nomem = 1;
    } else if (vn == 0) {
        /* unknown fields are ignored, but must still be "key: value" */
        recerr_add(&out->errors, lineno, vcol, "policy-line-syntax", "empty value");
    }
}

mxtls_status mtasts_policy_parse(const char *buf, size_t len, mtasts_policy *out)
{
    memset(out, 0, sizeof *out);
    out->max_age = -1;
    if (len > MTASTS_POLICY_MAX) {
        recerr_add(&out->errors, 0, 0, "policy-too-large",
                   "the policy is %zu bytes; at most %u are read", len, MTASTS_POLICY_MAX);
        return out->errors.nomem ? MXTLS_ERR_NOMEM : MXTLS_OK;
    }
    size_t pos = 0, lineno = 0, col0 = 0;
    if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
        /* The grammar has no place for a byte-order mark; a sender reading
         * "\xef\xbb\xbfversion" sees no version field. Reported, and the
         * rest is still checked so that every problem shows at once. */
        recerr_add(&out->errors, 1, 1, "policy-bom",
                   "the policy begins with a UTF-8 byte-order mark (EF BB BF), which RFC 8461 "
                   "does not allow before the first field");
        pos = col0 = 3;
    }
    int seen[3] = {0, 0, 0}, mx_lines = 0;
    while (pos < len) {
        lineno++;
        const char *lf = memchr(buf + pos, '\n', len - pos);
        size_t end = lf ? (size_t)(lf - buf) : len;
        size_t n = end - pos;
        if (lf && n > 0 && buf[end - 1] == '\r')
            n--; /* sts-policy-term = LF / CRLF */
        policy_line(out, lineno, buf + pos, n, col0, seen, &mx_lines);
        col0 = 0;
        pos = lf ? end + 1 : len;
    }
    out->lines = lineno;
    if (!seen[0])
        recerr_add(&out->errors, 0, 0, "policy-version-missing", "no \"version: STSv1\" line");
    if (!seen[1])
        recerr_add(&out->errors, 0, 0, "policy-mode-missing", "no \"mode:\" line");
    if (!seen[2])
        recerr_add(&out->errors, 0, 0, "policy-max-age-missing", "no \"max_age:\" line");
    if (mx_lines == 0 && (out->mode == MTASTS_MODE_ENFORCE || out->mode == MTASTS_MODE_TESTING))
        recerr_add(&out->errors, 0, 0, "policy-mx-missing",
                   "mode %s needs at least one \"mx:\" line", mtasts_mode_name(out->mode));
    if (out->errors.nomem)
        return MXTLS_ERR_NOMEM;
    out->valid = recerr_count(&out->errors) == 0;
    return MXTLS_OK;
}
