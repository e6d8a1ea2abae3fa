/* fuzz_smtpflow - the SMTP state machine fed like an I/O adapter would feed
 * it, with an explicit chunking schedule, across the STARTTLS boundary
 *
 * Input layout (structure-aware: the schedule and the server's bytes are
 * separate parts, so the fuzzer mutates them independently):
 *
 *   byte 0   config: bit 0 implicit TLS, bit 1 no_starttls, bit 2 tiny reply
 *            limits (bits 4-7 then pick the line limit), bit 3 the session
 *            ends with a timeout instead of EOF
 *   byte 1   events: bit 0 the TLS handshake fails, bit 1 the adapter writes
 *            commands in the schedule's chunks too (else whole)
 *   byte 2   S, the schedule's length
 *   S bytes  the chunking schedule: read k has size sched[k % S]; 0 means
 *            "whatever is left of this stream" (S == 0: every stream whole)
 *   rest     the server's bytes: stream 0 "<TLS>" stream 1. Stream 0 is what
 *            the server sends in cleartext; "<TLS>" (first occurrence only) is
 *            where the handshake happens; stream 1 is what it sends over TLS.
 *            Without the marker, everything is stream 0.
 *
 * The adapter model (the one src/io/probe.c follows): every byte of stream 0
 * is fed, including bytes after the 220 reply to STARTTLS (the machine must
 * swallow them as injection); when stream 0 is exhausted and the machine wants
 * START_TLS, the TLS-established (or failed) event is delivered; stream 1 is
 * fed next (as more cleartext when no handshake was wanted); at the end, EOF
 * or a timeout. A read never spans the handshake.
 *
 * The session runs three times: every stream whole, in the schedule's chunks,
 * and one byte at a time (inputs up to 4 KiB). All runs must send the same
 * bytes and end with the same smtp_dump(): abort() otherwise. In each run:
 * - progress: every call consumes bytes or changes what the machine wants; a
 *   step counter bounds the loop (a machine that spins aborts, not hangs);
 * - caps: stored replies respect the configured limits, at most 6 commands,
 *   one command line at a time and only known ones, bounded findings,
 *   rejections and injection head, injected bytes only from stream 0;
 * - RFC 3207: STARTTLS only when offered and allowed, and the first command
 *   after a successful STARTTLS handshake is EHLO;
 * - DONE has an outcome and a reason and refuses further input.
 * The first run's observations are also rendered as the probe report (text
 * and JSON): peer bytes must come out escaped (no control bytes, valid UTF-8). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/smtp.h"
#include "io/probe.h"
#include "report/jsonw.h"
#include "report/probe_report.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_smtpflow: invariant failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define FLOW_EHLO_NAME "flow.mxtls.test"
#define FLOW_MARKER "<TLS>"
#define FLOW_MAX_COMMANDS 6 /* EHLO, HELO, STARTTLS, EHLO, HELO, QUIT */
#define FLOW_BYTEWISE_MAX 4096

enum flow_mode { FLOW_WHOLE = 0, FLOW_SCHEDULE = 1, FLOW_BYTES = 2 };

typedef struct flow_input {
    uint8_t config, events;
    const uint8_t *sched;
    size_t nsched;
    const char *stream[2];
    size_t len[2];
} flow_input;

typedef struct flow_run {
    const flow_input *in;
    enum flow_mode mode;
    smtp_config cfg;
    reply_limits lim;
    smtp_session *s;
    strbuf sent;
    size_t k;              /* next schedule entry */
    size_t steps, max_steps;
    size_t fed_since_cmd;  /* server bytes consumed since the last command */
    int tls_just_done;
    int tls_up;
    size_t ncommands;
    size_t cleartext;      /* server bytes delivered before any handshake */
} flow_run;

/* flow_parse - split the input; 0 when too short */
static int flow_parse(const uint8_t *data, size_t size, flow_input *in)
{
    if (size < 3)
        return 0;
    memset(in, 0, sizeof *in);
    in->config = data[0];
    in->events = data[1];
    size_t s = data[2];
    if (s > size - 3)
        s = size - 3;
    in->sched = data + 3;
    in->nsched = s;
    const char *rest = (const char *)data + 3 + s;
    size_t nrest = size - 3 - s;
    const char *m = NULL;
    size_t ml = sizeof FLOW_MARKER - 1;
    for (size_t i = 0; i + ml <= nrest; i++)
        if (memcmp(rest + i, FLOW_MARKER, ml) == 0) {
            m = rest + i;
            break;
        }
    in->stream[0] = rest;
    in->len[0] = m ? (size_t)(m - rest) : nrest;
    in->stream[1] = m ? m + ml : rest + nrest;
    in->len[1] = m ? nrest - in->len[0] - ml : 0;
    return 1;
}

