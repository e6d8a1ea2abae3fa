/* test_ehlo - capability parsing from the lines of a 250 EHLO reply */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/ehlo.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* parse - ehlo_parse into a fresh struct */
static void parse(ehlo_caps *c, const char *const *lines, size_t n)
{
    ehlo_caps_init(c);
    assert_int_equal(ehlo_parse(c, lines, n), MXTLS_OK);
}

static void test_postfix(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "mx.example.com", "PIPELINING", "SIZE 10240000", "VRFY",     "ETRN",    "STARTTLS",
        "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",      "SMTPUTF8", "CHUNKING",
    };
    ehlo_caps c;
    parse(&c, lines, N(lines));
    assert_string_equal(c.domain, "mx.example.com");
    assert_int_equal(c.ext, EHLO_PIPELINING | EHLO_SIZE | EHLO_STARTTLS |
                                EHLO_ENHANCEDSTATUSCODES | EHLO_8BITMIME | EHLO_DSN |
                                EHLO_SMTPUTF8 | EHLO_CHUNKING);
    assert_true(c.size_value);
    assert_int_equal(c.size, 10240000);
    assert_int_equal(c.auth.n, 0);
    assert_int_equal(c.unknown.n, 2);
    assert_string_equal(c.unknown.v[0], "VRFY");
    assert_string_equal(c.unknown.v[1], "ETRN");
    assert_int_equal(c.keywords.n, 10);
    assert_string_equal(c.keywords.v[1], "SIZE");
    assert_int_equal(c.problems_total, 0);
    ehlo_caps_free(&c);
}

static void test_greeting_text_and_case(void **state)
{
    (void)state;
    static const char *const lines[] = {"mx.example.com Hello client [192.0.2.1]", "starttls",
                                        "Pipelining", "requiretls", "x-link2state"};
    ehlo_caps c;
    parse(&c, lines, N(lines));
    assert_string_equal(c.domain, "mx.example.com");
    assert_int_equal(c.ext, EHLO_STARTTLS | EHLO_PIPELINING | EHLO_REQUIRETLS);
    assert_string_equal(c.keywords.v[0], "STARTTLS");
    assert_string_equal(c.keywords.v[3], "X-LINK2STATE");
    assert_int_equal(c.unknown.n, 1);
    assert_string_equal(c.unknown.v[0], "x-link2state");
    assert_int_equal(c.problems_total, 0);
    ehlo_caps_free(&c);
}

static void test_auth_forms(void **state)
{
    (void)state;
    static const char *const lines[] = {"mx", "AUTH PLAIN LOGIN cram-md5", "AUTH=LOGIN PLAIN NTLM"};
    ehlo_caps c;
    parse(&c, lines, N(lines));
    assert_int_equal(c.ext, EHLO_AUTH);
    assert_true(c.auth_equals);
    assert_int_equal(c.auth.n, 4);
    assert_string_equal(c.auth.v[0], "PLAIN");
    assert_string_equal(c.auth.v[1], "LOGIN");
    assert_string_equal(c.auth.v[2], "CRAM-MD5");
    assert_string_equal(c.auth.v[3], "NTLM");
    assert_int_equal(c.keywords.n, 2);
    assert_string_equal(c.keywords.v[1], "AUTH");
    assert_int_equal(c.problems_total, 0);
    ehlo_caps_free(&c);

    static const char *const only_old[] = {"mx", "auth=login"};
    parse(&c, only_old, N(only_old));
    assert_int_equal(c.ext, EHLO_AUTH);
    assert_true(c.auth_equals);
    assert_int_equal(c.auth.n, 1);
    assert_string_equal(c.auth.v[0], "LOGIN");
    ehlo_caps_free(&c);

    static const char *const empty[] = {"mx", "AUTH", "AUTH="};
    parse(&c, empty, N(empty));
    assert_int_equal(c.ext, EHLO_AUTH);
    assert_int_equal(c.auth.n, 0);
    assert_int_equal(c.problems_total, 2);
    assert_int_equal(c.problems[0].line, 2);
    assert_int_equal(c.problems[0].column, 5);
    assert_string_equal(c.problems[0].message, "AUTH without mechanisms");
    assert_int_equal(c.problems[1].line, 3);
    assert_int_equal(c.problems[1].column, 6);
    ehlo_caps_free(&c);
}

