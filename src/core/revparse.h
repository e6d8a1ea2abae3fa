/* revparse.h - pure revocation checks: an OCSP response or a CRL in, a status out
 *
 * No I/O and no clock (time is a parameter): the same functions judge a
 * stapled OCSP response, one fetched from a responder, or a CRL, so each can
 * be unit-tested and fuzzed without a network. src/io/revocation.c fetches;
 * this module decides what an answer is worth.
 *
 * An answer counts only when it is verified:
 * - OCSP (RFC 6960 §3.2, §4.2.2.2): a successful basic response, signed by
 *   the certificate's issuer or by a responder the issuer delegated to
 *   (id-kp-OCSPSigning), with a single response for the leaf's CertID, current
 *   at the check time within REVPARSE_SKEW_SECONDS, and a matching nonce when
 *   the request carried one and the response echoes one.
 * - CRL (RFC 5280 §6.3.3): issued by the certificate's issuer (name and key),
 *   signature verified, thisUpdate/nextUpdate around the check time, complete
 *   scope (no delta CRL, no partial issuing distribution point).
 * In both cases the issuer itself must chain to the trust store at the check
 * time. Anything else is REVPARSE_UNUSABLE, with the reason in `detail`. */
#ifndef MXTLS_CORE_REVPARSE_H
#define MXTLS_CORE_REVPARSE_H

#include <stddef.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

/* Clock skew tolerated between us and the responder or CRL issuer, as
 * OpenSSL's OCSP_check_validity() is usually called (nsec = 300). */
#define REVPARSE_SKEW_SECONDS (5 * 60)
/* An OCSP response without nextUpdate ("newer information is always
 * available", RFC 6960 §4.2.2.1) is accepted while its thisUpdate is at most
 * this old. */
#define REVPARSE_MAX_AGE_NO_NEXT (7 * 24 * 3600)
/* Largest inputs accepted: an OCSP response, a CRL (DER or PEM). */
#define REVPARSE_MAX_OCSP (64u * 1024u)
#define REVPARSE_MAX_CRL (1024u * 1024u)
#define REVPARSE_DETAIL_MAX 512

/* Values match mxtls_revocation_status (include/mxtls.h). */
typedef enum revparse_status {
    REVPARSE_GOOD = 1,     /* verified: not revoked */
    REVPARSE_REVOKED = 2,  /* verified: revoked */
    REVPARSE_UNKNOWN = 3,  /* verified OCSP answer "unknown": the responder does not know it */
    REVPARSE_UNUSABLE = 4  /* no verified answer: malformed, unsigned, stale, wrong issuer ... */
} revparse_status;

typedef struct revparse_result {
    revparse_status status;
    time_t revoked_at;     /* REVOKED: revocation time */
    int reason;            /* REVOKED: CRLReason (RFC 5280 §5.3.1), -1 when none given */
    time_t this_update;    /* of the answer judged (0 when it could not be read) */
    time_t next_update;    /* 0 when absent */
    /* Plain words, to follow "<source>: ": "good (this update ..., next
     * update ...)", "revoked at ... (keyCompromise)", "unusable: ..." */
    char detail[REVPARSE_DETAIL_MAX];
} revparse_result;

/* revparse_find_issuer - the leaf's issuer: chain[1] when it issued chain[0],
 * else a certificate of the store that did. Returns a new reference (caller
 * X509_free()s) or NULL. */
X509 *revparse_find_issuer(STACK_OF(X509) *chain, X509_STORE *store);

/* revparse_ocsp - judge a DER OCSPResponse about `leaf`, issued by `issuer`.
 * untrusted: further certificates that may help build the responder's chain
 * (the chain as sent, may be NULL). req: the request it answers, for the
 * nonce check (NULL for a staple). at: check time (0 = now). Fills *out and
 * returns out->status. Borrows everything. */
revparse_status revparse_ocsp(const unsigned char *der, size_t len, X509 *leaf, X509 *issuer,
                              STACK_OF(X509) *untrusted, X509_STORE *store, time_t at,
                              OCSP_REQUEST *req, revparse_result *out);

/* revparse_crl - judge a CRL (DER, or PEM) for `leaf` issued by `issuer`.
 * Arguments as for revparse_ocsp. */
revparse_status revparse_crl(const unsigned char *buf, size_t len, X509 *leaf, X509 *issuer,
                             STACK_OF(X509) *untrusted, X509_STORE *store, time_t at,
                             revparse_result *out);

/* revparse_ocsp_request - an OCSP request for (leaf, issuer) with a SHA-1
 * CertID (RFC 5019 §2.1.1: what every responder supports) and, when nonce is
 * set, a random nonce (RFC 6960 §4.4.1). Caller OCSP_REQUEST_free()s. */
OCSP_REQUEST *revparse_ocsp_request(X509 *leaf, X509 *issuer, int nonce);

/* revparse_reason_name - "keyCompromise", "superseded", ...; "unspecified"
 * for -1 */
const char *revparse_reason_name(int reason);

/* revparse_time_text - "2026-01-02 03:04:05 UTC" into buf */
void revparse_time_text(time_t t, char *buf, size_t n);

#endif
