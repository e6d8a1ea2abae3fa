/* test_tlsrpt - SMTP TLS Reporting (RFC 8460 §3): the _smtp._tls TXT record,
 * its rua URIs, RRset selection; every error with its rule and column */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tlsrpt.h"

/* rec_ok - valid, with these URIs ("|"-separated) */
static void rec_ok(const char *rec, const char *uris)
{
    tlsrpt_record r;
    assert_int_equal(tlsrpt_parse(rec, strlen(rec), &r), MXTLS_OK);
    if (!r.valid)
        fail_msg("\"%s\" rejected: %s at %zu: %s", rec, r.errors.v[0].rule, r.errors.v[0].column,
                 r.errors.v[0].message);
    char joined[1024] = "";
    for (size_t i = 0; i < r.rua.n; i++) {
        if (i)
            strcat(joined, "|");
        strcat(joined, r.rua.v[i]);
    }
    assert_string_equal(joined, uris);
    assert_int_equal(recerr_count(&r.errors), 0);
    tlsrpt_free(&r);
}

/* rec_bad - rejected with exactly one error: rule at column */
static void rec_bad_n(const char *rec, size_t len, const char *rule, size_t column)
{
    tlsrpt_record r;
    assert_int_equal(tlsrpt_parse(rec, len, &r), MXTLS_OK);
    assert_false(r.valid);
    assert_int_equal(r.rua.n, 0);
    assert_int_equal(r.errors.n, 1);
    if (strcmp(r.errors.v[0].rule, rule) || r.errors.v[0].column != column)
        fail_msg("\"%s\": %s at %zu (%s), expected %s at %zu", rec, r.errors.v[0].rule,
                 r.errors.v[0].column, r.errors.v[0].message, rule, column);
    assert_int_equal(r.errors.v[0].line, 1);
    tlsrpt_free(&r);
}

static void rec_bad(const char *rec, const char *rule, size_t column)
{
    rec_bad_n(rec, strlen(rec), rule, column);
}

static void test_valid(void **state)
{
    (void)state;
    rec_ok("v=TLSRPTv1; rua=mailto:reports@example.com", "mailto:reports@example.com");
    rec_ok("v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt",
           "https://reporting.example.com/v1/tlsrpt");
    rec_ok("v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com:8443/x?y=1#f;",
           "mailto:a@example.com|https://r.example.com:8443/x?y=1#f");
    rec_ok("v=TLSRPTv1 ; rua=mailto:a@example.com , mailto:b@example.org ; ext-1=v",
           "mailto:a@example.com|mailto:b@example.org");
    rec_ok("v=TLSRPTv1; x=1; rua=MAILTO:a%21b@example.com?subject=tls%20report",
           "MAILTO:a%21b@example.com?subject=tls%20report");
    rec_ok("v=TLSRPTv1; rua=https://[2001:db8::1]/r", "https://[2001:db8::1]/r");
    rec_ok("v=TLSRPTv1; rua=https://192.0.2.1/r", "https://192.0.2.1/r");
    tlsrpt_record r;
    const char *s = "v=TLSRPTv1; a=1; rua=mailto:x@y.example; b=2";
    assert_int_equal(tlsrpt_parse(s, strlen(s), &r), MXTLS_OK);
    assert_int_equal(r.extensions, 2);
    tlsrpt_free(&r);
}

static void test_version_and_fields(void **state)
{
    (void)state;
    rec_bad("", "tlsrpt-version", 1);
    rec_bad("v=TLSRPTv2; rua=mailto:a@b.example", "tlsrpt-version", 1);
    rec_bad("v=tlsrptv1; rua=mailto:a@b.example", "tlsrpt-version", 1);
    rec_bad("v=TLSRPTv10; rua=mailto:a@b.example", "tlsrpt-version", 1);
    rec_bad("rua=mailto:a@b.example; v=TLSRPTv1", "tlsrpt-version", 1);
    rec_bad("v=TLSRPTv1", "tlsrpt-rua-missing", 0);
    rec_bad("v=TLSRPTv1; RUA=mailto:a@b.example", "tlsrpt-rua-missing", 0);
    rec_bad("v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@b.example", "tlsrpt-rua-duplicate", 37);
    rec_bad("v=TLSRPTv1 rua=mailto:a@b.example", "tlsrpt-syntax", 12);
    rec_bad("v=TLSRPTv1; rua=mailto:a@b.example ", "tlsrpt-syntax", 35);
    rec_bad("v=TLSRPTv1; rua", "tlsrpt-syntax", 16);
    rec_bad("v=TLSRPTv1;; rua=mailto:a@b.example", "tlsrpt-field-name", 12);
    rec_bad("v=TLSRPTv1; x=a=b; rua=mailto:a@b.example", "tlsrpt-field-value", 16);
    rec_bad("v=TLSRPTv1; x=; rua=mailto:a@b.example", "tlsrpt-field-value", 15);
    rec_bad_n("v=TLSRPTv1; x=a\0; rua=mailto:a@b.example", 39, "tlsrpt-field-value", 16);
}

