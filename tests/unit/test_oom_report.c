/* test_oom_report.c - out of memory in the output layer: the JSON writer
 * and the renderers of `mxtls dns`, `mxtls tlsa gen|check` and `mxtls
 * policy` fail every allocation in turn (tests/unit/failmalloc.h)
 *
 * Each run must give the report of the run without failures or NULL (out of
 * memory); never a cut or different report, no crash, no leak (ASan build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mxtls.h"
#include "report/dns_report.h"
#include "report/jsonw.h"
#include "report/policy_report.h"
#include "report/tlsa_report.h"
#include "failmalloc.h"
#include "reportfix.h"
#include "testutil.h"

/* A renderer under test: one document (caller frees) or NULL. */
typedef char *(*render_fn)(const void *in);

typedef struct render_case {
    render_fn fn;
    const void *in;
    char *want;
} render_case;

static int op_render(void *arg)
{
    render_case *c = arg;
    fm_start();
    char *doc = c->fn(c->in);
    fm_stop();
    if (!doc)
        return FM_NOMEM;
    int rc = FM_SAME;
    if (!c->want)
        c->want = strdup(doc);
    else if (strcmp(c->want, doc) != 0) {
        fprintf(stderr, "want: %s\ngot:  %s\n", c->want, doc);
        rc = FM_WRONG;
    }
    free(doc);
    return rc;
}

/* run - every allocation of one renderer failing in turn; the document of
 * the run without failures (caller frees) */
static char *run(const char *what, render_fn fn, const void *in, int openssl)
{
    render_case c = {.fn = fn, .in = in};
    fm_run(what, op_render, &c, openssl);
    assert_non_null(c.want);
    return c.want;
}

/* ---- the JSON writer ----------------------------------------------------- */

static char *json_doc(const void *in)
{
    const strlist *l = in;
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "n", -42);
    jw_kstr(&w, "utf8", "m\xc3\xbcnchen \xf0\x9f\x93\xa7 \xff \x01");
    jw_kbool(&w, "t", 1);
    jw_key(&w, "list");
    jw_arr(&w);
    for (int i = 0; i < 40; i++) {
        jw_obj(&w);
        jw_kint(&w, "i", i);
        jw_kstr(&w, "s", "a fairly long string so that the buffer grows a few times");
        jw_key(&w, "null");
        jw_null(&w);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_kstrlist(&w, "strings", l);
    jw_end_obj(&w);
    return jw_finish(&w);
}

static void test_jsonw(void **state)
{
    (void)state;
    strlist l = {0};
    assert_int_equal(strlist_add(&l, "x"), MXTLS_OK);
    assert_int_equal(strlist_add(&l, "y\xc3\xbc"), MXTLS_OK);
    char *doc = run("JSON writer", json_doc, &l, 0);
    strlist_free(&l);
    assert_true(tj_valid(doc));
    assert_string_equal(tj_str(doc, "utf8"), "m\xc3\xbcnchen \xf0\x9f\x93\xa7 \\ufffd \\u0001");
    free(doc);
}

/* ---- mxtls dns ------------------------------------------------------------ */

static const dns_config recursive = {0};

static char *dns_text_of(const void *in) { return dns_report_text(in, 1); }
static char *dns_json_of(const void *in) { return dns_report_json(in); }

