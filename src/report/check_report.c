/* check_report.c - reports of `mxtls check` and `mxtls probe` (text and JSON) */
#include "report/check_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"
#include "report/probe_report.h"

#define CHECK_TEXT_MAX (16u * 1024u * 1024u)

/* Defined in result_json.c: one result object without schema_version. */
void result_json_object(jsonw *w, const mxtls_result *r);

static const char *cr_color(mxtls_verdict v, int color)
{
    if (!color)
        return "";
    return v == MXTLS_VERDICT_PASS ? "\033[32m" : v == MXTLS_VERDICT_FAIL ? "\033[31m" : "\033[33m";
}

static const char *cr_reset(int color) { return color ? "\033[0m" : ""; }

const check_domain_verdict *check_report_selected(const check_report *r, mxtls_level level)
{
    return check_report_verdict(r, level == MXTLS_LEVEL_INVALID ? r->auto_level : level);
}

static void cr_json_levels(jsonw *w, const char *key, const check_report *rep,
                           mxtls_result *const *rs)
{
    jw_key(w, key);
    jw_obj(w);
    for (size_t i = 0; i < rep->nlevels; i++) {
        if (!rs[i])
            continue;
        jw_key(w, mxtls_level_name(rep->levels[i]));
        result_json_object(w, rs[i]);
    }
    jw_end_obj(w);
}

