/* testutil.h - helpers shared by the cmocka unit tests (header-only)
 *
 * - tu_certs_path / tu_read / tu_read_cert: the certificates made by
 *   tests/pki/gen-unit-certs.sh in $MXTLS_TEST_CERTS;
 * - tu_cert_make: X509 certificates with arbitrary dNSName/iPAddress SANs and
 *   subject CNs (any bytes, NUL included), self-signed with one key generated
 *   once per test program (call tu_cleanup in the group teardown, or make
 *   tu_group_teardown the group teardown);
 * - tj_*: a tiny JSON reader, enough to check the reports' structure: a
 *   strict well-formedness check and a lookup by path ("reasons[0].code").
 *
 * Include after <cmocka.h>. Everything is static inline so that a test file
 * that uses only part of it compiles without unused-function warnings. */
#ifndef MXTLS_TESTUTIL_H
#define MXTLS_TESTUTIL_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* ---- test certificates on disk ----------------------------------------- */

/* tu_certs_path - "$MXTLS_TEST_CERTS/name" in a static buffer (one at a time) */
static inline const char *tu_certs_path(const char *name)
{
    static char buf[4096];
    const char *dir = getenv("MXTLS_TEST_CERTS");
    if (!dir || !*dir)
        fail_msg("MXTLS_TEST_CERTS is not set (run the tests through ctest)");
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* tu_read - a whole file, NUL-terminated; caller frees */
static inline char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t got = fread(buf + n, 1, 4096, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* tu_read_cert - a test certificate file ("mx1-chain.pem"); caller frees */
static inline char *tu_read_cert(const char *name, size_t *len)
{
    return tu_read(tu_certs_path(name), len);
}

/* tu_load_x509 - the first certificate of a test PEM file; caller X509_free()s */
static inline X509 *tu_load_x509(const char *name)
{
    FILE *f = fopen(tu_certs_path(name), "r");
    if (!f)
        fail_msg("cannot open %s", tu_certs_path(name));
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x)
        fail_msg("%s holds no certificate", name);
    return x;
}

/* tu_load_key - a test private key ("inter.key"); caller EVP_PKEY_free()s */
static inline EVP_PKEY *tu_load_key(const char *name)
{
    FILE *f = fopen(tu_certs_path(name), "r");
    if (!f)
        fail_msg("cannot open %s", tu_certs_path(name));
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k)
        fail_msg("%s holds no private key", name);
    return k;
}

/* tu_pem - PEM text of a certificate; caller frees */
static inline char *tu_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_X509(b, x), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

/* ---- certificates built in the test ------------------------------------ */

/* One presented identity: 'D' dNSName, 'C' subject CN (UTF8String), 'I'
 * iPAddress (text). len 0 means strlen(s); give it for names with NUL bytes. */
typedef struct tu_id {
    char kind;
    const char *s;
    size_t len;
} tu_id;

#define TU_MAX_IDS 6

static EVP_PKEY *tu_key_;

/* tu_key - a P-256 key, generated on first use and kept for the whole run */
static inline EVP_PKEY *tu_key(void)
{
    if (!tu_key_)
        tu_key_ = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(tu_key_);
    return tu_key_;
}

static inline void tu_cleanup(void)
{
    EVP_PKEY_free(tu_key_);
    tu_key_ = NULL;
}

/* tu_group_teardown - a cmocka group teardown that only calls tu_cleanup */
static inline int tu_group_teardown(void **state)
{
    (void)state;
    tu_cleanup();
    return 0;
}

/* tu_cert_make - a self-signed certificate presenting exactly these identities
 * (at most TU_MAX_IDS; a row may end early with kind 0). Caller X509_free()s. */
