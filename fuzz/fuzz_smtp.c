/* fuzz_smtp - the SMTP client state machine driven by an arbitrary peer
 *
 * Input format:
 *   byte 0     flags: bit 0 implicit TLS, bit 1 no_starttls, bit 2 tiny
 *              limits, bit 3 end with a timeout instead of EOF, bit 4
 *              mail_probe (also a bit of the tiny line limit); the whole
 *              byte also seeds the pseudo-random chunk sizes
 *   then records, until the input ends:
 *     op & 7 == 0..3   server read: the next byte is the length N, then N bytes
 *     op & 7 == 4      TLS handshake succeeded (smtp_tls_done(s, 1))
 *     op & 7 == 5      TLS handshake failed
 *     op & 7 == 6      EOF
 *     op & 7 == 7      timeout
 *   At the end, a session that is not DONE gets EOF (or a timeout).
 *
 * The records are replayed three times: each read whole, one byte at a time,
 * and in pseudo-random chunks. The runs must send the same bytes and end with
 * the same smtp_dump(). Invariants checked on every step:
 * - the output is empty or exactly one known command line;
 * - a command appears only after server bytes were consumed since the
 *   previous command, or right after a successful handshake (EHLO over TLS),
 *   and never after EOF/timeout; the machine's own count agrees
 *   (commands <= replies);
 * - STARTTLS is sent only if the pre-TLS EHLO offered it, the config allows
 *   it, and TLS is not up; while START_TLS is wanted the output is empty;
 * - at most 6 commands per session, feed never consumes more than given;
 * - every stored reply respects the configured limits; the injection head
 *   and the findings are bounded;
 * - DONE has an outcome and a reason, and refuses further input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/smtp.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_smtp: invariant failed: %s (line %d)\n", #c, __LINE__);    \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define FUZZ_EHLO_NAME "fuzz.mxtls.test"
#define FUZZ_MAX_COMMANDS 6 /* EHLO, HELO, STARTTLS, EHLO, HELO, QUIT */

struct fuzz_run {
    smtp_config cfg;
    reply_limits lim;      /* effective limits */
    strbuf sent;           /* every byte the client sent */
    size_t fed_since_cmd;  /* server bytes consumed since the last command */
    int tls_just_done;     /* a successful handshake since the last command */
    int ended;             /* EOF or timeout delivered */
    int tls_up;
    size_t ncommands;
    uint32_t rnd;
};

/* fuzz_next_rand - xorshift32 */
static uint32_t fuzz_next_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* fuzz_check_reply - a stored reply respects the limits */
static void fuzz_check_reply(const reply_rec *r, const reply_limits *lim)
{
    if (r->code == 0) {
        CHECK(r->lines.n == 0);
        return;
    }
    CHECK(r->lines.n >= 1 && r->lines.n <= lim->max_lines);
    CHECK(r->bytes <= lim->max_bytes);
    for (size_t i = 0; i < r->lines.n; i++)
        CHECK(strlen(r->lines.v[i]) + 4 <= lim->max_line);
}

/* fuzz_check_obs - bounded, consistent observations */
static void fuzz_check_obs(const smtp_session *s, const struct fuzz_run *fr)
{
    const smtp_obs *o = smtp_obs_get(s);
    CHECK(o->commands <= o->replies);
    /* Queued counts at once; drained counts once taken: at most one apart. */
    CHECK(o->commands == fr->ncommands + (smtp_want(s) == SMTP_WANT_WRITE ? 1 : 0));
    CHECK(o->commands <= FUZZ_MAX_COMMANDS);
    CHECK(o->injected_head_len <= SMTP_INJECT_HEAD);
    CHECK(o->injected_head_len <= o->injected_bytes);
    CHECK(o->nfindings <= SMTP_MAX_FINDINGS);
    CHECK(o->nrejections <= SMTP_MAX_REJECTIONS);
    fuzz_check_reply(&o->banner, &fr->lim);
    fuzz_check_reply(&o->pre_tls.ehlo, &fr->lim);
    fuzz_check_reply(&o->pre_tls.helo, &fr->lim);
    fuzz_check_reply(&o->post_tls.ehlo, &fr->lim);
    fuzz_check_reply(&o->post_tls.helo, &fr->lim);
    fuzz_check_reply(&o->starttls, &fr->lim);
    CHECK(!o->starttls_attempted || (o->pre_tls.esmtp && (o->pre_tls.caps.ext & EHLO_STARTTLS)));
    CHECK(!o->starttls_attempted || (!fr->cfg.no_starttls && !fr->cfg.implicit_tls));
    CHECK(!o->tls_ok || o->tls_started);
    CHECK(!fr->cfg.implicit_tls || !o->pre_tls.ehlo_sent);
    /* The mail probe runs only when asked, only in plaintext, and never
     * changes the outcome from a plaintext success. */
    CHECK(!o->mail_probed || (fr->cfg.mail_probe && !o->tls_started));
    CHECK(!o->mail_probed || o->outcome == SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS ||
          o->outcome == SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED);
    if (o->greeting_host)
        CHECK(strlen(o->greeting_host) <= SMTP_MAX_EHLO_NAME);
    if (smtp_want(s) == SMTP_WANT_DONE) {
        CHECK(o->outcome != SMTP_OUTCOME_NONE);
        CHECK(o->reason[0] != '\0');
        CHECK(o->quit_status != SMTP_QUIT_PENDING);
    } else {
        CHECK(o->outcome == SMTP_OUTCOME_NONE || smtp_phase_get(s) == SMTP_PHASE_QUIT ||
              smtp_phase_get(s) == SMTP_PHASE_MAIL);
    }
}

