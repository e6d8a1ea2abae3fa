/* mtasts_eval.c - the level mta-sts (core/mtasts_eval.h) */
#include "core/mtasts_eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctx.h"
#include "core/evidence.h"
#include "core/mtasts.h"
#include "core/names.h"
#include "core/pkix.h"
#include "core/result.h"

mxtls_status mxtls_evidence_set_sts_policy(mxtls_ctx *ctx, mxtls_evidence *ev, const char *text,
                                           size_t len, const char *source)
{
    if (!ev || !text)
        return err_set(&ctx->err, MXTLS_ERR_INVALID, "sts-policy", "no policy text");
    mtasts_policy p;
    if (mtasts_policy_parse(text, len, &p) != MXTLS_OK) {
        mtasts_policy_free(&p); /* what the parser kept before memory ran out */
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "sts-policy", "out of memory");
    }
    const char *src = source ? source : "sts-policy";
    if (!p.valid) {
        const recerr *e = p.errors.n ? &p.errors.v[0] : NULL;
        mxtls_status st = err_set(&ctx->err, MXTLS_ERR_PARSE, src, "line %zu: %s: %s",
                                  e ? e->line : 0, e ? e->rule : "?", e ? e->message : "?");
        mtasts_policy_free(&p);
        return st;
    }
    strlist_free(&ev->sts_mx);
    free(ev->sts_source);
    ev->sts_mx = p.mx; /* take the patterns */
    memset(&p.mx, 0, sizeof p.mx);
    ev->sts_mode = p.mode;
    ev->sts_max_age = p.max_age;
    ev->sts_present = 1;
    ev->sts_source = strdup(src);
    mtasts_policy_free(&p);
    return ev->sts_source ? MXTLS_OK : err_set(&ctx->err, MXTLS_ERR_NOMEM, "sts-policy",
                                               "out of memory");
}

/* mtasts_dane_applies - RFC 8461 §2: a sender that implements both uses
 * DANE for a host with DNSSEC-secure TLSA records (reached through a secure
 * MX RRset), as the dane level judges it: usable records authenticate,
 * unusable ones make TLS mandatory, and a failed (bogus, unanswered) TLSA
 * lookup defers (RFC 7672 §2.2) - MTA-STS never downgrades DANE */
static int mtasts_dane_applies(const mxtls_evidence *ev)
{
    if (ev->mx.n && !ev->mx_secure)
        return 0;
    return (ev->tlsa_state == MXTLS_TLSA_SECURE && ev->ntlsa) ||
           ev->tlsa_state == MXTLS_TLSA_BOGUS || ev->tlsa_state == MXTLS_TLSA_ERROR;
}

/* mtasts_reverse - reverse v[lo..hi) in place */
static void mtasts_reverse(reason *v, size_t lo, size_t hi)
{
    while (lo + 1 < hi) {
        reason t = v[lo];
        v[lo++] = v[--hi];
        v[hi] = t;
    }
}

/* mtasts_front - the reasons added since `from` go first; earlier decisive
 * reasons become context. A rotation in place (three reversals): it cannot
 * fail for want of memory, so the order never depends on it. */
static void mtasts_front(mxtls_result *r, size_t from)
{
    size_t added = r->nreasons - from;
    if (!added || !from)
        return;
    mtasts_reverse(r->reasons, 0, from);
    mtasts_reverse(r->reasons, from, r->nreasons);
    mtasts_reverse(r->reasons, 0, r->nreasons);
    for (size_t i = added; i < r->nreasons; i++)
        if (!strcmp(r->reasons[i].kind, "decisive"))
            r->reasons[i].kind = "info";
}

/* mtasts_as - the verdict of another level, as the mta-sts level's */
static mxtls_result *mtasts_as(mxtls_ctx *ctx, const mxtls_evidence *ev, mxtls_level level)
{
    mxtls_result *r = mxtls_evaluate(ctx, ev, level);
    if (r)
        r->level = MXTLS_LEVEL_MTA_STS;
    return r;
}