static void test_dns_report(void **state)
{
    (void)state;
    const rf_rec mx[] = {{.type = DNS_T_MX, .ttl = 300, .text = "mx.example.com", .pref = 10},
                         {.type = DNS_T_MX, .ttl = 300, .text = "b\xc3\xbc.example", .pref = 20}};
    const rf_rec txt[] = {{.type = DNS_T_TXT, .ttl = 300, .text = "v=spf1 \xe2\x9c\x89 \xff"}};
    const rf_rec tlsa[] = {{.type = DNS_T_TLSA, .ttl = 3600, .text = "3 1 1 0011",
                            .usage = 3, .selector = 1, .mtype = 1, .hex = "00112233"}};
    const dns_answer *a[4];
    a[0] = rf_answer("example.com", DNS_T_MX, DNS_DATA, DNS_SEC_SECURE, NULL, mx, 2);
    a[1] = rf_answer("example.com", DNS_T_TXT, DNS_DATA, DNS_SEC_SECURE, NULL, txt, 1);
    a[2] = rf_answer("_25._tcp.mx.example.com", DNS_T_TLSA, DNS_DATA, DNS_SEC_INSECURE, NULL,
                     tlsa, 1);
    a[3] = rf_answer("mx.example.com", DNS_T_A, DNS_SERVFAIL, DNS_SEC_BOGUS,
                     "validation failure <mx.example.com. A IN>: signature expired", NULL, 0);
    dns_report r = {.domain = "example.com", .cfg = &recursive, .all = 1, .mail = "mx",
                    .answers = a, .n = 4};
    char *doc = run("dns report text", dns_text_of, &r, 1);
    assert_non_null(strstr(doc, "  20 b\\xc3\\xbc.example\n"));
    free(doc);
    doc = run("dns report JSON", dns_json_of, &r, 1);
    assert_string_equal(tj_str(doc, "lookups[1].records[0].text"), "v=spf1 \xe2\x9c\x89 \\ufffd");
    free(doc);
    for (size_t i = 0; i < 4; i++)
        dns_answer_free((dns_answer *)a[i]);
}

/* ---- mxtls tlsa ---------------------------------------------------------- */

static char *gen_text_of(const void *in) { return tlsa_report_gen_text(in); }
static char *check_text_of(const void *in) { return tlsa_report_check_text(in, "example.com"); }
static char *check_json_of(const void *in) { return tlsa_report_check_json(in, "example.com"); }

static void test_tlsa_report(void **state)
{
    (void)state;
    dane_rr rr[2];
    assert_int_equal(dane_rr_parse("2 0 1 00112233445566778899aabbccddeeff00112233445566778899"
                                   "aabbccddeeff", &rr[0], NULL), 0);
    assert_int_equal(dane_rr_parse("2 0 1 00112233445566778899aabbccddeeff00112233445566778899"
                                   "aabbccddeeff", &rr[1], NULL), 0);
    X509 *ta = tu_load_x509("inter.crt");
    tlsa_gen_item items[2] = {{.file = "cert.pem", .rr = &rr[0], .ta = ta, .index = 1},
                              {.file = "next.pem", .rr = &rr[1], .ta = ta, .index = 1}};
    tlsa_gen_report g = {.owner = "_25._tcp.mx.example.com.", .host = "mx.example.com",
                         .host_derived = 1, .ttl = 3600, .usage = 2, .selector = 0,
                         .items = items, .nitems = 2};
    /* OpenSSL's allocations too: the CA's subject is printed by OpenSSL */
    char *doc = run("tlsa gen text", gen_text_of, &g, 1);
    assert_non_null(strstr(doc, "; DANE-TA: the CA \"O=mxtls test,CN=mxtls Test Intermediate "
                                "CA\" (certificate 2 of cert.pem, the issuer of the leaf)"));
    assert_non_null(strstr(doc, "; (same record as for cert.pem: printed once)\n"));
    free(doc);
    X509_free(ta);
    dane_rr_clear(&rr[0]);
    dane_rr_clear(&rr[1]);

    rf_tlsa t;
    rf_tlsa_build(&t);
    doc = run("tlsa check text", check_text_of, &t.res, 1);
    assert_non_null(strstr(doc, "    192.0.2.25: authenticated by [1] (dane-ee, depth 0)\n"));
    assert_non_null(strstr(doc, "    next.pem: WILL BREAK DANE: tlsa-mismatch: no record "
                                "matches\n"));
    free(doc);
    doc = run("tlsa check JSON", check_json_of, &t.res, 1);
    assert_true(tj_valid(doc));
    assert_string_equal(tj_str(doc, "result.status"), "will-break");
    assert_string_equal(tj_raw(doc, "hosts[0].tlsa.records[1].addresses[1].data_depth"), "0");
    free(doc);
    rf_tlsa_free(&t);
}

