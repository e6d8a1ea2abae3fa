/* chainmemo.h - what is computed from a certificate chain once, kept on its leaf
 *
 * A survey evaluates one shared probe's chain for every domain behind that
 * MX address and for every level: the chain's validation against the trust
 * store and the texts reports show of it are the same each time. They are
 * kept in the leaf certificate's ex_data (freed with it), keyed by the whole
 * chain; a validation also by the trust store and by the validity window the
 * time asked falls in (every notBefore/notAfter OpenSSL could have compared
 * lies outside it, so any time inside gives the same answer). Calls may come
 * from several threads: one lock guards every memo. */
#ifndef MXTLS_CORE_CHAINMEMO_H
#define MXTLS_CORE_CHAINMEMO_H

#include <time.h>

#include <openssl/x509.h>

#include "core/pkix.h"
#include "core/result.h"

/* chainmemo_pkix_get - 1 and *out filled when a validation of this chain
 * against this store at a time of the same window as `t` is remembered; 0 */
int chainmemo_pkix_get(STACK_OF(X509) *chain, X509_STORE *store, time_t t, pkix_result *out);

/* chainmemo_pkix_hits - validations answered from a memo so far (tests) */
unsigned long chainmemo_pkix_hits(void);

/* chainmemo_pkix_put - remember a validation that holds for every time in
 * [lo, hi) (nothing is kept when memory is short: a memo is only a memo) */
void chainmemo_pkix_put(STACK_OF(X509) *chain, X509_STORE *store, time_t lo, time_t hi,
                        const pkix_result *r);

/* chainmemo_report - fill r's copy of the chain (presented names, each
 * certificate's subject, issuer, validity and SHA-256, the leaf's
 * fingerprints in `digest`) from the memo, computing what is missing;
 * MXTLS_ERR_NOMEM when memory is short (r then holds what it got, for
 * mxtls_result_free) */
mxtls_status chainmemo_report(STACK_OF(X509) *chain, const char *digest, mxtls_result *r);

#endif
