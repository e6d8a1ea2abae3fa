/* test_mtasts - MTA-STS (RFC 8461): TXT record, RRset selection, policy text
 * rules (each error class with its rule, line and column), caps at their
 * edges, MX pattern matching */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mtasts.h"

/* ---- helpers ---------------------------------------------------------- */

static void txt_ok(const char *rec, const char *id)
{
    mtasts_txt t;
    assert_int_equal(mtasts_txt_parse(rec, strlen(rec), &t), MXTLS_OK);
    if (!t.valid)
        fail_msg("\"%s\" rejected: %s: %s", rec, t.errors.v[0].rule, t.errors.v[0].message);
    assert_string_equal(t.id, id);
    assert_int_equal(recerr_count(&t.errors), 0);
    mtasts_txt_free(&t);
}

/* txt_bad - the record is rejected with exactly one error: rule at column */
static void txt_bad_n(const char *rec, size_t len, const char *rule, size_t column)
{
    mtasts_txt t;
    assert_int_equal(mtasts_txt_parse(rec, len, &t), MXTLS_OK);
    assert_false(t.valid);
    assert_string_equal(t.id, "");
    assert_int_equal(t.errors.n, 1);
    assert_string_equal(t.errors.v[0].rule, rule);
    assert_int_equal(t.errors.v[0].line, 1);
    if (t.errors.v[0].column != column)
        fail_msg("\"%s\": column %zu, expected %zu", rec, t.errors.v[0].column, column);
    assert_true(strlen(t.errors.v[0].message) > 0);
    mtasts_txt_free(&t);
}

static void txt_bad(const char *rec, const char *rule, size_t column)
{
    txt_bad_n(rec, strlen(rec), rule, column);
}

static mtasts_policy policy_of_n(const char *text, size_t len)
{
    mtasts_policy p;
    assert_int_equal(mtasts_policy_parse(text, len, &p), MXTLS_OK);
    return p;
}

static mtasts_policy policy_of(const char *text)
{
    return policy_of_n(text, strlen(text));
}

/* has_error - the policy has an error with this rule on this line (and column, unless 0) */
static int has_error(const mtasts_policy *p, const char *rule, size_t line, size_t column)
{
    for (size_t i = 0; i < p->errors.n; i++)
        if (!strcmp(p->errors.v[i].rule, rule) && p->errors.v[i].line == line &&
            (column == 0 || p->errors.v[i].column == column))
            return 1;
    return 0;
}

/* policy_bad - exactly one error: rule at line:column */
static void policy_bad_n(const char *text, size_t len, const char *rule, size_t line, size_t column)
{
    mtasts_policy p = policy_of_n(text, len);
    assert_false(p.valid);
    if (p.errors.n != 1 || !has_error(&p, rule, line, column))
        fail_msg("expected only %s at %zu:%zu, got %zu errors, first %s at %zu:%zu (%s)", rule,
                 line, column, p.errors.n, p.errors.n ? p.errors.v[0].rule : "-",
                 p.errors.n ? p.errors.v[0].line : 0, p.errors.n ? p.errors.v[0].column : 0,
                 p.errors.n ? p.errors.v[0].message : "");
    mtasts_policy_free(&p);
}

static void policy_bad(const char *text, const char *rule, size_t line, size_t column)
{
    policy_bad_n(text, strlen(text), rule, line, column);
}

#define GOOD "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n"

/* ---- TXT record ------------------------------------------------------- */

static void test_txt_valid(void **state)
{
    (void)state;
    txt_ok("v=STSv1; id=20160831085700Z", "20160831085700Z");
    txt_ok("v=STSv1;id=abc", "abc");
    txt_ok("v=STSv1;id=abc;", "abc");                  /* [sts-field-delim] at the end */
    txt_ok("v=STSv1 ;\tid=abc ; ", "abc");             /* *WSP ";" *WSP */
    txt_ok("v=STSv1; id=abc; ext_1.x-y=va:lue", "abc"); /* extension field */
    txt_ok("v=STSv1; foo=bar; id=Z9", "Z9");           /* id after an extension */
    txt_ok("v=STSv1; id=12345678901234567890123456789012", "12345678901234567890123456789012");
    mtasts_txt t;
    const char *r = "v=STSv1; a=1; id=x; b=2";
    assert_int_equal(mtasts_txt_parse(r, strlen(r), &t), MXTLS_OK);
    assert_int_equal(t.extensions, 2);
    mtasts_txt_free(&t);
}

