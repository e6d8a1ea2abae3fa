/* dane.c - DANE TLSA records and their verification with OpenSSL's DANE code */
#include "core/dane.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

void dane_rr_clear(dane_rr *rr)
{
    free(rr->data);
    memset(rr, 0, sizeof *rr);
}

int dane_rr_set(dane_rr *rr, uint8_t usage, uint8_t selector, uint8_t mtype,
                const unsigned char *data, size_t len)
{
    if (len > DANE_MAX_DATA)
        return -1;
    unsigned char *copy = xmemdup(data, len);
    if (!copy)
        return -1;
    free(rr->data);
    rr->usage = usage;
    rr->selector = selector;
    rr->mtype = mtype;
    rr->data = copy;
    rr->len = len;
    return 0;
}

/* dane_field - one decimal field 0..255 */
static int dane_field(const char **p, uint8_t *out)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
    if (!isdigit((unsigned char)**p))
        return -1;
    unsigned v = 0;
    int digits = 0;
    while (isdigit((unsigned char)**p)) {
        v = v * 10 + (unsigned)(**p - '0');
        (*p)++;
        if (++digits > 3 || v > 255)
            return -1;
    }
    if (**p != ' ' && **p != '\t')
        return -1;
    *out = (uint8_t)v;
    return 0;
}

int dane_rr_parse(const char *text, dane_rr *rr, err_rec *e)
{
    const char *p = text;
    uint8_t u, s, m;
    memset(rr, 0, sizeof *rr);
    if (dane_field(&p, &u) || dane_field(&p, &s) || dane_field(&p, &m))
        return err_set(e, MXTLS_ERR_PARSE, "TLSA",
                       "\"%.80s\": expected \"USAGE SELECTOR MTYPE HEX\" with three numbers "
                       "from 0 to 255",
                       text),
               -1;
    size_t nhex = 0;
    for (const char *q = p; *q; q++) {
        if (isxdigit((unsigned char)*q))
            nhex++;
        else if (*q != ' ' && *q != '\t')
            return err_set(e, MXTLS_ERR_PARSE, "TLSA", "\"%.80s\": '%c' is not a hex digit",
                           text, *q),
                   -1;
    }
    if (nhex == 0 || nhex % 2)
        return err_set(e, MXTLS_ERR_PARSE, "TLSA",
                       "\"%.80s\": the association data must be a non-empty even number of "
                       "hex digits",
                       text),
               -1;
    if (nhex / 2 > DANE_MAX_DATA)
        return err_set(e, MXTLS_ERR_LIMIT, "TLSA",
                       "association data longer than %d bytes", DANE_MAX_DATA),
               -1;
    unsigned char *data = malloc(nhex / 2);
    if (!data)
        return err_set(e, MXTLS_ERR_NOMEM, "TLSA", "out of memory"), -1;
    size_t o = 0;
    int hi = -1;
    for (const char *q = p; *q; q++) {
        if (!isxdigit((unsigned char)*q))
            continue;
        int v = isdigit((unsigned char)*q) ? *q - '0' : (tolower((unsigned char)*q) - 'a' + 10);
        if (hi < 0) {
            hi = v;
        } else {
            data[o++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    rr->usage = u;
    rr->selector = s;
    rr->mtype = m;
    rr->data = data;
    rr->len = o;
    return 0;
}

const char *dane_usage_name(uint8_t usage)
{
    switch (usage) {
    case 0: return "PKIX-TA";
    case 1: return "PKIX-EE";
    case 2: return "DANE-TA";
    case 3: return "DANE-EE";
    default: return "unknown";
    }
}

const char *dane_rr_unusable_why(const dane_rr *rr)
{
    if (rr->usage == 0 || rr->usage == 1)
        return "PKIX usages (0 and 1) are not usable for SMTP (RFC 7672 §3.1.3)";
    if (rr->usage > 3)
        return "unknown certificate usage";
    if (rr->selector > 1)
        return "unknown selector";
    if (rr->mtype > 2)
        return "unknown matching type";
    if (rr->mtype == 1 && rr->len != 32)
        return "a SHA-256 digest (matching type 1) must be 32 bytes";
    if (rr->mtype == 2 && rr->len != 64)
        return "a SHA-512 digest (matching type 2) must be 64 bytes";
    if (rr->mtype == 0 && rr->len == 0)
        return "empty association data";
    if (rr->mtype == 0 && rr->len <= (size_t)INT32_MAX) {
        /* Full data is decoded by OpenSSL (SSL_dane_tlsa_add): a record whose
         * data is not exactly one DER certificate / SubjectPublicKeyInfo is
         * refused there and can never match, so it is unusable; an RRset of
         * such records means unauthenticated TLS, not a failure (RFC 7672
         * §2.2, as Postfix treats it). */
        const unsigned char *p = rr->data;
        int ok;
        if (rr->selector == 0) {
            X509 *x = d2i_X509(NULL, &p, (long)rr->len);
            ok = x && (size_t)(p - rr->data) == rr->len && X509_get0_pubkey(x) != NULL;
            X509_free(x);
        } else {
            EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)rr->len);
            ok = k && (size_t)(p - rr->data) == rr->len;
            EVP_PKEY_free(k);
        }
        ERR_clear_error();
        if (!ok)
            return rr->selector == 0 ? "full certificate data (matching type 0) that is not one "
                                       "DER certificate"
                                     : "full public key data (matching type 0) that is not one "
                                       "DER SubjectPublicKeyInfo";
    }
    return NULL;
}

char *dane_rr_text(const dane_rr *rr)
{
    char *s = malloc(16 + rr->len * 2);
    if (!s)
        return NULL;
    int o = snprintf(s, 16, "%u %u %u ", rr->usage, rr->selector, rr->mtype);
    for (size_t i = 0; i < rr->len; i++)
        o += snprintf(s + o, 3, "%02x", rr->data[i]);
    return s;
}

unsigned char *dane_association(X509 *cert, uint8_t selector, uint8_t mtype, size_t *len)
{
    unsigned char *der = NULL;
    int n = selector == 1 ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der)
                          : i2d_X509(cert, &der);
    if (n <= 0 || selector > 1 || mtype > 2) {
        OPENSSL_free(der);
        return NULL;
    }
    unsigned char *out;
    if (mtype == 0) {
        out = malloc((size_t)n);
        if (out)
            memcpy(out, der, (size_t)n);
        *len = (size_t)n;
    } else {
        unsigned int dl = 0;
        out = malloc(EVP_MAX_MD_SIZE);
        if (out && !EVP_Digest(der, (size_t)n, out, &dl, mtype == 1 ? EVP_sha256() : EVP_sha512(),
                               NULL)) {
            free(out);
            out = NULL;
        }
        *len = dl;
    }
    OPENSSL_free(der);
    return out;
}

