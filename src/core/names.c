/* names.c - DNS names: normalisation, presented identities, matching via OpenSSL */
#include "core/names.h"
#include "core/osslerr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <idn2.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* names_escape - display form of untrusted bytes; caller frees */
char *names_escape(const unsigned char *s, size_t n)
{
    char *out = malloc(n * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            static const char hex[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* names_shown - a name in an error message: escaped (names_escape), at most
 * NAMES_MAX_SHOWN bytes of it, then "..." */
static char *names_shown(const unsigned char *s, size_t n)
{
    char *esc = names_escape(s, n > NAMES_MAX_SHOWN ? NAMES_MAX_SHOWN : n);
    if (!esc || n <= NAMES_MAX_SHOWN)
        return esc;
    size_t l = strlen(esc);
    char *out = realloc(esc, l + 4);
    if (!out) {
        free(esc);
        return NULL;
    }
    memcpy(out + l, "...", 4);
    return out;
}

static int names_check_ldh_shown(const char *s, err_rec *e, const char *orig);

/* names_check_ldh - label syntax of an A-label name (no leading dot); the
 * name in messages is escaped (it may hold any byte) */
static int names_check_ldh(const char *s, err_rec *e, const char *orig)
{
    if (names_check_ldh_shown(s, NULL, "") == 0)
        return 0;
    char *shown = names_shown((const unsigned char *)orig, strlen(orig));
    if (!shown)
        return err_set(e, MXTLS_ERR_NOMEM, "name", "out of memory"), -1;
    int rc = names_check_ldh_shown(s, e, shown);
    free(shown);
    return rc;
}

static int names_check_ldh_shown(const char *s, err_rec *e, const char *orig)
{
    size_t len = strlen(s);
    if (len == 0)
        return err_set(e, MXTLS_ERR_INVALID, "name", "empty name"), -1;
    if (len > MXTLS_MAX_NAME)
        return err_set(e, MXTLS_ERR_INVALID, "name",
                       "name \"%s\" is longer than %d characters", orig, MXTLS_MAX_NAME),
               -1;
    const char *label = s;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t ll = (size_t)(p - label);
            if (ll == 0)
                return err_set(e, MXTLS_ERR_INVALID, "name", "name \"%s\" has an empty label",
                               orig),
                       -1;
            if (ll > 63)
                return err_set(e, MXTLS_ERR_INVALID, "name",
                               "name \"%s\" has a label longer than 63 characters", orig),
                       -1;
            if (label[0] == '-' || p[-1] == '-')
                return err_set(e, MXTLS_ERR_INVALID, "name",
                               "name \"%s\": a label may not start or end with '-'", orig),
                       -1;
            if (*p == '\0')
                break;
            label = p + 1;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || c == '-' || c == '_'))
            return (isprint(c) ? err_set(e, MXTLS_ERR_INVALID, "name",
                                         "name \"%s\" contains '%c', which is not allowed "
                                         "in a host name",
                                         orig, c)
                               : err_set(e, MXTLS_ERR_INVALID, "name",
                                         "name \"%s\" contains the byte 0x%02x, which is "
                                         "not allowed in a host name",
                                         orig, c)),
                   -1;
    }
    return 0;
}