static void test_txt_version(void **state)
{
    (void)state;
    txt_bad("", "txt-version", 1);
    txt_bad("v=STSv2; id=1", "txt-version", 1);
    txt_bad("V=STSv1; id=1", "txt-version", 1);    /* %s: case-sensitive */
    txt_bad("v=stsv1; id=1", "txt-version", 1);
    txt_bad("v=STSv10; id=1", "txt-version", 1);   /* not followed by a delimiter */
    txt_bad(" v=STSv1; id=1", "txt-version", 1);
    txt_bad("id=1; v=STSv1", "txt-version", 1);    /* the version comes first */
    txt_bad("garbage \x01\xff", "txt-version", 1);
}

static void test_txt_id(void **state)
{
    (void)state;
    txt_bad("v=STSv1", "txt-id-missing", 0);
    txt_bad("v=STSv1;", "txt-id-missing", 0);
    txt_bad("v=STSv1; foo=bar", "txt-id-missing", 0);
    txt_bad("v=STSv1; ID=abc", "txt-id-missing", 0); /* field names are case-sensitive */
    txt_bad("v=STSv1; id=123456789012345678901234567890123", "txt-id-syntax", 13); /* 33 */
    txt_bad("v=STSv1; id=2019-04-29", "txt-id-syntax", 17);
    txt_bad("v=STSv1; id=abc_d", "txt-id-syntax", 16);
    txt_bad("v=STSv1; id=", "txt-field-value", 13);
    txt_bad("v=STSv1; id=a; id=b", "txt-id-duplicate", 16);
    mtasts_txt t;
    assert_int_equal(mtasts_txt_parse("v=STSv1; ID=x", 13, &t), MXTLS_OK);
    assert_non_null(strstr(t.errors.v[0].message, "case-sensitive"));
    mtasts_txt_free(&t);
}

static void test_txt_syntax(void **state)
{
    (void)state;
    txt_bad("v=STSv1; id=abc ", "txt-syntax", 16);       /* trailing WSP without ';' */
    txt_bad("v=STSv1 id=abc", "txt-syntax", 9);          /* no ';' */
    txt_bad("v=STSv1; id=abc;; x=1", "txt-field-name", 17); /* empty field */
    txt_bad("v=STSv1; id", "txt-syntax", 12);            /* no '=' */
    txt_bad("v=STSv1; _x=1; id=a", "txt-field-name", 10); /* ext-name starts with ALPHA/DIGIT */
    txt_bad("v=STSv1; abcdefghijabcdefghijabcdefghijabc=1; id=a", "txt-field-name", 10); /* 33 */
    txt_ok("v=STSv1; abcdefghijabcdefghijabcdefghijab=1; id=a", "a");                   /* 32 */
    txt_bad("v=STSv1; id=a; x=a=b", "txt-field-value", 19);  /* '=' in a value */
    txt_bad("v=STSv1; id=a; x=\xc3\xa9", "txt-field-value", 18); /* 8-bit */
    txt_bad("v=STSv1; id=a; x=", "txt-field-value", 18);
    txt_bad_n("v=STSv1; id=a\0b", 15, "txt-field-value", 14); /* NUL */
    txt_bad("v=STSv1; id=a\r\n", "txt-field-value", 14);
}

