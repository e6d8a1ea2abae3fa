/* test_mtasts_eval.c - the level mta-sts (core/mtasts_eval.c): enforce,
 * testing, none, no policy, DANE precedence, coverage and names, on the
 * unit certificates of tests/pki/gen-unit-certs.sh ($MXTLS_TEST_CERTS) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/ctx.h"
#include "core/evidence.h"
#include "core/result.h"
#include "mxtls.h"
#include "testutil.h"

#define AT 1780272000 /* 2026-06-01T00:00:00Z */

#define ENFORCE "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 86400\n"
#define ENFORCE_WILD "version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 86400\n"
#define ENFORCE_OTHER "version: STSv1\nmode: enforce\nmx: mx9.example.com\nmax_age: 86400\n"
#define TESTING_OTHER "version: STSv1\nmode: testing\nmx: mx9.example.com\nmax_age: 86400\n"
#define TESTING_OK "version: STSv1\nmode: testing\nmx: mx1.example.com\nmax_age: 86400\n"
#define MODE_NONE "version: STSv1\nmode: none\nmax_age: 86400\n"

typedef struct spec {
    const char *chain;   /* file in $MXTLS_TEST_CERTS, NULL: no STARTTLS */
    const char *mx;      /* the MX host */
    const char *policy;  /* NULL: none */
    const char *tlsa;    /* a secure TLSA record, or NULL */
    int mx_secure;
} spec;

static mxtls_result *eval(const spec *s)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    assert_int_equal(mxtls_ctx_set_ca_file(ctx, tu_certs_path("ca.pem")), MXTLS_OK);
    mxtls_ctx_set_time(ctx, AT);
    assert_int_equal(mxtls_evidence_set_domain(ctx, ev, "example.com"), MXTLS_OK);
    assert_int_equal(mxtls_evidence_add_mx(ctx, ev, s->mx), MXTLS_OK);
    mxtls_evidence_set_mx_secure(ev, s->mx_secure);
    if (s->policy)
        assert_int_equal(mxtls_evidence_set_sts_policy(ctx, ev, s->policy, strlen(s->policy),
                                                       "fetched"),
                         MXTLS_OK);
    if (s->tlsa) {
        assert_int_equal(mxtls_evidence_add_tlsa(ctx, ev, s->tlsa), MXTLS_OK);
        assert_int_equal(mxtls_evidence_set_tlsa_state(ctx, ev, MXTLS_TLSA_SECURE, NULL, NULL),
                         MXTLS_OK);
    }
    if (s->chain) {
        size_t len;
        char *pem = tu_read_cert(s->chain, &len);
        assert_int_equal(mxtls_evidence_set_chain_pem(ctx, ev, pem, len, s->chain), MXTLS_OK);
        free(pem);
    } else {
        mxtls_evidence_set_no_tls(ev, 1);
    }
    mxtls_result *r = mxtls_evaluate(ctx, ev, MXTLS_LEVEL_MTA_STS);
    if (!r)
        fail_msg("%s", mxtls_ctx_error(ctx));
    assert_int_equal(mxtls_result_level(r), MXTLS_LEVEL_MTA_STS);
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    return r;
}

/* has - the reason code with this kind is among the reasons */
static int has(const mxtls_result *r, const char *kind, const char *code)
{
    for (size_t i = 0; i < r->nreasons; i++)
        if (!strcmp(r->reasons[i].code, code) && !strcmp(r->reasons[i].kind, kind))
            return 1;
    return 0;
}

static void expect(const spec *s, mxtls_verdict v, mxtls_security sec, const char *code)
{
    mxtls_result *r = eval(s);
    assert_int_equal(mxtls_result_verdict(r), v);
    assert_int_equal(mxtls_result_security(r), sec);
    assert_string_equal(mxtls_result_reason_code(r, 0), code);
    mxtls_result_free(r);
}

static void test_enforce_pass(void **state)
{
    (void)state;
    spec s = {"mx1-chain.pem", "mx1.example.com", ENFORCE, NULL, 0};
    expect(&s, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "sts-verified");
    /* "*.example.com" covers mx1.example.com (one label) */
    spec w = {"mx1-chain.pem", "mx1.example.com", ENFORCE_WILD, NULL, 0};
    expect(&w, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "sts-verified");
}

static void test_enforce_uncovered(void **state)
{
    (void)state;
    spec s = {"mx1-chain.pem", "mx1.example.com", ENFORCE_OTHER, NULL, 0};
    expect(&s, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "sts-mx-not-covered");
    /* "*.example.com" does not cover a.mx1.example.com (two labels); the
     * certificate does not name it either */
    spec w = {"mx1-chain.pem", "a.mx1.example.com", ENFORCE_WILD, NULL, 0};
    mxtls_result *r = eval(&w);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_FAIL);
    assert_string_equal(mxtls_result_reason_code(r, 0), "sts-mx-not-covered");
    assert_true(has(r, "decisive", "sts-name-mismatch"));
    /* may's own reason stays as context */
    assert_true(has(r, "info", "encrypted"));
    mxtls_result_free(r);
}

