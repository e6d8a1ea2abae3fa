/* revparse.c - pure revocation checks: an OCSP response or a CRL in, a status out
 *
 * See revparse.h for what makes an answer count. The OCSP signature and the
 * responder's authorisation are checked by OpenSSL's OCSP_basic_verify()
 * against a private store holding only the leaf's issuer (partial chains
 * allowed): RFC 6960 §4.2.2.2 accepts exactly the issuer itself or a
 * responder the issuer certified for id-kp-OCSPSigning, so nothing above the
 * issuer matters for the response, and the private store lets us verify at
 * the requested time without touching the caller's store. The issuer's own
 * trust is then checked against the real store. */
#include "core/revparse.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/fingerprint.h"

/* revparse_set - fill status and detail, return the status */
static revparse_status revparse_set(revparse_result *out, revparse_status st, const char *fmt,
                                    ...) __attribute__((format(printf, 3, 4)));
static revparse_status revparse_set(revparse_result *out, revparse_status st, const char *fmt,
                                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
    out->status = st;
    return st;
}

/* revparse_init - an empty result (unusable until proven otherwise) */
static void revparse_init(revparse_result *out)
{
    memset(out, 0, sizeof *out);
    out->status = REVPARSE_UNUSABLE;
    out->reason = -1;
}

/* revparse_time_text - "2026-01-02 03:04:05 UTC" */
void revparse_time_text(time_t t, char *buf, size_t n)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, n, "(time %lld)", (long long)t);
}

/* revparse_reason_name - CRLReason code to its RFC 5280 name */
const char *revparse_reason_name(int reason)
{
    if (reason < 0)
        return "unspecified";
    /* OCSP_crl_reason_str() names the RFC 5280 §5.3.1 CRLReason codes. */
    return OCSP_crl_reason_str(reason);
}

/* revparse_ssl_error - the most telling OpenSSL error on the queue, then clear it
 *
 * OpenSSL puts the specific cause last ("certificate verify error" with
 * "Verify error: unable to get local issuer certificate" as data). */
static void revparse_ssl_error(char *buf, size_t n, const char *fallback)
{
    unsigned long code, last = 0;
    const char *data = NULL;
    char last_data[256] = "";
    int flags = 0;
    while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        last = code;
        /* Copy now: the string belongs to the queue entry just removed. */
        snprintf(last_data, sizeof last_data, "%s",
                 (flags & ERR_TXT_STRING) && data ? data : "");
    }
    const char *reason = last ? ERR_reason_error_string(last) : NULL;
    if (!reason)
        reason = fallback;
    if (last_data[0])
        snprintf(buf, n, "%s (%s)", reason, last_data);
    else
        snprintf(buf, n, "%s", reason);
}

/* revparse_serial_text - the certificate's serial number in hex; caller frees */
static char *revparse_serial_text(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    char *s = hex ? strdup(hex) : NULL;
    OPENSSL_free(hex);
    return s;
}

/* revparse_find_issuer - the certificate that issued chain[0] (new reference) */
X509 *revparse_find_issuer(STACK_OF(X509) *chain, X509_STORE *store)
{
    X509 *leaf = chain && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : NULL;
    if (!leaf)
        return NULL;
    if (sk_X509_num(chain) > 1) {
        X509 *cand = sk_X509_value(chain, 1);
        if (X509_check_issued(cand, leaf) == X509_V_OK && X509_up_ref(cand))
            return cand;
    }
    /* The server may have sent only its leaf, or a chain in the wrong
     * order: look for the issuer among the rest, then in the store. */
    for (int i = 2; i < sk_X509_num(chain); i++) {
        X509 *cand = sk_X509_value(chain, i);
        if (X509_check_issued(cand, leaf) == X509_V_OK && X509_up_ref(cand))
            return cand;
    }
    if (!store)
        return NULL;
    X509 *issuer = NULL;
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    if (sctx && X509_STORE_CTX_init(sctx, store, leaf, NULL) == 1 &&
        X509_STORE_CTX_get1_issuer(&issuer, sctx, leaf) != 1)
        issuer = NULL;
    X509_STORE_CTX_free(sctx);
    ERR_clear_error();
    return issuer;
}

/* revparse_issuer_trusted - does the issuer chain to the store at `at`?
 *
 * Whoever holds the issuer's key decides about revocation; an answer signed
 * by an issuer we do not trust proves nothing. */
