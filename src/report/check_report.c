/* check_report.c - reports of `mxtls check` and `mxtls probe` (text and JSON) */
#include "report/check_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fingerprint.h"
#include "core/result.h"
#include "report/probe_report.h"
#include "report/survey.h"
#include "report/summary.h"
#include "report/textout.h"
#include "report/sts_report.h"

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

static void cr_json_revocation(jsonw *w, const check_conn *c)
{
    jw_obj(w);
    jw_kstr(w, "status",
            mxtls_revocation_status_name(c ? c->rev.status : MXTLS_REVOCATION_NOT_CHECKED));
    jw_kstr(w, "source", revocation_source_name(c ? c->rev.source : REVOCATION_SRC_NONE));
    jw_kstr(w, "detail", c ? c->rev.detail : NULL);
    jw_end_obj(w);
}

/* cr_json_conn - one connection: the ClientHello sent, the levels whose
 * verdicts come from it, and what it saw */
static void cr_json_conn(jsonw *w, const check_report *rep, const check_address *a, size_t k)
{
    const check_conn *c = &a->conns[k];
    jw_obj(w);
    jw_kstr(w, "sni", c->hello.sni);
    jw_kstr(w, "protocols", c->hello.protocols);
    jw_kstr(w, "ciphers", c->hello.ciphers);
    jw_kstr(w, "exclude", c->hello.exclude);
    jw_key(w, "levels");
    jw_arr(w);
    for (size_t li = 0; li < rep->nlevels; li++)
        if ((size_t)a->level_conn[li] == k)
            jw_str(w, mxtls_level_name(rep->levels[li]));
    jw_end_arr(w);
    jw_kbool(w, "sni_compare", (long long)k == a->alt_conn);
    jw_kstr(w, "probe_error", c->probe_error);
    jw_key(w, "probe");
    if (c->probe)
        probe_report_json(w, c->probe);
    else
        jw_null(w);
    jw_key(w, "revocation");
    cr_json_revocation(w, c);
    jw_end_obj(w);
}

static char *cr_json(const check_report *rep, mxtls_level level);

char *check_report_json(const check_report *rep, mxtls_level level)
{
    return cr_json(rep, level);
}

survey_line *check_report_survey_line(const check_report *rep, mxtls_level level)
{
    const check_domain_verdict *sel = check_report_selected(rep, level);
    survey_check c = {0};
    c.domain = rep->domain;
    c.verdict = mxtls_verdict_name(sel->verdict);
    c.effective_level = mxtls_level_name(sel->level);
    c.reason_code = sel->code;
    c.reason_message = sel->message;
    c.mx_routed = rep->routed;
    if (!rep->routed) {
        c.mx_outcome = dns_outcome_name(rep->mx_outcome);
        c.mx_security = dns_security_name(rep->mx_security);
    }
    c.null_mx = rep->null_mx;
    c.implicit_mx = rep->implicit_mx;
    /* the addresses as cr_json lists them, each with its first connection's
     * probe (the address-level "probe") */
    size_t naddrs = 0;
    for (size_t i = 0; i < rep->nhosts; i++)
        naddrs += rep->hosts[i]->naddrs;
    survey_addr *addrs = naddrs ? calloc(naddrs, sizeof *addrs) : NULL;
    survey_matrix_entry *matrix = rep->nlevels ? calloc(rep->nlevels, sizeof *matrix) : NULL;
    survey_line *l = NULL;
    int nomem = (naddrs && !addrs) || (rep->nlevels && !matrix);
    for (size_t i = 0; !nomem && i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        for (size_t j = 0; !nomem && j < h->naddrs; j++) {
            const check_address *a = h->addrs[j];
            survey_addr *sa = &addrs[c.naddrs++];
            sa->host = h->name;
            sa->ip = a->ip;
            const probe_report *p = a->nconns ? a->conns[0].probe : NULL;
            if (!p || !p->connected)
                continue;
            sa->connected = 1;
            sa->starttls = p->smtp.starttls_offered || p->smtp.implicit_tls;
            if (!p->tls_attempted)
                continue;
            sa->tls = 1;
            sa->tls_ok = p->tls_ok;
            sa->tls_version = p->tls.version;
            if (p->tls.chain && sk_X509_num(p->tls.chain) > 0) {
                /* what chain_cert_fill gives the probe's JSON */
                X509 *leaf = sk_X509_value(p->tls.chain, 0);
                sa->leaf = 1;
                sa->leaf_subject = fp_name_text(X509_get_subject_name(leaf));
                sa->leaf_not_after = fp_time_text(X509_get0_notAfter(leaf));
                nomem = !sa->leaf_subject || !sa->leaf_not_after;
            }
        }
    }
    for (size_t i = 0; !nomem && i < rep->nlevels; i++) {
        const check_domain_verdict *v = &rep->verdicts[i];
        matrix[c.nmatrix++] = (survey_matrix_entry){mxtls_level_name(v->level),
                                                    mxtls_verdict_name(v->verdict), v->code};
    }
    c.addrs = addrs;
    c.matrix = matrix;
    c.nadvice = rep->advice.n < SURVEY_MAX_ADVICE ? rep->advice.n : SURVEY_MAX_ADVICE;
    c.advice = (const char *const *)rep->advice.v;
    if (!nomem)
        l = survey_line_of_check(&c);
    for (size_t i = 0; i < c.naddrs; i++) {
        free((char *)addrs[i].leaf_subject);
        free((char *)addrs[i].leaf_not_after);
    }
    free(addrs);
    free(matrix);
    return l;
}

