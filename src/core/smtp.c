/* smtp.c - the SMTP client dialogue as a pure state machine (sans I/O)
 *
 * Shape borrowed from OpenSMTPD's mta_session.c: an explicit `enum state`, one
 * transition point (smtp_enter_state) that performs the entry action of each
 * state (queue the command), and one reply handler per state. Unlike
 * mta_session, nothing here owns a socket or a timer: see smtp.h for how an
 * adapter drives it and docs/smtp.md for the state diagram.
 *
 * Invariants (checked by fuzz/fuzz_smtp.c):
 * - at most one command is queued at a time, and a command is queued only
 *   when every earlier command has been answered: obs.commands <= obs.replies;
 * - nothing is consumed while output is pending or after DONE;
 * - in ST_TLS_HANDSHAKE every byte is discarded, never parsed;
 * - stored peer data is bounded by the reply limits (one reply per slot). */
#include "core/smtp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The order matters only for reading; transitions go through smtp_enter_state. */
enum state {
    ST_TLS_HANDSHAKE, /* want START_TLS: implicit TLS, or after "220" to STARTTLS */
    ST_BANNER,        /* reading the greeting */
    ST_EHLO,          /* EHLO sent (before or over TLS: see s->tls) */
    ST_HELO,          /* HELO sent after EHLO was refused */
    ST_STARTTLS,      /* STARTTLS sent */
    ST_MAIL,          /* MAIL FROM:<> sent (mail_probe); then QUIT */
    ST_QUIT,          /* QUIT sent; a reply or EOF ends the session */
    ST_DONE
};

struct smtp_session {
    enum state state;
    int tls;          /* TLS is established: replies come through it */
    int implicit_tls;
    int no_starttls;
    int mail_probe;
    char ehlo_name[SMTP_MAX_EHLO_NAME + 1];
    reply_parser rp;
    char out[SMTP_MAX_COMMAND];
    size_t out_len, out_off;
    const char *command; /* the command last queued, for messages */
    int nomem;
    size_t inject_finding; /* index + 1 of the injection finding, 0 = none yet */
    smtp_obs obs;
};

/* ---- names ------------------------------------------------------------ */

static const char *const outcome_names[] = {
    [SMTP_OUTCOME_NONE] = "none",
    [SMTP_OUTCOME_OK_TLS] = "ok-tls",
    [SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS] = "ok-plaintext-no-starttls",
    [SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED] = "ok-plaintext-starttls-skipped",
    [SMTP_OUTCOME_BANNER_REJECTED] = "banner-rejected",
    [SMTP_OUTCOME_EHLO_REJECTED] = "ehlo-rejected",
    [SMTP_OUTCOME_EHLO_AND_HELO_REJECTED] = "ehlo-and-helo-rejected",
    [SMTP_OUTCOME_STARTTLS_REJECTED] = "starttls-rejected",
    [SMTP_OUTCOME_TLS_FAILED] = "tls-failed",
    [SMTP_OUTCOME_PROTOCOL_ERROR] = "protocol-error",
    [SMTP_OUTCOME_LIMIT_EXCEEDED] = "limit-exceeded",
    [SMTP_OUTCOME_CONNECTION_CLOSED] = "connection-closed",
    [SMTP_OUTCOME_TIMEOUT] = "timeout",
    [SMTP_OUTCOME_INTERNAL_ERROR] = "internal-error",
};

static const char *const phase_names[] = {
    [SMTP_PHASE_BANNER] = "banner",
    [SMTP_PHASE_EHLO] = "ehlo",
    [SMTP_PHASE_STARTTLS] = "starttls",
    [SMTP_PHASE_TLS_HANDSHAKE] = "tls-handshake",
    [SMTP_PHASE_POST_TLS_EHLO] = "post-tls-ehlo",
    [SMTP_PHASE_QUIT] = "quit",
    [SMTP_PHASE_DONE] = "done",
    [SMTP_PHASE_MAIL] = "mail-probe",
};

static const char *const quit_names[] = {
    [SMTP_QUIT_NOT_SENT] = "not-sent", [SMTP_QUIT_PENDING] = "pending",
    [SMTP_QUIT_REPLIED] = "replied",   [SMTP_QUIT_CLOSED] = "closed",
    [SMTP_QUIT_TIMEOUT] = "timeout",   [SMTP_QUIT_BAD_REPLY] = "bad-reply",
};

#define NAME_OF(table, v)                                                                  \
    ((unsigned)(v) < sizeof(table) / sizeof((table)[0]) && (table)[(unsigned)(v)]          \
         ? (table)[(unsigned)(v)]                                                          \
         : "?")

/* smtp_outcome_name - stable name of an outcome */
const char *smtp_outcome_name(smtp_outcome o)
{
    return NAME_OF(outcome_names, o);
}

/* smtp_phase_name - stable name of a phase */
const char *smtp_phase_name(smtp_phase p)
{
    return NAME_OF(phase_names, p);
}

/* smtp_quit_status_name - stable name of a QUIT status */
const char *smtp_quit_status_name(smtp_quit_status q)
{
    return NAME_OF(quit_names, q);
}

/* smtp_want_name - stable name of what the machine wants */
const char *smtp_want_name(enum smtp_want w)
{
    switch (w) {
    case SMTP_WANT_READ:
        return "read";
    case SMTP_WANT_WRITE:
        return "write";
    case SMTP_WANT_START_TLS:
        return "start-tls";
    case SMTP_WANT_DONE:
        return "done";
    }
    return "?";
}

/* ---- small helpers ------------------------------------------------------ */

/* smtp_phase_get - the phase the adapter should time */
smtp_phase smtp_phase_get(const smtp_session *s)
{
    switch (s->state) {
    case ST_TLS_HANDSHAKE:
        return SMTP_PHASE_TLS_HANDSHAKE;
    case ST_BANNER:
        return SMTP_PHASE_BANNER;
    case ST_EHLO:
    case ST_HELO:
        return s->tls ? SMTP_PHASE_POST_TLS_EHLO : SMTP_PHASE_EHLO;
    case ST_STARTTLS:
        return SMTP_PHASE_STARTTLS;
    case ST_MAIL:
        return SMTP_PHASE_MAIL;
    case ST_QUIT:
        return SMTP_PHASE_QUIT;
    case ST_DONE:
        break;
    }
    return SMTP_PHASE_DONE;
}