mxtls_result *mtasts_evaluate(mxtls_ctx *ctx, const mxtls_evidence *ev)
{
    const char *host = evidence_host(ev);
    mxtls_result *r;
    if (mtasts_dane_applies(ev)) {
        if (!(r = mtasts_as(ctx, ev, MXTLS_LEVEL_DANE)))
            return NULL;
        result_reason(r, "info", "sts-dane-precedence", NULL,
                      "%s has DNSSEC-secure TLSA records (or its TLSA lookup failed): DANE "
                      "decides for this host and MTA-STS does not apply (RFC 8461 §2)",
                      host);
        return r;
    }
    if (!(r = mtasts_as(ctx, ev, MXTLS_LEVEL_MAY)))
        return NULL;
    if (!ev->sts_present) {
        result_reason(r, "info", "sts-no-policy", NULL,
                      "no MTA-STS policy is in force for %s: opportunistic TLS (may)",
                      ev->domain);
        return r;
    }
    if (ev->sts_mode == MTASTS_MODE_NONE) {
        result_reason(r, "info", "sts-mode-none", NULL,
                      "the MTA-STS policy (%s) has mode none: opportunistic TLS (may)",
                      ev->sts_source);
        return r;
    }
    int enforce = ev->sts_mode == MTASTS_MODE_ENFORCE;
    const char *kind = enforce ? "decisive" : "warning";
    size_t from = r->nreasons;
    int failed = 0;
    /* §4.1: the MX host must be covered by an mx pattern. */
    size_t which = 0;
    if (!mtasts_mx_match(&ev->sts_mx, host, &which)) {
        char pats[700];
        size_t o = 0;
        pats[0] = '\0';
        for (size_t i = 0; i < ev->sts_mx.n && o < sizeof pats; i++)
            o += (size_t)snprintf(pats + o, sizeof pats - o, "%s%s", i ? ", " : "",
                                  ev->sts_mx.v[i]);
        result_reason(r, kind, "sts-mx-not-covered", enforce ? "4.7.5" : NULL,
                      "the MX host %s is not covered by the MTA-STS policy's mx patterns (%s); "
                      "\"*.\" covers exactly one label (RFC 8461 §4.1)",
                      host, pats);
        result_advice(r, "Add the MX host %s to the mx: lines of the MTA-STS policy (and "
                         "change its id), or stop using it as an MX host.",
                      host);
        failed = 1;
    }
    if (!ev->chain) {
        result_reason(r, kind, "sts-no-tls", enforce ? "4.7.4" : NULL,
                      "%s: an MTA-STS policy requires TLS with a valid certificate "
                      "(RFC 8461 §4.2)",
                      ev->tls_failed ? ev->tls_failed : "the server offers no STARTTLS");
        failed = 1;
    } else {
        pkix_result pk;
        if (pkix_validate(ctx, ev->chain, ctx->at, &pk) != MXTLS_OK) {
            mxtls_result_free(r);
            return NULL;
        }
        X509 *leaf = sk_X509_value(ev->chain, 0);
        char *matched = NULL;
        int name_ok = names_match_san(leaf, host, &matched);
        if (!pk.valid) {
            result_reason(r, kind, pk.code ? pk.code : "pkix-failed", enforce ? "4.7.5" : NULL,
                          "%s (RFC 8461 §4.2: the certificate must chain to a trusted root)",
                          pk.message);
            failed = 1;
        }
        if (!name_ok) {
            result_reason(r, kind, "sts-name-mismatch", enforce ? "4.7.5" : NULL,
                          "no DNS subjectAltName of the certificate matches the MX host %s "
                          "(RFC 8461 §4.2; the subject CN is not consulted)",
                          host);
            result_advice(r, "Put the MX hostname %s in the certificate's subjectAltName "
                             "extension: MTA-STS senders check DNS names only.",
                          host);
            failed = 1;
        }
        if (!failed) {
            r->verdict = MXTLS_VERDICT_PASS;
            r->security = MXTLS_SECURITY_VERIFIED;
            result_reason(r, "decisive", "sts-verified", NULL,
                          "the MTA-STS policy (%s, mode %s) covers %s (mx %s) and the "
                          "certificate is valid for it (subjectAltName %s)",
                          ev->sts_source, enforce ? "enforce" : "testing", host,
                          ev->sts_mx.v[which], matched ? matched : host);
        }
        free(matched);
    }
    if (enforce) {
        if (failed) {
            r->verdict = MXTLS_VERDICT_FAIL;
            r->security = MXTLS_SECURITY_NONE;
        }
        mtasts_front(r, from);
        return r;
    }
    /* testing: deliver as may; the failures are reported, not enforced */
    result_reason(r, "info", "sts-testing", NULL,
                  "the MTA-STS policy (%s) is in testing mode: failures are reported "
                  "(TLSRPT) and delivery proceeds as opportunistic TLS (RFC 8461 §5)",
                  ev->sts_source);
    if (!failed) {
        /* A testing policy that would pass: keep may's verdict and say so. */
        for (size_t i = from; i < r->nreasons; i++)
            if (!strcmp(r->reasons[i].code, "sts-verified"))
                r->reasons[i].kind = "info";
        if (r->verdict == MXTLS_VERDICT_PASS)
            r->security = MXTLS_SECURITY_ENCRYPTED;
    }
    return r;
}