/* cr_json - the report (docs/json.md) */
static char *cr_json(const check_report *rep, mxtls_level level)
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
    check_summary sum;
    summary_of(rep, level, &sum);
    jw_key(&w, "summary");
    summary_json(&w, &sum);

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
        jw_kint(&w, "addresses_dropped", (long long)h->addrs_dropped);
        jw_kint(&w, "tlsa_dropped", (long long)h->tlsa_dropped);
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
            jw_kint(&w, "ptr_dropped", (long long)a->ptr_dropped);
            /* The first connection (Postfix's default ClientHello) keeps the
             * address-level keys; every connection is under "probes". */
            const check_conn *c0 = a->nconns ? &a->conns[0] : NULL;
            jw_kstr(&w, "probe_error", c0 ? c0->probe_error : NULL);
            jw_key(&w, "probe");
            if (c0 && c0->probe)
                probe_report_json(&w, c0->probe);
            else
                jw_null(&w);
            jw_key(&w, "revocation");
            cr_json_revocation(&w, c0);
            cr_json_levels(&w, "levels", rep, a->results);
            jw_key(&w, "probes");
            jw_arr(&w);
            for (size_t k = 0; k < a->nconns; k++)
                cr_json_conn(&w, rep, a, k);
            jw_end_arr(&w);
            jw_kint(&w, "probes_dropped", (long long)a->conns_dropped);
            jw_kbool(&w, "same_certificate", check_address_same_leaf(a));
            jw_key(&w, "sni_compare");
            if (a->alt_conn >= 0 && a->conns[a->alt_conn].probe) {
                jw_obj(&w);
                jw_key(&w, "probe");
                probe_report_json(&w, a->conns[a->alt_conn].probe);
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
    sts_report_json_keys(&w, rep->sts);
    jw_kstrlist(&w, "advice", &rep->advice);
    jw_kint(&w, "elapsed_ms", rep->elapsed_ms);
    jw_kbool(&w, "timed_out", rep->timed_out);
    jw_end_obj(&w);
    return jw_finish(&w);
}

/* cr_conn_label - "SNI mx.example.com" / "no SNI", with a policy entry's limits */
static void cr_conn_label(textout *b, const check_conn *c)
{
    if (c->hello.sni)
        to_printf(b, "SNI %s", c->hello.sni);
    else
        to_puts(b, "no SNI");
    if (c->hello.protocols)
        to_printf(b, ", protocols=%s", c->hello.protocols);
    if (c->hello.ciphers)
        to_printf(b, ", ciphers=%s", c->hello.ciphers);
    if (c->hello.exclude)
        to_printf(b, ", exclude=%s", c->hello.exclude);
}

