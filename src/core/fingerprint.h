/* fingerprint.h - certificate digests and display text of X.509 fields */
#ifndef MXTLS_CORE_FINGERPRINT_H
#define MXTLS_CORE_FINGERPRINT_H

#include <time.h>

#include <openssl/x509.h>

/* fp_digest_cert - digest of the DER certificate, or of its
 * SubjectPublicKeyInfo when pubkey, as upper-case hex pairs joined by ':'
 * (Postfix's fingerprint format). NULL for an unknown digest. Caller frees. */
char *fp_digest_cert(X509 *x, const char *digest, int pubkey);
/* fp_equal - same fingerprint, ignoring case and ':' separators */
int fp_equal(const char *a, const char *b);
/* fp_guess_digest - the digest a fingerprint's length says it is ("md5",
 * "sha1", "sha256", "sha384", "sha512"); NULL for another length or for text
 * that is not hex pairs (':' allowed between them). *bytes: its length. */
const char *fp_guess_digest(const char *fp, size_t *bytes);
/* fp_digest_label - "SHA-256" for "sha256" (the name itself when unknown) */
const char *fp_digest_label(const char *digest);
/* fp_wrong_digest_advice - when fp cannot be a `digest` digest (its length is
 * another digest's, or none), the advice sentence in buf; returns 1 then,
 * 0 when its length fits digest (or digest is unknown) */
int fp_wrong_digest_advice(const char *fp, const char *digest, char *buf, size_t n);
/* fp_name_text - RFC 2253 form of a name (UTF-8); caller frees */
char *fp_name_text(const X509_NAME *name);
/* fp_time_text - RFC 3339 UTC form ("2035-01-01T00:00:00Z"); caller frees */
char *fp_time_text(const ASN1_TIME *t);
/* fp_asn1_time - an ASN1_TIME as time_t in *out; 0 when unreadable, else 1 */
int fp_asn1_time(const ASN1_TIME *a, time_t *out);

#endif
