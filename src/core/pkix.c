/* pkix.c - chain validation against a trust store, with OpenSSL */
#include "core/pkix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/chainmemo.h"
#include "core/fingerprint.h"
#include "core/osslerr.h"

X509_STORE *pkix_store_load(const char *ca_file, const char *ca_path, err_rec *e)
{
    X509_STORE *st = X509_STORE_new();
    if (!st)
        return err_set(e, MXTLS_ERR_NOMEM, "trust store", "out of memory"), NULL;
    int ok;
    ERR_clear_error();
    if (ca_file || ca_path)
        ok = X509_STORE_load_locations(st, ca_file, ca_path);
    else
        ok = X509_STORE_set_default_paths(st);
    if (!ok) {
        char why[256];
        ERR_error_string_n(ERR_peek_last_error(), why, sizeof why);
        X509_STORE_free(st);
        if (osslerr_nomem())
            return err_set(e, MXTLS_ERR_NOMEM, "trust store", "out of memory"), NULL;
        err_set(e, MXTLS_ERR_CRYPTO, ca_file ? ca_file : ca_path ? ca_path : "trust store",
                "cannot load trust store: %s", why);
        return NULL;
    }
    return st;
}

X509_STORE *pkix_store(mxtls_ctx *ctx)
{
    if (!ctx->store)
        ctx->store = pkix_store_load(ctx->ca_file, ctx->ca_path, &ctx->err);
    return ctx->store;
}

/* pkix_name - RFC 2253 text of a subject or issuer name for messages; -1
 * when out of memory */
static int pkix_name(X509 *x, int issuer, char *buf, size_t n)
{
    char *t = x ? fp_name_text(issuer ? X509_get_issuer_name(x) : X509_get_subject_name(x))
                : NULL;
    snprintf(buf, n, "\"%s\"", t ? t : "(unknown)");
    free(t);
    return x && !t ? -1 : 0;
}

/* pkix_explain - map OpenSSL's verify error to a stable code and plain words;
 * -1 when out of memory */
static int pkix_explain(pkix_result *r, X509 *cert, int presented)
{
    char subj[256], iss[256];
    if (pkix_name(cert, 0, subj, sizeof subj) || pkix_name(cert, 1, iss, sizeof iss))
        return -1;
    const char *what = r->depth == 0 ? "the server certificate" : "a certificate in the chain";
    switch (r->error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        r->code = "expired";
        snprintf(r->message, sizeof r->message, "%s %s has expired", what, subj);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        r->code = "not-yet-valid";
        snprintf(r->message, sizeof r->message, "%s %s is not yet valid", what, subj);
        break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        r->code = "self-signed";
        snprintf(r->message, sizeof r->message,
                 "the server certificate %s is self-signed and not trusted", subj);
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        r->code = "untrusted-root";
        snprintf(r->message, sizeof r->message,
                 "the chain ends in the root %s, which is not in the trust store", subj);
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        if (r->depth == 0 && presented == 1) {
            /* Only the leaf was sent and its issuer is unknown: the usual cause
             * is a server configured without its intermediate certificate. */
            r->code = "missing-intermediate";
            snprintf(r->message, sizeof r->message,
                     "the server sent only its own certificate and its issuer %s is neither "
                     "sent nor trusted: most likely the intermediate certificate is missing "
                     "from the server's configuration",
                     iss);
        } else {
            r->code = "unknown-issuer";
            snprintf(r->message, sizeof r->message,
                     "the issuer %s of %s is neither in the chain nor in the trust store", iss,
                     subj);
        }
        break;
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        r->code = "unknown-issuer";
        snprintf(r->message, sizeof r->message,
                 "cannot verify the signature of %s: its issuer %s is unknown", subj, iss);
        break;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
        r->code = "bad-signature";
        snprintf(r->message, sizeof r->message, "the signature on %s is invalid", subj);
        break;
    case X509_V_ERR_INVALID_PURPOSE:
        r->code = "wrong-purpose";
        snprintf(r->message, sizeof r->message,
                 "%s %s is not valid for TLS servers (extendedKeyUsage lacks serverAuth)", what,
                 subj);
        break;
    case X509_V_ERR_CERT_REVOKED:
        r->code = "revoked";
        snprintf(r->message, sizeof r->message, "%s %s has been revoked", what, subj);
        break;
    case X509_V_ERR_INVALID_CA:
        r->code = "invalid-ca";
        snprintf(r->message, sizeof r->message, "%s is used as a CA but is not a valid CA",
                 subj);
        break;
    default:
        r->code = "pkix-error";
        snprintf(r->message, sizeof r->message, "%s: %s (OpenSSL error %d at depth %d)", subj,
                 X509_verify_cert_error_string(r->error), r->error, r->depth);
        break;
    }
    return 0;
}

