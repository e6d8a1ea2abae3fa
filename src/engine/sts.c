/* sts.c - MTA-STS and TLSRPT lookups of a live check (engine/sts.h)
 *
 * Steps, each a pending step of the check (check_ext_*):
 *   TXT _mta-sts.DOMAIN  -> exactly one valid record (mtasts_txt_select)
 *   cache (--sts-cache)  -> refetch? (stscache_needs_refetch)
 *   A/AAAA mta-sts.DOMAIN through the check's validating resolver
 *   GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt at that address:
 *       PKIX against the check's trust store, name mta-sts.DOMAIN, no
 *       redirects (RFC 8461 §3.3), 200 and text/plain required, at most
 *       MTASTS_POLICY_MAX bytes, bounded by the phase timeout
 *   TXT _smtp._tls.DOMAIN -> tlsrpt_select
 * The check's deadline drops whatever has not answered. */
#include "engine/sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/dane.h"
#include "core/names.h"
#include "engine/check.h"
#include "io/https.h"

/* sts_dup - a copy of text; out of memory ends the check (check_ext_nomem) */
static char *sts_dup(sts_report *s, const char *text)
{
    char *d = strdup(text);
    if (!d)
        check_ext_nomem(s->check);
    return d;
}

/* sts_collect - the TXT RRset as strings, escaped for display */
static void sts_collect(sts_report *s, const dns_answer *ans, strlist *out, const char **recs,
                        size_t *lens, size_t *n, size_t cap)
{
    *n = 0;
    for (size_t i = 0; i < ans->n && *n < cap; i++) {
        const char *t = ans->rr[i].text ? ans->rr[i].text : "";
        char *shown = names_escape((const unsigned char *)t, strlen(t));
        if (!shown || strlist_add(out, shown) != MXTLS_OK)
            check_ext_nomem(s->check);
        free(shown);
        recs[*n] = t;
        lens[*n] = strlen(t);
        (*n)++;
    }
}

static void sts_fetch_start(sts_report *s, const char *ip);

static void sts_fetch_cancelled(void *arg)
{
    /* the check is over (deadline): its report keeps the preset error */
    (void)arg;
}

/* sts_media_ok - "text/plain", parameters allowed (RFC 8461 §3.3) */
static int sts_media_ok(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, "text/plain", 10))
        return 0;
    return ct[10] == '\0' || ct[10] == ';' || ct[10] == ' ';
}

static void sts_fetch_done(void *arg, https_response *r)
{
    sts_report *s = arg;
    char buf[700];
    free(s->fetch_error);
    s->fetch_error = NULL;
    s->http_status = r->status;
    if (r->nomem)
        check_ext_nomem(s->check);
    if (r->content_type)
        s->media_type = sts_dup(s, r->content_type);
    if (r->cert)
        s->cert = sts_dup(s, r->cert);
    if (!r->ok) {
        snprintf(buf, sizeof buf, "the policy fetch failed: %s", r->error ? r->error : "?");
        s->fetch_error = sts_dup(s, buf);
    } else if (r->status != 200) {
        /* Redirects are not followed (RFC 8461 §3.3): a 3xx is no policy. */
        snprintf(buf, sizeof buf, "HTTP status %ld%s (a policy needs 200%s)", r->status,
                 r->status >= 300 && r->status < 400 ? ", a redirect" : "",
                 r->status >= 300 && r->status < 400 ? "; redirects are not followed, "
                                                       "RFC 8461 §3.3"
                                                     : "");
        s->fetch_error = sts_dup(s, buf);
    } else if (!sts_media_ok(r->content_type)) {
        snprintf(buf, sizeof buf, "media type \"%.200s\": a policy must be served as "
                 "text/plain (RFC 8461 §3.2)", r->content_type ? r->content_type : "(none)");
        s->fetch_error = sts_dup(s, buf);
    } else {
        s->body = (char *)r->body;
        s->body_len = r->body_len;
        r->body = NULL;
        if (mtasts_policy_parse(s->body, s->body_len, &s->policy) != MXTLS_OK)
            check_ext_nomem(s->check);
        if (s->policy.valid) {
            s->fetch_ok = 1;
        } else {
            const recerr *e = s->policy.errors.n ? &s->policy.errors.v[0] : NULL;
            snprintf(buf, sizeof buf, "the policy is not valid: %s%s%s",
                     e ? e->rule : "?", e ? ": " : "", e ? e->message : "");
            s->fetch_error = sts_dup(s, buf);
        }
    }
    https_response_free(r);
    if (s->fetch_ok && s->cache_open) {
        err_rec e;
        err_clear(&e);
        stscache *sc = NULL;
        if (stscache_open(s->cache_path, &sc, &e) == MXTLS_OK &&
            stscache_put(sc, s->domain, s->body, s->body_len,
                         s->txt.valid ? s->txt.id : s->cached.txt_id, s->now, &e) == MXTLS_OK)
            s->cache_stored = 1;
        else if (!s->cache_error)
            s->cache_error = sts_dup(s, e.message);
        stscache_close(sc);
    }
    check_ext_release(s->check);
}

