/* tlsrpt.c - SMTP TLS Reporting (RFC 8460 §3): the _smtp._tls TXT record
 *
 * The grammar (RFC 8460 §3):
 *   tlsrpt-record  = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
 *   field-delim    = *WSP ";" *WSP
 *   tlsrpt-field   = tlsrpt-rua / tlsrpt-extension      ; rua is required
 *   tlsrpt-version = %s"v=TLSRPTv1"
 *   tlsrpt-rua     = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   tlsrpt-uri     = URI    ; RFC 3986; "," and "!" MUST be encoded
 *   tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *   tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 * Unlike DMARC's rua (RFC 7489 §6.2), there is no "!size" suffix: a "!" in a
 * URI is an error. Only mailto: and https: are defined (§3). */
#include "core/tlsrpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mtasts.h"

#define SHOW_BUF 200

static int is_alpha(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }
static int is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int is_wsp(unsigned char c) { return c == ' ' || c == '\t'; }
static int is_name_char(unsigned char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; }
static int is_ext_value_char(unsigned char c) { return c >= 0x21 && c <= 0x7e && c != '=' && c != ';'; }
/* RFC 3986 characters that may appear literally in a URI (unreserved,
 * gen-delims, sub-delims); '%' is checked separately */
static int is_uri_char(unsigned char c)
{
    return is_alnum(c) || (c && strchr("-._~:/?#[]@!$&'()*+,;=", c) != NULL);
}

int tlsrpt_is_tlsrpt(const char *buf, size_t len)
{
    return recerr_txt_has_version(buf, len, "v=TLSRPTv1");
}

void tlsrpt_free(tlsrpt_record *r)
{
    if (!r)
        return;
    strlist_free(&r->rua);
    recerr_free(&r->errors);
}

#define URI_FAIL(r, off, ...)                                  \
    do {                                                       \
        *rule = (r);                                           \
        *at = (off);                                           \
        if (why && whysz)                                      \
            snprintf(why, whysz, __VA_ARGS__);                 \
        return -1;                                             \
    } while (0)

/* uri_host - a host name (LDH, RFC 5321 Domain; IPv4 dotted quads pass this
 * too) of n bytes; 0 or -1 with the reason in why */
static int uri_host(const char *h, size_t n, char *why, size_t whysz)
{
    if (n >= 1 && h[0] == '*') {
        snprintf(why, whysz, "\"*\" in a host name");
        return -1;
    }
    if (n > 0 && h[n - 1] == '.') {
        snprintf(why, whysz, "the host name ends with a dot");
        return -1;
    }
    return mtasts_mx_pattern_valid(h, n, why, whysz);
}