static void test_txt_select(void **state)
{
    (void)state;
    const char *recs[] = {"v=spf1 -all", "v=STSv1; id=one", "v=STSv10; id=x", "google-site=x",
                          "v=STSv1; id=two"};
    size_t lens[5];
    for (int i = 0; i < 5; i++)
        lens[i] = strlen(recs[i]);
    mtasts_txt t;
    size_t which = 99;
    /* records 1..4: one STS record (v=STSv10 is not one) */
    assert_int_equal(mtasts_txt_select(recs, lens, 4, &t, &which), MXTLS_OK);
    assert_true(t.valid);
    assert_string_equal(t.id, "one");
    assert_int_equal(which, 1);
    mtasts_txt_free(&t);
    /* all five: two STS records, no policy */
    assert_int_equal(mtasts_txt_select(recs, lens, 5, &t, &which), MXTLS_OK);
    assert_false(t.valid);
    assert_int_equal(which, (size_t)-1);
    assert_int_equal(t.errors.n, 1);
    assert_string_equal(t.errors.v[0].rule, "txt-multiple");
    assert_int_equal(t.errors.v[0].line, 5);
    mtasts_txt_free(&t);
    /* none */
    assert_int_equal(mtasts_txt_select(recs, lens, 1, &t, &which), MXTLS_OK);
    assert_false(t.valid);
    assert_string_equal(t.errors.v[0].rule, "txt-none");
    assert_int_equal(t.errors.v[0].line, 0);
    mtasts_txt_free(&t);
    assert_int_equal(mtasts_txt_select(NULL, NULL, 0, &t, NULL), MXTLS_OK);
    assert_string_equal(t.errors.v[0].rule, "txt-none");
    mtasts_txt_free(&t);
    /* the one STS record is invalid: its error names its position in the RRset */
    const char *bad[] = {"v=spf1 -all", "v=STSv1; id=a-b"};
    size_t blen[] = {11, 15};
    assert_int_equal(mtasts_txt_select(bad, blen, 2, &t, &which), MXTLS_OK);
    assert_false(t.valid);
    assert_int_equal(which, 1);
    assert_string_equal(t.errors.v[0].rule, "txt-id-syntax");
    assert_int_equal(t.errors.v[0].line, 2);
    assert_int_equal(t.errors.v[0].column, 14);
    mtasts_txt_free(&t);
}

/* ---- policy ----------------------------------------------------------- */

static void test_policy_valid(void **state)
{
    (void)state;
    mtasts_policy p = policy_of(GOOD);
    assert_true(p.valid);
    assert_int_equal(p.mode, MTASTS_MODE_ENFORCE);
    assert_int_equal(p.max_age, 604800);
    assert_int_equal(p.mx.n, 1);
    assert_string_equal(p.mx.v[0], "mx1.example.com");
    assert_int_equal(p.lines, 4);
    mtasts_policy_free(&p);
    /* CRLF, no final terminator, several mx, white space after ':' and at the
     * end of a line, any field order, blank lines, unknown fields ignored */
    p = policy_of("mx: mx1.example.com\r\nmax_age:86400 \r\n\r\nmode:\ttesting\r\n"
                  "mx: *.example.net.\r\nvendor-x: some value \xc3\xa9\r\nversion: STSv1");
    assert_true(p.valid);
    assert_int_equal(p.mode, MTASTS_MODE_TESTING);
    assert_int_equal(p.max_age, 86400);
    assert_int_equal(p.mx.n, 2);
    assert_string_equal(p.mx.v[1], "*.example.net.");
    assert_int_equal(p.lines, 7);
    mtasts_policy_free(&p);
    /* mode none needs no mx */
    p = policy_of("version: STSv1\nmode: none\nmax_age: 0\n");
    assert_true(p.valid);
    assert_int_equal(p.mode, MTASTS_MODE_NONE);
    assert_int_equal(p.max_age, 0);
    mtasts_policy_free(&p);
}

static void test_policy_duplicates(void **state)
{
    (void)state;
    /* the first instance counts, later ones are ignored, even invalid ones */
    mtasts_policy p = policy_of("version: STSv1\nmode: testing\nmode: enforce\nmode: bogus\n"
                                "max_age: 100\nmax_age: 99999999999\nmx: a.example\n"
                                "version: STSv2\nmx: b.example\n");
    assert_true(p.valid);
    assert_int_equal(p.mode, MTASTS_MODE_TESTING);
    assert_int_equal(p.max_age, 100);
    assert_int_equal(p.mx.n, 2); /* mx repeats */
    mtasts_policy_free(&p);
    /* ... and an invalid first instance is not rescued by a valid second one */
    policy_bad("version: STSv1\nmode: Enforce\nmode: enforce\nmx: a.example\nmax_age: 1\n",
               "policy-mode", 2, 7);
}