static void sts_addr_done(void *arg, dns_answer *ans)
{
    sts_report *s = arg;
    if (ans->outcome == DNS_DATA && ans->n) {
        sts_fetch_start(s, ans->rr[0].text);
    } else if (s->family == 4 && ans->outcome == DNS_NODATA) {
        s->family = 6;
        if (check_ext_lookup(s->check, s->policy_host, DNS_T_AAAA, sts_addr_done, s) != 0) {
            free(s->fetch_error);
            s->fetch_error = sts_dup(s, "the address lookup of the policy host could not start");
        }
    } else {
        char buf[400];
        snprintf(buf, sizeof buf, "%s has no usable address: %s %s (%s)", s->policy_host,
                 s->family == 4 ? "A" : "AAAA", dns_outcome_name(ans->outcome),
                 dns_security_name(ans->security));
        free(s->fetch_error);
        s->fetch_error = sts_dup(s, buf);
    }
    dns_answer_free(ans);
}

static void sts_fetch_start(sts_report *s, const char *ip)
{
    char resolve[MXTLS_MAX_NAME + 80];
    int v6 = strchr(ip, ':') != NULL;
    snprintf(resolve, sizeof resolve, "%s:443:%s%s%s", s->policy_host, v6 ? "[" : "", ip,
             v6 ? "]" : "");
    s->address = sts_dup(s, ip);
    https_request req = {0};
    req.url = s->url;
    req.max_body = MTASTS_POLICY_MAX;
    req.timeout_ms = s->timeout_ms;
    req.ca_file = s->ca_file;
    req.ca_path = s->ca_path;
    req.trust = check_ext_https_trust(s->check);
    req.follow_redirects = 0;
    req.resolve = resolve;
    req.want_certinfo = 1;
    req.cancelled = sts_fetch_cancelled;
    https_client *hc = check_ext_https(s->check);
    err_rec e;
    err_clear(&e);
    free(s->fetch_error);
    s->fetch_error = sts_dup(s, "no policy before the check's deadline");
    if (hc && https_fetch(hc, &req, sts_fetch_done, s, &e) == 0) {
        check_ext_hold(s->check);
    } else {
        if (e.code == MXTLS_ERR_NOMEM || e.code == MXTLS_ERR_RESOURCE)
            check_ext_nomem(s->check); /* this machine's failure, not the policy host's */
        free(s->fetch_error);
        s->fetch_error = sts_dup(s, e.message[0] ? e.message : "the policy fetch could not start");
    }
}

static void sts_txt_done(void *arg, dns_answer *ans)
{
    sts_report *s = arg;
    s->txt_outcome = ans->outcome;
    s->txt_security = ans->security;
    const char *recs[DNS_MAX_RECORDS];
    size_t lens[DNS_MAX_RECORDS], n = 0;
    if (ans->outcome == DNS_DATA)
        sts_collect(s, ans, &s->txt_records, recs, lens, &n, DNS_MAX_RECORDS);
    mtasts_txt_free(&s->txt);
    if (mtasts_txt_select(recs, lens, n, &s->txt, NULL) != MXTLS_OK)
        check_ext_nomem(s->check);
    dns_answer_free(ans);
    /* A failed TXT lookup is no record: a cached policy stays (§5.1). */
    const char *id = s->txt.valid ? s->txt.id : NULL;
    if (s->cache_open)
        s->refetch = stscache_needs_refetch(s->cache_state == STSCACHE_MISS ? NULL : &s->cached,
                                            id, s->now);
    else
        s->refetch = id ? STS_REFETCH_NOT_CACHED : STS_REFETCH_NO;
    if (s->refetch != STS_REFETCH_NO) {
        s->fetch_tried = 1;
        free(s->fetch_error);
        s->fetch_error = sts_dup(s, "no address for the policy host before the check's deadline");
        s->family = 4;
        if (check_ext_lookup(s->check, s->policy_host, DNS_T_A, sts_addr_done, s) != 0) {
            free(s->fetch_error);
            s->fetch_error = sts_dup(s, "the address lookup of the policy host could not start");
        }
    }
}

