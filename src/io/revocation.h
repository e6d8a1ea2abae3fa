/* revocation.h - is the server certificate revoked? (OCSP staple, OCSP, CRL)
 *
 * Postfix does not check revocation; careful senders and auditors want to
 * know. Order: a stapled OCSP response, verified; else the leaf's AIA OCSP
 * responder (HTTP POST); else its CRL distribution point. Responses are
 * verified with OpenSSL's OCSP and CRL APIs against the chain and the trust
 * store. */
#ifndef MXTLS_IO_REVOCATION_H
#define MXTLS_IO_REVOCATION_H

#include <time.h>

#include <openssl/x509.h>

#include "core/base.h"
#include "io/https.h"

/* The status is the public mxtls_revocation_status (include/mxtls.h), named
 * by mxtls_revocation_status_name. */
typedef enum revocation_source {
    REVOCATION_SRC_NONE = 0,
    REVOCATION_SRC_STAPLE = 1,
    REVOCATION_SRC_OCSP = 2,
    REVOCATION_SRC_CRL = 3
} revocation_source;

typedef struct revocation_result {
    mxtls_revocation_status status; /* the public enum (include/mxtls.h) */
    revocation_source source;
    char *detail;               /* plain words: responder URL, reason, revocation time, errors */
    time_t revoked_at;          /* when REVOKED */
    int nomem;                  /* an allocation failed: the answer is incomplete and
                                   says nothing of the certificate */
} revocation_result;

const char *revocation_source_name(revocation_source s); /* "staple", "ocsp", "crl", "none" */
/* revocation_result_free - free what r holds (detail) and reset it; the
 * struct itself is the caller's storage */
void revocation_result_free(revocation_result *r);

/* revocation_check_staple - pure: verify a stapled OCSP response for the leaf
 * of chain (issuer = chain[1] or from store) at time at (0 = now). */
void revocation_check_staple(const unsigned char *der, size_t len, STACK_OF(X509) *chain,
                             X509_STORE *store, time_t at, revocation_result *out);

/* r is valid during the call only. The callee owns its contents: it may
 * take r->detail (and set it to NULL) or call revocation_result_free(r);
 * whatever is left is freed when the callback returns. */
typedef void (*revocation_cb)(void *arg, revocation_result *r);

/* revocation_check - full check (staple first, then OCSP, then CRL) on the
 * loop via https. Returns 0 or -1 with the error in e (no callback).
 * Otherwise cb runs exactly once, always from the loop (never inside this
 * call), unless https_client_free() cancels the fetch in flight first.
 * timeout_ms bounds the whole check (0: HTTPS_DEFAULT_TIMEOUT_MS). The chain
 * and store are referenced, not copied: the caller may free its own. */
int revocation_check(https_client *https, STACK_OF(X509) *chain, X509_STORE *store,
                     const unsigned char *staple, size_t staple_len, time_t at,
                     int timeout_ms, revocation_cb cb, void *arg, err_rec *e);

#endif
