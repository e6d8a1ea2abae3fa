/* test_report.c - the report renderers on hand-built inputs: exact text and
 * JSON of `mxtls dns` (src/report/dns_report.c), including UTF-8 in names
 * and TXT strings, and of `mxtls policy` (src/report/policy_report.c)
 *
 * The live tests (tests/live/) check the same reports against the test
 * world's DNS; these pin what no world zone holds: UTF-8 and invalid bytes,
 * control characters, every record type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/dns_report.h"
#include "reportfix.h"
#include "testutil.h"

static const dns_config recursive = {0};

/* dns_json - the JSON report of these answers */
static char *dns_json(const char *domain, int all, const char *mail, const dns_answer **a,
                      size_t n)
{
    dns_report r = {.domain = domain, .cfg = &recursive, .all = all, .mail = mail,
                    .answers = a, .n = n};
    char *s = dns_report_json(&r);
    assert_non_null(s);
    assert_true(tj_valid(s));
    return s;
}

static char *dns_text(const char *domain, int all, const char *mail, const dns_answer **a,
                      size_t n)
{
    dns_report r = {.domain = domain, .cfg = &recursive, .all = all, .mail = mail,
                    .answers = a, .n = n};
    char *s = dns_report_text(&r, 0);
    assert_non_null(s);
    return s;
}

/* UTF-8 in a TXT string and a PTR target is written as UTF-8 (it was
 * written byte by byte as \u00XX, which decodes to other characters);
 * invalid bytes become \ufffd, control characters \u00XX. */
static void test_dns_json_utf8(void **state)
{
    (void)state;
    const rf_rec txt[] = {
        {.type = DNS_T_TXT, .ttl = 300, .text = "gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x89 \xf0\x9f\x93\xa7"},
        {.type = DNS_T_TXT, .ttl = 300, .text = "bad \xff\xc3 byte, tab\there, \"q\" \\"},
    };
    const rf_rec ptr[] = {{.type = DNS_T_PTR, .ttl = 60, .text = "b\xc3\xbc" "cher.example"}};
    const dns_answer *a[2];
    a[0] = rf_answer("example.com", DNS_T_TXT, DNS_DATA, DNS_SEC_SECURE, NULL, txt, 2);
    a[1] = rf_answer("1.2.0.192.in-addr.arpa", DNS_T_PTR, DNS_DATA, DNS_SEC_INSECURE, NULL, ptr,
                     1);
    char *s = dns_json("example.com", 0, NULL, a, 2);
    assert_string_equal(
        s, "{\"domain\":\"example.com\",\"resolver\":{\"mode\":\"recursive\",\"forwarder\":null,"
           "\"trust_anchor\":\"/usr/share/dns/root.key\",\"root_hints\":null},\"mail\":null,"
           "\"lookups\":[{\"name\":\"example.com\",\"type\":\"TXT\",\"outcome\":\"data\","
           "\"security\":\"secure\",\"rcode\":0,\"why\":null,\"advice\":null,\"canonname\":null,"
           "\"truncated\":false,\"records\":["
           "{\"ttl\":300,\"text\":\"gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x89 \xf0\x9f\x93\xa7\"},"
           "{\"ttl\":300,\"text\":\"bad \\ufffd\\ufffd byte, tab\\u0009here, \\\"q\\\" \\\\\"}]},"
           "{\"name\":\"1.2.0.192.in-addr.arpa\",\"type\":\"PTR\",\"outcome\":\"data\","
           "\"security\":\"insecure\",\"rcode\":0,\"why\":null,\"advice\":null,"
           "\"canonname\":null,\"truncated\":false,\"records\":["
           "{\"ttl\":60,\"target\":\"b\xc3\xbc" "cher.example\"}]}]}");
    free(s);
    /* Text keeps escaping every byte outside printable ASCII (a terminal
     * must not be steered by DNS data). */
    s = dns_text("example.com", 0, NULL, a, 2);
    assert_string_equal(
        s, "resolver: recursive, validating with /usr/share/dns/root.key\n"
           "example.com TXT: data, secure\n"
           "  \"gr\\xc3\\xbc\\xc3\\x9f dich \\xe2\\x9c\\x89 \\xf0\\x9f\\x93\\xa7\"\n"
           "  \"bad \\xff\\xc3 byte, tab\\x09here, \"q\" \\x5c\"\n"
           "1.2.0.192.in-addr.arpa PTR: data, insecure\n"
           "  b\\xc3\\xbccher.example\n");
    free(s);
    dns_answer_free((dns_answer *)a[0]);
    dns_answer_free((dns_answer *)a[1]);
}

/* --type all: MX in preference order, the hosts' A, AAAA and TLSA (insecure
 * TLSA gets advice), a lookup without answer skipped; every record type. */