/* smtp_ehlo_side - the EHLO observations of the current side of TLS */
static smtp_ehlo_obs *smtp_ehlo_side(smtp_session *s)
{
    return s->tls ? &s->obs.post_tls : &s->obs.pre_tls;
}

/* smtp_awaited - what the machine is waiting for, as a noun for sentences */
static const char *smtp_awaited(const smtp_session *s)
{
    switch (s->state) {
    case ST_TLS_HANDSHAKE:
        return "TLS handshake";
    case ST_BANNER:
        return "greeting";
    case ST_EHLO:
        return s->tls ? "reply to EHLO over TLS" : "reply to EHLO";
    case ST_HELO:
        return s->tls ? "reply to HELO over TLS" : "reply to HELO";
    case ST_STARTTLS:
        return "reply to STARTTLS";
    case ST_MAIL:
        return "reply to MAIL FROM";
    case ST_QUIT:
        return "reply to QUIT";
    case ST_DONE:
        break;
    }
    return "nothing";
}

/* smtp_reply_summary - "554 5.7.1 text" from a reply's first line, escaped and bounded */
static void smtp_reply_summary(const reply_rec *r, char *out, size_t outsz)
{
    char text[200];
    text[0] = '\0';
    if (r->lines.n > 0)
        reply_escape(r->lines.v[0], strlen(r->lines.v[0]), text, sizeof text);
    snprintf(out, outsz, "%03d%s%s", r->code, text[0] ? " " : "", text);
}

/* smtp_add_finding - record a finding; returns its index + 1, 0 when dropped */
__attribute__((format(printf, 3, 4))) static size_t
smtp_add_finding(smtp_session *s, const char *code, const char *fmt, ...)
{
    if (s->obs.nfindings >= SMTP_MAX_FINDINGS) {
        s->obs.findings_dropped++;
        return 0;
    }
    smtp_finding *grown = realloc(s->obs.findings, (s->obs.nfindings + 1) * sizeof *grown);
    if (!grown) {
        s->obs.findings_dropped++;
        s->nomem = 1;
        return 0;
    }
    s->obs.findings = grown;
    smtp_finding *f = &s->obs.findings[s->obs.nfindings++];
    f->code = code;
    f->phase = smtp_phase_get(s);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
    return s->obs.nfindings;
}

/* smtp_note_reply - findings for tolerated deviations in a reply's framing */
static void smtp_note_reply(smtp_session *s, const reply_rec *r)
{
    if (r->flags & REPLY_F_BARE_LF)
        smtp_add_finding(s, "bare-lf", "%s: line %zu ends in LF without CR (RFC 5321 §2.3.8)",
                         smtp_awaited(s), r->bare_lf_line);
    if (r->flags & REPLY_F_BARE_CR)
        smtp_add_finding(s, "bare-cr", "%s: line %zu contains a CR not followed by LF",
                         smtp_awaited(s), r->bare_cr_line);
}

/* smtp_note_code - a success reply whose exact code is not the expected one */
static void smtp_note_code(smtp_session *s, const reply_rec *r, int expected)
{
    if (r->code != expected)
        smtp_add_finding(s, "unexpected-code", "%s: %03d instead of %03d", smtp_awaited(s),
                         r->code, expected);
}

/* smtp_add_rejection - remember which command was refused with which code */
static void smtp_add_rejection(smtp_session *s, const char *command, int code)
{
    if (s->obs.nrejections >= SMTP_MAX_REJECTIONS)
        return;
    smtp_rejection *j = &s->obs.rejections[s->obs.nrejections++];
    j->command = command;
    j->phase = smtp_phase_get(s);
    j->code = code;
}

/* ---- the one transition point ------------------------------------------ */

/* smtp_queue_command - put one command line in the (empty) output buffer */
static void smtp_queue_command(smtp_session *s, const char *verb, const char *arg)
{
    int n = arg ? snprintf(s->out, sizeof s->out, "%s %s\r\n", verb, arg)
                : snprintf(s->out, sizeof s->out, "%s\r\n", verb);
    /* The EHLO name is at most 255 bytes (smtp_config_check), so this fits. */
    s->out_len = n > 0 && (size_t)n < sizeof s->out ? (size_t)n : 0;
    s->out_off = 0;
    s->command = verb;
    s->obs.commands++;
}

/* smtp_enter_state - change state and perform the new state's entry action */
static void smtp_enter_state(smtp_session *s, enum state st)
{
    smtp_ehlo_obs *side;
    s->state = st;
    switch (st) {
    case ST_TLS_HANDSHAKE:
        s->obs.tls_started = 1;
        break;
    case ST_BANNER:
        break;
    case ST_EHLO:
        side = smtp_ehlo_side(s);
        side->ehlo_sent = 1;
        smtp_queue_command(s, "EHLO", s->ehlo_name);
        break;
    case ST_HELO:
        side = smtp_ehlo_side(s);
        side->helo_fallback = 1;
        smtp_queue_command(s, "HELO", s->ehlo_name);
        break;
    case ST_STARTTLS:
        s->obs.starttls_attempted = 1;
        smtp_queue_command(s, "STARTTLS", NULL);
        break;
    case ST_MAIL:
        s->obs.mail_probed = 1;
        smtp_queue_command(s, "MAIL", "FROM:<>");
        break;
    case ST_QUIT:
        s->obs.quit_status = SMTP_QUIT_PENDING;
        smtp_queue_command(s, "QUIT", NULL);
        break;
    case ST_DONE:
        /* A timeout may interrupt a write; what was not sent never will be. */
        s->out_len = s->out_off = 0;
        break;
    }
}