static void sts_rpt_done(void *arg, dns_answer *ans)
{
    sts_report *s = arg;
    s->rpt_done = 1;
    s->rpt_outcome = ans->outcome;
    s->rpt_security = ans->security;
    const char *recs[DNS_MAX_RECORDS];
    size_t lens[DNS_MAX_RECORDS], n = 0;
    if (ans->outcome == DNS_DATA)
        sts_collect(s, ans, &s->rpt_records, recs, lens, &n, DNS_MAX_RECORDS);
    tlsrpt_free(&s->rpt);
    if (tlsrpt_select(recs, lens, n, &s->rpt, NULL) != MXTLS_OK)
        check_ext_nomem(s->check);
    dns_answer_free(ans);
}

sts_report *sts_new(struct mxtls_check *c, const sts_params *p)
{
    sts_report *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->looked_up = 1;
    s->now = p->now;
    s->txt_outcome = s->rpt_outcome = DNS_TIMEOUT; /* until an answer says otherwise */
    s->txt_security = s->rpt_security = DNS_SEC_INDETERMINATE;
    char host[MXTLS_MAX_NAME + 32], url[MXTLS_MAX_NAME + 64];
    snprintf(host, sizeof host, "mta-sts.%s", p->domain);
    snprintf(url, sizeof url, "https://%s/.well-known/mta-sts.txt", host);
    s->check = c;
    s->timeout_ms = p->timeout_ms;
    s->policy_host = strdup(host);
    s->url = strdup(url);
    s->domain = strdup(p->domain);
    s->ca_file = p->ca_file ? strdup(p->ca_file) : NULL;
    s->ca_path = p->ca_path ? strdup(p->ca_path) : NULL;
    if (!s->policy_host || !s->url || !s->domain || (p->ca_file && !s->ca_file) ||
        (p->ca_path && !s->ca_path)) {
        sts_report_free(s);
        return NULL;
    }
    if (p->cache_path) {
        if (!(s->cache_path = strdup(p->cache_path))) {
            sts_report_free(s);
            return NULL;
        }
        stscache *sc = NULL;
        err_rec e;
        err_clear(&e);
        if (stscache_open(p->cache_path, &sc, &e) == MXTLS_OK &&
            stscache_get(sc, p->domain, s->now, &s->cached, &s->cache_state, &e) == MXTLS_OK)
            s->cache_open = 1;
        else
            s->cache_error = sts_dup(s, e.message);
        stscache_close(sc);
    }
    return s;
}

void sts_lookup(sts_report *s)
{
    if (!s || s->lookups_started)
        return;
    s->lookups_started = 1;
    char q[MXTLS_MAX_NAME + 32];
    snprintf(q, sizeof q, "_mta-sts.%s", s->domain);
    if (check_ext_lookup(s->check, q, DNS_T_TXT, sts_txt_done, s) != 0)
        s->txt_outcome = DNS_ERROR;
    snprintf(q, sizeof q, "_smtp._tls.%s", s->domain);
    if (check_ext_lookup(s->check, q, DNS_T_TXT, sts_rpt_done, s) != 0)
        s->rpt_outcome = DNS_ERROR;
}