static void test_policy_fields(void **state)
{
    (void)state;
    policy_bad("version: STSv2\nmode: none\nmax_age: 1\n", "policy-version", 1, 10);
    policy_bad("version: stsv1\nmode: none\nmax_age: 1\n", "policy-version", 1, 10);
    policy_bad("mode: none\nmax_age: 1\n", "policy-version-missing", 0, 0);
    policy_bad("version: STSv1\nmax_age: 1\n", "policy-mode-missing", 0, 0);
    policy_bad("version: STSv1\nmode: none\n", "policy-max-age-missing", 0, 0);
    policy_bad("version: STSv1\nmode: enforce\nmax_age: 1\n", "policy-mx-missing", 0, 0);
    policy_bad("version: STSv1\nmode: testing\nmax_age: 1\n", "policy-mx-missing", 0, 0);
    policy_bad("version: STSv1\nmode: ENFORCE\nmax_age: 1\n", "policy-mode", 2, 7);
    policy_bad("version: STSv1\nmode: \nmax_age: 1\n", "policy-mode", 2, 7);
    /* case-sensitive names: "Mode" is an unknown field, so mode is missing */
    policy_bad("version: STSv1\nMode: none\nmax_age: 1\n", "policy-mode-missing", 0, 0);
}

static void test_policy_max_age(void **state)
{
    (void)state;
    mtasts_policy p = policy_of("version: STSv1\nmode: none\nmax_age: 31557600\n");
    assert_true(p.valid);
    assert_int_equal(p.max_age, 31557600);
    mtasts_policy_free(&p);
    p = policy_of("version: STSv1\nmode: none\nmax_age: 0000000001\n"); /* 10 digits */
    assert_true(p.valid);
    assert_int_equal(p.max_age, 1);
    mtasts_policy_free(&p);
    policy_bad("version: STSv1\nmode: none\nmax_age: 31557601\n", "policy-max-age-range", 3, 10);
    policy_bad("version: STSv1\nmode: none\nmax_age: 9999999999\n", "policy-max-age-range", 3, 10);
    policy_bad("version: STSv1\nmode: none\nmax_age: 00000000001\n", "policy-max-age", 3, 10);
    policy_bad("version: STSv1\nmode: none\nmax_age: 99999999999\n", "policy-max-age", 3, 10);
    policy_bad("version: STSv1\nmode: none\nmax_age: -1\n", "policy-max-age", 3, 10);
    policy_bad("version: STSv1\nmode: none\nmax_age: +1\n", "policy-max-age", 3, 10);
    policy_bad("version: STSv1\nmode: none\nmax_age: 1 2\n", "policy-max-age", 3, 10);
    policy_bad("version: STSv1\nmode: none\nmax_age: 1d\n", "policy-max-age", 3, 10);
    policy_bad("version: STSv1\nmode: none\nmax_age:\n", "policy-max-age", 3, 9);
}