/* smtp_finish - decide the outcome, then QUIT politely or stop at once */
__attribute__((format(printf, 4, 5))) static void
smtp_finish(smtp_session *s, smtp_outcome outcome, int send_quit, const char *fmt, ...)
{
    s->obs.outcome = outcome;
    s->obs.outcome_phase = smtp_phase_get(s);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->obs.reason, sizeof s->obs.reason, fmt, ap);
    va_end(ap);
    /* The mail probe asks only a server that kept the dialogue in plaintext
     * and in step; it ends with QUIT like every other polite ending. */
    if (send_quit && s->mail_probe && !s->tls &&
        (outcome == SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS ||
         outcome == SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED)) {
        smtp_enter_state(s, ST_MAIL);
        return;
    }
    smtp_enter_state(s, send_quit ? ST_QUIT : ST_DONE);
}

/* smtp_fail_nomem - out of memory ends the dialogue; nothing more is trustworthy */
static void smtp_fail_nomem(smtp_session *s)
{
    s->nomem = 1;
    smtp_finish(s, SMTP_OUTCOME_INTERNAL_ERROR, 0, "out of memory");
}

/* ---- reply handlers, one per state -------------------------------------- */

/* smtp_unexpected_class - a 1yz/3yz answer where 2yz/4yz/5yz belong: the
 * stream is still in step, so QUIT politely */
static void smtp_unexpected_class(smtp_session *s, const reply_rec *r)
{
    char sum[240];
    smtp_reply_summary(r, sum, sizeof sum);
    smtp_finish(s, SMTP_OUTCOME_PROTOCOL_ERROR, 1, "unexpected reply code class in the %s: %s",
                smtp_awaited(s), sum);
}

/* smtp_on_banner - RFC 5321 §3.1, §4.2: 220 greets, 554 (or any 4yz/5yz) refuses */
static void smtp_on_banner(smtp_session *s, reply_rec *r)
{
    smtp_obs *o = &s->obs;
    reply_free(&o->banner);
    o->banner = *r;
    reply_init(r);
    int cls = o->banner.code / 100;
    /* §4.2: only a 220 greeting is "220 Domain [SP text]"; a refusal's first
     * word is not a host name. */
    if (cls == 2 && o->banner.lines.n > 0) {
        const char *l = o->banner.lines.v[0];
        size_t n = strcspn(l, " ");
        if (n > SMTP_MAX_EHLO_NAME)
            n = SMTP_MAX_EHLO_NAME;
        if (n > 0) {
            o->greeting_host = xstrndup(l, n);
            if (!o->greeting_host) {
                smtp_fail_nomem(s);
                return;
            }
        }
    }
    if (cls == 2) {
        smtp_note_code(s, &o->banner, 220);
        smtp_enter_state(s, ST_EHLO);
    } else if (cls == 4 || cls == 5) {
        /* §3.1: after a 554 greeting the server waits for QUIT; we send it for
         * every refusal so both sides close cleanly. */
        char sum[240];
        smtp_reply_summary(&o->banner, sum, sizeof sum);
        smtp_add_rejection(s, "banner", o->banner.code);
        smtp_finish(s, SMTP_OUTCOME_BANNER_REJECTED, 1, "the greeting refused the session: %s",
                    sum);
    } else {
        smtp_unexpected_class(s, &o->banner);
    }
}

/* smtp_ehlo_fallback_code - RFC 5321 §4.1.4: EHLO refusals after which HELO is worth trying */
static int smtp_ehlo_fallback_code(int code)
{
    return code == 500 || code == 501 || code == 502 || code == 504 || code == 550;
}

/* smtp_after_hello - EHLO or HELO accepted on the current side: choose the next step */
static void smtp_after_hello(smtp_session *s, smtp_ehlo_obs *side)
{
    smtp_obs *o = &s->obs;
    if (s->tls) {
        const char *how = side->esmtp ? "EHLO" : "HELO";
        smtp_finish(s, SMTP_OUTCOME_OK_TLS, 1, "%s accepted over %s", how,
                    s->implicit_tls ? "implicit TLS" : "TLS after STARTTLS");
        return;
    }
    if (!side->esmtp) {
        smtp_finish(s, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS, 1,
                    "the server refused EHLO (%03d) and accepted HELO: without service "
                    "extensions STARTTLS is not possible",
                    side->ehlo.code);
        return;
    }
    o->starttls_offered = (side->caps.ext & EHLO_STARTTLS) != 0;
    if (!o->starttls_offered)
        smtp_finish(s, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS, 1,
                    "the server does not offer STARTTLS");
    else if (s->no_starttls)
        smtp_finish(s, SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED, 1,
                    "the server offers STARTTLS; not attempted by configuration");
    else
        smtp_enter_state(s, ST_STARTTLS);
}

/* smtp_on_ehlo - RFC 5321 §4.1.1.1; fallback to HELO per §4.1.4 */
static void smtp_on_ehlo(smtp_session *s, reply_rec *r)
{
    smtp_ehlo_obs *side = smtp_ehlo_side(s);
    reply_free(&side->ehlo);
    side->ehlo = *r;
    reply_init(r);
    int code = side->ehlo.code, cls = code / 100;
    if (cls == 2) {
        smtp_note_code(s, &side->ehlo, 250);
        if (ehlo_parse(&side->caps, (const char *const *)side->ehlo.lines.v,
                       side->ehlo.lines.n) != MXTLS_OK) {
            smtp_fail_nomem(s);
            return;
        }
        side->esmtp = 1;
        const ehlo_caps *c = &side->caps;
        if (c->problems_total > 0)
            smtp_add_finding(s, "ehlo-syntax",
                             "%zu problem%s in the EHLO reply; first: line %zu, column %zu: %s",
                             c->problems_total, c->problems_total == 1 ? "" : "s",
                             c->problems[0].line, c->problems[0].column, c->problems[0].message);
        /* RFC 3207 §4.2: a server MUST NOT offer STARTTLS again once TLS is up. */
        if (s->tls && (c->ext & EHLO_STARTTLS))
            smtp_add_finding(s, "starttls-after-tls",
                             "STARTTLS offered again over TLS (RFC 3207 §4.2)");
        smtp_after_hello(s, side);
    } else if (cls == 5 && smtp_ehlo_fallback_code(code)) {
        smtp_add_rejection(s, "EHLO", code);
        smtp_enter_state(s, ST_HELO);
    } else if (cls == 4 || cls == 5) {
        char sum[240];
        smtp_reply_summary(&side->ehlo, sum, sizeof sum);
        smtp_add_rejection(s, "EHLO", code);
        smtp_finish(s, SMTP_OUTCOME_EHLO_REJECTED, 1, "the server refused EHLO%s: %s",
                    s->tls ? " over TLS" : "", sum);
    } else {
        smtp_unexpected_class(s, &side->ehlo);
    }
}