mxtls_status sts_conclude(sts_report *s, struct mxtls_report *rep)
{
    if (!s || s->concluded)
        return MXTLS_OK;
    s->concluded = 1;
    sts_fetch outcome = !s->fetch_tried ? STS_FETCH_NOT_TRIED
                        : s->fetch_ok   ? STS_FETCH_OK
                                        : STS_FETCH_FAILED;
    const stscache_entry *cached =
        s->cache_open && s->cache_state != STSCACHE_MISS ? &s->cached : NULL;
    s->apply = stscache_decide(cached, outcome, s->now);
    if (s->apply == STS_APPLY_FETCHED) {
        s->applied_text = s->body;
        s->applied_len = s->body_len;
        s->mode = s->policy.mode;
        s->max_age = s->policy.max_age;
    } else if (s->apply == STS_APPLY_CACHED) {
        s->applied_text = s->cached.policy;
        s->applied_len = s->cached.policy_len;
        s->mode = s->cached.mode;
        s->max_age = s->cached.max_age;
    }
    if (!rep)
        return MXTLS_OK;
    mxtls_status st = MXTLS_OK;
    /* RFC 8460 §1: without TLSRPT, the senders that fail to deliver because
     * of MTA-STS or DANE have nobody to tell. */
    int dane = 0;
    for (size_t i = 0; i < rep->nhosts; i++)
        dane |= rep->hosts[i]->tlsa_state == MXTLS_TLSA_SECURE && rep->hosts[i]->ntlsa;
    int sts = s->txt.valid || s->apply != STS_APPLY_NONE;
    char buf[900];
    if (s->rpt_done && !s->rpt.valid && (sts || dane)) {
        const recerr *e = s->rpt.errors.n ? &s->rpt.errors.v[0] : NULL;
        int missing = s->rpt_outcome != DNS_DATA || (e && !strcmp(e->rule, "tlsrpt-none"));
        snprintf(buf, sizeof buf,
                 "%s publishes %s%s%s but %s TLSRPT record at _smtp._tls.%s%s%s: publish one "
                 "(e.g. \"v=TLSRPTv1; rua=mailto:tlsrpt@%s\") so that senders report the "
                 "TLS failures that %s makes them refuse delivery over (RFC 8460 §1, §3).",
                 rep->domain, sts ? "MTA-STS" : "", sts && dane ? " and " : "",
                 dane ? "DANE" : "", missing ? "no" : "no valid", rep->domain,
                 missing ? "" : ": ", missing ? "" : (e ? e->message : "?"), rep->domain,
                 sts && dane ? "these policies" : "this policy");
        if (strlist_add_unique(&rep->advice, buf) != MXTLS_OK)
            st = MXTLS_ERR_NOMEM;
    }
    if (s->fetch_tried && !s->fetch_ok && s->txt.valid) {
        snprintf(buf, sizeof buf,
                 "%s publishes an MTA-STS TXT record (id %s) but no policy could be fetched from "
                 "%s (%s): senders without a cached policy deliver as if there were none.",
                 rep->domain, s->txt.id, s->url, s->fetch_error ? s->fetch_error : "?");
        if (strlist_add_unique(&rep->advice, buf) != MXTLS_OK)
            st = MXTLS_ERR_NOMEM;
    }
    return st;
}

int sts_enforced(const sts_report *s)
{
    return s && s->concluded && s->apply != STS_APPLY_NONE && s->mode == MTASTS_MODE_ENFORCE;
}

mxtls_status sts_evidence(sts_report *s, mxtls_ctx *ctx, mxtls_evidence *ev)
{
    if (!s)
        return MXTLS_OK;
    sts_conclude(s, NULL);
    if (s->apply == STS_APPLY_NONE || !s->applied_text)
        return MXTLS_OK;
    return mxtls_evidence_set_sts_policy(ctx, ev, s->applied_text, s->applied_len,
                                         sts_apply_name(s->apply));
}

void sts_report_free(sts_report *s)
{
    if (!s)
        return;
    strlist_free(&s->txt_records);
    mtasts_txt_free(&s->txt);
    free(s->policy_host);
    free(s->url);
    free(s->domain);
    free(s->ca_file);
    free(s->ca_path);
    free(s->address);
    free(s->media_type);
    free(s->cert);
    free(s->fetch_error);
    free(s->body);
    mtasts_policy_free(&s->policy);
    free(s->cache_path);
    free(s->cache_error);
    stscache_entry_free(&s->cached);
    strlist_free(&s->rpt_records);
    tlsrpt_free(&s->rpt);
    free(s);
}