/* dane_explain - a failed DANE verification in plain words */
static void dane_explain(dane_result *r, int err, int depth, const char *base)
{
    switch (err) {
    case X509_V_ERR_DANE_NO_MATCH:
        r->code = "tlsa-mismatch";
        snprintf(r->message, sizeof r->message,
                 "no usable TLSA record of %s matches the certificate chain the server "
                 "presented",
                 base);
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
        r->code = "name-mismatch";
        snprintf(r->message, sizeof r->message,
                 "a DANE-TA record matches the chain, but the server certificate does not "
                 "name %s (DANE-TA requires name checks, RFC 7672 §3.2.3)",
                 base);
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        r->code = "expired";
        snprintf(r->message, sizeof r->message,
                 "a DANE-TA record matches, but the certificate at depth %d has expired", depth);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        r->code = "not-yet-valid";
        snprintf(r->message, sizeof r->message,
                 "a DANE-TA record matches, but the certificate at depth %d is not yet valid",
                 depth);
        break;
    default:
        r->code = "dane-error";
        snprintf(r->message, sizeof r->message, "DANE verification failed at depth %d: %s",
                 depth, X509_verify_cert_error_string(err));
        break;
    }
}

/* The SSL_CTX behind every DANE verification. Building one loads the
 * configuration and the cipher and group lists, which cost more than the
 * verification itself when a survey checks thousands of domains; the
 * verifier only needs its DANE digests, which never change, so one context
 * serves every thread (SSL_new on a shared SSL_CTX is thread-safe). A failed
 * creation (out of memory) is not remembered: the next call tries again. */
static pthread_mutex_t dane_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *dane_ctx;

/* dane_shared_ctx - a reference to the shared context (SSL_CTX_free drops it) */
static SSL_CTX *dane_shared_ctx(void)
{
    SSL_CTX *c = NULL;
    pthread_mutex_lock(&dane_ctx_lock);
    if (!dane_ctx) {
        SSL_CTX *fresh = SSL_CTX_new(TLS_client_method());
        if (fresh && SSL_CTX_dane_enable(fresh) > 0)
            dane_ctx = fresh;
        else
            SSL_CTX_free(fresh);
    }
    if (dane_ctx && SSL_CTX_up_ref(dane_ctx))
        c = dane_ctx;
    pthread_mutex_unlock(&dane_ctx_lock);
    return c;
}