char *check_report_json(const check_report *rep, mxtls_level level)
{
    jsonw w;
    jw_init(&w);
    const check_domain_verdict *sel = check_report_selected(rep, level);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "domain", rep->domain);
    jw_kint(&w, "port", rep->port);
    jw_kstr(&w, "level", level == MXTLS_LEVEL_INVALID ? "auto" : mxtls_level_name(level));
    jw_kstr(&w, "effective_level", mxtls_level_name(sel->level));
    jw_kstr(&w, "auto_reason", rep->auto_reason);
    jw_kstr(&w, "verdict", mxtls_verdict_name(sel->verdict));
    jw_kstr(&w, "security", mxtls_security_name(sel->security));
    jw_key(&w, "reason");
    jw_obj(&w);
    jw_kstr(&w, "code", sel->code);
    jw_kstr(&w, "message", sel->message);
    jw_kstr(&w, "via", sel->via);
    jw_end_obj(&w);

    jw_key(&w, "mx");
    jw_obj(&w);
    jw_kbool(&w, "routed", rep->routed);
    if (!rep->routed) {
        jw_kstr(&w, "outcome", dns_outcome_name(rep->mx_outcome));
        jw_kstr(&w, "security", dns_security_name(rep->mx_security));
        jw_kstr(&w, "why", rep->mx_why);
    }
    jw_kbool(&w, "null_mx", rep->null_mx);
    jw_kbool(&w, "implicit_mx", rep->implicit_mx);
    jw_kbool(&w, "null_mx_mixed", rep->null_mx_mixed);
    jw_kint(&w, "hosts_dropped", (long long)rep->hosts_dropped);
    jw_key(&w, "hosts");
    jw_arr(&w);
    for (size_t i = 0; i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        jw_obj(&w);
        jw_kstr(&w, "name", h->name);
        jw_key(&w, "preference");
        if (h->pref >= 0)
            jw_int(&w, h->pref);
        else
            jw_null(&w);
        jw_kstr(&w, "a", dns_outcome_name(h->a_outcome));
        jw_kstr(&w, "a_security", dns_security_name(h->a_security));
        jw_kstr(&w, "aaaa", dns_outcome_name(h->aaaa_outcome));
        jw_kstr(&w, "aaaa_security", dns_security_name(h->aaaa_security));
        jw_kbool(&w, "invalid", h->invalid);
        jw_kstr(&w, "problem", h->problem);
        jw_key(&w, "tlsa");
        jw_obj(&w);
        jw_kstr(&w, "state", mxtls_tlsa_state_name(h->tlsa_started ? h->tlsa_state
                                                                  : MXTLS_TLSA_NOT_LOOKED_UP));
        jw_kstr(&w, "base", h->tlsa_base);
        jw_kstr(&w, "why", h->tlsa_why);
        jw_key(&w, "records");
        jw_arr(&w);
        for (size_t k = 0; k < h->ntlsa; k++) {
            char *t = dane_rr_text(&h->tlsa[k]);
            jw_str(&w, t);
            free(t);
        }
        jw_end_arr(&w);
        jw_end_obj(&w);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_end_obj(&w);

    jw_key(&w, "addresses");
    jw_arr(&w);
    for (size_t i = 0; i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        for (size_t j = 0; j < h->naddrs; j++) {
            const check_address *a = h->addrs[j];
            jw_obj(&w);
            jw_kstr(&w, "host", h->name);
            jw_kstr(&w, "ip", a->ip);
            jw_kstr(&w, "dns_security", dns_security_name(a->security));
            jw_key(&w, "ptr");
            jw_arr(&w);
            for (size_t k = 0; k < a->ptr.n; k++) {
                jw_obj(&w);
                jw_kstr(&w, "name", a->ptr.v[k]);
                jw_kbool(&w, "confirmed", a->ptr_confirmed[k]);
                jw_end_obj(&w);
            }
            jw_end_arr(&w);
            jw_kstr(&w, "ptr_problem", a->ptr_problem);
            jw_kstr(&w, "probe_error", a->probe_error);
            jw_key(&w, "probe");
            if (a->probe)
                probe_report_json(&w, a->probe);
            else
                jw_null(&w);
            jw_key(&w, "revocation");
            jw_obj(&w);
            jw_kstr(&w, "status", revocation_status_name(a->rev.status));
            jw_kstr(&w, "source", revocation_source_name(a->rev.source));
            jw_kstr(&w, "detail", a->rev.detail);
            jw_end_obj(&w);
            cr_json_levels(&w, "levels", rep, a->results);
            jw_key(&w, "sni_compare");
            if (a->probe_alt) {
                jw_obj(&w);
                jw_key(&w, "probe");
                probe_report_json(&w, a->probe_alt);
                cr_json_levels(&w, "levels", rep, a->results_alt);
                jw_end_obj(&w);
            } else {
                jw_null(&w);
            }
            jw_end_obj(&w);
        }
    }
    jw_end_arr(&w);

    jw_key(&w, "matrix");
    jw_obj(&w);
    for (size_t i = 0; i < rep->nlevels; i++) {
        const check_domain_verdict *v = &rep->verdicts[i];
        jw_key(&w, mxtls_level_name(v->level));
        jw_obj(&w);
        jw_kstr(&w, "verdict", mxtls_verdict_name(v->verdict));
        jw_kstr(&w, "security", mxtls_security_name(v->security));
        jw_kstr(&w, "code", v->code);
        jw_kstr(&w, "message", v->message);
        jw_kstr(&w, "via", v->via);
        jw_end_obj(&w);
    }
    jw_end_obj(&w);
    jw_kstrlist(&w, "advice", &rep->advice);
    jw_kint(&w, "elapsed_ms", rep->elapsed_ms);
    jw_kbool(&w, "timed_out", rep->timed_out);
    jw_end_obj(&w);
    return jw_finish(&w);
}

