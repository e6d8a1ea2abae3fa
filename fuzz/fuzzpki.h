/* fuzzpki.h - the fixed test PKI of fuzz/fuzz_crl.c and fuzz/fuzz_ocsp.c, and
 * the invariants every revparse result they reach must keep
 *
 * The seeds in fuzz/corpus/crl/ and fuzz/corpus/ocsp/ were made for this PKI
 * by fuzz/corpus/ocsp/.gen-seeds.sh; they only reach the deep checks when the
 * targets know the same certificates. When the seeds are regenerated, paste
 * the block the script prints (FUZZ_AT, FUZZ_*_PEM) here, once for both.
 * Header-only: every fuzz target is its own executable. */
#ifndef MXTLS_FUZZPKI_H
#define MXTLS_FUZZPKI_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/revparse.h"

/* generated 2026-11-23T14:39:02Z by fuzz/corpus/ocsp/.gen-seeds.sh */
#define FUZZ_AT ((time_t)1795531141) /* a day after the seeds were made */
static const char FUZZ_ROOT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBtjCCAV2gAwIBAgIUFdFSU/h8TXZGe2L+/ZMNEmHIDsowCgYIKoZIzj0EAwIw\n"
    "KTETMBEGA1UECgwKbXh0bHMgZnV6ejESMBAGA1UEAwwJRnV6eiBSb290MB4XDTI2\n"
    "MTEyMzE0MzkwMVoXDTQ2MTExODE0MzkwMVowKTETMBEGA1UECgwKbXh0bHMgZnV6\n"
    "ejESMBAGA1UEAwwJRnV6eiBSb290MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
    "A3ssTR3FEGAGv2EzaAliAjsFW7+Zmvr1Nuetr/HJY9QciK+VO6N5kmvqCt9TfOI7\n"
    "VDCoOBlHandRRhh3HWvPbaNjMGEwHQYDVR0OBBYEFHZCjsMB3f3ooxP43hZX6Y//\n"
    "QsLfMB8GA1UdIwQYMBaAFHZCjsMB3f3ooxP43hZX6Y//QsLfMA8GA1UdEwEB/wQF\n"
    "MAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0cAMEQCIAu754KrHu5R\n"
    "sMLB4Igsxr0uHCzhsGHZX4ww2r5LFdCyAiBOWXTt9QbeUAgYZUAVNpO+nG42FwJu\n"
    "fbVei8ybwVbDag==\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char FUZZ_INTER_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBpDCCAUugAwIBAgIBAjAKBggqhkjOPQQDAjApMRMwEQYDVQQKDApteHRscyBm\n"
    "dXp6MRIwEAYDVQQDDAlGdXp6IFJvb3QwHhcNMjYxMTIzMTQzOTAxWhcNNDYxMTE4\n"
    "MTQzOTAxWjAqMRMwEQYDVQQKDApteHRscyBmdXp6MRMwEQYDVQQDDApGdXp6IElu\n"
    "dGVyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEULiSk8PJhoChEe2lGJOUCq8T\n"
    "TCihKIjv+APCpECclW/oueiVRRS27X70ulVetRTSL0/l2/8zhn0fcI36zbWPPqNj\n"
    "MGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFCyk\n"
    "/pj90VNBgApG9tN16qz92bT3MB8GA1UdIwQYMBaAFHZCjsMB3f3ooxP43hZX6Y//\n"
    "QsLfMAoGCCqGSM49BAMCA0cAMEQCIAj4ExO6k5VOoUaRw9Qat1ruwJtzEX6N2G6J\n"
    "w+GJ4KU1AiAD6aiBfUTwi/gUf6XnpZue96wkcMMAlGLAbeIIr6TRxg==\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char FUZZ_LEAF_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICKDCCAc2gAwIBAgICEAEwCgYIKoZIzj0EAwIwKjETMBEGA1UECgwKbXh0bHMg\n"
    "ZnV6ejETMBEGA1UEAwwKRnV6eiBJbnRlcjAeFw0yNjExMjMxNDM5MDFaFw00NjEx\n"
    "MTgxNDM5MDFaMDExEzARBgNVBAoMCm14dGxzIGZ1enoxGjAYBgNVBAMMEW14Lmdv\n"
    "b2QuZnV6ei50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFaL1+qiL9XP6\n"
    "gfuUnfVWzvCmAm3bLy4BhOUMvDfq8aLyvbdT7xWpbV9T1ayhV8c1r1DF6EYmVw8s\n"
    "Z12zSNb/w6OB2zCB2DAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNV\n"
    "HSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUHquw22uQ22JT67CwOxH7obkcOuYw\n"
    "HwYDVR0jBBgwFoAULKT+mP3RU0GACkb203XqrP3ZtPcwMgYIKwYBBQUHAQEEJjAk\n"
    "MCIGCCsGAQUFBzABhhZodHRwOi8vb2NzcC5mdXp6LnRlc3QvMC8GA1UdHwQoMCYw\n"
    "JKAioCCGHmh0dHA6Ly9jcmwuZnV6ei50ZXN0L2ludGVyLmNybDAKBggqhkjOPQQD\n"
    "AgNJADBGAiEA75dEC51bbkX0WhjpwtpXVZSFuCqJKeqvbwL+GjrzJT4CIQCzj/ZD\n"
    "lq7VgK7M9gaNawn+mgwib3yhsp+nuEnrcGbNAA==\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char FUZZ_REVOKED_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICKjCCAdCgAwIBAgICEAIwCgYIKoZIzj0EAwIwKjETMBEGA1UECgwKbXh0bHMg\n"
    "ZnV6ejETMBEGA1UEAwwKRnV6eiBJbnRlcjAeFw0yNjExMjMxNDM5MDFaFw00NjEx\n"
    "MTgxNDM5MDFaMDQxEzARBgNVBAoMCm14dGxzIGZ1enoxHTAbBgNVBAMMFG14LnJl\n"
    "dm9rZWQuZnV6ei50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoqJSrkKK\n"
    "h0VFIkdMmpvM2Hb+rO/N0MhCvtfIzinoKI5d9prsTH8UxKZUtUwmzsxGTI3a8Auw\n"
    "th6WzW/XqFU8BKOB2zCB2DAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAT\n"
    "BgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUN9ZGp6HmeK7s515tZzp0v5Ip\n"
    "OkIwHwYDVR0jBBgwFoAULKT+mP3RU0GACkb203XqrP3ZtPcwMgYIKwYBBQUHAQEE\n"
    "JjAkMCIGCCsGAQUFBzABhhZodHRwOi8vb2NzcC5mdXp6LnRlc3QvMC8GA1UdHwQo\n"
    "MCYwJKAioCCGHmh0dHA6Ly9jcmwuZnV6ei50ZXN0L2ludGVyLmNybDAKBggqhkjO\n"
    "PQQDAgNIADBFAiAK5eQ9YJ5cQj2kzd5ehqejt59e+7GJKvLOCLRwdIBrNAIhANPd\n"
    "6vp1rGSCWzCZ9jXZJLdfF0/yyC+/QqA2FaE82xyI\n"
    "-----END CERTIFICATE-----\n"
    ;

