/* test_chainmemo.c - a chain's validation and texts remembered on its leaf:
 * the same answers as computing them anew, across every validity boundary
 *
 * Certificates come from tests/pki/gen-unit-certs.sh ($MXTLS_TEST_CERTS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/chain.h"
#include "core/chainmemo.h"
#include "core/fingerprint.h"
#include "core/pkix.h"
#include "testutil.h"

static STACK_OF(X509) *load_chain(const char *name)
{
    size_t len = 0;
    char *pem = tu_read_cert(name, &len);
    err_rec e = {0};
    STACK_OF(X509) *c = chain_parse_pem(pem, len, name, &e);
    free(pem);
    assert_non_null(c);
    return c;
}

static mxtls_ctx *ctx_trusting(const char *ca)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    assert_non_null(ctx);
    assert_int_equal(mxtls_ctx_set_ca_file(ctx, tu_certs_path(ca)), MXTLS_OK);
    return ctx;
}

static time_t asn1_time(const ASN1_TIME *a)
{
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(a, &tm), 1);
    return timegm(&tm);
}

/* first_expiry - the earliest notAfter of the chain and its root */
static time_t first_expiry(STACK_OF(X509) *chain)
{
    X509 *root = tu_load_x509("ca.pem");
    time_t e = asn1_time(X509_get0_notAfter(root));
    for (int i = 0; i < sk_X509_num(chain); i++) {
        time_t t = asn1_time(X509_get0_notAfter(sk_X509_value(chain, i)));
        if (t < e)
            e = t;
    }
    X509_free(root);
    return e;
}

/* validate - pkix_validate at `at`, asserting it ran; whether the memo answered */
static int validate(mxtls_ctx *ctx, STACK_OF(X509) *chain, time_t at, pkix_result *r)
{
    unsigned long before = chainmemo_pkix_hits();
    assert_int_equal(pkix_validate(ctx, chain, at, r), MXTLS_OK);
    return chainmemo_pkix_hits() > before;
}

static void test_validity_windows(void **state)
{
    (void)state;
    STACK_OF(X509) *chain = load_chain("mx1-chain.pem");
    mxtls_ctx *ctx = ctx_trusting("ca.pem");
    time_t expiry = first_expiry(chain);
    time_t t1 = expiry - 200 * 86400;
    pkix_result r;

    assert_false(validate(ctx, chain, t1, &r)); /* first: computed */
    assert_true(r.valid);
    assert_true(validate(ctx, chain, t1 + 3600, &r)); /* same window: remembered */
    assert_true(r.valid);
    assert_true(validate(ctx, chain, expiry - 1, &r)); /* the last valid second */
    assert_true(r.valid);

    /* At the expiry itself OpenSSL says expired: never answered from the
     * window before it, nor remembered (the second is ambiguous). */
    assert_false(validate(ctx, chain, expiry, &r));
    assert_false(r.valid);
    assert_string_equal(r.code, "expired");
    assert_false(validate(ctx, chain, expiry, &r));

    /* After it: computed once, then remembered, and still expired. */
    assert_false(validate(ctx, chain, expiry + 10, &r));
    assert_string_equal(r.code, "expired");
    char msg[sizeof r.message];
    memcpy(msg, r.message, sizeof msg);
    assert_true(validate(ctx, chain, expiry + 86400, &r));
    assert_false(r.valid);
    assert_string_equal(r.code, "expired");
    assert_string_equal(r.message, msg);

    /* Back before the expiry: the first window still answers. */
    assert_true(validate(ctx, chain, t1, &r));
    assert_true(r.valid);

    /* Before the leaf's notBefore: not yet valid, never the valid answer. */
    time_t nb = asn1_time(X509_get0_notBefore(sk_X509_value(chain, 0)));
    assert_false(validate(ctx, chain, nb - 10, &r));
    assert_false(r.valid);
    assert_string_equal(r.code, "not-yet-valid");

    mxtls_ctx_free(ctx);
    chain_free(chain);
}