/* fuzz_drain - take the pending command, checking it is one we may send now */
static void fuzz_drain(smtp_session *s, struct fuzz_run *fr, int bytewise)
{
    const char *p;
    size_t n = smtp_output(s, &p);
    if (n == 0)
        return;
    CHECK(smtp_want(s) == SMTP_WANT_WRITE);
    CHECK(!fr->ended);
    /* Never a command before the previous reply (or the handshake) arrived. */
    CHECK(fr->fed_since_cmd > 0 || fr->tls_just_done);
    int ok = (n == strlen("EHLO " FUZZ_EHLO_NAME "\r\n") &&
              (memcmp(p, "EHLO " FUZZ_EHLO_NAME "\r\n", n) == 0 ||
               memcmp(p, "HELO " FUZZ_EHLO_NAME "\r\n", n) == 0)) ||
             (n == 10 && memcmp(p, "STARTTLS\r\n", n) == 0) ||
             (n == 6 && memcmp(p, "QUIT\r\n", n) == 0) ||
             (n == 14 && memcmp(p, "MAIL FROM:<>\r\n", n) == 0);
    CHECK(ok);
    if (n == 14)
        CHECK(fr->cfg.mail_probe && !fr->tls_up);
    if (n == 10)
        CHECK(!fr->tls_up && !fr->cfg.no_starttls);
    /* RFC 3207 §4.2: after STARTTLS the first command is a fresh EHLO. (With
     * implicit TLS the greeting comes first and may be a refusal: QUIT.) */
    if (fr->tls_just_done && !fr->cfg.implicit_tls)
        CHECK(memcmp(p, "EHLO", 4) == 0);
    CHECK(sb_append(&fr->sent, p, n) == MXTLS_OK);
    if (bytewise) {
        for (size_t i = 0; i < n; i++)
            smtp_output_consumed(s, 1);
    } else {
        smtp_output_consumed(s, n);
    }
    CHECK(smtp_output(s, &p) == 0);
    fr->ncommands++;
    fr->fed_since_cmd = 0;
    fr->tls_just_done = 0;
}

/* fuzz_feed - one server read in the run's chunking */
static void fuzz_feed(smtp_session *s, struct fuzz_run *fr, const char *p, size_t n, int mode)
{
    size_t off = 0;
    while (off < n) {
        enum smtp_want w = smtp_want(s);
        if (w == SMTP_WANT_DONE) {
            CHECK(smtp_feed(s, p + off, n - off) == SMTP_ERR_STATE);
            return;
        }
        if (w == SMTP_WANT_WRITE) {
            CHECK(smtp_feed(s, p + off, n - off) == 0);
            fuzz_drain(s, fr, mode == 1);
            continue;
        }
        size_t step = n - off;
        if (mode == 1)
            step = 1;
        else if (mode == 2)
            step = 1 + fuzz_next_rand(&fr->rnd) % step;
        ssize_t r = smtp_feed(s, p + off, step);
        CHECK(r >= 0 && (size_t)r <= step);
        if (w == SMTP_WANT_START_TLS) {
            CHECK(r == (ssize_t)step); /* discarded, all of it */
            CHECK(smtp_want(s) == SMTP_WANT_START_TLS);
        }
        if (r == 0)
            CHECK(smtp_want(s) == SMTP_WANT_WRITE || smtp_want(s) == SMTP_WANT_DONE);
        off += (size_t)r;
        fr->fed_since_cmd += (size_t)r;
        fuzz_check_obs(s, fr);
    }
}