/* pkix_bound - narrow [lo, hi) to the times on t's side of an ASN1 time b
 * (OpenSSL compares in seconds: b and the second after it may fall either
 * way, so t must not be b itself); 0 when the time is unreadable or is t */
static int pkix_bound(const ASN1_TIME *a, time_t t, time_t *lo, time_t *hi)
{
    time_t b;
    if (!fp_asn1_time(a, &b) || b == t)
        return 0;
    if (b < t && b + 1 > *lo)
        *lo = b + 1;
    if (b > t && b < *hi)
        *hi = b;
    return 1;
}

/* pkix_validity_bounds - pkix_bound for x's notBefore and notAfter */
static int pkix_validity_bounds(X509 *x, time_t t, time_t *lo, time_t *hi)
{
    return pkix_bound(X509_get0_notBefore(x), t, lo, hi) &&
           pkix_bound(X509_get0_notAfter(x), t, lo, hi);
}

/* pkix_cert_bounds - the validity of x and of every certificate of the
 * store that could have been its issuer (OpenSSL prefers one valid at the
 * time asked among several of the same name) */
static int pkix_cert_bounds(X509_STORE_CTX *sctx, X509 *x, time_t t, time_t *lo, time_t *hi)
{
    if (!pkix_validity_bounds(x, t, lo, hi))
        return 0;
    STACK_OF(X509) *cands = X509_STORE_CTX_get1_certs(sctx, X509_get_issuer_name(x));
    int ok = 1;
    for (int i = 0; ok && cands && i < sk_X509_num(cands); i++)
        ok = pkix_validity_bounds(sk_X509_value(cands, i), t, lo, hi);
    sk_X509_pop_free(cands, X509_free);
    return ok;
}

/* pkix_window - the times [lo, hi) around t at which this validation gives
 * the same answer: no notBefore or notAfter that OpenSSL could have
 * compared, of the chain as sent, as built, or of a candidate issuer in
 * the store, falls inside; 0 when that cannot be told */
static int pkix_window(X509_STORE_CTX *sctx, STACK_OF(X509) *chain, time_t t, time_t *lo,
                       time_t *hi)
{
    *lo = t - 366L * 86400 * 100; /* far enough either way to mean "always" */
    *hi = t + 366L * 86400 * 100;
    STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(sctx);
    for (int i = 0; i < sk_X509_num(chain); i++)
        if (!pkix_cert_bounds(sctx, sk_X509_value(chain, i), t, lo, hi))
            return 0;
    for (int i = 0; built && i < sk_X509_num(built); i++)
        if (!pkix_cert_bounds(sctx, sk_X509_value(built, i), t, lo, hi))
            return 0;
    return *lo <= t && t < *hi;
}