/* ---- mxtls policy -------------------------------------------------------- */

typedef struct policy_in {
    const mxtls_policy_entry *e;
    const char *warnings;
} policy_in;

static char *lookup_text_of(const void *in)
{
    return policy_report_lookup_text("t.map", "b\xc3\xbc" "cher.example",
                                     ((const policy_in *)in)->e);
}
static char *lookup_json_of(const void *in)
{
    return policy_report_lookup_json("t.map", "b\xc3\xbc" "cher.example",
                                     ((const policy_in *)in)->e);
}
static char *check_ptext_of(const void *in)
{
    return policy_report_check_text("t.map", 3, ((const policy_in *)in)->warnings);
}
static char *check_pjson_of(const void *in)
{
    return policy_report_check_json("t.map", 3, ((const policy_in *)in)->warnings);
}
static char *check_perr_of(const void *in)
{
    (void)in;
    return policy_report_check_error_json("t.map", "t.map:3:13", "unknown level \"verfy\"");
}

static void test_policy_report(void **state)
{
    (void)state;
    static const char map_text[] =
        "b\303\274cher.example secure match=nexthop:.b\303\274cher.example protocols=\377x "
        "ciphers=high exclude=aNULL servername=hostname\n"
        "old.example encrypt protocols=TLSv1\n"
        "*  may\n";
    mxtls_ctx *ctx = mxtls_ctx_new();
    assert_non_null(ctx);
    mxtls_policymap *map = mxtls_policymap_parse(ctx, map_text, strlen(map_text), "t.map");
    assert_non_null(map);
    char *warn = mxtls_policymap_warnings(ctx, map, "sha256");
    assert_non_null(warn);
    policy_in in = {.e = mxtls_policymap_lookup(map, "xn--bcher-kva.example"), .warnings = warn};
    assert_non_null(in.e);
    char *doc = run("policy lookup text", lookup_text_of, &in, 0);
    assert_non_null(strstr(doc, "level        secure\n"));
    free(doc);
    doc = run("policy lookup JSON", lookup_json_of, &in, 0);
    assert_string_equal(tj_str(doc, "entry.attributes.protocols"), "\\ufffdx");
    free(doc);
    in.e = NULL;
    doc = run("policy lookup text, no entry", lookup_text_of, &in, 0);
    assert_string_equal(doc, "no entry applies to b\xc3\xbc" "cher.example\n");
    free(doc);
    doc = run("policy check text", check_ptext_of, &in, 0);
    assert_non_null(strstr(doc, "t.map:3: warning: *: "));
    free(doc);
    doc = run("policy check JSON", check_pjson_of, &in, 0);
    /* protocols=\377x (unparsable), protocols=TLSv1, "*" */
    assert_int_equal(tj_len(doc, "warnings"), 3);
    assert_string_equal(tj_str(doc, "warnings[0].where"), "t.map:1");
    assert_string_equal(tj_str(doc, "warnings[1].where"), "t.map:2");
    free(doc);
    doc = run("policy check error JSON", check_perr_of, &in, 0);
    assert_string_equal(tj_str(doc, "error.where"), "t.map:3:13");
    free(doc);
    free(warn);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

int main(void)
{
    fm_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonw),
        cmocka_unit_test(test_dns_report),
        cmocka_unit_test(test_tlsa_report),
        cmocka_unit_test(test_policy_report),
    };
    int rc = cmocka_run_group_tests(tests, NULL, tu_group_teardown);
    printf("%ld runs with one allocation failing\n", fm_.runs);
    return rc;
}