/* fuzz_session - one full replay; returns the dump (caller frees) */
static char *fuzz_session(const uint8_t *data, size_t size, int mode, struct fuzz_run *fr)
{
    uint8_t flags = data[0];
    memset(fr, 0, sizeof *fr);
    fr->cfg.ehlo_name = FUZZ_EHLO_NAME;
    fr->cfg.implicit_tls = flags & 1;
    fr->cfg.no_starttls = (flags >> 1) & 1;
    fr->cfg.mail_probe = (flags >> 4) & 1;
    if (flags & 4) {
        fr->cfg.max_line = 16 + (flags >> 4);
        fr->cfg.max_lines = 3;
        fr->cfg.max_reply = 48;
    }
    reply_limits in = {fr->cfg.max_line, fr->cfg.max_lines, fr->cfg.max_reply};
    CHECK(reply_limits_effective(&in, &fr->lim) == 0);
    sb_init(&fr->sent, 1u << 16);
    fr->rnd = 0x12345u + flags;

    smtp_session *s = smtp_new(&fr->cfg);
    CHECK(s != NULL);
    CHECK(smtp_want(s) == (fr->cfg.implicit_tls ? SMTP_WANT_START_TLS : SMTP_WANT_READ));
    size_t i = 1;
    while (i < size) {
        fuzz_drain(s, fr, mode == 1);
        uint8_t op = data[i++] & 7;
        if (op <= 3) {
            size_t n = i < size ? data[i++] : 0;
            if (n > size - i)
                n = size - i;
            fuzz_feed(s, fr, (const char *)data + i, n, mode);
            i += n;
        } else if (op == 4 || op == 5) {
            enum smtp_want w = smtp_want(s);
            int rc = smtp_tls_done(s, op == 4);
            if (w == SMTP_WANT_START_TLS) {
                CHECK(rc == 0);
                if (op == 4) {
                    fr->tls_up = 1;
                    fr->tls_just_done = 1;
                }
            } else {
                CHECK(rc == SMTP_ERR_STATE);
            }
        } else {
            if (op == 6)
                smtp_eof(s);
            else
                smtp_timeout(s);
            fr->ended = 1;
            CHECK(smtp_want(s) == SMTP_WANT_DONE);
        }
        fuzz_check_obs(s, fr);
    }
    fuzz_drain(s, fr, mode == 1);
    if (smtp_want(s) != SMTP_WANT_DONE) {
        if (flags & 8)
            smtp_timeout(s);
        else
            smtp_eof(s);
        fr->ended = 1;
    }
    CHECK(smtp_want(s) == SMTP_WANT_DONE);
    fuzz_check_obs(s, fr);
    CHECK(smtp_feed(s, "x", 1) == SMTP_ERR_STATE);
    const char *p;
    CHECK(smtp_output(s, &p) == 0);

    strbuf d;
    sb_init(&d, 1u << 24);
    CHECK(smtp_dump(s, &d) == MXTLS_OK);
    CHECK(smtp_outcome_name(smtp_obs_get(s)->outcome)[0] != '?');
    smtp_free(s);
    return sb_take(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct fuzz_run fr[3];
    char *dumps[3];
    for (int m = 0; m < 3; m++)
        dumps[m] = fuzz_session(data, size, m, &fr[m]);
    for (int m = 1; m < 3; m++) {
        if (strcmp(dumps[0], dumps[m]) != 0) {
            fprintf(stderr, "fuzz_smtp: mode %d differs:\n--- whole\n%s--- mode %d\n%s", m,
                    dumps[0], m, dumps[m]);
            abort();
        }
        CHECK(fr[0].sent.len == fr[m].sent.len);
        CHECK(fr[0].sent.len == 0 || memcmp(fr[0].sent.s, fr[m].sent.s, fr[0].sent.len) == 0);
    }
    for (int m = 0; m < 3; m++) {
        free(dumps[m]);
        sb_free(&fr[m].sent);
    }
    return 0;
}