static void test_rua_list(void **state)
{
    (void)state;
    rec_bad("v=TLSRPTv1; rua=", "tlsrpt-uri-syntax", 17);
    rec_bad("v=TLSRPTv1; rua=mailto:a@b.example,", "tlsrpt-uri-syntax", 36);
    rec_bad("v=TLSRPTv1; rua=mailto:a@b.example,,mailto:c@d.example", "tlsrpt-uri-syntax", 36);
    rec_bad("v=TLSRPTv1; rua=mailto:a@b.example mailto:c@d.example", "tlsrpt-syntax", 36);
    /* the cap: TLSRPT_MAX_RUA URIs pass, one more does not */
    char buf[4096] = "v=TLSRPTv1; rua=";
    for (unsigned i = 0; i < TLSRPT_MAX_RUA; i++)
        strcat(buf, i ? ",mailto:r@example.com" : "mailto:r@example.com");
    tlsrpt_record r;
    assert_int_equal(tlsrpt_parse(buf, strlen(buf), &r), MXTLS_OK);
    assert_true(r.valid);
    assert_int_equal(r.rua.n, TLSRPT_MAX_RUA);
    tlsrpt_free(&r);
    strcat(buf, ",mailto:r@example.com");
    assert_int_equal(tlsrpt_parse(buf, strlen(buf), &r), MXTLS_OK);
    assert_false(r.valid);
    assert_string_equal(r.errors.v[0].rule, "tlsrpt-rua-count");
    tlsrpt_free(&r);
}