typedef struct fuzz_pki {
    X509 *root, *inter, *leaf, *revoked;
    X509_STORE *store; /* trusts root */
} fuzz_pki;

/* fuzz_x509 - one embedded certificate */
static inline X509 *fuzz_x509(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x)
        abort();
    return x;
}

/* fuzz_pki_get - the fixed PKI, loaded once per process */
static inline const fuzz_pki *fuzz_pki_get(void)
{
    static fuzz_pki p;
    if (p.store)
        return &p;
    p.root = fuzz_x509(FUZZ_ROOT_PEM);
    p.inter = fuzz_x509(FUZZ_INTER_PEM);
    p.leaf = fuzz_x509(FUZZ_LEAF_PEM);
    p.revoked = fuzz_x509(FUZZ_REVOKED_PEM);
    p.store = X509_STORE_new();
    if (!p.store || X509_STORE_add_cert(p.store, p.root) != 1)
        abort();
    return &p;
}

/* fuzz_check_result - what any revparse result has, CRL or OCSP: a non-empty
 * NUL-terminated detail, a revocation reason in range. Called after the
 * target's own checks; MXTLS_FUZZ_PRINT=1 then prints what WHAT reached. */
static inline void fuzz_check_result(const revparse_result *r, const char *what)
{
    size_t n = strnlen(r->detail, sizeof r->detail);
    if (n == 0 || n == sizeof r->detail)
        abort();
    if (r->status == REVPARSE_REVOKED && (r->reason < -1 || r->reason > 10))
        abort();
    if (getenv("MXTLS_FUZZ_PRINT"))
        fprintf(stderr, "%s: %d %s\n", what, (int)r->status, r->detail);
}

#endif