/* flow_chunk - the size of the next read or write, at most left (>= 1) */
static size_t flow_chunk(flow_run *r, size_t left)
{
    size_t n = left;
    if (r->mode == FLOW_BYTES)
        n = 1;
    else if (r->mode == FLOW_SCHEDULE && r->in->nsched > 0) {
        uint8_t b = r->in->sched[r->k++ % r->in->nsched];
        if (b != 0 && b < left)
            n = b;
    }
    return n;
}

static void flow_step(flow_run *r)
{
    /* Each step consumes input or moves the machine on: a spinning machine
     * runs into this bound. */
    CHECK(++r->steps <= r->max_steps);
}

/* flow_check_reply - a stored reply respects the limits */
static void flow_check_reply(const reply_rec *rr, const reply_limits *lim)
{
    if (rr->code == 0) {
        CHECK(rr->lines.n == 0);
        return;
    }
    CHECK(rr->code >= 200 && rr->code <= 599);
    CHECK(rr->lines.n >= 1 && rr->lines.n <= lim->max_lines);
    CHECK(rr->bytes <= lim->max_bytes);
    for (size_t i = 0; i < rr->lines.n; i++)
        CHECK(strlen(rr->lines.v[i]) + 4 <= lim->max_line);
}

/* flow_check_obs - the caps and the consistency of the observations */
static void flow_check_obs(const flow_run *r)
{
    const smtp_obs *o = smtp_obs_get(r->s);
    CHECK(o->commands <= FLOW_MAX_COMMANDS);
    CHECK(o->commands == r->ncommands + (smtp_want(r->s) == SMTP_WANT_WRITE ? 1 : 0));
    CHECK(o->commands <= o->replies);
    CHECK(o->replies <= o->commands + 1);
    CHECK(o->nfindings <= SMTP_MAX_FINDINGS);
    CHECK(o->nrejections <= SMTP_MAX_REJECTIONS);
    CHECK(o->injected_head_len <= SMTP_INJECT_HEAD);
    CHECK(o->injected_head_len <= o->injected_bytes);
    /* Only cleartext can be injected: stream 0, and stream 1 when no
     * handshake happened in between. */
    CHECK(o->injected_bytes <= r->cleartext);
    flow_check_reply(&o->banner, &r->lim);
    flow_check_reply(&o->pre_tls.ehlo, &r->lim);
    flow_check_reply(&o->pre_tls.helo, &r->lim);
    flow_check_reply(&o->post_tls.ehlo, &r->lim);
    flow_check_reply(&o->post_tls.helo, &r->lim);
    flow_check_reply(&o->starttls, &r->lim);
    CHECK(!o->starttls_attempted || (o->pre_tls.esmtp && (o->pre_tls.caps.ext & EHLO_STARTTLS)));
    CHECK(!o->starttls_attempted || (!r->cfg.no_starttls && !r->cfg.implicit_tls));
    CHECK(!o->tls_ok || o->tls_started);
    CHECK(!r->cfg.implicit_tls || !o->pre_tls.ehlo_sent);
    CHECK(!o->greeting_host || strlen(o->greeting_host) <= SMTP_MAX_EHLO_NAME);
    CHECK(r->sent.len <= FLOW_MAX_COMMANDS * (size_t)SMTP_MAX_COMMAND);
    if (smtp_want(r->s) == SMTP_WANT_DONE) {
        CHECK(o->outcome != SMTP_OUTCOME_NONE);
        CHECK(o->reason[0] != '\0');
        CHECK(o->quit_status != SMTP_QUIT_PENDING);
    }
}