int tlsrpt_uri_check(const char *u, size_t n, const char **rule, size_t *at, char *why,
                     size_t whysz)
{
    const unsigned char *s = (const unsigned char *)u;
    char hw[96];
    if (n == 0)
        URI_FAIL("tlsrpt-uri-syntax", 0, "empty URI");
    /* characters first: whatever the scheme, a URI is RFC 3986 text */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '!')
            URI_FAIL("tlsrpt-uri-unencoded", i,
                     "\"!\" must be percent-encoded (%%21) in a TLSRPT URI; RFC 8460 has no "
                     "\"!size\" suffix (that is DMARC's)");
        if (c == ',')
            URI_FAIL("tlsrpt-uri-unencoded", i, "\",\" must be percent-encoded (%%2C)");
        if (c == '%') {
            if (i + 2 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                URI_FAIL("tlsrpt-uri-syntax", i, "\"%%\" is not followed by two hex digits");
            i += 2;
            continue;
        }
        if (!is_uri_char(c))
            URI_FAIL("tlsrpt-uri-syntax", i, "byte \\x%02x is not allowed in a URI", c);
    }
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    size_t k = 0;
    while (k < n && (is_alnum(s[k]) || s[k] == '+' || s[k] == '-' || s[k] == '.'))
        k++;
    if (k == 0 || k == n || s[k] != ':' || !is_alpha(s[0]))
        URI_FAIL("tlsrpt-uri-syntax", 0, "not a URI (no scheme such as \"mailto:\" or \"https:\")");
    if (k == 6 && !strncasecmp(u, "mailto", 6)) {
        /* mailto:local@domain[?hfields] (RFC 6068); one address, since a
         * second one would need an unencoded "," */
        size_t a = 7, end = a;
        while (end < n && s[end] != '?')
            end++;
        const char *atp = memchr(u + a, '@', end - a);
        if (!atp)
            URI_FAIL("tlsrpt-uri-mailto", a, "a mailto: URI needs an address local@domain");
        size_t at_i = (size_t)(atp - u);
        if (at_i == a)
            URI_FAIL("tlsrpt-uri-mailto", a, "the address has an empty local part");
        if (memchr(atp + 1, '@', end - at_i - 1))
            URI_FAIL("tlsrpt-uri-mailto", at_i, "the address has more than one \"@\"");
        if (uri_host(atp + 1, end - at_i - 1, hw, sizeof hw) != 0)
            URI_FAIL("tlsrpt-uri-mailto", at_i + 1, "the address's domain is not a host name: %s", hw);
        return 0;
    }
    if (k == 5 && !strncasecmp(u, "https", 5)) {
        /* https://authority[/path][?query][#fragment] (RFC 9110 §4.2.2: the
         * host must not be empty) */
        if (n < 8 || s[6] != '/' || s[7] != '/')
            URI_FAIL("tlsrpt-uri-https", 6, "an https: URI must continue with \"//\" and a host");
        size_t a = 8, end = a;
        while (end < n && s[end] != '/' && s[end] != '?' && s[end] != '#')
            end++;
        const char *userinfo = memchr(u + a, '@', end - a);
        if (userinfo)
            URI_FAIL("tlsrpt-uri-https", (size_t)(userinfo - u),
                     "user information (\"user@\") in an https: reporting URI");
        size_t h = a, hend = end;
        if (h < end && s[h] == '[') {
            const char *rb = memchr(u + h, ']', end - h);
            if (!rb)
                URI_FAIL("tlsrpt-uri-https", h, "\"[\" without \"]\" in the host");
            for (size_t i = h + 1; i < (size_t)(rb - u); i++)
                if (!is_hex(s[i]) && s[i] != ':' && s[i] != '.')
                    URI_FAIL("tlsrpt-uri-https", i, "an IP literal holds hex digits, \":\" and \".\" only");
            hend = (size_t)(rb - u) + 1;
            if (hend == h + 2)
                URI_FAIL("tlsrpt-uri-https", h, "empty IP literal");
        } else {
            const char *colon = memchr(u + h, ':', end - h);
            if (colon)
                hend = (size_t)(colon - u);
            if (hend == h)
                URI_FAIL("tlsrpt-uri-https", h, "an https: URI needs a host");
            if (uri_host(u + h, hend - h, hw, sizeof hw) != 0)
                URI_FAIL("tlsrpt-uri-https", h, "the host is not a host name: %s", hw);
        }
        if (hend < end) {
            if (s[hend] != ':')
                URI_FAIL("tlsrpt-uri-https", hend, "unexpected byte after the host");
            size_t p = hend + 1;
            unsigned long port = 0;
            if (p == end || end - p > 5)
                URI_FAIL("tlsrpt-uri-https", p, "the port must be 1 to 5 digits");
            for (size_t i = p; i < end; i++) {
                if (!is_digit(s[i]))
                    URI_FAIL("tlsrpt-uri-https", i, "the port must be digits");
                port = port * 10 + (unsigned long)(s[i] - '0');
            }
            if (port == 0 || port > 65535)
                URI_FAIL("tlsrpt-uri-https", p, "port %lu is out of range", port);
        }
        return 0;
    }
    URI_FAIL("tlsrpt-uri-scheme", 0,
             "scheme \"%.*s\" is not mailto: or https: (the only ones RFC 8460 §3 defines)",
             (int)(k > 20 ? 20 : k), u);
}

#define REC_FAIL(col, rule, ...)                                    \
    do {                                                            \
        recerr_add(&out->errors, 1, (col), (rule), __VA_ARGS__);    \
        out->valid = 0;                                             \
        strlist_free(&out->rua);                                    \
        return out->errors.nomem ? MXTLS_ERR_NOMEM : MXTLS_OK;      \
    } while (0)

