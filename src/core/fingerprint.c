/* fingerprint.c - certificate digests and display text of X.509 fields */
#include "core/fingerprint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/chain.h"
#include "core/ctx.h"

char *fp_digest_cert(X509 *x, const char *digest, int pubkey)
{
    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (!md)
        return NULL;
    unsigned char *der = NULL;
    int len = pubkey ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : i2d_X509(x, &der);
    if (len <= 0)
        return NULL;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int outlen = 0;
    int ok = EVP_Digest(der, (size_t)len, out, &outlen, md, NULL);
    OPENSSL_free(der);
    if (!ok)
        return NULL;
    char *hex = malloc(outlen * 3 + 1);
    if (!hex)
        return NULL;
    for (unsigned int i = 0; i < outlen; i++)
        snprintf(hex + i * 3, 4, "%02X%s", out[i], i + 1 < outlen ? ":" : "");
    return hex;
}

int fp_equal(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    for (;;) {
        while (*a == ':')
            a++;
        while (*b == ':')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
            return 0;
        a++;
        b++;
    }
}

char *fp_name_text(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return NULL;
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *s = malloc((size_t)n + 1);
    if (s) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    BIO_free(bio);
    return s;
}

char *fp_time_text(const ASN1_TIME *t)
{
    struct tm tm;
    char buf[32];
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return strdup("invalid");
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return strdup(buf);
}

char *mxtls_fingerprint_pem(mxtls_ctx *ctx, const char *pem, size_t len, const char *name,
                            const char *digest, int pubkey)
{
    err_clear(&ctx->err);
    if (!digest)
        digest = "sha256";
    if (strcmp(digest, "sha256") != 0 && strcmp(digest, "sha1") != 0 &&
        strcmp(digest, "md5") != 0) {
        err_set(&ctx->err, MXTLS_ERR_INVALID, "digest",
                "unknown digest \"%.32s\" (use sha256, sha1 or md5)", digest);
        return NULL;
    }
    /* Only the first certificate counts: the rest of the file is not read. */
    STACK_OF(X509) *chain = chain_parse_pem_first(pem, len, name, &ctx->err);
    if (!chain)
        return NULL;
    char *fp = fp_digest_cert(sk_X509_value(chain, 0), digest, pubkey);
    chain_free(chain);
    if (!fp)
        err_set(&ctx->err, MXTLS_ERR_CRYPTO, name ? name : "certificate",
                "cannot compute the %s digest", digest);
    return fp;
}