/* cr_text_other_conns - the connections other than the shown one: which
 * levels' senders make them and whether they saw the same certificate */
static void cr_text_other_conns(textout *b, const check_report *rep, const check_address *a,
                                const check_conn *shown)
{
    X509 *first = shown && shown->probe && shown->probe->tls_ok && shown->probe->tls.chain &&
                          sk_X509_num(shown->probe->tls.chain)
                      ? sk_X509_value(shown->probe->tls.chain, 0)
                      : NULL;
    for (size_t k = 0; k < a->nconns; k++) {
        const check_conn *c = &a->conns[k];
        if (c == shown || (long long)k == a->alt_conn)
            continue;
        to_puts(b, "      also  ");
        cr_conn_label(b, c);
        to_puts(b, " (");
        int n = 0;
        for (size_t li = 0; li < rep->nlevels; li++)
            if ((size_t)a->level_conn[li] == k)
                to_printf(b, "%s%s", n++ ? ", " : "", mxtls_level_name(rep->levels[li]));
        to_puts(b, "): ");
        const probe_report *q = c->probe;
        if (!q) {
            to_printf(b, "%s\n", c->probe_error ? c->probe_error : "no answer before the deadline");
            continue;
        }
        if (!q->tls_ok || !q->tls.chain || !sk_X509_num(q->tls.chain)) {
            to_printf(b, "%s: %s\n", smtp_outcome_name(q->smtp.outcome),
                      q->tls.error ? q->tls.error : q->smtp.reason);
            continue;
        }
        X509 *x = sk_X509_value(q->tls.chain, 0);
        to_printf(b, "%s %s, ", q->tls.version ? q->tls.version : "?",
                  q->tls.cipher ? q->tls.cipher : "?");
        if (first && X509_cmp(first, x) == 0) {
            to_puts(b, "the same certificate\n");
        } else {
            char *subj = fp_name_text(X509_get_subject_name(x));
            to_printf(b, "a different certificate: %s\n", subj ? subj : "?");
            free(subj);
        }
    }
}