/* flow_write - the adapter writes the pending command, in chunks */
static void flow_write(flow_run *r)
{
    const char *p;
    size_t n = smtp_output(r->s, &p);
    if (n == 0)
        return;
    CHECK(smtp_want(r->s) == SMTP_WANT_WRITE);
    CHECK(r->fed_since_cmd > 0 || r->tls_just_done);
    static const char *const cmds[] = {"EHLO " FLOW_EHLO_NAME "\r\n", "HELO " FLOW_EHLO_NAME "\r\n",
                                       "STARTTLS\r\n", "QUIT\r\n"};
    int known = 0;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (n == strlen(cmds[i]) && memcmp(p, cmds[i], n) == 0)
            known = 1;
    CHECK(known);
    if (n == 10)
        CHECK(!r->tls_up && !r->cfg.no_starttls && !r->cfg.implicit_tls);
    if (r->tls_just_done && !r->cfg.implicit_tls)
        CHECK(memcmp(p, "EHLO ", 5) == 0); /* RFC 3207 §4.2 */
    CHECK(sb_append(&r->sent, p, n) == MXTLS_OK);
    size_t total = n, done = 0;
    while (done < total) {
        flow_step(r);
        size_t left = smtp_output(r->s, &p);
        CHECK(left == total - done);
        size_t w = (r->in->events & 2) ? flow_chunk(r, left) : left;
        smtp_output_consumed(r->s, w);
        done += w;
        if (done < total)
            CHECK(smtp_want(r->s) == SMTP_WANT_WRITE);
    }
    CHECK(smtp_output(r->s, &p) == 0);
    CHECK(smtp_want(r->s) != SMTP_WANT_WRITE);
    r->ncommands++;
    r->fed_since_cmd = 0;
    r->tls_just_done = 0;
}

/* flow_feed_stream - deliver one stream in the run's reads */
static void flow_feed_stream(flow_run *r, const char *p, size_t n)
{
    /* A zero-length read changes nothing. */
    if (smtp_want(r->s) != SMTP_WANT_DONE) {
        enum smtp_want w = smtp_want(r->s);
        CHECK(smtp_feed(r->s, p, 0) == 0 && smtp_want(r->s) == w);
    }
    size_t off = 0;
    while (off < n) {
        flow_step(r);
        enum smtp_want w = smtp_want(r->s);
        if (w == SMTP_WANT_DONE) {
            CHECK(smtp_feed(r->s, p + off, n - off) == SMTP_ERR_STATE);
            return;
        }
        if (w == SMTP_WANT_WRITE) {
            CHECK(smtp_feed(r->s, p + off, n - off) == 0); /* no read-ahead */
            flow_write(r);
            flow_check_obs(r);
            continue;
        }
        size_t len = flow_chunk(r, n - off);
        /* A read hands over what arrived; the machine may take less and the
         * adapter keeps the rest for the next call. */
        size_t got = 0;
        while (got < len) {
            flow_step(r);
            enum smtp_want before = smtp_want(r->s);
            if (before == SMTP_WANT_DONE || before == SMTP_WANT_WRITE)
                break;
            ssize_t c = smtp_feed(r->s, p + off + got, len - got);
            CHECK(c >= 0 && (size_t)c <= len - got);
            if (before == SMTP_WANT_START_TLS) {
                CHECK((size_t)c == len - got); /* swallowed, all of it */
                CHECK(smtp_want(r->s) == SMTP_WANT_START_TLS);
            }
            if (c == 0)
                CHECK(smtp_want(r->s) == SMTP_WANT_WRITE || smtp_want(r->s) == SMTP_WANT_DONE);
            got += (size_t)c;
            r->fed_since_cmd += (size_t)c;
            flow_check_obs(r);
        }
        off += got;
    }
}

/* flow_session - one run; returns the dump (caller frees) and keeps the
 * session in r->s for the caller */