/* cr_text_address - one address: what it said and showed */
static void cr_text_address(strbuf *b, const check_report *rep, const check_host *h,
                            const check_address *a, size_t sel)
{
    sb_printf(b, "    %s", a->ip);
    for (size_t k = 0; k < a->ptr.n; k++)
        sb_printf(b, "%s%s%s", k ? ", " : "  ptr ", a->ptr.v[k],
                  a->ptr_confirmed[k] ? " (forward-confirmed)" : " (not forward-confirmed)");
    sb_puts(b, "\n");
    const probe_report *p = a->probe;
    if (!p) {
        sb_puts(b, "      ");
        sb_put_display(b, a->probe_error ? a->probe_error : "no answer before the deadline");
        sb_puts(b, "\n");
        return;
    }
    if (!p->connected) {
        sb_puts(b, "      connect: ");
        sb_put_display(b, p->connect_error ? p->connect_error : "failed");
        sb_puts(b, "\n");
        return;
    }
    if (p->smtp.banner.code) {
        sb_printf(b, "      smtp  %d ", p->smtp.banner.code);
        sb_put_display(b, p->smtp.banner.lines.n ? p->smtp.banner.lines.v[0] : "");
        sb_puts(b, "\n");
    }
    sb_printf(b, "      smtp  %s: ", smtp_outcome_name(p->smtp.outcome));
    sb_put_display(b, p->smtp.reason);
    sb_puts(b, "\n");
    if (p->tls_ok)
        sb_printf(b, "      tls   %s %s%s%s, %s %d bits, SNI %s\n",
                  p->tls.version ? p->tls.version : "?", p->tls.cipher ? p->tls.cipher : "?",
                  p->tls.group ? " " : "", p->tls.group ? p->tls.group : "",
                  p->tls.peer_key_type ? p->tls.peer_key_type : "?", p->tls.peer_key_bits,
                  p->tls.sni_sent ? p->tls.sni_sent : "none");
    const mxtls_result *r = a->results[sel];
    if (r && r->nchain) {
        sb_puts(b, "      cert  ");
        sb_put_display(b, r->chain[0].subject);
        sb_puts(b, "\n");
        if (r->presented.dns.n) {
            sb_puts(b, "            dns:");
            for (size_t k = 0; k < r->presented.dns.n; k++) {
                sb_puts(b, " ");
                sb_put_display(b, r->presented.dns.v[k]);
            }
            sb_puts(b, "\n");
        }
        sb_puts(b, "            issuer ");
        sb_put_display(b, r->chain[0].issuer);
        sb_printf(b, ", valid until %s\n", r->chain[0].not_after);
        if (r->pkix_checked) {
            sb_puts(b, "            pkix ");
            sb_put_display(b, r->pkix_valid ? "valid" : r->pkix_message);
            sb_puts(b, "\n");
        }
    }
    if (a->rev.status != REVOCATION_NOT_CHECKED) {
        sb_printf(b, "      revocation %s (%s)%s", revocation_status_name(a->rev.status),
                  revocation_source_name(a->rev.source), a->rev.detail ? ": " : "");
        sb_put_display(b, a->rev.detail ? a->rev.detail : "");
        sb_puts(b, "\n");
    }
    for (size_t k = 0; k < p->smtp.nfindings; k++) {
        sb_printf(b, "      ! %s: ", p->smtp.findings[k].code);
        sb_put_display(b, p->smtp.findings[k].detail);
        sb_puts(b, "\n");
    }
    if (r) {
        sb_printf(b, "      %s: %s (", mxtls_level_name(r->level), mxtls_verdict_name(r->verdict));
        sb_put_display(b, r->nreasons ? r->reasons[0].message : "");
        sb_puts(b, ")\n");
    }
    if (a->probe_alt) {
        const probe_report *q = a->probe_alt;
        const mxtls_result *ra = a->results_alt[sel];
        sb_printf(b, "      with SNI %s instead: ", q->tls.sni_sent ? q->tls.sni_sent : "none");
        sb_put_display(b, ra && ra->nchain ? ra->chain[0].subject
                                           : smtp_outcome_name(q->smtp.outcome));
        if (ra)
            sb_printf(b, " -> %s %s", mxtls_level_name(ra->level), mxtls_verdict_name(ra->verdict));
        sb_puts(b, "\n");
    }
    (void)rep;
    (void)h;
}

