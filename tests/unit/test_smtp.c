/* test_smtp - the SMTP client state machine, driven by scripted dialogues
 *
 * Every script runs twice: each server read fed in one chunk, and fed one
 * byte at a time (with the client output drained one byte at a time too).
 * Both runs must produce the same bytes on the wire and the same
 * observations (compared through smtp_dump), then the test asserts exact
 * outcomes, codes, reasons and commands. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/smtp.h"

enum step_kind { S, C, TLS_OK, TLS_FAIL, END_EOF, END_TIMEOUT, END };

struct step {
    enum step_kind k;
    const char *data; /* S: server bytes, C: expected client bytes */
    size_t len;       /* 0 = strlen(data) */
};

#define SRV(x) {S, (x), sizeof(x) - 1}
#define CLI(x) {C, (x), sizeof(x) - 1}

enum mode { MODE_CHUNK, MODE_BYTE };

static const smtp_config default_cfg = {.ehlo_name = "client.mxtls.test"};

/* feed_segment - one server read, fed whole or byte by byte */
static void feed_segment(smtp_session *s, const char *p, size_t n, enum mode mode)
{
    size_t off = 0;
    while (off < n) {
        enum smtp_want w = smtp_want(s);
        if (w == SMTP_WANT_DONE)
            return; /* the rest is never read */
        if (w == SMTP_WANT_WRITE)
            fail_msg("client output pending with %zu server bytes left: script lacks a C step",
                     n - off);
        size_t step = mode == MODE_BYTE ? 1 : n - off;
        ssize_t r = smtp_feed(s, p + off, step);
        assert_true(r >= 0);
        assert_true((size_t)r <= step);
        if (r == 0) /* stopped: a command to send, or the end (the bad byte is not consumed) */
            assert_true(smtp_want(s) == SMTP_WANT_WRITE || smtp_want(s) == SMTP_WANT_DONE);
        off += (size_t)r;
    }
}

/* expect_output - the client must have exactly these bytes to send */
static void expect_output(smtp_session *s, const char *want, size_t n, enum mode mode)
{
    const char *p;
    size_t have = smtp_output(s, &p);
    if (have != n || memcmp(p, want, n) != 0)
        fail_msg("client sent \"%.*s\", expected \"%.*s\"", (int)have, p, (int)n, want);
    assert_int_equal(smtp_want(s), SMTP_WANT_WRITE);
    if (mode == MODE_BYTE) {
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(smtp_output(s, &p), n - i);
            assert_int_equal(p[0], want[i]);
            smtp_output_consumed(s, 1);
        }
    } else {
        smtp_output_consumed(s, n + 10); /* clamped */
    }
    assert_int_equal(smtp_output(s, &p), 0);
}

/* run_mode - run a script in one mode; returns the session (caller frees) */
static smtp_session *run_mode(const smtp_config *cfg, const struct step *steps, enum mode mode)
{
    smtp_session *s = smtp_new(cfg);
    assert_non_null(s);
    for (const struct step *st = steps; st->k != END; st++) {
        size_t len = st->len ? st->len : (st->data ? strlen(st->data) : 0);
        switch (st->k) {
        case S:
            assert_int_not_equal(smtp_want(s), SMTP_WANT_WRITE);
            feed_segment(s, st->data, len, mode);
            break;
        case C:
            expect_output(s, st->data, len, mode);
            break;
        case TLS_OK:
        case TLS_FAIL:
            assert_int_equal(smtp_want(s), SMTP_WANT_START_TLS);
            assert_int_equal(smtp_tls_done(s, st->k == TLS_OK), 0);
            break;
        case END_EOF:
            smtp_eof(s);
            break;
        case END_TIMEOUT:
            smtp_timeout(s);
            break;
        case END:
            break;
        }
    }
    const char *p;
    assert_int_equal(smtp_output(s, &p), 0);
    return s;
}

/* dump - smtp_dump as a malloc'd string */
static char *dump(const smtp_session *s)
{
    strbuf b;
    sb_init(&b, 1u << 24);
    assert_int_equal(smtp_dump(s, &b), MXTLS_OK);
    return sb_take(&b);
}

/* run - both modes, identical observations; returns the chunked session */
static smtp_session *run(const smtp_config *cfg, const struct step *steps)
{
    smtp_session *a = run_mode(cfg ? cfg : &default_cfg, steps, MODE_CHUNK);
    smtp_session *b = run_mode(cfg ? cfg : &default_cfg, steps, MODE_BYTE);
    char *da = dump(a), *db = dump(b);
    if (strcmp(da, db) != 0)
        fail_msg("chunked and bytewise runs differ:\n--- chunked\n%s--- bytewise\n%s", da, db);
    free(da);
    free(db);
    smtp_free(b);
    return a;
}

/* expect_done - finished with this outcome and reason */
static const smtp_obs *expect_done(smtp_session *s, smtp_outcome outcome, const char *reason)
{
    const smtp_obs *o = smtp_obs_get(s);
    assert_int_equal(smtp_want(s), SMTP_WANT_DONE);
    assert_int_equal(smtp_phase_get(s), SMTP_PHASE_DONE);
    if (o->outcome != outcome)
        fail_msg("outcome %s, expected %s (%s)", smtp_outcome_name(o->outcome),
                 smtp_outcome_name(outcome), o->reason);
    assert_string_equal(o->reason, reason);
    assert_true(o->commands <= o->replies);
    return o;
}

#define BANNER_POSTFIX "220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n"
#define EHLO_POSTFIX                                                                          \
    "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"   \
    "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n"  \
    "250 CHUNKING\r\n"
#define EHLO_POSTFIX_TLS                                                                      \
    "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"   \
    "250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"         \
    "250-SMTPUTF8\r\n250 CHUNKING\r\n"
#define EHLO_CMD "EHLO client.mxtls.test\r\n"
#define HELO_CMD "HELO client.mxtls.test\r\n"

/* ---- complete dialogues ------------------------------------------------ */

