/* fingerprint.h - certificate digests and display text of X.509 fields */
#ifndef MXTLS_CORE_FINGERPRINT_H
#define MXTLS_CORE_FINGERPRINT_H

#include <openssl/x509.h>

/* fp_digest_cert - digest of the DER certificate, or of its
 * SubjectPublicKeyInfo when pubkey, as upper-case hex pairs joined by ':'
 * (Postfix's fingerprint format). NULL for an unknown digest. Caller frees. */
char *fp_digest_cert(X509 *x, const char *digest, int pubkey);
/* fp_equal - same fingerprint, ignoring case and ':' separators */
int fp_equal(const char *a, const char *b);
/* fp_name_text - RFC 2253 form of a name (UTF-8); caller frees */
char *fp_name_text(const X509_NAME *name);
/* fp_time_text - RFC 3339 UTC form ("2035-01-01T00:00:00Z"); caller frees */
char *fp_time_text(const ASN1_TIME *t);

#endif
