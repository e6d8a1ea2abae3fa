/* probe_report.c - one probe's observations as text and JSON (see probe_report.h) */
#include "report/probe_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "core/fingerprint.h"
#include "core/result.h"
#include "report/textout.h"

#define PR_TEXT_MAX (4u * 1024u * 1024u) /* a report is a few KiB; peer text is bounded by reply.h */
#define PR_LABEL "  %-15s"

/* ---- shared ------------------------------------------------------------ */

/* probe_report_outcome - see probe_report.h */
const char *probe_report_outcome(const probe_report *r)
{
    return r->connected ? smtp_outcome_name(r->smtp.outcome) : "connect-failed";
}

/* probe_report_phase - see probe_report.h */
const char *probe_report_phase(const probe_report *r)
{
    return r->connected ? smtp_phase_name(r->smtp.outcome_phase) : "connect";
}

/* pr_escaped - peer bytes made printable (reply_escape), appended in pieces so
 * nothing is cut */
static void pr_escaped(textout *b, const char *s, size_t n)
{
    char esc[1024];
    size_t done = 0;
    while (done < n) {
        size_t used = reply_escape(s + done, n - done, esc, sizeof esc);
        if (used == 0)
            break;
        to_puts(b, esc);
        done += used;
    }
}

/* pr_escape_dup - a malloc'd escaped copy of peer bytes (for JSON values) */
static char *pr_escape_dup(const char *s, size_t n)
{
    textout b;
    to_init(&b, PR_TEXT_MAX);
    pr_escaped(&b, s, n);
    return to_take(&b); /* "" for no bytes */
}

/* ---- text --------------------------------------------------------------- */

/* pr_color, pr_reset - an ANSI colour and its reset, or nothing without colour */
static const char *pr_color(int color, const char *code) { return color ? code : ""; }
static const char *pr_reset(int color) { return color ? "\033[0m" : ""; }

/* pr_outcome_color - green when TLS worked, yellow for plaintext, red otherwise */
static const char *pr_outcome_color(const probe_report *r, int color)
{
    if (!color)
        return "";
    if (!r->connected)
        return "\033[31m";
    switch (r->smtp.outcome) {
    case SMTP_OUTCOME_OK_TLS:
        return "\033[32m";
    case SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS:
    case SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED:
        return "\033[33m";
    default:
        return "\033[31m";
    }
}

/* pr_text_reply - "220 first line" and the other lines indented below */
static void pr_text_reply(textout *b, const char *label, const reply_rec *rr)
{
    to_printf(b, PR_LABEL "%03d", label, rr->code);
    for (size_t i = 0; i < rr->lines.n; i++) {
        if (i)
            to_printf(b, PR_LABEL "%03d", "", rr->code);
        if (rr->lines.v[i][0]) {
            to_puts(b, " ");
            pr_escaped(b, rr->lines.v[i], strlen(rr->lines.v[i]));
        }
        to_puts(b, "\n");
    }
    if (rr->lines.n == 0)
        to_puts(b, "\n");
}

/* pr_text_side - one EHLO exchange: the reply's first line, the capabilities
 * (every later line, as sent) on one line, and a HELO fallback if any */
static void pr_text_side(textout *b, const char *label, const smtp_ehlo_obs *e)
{
    if (!e->ehlo_sent)
        return;
    if (e->ehlo.code == 0) {
        to_printf(b, PR_LABEL "no complete reply\n", label);
    } else {
        to_printf(b, PR_LABEL "%03d", label, e->ehlo.code);
        if (e->ehlo.lines.n > 0 && e->ehlo.lines.v[0][0]) {
            to_puts(b, " ");
            pr_escaped(b, e->ehlo.lines.v[0], strlen(e->ehlo.lines.v[0]));
        }
        to_puts(b, "\n");
        if (e->esmtp && e->ehlo.lines.n > 1) {
            to_printf(b, PR_LABEL, "");
            for (size_t i = 1; i < e->ehlo.lines.n; i++) {
                if (i > 1)
                    to_puts(b, ", ");
                pr_escaped(b, e->ehlo.lines.v[i], strlen(e->ehlo.lines.v[i]));
            }
            to_puts(b, "\n");
        }
    }
    if (e->helo_fallback) {
        if (e->helo.code)
            pr_text_reply(b, "helo", &e->helo);
        else
            to_printf(b, PR_LABEL "no complete reply\n", "helo");
    }
}

