/* result.c - result objects and their accessors */
#include "core/result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fingerprint.h"

mxtls_result *result_new(mxtls_level level)
{
    mxtls_result *r = calloc(1, sizeof *r);
    if (r) {
        r->level = level;
        r->pkix_depth = -1;
        r->dane_match_index = r->dane_match_depth = -1;
    }
    return r;
}

mxtls_status chain_cert_fill(chain_cert *c, X509 *x)
{
    c->subject = fp_name_text(X509_get_subject_name(x));
    c->issuer = fp_name_text(X509_get_issuer_name(x));
    c->not_before = fp_time_text(X509_get0_notBefore(x));
    c->not_after = fp_time_text(X509_get0_notAfter(x));
    c->sha256 = fp_digest_cert(x, "sha256", 0);
    return c->subject && c->issuer && c->not_before && c->not_after && c->sha256
               ? MXTLS_OK
               : MXTLS_ERR_NOMEM;
}

void chain_cert_clear(chain_cert *c)
{
    free(c->subject);
    free(c->issuer);
    free(c->not_before);
    free(c->not_after);
    free(c->sha256);
    memset(c, 0, sizeof *c);
}

void mxtls_result_free(mxtls_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nreasons; i++) {
        free(r->reasons[i].code);
        free(r->reasons[i].message);
        free(r->reasons[i].status);
    }
    free(r->reasons);
    strlist_free(&r->advice);
    for (size_t i = 0; i < r->nrefs; i++)
        free(r->refs[i].name);
    free(r->refs);
    free(r->matched_ref);
    free(r->matched_pres);
    free(r->domain);
    free(r->host);
    strlist_free(&r->mx);
    free(r->ip);
    strlist_free(&r->ptr);
    free(r->ptr_confirmed);
    strlist_free(&r->routes);
    presented_ids_free(&r->presented);
    for (size_t i = 0; i < r->nchain; i++)
        chain_cert_clear(&r->chain[i]);
    free(r->chain);
    free(r->tls_failed);
    free(r->revocation_detail);
    free(r->tlsa_base);
    strlist_free(&r->tlsa);
    strlist_free(&r->tlsa_unusable);
    free(r->pkix_code);
    free(r->pkix_bad_subject);
    free(r->pkix_bad_not_before);
    free(r->pkix_bad_not_after);
    free(r->pkix_message);
    free(r->fp_digest);
    free(r->fp_cert);
    free(r->fp_pubkey);
    free(r);
}

mxtls_status result_reason(mxtls_result *r, const char *kind, const char *code,
                           const char *status, const char *fmt, ...)
{
    reason *v = realloc(r->reasons, (r->nreasons + 1) * sizeof *v);
    if (!v) {
        r->nomem = 1;
        return MXTLS_ERR_NOMEM;
    }
    r->reasons = v;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reason *x = &v[r->nreasons];
    x->kind = kind;
    x->code = strdup(code);
    x->message = strdup(msg);
    x->status = status ? strdup(status) : NULL;
    if (!x->code || !x->message || (status && !x->status)) {
        free(x->code);
        free(x->message);
        free(x->status);
        r->nomem = 1;
        return MXTLS_ERR_NOMEM;
    }
    r->nreasons++;
    return MXTLS_OK;
}

mxtls_status result_ref(mxtls_result *r, const char *name, const char *against,
                        const char *source)
{
    for (size_t i = 0; i < r->nrefs; i++)
        if (strcmp(r->refs[i].name, name) == 0 && strcmp(r->refs[i].against, against) == 0)
            return MXTLS_OK;
    refid *v = realloc(r->refs, (r->nrefs + 1) * sizeof *v);
    if (!v) {
        r->nomem = 1;
        return MXTLS_ERR_NOMEM;
    }
    r->refs = v;
    v[r->nrefs].name = strdup(name);
    if (!v[r->nrefs].name) {
        r->nomem = 1;
        return MXTLS_ERR_NOMEM;
    }
    v[r->nrefs].against = against;
    v[r->nrefs].source = source;
    r->nrefs++;
    return MXTLS_OK;
}

mxtls_status result_advice(mxtls_result *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mxtls_status st = strlist_add_unique(&r->advice, msg);
    if (st != MXTLS_OK)
        r->nomem = 1;
    return st;
}

mxtls_level mxtls_result_level(const mxtls_result *r) { return r->level; }
mxtls_verdict mxtls_result_verdict(const mxtls_result *r) { return r->verdict; }
mxtls_security mxtls_result_security(const mxtls_result *r) { return r->security; }
size_t mxtls_result_reason_count(const mxtls_result *r) { return r->nreasons; }

const char *mxtls_result_reason_code(const mxtls_result *r, size_t i)
{
    return i < r->nreasons ? r->reasons[i].code : NULL;
}

const char *mxtls_result_reason_message(const mxtls_result *r, size_t i)
{
    return i < r->nreasons ? r->reasons[i].message : NULL;
}

size_t mxtls_result_advice_count(const mxtls_result *r) { return r->advice.n; }

const char *mxtls_result_advice(const mxtls_result *r, size_t i)
{
    return i < r->advice.n ? r->advice.v[i] : NULL;
}

size_t mxtls_result_reference_count(const mxtls_result *r) { return r->nrefs; }

const char *mxtls_result_reference(const mxtls_result *r, size_t i)
{
    return i < r->nrefs ? r->refs[i].name : NULL;
}

const char *mxtls_result_matched_reference(const mxtls_result *r) { return r->matched_ref; }
const char *mxtls_result_matched_presented(const mxtls_result *r) { return r->matched_pres; }