static int revparse_issuer_trusted(X509 *issuer, STACK_OF(X509) *untrusted, X509_STORE *store,
                                   time_t at, char *why, size_t n)
{
    if (!store) {
        snprintf(why, n, "no trust store to check the issuer against");
        return 0;
    }
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    if (!sctx || X509_STORE_CTX_init(sctx, store, issuer, untrusted) != 1) {
        X509_STORE_CTX_free(sctx);
        ERR_clear_error();
        snprintf(why, n, "out of memory");
        return 0;
    }
    if (at)
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(sctx), at);
    int ok = X509_verify_cert(sctx) == 1;
    if (!ok) {
        char *name = fp_name_text(X509_get_subject_name(issuer));
        snprintf(why, n, "the issuer \"%s\" is not trusted: %s", name ? name : "(unknown)",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx)));
        free(name);
    }
    X509_STORE_CTX_free(sctx);
    ERR_clear_error();
    return ok;
}

/* revparse_window - is [thisUpdate, nextUpdate] around `at`, with skew?
 *
 * OCSP_check_validity() does this against the wall clock only; mxtls checks
 * at a chosen time (`mxtls verify --at`), so the same rules are applied here:
 * thisUpdate not after at+skew, nextUpdate (when given) not before at-skew
 * and not before thisUpdate, and no nextUpdate means at most max_age_no_next
 * old (or unusable when max_age_no_next is 0, the RFC 5280 §5.1.2.5 rule for
 * CRLs). 1 ok, 0 with the reason in out->detail. */
static int revparse_window(const ASN1_TIME *thisupd, const ASN1_TIME *nextupd, time_t at,
                           long max_age_no_next, revparse_result *out)
{
    char a[40], b[40];
    if (!fp_asn1_time(thisupd, &out->this_update)) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: unreadable thisUpdate time");
        return 0;
    }
    if (nextupd && !fp_asn1_time(nextupd, &out->next_update)) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: unreadable nextUpdate time");
        return 0;
    }
    revparse_time_text(out->this_update, a, sizeof a);
    revparse_time_text(at, b, sizeof b);
    if (out->this_update > at + REVPARSE_SKEW_SECONDS) {
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: not yet valid (this update %s is after the check time %s)", a, b);
        return 0;
    }
    if (nextupd) {
        char c[40];
        revparse_time_text(out->next_update, c, sizeof c);
        if (out->next_update < out->this_update) {
            revparse_set(out, REVPARSE_UNUSABLE,
                         "unusable: next update %s is before this update %s", c, a);
            return 0;
        }
        if (out->next_update < at - REVPARSE_SKEW_SECONDS) {
            revparse_set(out, REVPARSE_UNUSABLE,
                         "unusable: expired (next update %s is before the check time %s)", c,
                         b);
            return 0;
        }
        return 1;
    }
    if (max_age_no_next == 0) {
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: no next update time, so it cannot be known to be current");
        return 0;
    }
    if (at - out->this_update > max_age_no_next) {
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: too old (this update %s, no next update, more than %ld days "
                     "before the check time %s)",
                     a, max_age_no_next / 86400, b);
        return 0;
    }
    return 1;
}

/* revparse_revoked - fill a REVOKED result */
static revparse_status revparse_revoked(revparse_result *out, const ASN1_TIME *when, int reason,
                                        const char *extra)
{
    char t[40] = "an unknown time";
    out->reason = reason;
    if (fp_asn1_time(when, &out->revoked_at))
        revparse_time_text(out->revoked_at, t, sizeof t);
    return revparse_set(out, REVPARSE_REVOKED, "revoked at %s (reason: %s)%s", t,
                        revparse_reason_name(reason), extra ? extra : "");
}

/* revparse_good - fill a GOOD result with the answer's validity */
static revparse_status revparse_good(revparse_result *out, const char *what)
{
    char a[40], b[40] = "none";
    revparse_time_text(out->this_update, a, sizeof a);
    if (out->next_update)
        revparse_time_text(out->next_update, b, sizeof b);
    return revparse_set(out, REVPARSE_GOOD, "good: %s (this update %s, next update %s)", what, a,
                        b);
}