/* smtp_on_helo - the RFC 821 greeting: no extensions, hence no STARTTLS */
static void smtp_on_helo(smtp_session *s, reply_rec *r)
{
    smtp_ehlo_obs *side = smtp_ehlo_side(s);
    reply_free(&side->helo);
    side->helo = *r;
    reply_init(r);
    int cls = side->helo.code / 100;
    ehlo_caps_free(&side->caps);
    side->esmtp = 0;
    if (cls == 2) {
        smtp_note_code(s, &side->helo, 250);
        smtp_after_hello(s, side);
    } else if (cls == 4 || cls == 5) {
        char e[240], h[240];
        smtp_reply_summary(&side->ehlo, e, sizeof e);
        smtp_reply_summary(&side->helo, h, sizeof h);
        smtp_add_rejection(s, "HELO", side->helo.code);
        smtp_finish(s, SMTP_OUTCOME_EHLO_AND_HELO_REJECTED, 1,
                    "the server refused EHLO (%s) and HELO (%s)", e, h);
    } else {
        smtp_unexpected_class(s, &side->helo);
    }
}

/* smtp_on_starttls - RFC 3207 §4: 220 means "start the handshake now" */
static void smtp_on_starttls(smtp_session *s, reply_rec *r)
{
    smtp_obs *o = &s->obs;
    reply_free(&o->starttls);
    o->starttls = *r;
    reply_init(r);
    int cls = o->starttls.code / 100;
    if (cls == 2) {
        smtp_note_code(s, &o->starttls, 220);
        smtp_enter_state(s, ST_TLS_HANDSHAKE);
    } else if (cls == 4 || cls == 5) {
        char sum[240];
        smtp_reply_summary(&o->starttls, sum, sizeof sum);
        smtp_add_rejection(s, "STARTTLS", o->starttls.code);
        smtp_finish(s, SMTP_OUTCOME_STARTTLS_REJECTED, 1, "the server refused STARTTLS: %s",
                    sum);
    } else {
        smtp_unexpected_class(s, &o->starttls);
    }
}

/* smtp_on_quit - RFC 5321 §4.1.1.10: 221 expected; any reply ends the session */
static void smtp_on_quit(smtp_session *s, reply_rec *r)
{
    s->obs.quit_status = SMTP_QUIT_REPLIED;
    s->obs.quit_code = r->code;
    if (r->code != 221)
        smtp_add_finding(s, "quit-reply", "QUIT answered with %03d instead of 221", r->code);
    reply_free(r);
    smtp_enter_state(s, ST_DONE);
}

/* smtp_on_mail - any answer to MAIL FROM:<> is only recorded; QUIT ends the
 * transaction it may have opened (RFC 5321 §4.1.1.10), so nothing is sent */
static void smtp_on_mail(smtp_session *s, reply_rec *r)
{
    s->obs.mail_code = r->code;
    smtp_reply_summary(r, s->obs.mail_reply, sizeof s->obs.mail_reply);
    smtp_enter_state(s, ST_QUIT);
}

/* smtp_on_reply - dispatch a complete reply to the handler of the current state */
static void smtp_on_reply(smtp_session *s, reply_rec *r)
{
    s->obs.replies++;
    smtp_note_reply(s, r);
    switch (s->state) {
    case ST_BANNER:
        smtp_on_banner(s, r);
        break;
    case ST_EHLO:
        smtp_on_ehlo(s, r);
        break;
    case ST_HELO:
        smtp_on_helo(s, r);
        break;
    case ST_STARTTLS:
        smtp_on_starttls(s, r);
        break;
    case ST_MAIL:
        smtp_on_mail(s, r);
        break;
    case ST_QUIT:
        smtp_on_quit(s, r);
        break;
    case ST_TLS_HANDSHAKE:
    case ST_DONE:
        break; /* not reached: smtp_feed does not parse in these states */
    }
    reply_free(r);
}

/* smtp_on_parse_error - malformed or oversized reply: stop without QUIT */
static void smtp_on_parse_error(smtp_session *s)
{
    const reply_error *e = &s->rp.err;
    if (e->kind == REPLY_ERR_NOMEM) {
        smtp_fail_nomem(s);
        return;
    }
    if (s->state == ST_MAIL) {
        /* The outcome was decided before the probe; a bad answer is only noted. */
        smtp_add_finding(s, "mail-reply", "line %zu, column %zu: %s", e->line, e->column,
                         e->message);
        smtp_enter_state(s, ST_DONE);
        return;
    }
    if (s->state == ST_QUIT) {
        /* The outcome was decided before QUIT; a bad answer to QUIT is only noted. */
        s->obs.quit_status = SMTP_QUIT_BAD_REPLY;
        smtp_add_finding(s, "quit-reply", "line %zu, column %zu: %s", e->line, e->column,
                         e->message);
        smtp_enter_state(s, ST_DONE);
        return;
    }
    s->obs.error = *e;
    if (e->kind == REPLY_ERR_LIMIT)
        smtp_finish(s, SMTP_OUTCOME_LIMIT_EXCEEDED, 0,
                    "the %s exceeds a limit: line %zu, column %zu: %s", smtp_awaited(s),
                    e->line, e->column, e->message);
    else
        smtp_finish(s, SMTP_OUTCOME_PROTOCOL_ERROR, 0, "malformed %s: line %zu, column %zu: %s",
                    smtp_awaited(s), e->line, e->column, e->message);
}