static void test_postfix_starttls(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),
        SRV("220 2.0.0 Ready to start TLS\r\n"),
        {TLS_OK, NULL, 0},
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX_TLS),
        CLI("QUIT\r\n"),
        SRV("221 2.0.0 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_TLS, "EHLO accepted over TLS after STARTTLS");
    assert_int_equal(o->outcome_phase, SMTP_PHASE_POST_TLS_EHLO);
    assert_int_equal(o->banner.code, 220);
    assert_string_equal(o->greeting_host, "mx.example.com");
    assert_int_equal(o->pre_tls.ehlo.code, 250);
    assert_int_equal(o->pre_tls.ehlo.lines.n, 11);
    assert_true(o->pre_tls.esmtp);
    assert_true(o->pre_tls.caps.ext & EHLO_STARTTLS);
    assert_int_equal(o->pre_tls.caps.size, 10240000);
    assert_int_equal(o->pre_tls.caps.auth.n, 0);
    assert_true(o->starttls_offered);
    assert_true(o->starttls_attempted);
    assert_int_equal(o->starttls.code, 220);
    assert_true(o->tls_started);
    assert_true(o->tls_ok);
    assert_true(o->post_tls.esmtp);
    assert_false(o->post_tls.caps.ext & EHLO_STARTTLS);
    assert_int_equal(o->post_tls.caps.auth.n, 2);
    assert_string_equal(o->post_tls.caps.auth.v[0], "PLAIN");
    assert_int_equal(o->quit_status, SMTP_QUIT_REPLIED);
    assert_int_equal(o->quit_code, 221);
    assert_int_equal(o->commands, 4);
    assert_int_equal(o->replies, 5);
    assert_int_equal(o->nfindings, 0);
    assert_int_equal(o->nrejections, 0);
    assert_int_equal(o->injected_bytes, 0);
    smtp_free(s);
}

static void test_multiline_banner(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("220-mx.example.com ESMTP ready\r\n220-Unsolicited bulk mail prohibited\r\n"),
        SRV("220 Go ahead\r\n"),
        CLI(EHLO_CMD),
        SRV("250-mx.example.com\r\n250 PIPELINING\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS, "the server does not offer STARTTLS");
    assert_int_equal(o->banner.lines.n, 3);
    assert_string_equal(o->banner.lines.v[1], "Unsolicited bulk mail prohibited");
    assert_string_equal(o->greeting_host, "mx.example.com");
    assert_false(o->starttls_offered);
    assert_false(o->starttls_attempted);
    assert_false(o->tls_started);
    assert_int_equal(o->outcome_phase, SMTP_PHASE_EHLO);
    smtp_free(s);
}

static void test_banner_421(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("421 4.3.2 Service shutting down\r\n"),
        CLI("QUIT\r\n"),
        {END_EOF, NULL, 0},
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_BANNER_REJECTED,
                                    "the greeting refused the session: 421 4.3.2 Service shutting down");
    assert_int_equal(o->banner.code, 421);
    assert_int_equal(o->outcome_phase, SMTP_PHASE_BANNER);
    assert_int_equal(o->nrejections, 1);
    assert_string_equal(o->rejections[0].command, "banner");
    assert_int_equal(o->rejections[0].code, 421);
    assert_int_equal(o->quit_status, SMTP_QUIT_CLOSED);
    assert_false(o->pre_tls.ehlo_sent);
    smtp_free(s);
}

static void test_banner_554(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("554-mx.example.com no SMTP service here\r\n554 5.7.1 Your IP is listed\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 2.0.0 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(
        s, SMTP_OUTCOME_BANNER_REJECTED,
        "the greeting refused the session: 554 mx.example.com no SMTP service here");
    assert_int_equal(o->banner.code, 554);
    assert_int_equal(o->banner.lines.n, 2);
    assert_null(o->greeting_host); /* only a 2xx greeting names the host */
    assert_int_equal(o->quit_code, 221);
    assert_int_equal(o->commands, 1);
    smtp_free(s);
}

static void test_ehlo_502_helo_fallback(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("220 old.example.com SMTP\r\n"),
        CLI(EHLO_CMD),
        SRV("502 5.5.2 Command not recognized\r\n"),
        CLI(HELO_CMD),
        SRV("250 old.example.com\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS,
                                    "the server refused EHLO (502) and accepted HELO: without "
                                    "service extensions STARTTLS is not possible");
    assert_true(o->pre_tls.helo_fallback);
    assert_int_equal(o->pre_tls.ehlo.code, 502);
    assert_int_equal(o->pre_tls.helo.code, 250);
    assert_false(o->pre_tls.esmtp);
    assert_int_equal(o->pre_tls.caps.ext, 0);
    assert_false(o->starttls_offered);
    assert_int_equal(o->nrejections, 1);
    assert_string_equal(o->rejections[0].command, "EHLO");
    assert_int_equal(o->rejections[0].code, 502);
    smtp_free(s);
}

static void test_ehlo_and_helo_rejected(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("220 mx.example.com ESMTP\r\n"),
        CLI(EHLO_CMD),
        SRV("550 5.7.1 Go away\r\n"),
        CLI(HELO_CMD),
        SRV("550 5.7.1 Really, go away\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_EHLO_AND_HELO_REJECTED,
                    "the server refused EHLO (550 5.7.1 Go away) and HELO (550 5.7.1 Really, go away)");
    assert_int_equal(o->nrejections, 2);
    assert_string_equal(o->rejections[1].command, "HELO");
    assert_int_equal(o->rejections[1].code, 550);
    smtp_free(s);
}

static void test_ehlo_421_no_fallback(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("220 mx.example.com ESMTP\r\n"),
        CLI(EHLO_CMD),
        SRV("421 4.7.0 Too many connections\r\n"),
        CLI("QUIT\r\n"),
        {END_EOF, NULL, 0},
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_EHLO_REJECTED,
                                    "the server refused EHLO: 421 4.7.0 Too many connections");
    assert_false(o->pre_tls.helo_fallback);
    assert_int_equal(o->rejections[0].code, 421);
    assert_int_equal(o->outcome_phase, SMTP_PHASE_EHLO);
    smtp_free(s);
}

static void test_starttls_454(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),
        SRV("454 4.7.0 TLS not available due to local problem\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 2.0.0 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(
        s, SMTP_OUTCOME_STARTTLS_REJECTED,
        "the server refused STARTTLS: 454 4.7.0 TLS not available due to local problem");
    assert_int_equal(o->starttls.code, 454);
    assert_int_equal(o->outcome_phase, SMTP_PHASE_STARTTLS);
    assert_false(o->tls_started);
    assert_string_equal(o->rejections[0].command, "STARTTLS");
    smtp_free(s);
}

static void test_starttls_not_attempted_by_config(void **state)
{
    (void)state;
    smtp_config cfg = default_cfg;
    cfg.no_starttls = 1;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX), CLI(EHLO_CMD),        SRV(EHLO_POSTFIX),
        CLI("QUIT\r\n"),     SRV("221 Bye\r\n"), {END, NULL, 0},
    };
    smtp_session *s = run(&cfg, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED,
                                    "the server offers STARTTLS; not attempted by configuration");
    assert_true(o->starttls_offered);
    assert_false(o->starttls_attempted);
    smtp_free(s);
}