/* revparse_ocsp_verify - signature and responder authorisation (RFC 6960 §4.2.2.2) */
static int revparse_ocsp_verify(OCSP_BASICRESP *bs, X509 *issuer, STACK_OF(X509) *untrusted,
                                time_t at, char *why, size_t n)
{
    X509_STORE *tmp = X509_STORE_new();
    STACK_OF(X509) *certs = sk_X509_new_null();
    int ok = 0;
    if (!tmp || !certs || X509_STORE_add_cert(tmp, issuer) != 1 ||
        sk_X509_push(certs, issuer) <= 0) {
        snprintf(why, n, "out of memory");
        goto out;
    }
    for (int i = 0; i < sk_X509_num(untrusted); i++)
        if (sk_X509_push(certs, sk_X509_value(untrusted, i)) <= 0) {
            snprintf(why, n, "out of memory");
            goto out;
        }
    X509_VERIFY_PARAM *vp = X509_STORE_get0_param(tmp);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
    if (at)
        X509_VERIFY_PARAM_set_time(vp, at);
    ERR_clear_error();
    /* NOEXPLICIT: authority comes from the issuer relation only, never from
     * trust settings on a root; PARTIAL_CHAIN: the issuer is the anchor. */
    if (OCSP_basic_verify(bs, certs, tmp, OCSP_NOEXPLICIT | OCSP_PARTIAL_CHAIN) == 1)
        ok = 1;
    else
        revparse_ssl_error(why, n, "verification failed");
out:
    ERR_clear_error();
    sk_X509_free(certs);
    X509_STORE_free(tmp);
    return ok;
}

/* revparse_ocsp_single - the leaf's single response, whatever CertID hash it uses */
static OCSP_SINGLERESP *revparse_ocsp_single(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer)
{
    /* Responders answer with the request's hash: SHA-1 (RFC 5019) first. */
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer);
    int idx = id ? OCSP_resp_find(bs, id, -1) : -1;
    OCSP_CERTID_free(id);
    if (idx >= 0)
        return OCSP_resp_get0(bs, idx);
    /* Staples may use another hash (SHA-256): rebuild our CertID with each
     * response's algorithm. At most a bounded number of entries is tried. */
    int n = OCSP_resp_count(bs);
    for (int i = 0; i < n && i < 64; i++) {
        OCSP_SINGLERESP *sr = OCSP_resp_get0(bs, i);
        const OCSP_CERTID *cid = OCSP_SINGLERESP_get0_id(sr);
        ASN1_OBJECT *md_oid = NULL;
        if (!cid || !OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, (OCSP_CERTID *)cid))
            continue;
        const EVP_MD *md = EVP_get_digestbyobj(md_oid);
        if (!md || EVP_MD_is_a(md, "SHA1"))
            continue;
        OCSP_CERTID *mine = OCSP_cert_to_id(md, leaf, issuer);
        int same = mine && OCSP_id_cmp(mine, cid) == 0;
        OCSP_CERTID_free(mine);
        if (same)
            return sr;
    }
    ERR_clear_error();
    return NULL;
}

/* revparse_common - checks shared by OCSP and CRL before parsing */
static int revparse_common(X509 *leaf, X509 *issuer, revparse_result *out)
{
    if (!leaf || !issuer) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: the certificate's issuer is unknown");
        return 0;
    }
    if (X509_check_issued(issuer, leaf) != X509_V_OK) {
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: the given issuer did not issue the certificate");
        return 0;
    }
    return 1;
}

/* revparse_ocsp - judge an OCSP response: parse, status, nonce, signature,
 * issuer trust, the leaf's entry, freshness, in that order */