/* smtp_discard_pre_tls - RFC 3207 §4.2/§5: bytes between "220" and the
 * handshake are an injection attempt (or a broken server); count, never parse */
static void smtp_discard_pre_tls(smtp_session *s, const char *buf, size_t len)
{
    smtp_obs *o = &s->obs;
    size_t room = SMTP_INJECT_HEAD - o->injected_head_len;
    size_t take = len < room ? len : room;
    memcpy(o->injected_head + o->injected_head_len, buf, take);
    o->injected_head_len += take;
    o->injected_bytes += len;

    char esc[180];
    size_t shown = reply_escape(o->injected_head, o->injected_head_len, esc, sizeof esc);
    const char *more = shown < o->injected_bytes ? "..." : "";
    if (!s->inject_finding)
        s->inject_finding = smtp_add_finding(s, s->implicit_tls ? "pre-tls-data"
                                                                : "starttls-injection",
                                             "-");
    if (s->inject_finding) {
        smtp_finding *f = &o->findings[s->inject_finding - 1];
        if (s->implicit_tls)
            snprintf(f->detail, sizeof f->detail,
                     "%zu cleartext bytes before the implicit TLS handshake, discarded: "
                     "\"%s\"%s",
                     o->injected_bytes, esc, more);
        else
            snprintf(f->detail, sizeof f->detail,
                     "%zu bytes after the 220 reply to STARTTLS, discarded: \"%s\"%s",
                     o->injected_bytes, esc, more);
    }
}

/* ---- public API --------------------------------------------------------- */

int smtp_ehlo_name_check(const char *name, err_rec *err)
{
    if (!name || !*name) {
        err_set(err, MXTLS_ERR_INVALID, "smtp", "the EHLO name is empty");
        return -1;
    }
    size_t len = strnlen(name, SMTP_MAX_EHLO_NAME + 1);
    if (len > SMTP_MAX_EHLO_NAME) {
        err_set(err, MXTLS_ERR_INVALID, "smtp", "the EHLO name is longer than %d bytes",
                SMTP_MAX_EHLO_NAME);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 33 || c > 126) {
            err_set(err, MXTLS_ERR_INVALID, "smtp",
                    "the EHLO name contains a space or control character at byte %zu", i + 1);
            return -1;
        }
    }
    return 0;
}

/* smtp_config_check - validate what goes on the wire and the limits */
int smtp_config_check(const smtp_config *cfg, err_rec *err)
{
    if (!cfg) {
        err_set(err, MXTLS_ERR_INVALID, "smtp", "no configuration");
        return -1;
    }
    if (smtp_ehlo_name_check(cfg->ehlo_name, err) != 0)
        return -1;
    reply_limits in = {cfg->max_line, cfg->max_lines, cfg->max_reply}, out;
    if (reply_limits_effective(&in, &out) != 0) {
        err_set(err, MXTLS_ERR_INVALID, "smtp",
                "reply limits out of range (line %u..%u, lines <= %u, reply %u..%u bytes)",
                REPLY_MAX_LINE_MIN, REPLY_MAX_LINE_MAX, REPLY_MAX_LINES_MAX, REPLY_MAX_LINE_MIN,
                REPLY_MAX_BYTES_MAX);
        return -1;
    }
    return 0;
}

/* smtp_new - allocate and enter the first state */
smtp_session *smtp_new(const smtp_config *cfg)
{
    if (smtp_config_check(cfg, NULL) != 0)
        return NULL;
    smtp_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    reply_limits lim = {cfg->max_line, cfg->max_lines, cfg->max_reply};
    if (reply_parser_init(&s->rp, &lim) != MXTLS_OK) {
        reply_parser_free(&s->rp);
        free(s);
        return NULL;
    }
    snprintf(s->ehlo_name, sizeof s->ehlo_name, "%s", cfg->ehlo_name);
    s->implicit_tls = cfg->implicit_tls != 0;
    s->no_starttls = cfg->no_starttls != 0;
    s->mail_probe = cfg->mail_probe != 0;
    s->obs.implicit_tls = s->implicit_tls;
    s->obs.outcome_phase = SMTP_PHASE_DONE;
    smtp_enter_state(s, s->implicit_tls ? ST_TLS_HANDSHAKE : ST_BANNER);
    return s;
}

/* smtp_ehlo_obs_free - release one side's observations */
static void smtp_ehlo_obs_free(smtp_ehlo_obs *e)
{
    reply_free(&e->ehlo);
    reply_free(&e->helo);
    ehlo_caps_free(&e->caps);
}

/* smtp_obs_free - release the owned parts of observations; fixed fields stay */
void smtp_obs_free(smtp_obs *o)
{
    if (!o)
        return;
    reply_free(&o->banner);
    free(o->greeting_host);
    o->greeting_host = NULL;
    smtp_ehlo_obs_free(&o->pre_tls);
    smtp_ehlo_obs_free(&o->post_tls);
    reply_free(&o->starttls);
    free(o->findings);
    o->findings = NULL;
    o->nfindings = 0;
}

/* smtp_ehlo_obs_copy - deep copy of one side; dst starts as a shallow copy */
static mxtls_status smtp_ehlo_obs_copy(smtp_ehlo_obs *dst, const smtp_ehlo_obs *src)
{
    mxtls_status st = reply_copy(&dst->ehlo, &src->ehlo);
    if (st == MXTLS_OK)
        st = reply_copy(&dst->helo, &src->helo);
    else
        reply_init(&dst->helo);
    if (st == MXTLS_OK)
        st = ehlo_caps_copy(&dst->caps, &src->caps);
    else
        ehlo_caps_init(&dst->caps);
    return st;
}