/* cr_text_address - one address: what it said and showed */
static void cr_text_address(textout *b, const check_report *rep, const check_host *h,
                            const check_address *a, size_t sel)
{
    to_printf(b, "    %s", a->ip);
    for (size_t k = 0; k < a->ptr.n; k++)
        to_printf(b, "%s%s%s", k ? ", " : "  ptr ", a->ptr.v[k],
                  a->ptr_confirmed[k] ? " (forward-confirmed)" : " (not forward-confirmed)");
    if (a->ptr_dropped)
        to_printf(b, " (%zu more PTR records not checked)", a->ptr_dropped);
    to_puts(b, "\n");
    const check_conn *c = check_address_conn(a, sel);
    const probe_report *p = c ? c->probe : NULL;
    if (!p) {
        to_puts(b, "      ");
        to_put_display(b, c && c->probe_error ? c->probe_error : "no answer before the deadline");
        to_puts(b, "\n");
        cr_text_other_conns(b, rep, a, c);
        return;
    }
    if (!p->connected) {
        to_puts(b, "      connect: ");
        to_put_display(b, p->connect_error ? p->connect_error : "failed");
        to_puts(b, "\n");
        return;
    }
    if (p->smtp.banner.code) {
        to_printf(b, "      smtp  %d ", p->smtp.banner.code);
        to_put_display(b, p->smtp.banner.lines.n ? p->smtp.banner.lines.v[0] : "");
        to_puts(b, "\n");
    }
    to_printf(b, "      smtp  %s: ", smtp_outcome_name(p->smtp.outcome));
    to_put_display(b, p->smtp.reason);
    to_puts(b, "\n");
    if (p->tls_ok)
        to_printf(b, "      tls   %s %s%s%s, %s %d bits, SNI %s\n",
                  p->tls.version ? p->tls.version : "?", p->tls.cipher ? p->tls.cipher : "?",
                  p->tls.group ? " " : "", p->tls.group ? p->tls.group : "",
                  p->tls.peer_key_type ? p->tls.peer_key_type : "?", p->tls.peer_key_bits,
                  p->tls.sni_sent ? p->tls.sni_sent : "none");
    const mxtls_result *r = a->results[sel];
    if (r && r->nchain) {
        to_puts(b, "      cert  ");
        to_put_display(b, r->chain[0].subject);
        to_puts(b, "\n");
        if (r->presented.dns.n) {
            to_puts(b, "            dns:");
            for (size_t k = 0; k < r->presented.dns.n; k++) {
                to_puts(b, " ");
                to_put_display(b, r->presented.dns.v[k]);
            }
            to_puts(b, "\n");
        }
        to_puts(b, "            issuer ");
        to_put_display(b, r->chain[0].issuer);
        to_printf(b, ", valid until %s\n", r->chain[0].not_after);
        if (r->pkix_checked) {
            to_puts(b, "            pkix ");
            to_put_display(b, r->pkix_valid ? "valid" : r->pkix_message);
            to_puts(b, "\n");
        }
    }
    if (c->rev.status != MXTLS_REVOCATION_NOT_CHECKED) {
        to_printf(b, "      revocation %s (%s)%s", mxtls_revocation_status_name(c->rev.status),
                  revocation_source_name(c->rev.source), c->rev.detail ? ": " : "");
        to_put_display(b, c->rev.detail ? c->rev.detail : "");
        to_puts(b, "\n");
    }
    for (size_t k = 0; k < p->smtp.nfindings; k++) {
        to_printf(b, "      ! %s: ", p->smtp.findings[k].code);
        to_put_display(b, p->smtp.findings[k].detail);
        to_puts(b, "\n");
    }
    if (r) {
        to_printf(b, "      %s: %s (", mxtls_level_name(r->level), mxtls_verdict_name(r->verdict));
        to_put_display(b, r->nreasons ? r->reasons[0].message : "");
        to_puts(b, ")\n");
    }
    cr_text_other_conns(b, rep, a, c);
    if (a->alt_conn >= 0 && a->conns[a->alt_conn].probe) {
        const probe_report *q = a->conns[a->alt_conn].probe;
        const mxtls_result *ra = a->results_alt[sel];
        to_printf(b, "      with SNI %s instead: ", q->tls.sni_sent ? q->tls.sni_sent : "none");
        to_put_display(b, ra && ra->nchain ? ra->chain[0].subject
                                           : smtp_outcome_name(q->smtp.outcome));
        if (ra)
            to_printf(b, " -> %s %s", mxtls_level_name(ra->level), mxtls_verdict_name(ra->verdict));
        to_puts(b, "\n");
    }
    (void)h;
}