revparse_status revparse_ocsp(const unsigned char *der, size_t len, X509 *leaf, X509 *issuer,
                              STACK_OF(X509) *untrusted, X509_STORE *store, time_t at,
                              OCSP_REQUEST *req, revparse_result *out)
{
    revparse_init(out);
    if (!at)
        at = time(NULL);
    if (!revparse_common(leaf, issuer, out))
        return out->status;
    if (!der || len == 0)
        return revparse_set(out, REVPARSE_UNUSABLE, "unusable: empty OCSP response");
    if (len > REVPARSE_MAX_OCSP)
        return revparse_set(out, REVPARSE_UNUSABLE,
                            "unusable: OCSP response larger than %u bytes", REVPARSE_MAX_OCSP);
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    OCSP_BASICRESP *bs = NULL;
    char why[REVPARSE_DETAIL_MAX - 64];
    ERR_clear_error();
    if (!resp) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: not a DER OCSP response");
        goto done;
    }
    if (p != der + len) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: %zu bytes of garbage after the OCSP "
                     "response", (size_t)(der + len - p));
        goto done;
    }
    int rstatus = OCSP_response_status(resp);
    if (rstatus != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        /* RFC 6960 §4.2.1: malformedRequest, internalError, tryLater,
         * sigRequired, unauthorized carry no certificate status. */
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: the responder answered %s (%d)",
                     OCSP_response_status_str(rstatus), rstatus);
        goto done;
    }
    bs = OCSP_response_get1_basic(resp);
    if (!bs) {
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: not a basic OCSP response (id-pkix-ocsp-basic)");
        goto done;
    }
    if (req && OCSP_check_nonce(req, bs) == 0) {
        /* 0 is the only failure: both carry a nonce and they differ. A
         * response without one (-1) is accepted: many responders serve
         * pre-signed answers and ignore nonces (RFC 5019 §2.1). */
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: the nonce does not match the request (replayed or misrouted)");
        goto done;
    }
    if (!revparse_ocsp_verify(bs, issuer, untrusted, at, why, sizeof why)) {
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: the signature or the responder's authority does not verify: %s",
                     why);
        goto done;
    }
    if (!revparse_issuer_trusted(issuer, untrusted, store, at, why, sizeof why)) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: %s", why);
        goto done;
    }
    OCSP_SINGLERESP *sr = revparse_ocsp_single(bs, leaf, issuer);
    if (!sr) {
        char *serial = revparse_serial_text(leaf);
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: the response says nothing about this certificate (serial %s)",
                     serial ? serial : "?");
        free(serial);
        goto done;
    }
    int reason = -1;
    ASN1_GENERALIZEDTIME *revtime = NULL, *thisupd = NULL, *nextupd = NULL;
    int cstatus = OCSP_single_get0_status(sr, &reason, &revtime, &thisupd, &nextupd);
    if (!revparse_window(thisupd, nextupd, at, REVPARSE_MAX_AGE_NO_NEXT, out))
        goto done;
    switch (cstatus) {
    case V_OCSP_CERTSTATUS_GOOD:
        revparse_good(out, "the responder vouches for the certificate");
        break;
    case V_OCSP_CERTSTATUS_REVOKED:
        revparse_revoked(out, revtime, reason, NULL);
        break;
    case V_OCSP_CERTSTATUS_UNKNOWN:
        revparse_set(out, REVPARSE_UNKNOWN,
                     "unknown: the responder does not know the certificate");
        break;
    default:
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: unreadable certificate status");
        break;
    }
done:
    ERR_clear_error();
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return out->status;
}

/* revparse_crl_scope - refuse CRLs that do not cover every reason and every
 * end-entity certificate of the issuer (RFC 5280 §5.2.5, §6.3.3 (b)), and
 * critical extensions we do not process (§5.2: MUST reject). */
static int revparse_crl_scope(X509_CRL *crl, revparse_result *out)
{
    int crit = -1;
    ISSUING_DIST_POINT *idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
    if (idp) {
        const char *why = idp->onlyCA ? "it lists only CA certificates"
                          : idp->onlyattr ? "it lists only attribute certificates"
                          : idp->onlysomereasons ? "it covers only some revocation reasons"
                          : idp->indirectCRL ? "it is an indirect CRL"
                          : NULL;
        ISSUING_DIST_POINT_free(idp);
        if (why) {
            revparse_set(out, REVPARSE_UNUSABLE, "unusable: partial CRL (%s)", why);
            return 0;
        }
    } else if (crit != -1) {
        /* Present but unreadable. */
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: unreadable issuing distribution point extension");
        return 0;
    }
    const STACK_OF(X509_EXTENSION) *exts = X509_CRL_get0_extensions(crl);
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
        int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
        if (nid == NID_delta_crl) {
            revparse_set(out, REVPARSE_UNUSABLE,
                         "unusable: a delta CRL (only complete CRLs are supported)");
            return 0;
        }
        if (X509_EXTENSION_get_critical(ext) && nid != NID_issuing_distribution_point) {
            char name[80];
            OBJ_obj2txt(name, sizeof name, X509_EXTENSION_get_object(ext), 0);
            revparse_set(out, REVPARSE_UNUSABLE, "unusable: unsupported critical extension %s",
                         name);
            return 0;
        }
    }
    return 1;
}

