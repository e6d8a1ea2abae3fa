/* revocation.c - is the server certificate revoked? (OCSP staple, OCSP, CRL)
 *
 * Order (docs/revocation.md):
 *   1. a stapled OCSP response (RFC 6066 §8), verified;
 *   2. each http:// OCSP responder of the leaf's authorityInfoAccess
 *      (RFC 5280 §4.2.2.1), asked with an HTTP POST (RFC 6960 Appendix A.1);
 *   3. each http:// URI of the leaf's cRLDistributionPoints (RFC 5280
 *      §4.2.1.13), fetched and checked as RFC 5280 §6.3.3 says.
 * The first verified good or revoked answer ends the check. A verified
 * "unknown" is remembered and reported only when no later source answers
 * good or revoked; everything unusable is noted in the detail, and when no
 * source answers the result is "unavailable". Judging an answer is pure code
 * in core/revparse.c; this file only finds URLs, fetches and keeps order.
 *
 * Only http URLs are fetched: RFC 5280 and RFC 6960 specify HTTP for these
 * URIs, and fetching revocation data over https would need the very
 * validation it is meant to complete. Only the leaf is checked, as TLS
 * clients that check revocation usually do. */
#include "io/revocation.h"

#include "core/names.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "core/revparse.h"

/* At most this many URLs of each kind are tried (a certificate may list
 * many; each costs a fetch within the same time budget). */
#define REV_MAX_URLS 4
#define REV_MAX_URL_LEN 1024
#define REV_MAX_NOTES 2048

_Static_assert((int)REVPARSE_GOOD == (int)MXTLS_REVOCATION_GOOD &&
                   (int)REVPARSE_REVOKED == (int)MXTLS_REVOCATION_REVOKED &&
                   (int)REVPARSE_UNKNOWN == (int)MXTLS_REVOCATION_UNKNOWN &&
                   (int)REVPARSE_UNUSABLE == (int)MXTLS_REVOCATION_UNAVAILABLE,
               "revparse and revocation statuses agree");