char *check_report_text(const check_report *rep, mxtls_level level, int color)
{
    strbuf b;
    sb_init(&b, CHECK_TEXT_MAX);
    const check_domain_verdict *sel = check_report_selected(rep, level);
    size_t sel_i = 0;
    for (size_t i = 0; i < rep->nlevels; i++)
        if (rep->levels[i] == sel->level)
            sel_i = i;
    char up[16];
    const char *vn = mxtls_verdict_name(sel->verdict);
    size_t k = 0;
    for (; vn[k] && k < sizeof up - 1; k++)
        up[k] = (char)(vn[k] - 32);
    up[k] = '\0';
    sb_printf(&b, "%s: %s%s%s at level %s", rep->domain, cr_color(sel->verdict, color), up,
              cr_reset(color), mxtls_level_name(sel->level));
    if (level == MXTLS_LEVEL_INVALID)
        sb_printf(&b, " (auto: %s)", rep->auto_reason);
    sb_printf(&b, "\n  %s: ", sel->code);
    sb_put_display(&b, sel->message);
    sb_printf(&b, "%s%s\n", sel->via ? " -- " : "", sel->via ? sel->via : "");

    if (rep->routed)
        sb_puts(&b, "next hops (configured routes, no MX lookup)\n");
    else if (rep->null_mx)
        sb_printf(&b, "MX: null MX (RFC 7505), %s\n", dns_security_name(rep->mx_security));
    else if (rep->implicit_mx)
        sb_printf(&b, "MX: none, the domain is its own mail host (implicit MX), %s\n",
                  dns_security_name(rep->mx_security));
    else {
        sb_printf(&b, "MX: %s, %s%s", dns_outcome_name(rep->mx_outcome),
                  dns_security_name(rep->mx_security), rep->mx_why ? ": " : "");
        sb_put_display(&b, rep->mx_why ? rep->mx_why : "");
        sb_puts(&b, "\n");
    }
    for (size_t i = 0; i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        if (h->pref >= 0)
            sb_printf(&b, "  %3d %s\n", h->pref, h->name);
        else
            sb_printf(&b, "      %s\n", h->name);
        if (h->problem) {
            sb_puts(&b, "    ");
            sb_put_display(&b, h->problem);
            sb_puts(&b, "\n");
        }
        if (h->tlsa_started) {
            sb_printf(&b, "    tlsa %s at _%u._tcp.%s%s", mxtls_tlsa_state_name(h->tlsa_state),
                      rep->port, h->tlsa_base ? h->tlsa_base : h->name, h->tlsa_why ? ": " : "");
            sb_put_display(&b, h->tlsa_why ? h->tlsa_why : "");
            sb_puts(&b, "\n");
            for (size_t t_i = 0; t_i < h->ntlsa; t_i++) {
                char *t = dane_rr_text(&h->tlsa[t_i]);
                const char *why = dane_rr_unusable_why(&h->tlsa[t_i]);
                sb_printf(&b, "      %.72s%s%s%s\n", t ? t : "?", why ? " (unusable: " : "",
                          why ? why : "", why ? ")" : "");
                free(t);
            }
        }
        for (size_t j = 0; j < h->naddrs; j++)
            cr_text_address(&b, rep, h, h->addrs[j], sel_i);
    }
    if (rep->hosts_dropped)
        sb_printf(&b, "  (%zu more MX hosts not checked)\n", rep->hosts_dropped);

    sb_printf(&b, "verdicts\n  %-28s %-9s %-10s %-24s %s\n", "LEVEL", "VERDICT", "SECURITY",
              "REASON", "VIA");
    for (size_t i = 0; i < rep->nlevels; i++) {
        const check_domain_verdict *v = &rep->verdicts[i];
        sb_printf(&b, "  %-28s %s%-9s%s %-10s %-24s %s\n", mxtls_level_name(v->level),
                  cr_color(v->verdict, color), mxtls_verdict_name(v->verdict), cr_reset(color),
                  mxtls_security_name(v->security), v->code, v->via ? v->via : "");
    }
    if (rep->advice.n) {
        sb_puts(&b, "advice\n");
        for (size_t i = 0; i < rep->advice.n; i++) {
            sb_puts(&b, "  - ");
            sb_put_display(&b, rep->advice.v[i]);
            sb_puts(&b, "\n");
        }
    }
    sb_printf(&b, "checked in %ld ms%s\n", rep->elapsed_ms,
              rep->timed_out ? " (deadline reached)" : "");
    return sb_take(&b);
}