static void test_uris(void **state)
{
    (void)state;
    /* "!" and "," must be encoded; there is no DMARC-style "!size" */
    rec_bad("v=TLSRPTv1; rua=mailto:a@b.example!10m", "tlsrpt-uri-unencoded", 35);
    rec_bad("v=TLSRPTv1; rua=https://r.example/a!b", "tlsrpt-uri-unencoded", 36);
    /* schemes */
    rec_bad("v=TLSRPTv1; rua=http://r.example/x", "tlsrpt-uri-scheme", 17);
    rec_bad("v=TLSRPTv1; rua=ftp://r.example/x", "tlsrpt-uri-scheme", 17);
    rec_bad("v=TLSRPTv1; rua=reports@example.com", "tlsrpt-uri-syntax", 17);
    rec_bad("v=TLSRPTv1; rua=1mailto:a@b.example", "tlsrpt-uri-syntax", 17);
    rec_bad("v=TLSRPTv1; rua=:a", "tlsrpt-uri-syntax", 17);
    /* characters */
    rec_bad("v=TLSRPTv1; rua=mailto:a%2@b.example", "tlsrpt-uri-syntax", 25);
    rec_bad("v=TLSRPTv1; rua=mailto:a%zz@b.example", "tlsrpt-uri-syntax", 25);
    rec_bad("v=TLSRPTv1; rua=mailto:a\"b@b.example", "tlsrpt-uri-syntax", 25);
    rec_bad("v=TLSRPTv1; rua=mailto:\xc3\xa9@b.example", "tlsrpt-uri-syntax", 24);
    rec_bad("v=TLSRPTv1; rua=mailto:a<b>@b.example", "tlsrpt-uri-syntax", 25);
    /* mailto */
    rec_bad("v=TLSRPTv1; rua=mailto:", "tlsrpt-uri-mailto", 24);
    rec_bad("v=TLSRPTv1; rua=mailto:reports", "tlsrpt-uri-mailto", 24);
    rec_bad("v=TLSRPTv1; rua=mailto:@b.example", "tlsrpt-uri-mailto", 24);
    rec_bad("v=TLSRPTv1; rua=mailto:a@", "tlsrpt-uri-mailto", 26);
    rec_bad("v=TLSRPTv1; rua=mailto:a@b@c.example", "tlsrpt-uri-mailto", 25);
    rec_bad("v=TLSRPTv1; rua=mailto:a@b..example", "tlsrpt-uri-mailto", 26);
    rec_bad("v=TLSRPTv1; rua=mailto:a@-b.example", "tlsrpt-uri-mailto", 26);
    rec_bad("v=TLSRPTv1; rua=mailto:a@b.example.", "tlsrpt-uri-mailto", 26);
    /* https */
    rec_bad("v=TLSRPTv1; rua=https:r.example/x", "tlsrpt-uri-https", 23);
    rec_bad("v=TLSRPTv1; rua=https://", "tlsrpt-uri-https", 25);
    rec_bad("v=TLSRPTv1; rua=https:///x", "tlsrpt-uri-https", 25);
    rec_bad("v=TLSRPTv1; rua=https://user@r.example/", "tlsrpt-uri-https", 29);
    rec_bad("v=TLSRPTv1; rua=https://r.example:0/", "tlsrpt-uri-https", 35);
    rec_bad("v=TLSRPTv1; rua=https://r.example:65536/", "tlsrpt-uri-https", 35);
    rec_bad("v=TLSRPTv1; rua=https://r.example:/", "tlsrpt-uri-https", 35);
    rec_bad("v=TLSRPTv1; rua=https://r.example:8x/", "tlsrpt-uri-https", 36);
    rec_bad("v=TLSRPTv1; rua=https://r_x.example/", "tlsrpt-uri-https", 25);
    rec_bad("v=TLSRPTv1; rua=https://[2001:db8::1/", "tlsrpt-uri-https", 25);
    rec_bad("v=TLSRPTv1; rua=https://[]/", "tlsrpt-uri-https", 25);
    rec_bad("v=TLSRPTv1; rua=https://[fe80::1%25eth0]/", "tlsrpt-uri-https", 33);
    rec_ok("v=TLSRPTv1; rua=https://r.example:65535", "https://r.example:65535");

    /* the direct URI check */
    const char *rule = NULL;
    size_t at = 0;
    char why[128];
    assert_int_equal(tlsrpt_uri_check("mailto:a@b.example", 18, &rule, &at, why, sizeof why), 0);
    assert_int_equal(tlsrpt_uri_check("", 0, &rule, &at, why, sizeof why), -1);
    assert_string_equal(rule, "tlsrpt-uri-syntax");
    assert_int_equal(tlsrpt_uri_check("mailto:a,b@c.example", 20, &rule, &at, why, sizeof why), -1);
    assert_string_equal(rule, "tlsrpt-uri-unencoded");
    assert_int_equal(at, 8);
}

static void test_select(void **state)
{
    (void)state;
    const char *recs[] = {"v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@b.example", "v=TLSRPTv10; x",
                          "v=TLSRPTv1; rua=mailto:c@d.example"};
    size_t lens[4];
    for (int i = 0; i < 4; i++)
        lens[i] = strlen(recs[i]);
    tlsrpt_record r;
    size_t which = 99;
    assert_int_equal(tlsrpt_select(recs, lens, 3, &r, &which), MXTLS_OK);
    assert_true(r.valid);
    assert_int_equal(which, 1);
    assert_string_equal(r.rua.v[0], "mailto:a@b.example");
    tlsrpt_free(&r);
    assert_int_equal(tlsrpt_select(recs, lens, 4, &r, &which), MXTLS_OK);
    assert_false(r.valid);
    assert_int_equal(which, (size_t)-1);
    assert_string_equal(r.errors.v[0].rule, "tlsrpt-multiple");
    assert_int_equal(r.errors.v[0].line, 4);
    tlsrpt_free(&r);
    assert_int_equal(tlsrpt_select(recs, lens, 1, &r, NULL), MXTLS_OK);
    assert_string_equal(r.errors.v[0].rule, "tlsrpt-none");
    tlsrpt_free(&r);
    const char *bad[] = {"x", "v=TLSRPTv1; rua=http://a.example/"};
    size_t blen[] = {1, strlen(bad[1])};
    assert_int_equal(tlsrpt_select(bad, blen, 2, &r, &which), MXTLS_OK);
    assert_false(r.valid);
    assert_int_equal(which, 1);
    assert_string_equal(r.errors.v[0].rule, "tlsrpt-uri-scheme");
    assert_int_equal(r.errors.v[0].line, 2);
    assert_int_equal(r.errors.v[0].column, 17);
    tlsrpt_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_version_and_fields),
        cmocka_unit_test(test_rua_list),
        cmocka_unit_test(test_uris),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