/* smtp_obs_copy - fixed fields by assignment, every owned pointer duplicated */
mxtls_status smtp_obs_copy(smtp_obs *dst, const smtp_obs *src)
{
    *dst = *src;
    dst->greeting_host = NULL;
    dst->findings =
        src->nfindings ? xmemdup(src->findings, src->nfindings * sizeof *src->findings) : NULL;
    mxtls_status st = src->nfindings && !dst->findings ? MXTLS_ERR_NOMEM : MXTLS_OK;
    if (st == MXTLS_OK)
        st = reply_copy(&dst->banner, &src->banner);
    else
        reply_init(&dst->banner);
    if (st == MXTLS_OK)
        st = reply_copy(&dst->starttls, &src->starttls);
    else
        reply_init(&dst->starttls);
    /* Each copy below leaves its destination valid (empty) on failure. */
    mxtls_status st2 = smtp_ehlo_obs_copy(&dst->pre_tls, &src->pre_tls);
    mxtls_status st3 = smtp_ehlo_obs_copy(&dst->post_tls, &src->post_tls);
    if (st == MXTLS_OK && st2 == MXTLS_OK && st3 == MXTLS_OK && src->greeting_host &&
        !(dst->greeting_host = xstrndup(src->greeting_host, strlen(src->greeting_host))))
        st = MXTLS_ERR_NOMEM;
    if (st != MXTLS_OK || st2 != MXTLS_OK || st3 != MXTLS_OK) {
        smtp_obs_free(dst);
        return MXTLS_ERR_NOMEM;
    }
    return MXTLS_OK;
}

/* smtp_free - release everything; NULL is fine */
void smtp_free(smtp_session *s)
{
    if (!s)
        return;
    reply_parser_free(&s->rp);
    smtp_obs_free(&s->obs);
    free(s);
}

/* smtp_want - what the adapter must do next */
enum smtp_want smtp_want(const smtp_session *s)
{
    if (s->state == ST_DONE)
        return SMTP_WANT_DONE;
    if (s->out_off < s->out_len)
        return SMTP_WANT_WRITE;
    if (s->state == ST_TLS_HANDSHAKE)
        return SMTP_WANT_START_TLS;
    return SMTP_WANT_READ;
}

/* smtp_feed - parse replies until the machine has something to say */
ssize_t smtp_feed(smtp_session *s, const char *buf, size_t len)
{
    size_t off = 0;
    if (s->state == ST_DONE)
        return s->nomem ? SMTP_ERR_NOMEM : SMTP_ERR_STATE;
    while (off < len && s->state != ST_DONE && s->out_off == s->out_len) {
        if (s->state == ST_TLS_HANDSHAKE) {
            smtp_discard_pre_tls(s, buf + off, len - off);
            off = len;
            break;
        }
        size_t used = 0;
        reply_status st = reply_parser_feed(&s->rp, buf + off, len - off, &used);
        off += used;
        if (st == REPLY_NEED_MORE)
            break;
        if (st == REPLY_ERROR) {
            smtp_on_parse_error(s);
            break;
        }
        reply_rec r;
        reply_parser_take(&s->rp, &r);
        smtp_on_reply(s, &r);
    }
    if (s->nomem)
        return SMTP_ERR_NOMEM;
    return (ssize_t)off;
}

/* smtp_output - the pending command bytes */
size_t smtp_output(smtp_session *s, const char **buf)
{
    *buf = s->out + s->out_off;
    return s->out_len - s->out_off;
}

/* smtp_output_consumed - the adapter wrote n bytes */
void smtp_output_consumed(smtp_session *s, size_t n)
{
    size_t left = s->out_len - s->out_off;
    s->out_off += n < left ? n : left;
    if (s->out_off == s->out_len)
        s->out_off = s->out_len = 0;
}

/* smtp_tls_done - the handshake finished; over TLS everything starts again with EHLO */
int smtp_tls_done(smtp_session *s, int ok)
{
    if (s->state != ST_TLS_HANDSHAKE)
        return SMTP_ERR_STATE;
    if (!ok) {
        smtp_finish(s, SMTP_OUTCOME_TLS_FAILED, 0, "the TLS handshake failed%s",
                    s->implicit_tls ? " (implicit TLS)" : " after STARTTLS");
        return 0;
    }
    s->tls = 1;
    s->obs.tls_ok = 1;
    /* RFC 3207 §4.2: discard all knowledge obtained from the server before
     * TLS. The pre-TLS observations stay in obs.pre_tls for the report, but
     * nothing after this point reads them: decisions use obs.post_tls. */
    smtp_enter_state(s, s->implicit_tls ? ST_BANNER : ST_EHLO);
    return 0;
}

/* smtp_eof - the peer closed the connection */
void smtp_eof(smtp_session *s)
{
    if (s->state == ST_DONE)
        return;
    if (s->state == ST_MAIL) { /* the outcome stands; mail_code 0: no answer */
        smtp_enter_state(s, ST_DONE);
        return;
    }
    if (s->state == ST_QUIT) {
        /* RFC 5321 §4.1.1.10 wants a 221, but a server that just closes after
         * QUIT has not hurt the dialogue. */
        s->obs.quit_status = SMTP_QUIT_CLOSED;
        smtp_enter_state(s, ST_DONE);
        return;
    }
    if (s->state == ST_TLS_HANDSHAKE) {
        /* A close after the 220 reply to STARTTLS (or, with implicit TLS,
         * right after the connect) is a failed handshake, whether the adapter
         * saw the EOF before it sent its ClientHello or in the middle of the
         * handshake: the two differ only by timing. Postfix's tls_client_start
         * fails the same way in both cases ("Cannot start TLS: handshake
         * failure"), and at level may retries in plaintext. */
        smtp_finish(s, SMTP_OUTCOME_TLS_FAILED, 0,
                    "the server closed the connection during the TLS handshake%s",
                    s->implicit_tls ? " (implicit TLS)" : " after STARTTLS");
        return;
    }
    size_t pending = reply_parser_pending(&s->rp);
    if (pending)
        smtp_finish(s, SMTP_OUTCOME_CONNECTION_CLOSED, 0,
                    "the server closed the connection in the middle of the %s (%zu bytes received)",
                    smtp_awaited(s), pending);
    else if (s->out_off < s->out_len)
        smtp_finish(s, SMTP_OUTCOME_CONNECTION_CLOSED, 0,
                    "the server closed the connection before %s was sent", s->command);
    else
        smtp_finish(s, SMTP_OUTCOME_CONNECTION_CLOSED, 0,
                    "the server closed the connection while we waited for the %s",
                    smtp_awaited(s));
}