/* revparse_crl_load - DER, or PEM when the text starts like PEM */
static X509_CRL *revparse_crl_load(const unsigned char *buf, size_t len, revparse_result *out)
{
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    static const char pem[] = "-----BEGIN";
    if (len - i >= sizeof pem - 1 && memcmp(buf + i, pem, sizeof pem - 1) == 0) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        X509_CRL *crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (!crl)
            revparse_set(out, REVPARSE_UNUSABLE, "unusable: not a PEM X509 CRL");
        return crl;
    }
    const unsigned char *p = buf;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
    if (!crl) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: not a DER or PEM CRL");
        return NULL;
    }
    if (p != buf + len) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: %zu bytes of garbage after the CRL",
                     (size_t)(buf + len - p));
        X509_CRL_free(crl);
        return NULL;
    }
    return crl;
}

/* revparse_crl - judge a CRL: parse, issuer name, key usage, signature,
 * issuer trust, scope, freshness, then look the leaf up */
revparse_status revparse_crl(const unsigned char *buf, size_t len, X509 *leaf, X509 *issuer,
                             STACK_OF(X509) *untrusted, X509_STORE *store, time_t at,
                             revparse_result *out)
{
    revparse_init(out);
    if (!at)
        at = time(NULL);
    if (!revparse_common(leaf, issuer, out))
        return out->status;
    if (!buf || len == 0)
        return revparse_set(out, REVPARSE_UNUSABLE, "unusable: empty CRL");
    if (len > REVPARSE_MAX_CRL)
        return revparse_set(out, REVPARSE_UNUSABLE, "unusable: CRL larger than %u bytes",
                            REVPARSE_MAX_CRL);
    ERR_clear_error();
    X509_CRL *crl = revparse_crl_load(buf, len, out);
    char why[REVPARSE_DETAIL_MAX - 64];
    if (!crl)
        goto done;
    /* RFC 5280 §6.3.3 (b), (f): issued under the certificate issuer's name
     * and verified with its key, which must be allowed to sign CRLs. */
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
        char *cn = fp_name_text(X509_CRL_get_issuer(crl));
        char *in = fp_name_text(X509_get_subject_name(issuer));
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: issued by \"%s\", not by the certificate's issuer \"%s\"",
                     cn ? cn : "?", in ? in : "?");
        free(cn);
        free(in);
        goto done;
    }
    if (!(X509_get_key_usage(issuer) & KU_CRL_SIGN)) {
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: the issuer's key usage does not allow signing CRLs");
        goto done;
    }
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    if (!key || X509_CRL_verify(crl, key) != 1) {
        revparse_set(out, REVPARSE_UNUSABLE,
                     "unusable: the signature does not verify with the issuer's key");
        goto done;
    }
    if (!revparse_issuer_trusted(issuer, untrusted, store, at, why, sizeof why)) {
        revparse_set(out, REVPARSE_UNUSABLE, "unusable: %s", why);
        goto done;
    }
    if (!revparse_crl_scope(crl, out))
        goto done;
    if (!revparse_window(X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl), at, 0,
                         out))
        goto done;
    X509_REVOKED *rev = NULL;
    /* 1: listed; 2: listed as removeFromCRL, which only delta CRLs use. */
    if (X509_CRL_get0_by_cert(crl, &rev, leaf) == 1 && rev) {
        int crit = -1, reason = -1;
        ASN1_ENUMERATED *r = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
        if (r) {
            long v = ASN1_ENUMERATED_get(r);
            reason = v >= 0 && v <= 10 ? (int)v : -1;
            ASN1_ENUMERATED_free(r);
        }
        revparse_revoked(out, X509_REVOKED_get0_revocationDate(rev), reason, NULL);
        goto done;
    }
    char what[64];
    int listed = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)); /* -1: no list at all */
    snprintf(what, sizeof what, "not listed among %d revoked certificates",
             listed > 0 ? listed : 0);
    revparse_good(out, what);
done:
    ERR_clear_error();
    X509_CRL_free(crl);
    return out->status;
}

/* revparse_ocsp_request - SHA-1 CertID for (leaf, issuer), optional nonce */
OCSP_REQUEST *revparse_ocsp_request(X509 *leaf, X509 *issuer, int nonce)
{
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    OCSP_CERTID *id = req ? OCSP_cert_to_id(NULL, leaf, issuer) : NULL;
    if (!id || !OCSP_request_add0_id(req, id)) {
        OCSP_CERTID_free(id);
        OCSP_REQUEST_free(req);
        ERR_clear_error();
        return NULL;
    }
    if (nonce && OCSP_request_add1_nonce(req, NULL, -1) != 1) {
        OCSP_REQUEST_free(req);
        ERR_clear_error();
        return NULL;
    }
    return req;
}