static inline X509 *tu_cert_make(const tu_id *ids, size_t n)
{
    X509 *x = X509_new();
    X509_NAME *subj = X509_NAME_new();
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    assert_true(x && subj && gens);
    assert_int_equal(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    assert_int_equal(X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC,
                                                (const unsigned char *)"mxtls test", -1, -1, 0),
                     1);
    for (size_t i = 0; i < n && ids[i].kind; i++) {
        const tu_id *id = &ids[i];
        int len = (int)(id->len ? id->len : strlen(id->s));
        if (id->kind == 'C') {
            assert_int_equal(X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
                                                        (const unsigned char *)id->s, len, -1,
                                                        0),
                             1);
            continue;
        }
        GENERAL_NAME *g = GENERAL_NAME_new();
        assert_non_null(g);
        if (id->kind == 'D') {
            ASN1_IA5STRING *s = ASN1_IA5STRING_new();
            assert_non_null(s);
            assert_int_equal(ASN1_STRING_set(s, id->s, len), 1);
            GENERAL_NAME_set0_value(g, GEN_DNS, s);
        } else if (id->kind == 'I') {
            unsigned char bin[16];
            int alen = strchr(id->s, ':') ? 16 : 4;
            assert_int_equal(inet_pton(alen == 16 ? AF_INET6 : AF_INET, id->s, bin), 1);
            ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
            assert_non_null(s);
            assert_int_equal(ASN1_OCTET_STRING_set(s, bin, alen), 1);
            GENERAL_NAME_set0_value(g, GEN_IPADD, s);
        } else {
            fail_msg("unknown identity kind '%c'", id->kind);
        }
        assert_true(sk_GENERAL_NAME_push(gens, g) > 0);
    }
    assert_int_equal(X509_set_subject_name(x, subj), 1);
    assert_int_equal(X509_set_issuer_name(x, subj), 1);
    if (sk_GENERAL_NAME_num(gens) > 0)
        assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0), 1);
    assert_int_equal(X509_set_pubkey(x, tu_key()), 1);
    assert_true(X509_sign(x, tu_key(), EVP_sha256()) > 0);
    X509_NAME_free(subj);
    GENERAL_NAMES_free(gens);
    return x;
}

/* ---- a tiny JSON reader ------------------------------------------------ */

static inline void tj_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

/* tj_string - skip a string at *p; copy its decoded text (escapes kept as
 * written, except \" and \\) into out when given. 0 ok, -1 malformed. */
static inline int tj_string(const char **p, char *out, size_t outlen)
{
    size_t o = 0;
    if (**p != '"')
        return -1;
    (*p)++;
    for (;;) {
        unsigned char c = (unsigned char)**p;
        if (c == '\0' || c < 0x20)
            return -1;
        (*p)++;
        if (c == '"')
            break;
        if (c == '\\') {
            char e = **p;
            if (!e || !strchr("\"\\/bfnrtu", e))
                return -1;
            (*p)++;
            if (e == 'u') {
                for (int i = 0; i < 4; i++, (*p)++)
                    if (!**p || !strchr("0123456789abcdefABCDEF", **p))
                        return -1;
                if (out && o + 6 < outlen) {
                    memcpy(out + o, *p - 6, 6);
                    o += 6;
                }
                continue;
            }
            if (e != '"' && e != '\\' && out && o + 1 < outlen)
                out[o++] = '\\';
            c = (unsigned char)e;
        }
        if (out && o + 1 < outlen)
            out[o++] = (char)c;
    }
    if (out && outlen)
        out[o] = '\0';
    return 0;
}

/* tj_value - skip one value at *p; 0 ok, -1 malformed */
static inline int tj_value(const char **p, int depth)
{
    if (depth > 64)
        return -1;
    tj_ws(p);
    char c = **p;
    if (c == '"')
        return tj_string(p, NULL, 0);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        (*p)++;
        tj_ws(p);
        if (**p == close) {
            (*p)++;
            return 0;
        }
        for (;;) {
            tj_ws(p);
            if (c == '{') {
                if (tj_string(p, NULL, 0))
                    return -1;
                tj_ws(p);
                if (**p != ':')
                    return -1;
                (*p)++;
            }
            if (tj_value(p, depth + 1))
                return -1;
            tj_ws(p);
            if (**p == ',') {
                (*p)++;
                continue;
            }
            if (**p != close)
                return -1;
            (*p)++;
            return 0;
        }
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++)
        if (strncmp(*p, lits[i], strlen(lits[i])) == 0) {
            *p += strlen(lits[i]);
            return 0;
        }
    const char *start = *p;
    if (**p == '-')
        (*p)++;
    if (!(**p >= '0' && **p <= '9'))
        return -1;
    while ((**p >= '0' && **p <= '9') || **p == '.' || **p == 'e' || **p == 'E' ||
           **p == '+' || **p == '-')
        (*p)++;
    return *p > start ? 0 : -1;
}

