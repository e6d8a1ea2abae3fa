/* tlsa_report.c - TLSA records and TLSA checks as text and JSON (docs/tlsa.md) */
#include "report/tlsa_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "core/base.h"
#include "report/jsonw.h"
#include "report/textout.h"

#define TLSA_REPORT_MAX (16u << 20)

/* ---- gen -------------------------------------------------------------- */

/* tlsa_subject - the certificate's subject, RFC 2253 style; caller frees */
static char *tlsa_subject(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    char *s = NULL;
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data = NULL;
        long n = BIO_get_mem_data(b, &data);
        s = n >= 0 ? xstrndup(n ? data : "", (size_t)n) : NULL;
    }
    BIO_free(b);
    return s;
}

/* gen_same - two records with identical fields and data */
static int gen_same(const dane_rr *a, const dane_rr *b)
{
    return a->usage == b->usage && a->selector == b->selector && a->mtype == b->mtype &&
           a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

char *tlsa_report_gen_text(const tlsa_gen_report *g)
{
    textout o;
    to_init(&o, TLSA_REPORT_MAX);
    to_printf(&o, "; \"3 1 1\" (DANE-EE, public key, SHA-256) matches the server's key rather than "
             "its certificate, so it survives every renewal that keeps the key.\n");
    if (g->selector == 0)
        to_printf(&o, "; warning: \"x 0 x\" records match the whole certificate and break on every "
                 "renewal, even one that keeps the key; prefer selector 1.\n");
    if (g->host_derived)
        to_printf(&o, "; host %s: the first DNS name of %s (--host sets another)\n", g->host,
             g->items[0].file);
    if (g->nitems > 1)
        to_printf(&o, "; rollover: publish all these records now, wait at least 2 x TTL, switch the "
                 "server to the next certificate, then remove the current records.\n");
    for (size_t i = 0; i < g->nitems; i++) {
        const tlsa_gen_item *it = &g->items[i];
        if (g->nitems > 1)
            to_printf(&o, "; %s: %s\n", i == 0 ? "current" : "next", it->file);
        if (g->usage == 2) {
            char *subj = tlsa_subject(it->ta);
            if (!subj)
                to_fail(&o);
            to_printf(&o, "; DANE-TA: the CA \"%s\" (certificate %d of %s%s); the server must send it "
                     "in its chain (RFC 7672 §3.1.2).\n",
                 subj ? subj : "?", it->index + 1, it->file,
                 it->index == 0 ? ", itself a CA certificate" : ", the issuer of the leaf");
            free(subj);
        }
        int dup = -1;
        for (size_t j = 0; j < i && dup < 0; j++)
            if (gen_same(g->items[j].rr, it->rr))
                dup = (int)j;
        if (dup >= 0) {
            to_printf(&o, "; (same record as for %s: printed once)\n", g->items[dup].file);
            continue;
        }
        char *t = dane_rr_text(it->rr);
        if (!t)
            to_fail(&o);
        if (g->ttl >= 0)
            to_printf(&o, "%s %ld IN TLSA %s\n", g->owner, g->ttl, t ? t : "?");
        else
            to_printf(&o, "%s IN TLSA %s\n", g->owner, t ? t : "?");
        free(t);
    }
    return to_take(&o);
}

/* ---- check: text ------------------------------------------------------ */

/* cell_text - one record against one address, in a few words */
static void cell_text(textout *o, const dane_result *d, int raw_depth, int unusable)
{
    if (unusable) {
        if (raw_depth >= 0)
            to_printf(o, "unusable, though its data equals the certificate at depth %d",
                      raw_depth);
        else
            to_printf(o, "unusable; its data matches no certificate sent");
    } else if (d->authenticated) {
        to_printf(o, "matches the certificate at depth %d (%s)", d->match_depth, d->code);
    } else if (!strcmp(d->code, "tlsa-mismatch")) {
        to_printf(o, "no match");
    } else {
        to_printf(o, "%s: %s", d->code, d->message);
    }
}

/* tlsa_short - "3 1 1 0a1b2c..." for display: digests (up to SHA-512) in
 * full, longer full data cut after 32 bytes (JSON has it all) */
static char *tlsa_short(const dane_rr *rr)
{
    char *t = dane_rr_text(rr);
    if (t && rr->len > 64) {
        /* the text is "U S M " + 2 * len hex digits: room for the note */
        char *hex = t + strlen(t) - 2 * rr->len;
        snprintf(hex + 64, 2 * rr->len - 64 + 1, "... (%zu bytes)", rr->len);
    }
    return t;
}

/* mx_unfinished - the deadline stopped the MX lookup: check_report keeps the
 * zeroed outcome ("data, secure") then, which must not be shown */
static int mx_unfinished(const check_report *rep)
{
    return !rep->routed && rep->timed_out && rep->nhosts == 0 && !rep->null_mx &&
           rep->mx_outcome == DNS_DATA;
}

char *tlsa_report_check_text(const tlsa_check_result *r, const char *name)
{
    const check_report *rep = r->rep;
    textout o;
    to_init(&o, TLSA_REPORT_MAX);
    to_printf(&o, "tlsa check %s port %u\n", name, rep->port);
    if (rep->routed)
        to_printf(&o, "MX: not looked up\n");
    else if (mx_unfinished(rep))
        to_printf(&o, "MX: no answer before the deadline\n");
    else if (rep->null_mx)
        to_printf(&o, "MX: null MX (RFC 7505), %s\n", dns_security_name(rep->mx_security));
    else if (rep->implicit_mx)
        to_printf(&o, "MX: none, %s is its own mail host (implicit MX), %s\n", rep->domain,
                  dns_security_name(rep->mx_security));
    else
        to_printf(&o, "MX: %s, %s%s%s\n", dns_outcome_name(rep->mx_outcome),
                  dns_security_name(rep->mx_security), rep->mx_why ? ": " : "",
                  rep->mx_why ? rep->mx_why : "");
    for (size_t i = 0; i < r->nhosts; i++) {
        const tlsa_host_result *hr = &r->hosts[i];
        const check_host *h = hr->host;
        to_printf(&o, "host %s\n", h->name);
        if (h->problem)
            to_printf(&o, "  %s\n", h->problem);
        mxtls_tlsa_state st = h->tlsa_started ? h->tlsa_state : MXTLS_TLSA_NOT_LOOKED_UP;
        to_printf(&o, "  TLSA %s: %s", hr->owner, mxtls_tlsa_state_name(st));
        if (hr->ttl != TLSA_TTL_UNKNOWN)
            to_printf(&o, ", TTL %ld", hr->ttl);
        if (h->ntlsa)
            to_printf(&o, ", %zu record%s (%zu usable)", h->ntlsa, h->ntlsa == 1 ? "" : "s",
                      hr->usable);
        if (h->tlsa_why)
            to_printf(&o, ": %s", h->tlsa_why);
        to_printf(&o, "\n");
        for (size_t k = 0; k < h->ntlsa; k++) {
            const dane_rr *rr = &h->tlsa[k];
            const char *why = dane_rr_unusable_why(rr);
            char *t = tlsa_short(rr);
            if (!t)
                to_fail(&o);
            to_printf(&o, "    [%zu] %s\n", k + 1, t ? t : "?");
            free(t);
            to_printf(&o, "        %s, %s%s\n", dane_usage_name(rr->usage),
                      why ? "unusable: " : "usable", why ? why : "");
            for (size_t j = 0; j < h->naddrs; j++) {
                const tlsa_addr_result *ar = &hr->addrs[j];
                to_printf(&o, "        %s: ", ar->addr->ip);
                if (ar->per_rr)
                    cell_text(&o, &ar->per_rr[k], ar->raw_depth[k], why != NULL);
                else
                    to_printf(&o, "%s%s%s", ar->state, ar->note[0] ? ": " : "", ar->note);
                to_printf(&o, "\n");
            }
        }
        if (hr->published) {
            to_printf(&o, "  now:\n");
            for (size_t j = 0; j < h->naddrs; j++) {
                const tlsa_addr_result *ar = &hr->addrs[j];
                if (!strcmp(ar->state, "authenticated"))
                    to_printf(&o, "    %s: authenticated by [%d] (%s, depth %d)\n", ar->addr->ip,
                              ar->all.match_index + 1, ar->all.code, ar->all.match_depth);
                else if (!strcmp(ar->state, "fails"))
                    to_printf(&o, "    %s: FAILS %s: %s\n", ar->addr->ip, ar->all.code,
                              ar->all.message);
                else if (!strcmp(ar->state, "no-tls"))
                    to_printf(&o, "    %s: FAILS no-tls: %s; with secure TLSA records senders "
                                  "require TLS\n",
                              ar->addr->ip, ar->note);
                else
                    to_printf(&o, "    %s: %s: %s\n", ar->addr->ip, ar->state, ar->note);
            }
        }
        if (hr->nplans)
            to_printf(&o, "  planned:\n");
        for (size_t p = 0; p < hr->nplans; p++) {
            const tlsa_plan_result *pr = &hr->plans[p];
            if (!strcmp(pr->verdict, "safe"))
                to_printf(&o, "    %s: safe to deploy: %s\n", pr->plan->file, pr->r.message);
            else if (!strcmp(pr->verdict, "will-break"))
                to_printf(&o, "    %s: WILL BREAK DANE: %s: %s\n", pr->plan->file, pr->r.code,
                          pr->r.message);
            else
                to_printf(&o, "    %s: not applicable: %s\n", pr->plan->file, pr->note);
            for (size_t k = 0; k < pr->publish.n; k++)
                to_printf(&o, "      publish first: %s. IN TLSA %s\n", hr->owner,
                          pr->publish.v[k]);
        }
    }
    if (rep->hosts_dropped)
        to_printf(&o, "(%zu more MX hosts not checked)\n", rep->hosts_dropped);
    if (r->nwarnings) {
        to_printf(&o, "warnings:\n");
        for (size_t i = 0; i < r->nwarnings; i++)
            to_printf(&o, "  %s: %s\n", r->warnings[i].code, r->warnings[i].message);
    }
    to_printf(&o, "result: %s: %s\n", tlsa_status_name(r->status), r->summary);
    return to_take(&o);
}

/* ---- check: JSON ------------------------------------------------------ */

static void json_dane(jsonw *w, const dane_result *d)
{
    jw_kbool(w, "authenticated", d->authenticated);
    jw_kstr(w, "code", d->code);
    jw_key(w, "match_index");
    if (d->match_index >= 0)
        jw_int(w, d->match_index);
    else
        jw_null(w);
    jw_key(w, "match_depth");
    if (d->match_depth >= 0)
        jw_int(w, d->match_depth);
    else
        jw_null(w);
    jw_kstr(w, "message", d->message);
}

char *tlsa_report_check_json(const tlsa_check_result *r, const char *name)
{
    const check_report *rep = r->rep;
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "name", name);
    jw_kstr(&w, "domain", rep->domain);
    jw_kint(&w, "port", rep->port);
    jw_key(&w, "mx");
    jw_obj(&w);
    int unfinished = mx_unfinished(rep);
    jw_kstr(&w, "outcome", unfinished ? "timeout" : dns_outcome_name(rep->mx_outcome));
    jw_kstr(&w, "security", dns_security_name(unfinished ? DNS_SEC_INDETERMINATE
                                                         : rep->mx_security));
    jw_kstr(&w, "why", rep->mx_why);
    jw_kbool(&w, "null_mx", rep->null_mx);
    jw_kbool(&w, "implicit_mx", rep->implicit_mx);
    jw_end_obj(&w);
    jw_key(&w, "hosts");
    jw_arr(&w);
    for (size_t i = 0; i < r->nhosts; i++) {
        const tlsa_host_result *hr = &r->hosts[i];
        const check_host *h = hr->host;
        jw_obj(&w);
        jw_kstr(&w, "name", h->name);
        jw_kstr(&w, "problem", h->problem);
        jw_key(&w, "tlsa");
        jw_obj(&w);
        jw_kstr(&w, "owner", hr->owner);
        jw_kstr(&w, "state", mxtls_tlsa_state_name(h->tlsa_started ? h->tlsa_state
                                                                  : MXTLS_TLSA_NOT_LOOKED_UP));
        jw_kstr(&w, "why", h->tlsa_why);
        jw_key(&w, "ttl");
        if (hr->ttl != TLSA_TTL_UNKNOWN)
            jw_int(&w, hr->ttl);
        else
            jw_null(&w);
        jw_kbool(&w, "published", hr->published);
        jw_kint(&w, "usable", (long long)hr->usable);
        jw_key(&w, "records");
        jw_arr(&w);
        for (size_t k = 0; k < h->ntlsa; k++) {
            const dane_rr *rr = &h->tlsa[k];
            char *t = dane_rr_text(rr);
            if (!t)
                w.failed = 1;
            jw_obj(&w);
            jw_kstr(&w, "record", t);
            free(t);
            jw_kstr(&w, "usage", dane_usage_name(rr->usage));
            jw_kstr(&w, "unusable", dane_rr_unusable_why(rr));
            jw_key(&w, "addresses");
            jw_arr(&w);
            for (size_t j = 0; j < h->naddrs; j++) {
                const tlsa_addr_result *ar = &hr->addrs[j];
                jw_obj(&w);
                jw_kstr(&w, "ip", ar->addr->ip);
                jw_kbool(&w, "checked", ar->per_rr != NULL);
                if (ar->per_rr) {
                    json_dane(&w, &ar->per_rr[k]);
                    jw_key(&w, "data_depth");
                    if (ar->raw_depth[k] >= 0)
                        jw_int(&w, ar->raw_depth[k]);
                    else
                        jw_null(&w);
                }
                jw_end_obj(&w);
            }
            jw_end_arr(&w);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_end_obj(&w);
        jw_key(&w, "addresses");
        jw_arr(&w);
        for (size_t j = 0; j < h->naddrs; j++) {
            const tlsa_addr_result *ar = &hr->addrs[j];
            jw_obj(&w);
            jw_kstr(&w, "ip", ar->addr->ip);
            jw_kstr(&w, "state", ar->state);
            jw_kstr(&w, "note", ar->note[0] ? ar->note : NULL);
            if (ar->per_rr) {
                jw_key(&w, "rrset");
                jw_obj(&w);
                json_dane(&w, &ar->all);
                jw_end_obj(&w);
            }
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_key(&w, "planned");
        jw_arr(&w);
        for (size_t p = 0; p < hr->nplans; p++) {
            const tlsa_plan_result *pr = &hr->plans[p];
            jw_obj(&w);
            jw_kstr(&w, "option", pr->plan->option);
            jw_kstr(&w, "file", pr->plan->file);
            jw_kstr(&w, "verdict", pr->verdict);
            if (strcmp(pr->verdict, "not-applicable") != 0)
                json_dane(&w, &pr->r);
            else
                jw_kstr(&w, "note", pr->note);
            jw_key(&w, "publish");
            jw_arr(&w);
            for (size_t k = 0; k < pr->publish.n; k++)
                jw_str(&w, pr->publish.v[k]);
            jw_end_arr(&w);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_key(&w, "warnings");
    jw_arr(&w);
    for (size_t i = 0; i < r->nwarnings; i++) {
        jw_obj(&w);
        jw_kstr(&w, "code", r->warnings[i].code);
        jw_kstr(&w, "host", r->warnings[i].host);
        jw_kstr(&w, "message", r->warnings[i].message);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_key(&w, "result");
    jw_obj(&w);
    jw_kstr(&w, "status", tlsa_status_name(r->status));
    jw_kstr(&w, "message", r->summary);
    jw_end_obj(&w);
    jw_end_obj(&w);
    return jw_finish(&w);
}

