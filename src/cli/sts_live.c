/* sts_live.c - mxtls mta-sts DOMAIN, mxtls tlsrpt DOMAIN (cli/sts_live.h) */
#include "cli/sts_live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cli/cli.h"
#include "cli/recout.h"
#include "core/names.h"
#include "core/result.h"
#include "engine/sts.h"
#include "io/dns.h"
#include "report/jsonw.h"
#include "report/sts_report.h"
#include "report/textout.h"

/* sts_live_policy_mx - the mx patterns of the policy in force, or NULL */
static const strlist *sts_live_policy_mx(const sts_report *s)
{
    if (s->apply == STS_APPLY_FETCHED)
        return &s->policy.mx;
    if (s->apply == STS_APPLY_CACHED)
        return &s->cached.mx;
    return NULL;
}

int sts_live_mtasts(const char *cmd, const char *domain, check_options *opt,
                    const cli_trust *trust, int json)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return EXIT_TEMP;
    int rc = cli_trust_apply(cmd, ctx, trust);
    if (rc != EXIT_PASS) {
        mxtls_ctx_free(ctx);
        return rc;
    }
    opt->domain = domain;
    check_report *rep = check_run(ctx, opt);
    if (!rep) {
        rc = cli_ctx_error(cmd, ctx);
        mxtls_ctx_free(ctx);
        return rc;
    }
    size_t li = 0;
    for (size_t i = 0; i < rep->nlevels; i++)
        if (rep->levels[i] == MXTLS_LEVEL_MTA_STS)
            li = i;
    const check_domain_verdict *v = check_report_verdict(rep, MXTLS_LEVEL_MTA_STS);
    const sts_report *s = rep->sts;
    const strlist *mx = s ? sts_live_policy_mx(s) : NULL;
    rc = v->verdict == MXTLS_VERDICT_PASS ? EXIT_PASS
         : v->verdict == MXTLS_VERDICT_FAIL ? EXIT_POLICY
                                            : EXIT_TEMP;
    if (json) {
        jsonw w;
        jw_init(&w);
        jw_obj(&w);
        jw_kint(&w, "schema_version", 1);
        jw_kstr(&w, "domain", rep->domain);
        jw_kstr(&w, "verdict", mxtls_verdict_name(v->verdict));
        jw_kstr(&w, "code", v->code);
        jw_kstr(&w, "message", v->message);
        jw_kstr(&w, "via", v->via);
        sts_report_json_keys(&w, s);
        jw_key(&w, "hosts");
        jw_arr(&w);
        for (size_t i = 0; i < rep->nhosts; i++) {
            const check_host *h = rep->hosts[i];
            size_t which = 0;
            int covered = mx && mtasts_mx_match(mx, h->name, &which);
            jw_obj(&w);
            jw_kstr(&w, "host", h->name);
            jw_key(&w, "covered_by");
            if (covered)
                jw_str(&w, mx->v[which]);
            else
                jw_null(&w);
            jw_kstr(&w, "problem", h->problem);
            jw_key(&w, "addresses");
            jw_arr(&w);
            for (size_t j = 0; j < h->naddrs; j++) {
                const mxtls_result *r = h->addrs[j]->results[li];
                jw_obj(&w);
                jw_kstr(&w, "ip", h->addrs[j]->ip);
                jw_kstr(&w, "verdict", r ? mxtls_verdict_name(r->verdict) : NULL);
                jw_key(&w, "reasons");
                jw_arr(&w);
                for (size_t k = 0; r && k < r->nreasons; k++) {
                    jw_obj(&w);
                    jw_kstr(&w, "code", r->reasons[k].code);
                    jw_kstr(&w, "kind", r->reasons[k].kind);
                    jw_kstr(&w, "message", r->reasons[k].message);
                    jw_end_obj(&w);
                }
                jw_end_arr(&w);
                jw_end_obj(&w);
            }
            jw_end_arr(&w);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_kstrlist(&w, "advice", &rep->advice);
        jw_end_obj(&w);
        int jrc = recout_print_json(cmd, &w);
        if (jrc)
            rc = jrc;
    } else {
        textout b;
        to_init(&b, 1u << 20);
        to_printf(&b, "%s: %s at level mta-sts\n  %s: %s%s%s\n", rep->domain,
                  mxtls_verdict_name(v->verdict), v->code, v->message, v->via ? " -- " : "",
                  v->via ? v->via : "");
        sts_report_text(&b, s);
        for (size_t i = 0; i < rep->nhosts; i++) {
            const check_host *h = rep->hosts[i];
            size_t which = 0;
            if (!mx)
                to_printf(&b, "MX %s\n", h->name);
            else if (mtasts_mx_match(mx, h->name, &which))
                to_printf(&b, "MX %s: covered by mx %s\n", h->name, mx->v[which]);
            else
                to_printf(&b, "MX %s: not covered by the policy\n", h->name);
            if (h->problem)
                to_printf(&b, "  %s\n", h->problem);
            for (size_t j = 0; j < h->naddrs; j++) {
                const mxtls_result *r = h->addrs[j]->results[li];
                if (!r)
                    continue;
                to_printf(&b, "  %s: %s\n", h->addrs[j]->ip, mxtls_verdict_name(r->verdict));
                for (size_t k = 0; k < r->nreasons; k++)
                    to_printf(&b, "    %s %s: %s\n",
                              !strcmp(r->reasons[k].kind, "decisive")  ? "*"
                              : !strcmp(r->reasons[k].kind, "warning") ? "!"
                                                                        : "i",
                              r->reasons[k].code, r->reasons[k].message);
            }
        }
        if (rep->advice.n) {
            to_puts(&b, "advice\n");
            for (size_t i = 0; i < rep->advice.n; i++)
                to_printf(&b, "  - %s\n", rep->advice.v[i]);
        }
        char *text = to_take(&b);
        if (!text)
            rc = cli_nomem(cmd);
        else
            fputs(text, stdout);
        free(text);
    }
    check_report_free(rep);
    mxtls_ctx_free(ctx);
    return rc;
}

