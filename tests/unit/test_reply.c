/* test_reply - SMTP reply parsing: structure, deviations, limits at their edges */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/reply.h"

/* parse_str - one-shot parse of a C string */
static reply_status parse_str(const char *in, const reply_limits *lim, reply_rec *r,
                              size_t *consumed, reply_error *err)
{
    return reply_parse(in, strlen(in), lim, r, consumed, err);
}

/* parse_bytewise - feed one byte at a time; must agree with the one-shot parse */
static reply_status parse_bytewise(const char *in, size_t len, const reply_limits *lim,
                                   reply_rec *r, size_t *consumed, reply_error *err)
{
    reply_parser p;
    assert_int_equal(reply_parser_init(&p, lim), MXTLS_OK);
    reply_status st = REPLY_NEED_MORE;
    size_t i;
    reply_init(r);
    for (i = 0; i < len; i++) {
        size_t used = 0;
        st = reply_parser_feed(&p, in + i, 1, &used);
        if (st == REPLY_ERROR) {
            assert_int_equal(used, 0);
            break;
        }
        assert_int_equal(used, 1);
        if (st == REPLY_COMPLETE) {
            i++;
            break;
        }
    }
    *consumed = i;
    if (st == REPLY_COMPLETE)
        reply_parser_take(&p, r);
    if (st == REPLY_ERROR)
        *err = p.err;
    reply_parser_free(&p);
    return st;
}

/* expect_same - chunked and bytewise parsing agree on everything */
static void expect_same(const char *in, size_t len, const reply_limits *lim)
{
    reply_rec a, b;
    reply_error ea, eb;
    size_t ca, cb;
    memset(&eb, 0, sizeof eb);
    reply_status sa = reply_parse(in, len, lim, &a, &ca, &ea);
    reply_status sb = parse_bytewise(in, len, lim, &b, &cb, &eb);
    assert_int_equal(sa, sb);
    if (sa == REPLY_ERROR) {
        assert_int_equal(ea.kind, eb.kind);
        assert_int_equal(ea.line, eb.line);
        assert_int_equal(ea.column, eb.column);
        assert_string_equal(ea.message, eb.message);
    }
    if (sa == REPLY_COMPLETE) {
        assert_int_equal(ca, cb);
        assert_int_equal(a.code, b.code);
        assert_int_equal(a.bytes, b.bytes);
        assert_int_equal(a.flags, b.flags);
        assert_int_equal(a.lines.n, b.lines.n);
        for (size_t i = 0; i < a.lines.n; i++)
            assert_string_equal(a.lines.v[i], b.lines.v[i]);
    }
    reply_free(&a);
    reply_free(&b);
}