/* tj_valid - the whole text is exactly one well-formed JSON value */
static inline int tj_valid(const char *json)
{
    const char *p = json;
    if (tj_value(&p, 0))
        return 0;
    tj_ws(&p);
    return *p == '\0';
}

/* tj_find - the value at path ("a.b[2].c", "" = the root), or NULL */
static inline const char *tj_find(const char *json, const char *path)
{
    const char *p = json;
    const char *q = path;
    for (;;) {
        tj_ws(&p);
        if (*q == '\0')
            return p;
        if (*q == '.')
            q++;
        if (*q == '[') {
            long idx = strtol(q + 1, (char **)&q, 10);
            if (*q != ']' || *p != '[')
                return NULL;
            q++;
            p++;
            tj_ws(&p);
            if (*p == ']')
                return NULL;
            for (long i = 0; i < idx; i++) {
                if (tj_value(&p, 0))
                    return NULL;
                tj_ws(&p);
                if (*p != ',')
                    return NULL;
                p++;
            }
            continue;
        }
        size_t klen = strcspn(q, ".[");
        if (*p != '{')
            return NULL;
        p++;
        int found = 0;
        for (;;) {
            tj_ws(&p);
            if (*p == '}')
                return NULL;
            char key[256];
            if (tj_string(&p, key, sizeof key))
                return NULL;
            tj_ws(&p);
            if (*p != ':')
                return NULL;
            p++;
            tj_ws(&p);
            if (strlen(key) == klen && strncmp(key, q, klen) == 0) {
                found = 1;
                break;
            }
            if (tj_value(&p, 0))
                return NULL;
            tj_ws(&p);
            if (*p == ',')
                p++;
        }
        if (!found)
            return NULL;
        q += klen;
    }
}

/* tj_str - the string at path, in a static buffer; "(null)" for null, NULL
 * when absent or not a string/null */
static inline const char *tj_str(const char *json, const char *path)
{
    static char buf[4096];
    const char *v = tj_find(json, path);
    if (!v)
        return NULL;
    if (strncmp(v, "null", 4) == 0)
        return "(null)";
    if (tj_string(&v, buf, sizeof buf))
        return NULL;
    return buf;
}

/* tj_raw - the raw text of the value at path (numbers, true/false/null,
 * whole objects) in a static buffer, or NULL */
static inline const char *tj_raw(const char *json, const char *path)
{
    static char buf[4096];
    const char *v = tj_find(json, path);
    if (!v)
        return NULL;
    const char *e = v;
    if (tj_value(&e, 0))
        return NULL;
    size_t n = (size_t)(e - v);
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

/* tj_len - number of elements of the array (or members of the object) at
 * path; -1 if absent or not a container */
static inline long tj_len(const char *json, const char *path)
{
    const char *p = tj_find(json, path);
    if (!p || (*p != '[' && *p != '{'))
        return -1;
    int obj = *p == '{';
    p++;
    tj_ws(&p);
    if (*p == ']' || *p == '}')
        return 0;
    long n = 0;
    for (;;) {
        if (obj) {
            if (tj_string(&p, NULL, 0))
                return -1;
            tj_ws(&p);
            if (*p != ':')
                return -1;
            p++;
        }
        if (tj_value(&p, 0))
            return -1;
        n++;
        tj_ws(&p);
        if (*p != ',')
            return n;
        p++;
        tj_ws(&p);
    }
}

#endif