typedef struct txt_run {
    dns_answer *ans;
} txt_run;

static void sts_live_txt_done(void *arg, dns_answer *a)
{
    ((txt_run *)arg)->ans = a;
}

int sts_live_txt(const char *cmd, const check_options *opt, const char *name,
                 struct recout_records *recs, char *status, size_t statuslen)
{
    err_rec e;
    err_clear(&e);
    txt_run run = {0};
    struct event_base *base = event_base_new();
    dns_resolver *res = base ? dns_resolver_new(base, &opt->dns, &e) : NULL;
    int rc = EXIT_TEMP;
    if (!res || dns_resolve(res, name, DNS_T_TXT, sts_live_txt_done, &run, &e) != 0) {
        fprintf(stderr, "mxtls %s: %s\n", cmd, e.message[0] ? e.message : "no event loop");
        goto out;
    }
    /* bounded: the resolver times every query out (DNS_DEFAULT_TIMEOUT_MS) */
    while (!run.ans)
        if (event_base_loop(base, EVLOOP_ONCE) < 0)
            break;
    if (!run.ans) {
        fprintf(stderr, "mxtls %s: the event loop failed\n", cmd);
        goto out;
    }
    snprintf(status, statuslen, "%s (%s)", dns_outcome_name(run.ans->outcome),
             dns_security_name(run.ans->security));
    if (run.ans->outcome == DNS_DATA || run.ans->outcome == DNS_NODATA ||
        run.ans->outcome == DNS_NXDOMAIN) {
        rc = 0;
        for (size_t i = 0; i < run.ans->n && rc == 0; i++)
            rc = recout_add_text(cmd, recs, run.ans->rr[i].text ? run.ans->rr[i].text : "");
    } else {
        fprintf(stderr, "mxtls %s: TXT %s: %s%s%s\n", cmd, name, status,
                run.ans->why ? ": " : "", run.ans->why ? run.ans->why : "");
    }
out:
    if (run.ans)
        dns_answer_free(run.ans);
    dns_resolver_free(res);
    if (base)
        event_base_free(base);
    return rc;
}