int dane_verify(STACK_OF(X509) *chain, const dane_rr *rrs, size_t n, const char *base,
                const char *const *names, size_t nnames, time_t at, dane_result *out,
                err_rec *e)
{
    memset(out, 0, sizeof *out);
    out->match_index = out->match_depth = -1;
    for (size_t i = 0; i < n && i < DANE_MAX_RECORDS; i++)
        if (!dane_rr_unusable_why(&rrs[i]))
            out->usable++;
    if (out->usable == 0) {
        out->code = "tlsa-unusable";
        snprintf(out->message, sizeof out->message,
                 "none of the %zu TLSA record(s) of %s is usable for SMTP", n, base);
        return 0;
    }
    if (!chain || sk_X509_num(chain) == 0) {
        out->code = "dane-error";
        snprintf(out->message, sizeof out->message, "no certificate chain to verify");
        return 0;
    }

    int rc = -1;
    SSL_CTX *sctx = dane_shared_ctx();
    SSL *ssl = NULL;
    X509_STORE *store = X509_STORE_new(); /* DANE needs no CA: the TLSA records are the anchors */
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    if (!sctx || !store || !vctx || !untrusted ||
        !(ssl = SSL_new(sctx)) || SSL_dane_enable(ssl, base) <= 0) {
        err_set(e, MXTLS_ERR_CRYPTO, "dane", "cannot set up OpenSSL's DANE verifier");
        goto out;
    }
    /* RFC 7672 §3.1.1: DANE-EE(3) is an authenticated binding of the key, no
     * name checks. */
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    for (size_t i = 0; i < nnames && i < DANE_MAX_NAMES; i++)
        if (names[i] && strcasecmp(names[i], base) != 0)
            SSL_add1_host(ssl, names[i]);
    size_t accepted = 0;
    for (size_t i = 0; i < n && i < DANE_MAX_RECORDS; i++) {
        if (dane_rr_unusable_why(&rrs[i]))
            continue;
        /* 0: unusable for OpenSSL too (skipped); -1: internal error */
        int added = SSL_dane_tlsa_add(ssl, rrs[i].usage, rrs[i].selector, rrs[i].mtype,
                                      rrs[i].data, rrs[i].len);
        if (added < 0) {
            err_set(e, MXTLS_ERR_CRYPTO, "dane", "OpenSSL rejected a TLSA record");
            goto out;
        }
        accepted += added > 0;
    }
    ERR_clear_error();
    if (accepted == 0) {
        /* Without records OpenSSL would fall back to PKIX with an empty store
         * and report "unable to get local issuer certificate". */
        out->usable = 0;
        out->code = "tlsa-unusable";
        snprintf(out->message, sizeof out->message,
                 "none of the %zu TLSA record(s) of %s is usable for SMTP", n, base);
        rc = 0;
        goto out;
    }
    out->usable = accepted;
    for (int i = 1; i < sk_X509_num(chain); i++)
        sk_X509_push(untrusted, sk_X509_value(chain, i));
    if (!X509_STORE_CTX_init(vctx, store, sk_X509_value(chain, 0), untrusted)) {
        err_set(e, MXTLS_ERR_CRYPTO, "dane", "cannot set up chain verification");
        goto out;
    }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(vctx);
    X509_VERIFY_PARAM_set1(param, SSL_get0_param(ssl)); /* base domain + names, DANE flags */
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    if (at)
        X509_VERIFY_PARAM_set_time(param, at);
    X509_STORE_CTX_set0_dane(vctx, SSL_get0_dane(ssl));
    ERR_clear_error();
    if (X509_verify_cert(vctx) == 1) {
        uint8_t u, s, m;
        const unsigned char *data = NULL;
        size_t dlen = 0;
        int depth = SSL_get0_dane_tlsa(ssl, &u, &s, &m, &data, &dlen);
        out->authenticated = 1;
        out->match_depth = depth;
        for (size_t i = 0; i < n && depth >= 0; i++)
            if (rrs[i].usage == u && rrs[i].selector == s && rrs[i].mtype == m &&
                rrs[i].len == dlen && memcmp(rrs[i].data, data, dlen) == 0) {
                out->match_index = (int)i;
                break;
            }
        out->code = u == 3 ? "dane-ee" : "dane-ta";
        snprintf(out->message, sizeof out->message,
                 "the %s record \"%u %u %u\" of %s matches the certificate at depth %d", 
                 dane_usage_name(u), u, s, m, base, depth);
    } else {
        dane_explain(out, X509_STORE_CTX_get_error(vctx), X509_STORE_CTX_get_error_depth(vctx),
                     base);
    }
    ERR_clear_error();
    rc = 0;
out:
    X509_STORE_CTX_free(vctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    SSL_free(ssl);
    SSL_CTX_free(sctx);
    return rc;
}