static void test_single_line(void **state)
{
    (void)state;
    reply_rec r;
    size_t used;
    reply_error e;
    const char *in = "220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n";
    assert_int_equal(parse_str(in, NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(used, strlen(in));
    assert_int_equal(r.code, 220);
    assert_int_equal(r.lines.n, 1);
    assert_string_equal(r.lines.v[0], "mx.example.com ESMTP Postfix (Debian/GNU)");
    assert_int_equal(r.bytes, strlen(in));
    assert_int_equal(r.flags, 0);
    reply_free(&r);
    expect_same(in, strlen(in), NULL);
}

static void test_multiline_stops_at_end(void **state)
{
    (void)state;
    reply_rec r;
    size_t used;
    reply_error e;
    const char *in = "250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 next\r\n";
    assert_int_equal(parse_str(in, NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(used, strlen(in) - strlen("220 next\r\n"));
    assert_int_equal(r.code, 250);
    assert_int_equal(r.lines.n, 3);
    assert_string_equal(r.lines.v[0], "mx.example.com");
    assert_string_equal(r.lines.v[1], "PIPELINING");
    assert_string_equal(r.lines.v[2], "STARTTLS");
    reply_free(&r);
    expect_same(in, strlen(in), NULL);
}

static void test_code_only_and_empty_text(void **state)
{
    (void)state;
    reply_rec r;
    size_t used;
    reply_error e;
    assert_int_equal(parse_str("250\r\n", NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(r.code, 250);
    assert_int_equal(r.lines.n, 1);
    assert_string_equal(r.lines.v[0], "");
    reply_free(&r);
    assert_int_equal(parse_str("250-\r\n250 \r\n", NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(r.lines.n, 2);
    assert_string_equal(r.lines.v[0], "");
    assert_string_equal(r.lines.v[1], "");
    reply_free(&r);
    expect_same("250\r\n", 5, NULL);
}

static void test_bare_lf_and_cr(void **state)
{
    (void)state;
    reply_rec r;
    size_t used;
    reply_error e;
    assert_int_equal(parse_str("250-a\r\n250 ok\n", NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(r.flags, REPLY_F_BARE_LF);
    assert_int_equal(r.bare_lf_line, 2);
    assert_string_equal(r.lines.v[1], "ok");
    assert_int_equal(r.bytes, 14);
    reply_free(&r);
    assert_int_equal(parse_str("250 a\rb\r\n", NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(r.flags, REPLY_F_BARE_CR);
    assert_int_equal(r.bare_cr_line, 1);
    assert_string_equal(r.lines.v[0], "a\rb");
    reply_free(&r);
    assert_int_equal(parse_str("250\n", NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(r.flags, REPLY_F_BARE_LF);
    reply_free(&r);
    expect_same("250 a\rb\n", 8, NULL);
}

static void test_need_more(void **state)
{
    (void)state;
    reply_rec r;
    size_t used;
    reply_error e;
    assert_int_equal(parse_str("250-a\r\n250 b", NULL, &r, &used, &e), REPLY_NEED_MORE);
    assert_int_equal(used, 12);
    assert_int_equal(r.code, 0);
    assert_int_equal(parse_str("", NULL, &r, &used, &e), REPLY_NEED_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(parse_str("250 b\r", NULL, &r, &used, &e), REPLY_NEED_MORE);

    /* Incremental: pending counts, then completion across calls. */
    reply_parser p;
    assert_int_equal(reply_parser_init(&p, NULL), MXTLS_OK);
    assert_int_equal(reply_parser_feed(&p, "250-a\r\n25", 9, &used), REPLY_NEED_MORE);
    assert_int_equal(reply_parser_pending(&p), 9);
    assert_int_equal(reply_parser_feed(&p, "0 b\r\n250 c\r\n", 12, &used), REPLY_COMPLETE);
    assert_int_equal(used, 5);
    reply_parser_take(&p, &r);
    assert_int_equal(r.lines.n, 2);
    reply_free(&r);
    assert_int_equal(reply_parser_pending(&p), 0);
    assert_int_equal(reply_parser_feed(&p, "250 c\r\n", 7, &used), REPLY_COMPLETE);
    reply_parser_take(&p, &r);
    assert_string_equal(r.lines.v[0], "c");
    reply_free(&r);
    reply_parser_free(&p);
}

/* expect_error - the reply fails with this kind at this line and column */
static void expect_error(const char *in, size_t len, const reply_limits *lim,
                         reply_error_kind kind, size_t line, size_t column, const char *message)
{
    reply_rec r;
    size_t used;
    reply_error e;
    assert_int_equal(reply_parse(in, len, lim, &r, &used, &e), REPLY_ERROR);
    assert_int_equal(e.kind, kind);
    assert_int_equal(e.line, line);
    assert_int_equal(e.column, column);
    assert_string_equal(e.message, message);
    expect_same(in, len, lim);
}

static void test_structure_errors(void **state)
{
    (void)state;
    expect_error("250-a\r\n251 b\r\n", 14, NULL, REPLY_ERR_SYNTAX, 2, 1,
                 "reply code 251 differs from 250 on the first line");
    expect_error("150 x\r\n", 7, NULL, REPLY_ERR_SYNTAX, 1, 1,
                 "expected a reply code starting with 2, 3, 4 or 5, got '1'");
    expect_error("650 x\r\n", 7, NULL, REPLY_ERR_SYNTAX, 1, 1,
                 "expected a reply code starting with 2, 3, 4 or 5, got '6'");
    expect_error("2x0 x\r\n", 7, NULL, REPLY_ERR_SYNTAX, 1, 2,
                 "expected a three-digit reply code, got 'x'");
    expect_error("250_x\r\n", 7, NULL, REPLY_ERR_SYNTAX, 1, 4,
                 "expected ' ', '-' or end of line after the reply code, got '_'");
    expect_error("2500 x\r\n", 8, NULL, REPLY_ERR_SYNTAX, 1, 4,
                 "expected ' ', '-' or end of line after the reply code, got '0'");
    /* RFC 5321 §4.2: SP or "-", no other white space (a tab is not a separator) */
    expect_error("250\tok\r\n", 8, NULL, REPLY_ERR_SYNTAX, 1, 4,
                 "expected ' ', '-' or end of line after the reply code, got '\\t'");
    expect_error("250-a\r\n250\tok\r\n", 15, NULL, REPLY_ERR_SYNTAX, 2, 4,
                 "expected ' ', '-' or end of line after the reply code, got '\\t'");
    expect_error("250\rX\r\n", 7, NULL, REPLY_ERR_SYNTAX, 1, 4,
                 "expected ' ', '-' or end of line after the reply code, got '\\r'");
    expect_error("25\n", 3, NULL, REPLY_ERR_SYNTAX, 1, 3,
                 "line ends before the three-digit reply code");
    expect_error("25\r\n", 4, NULL, REPLY_ERR_SYNTAX, 1, 3,
                 "expected a three-digit reply code, got '\\r'");
    expect_error("\n", 1, NULL, REPLY_ERR_SYNTAX, 1, 1,
                 "line ends before the three-digit reply code");
    expect_error("\r\n", 2, NULL, REPLY_ERR_SYNTAX, 1, 1,
                 "expected a reply code starting with 2, 3, 4 or 5, got '\\r'");
    expect_error("250-ok\r\n\r\n", 10, NULL, REPLY_ERR_SYNTAX, 2, 1,
                 "expected a reply code starting with 2, 3, 4 or 5, got '\\r'");
    expect_error("250 a\0b\r\n", 9, NULL, REPLY_ERR_SYNTAX, 1, 6, "NUL byte in reply");
    expect_error("\x16\x03\x01\x00", 4, NULL, REPLY_ERR_SYNTAX, 1, 1,
                 "expected a reply code starting with 2, 3, 4 or 5, got '\\x16' (this looks "
                 "like a TLS record: the port may expect implicit TLS)");
    expect_error("SSH-2.0-OpenSSH_9.2\r\n", 21, NULL, REPLY_ERR_SYNTAX, 1, 1,
                 "expected a reply code starting with 2, 3, 4 or 5, got 'S'");
}

static void test_sticky_error(void **state)
{
    (void)state;
    reply_parser p;
    size_t used = 99;
    assert_int_equal(reply_parser_init(&p, NULL), MXTLS_OK);
    assert_int_equal(reply_parser_feed(&p, "xyz", 3, &used), REPLY_ERROR);
    assert_int_equal(used, 0);
    assert_int_equal(reply_parser_feed(&p, "250 ok\r\n", 8, &used), REPLY_ERROR);
    assert_int_equal(used, 0);
    reply_parser_free(&p);
}

static void test_line_limit_edge(void **state)
{
    (void)state;
    reply_limits lim = {16, 0, 0};
    reply_rec r;
    size_t used;
    reply_error e;
    /* Exactly 16 bytes with CRLF: accepted. */
    assert_int_equal(parse_str("250 0123456789\r\n", &lim, &r, &used, &e), REPLY_COMPLETE);
    reply_free(&r);
    /* 16 bytes with a bare LF: accepted too. */
    assert_int_equal(parse_str("250 01234567890\n", &lim, &r, &used, &e), REPLY_COMPLETE);
    reply_free(&r);
    /* 17 bytes: the CR at column 16 already makes the limit unreachable. */
    expect_error("250 01234567890\r\n", 17, &lim, REPLY_ERR_LIMIT, 1, 16,
                 "line longer than 16 bytes");
    /* An endless line fails without waiting for a terminator. */
    char big[4000];
    memset(big, 'a', sizeof big);
    memcpy(big, "220 ", 4);
    expect_error(big, sizeof big, NULL, REPLY_ERR_LIMIT, 1, 2048, "line longer than 2048 bytes");
}

static void test_lines_limit_edge(void **state)
{
    (void)state;
    reply_limits lim = {0, 3, 0};
    reply_rec r;
    size_t used;
    reply_error e;
    assert_int_equal(parse_str("250-a\r\n250-b\r\n250 c\r\n", &lim, &r, &used, &e),
                     REPLY_COMPLETE);
    assert_int_equal(r.lines.n, 3);
    reply_free(&r);
    expect_error("250-a\r\n250-b\r\n250-c\r\n", 21, &lim, REPLY_ERR_LIMIT, 3, 4,
                 "reply has more than 3 lines");

    /* Default: 100 lines. */
    char buf[8 * 101];
    size_t n = 0;
    for (int i = 0; i < 101; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "250-X\r\n");
    expect_error(buf, n, NULL, REPLY_ERR_LIMIT, 100, 4, "reply has more than 100 lines");
    buf[99 * 7 + 3] = ' ';
    assert_int_equal(reply_parse(buf, n, NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(r.lines.n, 100);
    assert_int_equal(used, 700);
    reply_free(&r);
}

static void test_bytes_limit_edge(void **state)
{
    (void)state;
    reply_limits lim = {0, 0, 20};
    reply_rec r;
    size_t used;
    reply_error e;
    assert_int_equal(parse_str("250-aaaa\r\n250 bbbb\r\n", &lim, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(r.bytes, 20);
    reply_free(&r);
    expect_error("250-aaaa\r\n250 bbbbb\r\n", 21, &lim, REPLY_ERR_LIMIT, 2, 10,
                 "reply longer than 20 bytes");
}

static void test_limits_validation(void **state)
{
    (void)state;
    reply_limits out;
    reply_limits bad1 = {4, 0, 0}, bad2 = {0, REPLY_MAX_LINES_MAX + 1, 0},
                 bad3 = {0, 0, REPLY_MAX_BYTES_MAX + 1}, ok = {8, 1, 8};
    assert_int_equal(reply_limits_effective(NULL, &out), 0);
    assert_int_equal(out.max_line, REPLY_MAX_LINE_DEFAULT);
    assert_int_equal(out.max_lines, REPLY_MAX_LINES_DEFAULT);
    assert_int_equal(out.max_bytes, REPLY_MAX_BYTES_DEFAULT);
    assert_int_equal(reply_limits_effective(&bad1, &out), -1);
    assert_int_equal(reply_limits_effective(&bad2, &out), -1);
    assert_int_equal(reply_limits_effective(&bad3, &out), -1);
    assert_int_equal(reply_limits_effective(&ok, &out), 0);
    reply_parser p;
    assert_int_equal(reply_parser_init(&p, &bad1), MXTLS_ERR_INVALID);
    reply_parser_free(&p);
    reply_rec r;
    size_t used;
    reply_error e;
    assert_int_equal(reply_parse("250 ok\r\n", 8, &bad1, &r, &used, &e), REPLY_ERROR);
}

static void test_escape(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(reply_escape("a\r\n\t\\\"\x01\xff", 8, out, sizeof out), 8);
    assert_string_equal(out, "a\\r\\n\\t\\\\\\\"\\x01\\xff");
    /* Never split an escape: "\x01" needs 4 characters, only 3 fit. */
    char small[5];
    assert_int_equal(reply_escape("ab\x01", 3, small, sizeof small), 2);
    assert_string_equal(small, "ab");
    assert_int_equal(reply_escape("x", 1, small, 0), 0);
}

static void test_copy(void **state)
{
    (void)state;
    reply_rec r, c;
    size_t used;
    reply_error e;
    assert_int_equal(parse_str("250-a\r\n250 b\n", NULL, &r, &used, &e), REPLY_COMPLETE);
    assert_int_equal(reply_copy(&c, &r), MXTLS_OK);
    reply_free(&r);
    assert_int_equal(c.code, 250);
    assert_int_equal(c.lines.n, 2);
    assert_string_equal(c.lines.v[1], "b");
    assert_int_equal(c.flags, REPLY_F_BARE_LF);
    reply_free(&c);
    reply_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_line),
        cmocka_unit_test(test_multiline_stops_at_end),
        cmocka_unit_test(test_code_only_and_empty_text),
        cmocka_unit_test(test_bare_lf_and_cr),
        cmocka_unit_test(test_need_more),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_line_limit_edge),
        cmocka_unit_test(test_lines_limit_edge),
        cmocka_unit_test(test_bytes_limit_edge),
        cmocka_unit_test(test_limits_validation),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