static void test_size_values(void **state)
{
    (void)state;
    ehlo_caps c;
    static const char *const none[] = {"mx", "SIZE"};
    parse(&c, none, N(none));
    assert_int_equal(c.ext, EHLO_SIZE);
    assert_false(c.size_value);
    assert_int_equal(c.problems_total, 0);
    ehlo_caps_free(&c);

    static const char *const zero[] = {"mx", "SIZE 0"};
    parse(&c, zero, N(zero));
    assert_true(c.size_value);
    assert_int_equal(c.size, 0);
    ehlo_caps_free(&c);

    static const char *const max[] = {"mx", "SIZE 18446744073709551615"};
    parse(&c, max, N(max));
    assert_true(c.size_value);
    assert_true(c.size == UINT64_MAX);
    ehlo_caps_free(&c);

    static const char *const over[] = {"mx", "SIZE 18446744073709551616"};
    parse(&c, over, N(over));
    assert_int_equal(c.ext, EHLO_SIZE);
    assert_false(c.size_value);
    assert_int_equal(c.problems_total, 1);
    assert_string_equal(c.problems[0].message, "SIZE value too large");
    ehlo_caps_free(&c);

    static const char *const bad[] = {"mx", "SIZE 10M", "SIZE 1 2"};
    parse(&c, bad, N(bad));
    assert_int_equal(c.problems_total, 2);
    assert_int_equal(c.problems[0].line, 2);
    assert_int_equal(c.problems[0].column, 8);
    assert_string_equal(c.problems[0].message, "SIZE value is not a number");
    assert_int_equal(c.problems[1].line, 3);
    assert_int_equal(c.problems[1].column, 7);
    assert_string_equal(c.problems[1].message, "SIZE has more than one parameter");
    /* The later valid value wins. */
    assert_true(c.size_value);
    assert_int_equal(c.size, 1);
    ehlo_caps_free(&c);
}

/* A keyword that merely starts with a known one is another keyword: it does
 * not offer that extension, and it is kept with the unknown ones. The same
 * words spelled as prefixes (STARTTL, SIZ) are not the extension either. */
static void test_prefix_is_not_keyword(void **state)
{
    (void)state;
    ehlo_caps c;
    static const char *const lines[] = {"mx",          "STARTTLSX", "SIZEX 10", "AUTHX PLAIN",
                                        "PIPELININGX", "STARTTL",   "SIZ 5",    "8BITMIMES",
                                        "DSNX",        "CHUNKING2", "SMTPUTF8X"};
    parse(&c, lines, N(lines));
    assert_int_equal(c.ext, 0);
    assert_false(c.size_value);
    assert_int_equal(c.size, 0);
    assert_int_equal(c.auth.n, 0);
    assert_false(c.auth_equals);
    assert_int_equal(c.unknown.n, N(lines) - 1);
    for (size_t i = 1; i < N(lines); i++)
        assert_string_equal(c.unknown.v[i - 1], lines[i]);
    assert_int_equal(c.keywords.n, N(lines) - 1);
    assert_string_equal(c.keywords.v[0], "STARTTLSX");
    assert_string_equal(c.keywords.v[1], "SIZEX");
    /* no "unexpected parameter" or SIZE findings about keywords we do not know */
    assert_int_equal(c.problems_total, 0);
    ehlo_caps_free(&c);

    /* next to the real ones, only the real ones count */
    static const char *const both[] = {"mx", "STARTTLSX", "SIZEX 10", "SIZE 20", "STARTTLS"};
    parse(&c, both, N(both));
    assert_int_equal(c.ext, EHLO_STARTTLS | EHLO_SIZE);
    assert_true(c.size_value);
    assert_int_equal(c.size, 20);
    assert_int_equal(c.unknown.n, 2);
    assert_string_equal(c.unknown.v[0], "STARTTLSX");
    assert_string_equal(c.unknown.v[1], "SIZEX 10");
    assert_int_equal(c.problems_total, 0);
    ehlo_caps_free(&c);
}

/* Keywords are case-insensitive (RFC 5321 §2.4), every letter of them. */
static void test_lower_case_keywords(void **state)
{
    (void)state;
    ehlo_caps c;
    static const char *const lines[] = {"mx", "size 35882577", "smtputf8", "Chunking",
                                        "enhancedstatuscodes", "auth login"};
    parse(&c, lines, N(lines));
    assert_int_equal(c.ext, EHLO_SIZE | EHLO_SMTPUTF8 | EHLO_CHUNKING |
                                EHLO_ENHANCEDSTATUSCODES | EHLO_AUTH);
    assert_true(c.size_value);
    assert_int_equal(c.size, 35882577);
    assert_string_equal(c.keywords.v[0], "SIZE");
    assert_string_equal(c.keywords.v[1], "SMTPUTF8");
    assert_int_equal(c.auth.n, 1);
    assert_string_equal(c.auth.v[0], "LOGIN");
    assert_int_equal(c.unknown.n, 0);
    assert_int_equal(c.problems_total, 0);
    ehlo_caps_free(&c);
}