/* pr_text_tls - the negotiated session and the chain as sent */
static void pr_text_tls(textout *b, const probe_report *r, int color)
{
    const probe_tls *t = &r->tls;
    if (!r->tls_attempted)
        return;
    if (r->tls_ok)
        to_printf(b, PR_LABEL "%s, %s, group %s\n", "tls", t->version ? t->version : "?",
                  t->cipher ? t->cipher : "?", t->group ? t->group : "unknown");
    else
    {
        to_printf(b, PR_LABEL "%sfailed%s: ", "tls", pr_color(color, "\033[31m"),
                  pr_reset(color));
        to_put_display(b, t->error ? t->error : "unknown reason");
        to_puts(b, "\n");
    }
    if (t->peer_key_type)
        to_printf(b, PR_LABEL "%s %d bits\n", "peer key", t->peer_key_type, t->peer_key_bits);
    to_printf(b, PR_LABEL "%s\n", "sni", t->sni_sent ? t->sni_sent : "(none sent)");
    int n = t->chain ? sk_X509_num(t->chain) : 0;
    for (int i = 0; i < n; i++) {
        char *subj = fp_name_text(X509_get_subject_name(sk_X509_value(t->chain, i)));
        to_printf(b, PR_LABEL "[%d] ", i == 0 ? "chain" : "", i);
        to_put_display(b, subj ? subj : "?");
        to_puts(b, "\n");
        free(subj);
    }
    if (r->tls_ok && n == 0)
        to_printf(b, PR_LABEL "%s\n", "chain", "(no certificate)");
    if (t->client_cert_requested)
        to_printf(b, PR_LABEL "requested by the server; %s\n", "client cert",
                  t->client_cert_sent ? "sent" : "none sent");
    if (t->ocsp_staple)
        to_printf(b, PR_LABEL "%zu bytes\n", "ocsp staple", t->ocsp_staple_len);
}

/* probe_report_text - see probe_report.h */
char *probe_report_text(const probe_report *r, int color)
{
    textout b;
    to_init(&b, PR_TEXT_MAX);
    const smtp_obs *o = &r->smtp;
    int v6 = r->ip && strchr(r->ip, ':');
    to_printf(&b, "probe %s%s%s port %u%s\n", v6 ? "[" : "", r->ip ? r->ip : "?", v6 ? "]" : "",
              (unsigned)r->port, o->implicit_tls ? " (implicit TLS)" : "");
    if (!r->connected) {
        to_printf(&b, PR_LABEL "%sfailed%s: ", "connect", pr_color(color, "\033[31m"),
                  pr_reset(color));
        to_put_display(&b, r->connect_error ? r->connect_error : "unknown reason");
        to_puts(&b, "\n");
    } else {
        to_printf(&b, PR_LABEL "ok\n", "connect");
        if (o->implicit_tls)
            pr_text_tls(&b, r, color);
        if (o->banner.code)
            pr_text_reply(&b, "banner", &o->banner);
        if (r->greeting_host) {
            to_printf(&b, PR_LABEL, "greeting host");
            pr_escaped(&b, r->greeting_host, strlen(r->greeting_host));
            to_puts(&b, "\n");
        }
        pr_text_side(&b, "ehlo", &o->pre_tls);
        if (!o->implicit_tls && o->pre_tls.esmtp)
            to_printf(&b, PR_LABEL "%s\n", "starttls",
                      o->starttls_offered
                          ? (o->starttls_attempted ? "offered, attempted" : "offered, not attempted")
                          : "not offered");
        if (o->starttls.code)
            pr_text_reply(&b, "starttls reply", &o->starttls);
        if (o->starttls_attempted || o->injected_bytes) {
            if (o->injected_bytes) {
                to_printf(&b, PR_LABEL "%s%zu bytes%s before the handshake, discarded: \"",
                          "injection", pr_color(color, "\033[31m"), o->injected_bytes,
                          pr_reset(color));
                pr_escaped(&b, o->injected_head, o->injected_head_len);
                to_printf(&b, "\"%s\n", o->injected_bytes > o->injected_head_len ? "..." : "");
            } else {
                to_printf(&b, PR_LABEL "none\n", "injection");
            }
        }
        if (!o->implicit_tls)
            pr_text_tls(&b, r, color);
        pr_text_side(&b, "ehlo over tls", &o->post_tls);
        if (o->quit_status != SMTP_QUIT_NOT_SENT) {
            if (o->quit_status == SMTP_QUIT_REPLIED)
                to_printf(&b, PR_LABEL "%03d\n", "quit", o->quit_code);
            else
                to_printf(&b, PR_LABEL "%s\n", "quit", smtp_quit_status_name(o->quit_status));
        }
        for (size_t i = 0; i < o->nfindings; i++) {
            const smtp_finding *f = &o->findings[i];
            int alarm = !strcmp(f->code, "starttls-injection") || !strcmp(f->code, "pre-tls-data");
            to_printf(&b, PR_LABEL "%s%s%s (%s): ", i == 0 ? "findings" : "",
                      alarm ? pr_color(color, "\033[31m") : "", f->code,
                      alarm ? pr_reset(color) : "", smtp_phase_name(f->phase));
            to_put_display(&b, f->detail);
            to_puts(&b, "\n");
        }
        if (o->findings_dropped)
            to_printf(&b, PR_LABEL "%zu more not kept\n", "", o->findings_dropped);
    }
    to_printf(&b, PR_LABEL "%s%s%s in %s", "outcome", pr_outcome_color(r, color),
              probe_report_outcome(r), pr_reset(color), probe_report_phase(r));
    if (r->connected && o->reason[0]) {
        to_puts(&b, ": ");
        to_put_display(&b, o->reason);
    }
    to_puts(&b, "\n");
    to_printf(&b, PR_LABEL "%ld ms, %zu bytes in, %zu bytes out\n", "time", r->elapsed_ms,
              r->bytes_in, r->bytes_out);
    return to_take(&b);
}

