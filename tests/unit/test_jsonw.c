/* test_jsonw.c - the JSON writer: escaping, strict UTF-8, structure */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "report/jsonw.h"

/* one_string - the document for a single string value */
static char *one_string(const char *s)
{
    jsonw w;
    jw_init(&w);
    jw_str(&w, s);
    return jw_finish(&w);
}

static void json_is(const char *in, const char *want)
{
    char *got = one_string(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_escapes(void **state)
{
    (void)state;
    json_is("plain", "\"plain\"");
    json_is("a\"b\\c", "\"a\\\"b\\\\c\"");
    json_is("\x01\x1f\x7f\n", "\"\\u0001\\u001f\\u007f\\u000a\"");
    json_is("", "\"\"");
}

static void test_valid_utf8_kept(void **state)
{
    (void)state;
    json_is("m\xc3\xbcnchen", "\"m\xc3\xbcnchen\"");               /* U+00FC */
    json_is("\xe2\x82\xac", "\"\xe2\x82\xac\"");                   /* U+20AC */
    json_is("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");                   /* U+D7FF */
    json_is("\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\"");           /* U+1F4E7 */
    json_is("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");           /* U+10FFFF */
}

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    const char *fffd = "\\ufffd"; /* written as the escape: the output stays valid UTF-8 */
    char want[64];
    /* overlong "/" (C0 AF): two bytes, each invalid on its own */
    snprintf(want, sizeof want, "\"%s%s\"", fffd, fffd);
    json_is("\xc0\xaf", want);
    /* surrogate U+D800 (ED A0 80): lead replaced, continuation bytes too */
    snprintf(want, sizeof want, "\"%s%s%s\"", fffd, fffd, fffd);
    json_is("\xed\xa0\x80", want);
    /* above U+10FFFF (F4 90 80 80) and F5 lead */
    snprintf(want, sizeof want, "\"%s%s%s%s\"", fffd, fffd, fffd, fffd);
    json_is("\xf4\x90\x80\x80", want);
    json_is("\xf5\x80\x80\x80", want);
    /* overlong three-byte form of U+007F (E0 81 BF) */
    snprintf(want, sizeof want, "\"%s%s%s\"", fffd, fffd, fffd);
    json_is("\xe0\x81\xbf", want);
    /* truncated sequence at the end: both bytes replaced */
    snprintf(want, sizeof want, "\"a%s%s\"", fffd, fffd);
    json_is("a\xe2\x82", want);
}

/* jw_str_as_read gives what a JSON parser (jansson) reads back from what
 * jw_str wrote, for valid and invalid UTF-8 alike */
static void test_str_as_read(void **state)
{
    (void)state;
    static const char *const in[] = {"plain", "m\xc3\xbcnchen", "\xf0\x9f\x93\xa7",
                                     "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                     "a\xe2\x82", "x\xffy\x01\"\\", ""};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *doc = one_string(in[i]), *got = jw_str_as_read(in[i]);
        assert_non_null(doc);
        assert_non_null(got);
        json_error_t je;
        json_t *v = json_loads(doc, JSON_DECODE_ANY, &je);
        assert_non_null(v);
        assert_string_equal(got, json_string_value(v));
        json_decref(v);
        free(doc);
        free(got);
    }
    char *r = jw_str_as_read("a\xe2\x82");
    assert_string_equal(r, "a\xef\xbf\xbd\xef\xbf\xbd");
    free(r);
    assert_null(jw_str_as_read(NULL));
}

static void test_structure(void **state)
{
    (void)state;
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kstr(&w, "a", "x");
    jw_kint(&w, "n", -3);
    jw_kbool(&w, "t", 1);
    jw_key(&w, "l");
    jw_arr(&w);
    jw_str(&w, NULL);
    jw_int(&w, 7);
    jw_end_arr(&w);
    jw_end_obj(&w);
    char *doc = jw_finish(&w);
    assert_non_null(doc);
    assert_string_equal(doc, "{\"a\":\"x\",\"n\":-3,\"t\":true,\"l\":[null,7]}");
    free(doc);
}

/* numbers are written without printf: the edges of the range and zero */
static void test_integers(void **state)
{
    (void)state;
    jsonw w;
    jw_init(&w);
    jw_arr(&w);
    jw_int(&w, 0);
    jw_int(&w, -1);
    jw_int(&w, 10);
    jw_int(&w, LLONG_MAX);
    jw_int(&w, LLONG_MIN);
    jw_end_arr(&w);
    char *doc = jw_finish(&w);
    assert_non_null(doc);
    assert_string_equal(doc, "[0,-1,10,9223372036854775807,-9223372036854775808]");
    free(doc);
}

/* runs of plain text between escapes stay whole and in order */
static void test_runs(void **state)
{
    (void)state;
    json_is("ab\"cd\\ef\x01gh\x7fij", "\"ab\\\"cd\\\\ef\\u0001gh\\u007fij\"");
    json_is("", "\"\"");
    json_is("\xc3\xa9t\xc3\xa9 mx1.example", "\"\xc3\xa9t\xc3\xa9 mx1.example\"");
}

static void test_depth_limit(void **state)
{
    (void)state;
    jsonw w;
    jw_init(&w);
    for (int i = 0; i < JSONW_MAX_DEPTH + 2; i++)
        jw_arr(&w);
    assert_null(jw_finish(&w)); /* too deep: the writer refuses, never overflows */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_valid_utf8_kept),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_str_as_read),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