static void test_policy_mx(void **state)
{
    (void)state;
    const char *head = "version: STSv1\nmode: enforce\nmax_age: 1\n";
    const char *bad[] = {"mx: a..example", "mx: *", "mx: *.", "mx: a.*.example", "mx: f*.example",
                         "mx: -a.example", "mx: a-.example", "mx: a_b.example", "mx: 10.0.0.1:25",
                         "mx: **.example", "mx: a.example..", "mx: .example",
                         "mx: b\xc3\xbc.example", "mx: a b.example"};
    char buf[600];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s\n", head, bad[i]);
        mtasts_policy p = policy_of(buf);
        assert_false(p.valid);
        if (!has_error(&p, "policy-mx", 4, 5))
            fail_msg("\"%s\": %s", bad[i], p.errors.n ? p.errors.v[0].rule : "no error");
        assert_int_equal(p.mx.n, 0);
        mtasts_policy_free(&p);
    }
    /* a 63-byte label is fine, 64 is not; 253 bytes in all is fine, 254 not */
    char l63[64], l64[65];
    memset(l63, 'a', 63), l63[63] = '\0';
    memset(l64, 'a', 64), l64[64] = '\0';
    snprintf(buf, sizeof buf, "%smx: %s.example\n", head, l63);
    mtasts_policy p = policy_of(buf);
    assert_true(p.valid);
    mtasts_policy_free(&p);
    snprintf(buf, sizeof buf, "%smx: %s.example\n", head, l64);
    policy_bad(buf, "policy-mx", 4, 5);
    char name[300];
    snprintf(name, sizeof name, "%s.%s.%s.%s", l63, l63, l63, l63); /* 255 */
    name[253] = '\0';                                              /* ... "aa" at the end */
    snprintf(buf, sizeof buf, "%smx: %s\n", head, name);
    p = policy_of(buf);
    assert_true(p.valid);
    mtasts_policy_free(&p);
    snprintf(buf, sizeof buf, "%smx: %s.\n", head, name); /* trailing dot: still 253 */
    p = policy_of(buf);
    assert_true(p.valid);
    mtasts_policy_free(&p);
    name[253] = 'a';
    name[254] = '\0';
    snprintf(buf, sizeof buf, "%smx: %s\n", head, name);
    policy_bad(buf, "policy-mx", 4, 5);
}

static void test_policy_bytes(void **state)
{
    (void)state;
    /* NUL: the line is rejected, the policy invalid (never truncated there) */
    policy_bad_n(GOOD "x: a\0b\n", sizeof GOOD "x: a\0b\n" - 1, "policy-nul", 5, 5);
    /* a line with a NUL counts for nothing: here the version is then missing */
    mtasts_policy p = policy_of_n("version: STSv1\0\nmode: none\nmax_age: 1\n", 37);
    assert_int_equal(p.errors.n, 2);
    assert_true(has_error(&p, "policy-nul", 1, 15));
    assert_true(has_error(&p, "policy-version-missing", 0, 0));
    mtasts_policy_free(&p);
    /* 8-bit bytes: valid UTF-8 is allowed in unknown fields' values only */
    p = policy_of(GOOD "comment: \xe2\x9c\x93 ok\n");
    assert_true(p.valid);
    mtasts_policy_free(&p);
    policy_bad(GOOD "comment: \xff\n", "policy-utf8", 5, 10);
    policy_bad(GOOD "comment: \xc0\xaf\n", "policy-utf8", 5, 10);      /* overlong */
    policy_bad(GOOD "comment: \xed\xa0\x80\n", "policy-utf8", 5, 10);  /* surrogate */
    policy_bad(GOOD "comment: caf\xc3\n", "policy-utf8", 5, 13);       /* truncated */
    policy_bad("version: STSv1\nmode: enforc\xc3\xa9\nmx: a.b\nmax_age: 1\n", "policy-mode", 2, 7);
    policy_bad(GOOD "k\xc3\xa9y: v\n", "policy-line-syntax", 5, 2);
    /* control bytes: a bare CR, a CR at the very end, ESC */
    policy_bad(GOOD "x: a\rb\n", "policy-control-char", 5, 5);
    policy_bad(GOOD "x: ab\r", "policy-control-char", 5, 6);
    policy_bad(GOOD "x: \x1b[31m\n", "policy-control-char", 5, 4);
    /* a BOM: reported at 1:1, and the rest is still checked */
    policy_bad("\xef\xbb\xbf" GOOD, "policy-bom", 1, 1);
    p = policy_of("\xef\xbb\xbfversion: STSv2\nmode: none\nmax_age: 1\n");
    assert_int_equal(p.errors.n, 2);
    assert_true(has_error(&p, "policy-bom", 1, 1));
    assert_true(has_error(&p, "policy-version", 1, 13)); /* columns count the BOM's bytes */
    mtasts_policy_free(&p);
}

