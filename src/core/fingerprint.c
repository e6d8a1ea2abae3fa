/* fingerprint.c - certificate digests and display text of X.509 fields */
#include "core/fingerprint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

static const struct {
    const char *name, *label;
    size_t bytes;
} fp_digests[] = {
    {"md5", "MD5", 16},        {"sha1", "SHA-1", 20},     {"sha256", "SHA-256", 32},
    {"sha384", "SHA-384", 48}, {"sha512", "SHA-512", 64},
};

const char *fp_guess_digest(const char *fp, size_t *bytes)
{
    size_t digits = 0;
    *bytes = 0;
    for (const char *p = fp; p && *p; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p))
            return NULL;
        digits++;
    }
    if (digits % 2)
        return NULL;
    *bytes = digits / 2;
    for (size_t i = 0; i < sizeof fp_digests / sizeof fp_digests[0]; i++)
        if (fp_digests[i].bytes == *bytes)
            return fp_digests[i].name;
    return NULL;
}

const char *fp_digest_label(const char *digest)
{
    for (size_t i = 0; digest && i < sizeof fp_digests / sizeof fp_digests[0]; i++)
        if (strcasecmp(fp_digests[i].name, digest) == 0)
            return fp_digests[i].label;
    return digest;
}

int fp_wrong_digest_advice(const char *fp, const char *digest, char *buf, size_t n)
{
    size_t want = 0, bytes;
    for (size_t i = 0; digest && i < sizeof fp_digests / sizeof fp_digests[0]; i++)
        if (strcasecmp(fp_digests[i].name, digest) == 0)
            want = fp_digests[i].bytes;
    const char *guess = fp_guess_digest(fp, &bytes);
    if (!want || bytes == want)
        return 0;
    if (guess)
        snprintf(buf, n,
                 "The fingerprint %.200s has %zu bytes, the length of %s %s digest, but the "
                 "sender computes %s digests (Postfix smtp_tls_fingerprint_digest = %s), so it "
                 "can never match: give the %s digest of the certificate or of its public key "
                 "(mxtls fingerprint prints them), or set the digest to %s if that is the one "
                 "meant.",
                 fp, bytes, guess[0] == 'm' ? "an" : "a", fp_digest_label(guess),
                 fp_digest_label(digest), digest,
                 fp_digest_label(digest), guess);
    else
        snprintf(buf, n,
                 "The fingerprint %.200s has %zu bytes, the length of no digest (MD5 16, SHA-1 "
                 "20, SHA-256 32, SHA-384 48, SHA-512 64 bytes), so it can never match: give "
                 "the %s digest of the certificate or of its public key (mxtls fingerprint "
                 "prints them).",
                 fp, bytes, fp_digest_label(digest));
    return 1;
}

char *fp_name_text(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return NULL;
    /* A failed write (the memory BIO could not grow) would cut the name. */
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
        BIO_free(bio);
        return NULL;
    }
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        if (n)
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

int fp_asn1_time(const ASN1_TIME *a, time_t *out)
{
    struct tm tm;
    if (!a || ASN1_TIME_to_tm(a, &tm) != 1)
        return 0;
    *out = timegm(&tm);
    return 1;
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
