/* summary.c - the headline of a check: what works and what does not */
#include "report/summary.h"

#include <stdio.h>
#include <string.h>

#include "core/ehlo.h"
#include "io/probe.h"

/* Every row: its name in the first line, its label in the block (which
 * senders it speaks for), its JSON key, and the levels it reads. */
static const struct {
    const char *name, *label, *key;
    mxtls_level levels[SUMMARY_MAX_LEVELS];
    size_t nlevels;
} summary_rows[SUMMARY_NROWS] = {
    [SUMMARY_TLS] = {"TLS", "TLS (may, encrypt)", "tls",
                     {MXTLS_LEVEL_MAY, MXTLS_LEVEL_ENCRYPT}, 2},
    [SUMMARY_PKIX] = {"PKIX senders", "PKIX (verify, secure, Cisco Verify)", "pkix",
                      {MXTLS_LEVEL_VERIFY, MXTLS_LEVEL_SECURE, MXTLS_LEVEL_ESA_REQUIRED_VERIFY,
                       MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED},
                      4},
    [SUMMARY_DANE] = {"DANE", "DANE (dane, dane-only)", "dane",
                      {MXTLS_LEVEL_DANE, MXTLS_LEVEL_DANE_ONLY}, 2},
    [SUMMARY_MTA_STS] = {"MTA-STS", "MTA-STS (mta-sts)", "mta_sts", {MXTLS_LEVEL_MTA_STS}, 1},
    [SUMMARY_REQUIRETLS] = {"REQUIRETLS", "REQUIRETLS (requiretls)", "requiretls",
                            {MXTLS_LEVEL_REQUIRETLS}, 1},
};

#define SUMMARY_COLUMNS 80

const char *summary_row_label(summary_row_id id) { return summary_rows[id].label; }
const char *summary_row_name(summary_row_id id) { return summary_rows[id].name; }
const char *summary_row_key(summary_row_id id) { return summary_rows[id].key; }

const char *summary_state_text(summary_state s)
{
    switch (s) {
    case SUMMARY_OK: return "ok";
    case SUMMARY_FAIL: return "FAIL";
    case SUMMARY_TEMPFAIL: return "TEMPFAIL";
    case SUMMARY_NOT_OFFERED: return "not offered";
    case SUMMARY_NOT_PUBLISHED: return "not published";
    case SUMMARY_NOT_ENFORCED: return "not enforced";
    case SUMMARY_NOT_CHECKED: return "not checked";
    }
    return "?";
}

const char *summary_state_name(summary_state s)
{
    switch (s) {
    case SUMMARY_OK: return "ok";
    case SUMMARY_FAIL: return "fail";
    case SUMMARY_TEMPFAIL: return "tempfail";
    case SUMMARY_NOT_OFFERED: return "not-offered";
    case SUMMARY_NOT_PUBLISHED: return "not-published";
    case SUMMARY_NOT_ENFORCED: return "not-enforced";
    case SUMMARY_NOT_CHECKED: return "not-checked";
    }
    return "?";
}

/* summary_levels - the row from its levels' domain verdicts: FAIL when one
 * fails, else TEMPFAIL when one defers, else OK; the reason is the
 * failing (deferring) level's code, or that of the most demanding (last)
 * level */
static void summary_levels(const check_report *rep, summary_row_id id, summary_row *row)
{
    const check_domain_verdict *last = NULL, *fail = NULL, *temp = NULL;
    memset(row, 0, sizeof *row);
    for (size_t i = 0; i < summary_rows[id].nlevels; i++) {
        const check_domain_verdict *v = check_report_verdict(rep, summary_rows[id].levels[i]);
        if (!v)
            continue;
        row->levels[row->nlevels++] = v->level;
        last = v;
        if (v->verdict == MXTLS_VERDICT_PASS)
            continue;
        row->failing[row->nfailing++] = v->level;
        if (v->verdict == MXTLS_VERDICT_FAIL && !fail)
            fail = v;
        else if (v->verdict == MXTLS_VERDICT_TEMPFAIL && !temp)
            temp = v;
    }
    if (!last) {
        row->state = SUMMARY_NOT_CHECKED;
        snprintf(row->reason, sizeof row->reason, "not-evaluated");
        return;
    }
    row->state = fail ? SUMMARY_FAIL : temp ? SUMMARY_TEMPFAIL : SUMMARY_OK;
    const char *code = fail ? fail->code : temp ? temp->code : last->code;
    snprintf(row->reason, sizeof row->reason, "%s", code ? code : "?");
}