static void test_policy_lines(void **state)
{
    (void)state;
    policy_bad(GOOD "no colon here\n", "policy-line-syntax", 5, 3);
    policy_bad(GOOD "nocolon\n", "policy-line-syntax", 5, 8);
    policy_bad(GOOD " mode: none\n", "policy-line-syntax", 5, 1);
    policy_bad(GOOD "mode : none\n", "policy-line-syntax", 5, 5);
    policy_bad(GOOD ": x\n", "policy-line-syntax", 5, 1);
    policy_bad(GOOD "x:\n", "policy-line-syntax", 5, 3);         /* unknown field, empty value */
    policy_bad(GOOD "_x: 1\n", "policy-line-syntax", 5, 1);
    policy_bad(GOOD "abcdefghijabcdefghijabcdefghijabc: 1\n", "policy-line-syntax", 5, 1);
    mtasts_policy p = policy_of(GOOD "abcdefghijabcdefghijabcdefghijab: 1\n"); /* 32 */
    assert_true(p.valid);
    mtasts_policy_free(&p);
    /* blank and white-space-only lines are ignored; LF LF at the end too */
    p = policy_of("\n \t\nversion: STSv1\n\nmode: none\nmax_age: 1\n\n\n");
    assert_true(p.valid);
    mtasts_policy_free(&p);
    /* every line's problem is reported, in order */
    p = policy_of("version: x\nmode: y\nmax_age: z\nmx: -\n");
    assert_int_equal(p.errors.n, 4);
    assert_string_equal(p.errors.v[0].rule, "policy-version");
    assert_string_equal(p.errors.v[1].rule, "policy-mode");
    assert_string_equal(p.errors.v[2].rule, "policy-max-age");
    assert_string_equal(p.errors.v[3].rule, "policy-mx");
    assert_int_equal(p.errors.v[3].line, 4);
    mtasts_policy_free(&p);
}

static void test_policy_caps(void **state)
{
    (void)state;
    /* line cap: MTASTS_POLICY_MAX_LINE bytes pass, one more does not */
    size_t n = strlen(GOOD) + 3 + MTASTS_POLICY_MAX_LINE + 1;
    char *buf = malloc(n + 2);
    assert_non_null(buf);
    strcpy(buf, GOOD);
    memcpy(buf + strlen(GOOD), "x: ", 3);
    memset(buf + strlen(GOOD) + 3, 'v', MTASTS_POLICY_MAX_LINE - 3);
    buf[strlen(GOOD) + MTASTS_POLICY_MAX_LINE] = '\n';
    mtasts_policy p = policy_of_n(buf, strlen(GOOD) + MTASTS_POLICY_MAX_LINE + 1);
    assert_true(p.valid);
    mtasts_policy_free(&p);
    buf[strlen(GOOD) + MTASTS_POLICY_MAX_LINE] = 'v';
    buf[strlen(GOOD) + MTASTS_POLICY_MAX_LINE + 1] = '\n';
    policy_bad_n(buf, strlen(GOOD) + MTASTS_POLICY_MAX_LINE + 2, "policy-line-too-long", 5, 0);
    free(buf);
    /* body cap: exactly MTASTS_POLICY_MAX bytes are parsed, one more is not */
    buf = malloc(MTASTS_POLICY_MAX + 1);
    assert_non_null(buf);
    memset(buf, '\n', MTASTS_POLICY_MAX + 1);
    memcpy(buf, GOOD, strlen(GOOD));
    p = policy_of_n(buf, MTASTS_POLICY_MAX);
    assert_true(p.valid);
    mtasts_policy_free(&p);
    policy_bad_n(buf, MTASTS_POLICY_MAX + 1, "policy-too-large", 0, 0);
    free(buf);
    /* the error list is capped; the rest is counted */
    size_t lines = RECERR_MAX_ERRORS + 10;
    buf = malloc(lines * 4 + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < lines; i++)
        memcpy(buf + 4 * i, "bad\n", 4);
    p = policy_of_n(buf, lines * 4);
    assert_false(p.valid);
    assert_int_equal(p.errors.n, RECERR_MAX_ERRORS);
    assert_int_equal(recerr_count(&p.errors), lines + 3); /* + version, mode, max_age missing */
    mtasts_policy_free(&p);
    free(buf);
}

/* ---- MX matching ------------------------------------------------------ */

