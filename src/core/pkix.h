/* pkix.h - chain validation against a trust store, with OpenSSL */
#ifndef MXTLS_CORE_PKIX_H
#define MXTLS_CORE_PKIX_H

#include <time.h>

#include <openssl/x509.h>

#include "core/ctx.h"

typedef struct pkix_result {
    int valid;          /* chain builds to a trust anchor and every check passed */
    int error;          /* X509_V_ERR_* (X509_V_OK when valid) */
    int depth;          /* chain depth of the failing certificate; -1 if none */
    const char *code;   /* stable reason code: "expired", "unknown-issuer", ... */
    char message[512];  /* plain words, naming the certificate at fault */
    /* The certificate at fault (depth counts in the chain OpenSSL built,
     * which is not the chain as sent): its subject and validity, and whether
     * the server sent it (else it came from the trust store). */
    char bad_subject[256];
    char bad_not_before[32], bad_not_after[32];
    int bad_presented;
} pkix_result;

/* pkix_store_load - a new trust store from ca_file and/or ca_path (a hashed
 * directory, read as certificates are looked up), or OpenSSL's default
 * paths when both are NULL; NULL with the error in e. The caller owns it. */
X509_STORE *pkix_store_load(const char *ca_file, const char *ca_path, err_rec *e);

/* pkix_store - the context's trust store (loaded once, owned by ctx) */
X509_STORE *pkix_store(mxtls_ctx *ctx);

/* pkix_validate - validate chain (leaf first, as presented) at time `at` (0 = now)
 * for the TLS server purpose, as an SMTP client's OpenSSL would. */
mxtls_status pkix_validate(mxtls_ctx *ctx, STACK_OF(X509) *chain, time_t at, pkix_result *out);

#endif