static void test_tls_failed(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),
        SRV("220 2.0.0 Ready to start TLS\r\n"),
        {TLS_FAIL, NULL, 0},
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_TLS_FAILED, "the TLS handshake failed after STARTTLS");
    assert_int_equal(o->outcome_phase, SMTP_PHASE_TLS_HANDSHAKE);
    assert_true(o->tls_started);
    assert_false(o->tls_ok);
    assert_int_equal(o->quit_status, SMTP_QUIT_NOT_SENT);
    smtp_free(s);
}

/* ---- STARTTLS injection (CVE-2011-0411 class) --------------------------- */

static void test_injection_same_segment(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),
        SRV("220 2.0.0 Ready to start TLS\r\n250-evil.example\r\n250 AUTH PLAIN\r\n"),
        {TLS_OK, NULL, 0},
        CLI(EHLO_CMD),
        SRV("250-mx.example.com\r\n250 PIPELINING\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_TLS, "EHLO accepted over TLS after STARTTLS");
    assert_int_equal(o->injected_bytes, 34);
    assert_int_equal(o->injected_head_len, 34);
    assert_memory_equal(o->injected_head, "250-evil.example\r\n250 AUTH PLAIN\r\n", 34);
    assert_int_equal(o->nfindings, 1);
    assert_string_equal(o->findings[0].code, "starttls-injection");
    assert_int_equal(o->findings[0].phase, SMTP_PHASE_TLS_HANDSHAKE);
    assert_string_equal(o->findings[0].detail,
                        "34 bytes after the 220 reply to STARTTLS, discarded: "
                        "\"250-evil.example\\r\\n250 AUTH PLAIN\\r\\n\"");
    /* Nothing injected was interpreted: the post-TLS EHLO is the real one. */
    assert_int_equal(o->post_tls.caps.auth.n, 0);
    assert_string_equal(o->post_tls.caps.domain, "mx.example.com");
    assert_int_equal(o->replies, 5);
    smtp_free(s);
}

static void test_injection_later_read(void **state)
{
    (void)state;
    char big[200];
    memset(big, 'X', sizeof big);
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),
        SRV("220 2.0.0 Ready to start TLS\r\n"),
        SRV("250 injected\r\n"),
        {S, big, sizeof big},
        {TLS_OK, NULL, 0},
        CLI(EHLO_CMD),
        SRV("250 mx.example.com\r\n"),
        CLI("QUIT\r\n"),
        {END_EOF, NULL, 0},
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_TLS, "EHLO accepted over TLS after STARTTLS");
    assert_int_equal(o->injected_bytes, 214);
    assert_int_equal(o->injected_head_len, SMTP_INJECT_HEAD);
    assert_string_equal(o->findings[0].code, "starttls-injection");
    assert_string_equal(o->findings[0].detail,
                        "214 bytes after the 220 reply to STARTTLS, discarded: "
                        "\"250 injected\\r\\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\"...");
    assert_int_equal(o->quit_status, SMTP_QUIT_CLOSED);
    smtp_free(s);
}

static void test_injection_then_tls_fail(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),
        SRV("220 Ready\r\nQUIT\r\n"),
        {TLS_FAIL, NULL, 0},
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_TLS_FAILED, "the TLS handshake failed after STARTTLS");
    assert_int_equal(o->injected_bytes, 6);
    smtp_free(s);
}

/* ---- limits and malformed replies -------------------------------------- */

static void test_endless_multiline(void **state)
{
    (void)state;
    static char endless[7 * 150];
    for (size_t i = 0; i < 150; i++)
        memcpy(endless + 7 * i, "250-XX\n", 7);
    const struct step steps[] = {
        SRV("220 mx.example.com ESMTP\r\n"),
        CLI(EHLO_CMD),
        {S, endless, sizeof endless},
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(
        s, SMTP_OUTCOME_LIMIT_EXCEEDED,
        "the reply to EHLO exceeds a limit: line 100, column 4: reply has more than 100 lines");
    assert_int_equal(o->error.kind, REPLY_ERR_LIMIT);
    assert_int_equal(o->error.line, 100);
    assert_int_equal(o->error.column, 4);
    assert_int_equal(o->quit_status, SMTP_QUIT_NOT_SENT); /* no QUIT after a limit */
    assert_int_equal(o->commands, 1);
    assert_int_equal(o->replies, 1);
    smtp_free(s);
}

static void test_line_too_long(void **state)
{
    (void)state;
    static char longline[5000];
    memset(longline, 'a', sizeof longline);
    memcpy(longline, "220 ", 4);
    const struct step steps[] = {{S, longline, sizeof longline}, {END, NULL, 0}};
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_LIMIT_EXCEEDED,
                    "the greeting exceeds a limit: line 1, column 2048: line longer than 2048 bytes");
    assert_int_equal(o->outcome_phase, SMTP_PHASE_BANNER);
    assert_int_equal(o->banner.code, 0);
    assert_int_equal(o->commands, 0);
    smtp_free(s);
}