/* ---- JSON --------------------------------------------------------------- */

/* pr_json_reply - {code, lines} or null when no reply arrived */
static void pr_json_reply(jsonw *w, const char *key, const reply_rec *rr)
{
    jw_key(w, key);
    if (rr->code == 0) {
        jw_null(w);
        return;
    }
    jw_obj(w);
    jw_kint(w, "code", rr->code);
    jw_kstrlist(w, "lines", &rr->lines);
    jw_end_obj(w);
}

/* pr_json_side - one EHLO exchange, or null when EHLO was never sent */
static void pr_json_side(jsonw *w, const char *key, const smtp_ehlo_obs *e)
{
    jw_key(w, key);
    if (!e->ehlo_sent) {
        jw_null(w);
        return;
    }
    jw_obj(w);
    pr_json_reply(w, "ehlo", &e->ehlo);
    jw_kbool(w, "helo_fallback", e->helo_fallback);
    pr_json_reply(w, "helo", &e->helo);
    jw_kbool(w, "esmtp", e->esmtp);
    const ehlo_caps *c = &e->caps;
    jw_kstr(w, "domain", e->esmtp ? c->domain : NULL);
    jw_key(w, "extensions");
    jw_arr(w);
    for (unsigned bit = 1; bit <= EHLO_AUTH; bit <<= 1)
        if (c->ext & bit)
            jw_str(w, ehlo_ext_name(bit));
    jw_end_arr(w);
    jw_key(w, "size");
    if (c->size_value)
        jw_int(w, (long long)c->size);
    else
        jw_null(w);
    jw_kstrlist(w, "auth", &c->auth);
    jw_kstrlist(w, "keywords", &c->keywords);
    jw_kstrlist(w, "unknown", &c->unknown);
    jw_key(w, "problems");
    jw_arr(w);
    for (size_t i = 0; i < c->nproblems; i++) {
        jw_obj(w);
        jw_kint(w, "line", (long long)c->problems[i].line);
        jw_kint(w, "column", (long long)c->problems[i].column);
        jw_kstr(w, "message", c->problems[i].message);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_end_obj(w);
}

/* pr_json_cert - x as a chain certificate object (jw_chain_cert) */
static void pr_json_cert(jsonw *w, X509 *x)
{
    chain_cert c;
    if (chain_cert_fill(&c, x) != MXTLS_OK)
        w->failed = 1;
    jw_chain_cert(w, &c);
    chain_cert_clear(&c);
}

/* pr_json_tls - the session, or null when no handshake was attempted */
static void pr_json_tls(jsonw *w, const probe_report *r)
{
    const probe_tls *t = &r->tls;
    jw_key(w, "tls");
    if (!r->tls_attempted) {
        jw_null(w);
        return;
    }
    jw_obj(w);
    jw_kbool(w, "ok", r->tls_ok);
    jw_kstr(w, "version", t->version);
    jw_kstr(w, "cipher", t->cipher);
    jw_kstr(w, "group", t->group);
    jw_key(w, "peer_key");
    if (t->peer_key_type) {
        jw_obj(w);
        jw_kstr(w, "type", t->peer_key_type);
        jw_kint(w, "bits", t->peer_key_bits);
        jw_end_obj(w);
    } else {
        jw_null(w);
    }
    jw_kstr(w, "sni", t->sni_sent);
    jw_key(w, "chain");
    jw_arr(w);
    for (int i = 0; t->chain && i < sk_X509_num(t->chain); i++)
        pr_json_cert(w, sk_X509_value(t->chain, i));
    jw_end_arr(w);
    jw_key(w, "client_cert");
    jw_obj(w);
    jw_kbool(w, "requested", t->client_cert_requested);
    jw_kbool(w, "sent", t->client_cert_sent);
    jw_end_obj(w);
    jw_key(w, "ocsp_staple");
    if (t->ocsp_staple) {
        jw_obj(w);
        jw_kint(w, "bytes", (long long)t->ocsp_staple_len);
        jw_end_obj(w);
    } else {
        jw_null(w);
    }
    jw_kstr(w, "error", t->error);
    jw_end_obj(w);
}

/* pr_json_object - the report as a JSON object; the fields are listed in docs/probe.md */
static void pr_json_object(jsonw *w, const probe_report *r)
{
    const smtp_obs *o = &r->smtp;
    jw_obj(w);
    jw_kstr(w, "ip", r->ip);
    jw_kint(w, "port", r->port);
    jw_kbool(w, "connected", r->connected);
    jw_kstr(w, "connect_error", r->connect_error);
    jw_kstr(w, "outcome", probe_report_outcome(r));
    jw_kstr(w, "outcome_phase", probe_report_phase(r));
    jw_kstr(w, "reason", r->connected ? o->reason : r->connect_error);
    jw_kbool(w, "implicit_tls", o->implicit_tls);
    pr_json_reply(w, "banner", &o->banner);
    jw_kstr(w, "greeting_host", r->greeting_host);
    pr_json_side(w, "ehlo_pre_tls", &o->pre_tls);
    jw_key(w, "starttls");
    jw_obj(w);
    jw_kbool(w, "offered", o->starttls_offered);
    jw_kbool(w, "attempted", o->starttls_attempted);
    pr_json_reply(w, "reply", &o->starttls);
    jw_end_obj(w);
    jw_key(w, "injection");
    jw_obj(w);
    jw_kint(w, "bytes", (long long)o->injected_bytes);
    char *head = pr_escape_dup(o->injected_head, o->injected_head_len);
    jw_kstr(w, "head", head);
    if (!head)
        w->failed = 1;
    free(head);
    jw_end_obj(w);
    pr_json_tls(w, r);
    pr_json_side(w, "ehlo_post_tls", &o->post_tls);
    jw_key(w, "quit");
    jw_obj(w);
    jw_kstr(w, "status", smtp_quit_status_name(o->quit_status));
    jw_key(w, "code");
    if (o->quit_status == SMTP_QUIT_REPLIED)
        jw_int(w, o->quit_code);
    else
        jw_null(w);
    jw_end_obj(w);
    jw_key(w, "rejections");
    jw_arr(w);
    for (size_t i = 0; i < o->nrejections; i++) {
        jw_obj(w);
        jw_kstr(w, "command", o->rejections[i].command);
        jw_kstr(w, "phase", smtp_phase_name(o->rejections[i].phase));
        jw_kint(w, "code", o->rejections[i].code);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_key(w, "findings");
    jw_arr(w);
    for (size_t i = 0; i < o->nfindings; i++) {
        jw_obj(w);
        jw_kstr(w, "code", o->findings[i].code);
        jw_kstr(w, "phase", smtp_phase_name(o->findings[i].phase));
        jw_kstr(w, "detail", o->findings[i].detail);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_kint(w, "findings_dropped", (long long)o->findings_dropped);
    jw_key(w, "error");
    if (o->error.kind != REPLY_ERR_NONE) {
        jw_obj(w);
        jw_kint(w, "line", (long long)o->error.line);
        jw_kint(w, "column", (long long)o->error.column);
        jw_kstr(w, "message", o->error.message);
        jw_end_obj(w);
    } else {
        jw_null(w);
    }
    jw_kint(w, "commands", (long long)o->commands);
    jw_kint(w, "replies", (long long)o->replies);
    jw_kint(w, "elapsed_ms", r->elapsed_ms);
    jw_kint(w, "bytes_in", (long long)r->bytes_in);
    jw_kint(w, "bytes_out", (long long)r->bytes_out);
    jw_end_obj(w);
}

/* probe_report_json - see probe_report.h. The text is kept with the report
 * (r->json): a complete report does not change otherwise, and a probe shared
 * by many domains would be written out again for each of them. */
void probe_report_json(jsonw *w, probe_report *r)
{
    if (!r->json) {
        jsonw one;
        jw_init(&one);
        pr_json_object(&one, r);
        r->json = jw_finish(&one);
        if (!r->json) {
            w->failed = 1;
            return;
        }
    }
    jw_json(w, r->json);
}