/* summary_set - a state the levels' verdicts do not say by themselves */
static void summary_set(summary_row *row, summary_state state, const char *reason)
{
    row->state = state;
    snprintf(row->reason, sizeof row->reason, "%s", reason ? reason : "?");
    row->nfailing = 0;
}

/* The codes dane-only fails with when the domain publishes no DANE for the
 * host (core/policy.c policy_dane): not a failure of the domain. */
static int summary_dane_absent(const char *code)
{
    static const char *const absent[] = {"no-tlsa", "mx-insecure", "tlsa-insecure",
                                         "dane-not-applicable"};
    for (size_t i = 0; code && i < sizeof absent / sizeof absent[0]; i++)
        if (!strcmp(code, absent[i]))
            return 1;
    return 0;
}

/* summary_requiretls_offered - some address listed REQUIRETLS in its EHLO
 * reply over TLS on the connection the requiretls level was judged on */
static int summary_requiretls_offered(const check_report *rep)
{
    size_t li = rep->nlevels;
    for (size_t i = 0; i < rep->nlevels; i++)
        if (rep->levels[i] == MXTLS_LEVEL_REQUIRETLS)
            li = i;
    if (li == rep->nlevels)
        return 0;
    for (size_t i = 0; i < rep->nhosts; i++)
        for (size_t j = 0; j < rep->hosts[i]->naddrs; j++) {
            const check_conn *c = check_address_conn(rep->hosts[i]->addrs[j], li);
            const probe_report *p = c ? c->probe : NULL;
            if (p && p->tls_ok && strlist_contains(&p->smtp.post_tls.caps.keywords, "REQUIRETLS"))
                return 1;
        }
    return 0;
}

/* summary_mta_sts - the domain's MTA-STS policy as senders find it: a
 * policy in force decides by the mta-sts level; a TXT record without a
 * usable policy is a failure of the domain (senders go on as without
 * MTA-STS); no TXT record is no policy */
static void summary_mta_sts(const check_report *rep, summary_row *row)
{
    const sts_report *s = rep->sts;
    summary_levels(rep, SUMMARY_MTA_STS, row);
    if (row->state == SUMMARY_NOT_CHECKED)
        return;
    if (!s || !s->looked_up) {
        summary_set(row, SUMMARY_NOT_CHECKED, "not-looked-up");
        return;
    }
    if (s->apply != STS_APPLY_NONE) {
        if (s->mode != MTASTS_MODE_ENFORCE)
            summary_set(row, SUMMARY_NOT_ENFORCED, mtasts_mode_name(s->mode));
        else if (row->state == SUMMARY_OK)
            snprintf(row->reason, sizeof row->reason, "enforce");
        return;
    }
    if (s->txt_security == DNS_SEC_BOGUS) {
        summary_set(row, SUMMARY_TEMPFAIL, "dns-bogus");
        return;
    }
    if (s->txt_outcome != DNS_DATA && s->txt_outcome != DNS_NODATA &&
        s->txt_outcome != DNS_NXDOMAIN) {
        summary_set(row, SUMMARY_TEMPFAIL, "sts-txt-lookup-error");
        return;
    }
    int published = 0;
    for (size_t i = 0; i < s->txt_records.n; i++)
        published |= mtasts_txt_is_sts(s->txt_records.v[i], strlen(s->txt_records.v[i]));
    if (!published) {
        summary_set(row, SUMMARY_NOT_PUBLISHED, "no-policy");
        return;
    }
    if (!s->txt.valid) {
        summary_set(row, SUMMARY_FAIL, s->txt.errors.n ? s->txt.errors.v[0].rule : "txt-invalid");
        return;
    }
    /* A valid TXT record but no policy: say which step of the fetch failed. */
    if (s->body && !s->policy.valid) {
        summary_set(row, SUMMARY_FAIL,
                    s->policy.errors.n ? s->policy.errors.v[0].rule : "policy-invalid");
    } else if (s->http_status && s->http_status != 200) {
        char http[32];
        snprintf(http, sizeof http, "policy-http-%ld", s->http_status);
        summary_set(row, SUMMARY_FAIL, http);
    } else if (s->http_status == 200) {
        summary_set(row, SUMMARY_FAIL, "policy-media-type");
    } else {
        summary_set(row, SUMMARY_FAIL, "policy-fetch-failed");
    }
}