mxtls_status tlsrpt_parse(const char *buf, size_t len, tlsrpt_record *out)
{
    const unsigned char *s = (const unsigned char *)buf;
    char show[SHOW_BUF];
    memset(out, 0, sizeof *out);
    if (!tlsrpt_is_tlsrpt(buf, len)) {
        recerr_show(buf, len < 14 ? len : 14, 14, show, sizeof show);
        REC_FAIL(1, "tlsrpt-version",
                 "the record must begin with \"v=TLSRPTv1\" followed by \";\" (it begins \"%s\")",
                 show);
    }
    size_t pos = 10;
    int have_rua = 0;
    while (pos < len) {
        size_t d = pos;
        while (pos < len && is_wsp(s[pos]))
            pos++;
        if (pos == len)
            REC_FAIL(d + 1, "tlsrpt-syntax", "white space at the end of the record without a \";\"");
        if (s[pos] != ';') {
            recerr_show(buf + pos, len - pos, 1, show, sizeof show);
            REC_FAIL(pos + 1, "tlsrpt-syntax", "expected \";\" between fields, found \"%s\"", show);
        }
        pos++;
        while (pos < len && is_wsp(s[pos]))
            pos++;
        if (pos == len)
            break;
        size_t name = pos;
        if (!is_alnum(s[pos])) {
            recerr_show(buf + pos, len - pos, 1, show, sizeof show);
            REC_FAIL(pos + 1, "tlsrpt-field-name",
                     "a field name must begin with a letter or digit, found \"%s\"", show);
        }
        while (pos < len && is_name_char(s[pos]))
            pos++;
        size_t nlen = pos - name;
        if (nlen > 32)
            REC_FAIL(name + 1, "tlsrpt-field-name", "field name longer than 32 characters");
        if (pos == len || s[pos] != '=') {
            recerr_show(buf + name, nlen, 40, show, sizeof show);
            REC_FAIL(pos + 1, "tlsrpt-syntax", "expected \"=\" after the field name \"%s\"", show);
        }
        pos++;
        if (nlen == 3 && !memcmp(buf + name, "rua", 3)) {
            if (have_rua)
                REC_FAIL(name + 1, "tlsrpt-rua-duplicate", "more than one rua field");
            have_rua = 1;
            for (;;) {
                size_t u = pos;
                while (pos < len && s[pos] != ',' && s[pos] != ';' && !is_wsp(s[pos]))
                    pos++;
                const char *rule = NULL;
                size_t at = 0;
                char why[RECERR_MESSAGE_MAX - 40];
                if (tlsrpt_uri_check(buf + u, pos - u, &rule, &at, why, sizeof why) != 0)
                    REC_FAIL(u + at + 1, rule, "%s", why);
                if (out->rua.n >= TLSRPT_MAX_RUA)
                    REC_FAIL(u + 1, "tlsrpt-rua-count", "more than %u rua URIs", TLSRPT_MAX_RUA);
                if (strlist_addn(&out->rua, buf + u, pos - u) != MXTLS_OK) {
                    out->errors.nomem = 1;
                    REC_FAIL(u + 1, "tlsrpt-rua-count", "out of memory");
                }
                size_t w = pos;
                while (w < len && is_wsp(s[w]))
                    w++;
                if (w < len && s[w] == ',') {
                    pos = w + 1;
                    while (pos < len && is_wsp(s[pos]))
                        pos++;
                    continue;
                }
                if (w < len && s[w] != ';') {
                    recerr_show(buf + w, len - w, 1, show, sizeof show);
                    REC_FAIL(w + 1, "tlsrpt-syntax",
                             "expected \",\" or \";\" after a URI, found \"%s\"", show);
                }
                break; /* pos at the white space, ';' or end: the delimiter loop goes on */
            }
        } else {
            size_t val = pos;
            while (pos < len && is_ext_value_char(s[pos]))
                pos++;
            if (pos < len && s[pos] != ';' && !is_wsp(s[pos])) {
                recerr_show(buf + pos, 1, 1, show, sizeof show);
                REC_FAIL(pos + 1, "tlsrpt-field-value",
                         "byte \"%s\" is not allowed in a field value (printable ASCII except "
                         "\"=\" and \";\")", show);
            }
            if (pos == val)
                REC_FAIL(val + 1, "tlsrpt-field-value", "empty field value");
            out->extensions++;
        }
    }
    if (!have_rua)
        REC_FAIL(0, "tlsrpt-rua-missing", "the record has no rua field");
    out->valid = 1;
    return MXTLS_OK;
}

mxtls_status tlsrpt_select(const char *const *recs, const size_t *lens, size_t n,
                           tlsrpt_record *out, size_t *which)
{
    size_t first, second;
    size_t count = recerr_txt_select(recs, lens, n, "v=TLSRPTv1", &first, &second);
    if (which)
        *which = (size_t)-1;
    if (count != 1) {
        memset(out, 0, sizeof *out);
        if (count == 0)
            recerr_add(&out->errors, 0, 0, "tlsrpt-none",
                       "none of the %zu TXT records begins with \"v=TLSRPTv1\": the domain "
                       "requests no TLS reports", n);
        else
            recerr_add(&out->errors, second + 1, 0, "tlsrpt-multiple",
                       "%zu TXT records begin with \"v=TLSRPTv1\" (records %zu and %zu at least): "
                       "exactly one is allowed, so the domain requests no TLS reports",
                       count, first + 1, second + 1);
        return out->errors.nomem ? MXTLS_ERR_NOMEM : MXTLS_OK;
    }
    mxtls_status st = tlsrpt_parse(recs[first], lens[first], out);
    for (size_t i = 0; i < out->errors.n; i++)
        out->errors.v[i].line = first + 1;
    if (which)
        *which = first;
    return st;
}