static char *flow_session(const flow_input *in, enum flow_mode mode, flow_run *r)
{
    memset(r, 0, sizeof *r);
    r->in = in;
    r->mode = mode;
    r->cfg.ehlo_name = FLOW_EHLO_NAME;
    r->cfg.implicit_tls = in->config & 1;
    r->cfg.no_starttls = (in->config >> 1) & 1;
    if (in->config & 4) {
        r->cfg.max_line = REPLY_MAX_LINE_MIN + (in->config >> 4);
        r->cfg.max_lines = 3;
        r->cfg.max_reply = 48;
    }
    reply_limits want = {r->cfg.max_line, r->cfg.max_lines, r->cfg.max_reply};
    CHECK(reply_limits_effective(&want, &r->lim) == 0);
    sb_init(&r->sent, 1u << 16);
    r->max_steps = 64 + 4 * (in->len[0] + in->len[1]) + 16 * FLOW_MAX_COMMANDS * SMTP_MAX_COMMAND;

    r->cleartext = in->len[0];
    r->s = smtp_new(&r->cfg);
    CHECK(r->s != NULL);
    CHECK(smtp_want(r->s) == (r->cfg.implicit_tls ? SMTP_WANT_START_TLS : SMTP_WANT_READ));

    flow_feed_stream(r, in->stream[0], in->len[0]);
    flow_write(r);
    /* The handshake, when the machine asked for one. */
    if (smtp_want(r->s) == SMTP_WANT_START_TLS) {
        int ok = !(in->events & 1);
        CHECK(smtp_tls_done(r->s, ok) == 0);
        if (ok) {
            r->tls_up = 1;
            r->tls_just_done = 1;
        }
        CHECK(smtp_want(r->s) != SMTP_WANT_START_TLS);
    } else {
        CHECK(smtp_tls_done(r->s, 1) == SMTP_ERR_STATE);
        r->cleartext += in->len[1]; /* no handshake: stream 1 is cleartext too */
    }
    flow_check_obs(r);
    flow_write(r);
    flow_feed_stream(r, in->stream[1], in->len[1]);
    flow_write(r);
    if (smtp_want(r->s) != SMTP_WANT_DONE) {
        if (in->config & 8)
            smtp_timeout(r->s);
        else
            smtp_eof(r->s);
    }
    CHECK(smtp_want(r->s) == SMTP_WANT_DONE);
    flow_check_obs(r);
    CHECK(smtp_feed(r->s, "x", 1) == SMTP_ERR_STATE);
    CHECK(smtp_tls_done(r->s, 1) == SMTP_ERR_STATE);
    const char *p;
    CHECK(smtp_output(r->s, &p) == 0);
    CHECK(smtp_outcome_name(smtp_obs_get(r->s)->outcome)[0] != '?');

    strbuf d;
    sb_init(&d, 1u << 24);
    CHECK(smtp_dump(r->s, &d) == MXTLS_OK);
    return sb_take(&d);
}

/* flow_utf8_ok - s is valid UTF-8 (shortest forms, no surrogates, <= U+10FFFF) */
static int flow_utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s;
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            s++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        s += n + 1;
    }
    return 1;
}

/* flow_report - the observations as the probe report renders them */
static void flow_report(const smtp_session *s)
{
    probe_report *rep = calloc(1, sizeof *rep);
    CHECK(rep != NULL);
    rep->ip = strdup("192.0.2.25");
    CHECK(rep->ip != NULL);
    rep->port = 25;
    rep->connected = 1;
    CHECK(smtp_obs_copy(&rep->smtp, smtp_obs_get(s)) == MXTLS_OK);
    rep->greeting_host = rep->smtp.greeting_host; /* as the probe hands it over */
    rep->smtp.greeting_host = NULL;
    rep->tls_attempted = rep->smtp.tls_started;
    rep->tls_ok = rep->smtp.tls_ok;

    char *t = probe_report_text(rep, 0);
    CHECK(t != NULL);
    for (const unsigned char *c = (const unsigned char *)t; *c; c++)
        CHECK(*c == '\n' || (*c >= 0x20 && *c != 0x7f));
    CHECK(flow_utf8_ok((const unsigned char *)t));
    free(t);

    jsonw w;
    jw_init(&w);
    probe_report_json(&w, rep);
    char *j = jw_finish(&w);
    CHECK(j != NULL);
    for (const unsigned char *c = (const unsigned char *)j; *c; c++)
        CHECK(*c >= 0x20 || *c == '\n');
    CHECK(flow_utf8_ok((const unsigned char *)j));
    free(j);
    probe_report_free(rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    flow_input in;
    if (!flow_parse(data, size, &in))
        return 0;
    int nmodes = in.len[0] + in.len[1] <= FLOW_BYTEWISE_MAX ? 3 : 2;
    flow_run r[3];
    char *dump[3];
    for (int m = 0; m < nmodes; m++) {
        dump[m] = flow_session(&in, (enum flow_mode)m, &r[m]);
        CHECK(dump[m] != NULL);
        if (m == 0)
            flow_report(r[m].s);
        smtp_free(r[m].s);
    }
    for (int m = 1; m < nmodes; m++) {
        if (strcmp(dump[0], dump[m]) != 0) {
            fprintf(stderr, "fuzz_smtpflow: run %d differs from the whole-stream run:\n"
                            "--- whole\n%s--- run %d\n%s", m, dump[0], m, dump[m]);
            abort();
        }
        if (r[0].sent.len != r[m].sent.len ||
            (r[0].sent.len && memcmp(r[0].sent.s, r[m].sent.s, r[0].sent.len) != 0)) {
            fprintf(stderr, "fuzz_smtpflow: run %d sent other commands\n", m);
            abort();
        }
    }
    for (int m = 0; m < nmodes; m++) {
        free(dump[m]);
        sb_free(&r[m].sent);
    }
    return 0;
}