static void test_enforce_names(void **state)
{
    (void)state;
    /* a CN-only certificate: RFC 8461 §4.2 has no CN fallback */
    spec cn = {"cnonly-chain.pem", "mx1.example.com", ENFORCE, NULL, 0};
    expect(&cn, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "sts-name-mismatch");
    /* the certificate names another host */
    spec helo = {"helo-chain.pem", "mx1.example.com", ENFORCE, NULL, 0};
    expect(&helo, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "sts-name-mismatch");
    /* PKIX: expired */
    spec ex = {"expired-chain.pem", "mx1.example.com", ENFORCE, NULL, 0};
    mxtls_result *r = eval(&ex);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_FAIL);
    assert_true(has(r, "decisive", "expired"));
    mxtls_result_free(r);
    /* no STARTTLS */
    spec plain = {NULL, "mx1.example.com", ENFORCE, NULL, 0};
    expect(&plain, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "sts-no-tls");
}

static void test_testing(void **state)
{
    (void)state;
    spec s = {"mx1-chain.pem", "mx1.example.com", TESTING_OTHER, NULL, 0};
    mxtls_result *r = eval(&s);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_PASS);
    assert_int_equal(mxtls_result_security(r), MXTLS_SECURITY_ENCRYPTED);
    assert_string_equal(mxtls_result_reason_code(r, 0), "encrypted");
    assert_true(has(r, "warning", "sts-mx-not-covered"));
    assert_true(has(r, "info", "sts-testing"));
    mxtls_result_free(r);
    /* testing, no failure: may's verdict, sts-verified as info */
    spec ok = {"mx1-chain.pem", "mx1.example.com", TESTING_OK, NULL, 0};
    r = eval(&ok);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_PASS);
    assert_int_equal(mxtls_result_security(r), MXTLS_SECURITY_ENCRYPTED);
    assert_true(has(r, "info", "sts-verified"));
    mxtls_result_free(r);
    /* testing without STARTTLS: plaintext, with a warning */
    spec plain = {NULL, "mx1.example.com", TESTING_OK, NULL, 0};
    r = eval(&plain);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_PASS);
    assert_int_equal(mxtls_result_security(r), MXTLS_SECURITY_PLAINTEXT);
    assert_true(has(r, "warning", "sts-no-tls"));
    mxtls_result_free(r);
}

static void test_no_policy_and_none(void **state)
{
    (void)state;
    spec s = {"helo-chain.pem", "mx1.example.com", NULL, NULL, 0};
    mxtls_result *r = eval(&s);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_PASS);
    assert_string_equal(mxtls_result_reason_code(r, 0), "encrypted");
    assert_true(has(r, "info", "sts-no-policy"));
    mxtls_result_free(r);
    spec n = {"helo-chain.pem", "mx1.example.com", MODE_NONE, NULL, 0};
    r = eval(&n);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_PASS);
    assert_true(has(r, "info", "sts-mode-none"));
    mxtls_result_free(r);
}

static void test_dane_precedence(void **state)
{
    (void)state;
    /* A secure TLSA record that does not match, and a policy that would
     * pass: DANE decides (fail), MTA-STS does not apply (RFC 8461 §2). */
    spec s = {"mx1-chain.pem", "mx1.example.com", ENFORCE,
              "3 1 1 0000000000000000000000000000000000000000000000000000000000000000", 1};
    mxtls_result *r = eval(&s);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_FAIL);
    assert_true(has(r, "info", "sts-dane-precedence"));
    mxtls_result_free(r);
    /* the same records under an insecure MX RRset: DANE does not apply */
    s.mx_secure = 0;
    expect(&s, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "sts-verified");
}

static void test_bad_policy_text(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    const char *bad = "version: STSv1\nmode: enforce\nmax_age: 86400\n"; /* no mx */
    assert_int_equal(mxtls_evidence_set_sts_policy(ctx, ev, bad, strlen(bad), "p.txt"),
                     MXTLS_ERR_PARSE);
    assert_string_equal(mxtls_ctx_error_where(ctx), "p.txt");
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enforce_pass),     cmocka_unit_test(test_enforce_uncovered),
        cmocka_unit_test(test_enforce_names),    cmocka_unit_test(test_testing),
        cmocka_unit_test(test_no_policy_and_none), cmocka_unit_test(test_dane_precedence),
        cmocka_unit_test(test_bad_policy_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
