/* fuzz_ocsp.c - libFuzzer target: OCSP responses through core/revparse
 *
 * The input is a DER OCSPResponse, judged for two certificates of a fixed
 * test PKI (the one the seeds in fuzz/corpus/ocsp/ were made for, by
 * fuzz/corpus/ocsp/.gen-seeds.sh): the good leaf without a request, the
 * revoked leaf against a request with a nonce, and the good leaf again
 * through revocation_check_staple(). Every result must be well-formed: a
 * known status, a non-empty NUL-terminated detail, a reason in range.
 * MXTLS_FUZZ_PRINT=1 prints what each input reached. */
#include <stdint.h>
#include <stdlib.h>

#include "core/revparse.h"
#include "fuzzpki.h"
#include "io/revocation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_ocsp_pki - the fixed PKI (fuzzpki.h) and what OCSP adds to it */
typedef struct fuzz_ocsp_pki {
    const fuzz_pki *pki;
    STACK_OF(X509) *chain; /* leaf, inter */
    OCSP_REQUEST *req;     /* about the revoked leaf, with a nonce */
} fuzz_ocsp_pki;

/* fuzz_ocsp_pki_get - loaded once per process */
static const fuzz_ocsp_pki *fuzz_ocsp_pki_get(void)
{
    static fuzz_ocsp_pki o;
    if (o.pki)
        return &o;
    const fuzz_pki *p = fuzz_pki_get();
    o.chain = sk_X509_new_null();
    o.req = revparse_ocsp_request(p->revoked, p->inter, 1);
    if (!o.chain || !o.req || sk_X509_push(o.chain, p->leaf) <= 0 ||
        sk_X509_push(o.chain, p->inter) <= 0)
        abort();
    o.pki = p;
    return &o;
}

/* fuzz_check - invariants of any result */
static void fuzz_check(const revparse_result *r, const char *what)
{
    if (r->status < REVPARSE_GOOD || r->status > REVPARSE_UNUSABLE)
        abort();
    if ((r->status == REVPARSE_GOOD || r->status == REVPARSE_REVOKED) && r->this_update == 0)
        abort();
    fuzz_check_result(r, what);
}

/* LLVMFuzzerTestOneInput - one input, judged three ways */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_ocsp_pki *o = fuzz_ocsp_pki_get();
    const fuzz_pki *p = o->pki;
    revparse_result r;
    revparse_ocsp(data, size, p->leaf, p->inter, NULL, p->store, FUZZ_AT, NULL, &r);
    fuzz_check(&r, "leaf");
    revparse_ocsp(data, size, p->revoked, p->inter, o->chain, p->store, FUZZ_AT, o->req, &r);
    fuzz_check(&r, "revoked+nonce");
    revocation_result rr;
    revocation_check_staple(data, size, o->chain, p->store, FUZZ_AT, &rr);
    /* An empty staple is "none stapled"; anything else is judged as one. */
    if (!rr.detail || rr.source != (size ? REVOCATION_SRC_STAPLE : REVOCATION_SRC_NONE) ||
        rr.status < MXTLS_REVOCATION_GOOD || rr.status > MXTLS_REVOCATION_UNAVAILABLE)
        abort();
    revocation_result_free(&rr);
    return 0;
}