char *names_normalize(const char *in, int allow_dot_prefix, err_rec *e)
{
    if (!in)
        return err_set(e, MXTLS_ERR_INVALID, "name", "no name given"), NULL;
    size_t n = strnlen(in, 4 * MXTLS_MAX_NAME + 2);
    if (n > 4 * MXTLS_MAX_NAME)
        return err_set(e, MXTLS_ERR_INVALID, "name", "name is far too long"), NULL;
    int dot = allow_dot_prefix && n > 0 && in[0] == '.';
    const char *body = in + dot;
    size_t blen = n - (size_t)dot;
    if (blen > 0 && body[blen - 1] == '.')
        blen--; /* one trailing dot: absolute form of the same name */
    char *tmp = xstrndup(body, blen);
    if (!tmp)
        return err_set(e, MXTLS_ERR_NOMEM, "name", "out of memory"), NULL;

    int ascii = 1;
    for (size_t i = 0; i < blen; i++)
        if ((unsigned char)tmp[i] >= 0x80)
            ascii = 0;
    char *alabel = NULL;
    if (ascii) {
        for (size_t i = 0; i < blen; i++)
            tmp[i] = (char)tolower((unsigned char)tmp[i]);
        alabel = tmp;
        tmp = NULL;
    } else {
        /* IDNA2008 first (what current mail software does); UTS#46
         * transitional processing as a fallback for names IDNA2008 rejects. */
        char *out = NULL;
        int rc = idn2_to_ascii_8z(tmp, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK)
            rc = idn2_to_ascii_8z(tmp, &out, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
        char *shown = rc != IDN2_OK ? names_shown((const unsigned char *)tmp, blen) : NULL;
        if (rc == IDN2_MALLOC || (rc != IDN2_OK && !shown)) {
            free(shown);
            free(tmp);
            return err_set(e, MXTLS_ERR_NOMEM, "name", "out of memory"), NULL;
        }
        if (rc != IDN2_OK) {
            err_set(e, MXTLS_ERR_INVALID, "name", "\"%s\" is not a valid internationalised name: %s",
                    shown, idn2_strerror(rc));
            free(shown);
            free(tmp);
            return NULL;
        }
        free(tmp);
        tmp = NULL;
        alabel = strdup(out);
        idn2_free(out);
        if (!alabel)
            return err_set(e, MXTLS_ERR_NOMEM, "name", "out of memory"), NULL;
        for (char *p = alabel; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    if (names_check_ldh(alabel, e, alabel) != 0) {
        free(alabel);
        return NULL;
    }
    if (!dot)
        return alabel;
    size_t al = strlen(alabel);
    char *withdot = malloc(al + 2);
    if (!withdot) {
        free(alabel);
        return err_set(e, MXTLS_ERR_NOMEM, "name", "out of memory"), NULL;
    }
    withdot[0] = '.';
    memcpy(withdot + 1, alabel, al + 1);
    free(alabel);
    return withdot;
}

char *names_sni(const char *in, err_rec *e)
{
    char *n = names_normalize(in, 0, e);
    if (!n)
        return NULL;
    unsigned char bin[16];
    if (inet_pton(AF_INET, n, bin) == 1 || inet_pton(AF_INET6, n, bin) == 1) {
        err_set(e, MXTLS_ERR_INVALID, "sni",
                "\"%s\" is an address: SNI carries host names only (RFC 6066 §3)", n);
        free(n);
        return NULL;
    }
    return n;
}

char *names_to_unicode(const char *alabel)
{
    if (!alabel || !strstr(alabel, "xn--"))
        return NULL;
    char *out = NULL;
    if (idn2_to_unicode_8z8z(alabel, &out, 0) != IDN2_OK)
        return NULL;
    char *copy = strdup(out);
    idn2_free(out);
    return copy;
}

/* names_sans - the subjectAltName extension decoded (caller frees; NULL
 * when there is none, or it cannot be decoded); -1 when OpenSSL ran out of
 * memory decoding it */
static int names_sans(X509 *cert, GENERAL_NAMES **out)
{
    int crit = -1;
    ERR_clear_error();
    *out = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    /* crit >= 0: the extension exists but was not decoded */
    if (!*out && crit >= 0 && osslerr_nomem()) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int names_has_dns_san(X509 *cert)
{
    GENERAL_NAMES *gens;
    if (names_sans(cert, &gens) != 0)
        return -1;
    int found = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++)
        if (sk_GENERAL_NAME_value(gens, i)->type == GEN_DNS)
            found = 1;
    GENERAL_NAMES_free(gens);
    return found;
}

char *names_presented_text(const unsigned char *s, size_t n)
{
    strbuf b;
    sb_init(&b, 3 * NAMES_MAX_PRESENTED + 64);
    size_t i = 0;
    int bad = 0;
    while (i < n && !bad) {
        size_t k = utf8_seq_len(s + i, n - i);
        if (i + (k ? k : 1) > NAMES_MAX_PRESENTED)
            break;
        if (k == 0 || s[i] == 0) {
            bad = sb_append(&b, "\xef\xbf\xbd", 3) != MXTLS_OK; /* U+FFFD */
            i++;
        } else {
            bad = sb_append(&b, (const char *)s + i, k) != MXTLS_OK;
            i += k;
        }
    }
    if (!bad && i < n)
        bad = sb_printf(&b, "...(%zu bytes)", n) != MXTLS_OK;
    if (bad) { /* a name cut short would be a different name */
        sb_free(&b);
        return NULL;
    }
    return sb_take(&b);
}

static mxtls_status names_add_escaped(strlist *l, const unsigned char *s, size_t n)
{
    char *esc = names_presented_text(s, n);
    if (!esc)
        return MXTLS_ERR_NOMEM;
    mxtls_status st = strlist_add(l, esc);
    free(esc);
    return st;
}

mxtls_status names_presented(X509 *cert, presented_ids *out)
{
    mxtls_status st = MXTLS_OK;
    GENERAL_NAMES *gens;
    if (names_sans(cert, &gens) != 0)
        return MXTLS_ERR_NOMEM;
    for (int i = 0; st == MXTLS_OK && gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            st = names_add_escaped(&out->dns, ASN1_STRING_get0_data(g->d.dNSName),
                                   (size_t)ASN1_STRING_length(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char buf[INET6_ADDRSTRLEN];
            int len = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
            if (len == 4 && inet_ntop(AF_INET, d, buf, sizeof buf))
                st = strlist_add(&out->ip, buf);
            else if (len == 16 && inet_ntop(AF_INET6, d, buf, sizeof buf))
                st = strlist_add(&out->ip, buf);
            else {
                char *esc = names_escape(d, len > 0 && len <= 64 ? (size_t)len : 0);
                st = esc ? strlist_add(&out->ip, esc) : MXTLS_ERR_NOMEM;
                free(esc);
            }
        }
    }
    GENERAL_NAMES_free(gens);
    X509_NAME *subj = X509_get_subject_name(cert);
    for (int j = -1; st == MXTLS_OK && subj &&
                     (j = X509_NAME_get_index_by_NID(subj, NID_commonName, j)) >= 0;) {
        ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, j));
        unsigned char *utf8 = NULL;
        ERR_clear_error();
        int len = ASN1_STRING_to_UTF8(&utf8, v);
        if (len < 0 && osslerr_nomem()) {
            ERR_clear_error();
            st = MXTLS_ERR_NOMEM;
            continue;
        }
        if (len < 0) {
            st = strlist_add(&out->cn, "(undecodable CN)");
            continue;
        }
        st = names_add_escaped(&out->cn, utf8, (size_t)len);
        OPENSSL_free(utf8);
    }
    return st;
}

void presented_ids_free(presented_ids *p)
{
    strlist_free(&p->dns);
    strlist_free(&p->ip);
    strlist_free(&p->cn);
}

/* names_check_host - X509_check_host with our fixed wildcard rules */
static int names_check_host(X509 *cert, const char *ref, unsigned int flags, char **matched)
{
    char *peer = NULL;
    flags |= X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
    ERR_clear_error();
    int rc = X509_check_host(cert, ref, strlen(ref), flags, &peer);
    if (rc != 1) {
        OPENSSL_free(peer);
        /* -1 is also a presented name OpenSSL cannot convert to UTF-8 (a CN
         * of an odd string type): that name matches nothing. Only out of
         * memory is an error; -2 is bad input. */
        return rc == -1 && osslerr_nomem() ? -1 : 0;
    }
    if (matched)
        *matched = peer ? strdup(peer) : strdup(ref);
    OPENSSL_free(peer);
    return 1;
}

int names_match_san(X509 *cert, const char *ref, char **matched)
{
    return names_check_host(cert, ref, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, matched);
}

int names_match_cn(X509 *cert, const char *ref, char **matched)
{
    /* Match each CN alone: a throw-away certificate whose subject is just that
     * CN and which has no SAN, so OpenSSL's matcher (not ours) decides. */
    X509_NAME *subj = X509_get_subject_name(cert);
    for (int j = -1; subj && (j = X509_NAME_get_index_by_NID(subj, NID_commonName, j)) >= 0;) {
        X509 *tmp = X509_new();
        X509_NAME *n = X509_NAME_new();
        int ok = tmp && n && X509_NAME_add_entry(n, X509_NAME_get_entry(subj, j), -1, 0) &&
                 X509_set_subject_name(tmp, n);
        int hit = ok ? names_check_host(tmp, ref, X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT, matched)
                     : -1; /* the copy could not be made: out of memory */
        X509_NAME_free(n);
        X509_free(tmp);
        if (hit)
            return hit;
    }
    return 0;
}

int names_match_default(X509 *cert, const char *ref, char **matched)
{
    int has = names_has_dns_san(cert);
    if (has < 0)
        return -1;
    if (has)
        return names_match_san(cert, ref, matched);
    return names_match_cn(cert, ref, matched);
}

int names_match_ip(X509 *cert, const char *ip, char **matched)
{
    if (X509_check_ip_asc(cert, ip, 0) != 1)
        return 0;
    if (matched)
        *matched = strdup(ip);
    return 1;
}