/* Another trust store is another question: the memo never crosses stores. */
static void test_store_is_part_of_the_key(void **state)
{
    (void)state;
    STACK_OF(X509) *chain = load_chain("mx1-chain.pem");
    mxtls_ctx *trusting = ctx_trusting("ca.pem");
    mxtls_ctx *other = ctx_trusting("otherroot.crt");
    time_t t = first_expiry(chain) - 100 * 86400;
    pkix_result r;
    assert_false(validate(trusting, chain, t, &r));
    assert_true(r.valid);
    assert_false(validate(other, chain, t, &r));
    assert_false(r.valid);
    assert_true(validate(other, chain, t + 1, &r));
    assert_false(r.valid);
    assert_true(validate(trusting, chain, t + 1, &r));
    assert_true(r.valid);
    mxtls_ctx_free(trusting);
    mxtls_ctx_free(other);
    chain_free(chain);
}

/* The same leaf in another chain (its intermediate left out): the memo
 * of the first chain does not answer for the second. */
static void test_chain_is_part_of_the_key(void **state)
{
    (void)state;
    STACK_OF(X509) *chain = load_chain("mx1-chain.pem");
    STACK_OF(X509) *leafonly = sk_X509_new_null();
    assert_non_null(leafonly);
    assert_true(sk_X509_push(leafonly, sk_X509_value(chain, 0)) > 0);
    mxtls_ctx *ctx = ctx_trusting("ca.pem");
    time_t t = first_expiry(chain) - 100 * 86400;
    pkix_result r;
    assert_false(validate(ctx, chain, t, &r));
    assert_true(r.valid);
    assert_false(validate(ctx, leafonly, t, &r));
    assert_false(r.valid);
    assert_string_equal(r.code, "missing-intermediate");
    assert_false(validate(ctx, chain, t, &r)); /* the leaf's memo now holds the other chain */
    assert_true(r.valid);
    sk_X509_free(leafonly);
    mxtls_ctx_free(ctx);
    chain_free(chain);
}

/* Reports get copies: equal texts, their own memory, any digest. */
static void test_report_texts(void **state)
{
    (void)state;
    STACK_OF(X509) *chain = load_chain("mx1-chain.pem");
    mxtls_result *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(chainmemo_report(chain, "sha256", a), MXTLS_OK);
    assert_int_equal(chainmemo_report(chain, "sha256", b), MXTLS_OK);
    assert_int_equal(chainmemo_report(chain, "sha1", c), MXTLS_OK);
    assert_int_equal(a->nchain, (size_t)sk_X509_num(chain));
    assert_int_equal(b->nchain, a->nchain);
    for (size_t i = 0; i < a->nchain; i++) {
        assert_string_equal(a->chain[i].subject, b->chain[i].subject);
        assert_ptr_not_equal(a->chain[i].subject, b->chain[i].subject);
        assert_string_equal(a->chain[i].sha256, c->chain[i].sha256);
        char *fresh = fp_digest_cert(sk_X509_value(chain, (int)i), "sha256", 0);
        assert_string_equal(a->chain[i].sha256, fresh);
        free(fresh);
    }
    assert_string_equal(a->fp_digest, "sha256");
    assert_string_equal(c->fp_digest, "sha1");
    char *fp1 = fp_digest_cert(sk_X509_value(chain, 0), "sha1", 1);
    assert_string_equal(c->fp_pubkey, fp1);
    free(fp1);
    assert_string_equal(a->fp_cert, b->fp_cert);
    assert_int_equal(a->presented.dns.n, b->presented.dns.n);
    assert_true(a->presented.dns.n > 0);
    assert_string_equal(a->presented.dns.v[0], b->presented.dns.v[0]);
    mxtls_result_free(a);
    mxtls_result_free(b);
    mxtls_result_free(c);
    chain_free(chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validity_windows),
        cmocka_unit_test(test_store_is_part_of_the_key),
        cmocka_unit_test(test_chain_is_part_of_the_key),
        cmocka_unit_test(test_report_texts),
    };
    return cmocka_run_group_tests(tests, NULL, tu_group_teardown);
}