static void test_problems(void **state)
{
    (void)state;
    ehlo_caps c;
    static const char *const lines[] = {"mx", "X_FOO bar", "STARTTLS now", "", " PIPELINING",
                                        "AUTH  PLAIN", "XFOO \x01", "-DASH"};
    parse(&c, lines, N(lines));
    assert_int_equal(c.ext, EHLO_STARTTLS | EHLO_AUTH);
    assert_int_equal(c.problems_total, 7);
    assert_int_equal(c.problems[0].line, 2);
    assert_int_equal(c.problems[0].column, 2);
    assert_string_equal(c.problems[0].message, "invalid character in keyword");
    assert_int_equal(c.problems[1].line, 3);
    assert_int_equal(c.problems[1].column, 9);
    assert_string_equal(c.problems[1].message, "unexpected parameter after STARTTLS");
    assert_string_equal(c.problems[2].message, "empty line");
    assert_string_equal(c.problems[3].message, "line starts with a space");
    assert_int_equal(c.problems[4].line, 6);
    assert_int_equal(c.problems[4].column, 5);
    assert_string_equal(c.problems[4].message, "extra space");
    assert_int_equal(c.problems[5].line, 7);
    assert_int_equal(c.problems[5].column, 6);
    assert_string_equal(c.problems[5].message, "invalid character in parameter");
    assert_int_equal(c.problems[6].line, 8);
    assert_int_equal(c.problems[6].column, 1);
    assert_int_equal(c.unknown.n, 4); /* X_FOO bar, " PIPELINING", XFOO, -DASH */
    assert_int_equal(c.auth.n, 1);
    assert_string_equal(c.unknown.v[0], "X_FOO bar");
    ehlo_caps_free(&c);
}

static void test_first_line(void **state)
{
    (void)state;
    ehlo_caps c;
    ehlo_caps_init(&c);
    assert_int_equal(ehlo_parse(&c, NULL, 0), MXTLS_OK);
    assert_string_equal(c.domain, "");
    assert_int_equal(c.problems_total, 1);
    assert_string_equal(c.problems[0].message, "empty EHLO reply");
    ehlo_caps_free(&c);

    static const char *const nodomain[] = {""};
    parse(&c, nodomain, 1);
    assert_string_equal(c.domain, "");
    assert_string_equal(c.problems[0].message, "no domain in the first line");
    ehlo_caps_free(&c);

    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *const lng[] = {longname};
    parse(&c, lng, 1);
    assert_int_equal(strlen(c.domain), EHLO_MAX_DOMAIN);
    assert_int_equal(c.problems[0].column, EHLO_MAX_DOMAIN + 1);
    ehlo_caps_free(&c);
}

static void test_problem_cap(void **state)
{
    (void)state;
    const char *lines[41];
    lines[0] = "mx";
    for (size_t i = 1; i < N(lines); i++)
        lines[i] = "BAD_KEY";
    ehlo_caps c;
    parse(&c, lines, N(lines));
    assert_int_equal(c.problems_total, 40);
    assert_int_equal(c.nproblems, EHLO_MAX_PROBLEMS);
    assert_int_equal(c.problems[EHLO_MAX_PROBLEMS - 1].line, EHLO_MAX_PROBLEMS + 1);
    ehlo_caps_free(&c);
}

static void test_reparse_frees(void **state)
{
    (void)state;
    static const char *const a[] = {"one", "STARTTLS", "AUTH PLAIN"};
    static const char *const b[] = {"two", "PIPELINING"};
    ehlo_caps c;
    parse(&c, a, N(a));
    assert_int_equal(ehlo_parse(&c, b, N(b)), MXTLS_OK);
    assert_string_equal(c.domain, "two");
    assert_int_equal(c.ext, EHLO_PIPELINING);
    assert_int_equal(c.auth.n, 0);
    ehlo_caps_free(&c);
    ehlo_caps_free(NULL);
}

static void test_copy(void **state)
{
    (void)state;
    static const char *const a[] = {"mx.example.com", "STARTTLS", "AUTH PLAIN", "SIZE 10",
                                    "VRFY", "X_BAD"};
    ehlo_caps c, d;
    parse(&c, a, N(a));
    assert_int_equal(ehlo_caps_copy(&d, &c), MXTLS_OK);
    ehlo_caps_free(&c);
    assert_string_equal(d.domain, "mx.example.com");
    assert_int_equal(d.ext, EHLO_STARTTLS | EHLO_AUTH | EHLO_SIZE);
    assert_int_equal(d.size, 10);
    assert_string_equal(d.auth.v[0], "PLAIN");
    assert_int_equal(d.keywords.n, 5);
    assert_int_equal(d.unknown.n, 2);
    assert_int_equal(d.problems_total, 1);
    assert_string_equal(d.problems[0].message, "invalid character in keyword");
    ehlo_caps_free(&d);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ehlo_ext_name(EHLO_STARTTLS), "STARTTLS");
    assert_string_equal(ehlo_ext_name(EHLO_ENHANCEDSTATUSCODES), "ENHANCEDSTATUSCODES");
    assert_null(ehlo_ext_name(0));
    assert_null(ehlo_ext_name(EHLO_STARTTLS | EHLO_SIZE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix),       cmocka_unit_test(test_greeting_text_and_case),
        cmocka_unit_test(test_auth_forms),    cmocka_unit_test(test_size_values),
        cmocka_unit_test(test_prefix_is_not_keyword),
        cmocka_unit_test(test_lower_case_keywords),
        cmocka_unit_test(test_problems),      cmocka_unit_test(test_first_line),
        cmocka_unit_test(test_problem_cap),   cmocka_unit_test(test_reparse_frees),
        cmocka_unit_test(test_copy),          cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