/* smtp_timeout - the adapter's per-phase timer fired */
void smtp_timeout(smtp_session *s)
{
    if (s->state == ST_DONE)
        return;
    if (s->state == ST_MAIL) { /* the outcome stands; mail_code 0: no answer */
        smtp_enter_state(s, ST_DONE);
        return;
    }
    if (s->state == ST_QUIT) {
        s->obs.quit_status = SMTP_QUIT_TIMEOUT;
        smtp_enter_state(s, ST_DONE);
        return;
    }
    /* No QUIT: a peer that does not answer will not read it either, and after
     * a timeout the two sides may be out of step (Postfix gives up the same way). */
    size_t pending = s->state == ST_TLS_HANDSHAKE ? 0 : reply_parser_pending(&s->rp);
    if (s->out_off < s->out_len) {
        smtp_finish(s, SMTP_OUTCOME_TIMEOUT, 0, "timed out sending %s", s->command);
    } else if (s->state == ST_TLS_HANDSHAKE) {
        smtp_finish(s, SMTP_OUTCOME_TIMEOUT, 0, "timed out during the TLS handshake");
    } else if (pending) {
        /* Part of the reply arrived: say what, as far as it came (its first
         * complete line and the incomplete last one, escaped and cut). */
        char first[200] = "", last[200] = "";
        const reply_rec *r = &s->rp.r;
        if (r->lines.n) {
            char line[128];
            snprintf(line, sizeof line, "%03d-%s", r->code, r->lines.v[0]);
            reply_escape(line, strlen(line), first, sizeof first);
        }
        reply_escape(s->rp.line, s->rp.line_len < 96 ? s->rp.line_len : 96, last, sizeof last);
        smtp_finish(s, SMTP_OUTCOME_TIMEOUT, 0,
                    "timed out waiting for the %s, %zu bytes into it (%s%s%s%s%s%s%s)",
                    smtp_awaited(s), pending, first[0] ? "\"" : "", first,
                    first[0] ? "\"" : "", first[0] && last[0] ? ", then " : "",
                    last[0] ? "\"" : "", last, last[0] ? "\"" : "");
    } else {
        smtp_finish(s, SMTP_OUTCOME_TIMEOUT, 0, "timed out waiting for the %s", smtp_awaited(s));
    }
}

/* smtp_obs_get - the observations */
const smtp_obs *smtp_obs_get(const smtp_session *s)
{
    return &s->obs;
}

/* ---- dump --------------------------------------------------------------- */

/* smtp_dump_raw - key=text, for our own sentences (peer text in them is already escaped) */
static mxtls_status smtp_dump_raw(strbuf *out, const char *key, const char *text)
{
    return sb_printf(out, "%s=%s\n", key, text);
}

/* smtp_dump_text - key=<escaped peer text> */
static mxtls_status smtp_dump_text(strbuf *out, const char *key, const char *text)
{
    char esc[SMTP_MAX_COMMAND * 4 + 8];
    mxtls_status st = sb_printf(out, "%s=", key);
    size_t n = strlen(text), done = 0;
    /* Long lines are escaped in pieces so nothing is ever cut. */
    while (st == MXTLS_OK && done < n) {
        size_t used = reply_escape(text + done, n - done, esc, sizeof esc);
        st = sb_puts(out, esc);
        done += used;
    }
    return st == MXTLS_OK ? sb_puts(out, "\n") : st;
}

/* smtp_dump_reply - a reply as code, line count, bytes and every line */
static mxtls_status smtp_dump_reply(strbuf *out, const char *prefix, const reply_rec *r)
{
    mxtls_status st = sb_printf(out, "%s.code=%d\n%s.lines=%zu\n%s.bytes=%zu\n", prefix,
                                r->code, prefix, r->lines.n, prefix, r->bytes);
    for (size_t i = 0; i < r->lines.n && st == MXTLS_OK; i++) {
        char key[96];
        snprintf(key, sizeof key, "%s.line.%zu", prefix, i + 1);
        st = smtp_dump_text(out, key, r->lines.v[i]);
    }
    return st;
}

/* smtp_dump_list - key=a b c (each item escaped, items separated by " | " when raw lines) */
static mxtls_status smtp_dump_list(strbuf *out, const char *key, const strlist *l, const char *sep)
{
    strbuf tmp;
    sb_init(&tmp, out->max);
    mxtls_status st = MXTLS_OK;
    for (size_t i = 0; i < l->n && st == MXTLS_OK; i++) {
        if (i)
            st = sb_puts(&tmp, sep);
        if (st == MXTLS_OK)
            st = sb_puts(&tmp, l->v[i]);
    }
    if (st == MXTLS_OK)
        st = smtp_dump_text(out, key, tmp.s ? tmp.s : "");
    sb_free(&tmp);
    return st;
}