char *check_report_text(const check_report *rep, mxtls_level level, int color)
{
    textout b;
    to_init(&b, CHECK_TEXT_MAX);
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
    /* The headline first: what works and what does not (report/summary.h);
     * then the verdict of the level that sets the exit code. */
    check_summary sum;
    summary_of(rep, level, &sum);
    summary_text(&b, &sum, color);
    to_printf(&b, "%s: %s%s%s at level %s", rep->domain, cr_color(sel->verdict, color), up,
              cr_reset(color), mxtls_level_name(sel->level));
    if (level == MXTLS_LEVEL_INVALID)
        to_printf(&b, " (auto: %s)", rep->auto_reason);
    to_printf(&b, "\n  %s: ", sel->code);
    to_put_display(&b, sel->message);
    to_printf(&b, "%s%s\n", sel->via ? " -- " : "", sel->via ? sel->via : "");

    if (rep->routed)
        to_puts(&b, "next hops (configured routes, no MX lookup)\n");
    else if (rep->null_mx)
        to_printf(&b, "MX: null MX (RFC 7505), %s\n", dns_security_name(rep->mx_security));
    else if (rep->implicit_mx)
        to_printf(&b, "MX: none, the domain is its own mail host (implicit MX), %s\n",
                  dns_security_name(rep->mx_security));
    else {
        to_printf(&b, "MX: %s, %s%s", dns_outcome_name(rep->mx_outcome),
                  dns_security_name(rep->mx_security), rep->mx_why ? ": " : "");
        to_put_display(&b, rep->mx_why ? rep->mx_why : "");
        to_puts(&b, "\n");
    }
    for (size_t i = 0; i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        if (h->pref >= 0)
            to_printf(&b, "  %3d %s\n", h->pref, h->name);
        else
            to_printf(&b, "      %s\n", h->name);
        if (h->problem) {
            to_puts(&b, "    ");
            to_put_display(&b, h->problem);
            to_puts(&b, "\n");
        }
        if (h->tlsa_started) {
            to_printf(&b, "    tlsa %s at _%u._tcp.%s%s", mxtls_tlsa_state_name(h->tlsa_state),
                      rep->port, h->tlsa_base ? h->tlsa_base : h->name, h->tlsa_why ? ": " : "");
            to_put_display(&b, h->tlsa_why ? h->tlsa_why : "");
            to_puts(&b, "\n");
            for (size_t t_i = 0; t_i < h->ntlsa; t_i++) {
                char *t = dane_rr_text(&h->tlsa[t_i]);
                const char *why = dane_rr_unusable_why(&h->tlsa[t_i]);
                to_printf(&b, "      %.72s%s%s%s\n", t ? t : "?", why ? " (unusable: " : "",
                          why ? why : "", why ? ")" : "");
                free(t);
            }
            if (h->tlsa_dropped)
                to_printf(&b, "      (%zu more TLSA records not considered)\n", h->tlsa_dropped);
        }
        for (size_t j = 0; j < h->naddrs; j++)
            cr_text_address(&b, rep, h, h->addrs[j], sel_i);
        if (h->addrs_dropped)
            to_printf(&b, "    (%zu more addresses not checked)\n", h->addrs_dropped);
    }
    if (rep->hosts_dropped)
        to_printf(&b, "  (%zu more MX hosts not checked)\n", rep->hosts_dropped);
    sts_report_text(&b, rep->sts);

    to_printf(&b, "verdicts\n  %-28s %-9s %-10s %-24s %s\n", "LEVEL", "VERDICT", "SECURITY",
              "REASON", "VIA");
    for (size_t i = 0; i < rep->nlevels; i++) {
        const check_domain_verdict *v = &rep->verdicts[i];
        to_printf(&b, "  %-28s %s%-9s%s %-10s %-24s %s\n", mxtls_level_name(v->level),
                  cr_color(v->verdict, color), mxtls_verdict_name(v->verdict), cr_reset(color),
                  mxtls_security_name(v->security), v->code, v->via ? v->via : "");
    }
    if (rep->advice.n) {
        to_puts(&b, "advice\n");
        for (size_t i = 0; i < rep->advice.n; i++) {
            to_puts(&b, "  - ");
            to_put_display(&b, rep->advice.v[i]);
            to_puts(&b, "\n");
        }
    }
    to_printf(&b, "checked in %ld ms%s\n", rep->elapsed_ms,
              rep->timed_out ? " (deadline reached)" : "");
    return to_take(&b);
}

char *mxtls_report_json(const mxtls_report *rep, mxtls_level level)
{
    return rep ? check_report_json(rep, level) : NULL;
}

char *mxtls_report_text(const mxtls_report *rep, mxtls_level level, int color)
{
    return rep ? check_report_text(rep, level, color) : NULL;
}

char *mxtls_report_dialogues_text(const mxtls_report *rep, int color)
{
    strbuf b;
    sb_init(&b, CHECK_TEXT_MAX);
    for (size_t i = 0; rep && i < rep->nhosts; i++)
        for (size_t j = 0; j < rep->hosts[i]->naddrs; j++) {
            const check_address *a = rep->hosts[i]->addrs[j];
            for (size_t k = 0; k < a->nconns; k++) {
                const check_conn *cn = &a->conns[k];
                if (!cn->probe)
                    continue;
                char *t = probe_report_text(cn->probe, color);
                if (!t)
                    continue;
                if (a->nconns > 1)
                    sb_printf(&b, "dialogue with %s (%s%s)\n%s", a->ip,
                              cn->hello.sni ? "SNI " : "no SNI", cn->hello.sni ? cn->hello.sni : "",
                              t);
                else
                    sb_printf(&b, "dialogue with %s\n%s", a->ip, t);
                free(t);
            }
        }
    return sb_take(&b);
}