/* revocation_source_name - "none", "staple", "ocsp", "crl" */
const char *revocation_source_name(revocation_source s)
{
    static const char *const names[] = {"none", "staple", "ocsp", "crl"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "none";
}

/* revocation_result_free - free the detail and reset; r is the caller's storage */
void revocation_result_free(revocation_result *r)
{
    if (!r)
        return;
    free(r->detail);
    memset(r, 0, sizeof *r);
}

/* rev_fill - set a result; detail is copied (NULL on out of memory) */
static void rev_fill(revocation_result *out, mxtls_revocation_status st, revocation_source src,
                     time_t revoked_at, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void rev_fill(revocation_result *out, mxtls_revocation_status st, revocation_source src,
                     time_t revoked_at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[REV_MAX_NOTES * 2];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    free(out->detail);
    out->detail = strdup(line);
    out->nomem |= !out->detail;
    out->status = st;
    out->source = src;
    out->revoked_at = st == MXTLS_REVOCATION_REVOKED ? revoked_at : 0;
}

/* revocation_check_staple - judge a staple for chain[0], no I/O */
void revocation_check_staple(const unsigned char *der, size_t len, STACK_OF(X509) *chain,
                             X509_STORE *store, time_t at, revocation_result *out)
{
    memset(out, 0, sizeof *out);
    if (!chain || sk_X509_num(chain) < 1) {
        rev_fill(out, MXTLS_REVOCATION_NOT_CHECKED, REVOCATION_SRC_NONE, 0,
                 "no certificate to check");
        return;
    }
    if (!der || len == 0) {
        rev_fill(out, MXTLS_REVOCATION_UNAVAILABLE, REVOCATION_SRC_NONE, 0,
                 "the server stapled no OCSP response");
        return;
    }
    X509 *leaf = sk_X509_value(chain, 0);
    X509 *issuer = revparse_find_issuer(chain, store);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    for (int i = 1; untrusted && i < sk_X509_num(chain); i++)
        sk_X509_push(untrusted, sk_X509_value(chain, i));
    revparse_result pr;
    revparse_ocsp(der, len, leaf, issuer, untrusted, store, at, NULL, &pr);
    rev_fill(out, (mxtls_revocation_status)pr.status, REVOCATION_SRC_STAPLE, pr.revoked_at,
             "stapled OCSP response: %s", pr.detail);
    sk_X509_free(untrusted);
    X509_free(issuer);
}

/* ---- the asynchronous check -------------------------------------------- */

typedef struct rev_job {
    https_client *https;
    STACK_OF(X509) *chain;     /* our references to the caller's certificates */
    STACK_OF(X509) *untrusted; /* chain[1..], borrowed from chain */
    X509 *leaf;                /* borrowed from chain */
    X509 *issuer;              /* our reference */
    X509_STORE *store;         /* our reference */
    time_t at;
    int timeout_ms;
    struct timespec deadline;  /* CLOCK_MONOTONIC */
    revocation_cb cb;
    void *arg;
    strlist ocsp, crl;         /* http URLs still to try, in certificate order */
    size_t next_ocsp, next_crl;
    OCSP_REQUEST *req;         /* built at the first OCSP fetch, kept for the nonce */
    unsigned char *req_der;
    int req_len;
    const char *url;           /* being fetched (points into ocsp or crl) */
    strbuf notes;              /* what each source said, "; "-separated */
    int starting;              /* inside revocation_check(): defer delivery */
    int finished;              /* decided while starting: rev_schedule() it */
    revocation_result unknown; /* a verified "unknown", kept until the end */
    revocation_result done;    /* the result delivered */
    int nomem;                 /* an allocation failed on the way (done.nomem) */
} rev_job;

/* rev_job_free - release a job and everything it references */
static void rev_job_free(rev_job *j)
{
    if (!j)
        return;
    sk_X509_pop_free(j->chain, X509_free);
    sk_X509_free(j->untrusted);
    X509_free(j->issuer);
    X509_STORE_free(j->store);
    strlist_free(&j->ocsp);
    strlist_free(&j->crl);
    OCSP_REQUEST_free(j->req);
    OPENSSL_free(j->req_der);
    sb_free(&j->notes);
    revocation_result_free(&j->unknown);
    revocation_result_free(&j->done);
    free(j);
}

/* rev_note - remember what a source said, for the final detail (bounded:
 * past REV_MAX_NOTES the rest is dropped) */
static void rev_note(rev_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rev_note(rev_job *j, const char *fmt, ...)
{
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if ((j->notes.len && sb_puts(&j->notes, "; ") == MXTLS_ERR_NOMEM) ||
        sb_puts(&j->notes, line) == MXTLS_ERR_NOMEM)
        j->nomem = 1;
}

/* rev_deliver - hand the result to the caller, then free the job */
static void rev_deliver(rev_job *j)
{
    j->done.nomem |= j->nomem;
    j->cb(j->arg, &j->done);
    rev_job_free(j);
}

/* rev_on_deliver - deferred delivery from the loop */
static void rev_on_deliver(void *arg)
{
    rev_deliver(arg);
}

/* rev_finish - the check is over: deliver now, or, while still inside
 * revocation_check() (callbacks never run inside the call), mark it for
 * rev_schedule() */
static void rev_finish(rev_job *j)
{
    if (j->starting) {
        j->finished = 1;
        return;
    }
    rev_deliver(j);
}

/* rev_on_cancel - the https client was freed with our fetch or delivery
 * pending: no callback, just free */
static void rev_on_cancel(void *arg)
{
    rev_job_free(arg);
}

/* rev_schedule - deliver on the next turn of the loop, through the https
 * client so that freeing it cancels the delivery like a fetch */
static void rev_schedule(rev_job *j)
{
    err_rec e;
    if (https_call_soon(j->https, rev_on_deliver, rev_on_cancel, j, &e) != 0)
        rev_deliver(j); /* out of memory: late is better than never */
}

/* rev_decided - a source gave a verified good or revoked answer */
static void rev_decided(rev_job *j, revocation_source src, const char *what,
                        const revparse_result *pr)
{
    if (j->notes.len)
        rev_fill(&j->done, (mxtls_revocation_status)pr->status, src, pr->revoked_at,
                 "%s: %s (earlier: %s)", what, pr->detail, j->notes.s);
    else
        rev_fill(&j->done, (mxtls_revocation_status)pr->status, src, pr->revoked_at, "%s: %s",
                 what, pr->detail);
    rev_finish(j);
}

/* rev_exhausted - no source gave good or revoked */
static void rev_exhausted(rev_job *j)
{
    if (j->unknown.status == MXTLS_REVOCATION_UNKNOWN) {
        j->done = j->unknown;
        memset(&j->unknown, 0, sizeof j->unknown);
        if (j->notes.len) {
            char *d = j->done.detail;
            j->done.detail = NULL;
            rev_fill(&j->done, MXTLS_REVOCATION_UNKNOWN, j->done.source, 0, "%s (also: %s)",
                     d ? d : "unknown", j->notes.s);
            free(d);
        }
    } else if (j->notes.len) {
        rev_fill(&j->done, MXTLS_REVOCATION_UNAVAILABLE, REVOCATION_SRC_NONE, 0,
                 "no usable revocation answer: %s", j->notes.s);
    } else {
        rev_fill(&j->done, MXTLS_REVOCATION_UNAVAILABLE, REVOCATION_SRC_NONE, 0,
                 "no stapled OCSP response, and the certificate names no OCSP responder and "
                 "no CRL distribution point");
    }
    rev_finish(j);
}

/* rev_remaining_ms - time left of the check's budget */
static long rev_remaining_ms(const rev_job *j)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(j->deadline.tv_sec - now.tv_sec) * 1000 +
           (j->deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/* rev_unknown - keep the first verified "unknown" */
static void rev_unknown(rev_job *j, revocation_source src, const char *what,
                        const revparse_result *pr)
{
    if (j->unknown.status == MXTLS_REVOCATION_UNKNOWN) {
        rev_note(j, "%s: %s", what, pr->detail);
        return;
    }
    rev_fill(&j->unknown, MXTLS_REVOCATION_UNKNOWN, src, 0, "%s: %s", what, pr->detail);
}

static void rev_step(rev_job *j);

/* rev_response_usable - HTTP-level checks shared by OCSP and CRL answers */
static int rev_response_usable(rev_job *j, const char *what, https_response *r)
{
    j->nomem |= r->nomem;
    if (!r->ok) {
        rev_note(j, "%s %s: no answer (%s)", what, j->url, r->error ? r->error : "failed");
        return 0;
    }
    if (r->status != 200) {
        rev_note(j, "%s %s: HTTP status %ld", what, j->url, r->status);
        return 0;
    }
    return 1;
}

/* rev_on_ocsp - an OCSP responder answered (or did not) */
static void rev_on_ocsp(void *arg, https_response *r)
{
    rev_job *j = arg;
    char what[REV_MAX_URL_LEN + 32];
    snprintf(what, sizeof what, "OCSP responder %s", j->url);
    if (rev_response_usable(j, "OCSP responder", r)) {
        revparse_result pr;
        revparse_ocsp(r->body, r->body_len, j->leaf, j->issuer, j->untrusted, j->store, j->at,
                      j->req, &pr);
        if (pr.status == REVPARSE_GOOD || pr.status == REVPARSE_REVOKED) {
            https_response_free(r);
            rev_decided(j, REVOCATION_SRC_OCSP, what, &pr);
            return;
        }
        if (pr.status == REVPARSE_UNKNOWN)
            rev_unknown(j, REVOCATION_SRC_OCSP, what, &pr);
        else
            rev_note(j, "%s: %s", what, pr.detail);
    }
    https_response_free(r);
    rev_step(j);
}

/* rev_on_crl - a CRL distribution point answered (or did not) */
static void rev_on_crl(void *arg, https_response *r)
{
    rev_job *j = arg;
    char what[REV_MAX_URL_LEN + 32];
    snprintf(what, sizeof what, "CRL %s", j->url);
    if (rev_response_usable(j, "CRL", r)) {
        revparse_result pr;
        revparse_crl(r->body, r->body_len, j->leaf, j->issuer, j->untrusted, j->store, j->at,
                     &pr);
        if (pr.status == REVPARSE_GOOD || pr.status == REVPARSE_REVOKED) {
            https_response_free(r);
            rev_decided(j, REVOCATION_SRC_CRL, what, &pr);
            return;
        }
        rev_note(j, "%s: %s", what, pr.detail);
    }
    https_response_free(r);
    rev_step(j);
}

/* rev_ocsp_der - the DER request, built once (one nonce for all responders) */
static int rev_ocsp_der(rev_job *j)
{
    if (j->req_der)
        return 1;
    j->req = revparse_ocsp_request(j->leaf, j->issuer, 1);
    if (!j->req)
        return 0;
    j->req_len = i2d_OCSP_REQUEST(j->req, &j->req_der);
    if (j->req_len <= 0) {
        j->req_der = NULL;
        ERR_clear_error();
        return 0;
    }
    return 1;
}

/* rev_step - start the next fetch, or finish when no source is left */
static void rev_step(rev_job *j)
{
    for (;;) {
        int is_ocsp = j->next_ocsp < j->ocsp.n;
        if (!is_ocsp && j->next_crl >= j->crl.n)
            break;
        j->url = is_ocsp ? j->ocsp.v[j->next_ocsp++] : j->crl.v[j->next_crl++];
        const char *what = is_ocsp ? "OCSP responder" : "CRL";
        long left = rev_remaining_ms(j);
        if (left < 1) {
            rev_note(j, "%s %s: not tried, the %d ms budget is spent", what, j->url,
                     j->timeout_ms);
            continue;
        }
        if (is_ocsp && !rev_ocsp_der(j)) {
            rev_note(j, "%s %s: cannot build the OCSP request", what, j->url);
            continue;
        }
        https_request req = {
            .url = j->url,
            .timeout_ms = (int)left,
            .cancelled = rev_on_cancel,
        };
        if (is_ocsp) {
            /* RFC 6960 Appendix A.1: POST, application/ocsp-request. */
            req.post_body = (const char *)j->req_der;
            req.post_len = (size_t)j->req_len;
            req.content_type = "application/ocsp-request";
            req.max_body = REVPARSE_MAX_OCSP;
        } else {
            req.max_body = REVPARSE_MAX_CRL;
        }
        err_rec e;
        err_clear(&e);
        if (https_fetch(j->https, &req, is_ocsp ? rev_on_ocsp : rev_on_crl, j, &e) == 0)
            return;
        j->nomem |= e.code == MXTLS_ERR_NOMEM;
        rev_note(j, "%s %s: cannot fetch (%s)", what, j->url, e.message);
    }
    rev_exhausted(j);
}

/* rev_is_http - an http:// URL of sane length and only the printable ASCII
 * RFC 3986 allows (the only kind fetched; the URL also goes into reports) */
static int rev_is_http(const char *s, size_t n)
{
    if (n <= 7 || n > REV_MAX_URL_LEN || strncasecmp(s, "http://", 7) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* rev_add_url - keep an http URL (bounded count), note anything else */
static void rev_add_url(rev_job *j, strlist *l, const char *what, const char *s, size_t n)
{
    if (!rev_is_http(s, n)) {
        /* Certificate bytes are the issuer's: escaped before they reach a
         * terminal or a JSON document. */
        char *shown = names_escape((const unsigned char *)s, n < 60 ? n : 60);
        j->nomem |= !shown;
        rev_note(j, "%s %s: skipped (only http URLs are fetched)", what,
                 shown ? shown : "(unprintable)");
        free(shown);
        return;
    }
    if (l->n >= REV_MAX_URLS)
        return;
    char *u = xstrndup(s, n);
    if (!u || (!strlist_contains(l, u) && strlist_add(l, u) != MXTLS_OK))
        j->nomem = 1;
    free(u);
}

/* rev_collect_urls - OCSP URLs (AIA) and CRL distribution point URIs */
static void rev_collect_urls(rev_job *j)
{
    STACK_OF(OPENSSL_STRING) *ocsp = X509_get1_ocsp(j->leaf);
    for (int i = 0; i < sk_OPENSSL_STRING_num(ocsp); i++) {
        const char *u = sk_OPENSSL_STRING_value(ocsp, i);
        rev_add_url(j, &j->ocsp, "OCSP responder", u, strlen(u));
    }
    X509_email_free(ocsp); /* frees a STACK_OF(OPENSSL_STRING), as X509_get1_ocsp documents */

    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(j->leaf, NID_crl_distribution_points, NULL, NULL);
    for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        /* A full name only; reasons or a cRLIssuer make it a partial or
         * indirect CRL, which revparse refuses anyway (RFC 5280 §4.2.1.13). */
        if (!dp->distpoint || dp->distpoint->type != 0 || dp->reasons || dp->CRLissuer)
            continue;
        GENERAL_NAMES *names = dp->distpoint->name.fullname;
        for (int k = 0; k < sk_GENERAL_NAME_num(names); k++) {
            GENERAL_NAME *g = sk_GENERAL_NAME_value(names, k);
            if (g->type != GEN_URI)
                continue;
            const ASN1_IA5STRING *uri = g->d.uniformResourceIdentifier;
            rev_add_url(j, &j->crl, "CRL", (const char *)ASN1_STRING_get0_data(uri),
                        (size_t)ASN1_STRING_length(uri));
        }
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    ERR_clear_error();
}

/* revocation_check - set up a job and take the first step; see the header */
int revocation_check(https_client *https, STACK_OF(X509) *chain, X509_STORE *store,
                     const unsigned char *staple, size_t staple_len, time_t at,
                     int timeout_ms, revocation_cb cb, void *arg, err_rec *e)
{
    if (!https || !cb)
        return err_set(e, MXTLS_ERR_INVALID, "revocation", "no https client or callback"), -1;
    rev_job *j = calloc(1, sizeof *j);
    if (!j)
        return err_set(e, MXTLS_ERR_NOMEM, "revocation", "out of memory"), -1;
    j->https = https;
    j->cb = cb;
    j->arg = arg;
    j->at = at;
    j->timeout_ms = timeout_ms > 0 ? timeout_ms : HTTPS_DEFAULT_TIMEOUT_MS;
    clock_gettime(CLOCK_MONOTONIC, &j->deadline);
    j->deadline.tv_sec += j->timeout_ms / 1000;
    j->deadline.tv_nsec += (long)(j->timeout_ms % 1000) * 1000000L;
    if (j->deadline.tv_nsec >= 1000000000L) {
        j->deadline.tv_sec++;
        j->deadline.tv_nsec -= 1000000000L;
    }
    sb_init(&j->notes, REV_MAX_NOTES);
    j->starting = 1;

    if (!chain || sk_X509_num(chain) < 1) {
        rev_fill(&j->done, MXTLS_REVOCATION_NOT_CHECKED, REVOCATION_SRC_NONE, 0,
                 "no certificate to check");
        goto finish;
    }
    j->chain = X509_chain_up_ref(chain);
    j->untrusted = sk_X509_new_null();
    if (!j->chain || !j->untrusted || (store && !X509_STORE_up_ref(store))) {
        rev_job_free(j);
        return err_set(e, MXTLS_ERR_NOMEM, "revocation", "out of memory"), -1;
    }
    j->store = store;
    for (int i = 1; i < sk_X509_num(j->chain); i++)
        if (sk_X509_push(j->untrusted, sk_X509_value(j->chain, i)) <= 0) {
            rev_job_free(j);
            return err_set(e, MXTLS_ERR_NOMEM, "revocation", "out of memory"), -1;
        }
    j->leaf = sk_X509_value(j->chain, 0);
    j->issuer = revparse_find_issuer(j->chain, store);
    if (!j->issuer) {
        rev_fill(&j->done, MXTLS_REVOCATION_UNAVAILABLE, REVOCATION_SRC_NONE, 0,
                 "the certificate's issuer is neither in the chain nor in the trust store, so "
                 "no revocation answer can be verified");
        goto finish;
    }

    if (staple && staple_len) {
        revparse_result pr;
        revparse_ocsp(staple, staple_len, j->leaf, j->issuer, j->untrusted, store, at, NULL,
                      &pr);
        if (pr.status == REVPARSE_GOOD || pr.status == REVPARSE_REVOKED) {
            rev_decided(j, REVOCATION_SRC_STAPLE, "stapled OCSP response", &pr);
            goto finish;
        }
        if (pr.status == REVPARSE_UNKNOWN)
            rev_unknown(j, REVOCATION_SRC_STAPLE, "stapled OCSP response", &pr);
        else
            rev_note(j, "stapled OCSP response: %s", pr.detail);
    }
    rev_collect_urls(j);
    /* rev_step() either starts a fetch (the job then lives on in https and
     * is not touched here again) or finishes, which only sets `finished`. */
    rev_step(j);
    if (!j->finished) {
        j->starting = 0;
        return 0;
    }
finish:
    j->starting = 0;
    rev_schedule(j);
    return 0;
}