static void test_reply_too_big_configured(void **state)
{
    (void)state;
    smtp_config cfg = default_cfg;
    cfg.max_reply = 64;
    cfg.max_line = 32;
    cfg.max_lines = 10;
    const struct step steps[] = {
        SRV("220 mx\r\n"),
        CLI(EHLO_CMD),
        SRV("250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(&cfg, steps);
    expect_done(s, SMTP_OUTCOME_LIMIT_EXCEEDED,
                "the reply to EHLO exceeds a limit: line 4, column 9: reply longer than 64 bytes");
    smtp_free(s);
}

static void test_binary_banner(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("\x15\x03\x03\x00\x02\x02\x46"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(
        s, SMTP_OUTCOME_PROTOCOL_ERROR,
        "malformed greeting: line 1, column 1: expected a reply code starting with 2, 3, 4 or 5, "
        "got '\\x15' (this looks like a TLS record: the port may expect implicit TLS)");
    assert_int_equal(o->error.kind, REPLY_ERR_SYNTAX);
    assert_int_equal(o->quit_status, SMTP_QUIT_NOT_SENT);
    smtp_free(s);

    const struct step garbage[] = {SRV("\xff\xfe\x00garbage"), {END, NULL, 0}};
    s = run(NULL, garbage);
    expect_done(s, SMTP_OUTCOME_PROTOCOL_ERROR,
                "malformed greeting: line 1, column 1: expected a reply code starting with 2, "
                "3, 4 or 5, got '\\xff'");
    smtp_free(s);
}

static void test_mismatched_codes(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV("250-mx.example.com\r\n250-PIPELINING\r\n220 STARTTLS\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_PROTOCOL_ERROR,
                    "malformed reply to EHLO: line 3, column 1: reply code 220 differs from 250 "
                    "on the first line");
    assert_int_equal(o->error.line, 3);
    assert_int_equal(o->pre_tls.ehlo.code, 0);
    smtp_free(s);
}

static void test_unexpected_class(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV("354 go ahead\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(
        s, SMTP_OUTCOME_PROTOCOL_ERROR,
        "unexpected reply code class in the reply to EHLO: 354 go ahead");
    assert_int_equal(o->error.kind, REPLY_ERR_NONE);
    smtp_free(s);

    const struct step banner[] = {
        SRV("354 hi\r\n"), CLI("QUIT\r\n"), {END_EOF, NULL, 0}, {END, NULL, 0}};
    s = run(NULL, banner);
    expect_done(s, SMTP_OUTCOME_PROTOCOL_ERROR,
                "unexpected reply code class in the greeting: 354 hi");
    smtp_free(s);
}

static void test_bare_lf_and_odd_codes(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("250 mx.example.com hi\n"),
        CLI(EHLO_CMD),
        SRV("251-mx\n251 PIPELINING\r\n"),
        CLI("QUIT\r\n"),
        SRV("250 ok\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS, "the server does not offer STARTTLS");
    assert_int_equal(o->nfindings, 5);
    assert_string_equal(o->findings[0].code, "bare-lf");
    assert_string_equal(o->findings[0].detail,
                        "greeting: line 1 ends in LF without CR (RFC 5321 §2.3.8)");
    assert_string_equal(o->findings[1].code, "unexpected-code");
    assert_string_equal(o->findings[1].detail, "greeting: 250 instead of 220");
    assert_string_equal(o->findings[2].code, "bare-lf");
    assert_int_equal(o->findings[2].phase, SMTP_PHASE_EHLO);
    assert_string_equal(o->findings[3].detail, "reply to EHLO: 251 instead of 250");
    assert_string_equal(o->findings[4].code, "quit-reply");
    assert_string_equal(o->findings[4].detail, "QUIT answered with 250 instead of 221");
    assert_int_equal(o->quit_code, 250);
    smtp_free(s);
}

static void test_bad_quit_reply_keeps_outcome(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("220 mx ESMTP\r\n"),
        CLI(EHLO_CMD),
        SRV("250 mx\r\n"),
        CLI("QUIT\r\n"),
        SRV("bye!\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS, "the server does not offer STARTTLS");
    assert_int_equal(o->quit_status, SMTP_QUIT_BAD_REPLY);
    assert_string_equal(o->findings[0].code, "quit-reply");
    assert_string_equal(o->findings[0].detail,
                        "line 1, column 1: expected a reply code starting with 2, 3, 4 or 5, "
                        "got 'b'");
    assert_int_equal(o->error.kind, REPLY_ERR_NONE);
    smtp_free(s);
}

/* ---- EOF and timeout in every phase ------------------------------------ */

/* Prefix scripts that bring the machine into each phase. */
static const struct step to_banner[] = {{END, NULL, 0}};
static const struct step to_banner_partial[] = {SRV("220-mx.example.com\r\n220 par"),
                                                {END, NULL, 0}};
static const struct step to_ehlo[] = {SRV(BANNER_POSTFIX), CLI(EHLO_CMD), {END, NULL, 0}};
static const struct step to_starttls[] = {SRV(BANNER_POSTFIX), CLI(EHLO_CMD), SRV(EHLO_POSTFIX),
                                          CLI("STARTTLS\r\n"), {END, NULL, 0}};
static const struct step to_handshake[] = {SRV(BANNER_POSTFIX),     CLI(EHLO_CMD),
                                           SRV(EHLO_POSTFIX),       CLI("STARTTLS\r\n"),
                                           SRV("220 2.0.0 Ready\r\n"), {END, NULL, 0}};
static const struct step to_post_ehlo[] = {
    SRV(BANNER_POSTFIX),        CLI(EHLO_CMD),      SRV(EHLO_POSTFIX), CLI("STARTTLS\r\n"),
    SRV("220 2.0.0 Ready\r\n"), {TLS_OK, NULL, 0}, CLI(EHLO_CMD),     {END, NULL, 0}};
static const struct step to_quit[] = {
    SRV(BANNER_POSTFIX),        CLI(EHLO_CMD),      SRV(EHLO_POSTFIX),     CLI("STARTTLS\r\n"),
    SRV("220 2.0.0 Ready\r\n"), {TLS_OK, NULL, 0}, CLI(EHLO_CMD),         SRV(EHLO_POSTFIX_TLS),
    CLI("QUIT\r\n"),            {END, NULL, 0}};

/* run_then - a prefix script, then EOF or timeout */
static smtp_session *run_then(const struct step *prefix, enum step_kind last, smtp_phase phase)
{
    struct step steps[32];
    size_t n = 0;
    while (prefix[n].k != END)
        steps[n] = prefix[n], n++;
    steps[n++] = (struct step){last, NULL, 0};
    steps[n] = (struct step){END, NULL, 0};
    /* Before the last step the machine is in the phase we claim. */
    smtp_session *p = run_mode(&default_cfg, prefix, MODE_CHUNK);
    assert_int_equal(smtp_phase_get(p), phase);
    smtp_free(p);
    return run(NULL, steps);
}

static void test_eof_each_phase(void **state)
{
    (void)state;
    static const struct {
        const struct step *prefix;
        smtp_phase phase;
        const char *reason;
    } cases[] = {
        {to_banner, SMTP_PHASE_BANNER,
         "the server closed the connection while we waited for the greeting"},
        {to_banner_partial, SMTP_PHASE_BANNER,
         "the server closed the connection in the middle of the greeting (27 bytes received)"},
        {to_ehlo, SMTP_PHASE_EHLO,
         "the server closed the connection while we waited for the reply to EHLO"},
        {to_starttls, SMTP_PHASE_STARTTLS,
         "the server closed the connection while we waited for the reply to STARTTLS"},
        {to_post_ehlo, SMTP_PHASE_POST_TLS_EHLO,
         "the server closed the connection while we waited for the reply to EHLO over TLS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        smtp_session *s = run_then(cases[i].prefix, END_EOF, cases[i].phase);
        const smtp_obs *o = expect_done(s, SMTP_OUTCOME_CONNECTION_CLOSED, cases[i].reason);
        assert_int_equal(o->outcome_phase, cases[i].phase);
        assert_int_equal(o->quit_status, SMTP_QUIT_NOT_SENT);
        smtp_free(s);
    }
    /* EOF during the handshake is a failed handshake, not a lost
     * connection: one outcome however the adapter learnt of the close. */
    for (int implicit = 0; implicit < 2; implicit++) {
        smtp_session *s;
        if (implicit) {
            smtp_config c = default_cfg;
            c.implicit_tls = 1;
            s = smtp_new(&c);
        } else {
            s = run_mode(&default_cfg, to_handshake, MODE_CHUNK);
        }
        assert_int_equal(smtp_phase_get(s), SMTP_PHASE_TLS_HANDSHAKE);
        smtp_eof(s);
        const smtp_obs *o = expect_done(
            s, SMTP_OUTCOME_TLS_FAILED,
            implicit ? "the server closed the connection during the TLS handshake (implicit TLS)"
                     : "the server closed the connection during the TLS handshake after STARTTLS");
        assert_int_equal(o->outcome_phase, SMTP_PHASE_TLS_HANDSHAKE);
        assert_int_equal(o->quit_status, SMTP_QUIT_NOT_SENT);
        assert_int_equal(o->tls_started, 1);
        assert_int_equal(o->tls_ok, 0);
        smtp_free(s);
    }
    /* EOF while waiting for the reply to QUIT is a normal end. */
    smtp_session *s = run_then(to_quit, END_EOF, SMTP_PHASE_QUIT);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_TLS, "EHLO accepted over TLS after STARTTLS");
    assert_int_equal(o->quit_status, SMTP_QUIT_CLOSED);
    smtp_eof(s); /* idempotent */
    smtp_timeout(s);
    assert_int_equal(o->quit_status, SMTP_QUIT_CLOSED);
    smtp_free(s);
}

static void test_timeout_each_phase(void **state)
{
    (void)state;
    static const struct {
        const struct step *prefix;
        smtp_phase phase;
        const char *reason;
    } cases[] = {
        {to_banner, SMTP_PHASE_BANNER, "timed out waiting for the greeting"},
        {to_banner_partial, SMTP_PHASE_BANNER,
         "timed out waiting for the greeting, 27 bytes into it (\"220-mx.example.com\", then "
         "\"220 par\")"},
        {to_ehlo, SMTP_PHASE_EHLO, "timed out waiting for the reply to EHLO"},
        {to_starttls, SMTP_PHASE_STARTTLS, "timed out waiting for the reply to STARTTLS"},
        {to_handshake, SMTP_PHASE_TLS_HANDSHAKE, "timed out during the TLS handshake"},
        {to_post_ehlo, SMTP_PHASE_POST_TLS_EHLO, "timed out waiting for the reply to EHLO over TLS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        smtp_session *s = run_then(cases[i].prefix, END_TIMEOUT, cases[i].phase);
        const smtp_obs *o = expect_done(s, SMTP_OUTCOME_TIMEOUT, cases[i].reason);
        assert_int_equal(o->outcome_phase, cases[i].phase);
        smtp_free(s);
    }
    smtp_session *s = run_then(to_quit, END_TIMEOUT, SMTP_PHASE_QUIT);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_TLS, "EHLO accepted over TLS after STARTTLS");
    assert_int_equal(o->quit_status, SMTP_QUIT_TIMEOUT);
    smtp_free(s);
}

static void test_timeout_and_eof_while_sending(void **state)
{
    (void)state;
    smtp_session *s = smtp_new(&default_cfg);
    assert_int_equal(smtp_feed(s, "220 mx\r\n", 8), 8);
    assert_int_equal(smtp_want(s), SMTP_WANT_WRITE);
    smtp_output_consumed(s, 3);
    smtp_timeout(s);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_TIMEOUT, "timed out sending EHLO");
    const char *p;
    assert_int_equal(smtp_output(s, &p), 0);
    assert_int_equal(o->outcome_phase, SMTP_PHASE_EHLO);
    smtp_free(s);

    s = smtp_new(&default_cfg);
    assert_int_equal(smtp_feed(s, "220 mx\r\n", 8), 8);
    smtp_eof(s);
    expect_done(s, SMTP_OUTCOME_CONNECTION_CLOSED,
                "the server closed the connection before EHLO was sent");
    smtp_free(s);
}

/* ---- implicit TLS ------------------------------------------------------- */

static void test_implicit_tls(void **state)
{
    (void)state;
    smtp_config cfg = default_cfg;
    cfg.implicit_tls = 1;
    smtp_session *fresh = smtp_new(&cfg);
    assert_int_equal(smtp_want(fresh), SMTP_WANT_START_TLS);
    assert_int_equal(smtp_phase_get(fresh), SMTP_PHASE_TLS_HANDSHAKE);
    smtp_free(fresh);

    const struct step steps[] = {
        {TLS_OK, NULL, 0},
        SRV("220 smtp.example.com ESMTP ready\r\n"),
        CLI(EHLO_CMD),
        SRV("250-smtp.example.com\r\n250-AUTH=LOGIN PLAIN\r\n250-AUTH LOGIN PLAIN XOAUTH2\r\n"
            "250 SIZE 35882577\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(&cfg, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_TLS, "EHLO accepted over implicit TLS");
    assert_true(o->implicit_tls);
    assert_true(o->tls_ok);
    assert_false(o->starttls_attempted);
    assert_false(o->pre_tls.ehlo_sent);
    assert_true(o->post_tls.ehlo_sent);
    assert_int_equal(o->outcome_phase, SMTP_PHASE_POST_TLS_EHLO);
    const ehlo_caps *c = &o->post_tls.caps;
    assert_true(c->auth_equals);
    assert_int_equal(c->auth.n, 3);
    assert_string_equal(c->auth.v[0], "LOGIN");
    assert_string_equal(c->auth.v[1], "PLAIN");
    assert_string_equal(c->auth.v[2], "XOAUTH2");
    assert_int_equal(c->size, 35882577);
    smtp_free(s);

    const struct step fail[] = {{TLS_FAIL, NULL, 0}, {END, NULL, 0}};
    s = run(&cfg, fail);
    expect_done(s, SMTP_OUTCOME_TLS_FAILED, "the TLS handshake failed (implicit TLS)");
    smtp_free(s);

    const struct step early[] = {SRV("220 plaintext\r\n"), {TLS_OK, NULL, 0},
                                 SRV("220 tls\r\n"),       CLI(EHLO_CMD),
                                 SRV("250 mx\r\n"),        CLI("QUIT\r\n"),
                                 {END_EOF, NULL, 0},       {END, NULL, 0}};
    s = run(&cfg, early);
    o = expect_done(s, SMTP_OUTCOME_OK_TLS, "EHLO accepted over implicit TLS");
    assert_string_equal(o->findings[0].code, "pre-tls-data");
    assert_string_equal(o->findings[0].detail,
                        "15 cleartext bytes before the implicit TLS handshake, discarded: "
                        "\"220 plaintext\\r\\n\"");
    assert_string_equal(o->banner.lines.v[0], "tls");
    smtp_free(s);
}

/* ---- after TLS ---------------------------------------------------------- */

static void test_post_tls_helo_and_starttls_again(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),
        SRV("220 Ready\r\n"),
        {TLS_OK, NULL, 0},
        CLI(EHLO_CMD),
        SRV("500 What?\r\n"),
        CLI(HELO_CMD),
        SRV("250 mx.example.com\r\n"),
        CLI("QUIT\r\n"),
        SRV("221 Bye\r\n"),
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o = expect_done(s, SMTP_OUTCOME_OK_TLS, "HELO accepted over TLS after STARTTLS");
    assert_true(o->post_tls.helo_fallback);
    assert_false(o->pre_tls.helo_fallback);
    assert_int_equal(o->rejections[0].phase, SMTP_PHASE_POST_TLS_EHLO);
    smtp_free(s);

    const struct step again[] = {
        SRV(BANNER_POSTFIX),  CLI(EHLO_CMD),     SRV(EHLO_POSTFIX), CLI("STARTTLS\r\n"),
        SRV("220 Ready\r\n"), {TLS_OK, NULL, 0}, CLI(EHLO_CMD),     SRV(EHLO_POSTFIX),
        CLI("QUIT\r\n"),      SRV("221 Bye\r\n"), {END, NULL, 0},
    };
    s = run(NULL, again);
    o = expect_done(s, SMTP_OUTCOME_OK_TLS, "EHLO accepted over TLS after STARTTLS");
    assert_int_equal(o->nfindings, 1);
    assert_string_equal(o->findings[0].code, "starttls-after-tls");
    assert_int_equal(o->findings[0].phase, SMTP_PHASE_POST_TLS_EHLO);
    /* One STARTTLS only, whatever the server offers. */
    assert_int_equal(o->commands, 4);
    smtp_free(s);

    const struct step rejected[] = {
        SRV(BANNER_POSTFIX),  CLI(EHLO_CMD),     SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),  SRV("220 Ready\r\n"), {TLS_OK, NULL, 0},
        CLI(EHLO_CMD),        SRV("421 4.3.0 bye\r\n"), CLI("QUIT\r\n"),
        {END_EOF, NULL, 0},   {END, NULL, 0},
    };
    s = run(NULL, rejected);
    expect_done(s, SMTP_OUTCOME_EHLO_REJECTED, "the server refused EHLO over TLS: 421 4.3.0 bye");
    smtp_free(s);
}

static void test_ehlo_syntax_finding(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("220 mx\r\n"),
        CLI(EHLO_CMD),
        SRV("250-mx\r\n250-SIZE big\r\n250-AUTH\r\n250 STARTTLS\r\n"),
        CLI("STARTTLS\r\n"),
        SRV("220 go\r\n"),
        {TLS_FAIL, NULL, 0},
        {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    const smtp_obs *o =
        expect_done(s, SMTP_OUTCOME_TLS_FAILED, "the TLS handshake failed after STARTTLS");
    assert_string_equal(o->findings[0].code, "ehlo-syntax");
    assert_string_equal(o->findings[0].detail,
                        "2 problems in the EHLO reply; first: line 2, column 6: SIZE value is "
                        "not a number");
    smtp_free(s);
}

/* ---- copying observations -------------------------------------------- */

/* postfix_session - a finished Postfix STARTTLS dialogue with one finding */
static smtp_session *postfix_session(void)
{
    const struct step steps[] = {
        SRV(BANNER_POSTFIX),
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX),
        CLI("STARTTLS\r\n"),
        SRV("220 2.0.0 Ready to start TLS\r\nX"),
        {TLS_OK, NULL, 0},
        CLI(EHLO_CMD),
        SRV(EHLO_POSTFIX_TLS),
        CLI("QUIT\r\n"),
        SRV("221 2.0.0 Bye\r\n"),
        {END, NULL, 0},
    };
    return run(NULL, steps);
}

/* expect_same_obs - a copy holds the same observations as the original */
static void expect_same_obs(const smtp_obs *a, const smtp_obs *b)
{
    assert_int_equal(a->outcome, b->outcome);
    assert_string_equal(a->reason, b->reason);
    assert_string_equal(a->greeting_host, b->greeting_host);
    assert_ptr_not_equal(a->greeting_host, b->greeting_host);
    assert_int_equal(a->banner.lines.n, b->banner.lines.n);
    assert_string_equal(a->banner.lines.v[0], b->banner.lines.v[0]);
    assert_ptr_not_equal(a->banner.lines.v, b->banner.lines.v);
    assert_int_equal(a->pre_tls.ehlo.lines.n, b->pre_tls.ehlo.lines.n);
    assert_string_equal(a->pre_tls.caps.domain, b->pre_tls.caps.domain);
    assert_int_equal(a->pre_tls.caps.ext, b->pre_tls.caps.ext);
    assert_int_equal(a->pre_tls.caps.unknown.n, b->pre_tls.caps.unknown.n);
    assert_int_equal(a->post_tls.caps.auth.n, b->post_tls.caps.auth.n);
    assert_string_equal(a->post_tls.caps.auth.v[1], b->post_tls.caps.auth.v[1]);
    assert_int_equal(a->starttls.code, b->starttls.code);
    assert_string_equal(a->starttls.lines.v[0], b->starttls.lines.v[0]);
    assert_int_equal(a->nfindings, b->nfindings);
    assert_string_equal(a->findings[0].detail, b->findings[0].detail);
    assert_int_equal(a->injected_bytes, b->injected_bytes);
}

static void test_obs_copy(void **state)
{
    (void)state;
    smtp_session *s = postfix_session();
    smtp_obs copy;
    assert_int_equal(smtp_obs_copy(&copy, smtp_obs_get(s)), MXTLS_OK);
    expect_same_obs(smtp_obs_get(s), &copy);
    smtp_free(s); /* the copy outlives the session */
    assert_string_equal(copy.post_tls.caps.auth.v[0], "PLAIN");
    assert_string_equal(copy.findings[0].code, "starttls-injection");
    smtp_obs_free(&copy);
    assert_null(copy.greeting_host);
    assert_int_equal(copy.outcome, SMTP_OUTCOME_OK_TLS); /* fixed fields stay */
    smtp_obs_free(&copy);                                /* twice is harmless */
    smtp_obs_free(NULL);
}

/* ---- out of memory ------------------------------------------------------ */

/* A failing allocator (fail the Nth allocation, as nghttp2's tests do). glibc
 * lets a program replace malloc; the replacement forwards to __libc_*. Not
 * under AddressSanitizer, which owns malloc itself. The countdown is the
 * test's only mutable global; it is armed only around calls into smtp. */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__has_feature)
#define TEST_FAILING_MALLOC 1
#elif defined(__GLIBC__) && defined(__has_feature)
#if !__has_feature(address_sanitizer)
#define TEST_FAILING_MALLOC 1
#endif
#endif

#ifdef TEST_FAILING_MALLOC
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static long alloc_countdown = -1; /* -1: never fail; 0: fail every allocation from now */
static long alloc_live;           /* allocations not yet freed, to find leaks on error paths */

/* alloc_ok - consume one allocation from the countdown */
static int alloc_ok(void)
{
    if (alloc_countdown < 0)
        return 1;
    if (alloc_countdown == 0)
        return 0;
    alloc_countdown--;
    return 1;
}

void *malloc(size_t n)
{
    void *p = alloc_ok() ? __libc_malloc(n) : NULL;
    alloc_live += p != NULL;
    return p;
}

void *calloc(size_t n, size_t m)
{
    void *p = alloc_ok() ? __libc_calloc(n, m) : NULL;
    alloc_live += p != NULL;
    return p;
}

void *realloc(void *p, size_t n)
{
    void *q = alloc_ok() ? __libc_realloc(p, n) : NULL;
    alloc_live += p == NULL && q != NULL;
    return q;
}

void free(void *p)
{
    alloc_live -= p != NULL;
    __libc_free(p);
}

/* nomem_dialogue - the Postfix STARTTLS dialogue with the Nth allocation failing */
static int nomem_dialogue(long n)
{
    static const char *const server[] = {BANNER_POSTFIX, EHLO_POSTFIX,
                                         "220 2.0.0 Ready to start TLS\r\n", EHLO_POSTFIX_TLS,
                                         "221 2.0.0 Bye\r\n"};
    long live = alloc_live;
    alloc_countdown = n;
    smtp_session *s = smtp_new(&default_cfg);
    if (!s) {
        alloc_countdown = -1;
        assert_int_equal(alloc_live, live);
        return 0;
    }
    int nomem = 0;
    for (size_t i = 0; i < sizeof server / sizeof server[0] && !nomem; i++) {
        const char *p;
        size_t len = strlen(server[i]), off = 0;
        while (off < len && smtp_want(s) != SMTP_WANT_DONE) {
            if (smtp_want(s) == SMTP_WANT_WRITE)
                smtp_output_consumed(s, smtp_output(s, &p));
            ssize_t r = smtp_feed(s, server[i] + off, len - off);
            if (r == SMTP_ERR_NOMEM) {
                nomem = 1;
                break;
            }
            assert_true(r >= 0);
            off += (size_t)r;
        }
        if (smtp_want(s) == SMTP_WANT_WRITE)
            smtp_output_consumed(s, smtp_output(s, &p));
        if (smtp_want(s) == SMTP_WANT_START_TLS)
            assert_int_equal(smtp_tls_done(s, 1), 0);
    }
    alloc_countdown = -1;
    const smtp_obs *o = smtp_obs_get(s);
    assert_int_equal(smtp_want(s), SMTP_WANT_DONE);
    if (nomem) {
        assert_int_equal(o->outcome, SMTP_OUTCOME_INTERNAL_ERROR);
        assert_string_equal(o->reason, "out of memory");
        assert_int_equal(smtp_feed(s, "x", 1), SMTP_ERR_NOMEM);
    } else {
        assert_int_equal(o->outcome, SMTP_OUTCOME_OK_TLS);
    }
    smtp_free(s);
    assert_int_equal(alloc_live, live); /* nothing leaked on any error path */
    return nomem ? 1 : 2;
}

static void test_out_of_memory(void **state)
{
    (void)state;
    int saw_nomem = 0;
    long n;
    void *volatile probe;
    alloc_countdown = 0;
    probe = malloc(1);
    alloc_countdown = -1;
    if (probe) {
        free(probe);
        skip(); /* malloc is not ours (valgrind replaced it) */
    }
    for (n = 0; n < 10000; n++) {
        int r = nomem_dialogue(n);
        if (r == 1)
            saw_nomem = 1;
        if (r == 2)
            break; /* enough allocations allowed to finish */
    }
    assert_true(saw_nomem);
    assert_true(n < 10000);
    print_message("out-of-memory: failed each of the first %ld allocations in turn\n", n);
}
static void test_obs_copy_out_of_memory(void **state)
{
    (void)state;
    void *volatile probe;
    alloc_countdown = 0;
    probe = malloc(1);
    alloc_countdown = -1;
    if (probe) {
        free(probe);
        skip();
    }
    smtp_session *s = postfix_session();
    long n;
    int failed = 0;
    for (n = 0; n < 10000; n++) {
        smtp_obs copy;
        long live = alloc_live;
        alloc_countdown = n;
        mxtls_status st = smtp_obs_copy(&copy, smtp_obs_get(s));
        alloc_countdown = -1;
        if (st == MXTLS_OK)
            expect_same_obs(smtp_obs_get(s), &copy);
        else {
            assert_int_equal(st, MXTLS_ERR_NOMEM);
            assert_int_equal(copy.outcome, SMTP_OUTCOME_OK_TLS);
            failed = 1;
        }
        smtp_obs_free(&copy);
        assert_int_equal(alloc_live, live);
        if (st == MXTLS_OK)
            break;
    }
    assert_true(failed);
    assert_true(n < 10000);
    smtp_free(s);
}
#else
static void test_obs_copy_out_of_memory(void **state)
{
    (void)state;
    skip(); /* the sanitizer owns malloc */
}

static void test_out_of_memory(void **state)
{
    (void)state;
    skip(); /* the sanitizer owns malloc */
}
#endif

/* ---- API contract ------------------------------------------------------- */

static void test_api_contract(void **state)
{
    (void)state;
    smtp_config bad = default_cfg;
    err_rec e;
    bad.ehlo_name = "two words";
    assert_int_equal(smtp_config_check(&bad, &e), -1);
    assert_string_equal(e.message, "the EHLO name contains a space or control character at byte 4");
    assert_null(smtp_new(&bad));
    bad.ehlo_name = "inject\r\nRCPT TO:<x>";
    assert_null(smtp_new(&bad));
    bad.ehlo_name = "";
    assert_null(smtp_new(&bad));
    bad.ehlo_name = NULL;
    assert_null(smtp_new(&bad));
    assert_null(smtp_new(NULL));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    bad.ehlo_name = longname;
    assert_null(smtp_new(&bad));
    longname[SMTP_MAX_EHLO_NAME] = '\0';
    smtp_session *s = smtp_new(&bad);
    assert_non_null(s);
    smtp_free(s);
    bad = default_cfg;
    bad.max_line = 4;
    assert_int_equal(smtp_config_check(&bad, &e), -1);
    assert_null(smtp_new(&bad));
    bad.ehlo_name = "[192.0.2.1]";
    bad.max_line = 0;
    assert_int_equal(smtp_config_check(&bad, NULL), 0);
    smtp_free(NULL);

    s = smtp_new(&default_cfg);
    assert_int_equal(smtp_want(s), SMTP_WANT_READ);
    assert_int_equal(smtp_phase_get(s), SMTP_PHASE_BANNER);
    assert_int_equal(smtp_tls_done(s, 1), SMTP_ERR_STATE);
    assert_int_equal(smtp_feed(s, "", 0), 0);
    /* The machine stops after the banner: the rest waits until EHLO is sent. */
    assert_int_equal(smtp_feed(s, "220 mx\r\n250 early\r\n", 19), 8);
    assert_int_equal(smtp_feed(s, "250 early\r\n", 11), 0);
    const char *p;
    assert_int_equal(smtp_output(s, &p), strlen(EHLO_CMD));
    smtp_output_consumed(s, 100);
    assert_int_equal(smtp_feed(s, "250 early\r\n", 11), 11);
    assert_int_equal(smtp_want(s), SMTP_WANT_WRITE); /* QUIT */
    smtp_output_consumed(s, 6);
    assert_int_equal(smtp_feed(s, "221 bye\r\ntrailing", 17), 9);
    assert_int_equal(smtp_want(s), SMTP_WANT_DONE);
    assert_int_equal(smtp_feed(s, "x", 1), SMTP_ERR_STATE);
    assert_int_equal(smtp_tls_done(s, 1), SMTP_ERR_STATE);
    smtp_free(s);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(smtp_outcome_name(SMTP_OUTCOME_OK_TLS), "ok-tls");
    assert_string_equal(smtp_outcome_name(SMTP_OUTCOME_EHLO_AND_HELO_REJECTED),
                        "ehlo-and-helo-rejected");
    assert_string_equal(smtp_outcome_name(SMTP_OUTCOME_INTERNAL_ERROR), "internal-error");
    assert_string_equal(smtp_outcome_name((smtp_outcome)99), "?");
    assert_string_equal(smtp_phase_name(SMTP_PHASE_POST_TLS_EHLO), "post-tls-ehlo");
    assert_string_equal(smtp_phase_name((smtp_phase)-1), "?");
    assert_string_equal(smtp_want_name(SMTP_WANT_START_TLS), "start-tls");
    assert_string_equal(smtp_quit_status_name(SMTP_QUIT_BAD_REPLY), "bad-reply");
}

static void test_dump_shape(void **state)
{
    (void)state;
    const struct step steps[] = {
        SRV("220 mx \"quoted\"\r\n"), CLI(EHLO_CMD), SRV("250-mx\r\n250 AUTH PLAIN\r\n"),
        CLI("QUIT\r\n"),             SRV("221 Bye\r\n"), {END, NULL, 0},
    };
    smtp_session *s = run(NULL, steps);
    char *d = dump(s);
    assert_non_null(strstr(d, "outcome=ok-plaintext-no-starttls\noutcome.phase=ehlo\n"));
    assert_non_null(strstr(d, "\nbanner.line.1=mx \\\"quoted\\\"\n"));
    assert_non_null(strstr(d, "\npre.caps.ext=AUTH\npre.caps.size=-\npre.caps.auth=PLAIN\n"));
    assert_non_null(strstr(d, "\nquit.status=replied\nquit.code=221\n"));
    assert_non_null(strstr(d, "\ncommands=2\nreplies=3\nfindings=0\n"));
    free(d);
    smtp_free(s);
}

/* smtp_ehlo_name_check - the one EHLO name check (CLI --ehlo, the engine's
 * configuration, the SMTP machine) */
static void test_ehlo_name_check(void **state)
{
    (void)state;
    char longest[SMTP_MAX_EHLO_NAME + 2];
    memset(longest, 'a', sizeof longest);
    longest[SMTP_MAX_EHLO_NAME] = '\0';
    static const char *const good[] = {"mx.example", "[192.0.2.1]", "a", "!~"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(smtp_ehlo_name_check(good[i], NULL), 0);
    assert_int_equal(smtp_ehlo_name_check(longest, NULL), 0);
    longest[SMTP_MAX_EHLO_NAME] = 'a';
    longest[SMTP_MAX_EHLO_NAME + 1] = '\0';
    err_rec e;
    err_clear(&e);
    assert_int_equal(smtp_ehlo_name_check(longest, &e), -1);
    assert_string_equal(e.message, "the EHLO name is longer than 255 bytes");
    err_clear(&e);
    assert_int_equal(smtp_ehlo_name_check("", &e), -1);
    assert_string_equal(e.message, "the EHLO name is empty");
    assert_int_equal(smtp_ehlo_name_check(NULL, NULL), -1);
    static const char *const bad[] = {"a b", "a\tb", "caf\xc3\xa9", "a\x7f", "x\r\nQUIT"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(smtp_ehlo_name_check(bad[i], NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix_starttls),
        cmocka_unit_test(test_ehlo_name_check),
        cmocka_unit_test(test_multiline_banner),
        cmocka_unit_test(test_banner_421),
        cmocka_unit_test(test_banner_554),
        cmocka_unit_test(test_ehlo_502_helo_fallback),
        cmocka_unit_test(test_ehlo_and_helo_rejected),
        cmocka_unit_test(test_ehlo_421_no_fallback),
        cmocka_unit_test(test_starttls_454),
        cmocka_unit_test(test_starttls_not_attempted_by_config),
        cmocka_unit_test(test_tls_failed),
        cmocka_unit_test(test_injection_same_segment),
        cmocka_unit_test(test_injection_later_read),
        cmocka_unit_test(test_injection_then_tls_fail),
        cmocka_unit_test(test_endless_multiline),
        cmocka_unit_test(test_line_too_long),
        cmocka_unit_test(test_reply_too_big_configured),
        cmocka_unit_test(test_binary_banner),
        cmocka_unit_test(test_mismatched_codes),
        cmocka_unit_test(test_unexpected_class),
        cmocka_unit_test(test_bare_lf_and_odd_codes),
        cmocka_unit_test(test_bad_quit_reply_keeps_outcome),
        cmocka_unit_test(test_eof_each_phase),
        cmocka_unit_test(test_timeout_each_phase),
        cmocka_unit_test(test_timeout_and_eof_while_sending),
        cmocka_unit_test(test_implicit_tls),
        cmocka_unit_test(test_post_tls_helo_and_starttls_again),
        cmocka_unit_test(test_ehlo_syntax_finding),
        cmocka_unit_test(test_obs_copy),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_obs_copy_out_of_memory),
        cmocka_unit_test(test_api_contract),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_dump_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