static void test_dns_all(void **state)
{
    (void)state;
    const rf_rec mx[] = {{.type = DNS_T_MX, .ttl = 300, .text = "mx.example.com", .pref = 10}};
    const rf_rec aa[] = {{.type = DNS_T_A, .ttl = 300, .text = "192.0.2.25"}};
    const rf_rec tlsa[] = {{.type = DNS_T_TLSA, .ttl = 3600, .text = "3 1 1 0011",
                            .usage = 3, .selector = 1, .mtype = 1, .hex = "0011"}};
    const rf_rec other[] = {{.type = 99, .ttl = 5, .text = "\"x\""}};
    const dns_answer *a[6];
    a[0] = rf_answer("example.com", DNS_T_MX, DNS_DATA, DNS_SEC_SECURE, NULL, mx, 1);
    a[1] = rf_answer("mx.example.com", DNS_T_A, DNS_DATA, DNS_SEC_SECURE, NULL, aa, 1);
    a[2] = NULL;
    a[3] = rf_answer("_25._tcp.mx.example.com", DNS_T_TLSA, DNS_DATA, DNS_SEC_INSECURE, NULL,
                     tlsa, 1);
    a[4] = rf_answer("mx.example.com", DNS_T_AAAA, DNS_SERVFAIL, DNS_SEC_BOGUS,
                     "signature expired", NULL, 0);
    a[5] = rf_answer("mx.example.com", 99, DNS_DATA, DNS_SEC_SECURE, NULL, other, 1);
    char *s = dns_json("example.com", 1, "mx", a, 6);
    assert_string_equal(tj_str(s, "mail"), "mx");
    assert_int_equal(tj_len(s, "lookups"), 5);
    assert_string_equal(tj_raw(s, "lookups[0].records[0]"),
                        "{\"ttl\":300,\"preference\":10,\"exchange\":\"mx.example.com\"}");
    assert_string_equal(tj_raw(s, "lookups[1].records[0]"),
                        "{\"ttl\":300,\"address\":\"192.0.2.25\"}");
    assert_string_equal(tj_raw(s, "lookups[2].records[0]"),
                        "{\"ttl\":3600,\"usage\":3,\"selector\":1,\"mtype\":1,\"data\":\"0011\"}");
    assert_non_null(strstr(tj_str(s, "lookups[2].advice"), "not DNSSEC-signed"));
    assert_string_equal(tj_str(s, "lookups[3].why"), "signature expired");
    assert_string_equal(tj_raw(s, "lookups[3].rcode"), "2"); /* SERVFAIL */
    assert_string_equal(tj_raw(s, "lookups[4].records[0]"), "{\"ttl\":5,\"rdata\":\"\\\"x\\\"\"}");
    assert_string_equal(tj_str(s, "lookups[4].type"), "TYPE99");
    free(s);
    s = dns_text("example.com", 1, "mx", a, 6);
    assert_non_null(strstr(s, "example.com MX: data, secure\n  10 mx.example.com\n"
                              "mx.example.com A: data, secure\n  192.0.2.25\n"
                              "_25._tcp.mx.example.com TLSA: data, insecure\n  3 1 1 0011\n"
                              "  advice: These TLSA records are not DNSSEC-signed"));
    assert_non_null(strstr(s, "mx.example.com AAAA: servfail, bogus (signature expired)\n"));
    free(s);
    for (size_t i = 0; i < 6; i++)
        dns_answer_free((dns_answer *)a[i]);
}

/* The first answer's note on the mail hosts, and the resolver line. */
static void test_dns_text_notes(void **state)
{
    (void)state;
    const dns_answer *a[1];
    a[0] = rf_answer("example.org", DNS_T_MX, DNS_NODATA, DNS_SEC_SECURE, NULL, NULL, 0);
    dns_config fwd = {.resolver = "192.0.2.53@5353", .trust_anchor = "/tmp/ta"};
    dns_report r = {.domain = "example.org", .cfg = &fwd, .all = 1, .mail = "implicit-mx",
                    .answers = a, .n = 1};
    char *s = dns_report_text(&r, 0);
    assert_string_equal(s, "resolver: forward to 192.0.2.53@5353, validating with /tmp/ta\n"
                           "example.org MX: nodata, secure\n"
                           "  no MX records: example.org itself is the mail host (RFC 5321 "
                           "\xc2\xa7" "5.1)\n");
    free(s);
    s = dns_report_json(&r);
    assert_string_equal(tj_str(s, "resolver.mode"), "forward");
    assert_string_equal(tj_str(s, "resolver.forwarder"), "192.0.2.53@5353");
    assert_string_equal(tj_str(s, "mail"), "implicit-mx");
    free(s);
    dns_answer_free((dns_answer *)a[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_json_utf8),
        cmocka_unit_test(test_dns_all),
        cmocka_unit_test(test_dns_text_notes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