void mxtls_evidence_set_requiretls(mxtls_evidence *ev, int advertised)
{
    if (ev)
        ev->requiretls = !!advertised;
}

mxtls_result *requiretls_evaluate(mxtls_ctx *ctx, const mxtls_evidence *ev)
{
    /* how the connection is authenticated: DANE first (RFC 8461 §2) */
    int dane = mtasts_dane_applies(ev);
    mxtls_result *r = mxtls_evaluate(ctx, ev, dane ? MXTLS_LEVEL_DANE : MXTLS_LEVEL_MTA_STS);
    if (!r)
        return NULL;
    r->level = MXTLS_LEVEL_REQUIRETLS;
    if (r->verdict == MXTLS_VERDICT_TEMPFAIL)
        return r;
    size_t from = r->nreasons;
    int authenticated = r->verdict == MXTLS_VERDICT_PASS &&
                        (dane ? r->security == MXTLS_SECURITY_DANE
                              : r->nreasons && !strcmp(r->reasons[0].code, "sts-verified"));
    if (!authenticated) {
        r->verdict = MXTLS_VERDICT_FAIL;
        r->security = MXTLS_SECURITY_NONE;
        result_reason(r, "decisive", "requiretls-not-authenticated", "5.7.30",
                      "the connection to %s is not authenticated by DANE or by an MTA-STS policy "
                      "in mode enforce: a REQUIRETLS message is not sent, and is returned "
                      "(RFC 8689 §4.2)",
                      evidence_host(ev));
    } else if (!ev->requiretls) {
        r->verdict = MXTLS_VERDICT_FAIL;
        r->security = MXTLS_SECURITY_NONE;
        result_reason(r, "decisive", "requiretls-not-advertised", "5.7.30",
                      "%s does not list REQUIRETLS in its EHLO reply after STARTTLS: a "
                      "REQUIRETLS message is not sent, and is returned (RFC 8689 §4.2)",
                      evidence_host(ev));
        result_advice(r, "Senders of REQUIRETLS messages need the REQUIRETLS extension "
                         "(RFC 8689) in the EHLO reply over TLS; without it such messages "
                         "are returned.");
    } else {
        result_reason(r, "decisive", "requiretls-ok", NULL,
                      "%s lists REQUIRETLS after STARTTLS and the connection is authenticated "
                      "by %s (RFC 8689 §4.2)",
                      evidence_host(ev), dane ? "DANE" : "MTA-STS");
    }
    mtasts_front(r, from);
    return r;
}