/* smtp_dump_side - one EHLO exchange */
static mxtls_status smtp_dump_side(strbuf *out, const char *p, const smtp_ehlo_obs *e)
{
    char key[64];
    mxtls_status st = sb_printf(out, "%s.ehlo_sent=%d\n", p, e->ehlo_sent);
    snprintf(key, sizeof key, "%s.ehlo", p);
    if (st == MXTLS_OK)
        st = smtp_dump_reply(out, key, &e->ehlo);
    if (st == MXTLS_OK)
        st = sb_printf(out, "%s.helo_fallback=%d\n", p, e->helo_fallback);
    snprintf(key, sizeof key, "%s.helo", p);
    if (st == MXTLS_OK)
        st = smtp_dump_reply(out, key, &e->helo);
    if (st == MXTLS_OK)
        st = sb_printf(out, "%s.esmtp=%d\n", p, e->esmtp);
    const ehlo_caps *c = &e->caps;
    snprintf(key, sizeof key, "%s.caps.domain", p);
    if (st == MXTLS_OK)
        st = smtp_dump_text(out, key, c->domain ? c->domain : "");
    if (st == MXTLS_OK)
        st = sb_printf(out, "%s.caps.ext=", p);
    for (unsigned bit = 1, first = 1; bit <= EHLO_AUTH && st == MXTLS_OK; bit <<= 1)
        if (c->ext & bit) {
            st = sb_printf(out, "%s%s", first ? "" : " ", ehlo_ext_name(bit));
            first = 0;
        }
    if (st == MXTLS_OK)
        st = sb_puts(out, "\n");
    if (st == MXTLS_OK) {
        if (c->size_value)
            st = sb_printf(out, "%s.caps.size=%llu\n", p, (unsigned long long)c->size);
        else
            st = sb_printf(out, "%s.caps.size=-\n", p);
    }
    snprintf(key, sizeof key, "%s.caps.auth", p);
    if (st == MXTLS_OK)
        st = smtp_dump_list(out, key, &c->auth, " ");
    if (st == MXTLS_OK)
        st = sb_printf(out, "%s.caps.auth_equals=%d\n", p, c->auth_equals);
    snprintf(key, sizeof key, "%s.caps.keywords", p);
    if (st == MXTLS_OK)
        st = smtp_dump_list(out, key, &c->keywords, " ");
    snprintf(key, sizeof key, "%s.caps.unknown", p);
    if (st == MXTLS_OK)
        st = smtp_dump_list(out, key, &c->unknown, " | ");
    if (st == MXTLS_OK)
        st = sb_printf(out, "%s.caps.problems=%zu\n", p, c->problems_total);
    for (size_t i = 0; i < c->nproblems && st == MXTLS_OK; i++)
        st = sb_printf(out, "%s.caps.problem.%zu=%zu:%zu: %s\n", p, i + 1, c->problems[i].line,
                       c->problems[i].column, c->problems[i].message);
    return st;
}

/* smtp_dump - see smtp.h; the order of keys is fixed */
mxtls_status smtp_dump(const smtp_session *s, strbuf *out)
{
    const smtp_obs *o = &s->obs;
    mxtls_status st = sb_printf(out, "outcome=%s\noutcome.phase=%s\n",
                                smtp_outcome_name(o->outcome), smtp_phase_name(o->outcome_phase));
    if (st == MXTLS_OK)
        st = smtp_dump_raw(out, "reason", o->reason);
    if (st == MXTLS_OK)
        st = sb_printf(out, "want=%s\nphase=%s\nimplicit_tls=%d\n", smtp_want_name(smtp_want(s)),
                       smtp_phase_name(smtp_phase_get(s)), o->implicit_tls);
    if (st == MXTLS_OK)
        st = smtp_dump_reply(out, "banner", &o->banner);
    if (st == MXTLS_OK)
        st = smtp_dump_text(out, "greeting", o->greeting_host ? o->greeting_host : "");
    if (st == MXTLS_OK)
        st = smtp_dump_side(out, "pre", &o->pre_tls);
    if (st == MXTLS_OK)
        st = sb_printf(out, "starttls.offered=%d\nstarttls.attempted=%d\n", o->starttls_offered,
                       o->starttls_attempted);
    if (st == MXTLS_OK)
        st = smtp_dump_reply(out, "starttls", &o->starttls);
    if (st == MXTLS_OK)
        st = sb_printf(out, "tls.started=%d\ntls.ok=%d\n", o->tls_started, o->tls_ok);
    if (st == MXTLS_OK)
        st = smtp_dump_side(out, "post", &o->post_tls);
    if (st == MXTLS_OK) {
        char esc[SMTP_INJECT_HEAD * 4 + 1];
        reply_escape(o->injected_head, o->injected_head_len, esc, sizeof esc);
        st = sb_printf(out, "injected.bytes=%zu\ninjected.head=%s\n", o->injected_bytes, esc);
    }
    if (st == MXTLS_OK)
        st = sb_puts(out, "rejected=");
    for (size_t i = 0; i < o->nrejections && st == MXTLS_OK; i++)
        st = sb_printf(out, "%s%s:%03d", i ? " " : "", o->rejections[i].command,
                       o->rejections[i].code);
    if (st == MXTLS_OK)
        st = sb_printf(out, "\nquit.status=%s\nquit.code=%d\n",
                       smtp_quit_status_name(o->quit_status), o->quit_code);
    /* Only with the probe, so that existing transcripts keep their lines. */
    if (st == MXTLS_OK && o->mail_probed)
        st = sb_printf(out, "mail.code=%d\n", o->mail_code);
    if (st == MXTLS_OK && o->mail_probed)
        st = smtp_dump_raw(out, "mail.reply", o->mail_reply);
    if (st == MXTLS_OK)
        st = sb_printf(out, "error.line=%zu\nerror.column=%zu\n", o->error.line, o->error.column);
    if (st == MXTLS_OK)
        st = smtp_dump_raw(out, "error.message", o->error.message);
    if (st == MXTLS_OK)
        st = sb_printf(out, "commands=%zu\nreplies=%zu\nfindings=%zu\n", o->commands, o->replies,
                       o->nfindings + o->findings_dropped);
    for (size_t i = 0; i < o->nfindings && st == MXTLS_OK; i++) {
        char key[48];
        const smtp_finding *f = &o->findings[i];
        snprintf(key, sizeof key, "finding.%zu", i + 1);
        st = sb_printf(out, "%s.code=%s\n%s.phase=%s\n", key, f->code, key,
                       smtp_phase_name(f->phase));
        if (st == MXTLS_OK) {
            char k2[64];
            snprintf(k2, sizeof k2, "%s.detail", key);
            st = smtp_dump_raw(out, k2, f->detail);
        }
    }
    return st;
}