/* summary_names - ", "-separated names of the rows not yet done whose state
 * is `state` and, when reason is given, whose reason is `reason`; marks them
 * done. The number of rows named. */
static size_t summary_names(const check_summary *s, summary_state state, const char *reason,
                            int *done, char *out, size_t outsz)
{
    size_t n = 0, len = strlen(out);
    for (size_t j = 0; j < SUMMARY_NROWS && len < outsz; j++) {
        if (done[j] || s->rows[j].state != state || (reason && strcmp(s->rows[j].reason, reason)))
            continue;
        done[j] = 1;
        len += (size_t)snprintf(out + len, outsz - len, "%s%s", n++ ? ", " : "",
                                summary_rows[j].name);
    }
    return n;
}

/* summary_compose - the first line in one of its forms: "DOMAIN: " then TLS
 * not offered, the failures, the deferrals (grouped by reason when
 * detailed: "FAIL name-mismatch: PKIX senders"; by state otherwise: "FAIL:
 * PKIX senders, MTA-STS"), then what works ("OK: TLS") when with_ok */
static void summary_compose(const check_report *rep, check_summary *s, int detailed, int with_ok)
{
    char *h = s->headline;
    size_t hsz = sizeof s->headline, n;
    int done[SUMMARY_NROWS] = {0}, segs = 0;
    n = (size_t)snprintf(h, hsz, "%s:", rep->domain);
    if (s->rows[SUMMARY_TLS].state == SUMMARY_NOT_OFFERED && n < hsz) {
        n += (size_t)snprintf(h + n, hsz - n, " TLS not offered");
        done[SUMMARY_TLS] = 1;
        segs++;
    }
    static const summary_state bad[] = {SUMMARY_FAIL, SUMMARY_TEMPFAIL};
    for (size_t b = 0; b < 2; b++)
        for (size_t i = 0; i < SUMMARY_NROWS && n < hsz; i++) {
            if (done[i] || s->rows[i].state != bad[b])
                continue;
            char names[160] = "";
            const char *reason = detailed ? s->rows[i].reason : NULL;
            size_t k = summary_names(s, bad[b], reason, done, names, sizeof names);
            n += (size_t)snprintf(h + n, hsz - n, "%s %s%s%s: %s", segs++ ? ";" : "",
                                  summary_state_text(bad[b]), reason ? " " : "",
                                  reason ? reason : "", k == SUMMARY_NROWS ? "every sender" : names);
        }
    char names[160] = "";
    if (with_ok && summary_names(s, SUMMARY_OK, NULL, done, names, sizeof names) && n < hsz)
        n += (size_t)snprintf(h + n, hsz - n, "%s OK: %s", segs++ ? ";" : "", names);
    if (!segs && n < hsz)
        snprintf(h + n, hsz - n, " nothing was checked");
}

/* summary_headline - the most detailed form of the first line that fits in
 * 80 columns; the rows below it carry every detail left out */
static void summary_headline(const check_report *rep, check_summary *s)
{
    static const int forms[][2] = {{1, 1}, {1, 0}, {0, 1}, {0, 0}};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        summary_compose(rep, s, forms[f][0], forms[f][1]);
        /* ASCII only: an A-label domain, reason codes, row names */
        if (strlen(s->headline) <= SUMMARY_COLUMNS)
            return;
    }
}

