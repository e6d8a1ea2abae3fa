/* fuzz_crl.c - libFuzzer target: CRLs through core/revparse
 *
 * The input is a CRL (DER, or PEM when it starts like PEM), judged for two
 * certificates of the fixed test PKI the seeds in fuzz/corpus/crl/ were made
 * for (fuzz/corpus/ocsp/.gen-seeds.sh): the good leaf and the revoked one.
 * Every result must be well-formed: a known status (never "unknown", which
 * only OCSP says), a non-empty NUL-terminated detail, a reason in range, and
 * a next update on every usable CRL. MXTLS_FUZZ_PRINT=1 prints what each
 * input reached. */
#include <stdint.h>
#include <stdlib.h>

#include "core/revparse.h"
#include "fuzzpki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_check - invariants of any result */
static void fuzz_check(const revparse_result *r, const char *what)
{
    if (r->status != REVPARSE_GOOD && r->status != REVPARSE_REVOKED &&
        r->status != REVPARSE_UNUSABLE)
        abort();
    if (r->status != REVPARSE_UNUSABLE && (r->this_update == 0 || r->next_update == 0))
        abort();
    fuzz_check_result(r, what);
}

/* LLVMFuzzerTestOneInput - one input, judged for both leaves */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fuzz_pki *p = fuzz_pki_get();
    revparse_result r;
    revparse_crl(data, size, p->leaf, p->inter, NULL, p->store, FUZZ_AT, &r);
    fuzz_check(&r, "leaf");
    revparse_crl(data, size, p->revoked, p->inter, NULL, p->store, FUZZ_AT, &r);
    fuzz_check(&r, "revoked");
    return 0;
}