mxtls_status pkix_validate(mxtls_ctx *ctx, STACK_OF(X509) *chain, time_t at, pkix_result *out)
{
    memset(out, 0, sizeof *out);
    out->depth = -1;
    X509_STORE *store = pkix_store(ctx);
    if (!store)
        return ctx->err.code;
    /* The same chain against the same store at a time of the same window:
     * the answer is known (core/chainmemo.h). */
    time_t when = at ? at : time(NULL);
    if (chainmemo_pkix_get(chain, store, when, out))
        return MXTLS_OK;
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    if (!sctx || !untrusted) {
        X509_STORE_CTX_free(sctx);
        sk_X509_free(untrusted);
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "pkix", "out of memory");
    }
    int nomem = 0;
    for (int i = 1; i < sk_X509_num(chain); i++)
        if (!sk_X509_push(untrusted, sk_X509_value(chain, i)))
            nomem = 1;
    X509 *leaf = sk_X509_value(chain, 0);
    ERR_clear_error();
    if (nomem || !X509_STORE_CTX_init(sctx, store, leaf, untrusted)) {
        X509_STORE_CTX_free(sctx);
        sk_X509_free(untrusted);
        if (nomem || osslerr_nomem())
            return err_set(&ctx->err, MXTLS_ERR_NOMEM, "pkix", "out of memory");
        return err_set(&ctx->err, MXTLS_ERR_CRYPTO, "pkix", "cannot set up chain validation");
    }
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(sctx);
    /* The purpose an SMTP client's OpenSSL checks for its server. */
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_trust(param, X509_TRUST_SSL_SERVER);
    if (at)
        X509_VERIFY_PARAM_set_time(param, at);
    ERR_clear_error();
    int ok = X509_verify_cert(sctx);
    /* OpenSSL absorbs some allocation failures while it builds the chain
     * and reports a chain error instead (an issuer it could not compare is
     * "unknown"): the error queue still holds the allocation failure. */
    if (osslerr_nomem())
        nomem = 1;
    if (ok == 1) {
        out->valid = 1;
        out->error = X509_V_OK;
        out->code = NULL;
        snprintf(out->message, sizeof out->message, "the chain is valid");
    } else {
        out->valid = 0;
        out->error = X509_STORE_CTX_get_error(sctx);
        out->depth = X509_STORE_CTX_get_error_depth(sctx);
        X509 *bad = X509_STORE_CTX_get_current_cert(sctx);
        if (out->error == X509_V_OK) /* failure without a verify error */
            out->error = X509_V_ERR_UNSPECIFIED;
        /* OpenSSL ran out of memory: that says nothing about the chain. */
        if (out->error == X509_V_ERR_OUT_OF_MEM)
            nomem = 1;
        if (!nomem && pkix_explain(out, bad, sk_X509_num(chain)) != 0)
            nomem = 1;
        /* A certificate whose extensions OpenSSL cannot decode (a malformed
         * subjectAltName, say) is marked invalid and never issues nor is
         * issued: the verify error then names a missing issuer. Say what it
         * is instead; the first such certificate of the chain is at fault. */
        for (int i = 0; !nomem && i < sk_X509_num(chain); i++) {
            X509 *x = sk_X509_value(chain, i);
            if (!(X509_get_extension_flags(x) & EXFLAG_INVALID))
                continue;
            char subj[256];
            if (pkix_name(x, 0, subj, sizeof subj) != 0) {
                nomem = 1;
                break;
            }
            bad = x;
            out->depth = i;
            out->code = "bad-extension";
            snprintf(out->message, sizeof out->message,
                     "%s %s has an extension OpenSSL cannot decode (a malformed "
                     "subjectAltName or another extension): clients that verify with OpenSSL "
                     "reject it",
                     i == 0 ? "the server certificate" : "a certificate in the chain", subj);
            break;
        }
        if (bad && !nomem) {
            char *t = fp_name_text(X509_get_subject_name(bad));
            snprintf(out->bad_subject, sizeof out->bad_subject, "%s", t ? t : "?");
            nomem |= !t;
            free(t);
            t = fp_time_text(X509_get0_notBefore(bad));
            snprintf(out->bad_not_before, sizeof out->bad_not_before, "%s", t ? t : "?");
            nomem |= !t;
            free(t);
            t = fp_time_text(X509_get0_notAfter(bad));
            snprintf(out->bad_not_after, sizeof out->bad_not_after, "%s", t ? t : "?");
            nomem |= !t;
            free(t);
            for (int i = 0; i < sk_X509_num(chain); i++)
                if (X509_cmp(sk_X509_value(chain, i), bad) == 0)
                    out->bad_presented = 1;
        }
    }
    time_t lo, hi;
    if (!nomem && pkix_window(sctx, chain, when, &lo, &hi) && !osslerr_nomem())
        chainmemo_pkix_put(chain, store, lo, hi, out);
    ERR_clear_error();
    X509_STORE_CTX_free(sctx);
    sk_X509_free(untrusted);
    if (nomem)
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "pkix", "out of memory");
    return MXTLS_OK;
}