static void test_mx_match(void **state)
{
    (void)state;
    assert_true(mtasts_mx_pattern_match("mail.example.com", "mail.example.com"));
    assert_true(mtasts_mx_pattern_match("mail.example.com", "MAIL.Example.COM"));
    assert_true(mtasts_mx_pattern_match("mail.example.com.", "mail.example.com"));
    assert_true(mtasts_mx_pattern_match("mail.example.com", "mail.example.com."));
    assert_false(mtasts_mx_pattern_match("mail.example.com", "mail.example.com.."));
    assert_false(mtasts_mx_pattern_match("mail.example.com", "x.mail.example.com"));
    assert_false(mtasts_mx_pattern_match("mail.example.com", "mail.example.co"));
    /* "*." covers exactly one label */
    assert_true(mtasts_mx_pattern_match("*.example.com", "mx1.example.com"));
    assert_true(mtasts_mx_pattern_match("*.Example.com.", "MX1.example.COM."));
    assert_false(mtasts_mx_pattern_match("*.example.com", "example.com"));
    assert_false(mtasts_mx_pattern_match("*.example.com", "a.b.example.com"));
    assert_false(mtasts_mx_pattern_match("*.example.com", ".example.com"));
    assert_false(mtasts_mx_pattern_match("*.example.com", "mx1.example.com.evil"));
    assert_false(mtasts_mx_pattern_match("*.example.com", "mx1xexample.com"));
    /* invalid patterns never match */
    assert_false(mtasts_mx_pattern_match("*", "a"));
    assert_false(mtasts_mx_pattern_match("a*.example.com", "ab.example.com"));
    assert_false(mtasts_mx_pattern_match("", ""));
    assert_false(mtasts_mx_pattern_match("a.example", ""));
    assert_false(mtasts_mx_pattern_match(NULL, "a"));

    mtasts_policy p = policy_of("version: STSv1\nmode: enforce\nmax_age: 1\n"
                                "mx: mx1.example.com\nmx: *.example.net\nmx: *.b.example.net\n");
    assert_true(p.valid);
    size_t which = 99;
    assert_true(mtasts_mx_match(&p.mx, "mx1.example.com", &which));
    assert_int_equal(which, 0);
    assert_true(mtasts_mx_match(&p.mx, "a.example.net", &which));
    assert_int_equal(which, 1);
    assert_true(mtasts_mx_match(&p.mx, "a.b.example.net", &which)); /* by the third */
    assert_int_equal(which, 2);
    assert_false(mtasts_mx_match(&p.mx, "a.a.example.net", &which));
    assert_false(mtasts_mx_match(&p.mx, "example.net", NULL));
    mtasts_policy_free(&p);
}

static void test_modes(void **state)
{
    (void)state;
    assert_string_equal(mtasts_mode_name(MTASTS_MODE_ENFORCE), "enforce");
    assert_string_equal(mtasts_mode_name(MTASTS_MODE_TESTING), "testing");
    assert_string_equal(mtasts_mode_name(MTASTS_MODE_NONE), "none");
    assert_null(mtasts_mode_name(MTASTS_MODE_UNSET));
    assert_int_equal(mtasts_mode_parse("enforce"), MTASTS_MODE_ENFORCE);
    assert_int_equal(mtasts_mode_parse("Enforce"), MTASTS_MODE_UNSET);
    assert_int_equal(mtasts_mode_parse(NULL), MTASTS_MODE_UNSET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txt_valid),
        cmocka_unit_test(test_txt_version),
        cmocka_unit_test(test_txt_id),
        cmocka_unit_test(test_txt_syntax),
        cmocka_unit_test(test_txt_select),
        cmocka_unit_test(test_policy_valid),
        cmocka_unit_test(test_policy_duplicates),
        cmocka_unit_test(test_policy_fields),
        cmocka_unit_test(test_policy_max_age),
        cmocka_unit_test(test_policy_mx),
        cmocka_unit_test(test_policy_bytes),
        cmocka_unit_test(test_policy_lines),
        cmocka_unit_test(test_policy_caps),
        cmocka_unit_test(test_mx_match),
        cmocka_unit_test(test_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