void summary_of(const check_report *rep, mxtls_level level, check_summary *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < SUMMARY_NROWS; i++)
        summary_levels(rep, (summary_row_id)i, &out->rows[i]);

    summary_row *tls = &out->rows[SUMMARY_TLS];
    if (tls->state == SUMMARY_FAIL && !strcmp(tls->reason, "no-starttls"))
        summary_set(tls, SUMMARY_NOT_OFFERED, "no-starttls");

    summary_row *dane = &out->rows[SUMMARY_DANE];
    const check_domain_verdict *only = check_report_verdict(rep, MXTLS_LEVEL_DANE_ONLY);
    if (only && only->verdict == MXTLS_VERDICT_FAIL && summary_dane_absent(only->code))
        summary_set(dane, SUMMARY_NOT_PUBLISHED, only->code);

    summary_mta_sts(rep, &out->rows[SUMMARY_MTA_STS]);

    /* REQUIRETLS fails on the extension or the authentication; when no
     * server lists the extension, that is what the operator can offer.
     * Other failures (null MX, ...) are the domain's, as for every row. */
    summary_row *rtls = &out->rows[SUMMARY_REQUIRETLS];
    if (rtls->state == SUMMARY_FAIL && !strncmp(rtls->reason, "requiretls-", 11) &&
        !summary_requiretls_offered(rep))
        summary_set(rtls, SUMMARY_NOT_OFFERED, "requiretls-not-advertised");

    const check_domain_verdict *sel =
        check_report_verdict(rep, level == MXTLS_LEVEL_INVALID ? rep->auto_level : level);
    out->level = sel ? sel->level : rep->auto_level;
    out->verdict = sel ? sel->verdict : MXTLS_VERDICT_TEMPFAIL;
    /* the exit codes of docs/cli.md, as cli_exit_for_verdict gives them */
    out->exit_code = out->verdict == MXTLS_VERDICT_PASS ? 0 : out->verdict == MXTLS_VERDICT_FAIL ? 1 : 3;
    summary_headline(rep, out);
}

static const char *summary_color(summary_state s, int color)
{
    if (!color)
        return "";
    return s == SUMMARY_OK ? "\033[32m" : s == SUMMARY_FAIL ? "\033[31m"
                                     : s == SUMMARY_TEMPFAIL ? "\033[33m" : "";
}

void summary_text(textout *t, const check_summary *s, int color)
{
    to_put_display(t, s->headline);
    to_puts(t, "\n");
    for (size_t i = 0; i < SUMMARY_NROWS; i++) {
        const summary_row *r = &s->rows[i];
        char line[200];
        size_t n = (size_t)snprintf(line, sizeof line, "  %-35s %-13s %s", summary_rows[i].label,
                                    summary_state_text(r->state), r->reason);
        /* Some of the row's levels fail: name them if the line has room. */
        char which[120] = "";
        if (r->nfailing && r->nfailing < r->nlevels) {
            size_t w = (size_t)snprintf(which, sizeof which, " (");
            for (size_t k = 0; k < r->nfailing && w < sizeof which; k++)
                w += (size_t)snprintf(which + w, sizeof which - w, "%s%s", k ? ", " : "",
                                      mxtls_level_name(r->failing[k]));
            if (w < sizeof which)
                snprintf(which + w, sizeof which - w, ")");
            if (n + strlen(which) > SUMMARY_COLUMNS)
                snprintf(which, sizeof which, " (%zu of %zu)", r->nfailing, r->nlevels);
        }
        to_printf(t, "  %-35s %s%-13s%s %s%s\n", summary_rows[i].label,
                  summary_color(r->state, color), summary_state_text(r->state),
                  color ? "\033[0m" : "", r->reason, which);
    }
}

void summary_json(jsonw *w, const check_summary *s)
{
    jw_obj(w);
    jw_kstr(w, "headline", s->headline);
    for (size_t i = 0; i < SUMMARY_NROWS; i++) {
        const summary_row *r = &s->rows[i];
        jw_key(w, summary_rows[i].key);
        jw_obj(w);
        jw_kstr(w, "state", summary_state_name(r->state));
        jw_kstr(w, "reason", r->reason);
        jw_key(w, "levels");
        jw_arr(w);
        for (size_t k = 0; k < r->nlevels; k++)
            jw_str(w, mxtls_level_name(r->levels[k]));
        jw_end_arr(w);
        jw_key(w, "failing");
        jw_arr(w);
        for (size_t k = 0; k < r->nfailing; k++)
            jw_str(w, mxtls_level_name(r->failing[k]));
        jw_end_arr(w);
        jw_end_obj(w);
    }
    jw_kstr(w, "level", mxtls_level_name(s->level));
    jw_kstr(w, "verdict", mxtls_verdict_name(s->verdict));
    jw_kint(w, "exit_code", s->exit_code);
    jw_end_obj(w);
}
