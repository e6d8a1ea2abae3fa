/* test_policy.c - evidence x level -> verdict, one test per rule of
 * docs/policies.md, plus the JSON report of results
 *
 * Every test asserts the exact verdict, security, decisive reason code and
 * status (RFC 3463), and for failures the reference identities and the advice.
 * Certificates come from tests/pki/gen-unit-certs.sh ($MXTLS_TEST_CERTS);
 * a few that the script cannot make (bad signature, a non-CA issuer, an
 * unknown critical extension) are built here with the test intermediate's
 * key. Validation time: 2026-06-01T00:00:00Z unless a test says otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/ctx.h"
#include "core/evidence.h"
#include "core/fingerprint.h"
#include "core/result.h"
#include "mxtls.h"
#include "testutil.h"

#define AT_DEFAULT "2026-06-01T00:00:00Z"
#define MAX_LIST 4

/* ev_spec - the evidence of one test, as mxtls verify's flags would give it */
struct ev_spec {
    const char *chain; /* file in $MXTLS_TEST_CERTS */
    const char *pem;   /* or PEM text */
    int no_tls;
    const char *domain;
    const char *mx[MAX_LIST];
    int mx_secure;
    const char *ip;
    const char *ptr[MAX_LIST];
    int ptr_confirmed[MAX_LIST];
    const char *route[MAX_LIST];
    const char *host; /* the host that presented the chain (a route), as check sets it */
    const char *tlsa[MAX_LIST]; /* "U S M HEX", DNSSEC-secure at tlsa_base (or the host) */
    const char *tlsa_base;
    const char *match;
    const char *digest;
    const char *at;
    const char *tls_failed; /* STARTTLS offered, TLS failed: why */
    int after_220;
    int implicit_tls; /* TLS on connect (port 465): no plaintext */
    int anonymous;    /* TLS with an anonymous suite: no certificate */
    mxtls_revocation_status revocation;
    const char *rev_detail;
    int rev_mode; /* 0: the default (soft); else mxtls_revocation_mode + 1 */
};

/* at_time - "YYYY-MM-DDTHH:MM:SSZ" to time_t */
static time_t at_time(const char *s)
{
    struct tm tm = {0};
    int n = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
    assert_int_equal(n, 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* build - context and evidence for a spec; the context trusts ca.pem only */
static void build(const struct ev_spec *s, mxtls_ctx **ctxp, mxtls_evidence **evp)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    assert_non_null(ctx);
    assert_non_null(ev);
    assert_int_equal(mxtls_ctx_set_ca_file(ctx, tu_certs_path("ca.pem")), MXTLS_OK);
    mxtls_ctx_set_time(ctx, at_time(s->at ? s->at : AT_DEFAULT));
#define OK(call)                                                                               \
    do {                                                                                       \
        if ((call) != MXTLS_OK)                                                                \
            fail_msg("%s: %s: %s", #call, mxtls_ctx_error_where(ctx), mxtls_ctx_error(ctx)); \
    } while (0)
    if (s->domain)
        OK(mxtls_evidence_set_domain(ctx, ev, s->domain));
    for (int i = 0; i < MAX_LIST && s->mx[i]; i++)
        OK(mxtls_evidence_add_mx(ctx, ev, s->mx[i]));
    mxtls_evidence_set_mx_secure(ev, s->mx_secure);
    if (s->ip)
        OK(mxtls_evidence_set_ip(ctx, ev, s->ip));
    for (int i = 0; i < MAX_LIST && s->ptr[i]; i++)
        OK(mxtls_evidence_add_ptr(ctx, ev, s->ptr[i], s->ptr_confirmed[i]));
    for (int i = 0; i < MAX_LIST && s->route[i]; i++)
        OK(mxtls_evidence_add_route(ctx, ev, s->route[i]));
    if (s->host)
        OK(evidence_set_host(ev, s->host, &ctx->err));
    for (int i = 0; i < MAX_LIST && s->tlsa[i]; i++)
        OK(mxtls_evidence_add_tlsa(ctx, ev, s->tlsa[i]));
    if (s->tlsa[0])
        OK(mxtls_evidence_set_tlsa_state(ctx, ev, MXTLS_TLSA_SECURE, s->tlsa_base, NULL));
    if (s->match)
        OK(mxtls_evidence_set_match(ctx, ev, s->match));
    if (s->digest)
        OK(mxtls_evidence_set_fingerprint_digest(ctx, ev, s->digest));
    mxtls_evidence_set_no_tls(ev, s->no_tls);
    ev->implicit_tls = s->implicit_tls;
    ev->tls_anonymous = s->anonymous;
    if (s->tls_failed)
        OK(mxtls_evidence_set_tls_failed(ctx, ev, s->after_220, s->tls_failed));
    if (s->revocation)
        OK(mxtls_evidence_set_revocation(ctx, ev, s->revocation, s->rev_detail));
    if (s->rev_mode)
        mxtls_ctx_set_revocation(ctx, (mxtls_revocation_mode)(s->rev_mode - 1));
    if (s->chain) {
        size_t len;
        char *pem = tu_read_cert(s->chain, &len);
        OK(mxtls_evidence_set_chain_pem(ctx, ev, pem, len, s->chain));
        free(pem);
    } else if (s->pem) {
        OK(mxtls_evidence_set_chain_pem(ctx, ev, s->pem, strlen(s->pem), "built.pem"));
    }
#undef OK
    *ctxp = ctx;
    *evp = ev;
}

/* eval - the result of one level for a spec (must not be an error) */
static mxtls_result *eval(const struct ev_spec *s, mxtls_level level)
{
    mxtls_ctx *ctx;
    mxtls_evidence *ev;
    build(s, &ctx, &ev);
    mxtls_result *r = mxtls_evaluate(ctx, ev, level);
    if (!r)
        fail_msg("evaluate %s: %s: %s", mxtls_level_name(level), mxtls_ctx_error_where(ctx),
                 mxtls_ctx_error(ctx));
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    return r;
}

#define EV(...) (&(const struct ev_spec){__VA_ARGS__})

/* expect - verdict, security, and the decisive reason (code, status) */
static void expect(const mxtls_result *r, mxtls_verdict v, mxtls_security sec, const char *code,
                   const char *status)
{
    if (r->verdict != v || r->security != sec || r->nreasons == 0 ||
        strcmp(r->reasons[0].code, code) != 0) {
        char *text = mxtls_result_text(r, 0);
        fail_msg("expected %s/%s %s, got:\n%s", mxtls_verdict_name(v), mxtls_security_name(sec),
                 code, text ? text : "?");
    }
    assert_string_equal(r->reasons[0].kind, "decisive");
    if (status)
        assert_string_equal(r->reasons[0].status ? r->reasons[0].status : "(null)", status);
    else
        assert_null(r->reasons[0].status);
    assert_string_equal(mxtls_result_reason_code(r, 0), code);
    assert_int_equal(mxtls_result_verdict(r), v);
    assert_int_equal(mxtls_result_security(r), sec);
}

/* reason_at - the reason at i must be (kind, code, status) */
static void reason_at(const mxtls_result *r, size_t i, const char *kind, const char *code,
                      const char *status)
{
    if (i >= r->nreasons)
        fail_msg("no reason #%zu (want %s); there are %zu", i, code, r->nreasons);
    assert_string_equal(r->reasons[i].code, code);
    assert_string_equal(r->reasons[i].kind, kind);
    if (status)
        assert_string_equal(r->reasons[i].status ? r->reasons[i].status : "(null)", status);
    else
        assert_null(r->reasons[i].status);
}

/* has_reason - index of the reason with this code, or -1 */
static int has_reason(const mxtls_result *r, const char *code)
{
    for (size_t i = 0; i < r->nreasons; i++)
        if (strcmp(r->reasons[i].code, code) == 0)
            return (int)i;
    return -1;
}

/* refs - the reference identities must be exactly these "name/against/source" */
static void refs(const mxtls_result *r, ...)
{
    va_list ap;
    va_start(ap, r);
    size_t i = 0;
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *), i++) {
        if (i >= r->nrefs)
            fail_msg("missing reference #%zu %s", i, want);
        char got[512];
        snprintf(got, sizeof got, "%s/%s/%s", r->refs[i].name, r->refs[i].against,
                 r->refs[i].source);
        assert_string_equal(got, want);
        assert_string_equal(mxtls_result_reference(r, i), r->refs[i].name);
    }
    va_end(ap);
    assert_int_equal(r->nrefs, i);
    assert_int_equal(mxtls_result_reference_count(r), i);
}

/* matched - the matched pair (NULL, NULL: nothing matched) */
static void matched(const mxtls_result *r, const char *ref, const char *pres)
{
    if (!ref) {
        assert_null(mxtls_result_matched_reference(r));
        assert_null(mxtls_result_matched_presented(r));
        return;
    }
    assert_non_null(mxtls_result_matched_reference(r));
    assert_string_equal(mxtls_result_matched_reference(r), ref);
    assert_string_equal(mxtls_result_matched_presented(r), pres);
}

/* advice_has - some advice sentence contains the fragment */
static void advice_has(const mxtls_result *r, const char *frag)
{
    for (size_t i = 0; i < mxtls_result_advice_count(r); i++)
        if (strstr(mxtls_result_advice(r, i), frag))
            return;
    char *text = mxtls_result_text(r, 0);
    fail_msg("no advice contains \"%s\":\n%s", frag, text ? text : "?");
}

static void message_has(const mxtls_result *r, size_t i, const char *frag)
{
    assert_true(i < r->nreasons);
    if (!strstr(r->reasons[i].message, frag))
        fail_msg("reason %zu \"%s\" lacks \"%s\"", i, r->reasons[i].message, frag);
}

/* ---- certificates built here --------------------------------------------- */

/* make_cert - a certificate for `cn` (and SAN dNSName `dns` if given) issued by
 * `issuer` (NULL: self-issued) with `ikey`; ca: basicConstraints CA:TRUE;
 * crit_unknown: an unknown critical extension. Validity nb..na (NULL:
 * 2025..2035). */
static X509 *make_cert_v(const char *cn, const char *dns, X509 *issuer, EVP_PKEY *ikey, int ca,
                         int crit_unknown, const char *nb, const char *na)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0x7fffffff));
    assert_int_equal(ASN1_TIME_set_string(X509_getm_notBefore(x), nb ? nb : "20250101000000Z"), 1);
    assert_int_equal(ASN1_TIME_set_string(X509_getm_notAfter(x), na ? na : "20350101000000Z"), 1);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_NAME_free(n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
    X509_set_pubkey(x, tu_key());
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    const char *exts[][2] = {
        {"basicConstraints", ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
        {"keyUsage", ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"},
        {"extendedKeyUsage", "serverAuth"},
        {"subjectAltName", NULL},
    };
    char san[300];
    for (size_t i = 0; i < 4; i++) {
        const char *val = exts[i][1];
        if (i == 3) {
            if (!dns)
                continue;
            snprintf(san, sizeof san, "DNS:%s", dns);
            val = san;
        }
        X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &v3, exts[i][0], val);
        assert_non_null(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (crit_unknown) {
        ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.55555.1.1", 1);
        ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
        static const unsigned char null_der[] = {0x05, 0x00};
        ASN1_OCTET_STRING_set(data, null_der, sizeof null_der);
        X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, data);
        assert_non_null(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(data);
        ASN1_OBJECT_free(oid);
    }
    assert_true(X509_sign(x, ikey ? ikey : tu_key(), EVP_sha256()) > 0);
    return x;
}

static X509 *make_cert(const char *cn, const char *dns, X509 *issuer, EVP_PKEY *ikey, int ca,
                       int crit_unknown)
{
    return make_cert_v(cn, dns, issuer, ikey, ca, crit_unknown, NULL, NULL);
}

/* chain_pem - PEM of several certificates, leaf first; caller frees */
static char *chain_pem(X509 *a, X509 *b, X509 *c)
{
    char *pa = tu_pem(a), *pb = b ? tu_pem(b) : strdup(""), *pc = c ? tu_pem(c) : strdup("");
    size_t n = strlen(pa) + strlen(pb) + strlen(pc) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%s%s%s", pa, pb, pc);
    free(pa);
    free(pb);
    free(pc);
    return out;
}

/* fingerprint - digest of a test certificate computed here, independently of
 * fingerprint.c: the DER certificate, or the DER SubjectPublicKeyInfo */
static char *fingerprint(const char *file, const char *digest, int pubkey)
{
    X509 *x = tu_load_x509(file);
    unsigned char *der = NULL;
    int len = pubkey ? i2d_PUBKEY(X509_get0_pubkey(x), &der) : i2d_X509(x, &der);
    assert_true(len > 0);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    assert_int_equal(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_get_digestbyname(digest),
                                NULL),
                     1);
    OPENSSL_free(der);
    X509_free(x);
    char *hex = malloc(mdlen * 3 + 1);
    assert_non_null(hex);
    for (unsigned int i = 0; i < mdlen; i++)
        sprintf(hex + 3 * i, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
    return hex;
}

/* ---- level none ----------------------------------------------------------- */

static void test_none_with_tls(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}),
                           MXTLS_LEVEL_NONE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "tls-disabled", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    assert_int_equal(mxtls_result_level(r), MXTLS_LEVEL_NONE);
    refs(r, NULL);
    matched(r, NULL, NULL);
    assert_int_equal(r->pkix_checked, 0);
    mxtls_result_free(r);
}

static void test_none_ignores_certificate(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "expired-chain.pem", .domain = "example.com"),
                           MXTLS_LEVEL_NONE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "tls-disabled", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

/* Level none never asks for STARTTLS, so whether the server offers it is not
 * what decides: the decisive reason stays tls-disabled. */
static void test_none_without_tls(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.no_tls = 1, .domain = "example.com"), MXTLS_LEVEL_NONE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "tls-disabled", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

/* A server that speaks only TLS (port 465, RFC 8314): a sender at level none
 * never starts TLS, so it cannot deliver there. The other levels do not mind
 * how TLS began. */
static void test_none_implicit_tls(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .implicit_tls = 1),
                           MXTLS_LEVEL_NONE);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "implicit-tls", NULL);
    assert_string_equal(r->reasons[0].message,
                        "the server speaks only TLS (implicit TLS, RFC 8314), and a sender at "
                        "level none does not use TLS");
    assert_int_equal(mxtls_result_reason_count(r), 1);
    refs(r, NULL);
    mxtls_result_free(r);
    /* the handshake failed as well: still the missing plaintext decides */
    r = eval(EV(.domain = "example.com", .tls_failed = "handshake failure", .after_220 = 1,
                .implicit_tls = 1),
             MXTLS_LEVEL_NONE);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "implicit-tls", NULL);
    mxtls_result_free(r);
    /* levels that use TLS pass as on port 25 */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .implicit_tls = 1),
             MXTLS_LEVEL_MAY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL);
    mxtls_result_free(r);
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .mx_secure = 1, .implicit_tls = 1),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    mxtls_result_free(r);
}

/* ---- no STARTTLS ------------------------------------------------------- */

static void no_tls_case(mxtls_level level, mxtls_verdict v, mxtls_security sec,
                        const char *status, const char *match)
{
    mxtls_result *r = eval(EV(.no_tls = 1, .domain = "example.com", .mx = {"mx1.example.com"},
                              .match = match),
                           level);
    expect(r, v, sec, "no-starttls", status);
    message_has(r, 0, mxtls_level_name(level));
    advice_has(r, "Offer STARTTLS");
    refs(r, NULL);
    matched(r, NULL, NULL);
    assert_int_equal(r->pkix_checked, 0);
    assert_int_equal(r->nchain, 0);
    /* no certificate: no certificate warnings; no mx-insecure either */
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

#define NO_TLS_PASS(name, level)                                                               \
    static void test_no_tls_##name(void **state)                                              \
    {                                                                                          \
        (void)state;                                                                           \
        no_tls_case(level, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, NULL, NULL);          \
    }
/* Postfix logs 4.7.4 "TLS is required, but was not offered"; Cisco's modes
 * carry no Postfix status (docs/policies.md). */
#define NO_TLS_FAIL(name, level, match)                                                        \
    static void test_no_tls_##name(void **state)                                              \
    {                                                                                          \
        (void)state;                                                                           \
        no_tls_case(level, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE,                            \
                    (level) <= MXTLS_LEVEL_DANE_ONLY ? "4.7.4" : NULL, match);                 \
    }

NO_TLS_PASS(may, MXTLS_LEVEL_MAY)
NO_TLS_PASS(esa_preferred, MXTLS_LEVEL_ESA_PREFERRED)
NO_TLS_PASS(esa_preferred_verify, MXTLS_LEVEL_ESA_PREFERRED_VERIFY)
NO_TLS_FAIL(encrypt, MXTLS_LEVEL_ENCRYPT, NULL)
NO_TLS_FAIL(fingerprint, MXTLS_LEVEL_FINGERPRINT, "AB:CD")
/* no fingerprints and no TLS: the missing TLS decides, not the policy */
NO_TLS_FAIL(fingerprint_no_items, MXTLS_LEVEL_FINGERPRINT, NULL)
NO_TLS_FAIL(verify, MXTLS_LEVEL_VERIFY, NULL)
NO_TLS_FAIL(secure, MXTLS_LEVEL_SECURE, NULL)
NO_TLS_FAIL(esa_required, MXTLS_LEVEL_ESA_REQUIRED, NULL)
NO_TLS_FAIL(esa_required_verify, MXTLS_LEVEL_ESA_REQUIRED_VERIFY, NULL)
NO_TLS_FAIL(esa_required_verify_hosted, MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED, NULL)

/* ---- unauthenticated TLS: any certificate ------------------------------- */

static void encrypted_case(mxtls_level level)
{
    static const char *const chains[] = {
        "mx1-chain.pem", "expired-chain.pem", "future-chain.pem", "self-chain.pem",
        "othermx1-chain.pem", "clientonly-chain.pem", "mx1-leafonly.pem", "helo-chain.pem",
    };
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        mxtls_result *r = eval(EV(.chain = chains[i], .domain = "example.com",
                                  .mx = {"mx9.other.test"}),
                               level);
        expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL);
        message_has(r, 0, mxtls_level_name(level));
        assert_int_equal(mxtls_result_reason_count(r), 1); /* no warnings for these */
        refs(r, NULL);
        matched(r, NULL, NULL);
        assert_int_equal(r->pkix_checked, 0);
        mxtls_result_free(r);
    }
    /* a CN-only certificate still passes, with the warning */
    mxtls_result *r = eval(EV(.chain = "cnonly-chain.pem", .domain = "example.com"), level);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL);
    reason_at(r, 1, "warning", "cn-only", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 2);
    mxtls_result_free(r);
}

static void test_may_encrypted(void **state)
{
    (void)state;
    encrypted_case(MXTLS_LEVEL_MAY);
}

static void test_encrypt_encrypted(void **state)
{
    (void)state;
    encrypted_case(MXTLS_LEVEL_ENCRYPT);
}

static void test_esa_preferred_encrypted(void **state)
{
    (void)state;
    encrypted_case(MXTLS_LEVEL_ESA_PREFERRED);
}

static void test_esa_required_encrypted(void **state)
{
    (void)state;
    encrypted_case(MXTLS_LEVEL_ESA_REQUIRED);
}

/* ---- fingerprint ----------------------------------------------------------- */

static void test_fingerprint_cert_match(void **state)
{
    (void)state;
    char *fp = fingerprint("mx1.crt", "sha256", 0);
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = fp),
                           MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "fingerprint-match", NULL);
    message_has(r, 0, "certificate sha256 digest");
    matched(r, fp, fp);
    assert_string_equal(r->fp_cert, fp);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    assert_int_equal(r->pkix_checked, 0);
    mxtls_result_free(r);
    free(fp);
}

static void test_fingerprint_pubkey_match(void **state)
{
    (void)state;
    char *fp = fingerprint("mx1.crt", "sha256", 1);
    char *certfp = fingerprint("mx1.crt", "sha256", 0);
    assert_string_not_equal(fp, certfp);
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = fp),
                           MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "fingerprint-match", NULL);
    message_has(r, 0, "public-key sha256 digest");
    matched(r, fp, fp);
    assert_string_equal(r->fp_pubkey, fp);
    mxtls_result_free(r);
    free(fp);
    free(certfp);
}

/* lower case, no colons, among several items separated by '|' */
static void test_fingerprint_forms(void **state)
{
    (void)state;
    char *fp = fingerprint("mx1.crt", "sha256", 0);
    char plain[128], list[512];
    size_t o = 0;
    for (const char *p = fp; *p; p++)
        if (*p != ':')
            plain[o++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    plain[o] = '\0';
    snprintf(list, sizeof list, "00:11:22|%s", plain);
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = list),
                           MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "fingerprint-match", NULL);
    matched(r, plain, fp);
    mxtls_result_free(r);

    /* ", " separates items too */
    snprintf(list, sizeof list, "AA:BB, %s", fp);
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = list),
             MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "fingerprint-match", NULL);
    mxtls_result_free(r);

    /* a prefix of the digest is not the digest */
    snprintf(list, sizeof list, "%.*s", (int)strlen(fp) - 3, fp);
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = list),
             MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "fingerprint-mismatch", "4.7.5");
    mxtls_result_free(r);
    free(fp);
}

static void test_fingerprint_other_digests(void **state)
{
    (void)state;
    static const char *const digests[] = {"sha1", "md5"};
    for (size_t i = 0; i < 2; i++) {
        char *fp = fingerprint("mx1.crt", digests[i], 0);
        mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                                  .match = fp, .digest = digests[i]),
                               MXTLS_LEVEL_FINGERPRINT);
        expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "fingerprint-match", NULL);
        assert_string_equal(r->fp_digest, digests[i]);
        mxtls_result_free(r);
        /* the same digest with the default sha256 matches nothing */
        r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = fp),
                 MXTLS_LEVEL_FINGERPRINT);
        expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "fingerprint-mismatch", "4.7.5");
        mxtls_result_free(r);
        free(fp);
    }
    /* upper-case digest name is accepted and folded */
    char *fp = fingerprint("mx1.crt", "sha1", 1);
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = fp,
                              .digest = "SHA1"),
                           MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "fingerprint-match", NULL);
    assert_string_equal(r->fp_digest, "sha1");
    mxtls_result_free(r);
    free(fp);
}

static void test_fingerprint_mismatch(void **state)
{
    (void)state;
    char *other = fingerprint("helo.crt", "sha256", 0);
    char list[512];
    snprintf(list, sizeof list, "%s|%s", other, "AB:CD");
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .match = list),
                           MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "fingerprint-mismatch", "4.7.5");
    message_has(r, 0, "is among the 2 configured fingerprint(s)");
    message_has(r, 0, r->fp_cert);
    message_has(r, 0, r->fp_pubkey);
    matched(r, NULL, NULL);
    refs(r, NULL);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
    free(other);
}

/* A fingerprint in another digest than the selected one: the advice says
 * which digest it looks like (by its length), and when it is that digest of
 * this certificate, which digest to configure instead. */
static void test_fingerprint_wrong_digest_advice(void **state)
{
    (void)state;
    char want[1024];
    /* the SHA-1 digest of this certificate, the sender at sha256 */
    char *sha1 = fingerprint("mx1.crt", "sha1", 0);
    char *sha256 = fingerprint("mx1.crt", "sha256", 0);
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = sha1),
                           MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "fingerprint-mismatch", "4.7.5");
    snprintf(want, sizeof want,
             "The fingerprint %s is the SHA-1 digest of the server's certificate, but the sender "
             "computes SHA-256 digests (Postfix smtp_tls_fingerprint_digest = sha256): configure "
             "its SHA-256 digest %s instead, or set the digest to sha1.",
             sha1, sha256);
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0), want);
    mxtls_result_free(r);

    /* the SHA-256 digest of the public key, the sender at md5 */
    char *pk256 = fingerprint("mx1.crt", "sha256", 1);
    char *pkmd5 = fingerprint("mx1.crt", "md5", 1);
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = pk256,
                .digest = "md5"),
             MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "fingerprint-mismatch", "4.7.5");
    snprintf(want, sizeof want,
             "The fingerprint %s is the SHA-256 digest of the server's public key, but the "
             "sender computes MD5 digests (Postfix smtp_tls_fingerprint_digest = md5): configure "
             "its MD5 digest %s instead, or set the digest to sha256.",
             pk256, pkmd5);
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0), want);
    mxtls_result_free(r);

    /* an MD5-long digest of another certificate: only the length speaks */
    char *md5 = fingerprint("helo.crt", "md5", 0);
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = md5),
             MXTLS_LEVEL_FINGERPRINT);
    snprintf(want, sizeof want,
             "The fingerprint %s has 16 bytes, the length of an MD5 digest, but the sender "
             "computes SHA-256 digests (Postfix smtp_tls_fingerprint_digest = sha256), so it can "
             "never match: give the SHA-256 digest of the certificate or of its public key "
             "(mxtls fingerprint prints them), or set the digest to md5 if that is the one "
             "meant.",
             md5);
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0), want);
    mxtls_result_free(r);

    /* no digest has 2 bytes; the right length says nothing about digests */
    char list[512];
    char *other = fingerprint("helo.crt", "sha256", 0);
    snprintf(list, sizeof list, "AB:CD|%s", other);
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = list),
             MXTLS_LEVEL_FINGERPRINT);
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "The fingerprint AB:CD has 2 bytes, the length of no digest (MD5 16, "
                        "SHA-1 20, SHA-256 32, SHA-384 48, SHA-512 64 bytes), so it can never "
                        "match: give the SHA-256 digest of the certificate or of its public key "
                        "(mxtls fingerprint prints them).");
    mxtls_result_free(r);
    free(sha1);
    free(sha256);
    free(pk256);
    free(pkmd5);
    free(md5);
    free(other);
}

static void test_fingerprint_no_items(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com"),
                           MXTLS_LEVEL_FINGERPRINT);
    expect(r, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "no-fingerprints", "4.7.5");
    matched(r, NULL, NULL);
    mxtls_result_free(r);
}

/* No PKIX at this level: an expired or self-signed certificate with the
 * configured fingerprint is accepted (that is what fingerprint pinning is for). */
static void test_fingerprint_ignores_pkix(void **state)
{
    (void)state;
    static const char *const files[][2] = {{"expired.crt", "expired-chain.pem"},
                                           {"self.crt", "self-chain.pem"},
                                           {"future.crt", "future-chain.pem"},
                                           {"clientonly.crt", "clientonly-chain.pem"}};
    for (size_t i = 0; i < 4; i++) {
        char *fp = fingerprint(files[i][0], "sha256", 0);
        mxtls_result *r = eval(EV(.chain = files[i][1], .domain = "example.com", .match = fp),
                               MXTLS_LEVEL_FINGERPRINT);
        expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "fingerprint-match", NULL);
        assert_int_equal(r->pkix_checked, 0);
        assert_int_equal(has_reason(r, "expired"), -1);
        mxtls_result_free(r);
        free(fp);
    }
}

/* ---- verify ------------------------------------------------------------ */

static void test_verify_pass(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com", "mx2.example.com"}),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    message_has(r, 0, "mx1.example.com");
    refs(r, "mx1.example.com/dns-or-cn/hostname", NULL);
    matched(r, "mx1.example.com", "mx1.example.com");
    /* the MX came from an unsigned lookup */
    reason_at(r, 1, "warning", "mx-insecure", NULL);
    message_has(r, 1, "mx1.example.com");
    assert_int_equal(mxtls_result_reason_count(r), 2);
    assert_int_equal(r->pkix_checked, 1);
    assert_int_equal(r->pkix_valid, 1);
    assert_null(r->pkix_code);
    mxtls_result_free(r);
}

static void test_verify_mx_secure(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .mx_secure = 1),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    assert_int_equal(has_reason(r, "mx-insecure"), -1);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    assert_int_equal(mxtls_result_advice_count(r), 0);
    mxtls_result_free(r);
}

/* No MX given: the domain is the host (RFC 5321 §5.1), and no MX lookup means
 * no mx-insecure. */
static void test_verify_implicit_mx(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "domain-chain.pem", .domain = "Example.COM."),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "example.com/dns-or-cn/hostname", NULL);
    matched(r, "example.com", "example.com");
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);

    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com"), MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    refs(r, "example.com/dns-or-cn/hostname", NULL);
    advice_has(r, "must carry the MX hostname example.com as a DNS subjectAltName");
    assert_int_equal(has_reason(r, "mx-insecure"), -1);
    mxtls_result_free(r);
}

static void test_helo_name_is_not_mx(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "helo-chain.pem", .domain = "example.com",
                              .mx = {"mx.example.com"}),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    assert_string_equal(r->reasons[0].message,
                        "no certificate name matches the reference identities (mx.example.com); "
                        "the certificate carries foo.example.com, CN=foo.example.com");
    refs(r, "mx.example.com/dns-or-cn/hostname", NULL);
    matched(r, NULL, NULL);
    advice_has(r, "The certificate must carry the MX hostname mx.example.com as a DNS "
                  "subjectAltName (it carries: foo.example.com, CN=foo.example.com). The "
                  "HELO/EHLO name does not matter for verification.");
    /* the chain itself is fine */
    assert_int_equal(r->pkix_valid, 1);
    assert_int_equal(has_reason(r, "expired"), -1);
    reason_at(r, 1, "warning", "mx-insecure", NULL);
    mxtls_result_free(r);
}

static void test_verify_name_mismatch_disagree(void **state)
{
    (void)state;
    /* SAN mx2, CN mx1: the CN is not consulted when a dNSName exists */
    mxtls_result *r = eval(EV(.chain = "disagree-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .mx_secure = 1),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    message_has(r, 0, "the certificate carries mx2.example.com, CN=mx1.example.com");
    advice_has(r, "MX hostname mx1.example.com");
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

static void test_verify_cn_only(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "cnonly-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .mx_secure = 1),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, "mx1.example.com", "mx1.example.com");
    reason_at(r, 1, "warning", "cn-only", NULL);
    advice_has(r, "subjectAltName extension");
    assert_int_equal(mxtls_result_reason_count(r), 2);
    mxtls_result_free(r);
}

static void test_verify_wildcard(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "wild-chain.pem", .domain = "example.com",
                              .mx = {"MX7.Example.com."}, .mx_secure = 1),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, "mx7.example.com", "*.example.com");
    mxtls_result_free(r);

    r = eval(EV(.chain = "wild-chain.pem", .domain = "example.com", .mx = {"a.b.example.com"},
                .mx_secure = 1),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    advice_has(r, "The wildcard *.example.com covers exactly one label, so it does not cover "
                  "a.b.example.com: add a.b.example.com itself (or *.b.example.com) to the "
                  "certificate.");
    mxtls_result_free(r);

    /* a partial wildcard never matches (the same rule as DANE-TA, test_dane.c) */
    r = eval(EV(.chain = "partial-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .mx_secure = 1),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    matched(r, NULL, NULL);
    assert_int_equal(r->pkix_valid, 1);
    mxtls_result_free(r);
}

static void test_verify_idn(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "idn-chain.pem", .domain = "münchen.example",
                              .mx = {"MX.MÜNCHEN.example"}, .mx_secure = 1),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "mx.xn--mnchen-3ya.example/dns-or-cn/hostname", NULL);
    matched(r, "mx.xn--mnchen-3ya.example", "mx.xn--mnchen-3ya.example");
    assert_string_equal(r->domain, "xn--mnchen-3ya.example");
    mxtls_result_free(r);
}

/* pkix_fail - verify must fail with this PKIX code first (4.7.5) */
static mxtls_result *pkix_fail(const struct ev_spec *s, mxtls_level level, const char *code,
                               int depth)
{
    mxtls_result *r = eval(s, level);
    const char *status = level == MXTLS_LEVEL_VERIFY || level == MXTLS_LEVEL_SECURE ? "4.7.5"
                                                                                     : NULL;
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, code, status);
    assert_int_equal(r->pkix_checked, 1);
    assert_int_equal(r->pkix_valid, 0);
    assert_string_equal(r->pkix_code, code);
    assert_int_equal(r->pkix_depth, depth);
    assert_string_equal(r->reasons[0].message, r->pkix_message);
    /* the name matched: no name-mismatch */
    assert_int_equal(has_reason(r, "name-mismatch"), -1);
    return r;
}

#define VERIFY_SPEC(file) EV(.chain = file, .domain = "example.com", .mx = {"mx1.example.com"})

static void test_verify_expired(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(VERIFY_SPEC("expired-chain.pem"), MXTLS_LEVEL_VERIFY,
                                "expired", 0);
    message_has(r, 0, "the server certificate \"O=mxtls test,CN=mx1.example.com\" has expired");
    advice_has(r, "Renew the certificate: it expired on 2021-01-01T00:00:00Z.");
    /* no expires-soon for a certificate that has expired */
    assert_int_equal(has_reason(r, "expires-soon"), -1);
    mxtls_result_free(r);
}

/* An expired intermediate: the advice names it and its dates, not the leaf's. */
static void test_verify_expired_intermediate(void **state)
{
    (void)state;
    X509 *root = tu_load_x509("root.crt");
    EVP_PKEY *rkey = tu_load_key("root.key");
    X509 *old = make_cert_v("Old Intermediate", NULL, root, rkey, 1, 0, "20200101000000Z",
                            "20210101000000Z");
    X509 *leaf = make_cert("mx1.example.com", "mx1.example.com", old, NULL, 0, 0);
    char *pem = chain_pem(leaf, old, NULL);
    mxtls_result *r = pkix_fail(EV(.pem = pem, .domain = "example.com",
                                   .mx = {"mx1.example.com"}),
                                MXTLS_LEVEL_VERIFY, "expired", 1);
    assert_string_equal(r->reasons[0].message,
                        "a certificate in the chain \"CN=Old Intermediate\" has expired");
    advice_has(r, "The chain certificate CN=Old Intermediate is valid from "
                  "2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z: send its current version.");
    for (size_t i = 0; i < mxtls_result_advice_count(r); i++)
        assert_null(strstr(mxtls_result_advice(r, i), "2035-01-01"));
    mxtls_result_free(r);
    free(pem);
    X509_free(leaf);
    X509_free(old);
    EVP_PKEY_free(rkey);
    X509_free(root);
}

/* In 2020 the test root (valid from 2025) is not yet valid: the certificate
 * at fault is in the trust store, and the advice must not quote the leaf's
 * dates as if the leaf were at fault. */
static void test_verify_root_not_yet_valid(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(EV(.chain = "expired-chain.pem", .domain = "example.com",
                                   .mx = {"mx1.example.com"}, .at = "2020-06-01T00:00:00Z"),
                                MXTLS_LEVEL_VERIFY, "not-yet-valid", 2);
    assert_string_equal(r->reasons[0].message, "a certificate in the chain "
                                               "\"O=mxtls test,CN=mxtls Test Root CA\" is not "
                                               "yet valid");
    advice_has(r, "The chain leads to a CA certificate that is not yet valid at the "
                  "validation time");
    for (size_t i = 0; i < mxtls_result_advice_count(r); i++)
        assert_null(strstr(mxtls_result_advice(r, i), "2020-01-01"));
    mxtls_result_free(r);
}

static void test_verify_not_yet_valid(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(VERIFY_SPEC("future-chain.pem"), MXTLS_LEVEL_VERIFY,
                                "not-yet-valid", 0);
    message_has(r, 0, "is not yet valid");
    advice_has(r, "valid only from 2040-01-01T00:00:00Z");
    mxtls_result_free(r);
}

static void test_verify_self_signed(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(VERIFY_SPEC("self-chain.pem"), MXTLS_LEVEL_VERIFY,
                                "self-signed", 0);
    message_has(r, 0, "is self-signed and not trusted");
    advice_has(r, "publish DANE TLSA records");
    mxtls_result_free(r);
}

static void test_verify_missing_intermediate(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(VERIFY_SPEC("mx1-leafonly.pem"), MXTLS_LEVEL_VERIFY,
                                "missing-intermediate", 0);
    message_has(r, 0, "the server sent only its own certificate and its issuer "
                      "\"O=mxtls test,CN=mxtls Test Intermediate CA\"");
    advice_has(r, "send its intermediate certificate(s) after its own certificate");
    mxtls_result_free(r);
}

static void test_verify_unknown_issuer(void **state)
{
    (void)state;
    /* a chain to another root: the last certificate's issuer is unknown */
    mxtls_result *r = pkix_fail(VERIFY_SPEC("othermx1-chain.pem"), MXTLS_LEVEL_VERIFY,
                                "unknown-issuer", 1);
    message_has(r, 0, "the issuer \"O=mxtls test,CN=mxtls Other Root CA\"");
    advice_has(r, "does not lead to a CA in the sender's trust store");
    mxtls_result_free(r);

    /* the leaf with a wrong intermediate: two certificates sent, so not
     * "missing-intermediate" */
    char *leaf = tu_read_cert("mx1.crt", NULL);
    char *other = tu_read_cert("otherinter.crt", NULL);
    char *pem = malloc(strlen(leaf) + strlen(other) + 1);
    assert_non_null(pem);
    strcpy(pem, leaf);
    strcat(pem, other);
    r = pkix_fail(EV(.pem = pem, .domain = "example.com", .mx = {"mx1.example.com"}),
                  MXTLS_LEVEL_VERIFY, "unknown-issuer", 0);
    mxtls_result_free(r);
    free(pem);
    free(leaf);
    free(other);
}

static void test_verify_untrusted_root(void **state)
{
    (void)state;
    char *chain = tu_read_cert("othermx1-chain.pem", NULL);
    char *root = tu_read_cert("otherroot.crt", NULL);
    char *pem = malloc(strlen(chain) + strlen(root) + 1);
    assert_non_null(pem);
    strcpy(pem, chain);
    strcat(pem, root);
    mxtls_result *r = pkix_fail(EV(.pem = pem, .domain = "example.com",
                                   .mx = {"mx1.example.com"}),
                                MXTLS_LEVEL_VERIFY, "untrusted-root", 2);
    message_has(r, 0, "the chain ends in the root \"O=mxtls test,CN=mxtls Other Root CA\", "
                      "which is not in the trust store");
    advice_has(r, "use a publicly trusted CA");
    mxtls_result_free(r);
    free(pem);
    free(chain);
    free(root);
}

static void test_verify_wrong_purpose(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(VERIFY_SPEC("clientonly-chain.pem"), MXTLS_LEVEL_VERIFY,
                                "wrong-purpose", 0);
    message_has(r, 0, "is not valid for TLS servers");
    advice_has(r, "extendedKeyUsage must include serverAuth");
    mxtls_result_free(r);
}

static void test_verify_bad_signature(void **state)
{
    (void)state;
    X509 *leaf = tu_load_x509("mx1.crt");
    unsigned char *der = NULL;
    int n = i2d_X509(leaf, &der);
    assert_true(n > 10);
    der[n - 1] ^= 0x01; /* last byte of the signature value */
    const unsigned char *p = der;
    X509 *bad = d2i_X509(NULL, &p, n);
    assert_non_null(bad);
    X509 *inter = tu_load_x509("inter.crt");
    char *pem = chain_pem(bad, inter, NULL);
    mxtls_result *r = pkix_fail(EV(.pem = pem, .domain = "example.com",
                                   .mx = {"mx1.example.com"}),
                                MXTLS_LEVEL_VERIFY, "bad-signature", 0);
    message_has(r, 0, "the signature on \"O=mxtls test,CN=mx1.example.com\" is invalid");
    mxtls_result_free(r);
    free(pem);
    X509_free(inter);
    X509_free(bad);
    X509_free(leaf);
    OPENSSL_free(der);
}

static void test_verify_invalid_ca(void **state)
{
    (void)state;
    X509 *inter = tu_load_x509("inter.crt");
    EVP_PKEY *ikey = tu_load_key("inter.key");
    /* a leaf certificate (CA:FALSE) used to issue another leaf */
    X509 *notca = make_cert("Not A CA", NULL, inter, ikey, 0, 0);
    X509 *leaf = make_cert("mx1.example.com", "mx1.example.com", notca, NULL, 0, 0);
    char *pem = chain_pem(leaf, notca, inter);
    mxtls_result *r = pkix_fail(EV(.pem = pem, .domain = "example.com",
                                   .mx = {"mx1.example.com"}),
                                MXTLS_LEVEL_VERIFY, "invalid-ca", 1);
    message_has(r, 0, "\"CN=Not A CA\" is used as a CA but is not a valid CA");
    mxtls_result_free(r);
    free(pem);
    X509_free(leaf);
    X509_free(notca);
    EVP_PKEY_free(ikey);
    X509_free(inter);
}

static void test_verify_pkix_error(void **state)
{
    (void)state;
    X509 *inter = tu_load_x509("inter.crt");
    EVP_PKEY *ikey = tu_load_key("inter.key");
    X509 *leaf = make_cert("mx1.example.com", "mx1.example.com", inter, ikey, 0, 1);
    char *pem = chain_pem(leaf, inter, NULL);
    mxtls_result *r = pkix_fail(EV(.pem = pem, .domain = "example.com",
                                   .mx = {"mx1.example.com"}),
                                MXTLS_LEVEL_VERIFY, "pkix-error", 0);
    message_has(r, 0, "unhandled critical extension (OpenSSL error 34 at depth 0)");
    mxtls_result_free(r);

    /* the same chain built correctly passes: the test above fails for the
     * critical extension only */
    X509 *good = make_cert("mx1.example.com", "mx1.example.com", inter, ikey, 0, 0);
    char *gpem = chain_pem(good, inter, NULL);
    r = eval(EV(.pem = gpem, .domain = "example.com", .mx = {"mx1.example.com"}),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    mxtls_result_free(r);
    free(gpem);
    X509_free(good);
    free(pem);
    X509_free(leaf);
    EVP_PKEY_free(ikey);
    X509_free(inter);
}

/* "revoked" needs a CRL or OCSP answer; offline evidence carries neither and
 * pkix.c does not enable CRL checking, so the code cannot occur here. */

/* A PKIX failure and a name mismatch: PKIX first, then the names, both 4.7.5. */
static void test_verify_pkix_then_names(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "expired-chain.pem", .domain = "example.com",
                              .mx = {"mx9.example.com"}),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "expired", "4.7.5");
    reason_at(r, 1, "decisive", "name-mismatch", "4.7.5");
    reason_at(r, 2, "warning", "mx-insecure", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 3);
    advice_has(r, "Renew the certificate");
    advice_has(r, "MX hostname mx9.example.com");
    mxtls_result_free(r);
}

/* ---- verify match= forms ------------------------------------------------- */

static void test_verify_match_nexthop(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "wild-chain.pem", .domain = "example.com",
                              .mx = {"mx9.other.test"}, .match = "nexthop"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "example.com/dns-or-cn/nexthop", NULL);
    matched(r, "example.com", "example.com");
    /* an explicit match= list: no mx-insecure warning */
    assert_int_equal(has_reason(r, "mx-insecure"), -1);
    mxtls_result_free(r);
}

static void test_verify_match_dot_nexthop(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "sub-chain.pem", .domain = "example.com",
                              .mx = {"mx9.other.test"}, .match = "dot-nexthop"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, ".example.com/dns-or-cn/dot-nexthop", NULL);
    matched(r, ".example.com", "mail.sub.example.com");
    mxtls_result_free(r);

    /* the domain itself is not below itself */
    r = eval(EV(.chain = "domain-chain.pem", .domain = "example.com", .mx = {"mx9.other.test"},
                .match = "dot-nexthop"),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    message_has(r, 0, "reference identities (.example.com)");
    mxtls_result_free(r);
}

static void test_verify_match_literals(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test",
                              .mx = {"mx9.other.test"}, .match = ".EXAMPLE.com"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, ".example.com/dns-or-cn/match", NULL);
    matched(r, ".example.com", "mx1.example.com");
    mxtls_result_free(r);

    r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test", .mx = {"mx9.other.test"},
                .match = "MX1.EXAMPLE.COM."),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "mx1.example.com/dns-or-cn/match", NULL);
    mxtls_result_free(r);
}

static void test_verify_match_list_mismatch(void **state)
{
    (void)state;
    /* ':' ',' and blanks separate items; order is kept; duplicates dropped */
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test",
                              .mx = {"mx2.other.test"},
                              .match = "hostname:nexthop, dot-nexthop  nexthop\t.foo.test"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    refs(r, "mx2.other.test/dns-or-cn/hostname", "other.test/dns-or-cn/nexthop",
         ".other.test/dns-or-cn/dot-nexthop", ".foo.test/dns-or-cn/match", NULL);
    message_has(r, 0, "(mx2.other.test, other.test, .other.test, .foo.test)");
    /* the "must carry the MX hostname" advice is for the default match only */
    for (size_t i = 0; i < mxtls_result_advice_count(r); i++)
        assert_null(strstr(mxtls_result_advice(r, i), "must carry the MX hostname"));
    assert_int_equal(has_reason(r, "mx-insecure"), -1);
    mxtls_result_free(r);
}

static void test_verify_match_bad_item(void **state)
{
    (void)state;
    mxtls_ctx *ctx;
    mxtls_evidence *ev;
    build(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = "hostname:bad..name"),
          &ctx, &ev);
    assert_null(mxtls_evaluate(ctx, ev, MXTLS_LEVEL_VERIFY));
    assert_int_equal(mxtls_ctx_error_code(ctx), MXTLS_ERR_INVALID);
    assert_string_equal(mxtls_ctx_error_where(ctx), "match");
    assert_string_equal(mxtls_ctx_error(ctx),
                        "match item \"bad..name\": name \"bad..name\" has an empty label");
    /* the same evidence is fine for levels that do not read names from match= */
    mxtls_result *r = mxtls_evaluate(ctx, ev, MXTLS_LEVEL_MAY);
    assert_non_null(r);
    mxtls_result_free(r);
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
}

static void test_verify_match_nexthop_route(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test",
                              .route = {"[mx1.example.com]"}, .match = "nexthop"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "mx1.example.com/dns-or-cn/nexthop", NULL);
    mxtls_result_free(r);
}

/* ---- secure ---------------------------------------------------------------- */

static void test_secure_dot_nexthop(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}),
                           MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "example.com/dns-or-cn/nexthop", ".example.com/dns-or-cn/dot-nexthop", NULL);
    matched(r, ".example.com", "mx1.example.com");
    /* secure does not trust the MX lookup for names, so no mx-insecure */
    assert_int_equal(has_reason(r, "mx-insecure"), -1);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);

    r = eval(EV(.chain = "sub-chain.pem", .domain = "example.com"), MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, ".example.com", "mail.sub.example.com");
    mxtls_result_free(r);
}

static void test_secure_nexthop(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "domain-chain.pem", .domain = "example.com"),
                           MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, "example.com", "example.com");
    mxtls_result_free(r);
}

static void test_secure_mismatch(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test",
                              .mx = {"mx1.example.com"}),
                           MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    refs(r, "other.test/dns-or-cn/nexthop", ".other.test/dns-or-cn/dot-nexthop", NULL);
    matched(r, NULL, NULL);
    /* the MX hostname is not under other.test: it is no example */
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "For senders at level secure the certificate must carry other.test or a "
                        "name under it (such as mx.other.test) as a DNS subjectAltName (it "
                        "carries: mx1.example.com, CN=mx1.example.com). The MX hostname "
                        "mx1.example.com is not under other.test, so naming it does not satisfy "
                        "secure.");
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

/* The example name of the secure advice is always under the names it lists. */
static void test_secure_advice_example(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "esa-chain.pem", .domain = "yahoo.com",
                              .mx = {"mta6.am0.yahoodns.net"}),
                           MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "For senders at level secure the certificate must carry yahoo.com or a "
                        "name under it (such as mx.yahoo.com) as a DNS subjectAltName (it "
                        "carries: *.emailhosted.not, emailhosted.not, CN=*.emailhosted.not). The "
                        "MX hostname mta6.am0.yahoodns.net is not under yahoo.com, so naming it "
                        "does not satisfy secure.");
    mxtls_result_free(r);

    r = eval(EV(.chain = "esa-chain.pem", .domain = "example.com", .mx = {"mx9.example.com"}),
             MXTLS_LEVEL_SECURE);
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "For senders at level secure the certificate must carry example.com or a "
                        "name under it (for example mx9.example.com) as a DNS subjectAltName (it "
                        "carries: *.emailhosted.not, emailhosted.not, CN=*.emailhosted.not).");
    mxtls_result_free(r);

    /* implicit MX: the host is the next hop itself */
    r = eval(EV(.chain = "esa-chain.pem", .domain = "example.com"), MXTLS_LEVEL_SECURE);
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "For senders at level secure the certificate must carry example.com or a "
                        "name under it as a DNS subjectAltName (it carries: *.emailhosted.not, "
                        "emailhosted.not, CN=*.emailhosted.not).");
    mxtls_result_free(r);
}

static void test_secure_route(void **state)
{
    (void)state;
    /* the first route is the next hop; the second is not consulted */
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test",
                              .route = {"[mx1.example.com]", "relay.other.test"}),
                           MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "mx1.example.com/dns-or-cn/nexthop", ".mx1.example.com/dns-or-cn/dot-nexthop",
         NULL);
    matched(r, "mx1.example.com", "mx1.example.com");
    mxtls_result_free(r);

    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                .route = {"relay.other.test", "mx1.example.com"}),
             MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    refs(r, "relay.other.test/dns-or-cn/nexthop", ".relay.other.test/dns-or-cn/dot-nexthop",
         NULL);
    advice_has(r, "must carry relay.other.test or a name under it");
    mxtls_result_free(r);
}

static void test_secure_pkix(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(EV(.chain = "expired-chain.pem", .domain = "example.com"),
                                MXTLS_LEVEL_SECURE, "expired", 0);
    mxtls_result_free(r);
    r = pkix_fail(EV(.chain = "self-chain.pem", .domain = "example.com"), MXTLS_LEVEL_SECURE,
                  "self-signed", 0);
    mxtls_result_free(r);
}

static void test_secure_match_hostname(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test",
                              .mx = {"mx1.example.com"}, .match = "hostname"),
                           MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "mx1.example.com/dns-or-cn/hostname", NULL);
    assert_int_equal(has_reason(r, "mx-insecure"), -1);
    mxtls_result_free(r);
}

/* ---- Cisco ESA Verify modes ------------------------------------------------ */

#define ESA_REFS_DOMAIN(d) d "/dns/domain", d "/cn/domain"

static void test_esa_required_verify_dns_domain(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "domain-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, ESA_REFS_DOMAIN("example.com"), NULL);
    matched(r, "example.com", "example.com");
    assert_int_equal(mxtls_result_reason_count(r), 1); /* no mx-insecure at ESA levels */
    mxtls_result_free(r);
}

/* The CN is compared with the domain even when dNSNames exist. */
static void test_esa_required_verify_cn_domain(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "disagree-chain.pem", .domain = "mx1.example.com"),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, "mx1.example.com", "mx1.example.com");
    mxtls_result_free(r);
}

static void test_esa_required_verify_ptr_confirmed(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "cnonly-chain.pem", .domain = "example.com",
                              .ip = "192.0.2.10", .ptr = {"mx1.example.com"},
                              .ptr_confirmed = {1}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, ESA_REFS_DOMAIN("example.com"), "mx1.example.com/cn/ptr", NULL);
    matched(r, "mx1.example.com", "mx1.example.com");
    reason_at(r, 1, "warning", "cn-only", NULL);
    mxtls_result_free(r);
}

static void test_esa_required_verify_ptr_unconfirmed(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "cnonly-chain.pem", .domain = "example.com",
                              .ip = "192.0.2.10", .ptr = {"mx1.example.com"},
                              .ptr_confirmed = {0}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    /* an unconfirmed PTR is no reference identity */
    refs(r, ESA_REFS_DOMAIN("example.com"), NULL);
    matched(r, NULL, NULL);
    advice_has(r, "Cisco ESA senders in Verify modes need the recipient domain example.com as "
                  "a dNSName or CN, or a CN equal to the forward-confirmed PTR name of the "
                  "server's address (it carries: CN=mx1.example.com).");
    advice_has(r, "The CN matches the PTR name mx1.example.com, but that name does not resolve "
                  "back to 192.0.2.10: fix its A/AAAA record so the PTR is forward-confirmed.");
    mxtls_result_free(r);
}

/* PTR names are compared with the CN only, never with dNSNames. */
static void test_esa_required_verify_ptr_vs_dns(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "disagree-chain.pem", .domain = "example.com",
                              .ip = "192.0.2.10", .ptr = {"mx2.example.com"},
                              .ptr_confirmed = {1}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, ESA_REFS_DOMAIN("example.com"), "mx2.example.com/cn/ptr", NULL);
    mxtls_result_free(r);
}

/* The MX hostname is not a reference identity in Cisco's Verify modes. */
static void test_esa_required_verify_mx_ignored(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, ESA_REFS_DOMAIN("example.com"), NULL);
    message_has(r, 0, "reference identities (example.com);");
    advice_has(r, "need the recipient domain example.com");
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

static void test_esa_required_verify_pkix(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(EV(.chain = "expired-chain.pem", .domain = "mx1.example.com"),
                                MXTLS_LEVEL_ESA_REQUIRED_VERIFY, "expired", 0);
    mxtls_result_free(r);
    r = pkix_fail(EV(.chain = "mx1-leafonly.pem", .domain = "mx1.example.com"),
                  MXTLS_LEVEL_ESA_REQUIRED_VERIFY, "missing-intermediate", 0);
    mxtls_result_free(r);
}

static void test_esa_preferred_verify_pass(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "wild-chain.pem", .domain = "example.com"),
                           MXTLS_LEVEL_ESA_PREFERRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, "example.com", "example.com");
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

static void test_esa_preferred_verify_names(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com"),
                           MXTLS_LEVEL_ESA_PREFERRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "not-verified", NULL);
    message_has(r, 0, "delivers encrypted anyway");
    reason_at(r, 1, "info", "name-mismatch", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 2);
    refs(r, ESA_REFS_DOMAIN("example.com"), NULL);
    advice_has(r, "Cisco ESA senders in Verify modes need the recipient domain example.com");
    mxtls_result_free(r);
}

static void test_esa_preferred_verify_pkix(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "expired-chain.pem", .domain = "mx1.example.com"),
                           MXTLS_LEVEL_ESA_PREFERRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "not-verified", NULL);
    reason_at(r, 1, "info", "expired", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 2);
    advice_has(r, "Renew the certificate");
    mxtls_result_free(r);

    /* both: PKIX then names, all as info */
    r = eval(EV(.chain = "self-chain.pem", .domain = "example.com"),
             MXTLS_LEVEL_ESA_PREFERRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "not-verified", NULL);
    reason_at(r, 1, "info", "self-signed", NULL);
    reason_at(r, 2, "info", "name-mismatch", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 3);
    mxtls_result_free(r);
}

static void test_esa_hosted_mx(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "example.com/dns-or-cn/domain", "mx1.example.com/dns-or-cn/mx", NULL);
    matched(r, "mx1.example.com", "mx1.example.com");
    assert_int_equal(mxtls_result_reason_count(r), 1); /* DNSSEC is not required */
    mxtls_result_free(r);
}

static void test_esa_hosted_domain_and_routes(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "domain-chain.pem", .domain = "example.com",
                              .mx = {"mx9.other.test"}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, "example.com", "example.com");
    mxtls_result_free(r);

    /* Several FQDN routes: the certificate must name the route that was
     * connected, not any route (and not the MX hostname). */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test",
                .route = {"relay.other.test", "[mx1.example.com]"}, .host = "mx1.example.com"),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "other.test/dns-or-cn/domain", "mx1.example.com/dns-or-cn/route", NULL);
    matched(r, "mx1.example.com", "mx1.example.com");
    mxtls_result_free(r);

    r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test", .mx = {"mx1.example.com"},
                .route = {"relay.other.test", "[mx1.example.com]"}, .host = "relay.other.test"),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, "other.test/dns-or-cn/domain", "relay.other.test/dns-or-cn/route", NULL);
    matched(r, NULL, NULL);
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "Cisco ESA senders in Verify Hosted Domains mode with an SMTP route need "
                        "the recipient domain other.test or the route's host name "
                        "relay.other.test as a dNSName (it carries: mx1.example.com, "
                        "CN=mx1.example.com).");
    mxtls_result_free(r);

    /* No host said: the first route given as a name was connected. */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "other.test",
                .route = {"192.0.2.1", "relay.other.test", "[mx1.example.com]"}),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, "other.test/dns-or-cn/domain", "relay.other.test/dns-or-cn/route", NULL);
    mxtls_result_free(r);
}

/* A route given as an address: used to connect, never compared with the
 * certificate; the recipient domain and the MX hostnames are. */
static void test_route_address_never_a_reference(void **state)
{
    (void)state;
    static const mxtls_level all[] = {
        MXTLS_LEVEL_VERIFY, MXTLS_LEVEL_SECURE, MXTLS_LEVEL_ESA_PREFERRED_VERIFY,
        MXTLS_LEVEL_ESA_REQUIRED_VERIFY, MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED};
    static const char *const forms[] = {"192.0.2.1", "[192.0.2.1]", "[192.0.2.1]:25"};
    static const char *const chains[] = {"ipcn-chain.pem", "ipname-chain.pem"};
    for (size_t c = 0; c < 2; c++)
        for (size_t f = 0; f < 3; f++)
            for (size_t l = 0; l < sizeof all / sizeof all[0]; l++) {
                /* as check evaluates it: the address presented the chain */
                mxtls_result *r = eval(EV(.chain = chains[c], .domain = "example.com",
                                          .route = {forms[f]}, .host = "192.0.2.1",
                                          .ip = "192.0.2.1", .ptr = {"192.0.2.1"},
                                          .ptr_confirmed = {1}),
                                       all[l]);
                if (r->verdict != MXTLS_VERDICT_FAIL && all[l] != MXTLS_LEVEL_ESA_PREFERRED_VERIFY)
                    fail_msg("%s passes %s with route %s", chains[c], mxtls_level_name(all[l]),
                             forms[f]);
                assert_int_not_equal(r->security, MXTLS_SECURITY_VERIFIED);
                assert_null(mxtls_result_matched_reference(r));
                /* Cisco never lists it (the PTR "name" here spells it: no match) */
                for (size_t i = 0; i < r->nrefs; i++)
                    if (all[l] == MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED)
                        assert_string_not_equal(r->refs[i].name, "192.0.2.1");
                mxtls_result_free(r);
            }

    mxtls_result *r = eval(EV(.chain = "ipcn-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com", "mx2.example.com"},
                              .route = {"[192.0.2.1]"}, .host = "192.0.2.1"),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, "example.com/dns-or-cn/domain", "mx1.example.com/dns-or-cn/mx",
         "mx2.example.com/dns-or-cn/mx", NULL);
    assert_string_equal(r->host, "192.0.2.1");
    advice_has(r, "Cisco ESA senders in Verify Hosted Domains mode with an SMTP route given as "
                  "an address (192.0.2.1) compare the certificate with the recipient domain "
                  "example.com and the MX hostnames mx1.example.com, mx2.example.com, never "
                  "with the address: the certificate needs one of these names as a dNSName (it "
                  "carries: CN=192.0.2.1).");
    mxtls_result_free(r);

    /* an address route connected, next to a route by name: the MX names count */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .route = {"relay.example.com", "[192.0.2.1]"}, .host = "192.0.2.1"),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "example.com/dns-or-cn/domain", "mx1.example.com/dns-or-cn/mx", NULL);
    mxtls_result_free(r);
    r = eval(EV(.chain = "ipcn-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .route = {"relay.example.com", "[192.0.2.1]"}, .host = "192.0.2.1"),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    advice_has(r, "with an SMTP route given as an address (192.0.2.1) compare the certificate "
                  "with the recipient domain example.com and the MX hostname mx1.example.com, "
                  "never with the address");
    mxtls_result_free(r);

    /* the MX hostname's certificate passes through the address route */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                .mx = {"mx9.example.com", "mx1.example.com"}, .route = {"192.0.2.1"},
                .host = "192.0.2.1"),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, "mx1.example.com", "mx1.example.com");
    mxtls_result_free(r);

    /* Postfix levels: the address is the hostname and the next hop, as in
     * Postfix, compared with iPAddress SANs only (OpenSSL 3's
     * SSL_add1_host), never with DNS:192.0.2.1 or CN=192.0.2.1 */
    r = eval(EV(.chain = "ipname-chain.pem", .domain = "example.com", .route = {"[192.0.2.1]"},
                .host = "192.0.2.1", .mx = {"mx1.example.com"}),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    refs(r, "192.0.2.1/ip/hostname", NULL);
    matched(r, NULL, NULL);
    assert_int_equal(has_reason(r, "mx-insecure"), -1); /* the MX lookup chose no name */
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "The next hop is the address 192.0.2.1: a Postfix sender at level verify "
                        "looks for it among the certificate's iPAddress subjectAltNames (OpenSSL "
                        "3), never in a DNS name or CN that spells it (it carries: 192.0.2.1, "
                        "CN=192.0.2.1). Route to a host name ([mx1.example.com]) that the "
                        "certificate carries as a DNS subjectAltName, or give the sender a match= "
                        "list of names.");
    mxtls_result_free(r);
    /* an iPAddress SAN: Postfix verify and secure accept it; Cisco never
     * compares the address */
    r = eval(EV(.chain = "ipsan-chain.pem", .domain = "example.net", .route = {"[192.0.2.25]"},
                .host = "192.0.2.25"),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    matched(r, "192.0.2.25", "192.0.2.25");
    mxtls_result_free(r);
    r = eval(EV(.chain = "ipsan-chain.pem", .domain = "example.net", .route = {"[192.0.2.25]"},
                .host = "192.0.2.25"),
             MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, "192.0.2.25/ip/nexthop", ".192.0.2.25/dns-or-cn/dot-nexthop", NULL);
    mxtls_result_free(r);
    r = eval(EV(.chain = "ipsan-chain.pem", .domain = "example.net", .route = {"[192.0.2.25]"},
                .host = "192.0.2.25"),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, "example.net/dns-or-cn/domain", NULL);
    advice_has(r, "Cisco ESA senders in Verify Hosted Domains mode with an SMTP route given as "
                  "an address (192.0.2.25) compare the certificate with the recipient domain "
                  "example.net, never with the address: the certificate needs that name as a "
                  "dNSName (it carries: mx1.example.com, CN=mx1.example.com).");
    mxtls_result_free(r);
    r = eval(EV(.chain = "ipname-chain.pem", .domain = "example.com", .route = {"[192.0.2.1]"},
                .host = "192.0.2.1"),
             MXTLS_LEVEL_SECURE);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    refs(r, "192.0.2.1/ip/nexthop", ".192.0.2.1/dns-or-cn/dot-nexthop", NULL);
    matched(r, NULL, NULL);
    advice_has(r, "The next hop is the address 192.0.2.1: a Postfix sender at level secure");
    mxtls_result_free(r);
    /* DANE: an address has no TLSA records; an insecure MX lookup is not why */
    r = eval(EV(.chain = "ipname-chain.pem", .domain = "example.com", .route = {"[192.0.2.1]"},
                .host = "192.0.2.1", .mx = {"mx1.example.com"}),
             MXTLS_LEVEL_DANE_ONLY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "dane-not-applicable", "4.7.5");
    mxtls_result_free(r);
}

/* The accepted route forms, and the ones refused. */
/* tlsa_201 - "2 0 1 HEX" of a certificate file (DANE-TA, SHA-256 of the DER) */
static char *tlsa_201(const char *file)
{
    size_t len;
    char *pem = tu_read_cert(file, &len);
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    assert_non_null(x);
    char *fp = fp_digest_cert(x, "sha256", 0);
    static char out[200];
    size_t o = (size_t)snprintf(out, sizeof out, "2 0 1 ");
    for (const char *p = fp; *p && o + 1 < sizeof out; p++)
        if (*p != ':')
            out[o++] = *p;
    out[o] = '\0';
    free(fp);
    X509_free(x);
    BIO_free(b);
    free(pem);
    return out;
}

/* A DANE-TA record that matches, a certificate that does not name the TLSA
 * base domain: the advice is about the certificate's names, not the records. */
static void test_dane_ta_name_advice(void **state)
{
    (void)state;
    const char *ta = tlsa_201("inter.crt");
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx2.example.com"}, .mx_secure = 1, .tlsa = {ta}),
                           MXTLS_LEVEL_DANE);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "The DANE-TA record of mx2.example.com matches the server's chain, so the "
                        "TLSA records are right; but with DANE-TA senders also check the "
                        "certificate's names against the TLSA base domain mx2.example.com (the MX "
                        "hostname), and the certificate carries mx1.example.com, "
                        "CN=mx1.example.com. Put mx2.example.com in its subjectAltName, or publish "
                        "a DANE-EE record (\"3 1 1\"), which checks no names.");
    mxtls_result_free(r);

    /* a CNAME-expanded MX host: both names count */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx2.example.com"},
                .mx_secure = 1, .tlsa = {ta}, .tlsa_base = "mx3.example.net"),
             MXTLS_LEVEL_DANE_ONLY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    advice_has(r, "against the TLSA base domain mx3.example.net or the MX hostname "
                  "mx2.example.com, and the certificate carries mx1.example.com, "
                  "CN=mx1.example.com. Put mx3.example.net in its subjectAltName");
    mxtls_result_free(r);

    /* the same record and a certificate that names the host: authenticated */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .mx_secure = 1, .tlsa = {ta}),
             MXTLS_LEVEL_DANE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL);
    mxtls_result_free(r);

    /* an expired certificate under a matching DANE-TA record: renew it */
    r = eval(EV(.chain = "expired-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .mx_secure = 1, .tlsa = {ta}),
             MXTLS_LEVEL_DANE);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "expired", "4.7.5");
    assert_int_equal(mxtls_result_advice_count(r), 1);
    assert_string_equal(mxtls_result_advice(r, 0),
                        "The DANE-TA record of mx1.example.com matches the server's chain, but "
                        "DANE-TA senders also check validity periods and a certificate of the "
                        "chain is expired: renew it (the records can stay if the issuing CA "
                        "stays).");
    mxtls_result_free(r);
}

static void test_route_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        int ip;
        unsigned port;
    } ok[] = {
        {"relay.example.com", "relay.example.com", 0, 0},
        {"[Relay.Example.COM.]", "relay.example.com", 0, 0},
        {"[relay.example.com]:587", "relay.example.com", 0, 587},
        {"192.0.2.1", "192.0.2.1", 1, 0},
        {"[192.0.2.1]", "192.0.2.1", 1, 0},
        {"[192.0.2.1]:2525", "192.0.2.1", 1, 2525},
        {"2001:DB8:0::1", "2001:db8::1", 1, 0},
        {"[2001:db8::1]", "2001:db8::1", 1, 0},
        {"[IPv6:2001:db8::1]:25", "2001:db8::1", 1, 25},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[300];
        int ip = -1;
        unsigned port = 9;
        err_rec e;
        err_clear(&e);
        if (evidence_route_parse(ok[i].in, out, sizeof out, &ip, &port, &e) != MXTLS_OK)
            fail_msg("%s: %s", ok[i].in, e.message);
        assert_string_equal(out, ok[i].out);
        assert_int_equal(ip, ok[i].ip);
        assert_int_equal(port, ok[i].port);
    }
    static const char *const bad[] = {"", "[]", "[192.0.2.1", "[192.0.2.1]:", "[192.0.2.1]:0",
                                      "[192.0.2.1]:65536", "[a.example]x", "[IPv6:]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[300];
        int ip;
        unsigned port;
        err_rec e;
        err_clear(&e);
        if (evidence_route_parse(bad[i], out, sizeof out, &ip, &port, &e) == MXTLS_OK)
            fail_msg("route \"%s\" accepted as %s", bad[i], out);
        assert_string_equal(e.where, "route");
    }
}

static void test_esa_hosted_first_mx_only(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx9.example.com", "mx1.example.com"}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, "example.com/dns-or-cn/domain", "mx9.example.com/dns-or-cn/mx", NULL);
    advice_has(r, "Cisco ESA senders in Verify Hosted Domains mode need the recipient domain "
                  "example.com or the MX hostname mx9.example.com as a dNSName (it carries: "
                  "mx1.example.com, CN=mx1.example.com).");
    mxtls_result_free(r);
}

static void test_esa_hosted_cn_rules(void **state)
{
    (void)state;
    /* no dNSName: the CN counts */
    mxtls_result *r = eval(EV(.chain = "cnonly-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}),
                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    reason_at(r, 1, "warning", "cn-only", NULL);
    mxtls_result_free(r);
    /* dNSNames exist: the CN does not count */
    r = eval(EV(.chain = "disagree-chain.pem", .domain = "example.com",
                .mx = {"mx1.example.com"}),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    mxtls_result_free(r);
    /* PTR names are not used in this mode */
    r = eval(EV(.chain = "cnonly-chain.pem", .domain = "example.com", .ip = "192.0.2.10",
                .ptr = {"mx1.example.com"}, .ptr_confirmed = {1}),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, "example.com/dns-or-cn/domain", NULL);
    mxtls_result_free(r);
}

static void test_esa_hosted_pkix(void **state)
{
    (void)state;
    mxtls_result *r = pkix_fail(EV(.chain = "othermx1-chain.pem", .domain = "example.com",
                                   .mx = {"mx1.example.com"}),
                                MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED, "unknown-issuer", 1);
    mxtls_result_free(r);
}

static void test_cisco_worked_example(void **state)
{
    (void)state;
    const struct ev_spec *s = EV(.chain = "esa-chain.pem", .domain = "example.com",
                                 .mx = {"mx01.subd.emailhosted.not"}, .ip = "192.0.2.10",
                                 .ptr = {"mx0a.emailhosted.not"}, .ptr_confirmed = {1});
    mxtls_result *r = eval(s, MXTLS_LEVEL_ESA_REQUIRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    refs(r, ESA_REFS_DOMAIN("example.com"), "mx0a.emailhosted.not/cn/ptr", NULL);
    matched(r, "mx0a.emailhosted.not", "*.emailhosted.not");
    assert_string_equal(r->reasons[0].message,
                        "the chain is valid and the certificate name *.emailhosted.not matches "
                        "the reference identity mx0a.emailhosted.not");
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);

    r = eval(s, MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    refs(r, "example.com/dns-or-cn/domain", "mx01.subd.emailhosted.not/dns-or-cn/mx", NULL);
    matched(r, NULL, NULL);
    assert_int_equal(r->pkix_valid, 1);
    advice_has(r, "The wildcard *.emailhosted.not covers exactly one label, so it does not "
                  "cover mx01.subd.emailhosted.not: add mx01.subd.emailhosted.not itself (or "
                  "*.subd.emailhosted.not) to the certificate.");
    mxtls_result_free(r);

    /* the same PTR unconfirmed: Required-Verify fails too */
    r = eval(EV(.chain = "esa-chain.pem", .domain = "example.com",
                .mx = {"mx01.subd.emailhosted.not"}, .ip = "192.0.2.10",
                .ptr = {"mx0a.emailhosted.not"}, .ptr_confirmed = {0}),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", NULL);
    advice_has(r, "The CN matches the PTR name mx0a.emailhosted.not, but that name does not "
                  "resolve back to 192.0.2.10");
    mxtls_result_free(r);
}


/* The wildcard advice is for names more than one label below the wildcard;
 * here the MX is one label below (the wildcard covers it) and the failure is
 * the match= list. */
static void test_verify_wildcard_advice_only_deeper(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "wild-chain.pem", .domain = "other.test",
                              .mx = {"mx.example.com"}, .match = "nexthop"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    for (size_t i = 0; i < mxtls_result_advice_count(r); i++)
        assert_null(strstr(mxtls_result_advice(r, i), "covers exactly one label"));
    mxtls_result_free(r);
}

/* ---- revocation (evidence from a revocation check) ---------------------- */

static void test_verify_revoked(void **state)
{
    (void)state;
    /* report (default): Postfix and Cisco ESA check no revocation, so their
     * verdicts stand and the finding is a warning with its advice. */
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .mx_secure = 1,
                              .revocation = MXTLS_REVOCATION_REVOKED,
                              .rev_detail = "OCSP: revoked (keyCompromise)"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    int w = has_reason(r, "revoked");
    assert_true(w > 0);
    reason_at(r, (size_t)w, "warning", "revoked", NULL);
    message_has(r, (size_t)w,
                "the server certificate has been revoked (OCSP: revoked (keyCompromise)): "
                "Postfix delivers anyway; senders that check revocation refuse it");
    advice_has(r, "The certificate has been revoked: install a new one.");
    mxtls_result_free(r);
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .revocation = MXTLS_REVOCATION_REVOKED),
             MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    w = has_reason(r, "revoked");
    assert_true(w > 0);
    message_has(r, (size_t)w, "Cisco ESA delivers anyway");
    mxtls_result_free(r);

    /* soft: a sender that checks revocation refuses it */
    r = pkix_fail(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                     .mx = {"mx1.example.com"}, .mx_secure = 1,
                     .revocation = MXTLS_REVOCATION_REVOKED,
                     .rev_detail = "OCSP: revoked (keyCompromise)",
                     .rev_mode = MXTLS_REVOCATION_SOFT + 1),
                  MXTLS_LEVEL_VERIFY, "revoked", 0);
    assert_string_equal(r->reasons[0].message,
                        "the server certificate has been revoked: OCSP: revoked "
                        "(keyCompromise)");
    advice_has(r, "The certificate has been revoked: install a new one.");
    mxtls_result_free(r);

    /* every PKIX-based level; not the unauthenticated ones */
    r = pkix_fail(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                     .revocation = MXTLS_REVOCATION_REVOKED,
                     .rev_mode = MXTLS_REVOCATION_HARD + 1),
                  MXTLS_LEVEL_SECURE, "revoked", 0);
    assert_string_equal(r->reasons[0].message, "the server certificate has been revoked");
    mxtls_result_free(r);
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                .revocation = MXTLS_REVOCATION_REVOKED),
             MXTLS_LEVEL_ENCRYPT);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL);
    mxtls_result_free(r);

    /* revocation off: ignored */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .revocation = MXTLS_REVOCATION_REVOKED, .rev_mode = MXTLS_REVOCATION_OFF + 1),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    mxtls_result_free(r);

    /* a chain that fails anyway keeps its own PKIX reason */
    r = pkix_fail(EV(.chain = "expired-chain.pem", .domain = "example.com",
                     .mx = {"mx1.example.com"}, .revocation = MXTLS_REVOCATION_REVOKED),
                  MXTLS_LEVEL_VERIFY, "expired", 0);
    mxtls_result_free(r);
}

static void test_revocation_unavailable(void **state)
{
    (void)state;
    /* soft (default): a warning */
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .mx_secure = 1,
                              .revocation = MXTLS_REVOCATION_UNAVAILABLE,
                              .rev_detail = "no OCSP responder"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    int i = has_reason(r, "revocation-unavailable");
    assert_true(i > 0);
    reason_at(r, (size_t)i, "warning", "revocation-unavailable", NULL);
    mxtls_result_free(r);

    /* hard: no answer, no verdict */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .revocation = MXTLS_REVOCATION_UNKNOWN, .rev_mode = MXTLS_REVOCATION_HARD + 1),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "revocation-unavailable", "4.7.5");
    message_has(r, 0, "is unknown (no details), and revocation checking is hard");
    mxtls_result_free(r);

    /* hard: no check at all is no answer either */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .mx_secure = 1, .rev_mode = MXTLS_REVOCATION_HARD + 1),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "revocation-unavailable", "4.7.5");
    message_has(r, 0, "and revocation checking is hard");
    mxtls_result_free(r);
    /* ... while soft checking says nothing about a check that was not made */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .mx_secure = 1),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);

    /* a good answer: nothing to say */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .mx = {"mx1.example.com"},
                .mx_secure = 1, .revocation = MXTLS_REVOCATION_GOOD,
                .rev_mode = MXTLS_REVOCATION_HARD + 1),
             MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

/* ---- STARTTLS offered, TLS failed ----------------------------------------- */

static void tls_failed_case(mxtls_level level, int after_220, mxtls_verdict v,
                            mxtls_security sec, const char *status)
{
    mxtls_result *r = eval(EV(.domain = "example.com", .mx = {"mx1.example.com"},
                              .tls_failed = "handshake failure", .after_220 = after_220),
                           level);
    expect(r, v, sec, "tls-failed", status);
    message_has(r, 0, "TLS failed (handshake failure)");
    advice_has(r, "STARTTLS is offered but a TLS session cannot be established (handshake "
                  "failure)");
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);
}

static void test_tls_failed(void **state)
{
    (void)state;
    for (int after = 0; after <= 1; after++) {
        tls_failed_case(MXTLS_LEVEL_MAY, after, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT,
                        NULL);
        tls_failed_case(MXTLS_LEVEL_ENCRYPT, after, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE,
                        "4.7.5");
        tls_failed_case(MXTLS_LEVEL_VERIFY, after, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE,
                        "4.7.5");
        tls_failed_case(MXTLS_LEVEL_ESA_REQUIRED, after, MXTLS_VERDICT_FAIL,
                        MXTLS_SECURITY_NONE, NULL);
    }
    /* Cisco Preferred modes fall back only when STARTTLS itself was refused */
    tls_failed_case(MXTLS_LEVEL_ESA_PREFERRED, 0, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT,
                    NULL);
    tls_failed_case(MXTLS_LEVEL_ESA_PREFERRED, 1, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE,
                    NULL);
    tls_failed_case(MXTLS_LEVEL_ESA_PREFERRED_VERIFY, 0, MXTLS_VERDICT_PASS,
                    MXTLS_SECURITY_PLAINTEXT, NULL);
    tls_failed_case(MXTLS_LEVEL_ESA_PREFERRED_VERIFY, 1, MXTLS_VERDICT_FAIL,
                    MXTLS_SECURITY_NONE, NULL);
    /* With implicit TLS there is no plaintext to fall back to, at may nor at
     * the Cisco Preferred modes. */
    static const mxtls_level fallback[] = {MXTLS_LEVEL_MAY, MXTLS_LEVEL_ESA_PREFERRED,
                                           MXTLS_LEVEL_ESA_PREFERRED_VERIFY};
    for (size_t i = 0; i < 3; i++) {
        mxtls_result *ri = eval(EV(.domain = "example.com", .mx = {"mx1.example.com"},
                                   .tls_failed = "handshake failure", .implicit_tls = 1),
                                fallback[i]);
        expect(ri, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tls-failed",
               fallback[i] == MXTLS_LEVEL_MAY ? "4.7.5" : NULL);
        message_has(ri, 0, "does not deliver without TLS");
        mxtls_result_free(ri);
    }
    /* level none never tries */
    mxtls_result *r = eval(EV(.domain = "example.com", .tls_failed = "handshake failure"),
                           MXTLS_LEVEL_NONE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "tls-disabled", NULL);
    mxtls_result_free(r);
}

/* A failed implicit-TLS handshake: nothing falls back to plaintext, not even
 * dane where DANE does not apply (it behaves as may, and may has no plaintext
 * on port 465). */
static void test_tls_failed_implicit(void **state)
{
    (void)state;
    static const mxtls_level levels[] = {MXTLS_LEVEL_MAY, MXTLS_LEVEL_DANE,
                                         MXTLS_LEVEL_ESA_PREFERRED};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        mxtls_ctx *ctx;
        mxtls_evidence *ev;
        build(EV(.domain = "example.com", .mx = {"mx1.example.com"}, .mx_secure = 1,
                 .tls_failed = "handshake failure", .after_220 = 1),
              &ctx, &ev);
        ev->implicit_tls = 1;
        mxtls_result *r = mxtls_evaluate(ctx, ev, levels[i]);
        assert_non_null(r);
        expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tls-failed",
               levels[i] == MXTLS_LEVEL_ESA_PREFERRED ? NULL : "4.7.5");
        mxtls_result_free(r);
        mxtls_evidence_free(ev);
        mxtls_ctx_free(ctx);
    }
}

/* ---- the dialogue fails (policy_unreachable) -------------------------------- */

/* after_tls - the result of one level when the SMTP dialogue failed with
 * code after a handshake that showed chain (NULL: no TLS session at all) */
static mxtls_result *after_tls(const char *chain, int implicit, mxtls_level level,
                               const char *code)
{
    mxtls_ctx *ctx;
    mxtls_evidence *ev;
    if (chain)
        build(EV(.chain = chain, .domain = "example.com", .mx = {"mx1.example.com"},
                 .mx_secure = 1),
              &ctx, &ev);
    else
        build(EV(.no_tls = 1, .domain = "example.com", .mx = {"mx1.example.com"},
                 .mx_secure = 1),
              &ctx, &ev);
    ev->implicit_tls = implicit;
    mxtls_result *r = policy_unreachable(ctx, ev, level, code, "what the dialogue said");
    if (!r)
        fail_msg("policy_unreachable %s: %s", mxtls_level_name(level), mxtls_ctx_error(ctx));
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    return r;
}

/* expect_after_tls_tempfail - the dialogue's code decides; the TLS verdict
 * stays as info and the chain is still shown */
static void expect_after_tls_tempfail(mxtls_result *r, const char *code, const char *tls_code)
{
    expect(r, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, code, NULL);
    message_has(r, 0, "what the dialogue said");
    reason_at(r, 1, "info", tls_code, NULL);
    assert_int_equal(r->no_tls, 0);
    assert_true(r->nchain >= 1);
    mxtls_result_free(r);
}

/* No SMTP session before TLS: a sender defers at every level. */
static void test_unreachable_without_tls(void **state)
{
    (void)state;
    static const mxtls_level all[] = {MXTLS_LEVEL_NONE, MXTLS_LEVEL_MAY, MXTLS_LEVEL_VERIFY,
                                      MXTLS_LEVEL_ESA_PREFERRED, MXTLS_LEVEL_DANE_ONLY};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        mxtls_result *r = after_tls(NULL, 0, all[i], "banner-rejected");
        expect(r, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "banner-rejected", NULL);
        assert_int_equal(mxtls_result_reason_count(r), 1);
        assert_int_equal(r->no_tls, 1);
        mxtls_result_free(r);
    }
}

/* EHLO over TLS refused (Postfix smtp_helo -> smtp_site_fail): no level
 * delivers, may does not retry in plaintext, level none never sent STARTTLS,
 * and a certificate that fails the level fails it first (smtp_start_tls
 * checks it before EHLO). */
static void test_unreachable_ehlo_after_starttls(void **state)
{
    (void)state;
    expect_after_tls_tempfail(after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_VERIFY, "ehlo-rejected"),
                              "ehlo-rejected", "verified");
    expect_after_tls_tempfail(after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_MAY, "ehlo-rejected"),
                              "ehlo-rejected", "encrypted");
    expect_after_tls_tempfail(after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_ESA_PREFERRED,
                                        "ehlo-rejected"),
                              "ehlo-rejected", "encrypted");
    expect_after_tls_tempfail(after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED,
                                        "smtp-protocol-error"),
                              "smtp-protocol-error", "verified");
    mxtls_result *r = after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_NONE, "ehlo-rejected");
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "tls-disabled", NULL);
    mxtls_result_free(r);
    r = after_tls("expired-chain.pem", 0, MXTLS_LEVEL_VERIFY, "ehlo-rejected");
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "expired", "4.7.5");
    assert_int_equal(has_reason(r, "ehlo-rejected"), -1);
    mxtls_result_free(r);
    /* DANE does not apply (no TLSA looked up): dane-only fails before any
     * connection, dane behaves as may */
    r = after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_DANE_ONLY, "ehlo-rejected");
    expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "dane-not-applicable", "4.7.5");
    mxtls_result_free(r);
    expect_after_tls_tempfail(after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_DANE, "ehlo-rejected"),
                              "ehlo-rejected", "encrypted");
}

/* The TLS session lost after the handshake (Postfix smtp_stream_except): may
 * retries in plaintext (RETRY_AS_PLAINTEXT), so does dane where DANE does not
 * apply; Cisco's Preferred modes do not fall back after the 220; the rest
 * defers. */
static void test_unreachable_lost_after_starttls(void **state)
{
    (void)state;
    static const char *const lost[] = {"connection-closed", "timeout"};
    for (size_t i = 0; i < 2; i++) {
        mxtls_result *r = after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_MAY, lost[i]);
        expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "tls-failed", NULL);
        message_has(r, 0, "the TLS session was lost after the handshake: what the dialogue said");
        mxtls_result_free(r);
        r = after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_DANE, lost[i]);
        expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "tls-failed", NULL);
        mxtls_result_free(r);
        expect_after_tls_tempfail(after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_ENCRYPT, lost[i]),
                                  lost[i], "encrypted");
        expect_after_tls_tempfail(after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_ESA_PREFERRED,
                                            lost[i]),
                                  lost[i], "encrypted");
        expect_after_tls_tempfail(after_tls("mx1-chain.pem", 0, MXTLS_LEVEL_SECURE, lost[i]),
                                  lost[i], "verified");
    }
}

/* Implicit TLS: no plaintext to fall back to, level none cannot talk at all. */
static void test_unreachable_after_implicit_tls(void **state)
{
    (void)state;
    static const char *const codes[] = {"banner-rejected", "connection-closed", "timeout",
                                        "smtp-protocol-error", "ehlo-rejected"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        expect_after_tls_tempfail(after_tls("mx1-chain.pem", 1, MXTLS_LEVEL_MAY, codes[i]),
                                  codes[i], "encrypted");
        expect_after_tls_tempfail(after_tls("mx1-chain.pem", 1, MXTLS_LEVEL_VERIFY, codes[i]),
                                  codes[i], "verified");
        mxtls_result *r = after_tls("mx1-chain.pem", 1, MXTLS_LEVEL_NONE, codes[i]);
        expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "implicit-tls", NULL);
        mxtls_result_free(r);
        r = after_tls("self-chain.pem", 1, MXTLS_LEVEL_VERIFY, codes[i]);
        expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "self-signed", "4.7.5");
        mxtls_result_free(r);
    }
}

/* ---- warnings ------------------------------------------------------------- */

static void test_expires_soon(void **state)
{
    (void)state;
    /* 12 days before notAfter (2035-01-01) */
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .mx_secure = 1,
                              .at = "2034-12-20T00:00:00Z"),
                           MXTLS_LEVEL_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified", NULL);
    reason_at(r, 1, "warning", "expires-soon", NULL);
    assert_string_equal(r->reasons[1].message,
                        "the certificate expires on 2035-01-01T00:00:00Z, within 21 days");
    advice_has(r, "Renew the certificate before 2035-01-01T00:00:00Z.");
    mxtls_result_free(r);

    /* exactly 21 days before: still warned */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .at = "2034-12-11T00:00:00Z"),
             MXTLS_LEVEL_MAY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL);
    reason_at(r, 1, "warning", "expires-soon", NULL);
    mxtls_result_free(r);

    /* one second more than 21 days: no warning */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .at = "2034-12-10T23:59:59Z"),
             MXTLS_LEVEL_MAY);
    assert_int_equal(has_reason(r, "expires-soon"), -1);
    assert_int_equal(mxtls_result_reason_count(r), 1);
    mxtls_result_free(r);

    /* at the default time (2026) no warning */
    r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com"), MXTLS_LEVEL_MAY);
    assert_int_equal(has_reason(r, "expires-soon"), -1);
    mxtls_result_free(r);
}

static void test_mx_insecure_only_for_verify(void **state)
{
    (void)state;
    static const mxtls_level others[] = {
        MXTLS_LEVEL_MAY, MXTLS_LEVEL_SECURE, MXTLS_LEVEL_ESA_REQUIRED_VERIFY,
        MXTLS_LEVEL_ESA_PREFERRED_VERIFY, MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                                  .mx = {"mx1.example.com"}),
                               others[i]);
        assert_int_equal(has_reason(r, "mx-insecure"), -1);
        mxtls_result_free(r);
    }
}

/* ---- evaluation errors ---------------------------------------------------- */

static void test_evaluate_errors(void **state)
{
    (void)state;
    mxtls_ctx *ctx;
    mxtls_evidence *ev;
    build(EV(.chain = "mx1-chain.pem"), &ctx, &ev);
    assert_null(mxtls_evaluate(ctx, ev, MXTLS_LEVEL_MAY));
    assert_string_equal(mxtls_ctx_error_where(ctx), "evidence");
    assert_string_equal(mxtls_ctx_error(ctx), "no recipient domain given");
    assert_int_equal(mxtls_ctx_error_code(ctx), MXTLS_ERR_INVALID);
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);

    build(EV(.domain = "example.com"), &ctx, &ev);
    assert_null(mxtls_evaluate(ctx, ev, MXTLS_LEVEL_MAY));
    assert_string_equal(mxtls_ctx_error(ctx),
                        "no certificate chain given, and TLS is not marked as unavailable");
    /* the evidence is checked before the level is looked at, even for none */
    assert_null(mxtls_evaluate(ctx, ev, MXTLS_LEVEL_NONE));
    assert_string_equal(mxtls_ctx_error_where(ctx), "evidence");
    assert_null(mxtls_evaluate(ctx, ev, (mxtls_level)99));
    assert_string_equal(mxtls_ctx_error_where(ctx), "level");
    assert_string_equal(mxtls_ctx_error(ctx), "unknown level 99");
    assert_null(mxtls_evaluate(ctx, ev, MXTLS_LEVEL_INVALID));
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
}

static void test_evidence_setters(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    assert_int_equal(mxtls_evidence_set_domain(ctx, ev, "bad..example"), MXTLS_ERR_INVALID);
    assert_string_equal(mxtls_ctx_error_where(ctx), "domain");
    assert_int_equal(mxtls_evidence_add_mx(ctx, ev, "-mx.example.com"), MXTLS_ERR_INVALID);
    assert_string_equal(mxtls_ctx_error_where(ctx), "MX host");
    assert_int_equal(mxtls_evidence_set_ip(ctx, ev, "192.0.2.300"), MXTLS_ERR_INVALID);
    assert_string_equal(mxtls_ctx_error(ctx), "\"192.0.2.300\" is not an IPv4 or IPv6 address");
    assert_int_equal(mxtls_evidence_add_ptr(ctx, ev, "a b", 1), MXTLS_ERR_INVALID);
    assert_string_equal(mxtls_ctx_error_where(ctx), "PTR name");
    assert_int_equal(mxtls_evidence_add_route(ctx, ev, "[mx.example.com"), MXTLS_ERR_INVALID);
    /* the transport-table form with a port is a route; a bad port is not */
    assert_int_equal(mxtls_evidence_add_route(ctx, ev, "[mx.example.com]:25"), MXTLS_OK);
    assert_int_equal(mxtls_evidence_add_route(ctx, ev, "[mx.example.com]:99999"),
                     MXTLS_ERR_INVALID);
    assert_int_equal(mxtls_evidence_add_route(ctx, ev, "[mx.example.com]:"), MXTLS_ERR_INVALID);
    assert_int_equal(mxtls_evidence_add_route(ctx, ev, "[]"), MXTLS_ERR_INVALID);
    assert_int_equal(mxtls_evidence_set_match(ctx, ev, " : ,|"), MXTLS_ERR_INVALID);
    assert_string_equal(mxtls_ctx_error(ctx), "empty match list");
    assert_int_equal(mxtls_evidence_set_fingerprint_digest(ctx, ev, "sha512"),
                     MXTLS_ERR_INVALID);
    assert_string_equal(mxtls_ctx_error(ctx), "unknown digest \"sha512\" (use sha256, sha1 or md5)");
    /* IPv6 is canonicalised */
    assert_int_equal(mxtls_evidence_set_ip(ctx, ev, "2001:DB8:0::10"), MXTLS_OK);
    assert_int_equal(mxtls_evidence_set_domain(ctx, ev, "example.com"), MXTLS_OK);
    /* a PTR given twice is one PTR; confirmed if either said so */
    assert_int_equal(mxtls_evidence_add_ptr(ctx, ev, "mx1.example.com", 0), MXTLS_OK);
    assert_int_equal(mxtls_evidence_add_ptr(ctx, ev, "MX1.example.com.", 1), MXTLS_OK);
    mxtls_evidence_set_no_tls(ev, 1);
    mxtls_result *r = mxtls_evaluate(ctx, ev, MXTLS_LEVEL_MAY);
    assert_non_null(r);
    assert_string_equal(r->ip, "2001:db8::10");
    assert_int_equal(r->ptr.n, 1);
    assert_int_equal(r->ptr_confirmed[0], 1);
    mxtls_result_free(r);
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    mxtls_evidence_free(NULL);
    mxtls_ctx_free(NULL);
    mxtls_result_free(NULL);
}

static void test_level_names(void **state)
{
    (void)state;
    size_t n = 0;
    const mxtls_level *lv = mxtls_levels(&n);
    static const char *const want[] = {
        "none", "may", "encrypt", "fingerprint", "verify", "secure", "dane", "dane-only",
        "esa-preferred", "esa-required", "esa-preferred-verify", "esa-required-verify",
        "esa-required-verify-hosted", "mta-sts", "requiretls"};
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(mxtls_level_name(lv[i]), want[i]);
        assert_int_equal(mxtls_level_from_name(want[i]), lv[i]);
    }
    assert_int_equal(mxtls_level_from_name("dane_only"), MXTLS_LEVEL_DANE_ONLY);
    assert_int_equal(mxtls_level_from_name("verfy"), MXTLS_LEVEL_INVALID);
    assert_int_equal(mxtls_level_from_name("VERIFY"), MXTLS_LEVEL_INVALID);
    assert_null(mxtls_level_name((mxtls_level)42));
}

/* ---- JSON ------------------------------------------------------------------ */

#define JS(path, want)                                                                         \
    do {                                                                                       \
        const char *got_ = tj_str(json, path);                                                 \
        if (!got_ || strcmp(got_, want) != 0)                                                  \
            fail_msg("%s: got \"%s\", expected \"%s\" in\n%s", path, got_ ? got_ : "(absent)", \
                     want, json);                                                              \
    } while (0)
#define JR(path, want)                                                                         \
    do {                                                                                       \
        const char *got_ = tj_raw(json, path);                                                 \
        if (!got_ || strcmp(got_, want) != 0)                                                  \
            fail_msg("%s: got %s, expected %s in\n%s", path, got_ ? got_ : "(absent)", want,   \
                     json);                                                                    \
    } while (0)

static void test_json_verify_pass(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "ipsan-chain.pem", .domain = "example.com",
                              .mx = {"mx1.example.com"}, .ip = "192.0.2.25",
                              .ptr = {"mx1.example.com"}, .ptr_confirmed = {1}),
                           MXTLS_LEVEL_VERIFY);
    char *json = mxtls_result_json(r);
    assert_non_null(json);
    assert_true(tj_valid(json));
    JR("schema_version", "1");
    JS("level", "verify");
    JS("verdict", "pass");
    JS("security", "verified");
    assert_int_equal(tj_len(json, "reasons"), 2);
    JS("reasons[0].code", "verified");
    JS("reasons[0].kind", "decisive");
    JS("reasons[0].message", r->reasons[0].message);
    JR("reasons[0].status", "null");
    JS("reasons[1].code", "mx-insecure");
    JS("reasons[1].kind", "warning");
    JS("domain", "example.com");
    JS("mx[0]", "mx1.example.com");
    JR("mx_secure", "false");
    JS("ip", "192.0.2.25");
    JS("ptr[0].name", "mx1.example.com");
    JR("ptr[0].confirmed", "true");
    JR("routes", "[]");
    JR("tls", "true");
    JR("presented.dns", "[\"mx1.example.com\"]");
    JR("presented.ip", "[\"192.0.2.25\",\"2001:db8::25\"]");
    JR("presented.cn", "[\"mx1.example.com\"]");
    assert_int_equal(tj_len(json, "reference"), 1);
    JS("reference[0].name", "mx1.example.com");
    JS("reference[0].against", "dns-or-cn");
    JS("reference[0].source", "hostname");
    JS("matched.reference", "mx1.example.com");
    JS("matched.presented", "mx1.example.com");
    assert_int_equal(tj_len(json, "chain"), 2);
    JS("chain[0].subject", "O=mxtls test,CN=mx1.example.com");
    JS("chain[0].issuer", "O=mxtls test,CN=mxtls Test Intermediate CA");
    JS("chain[0].not_before", "2025-01-01T00:00:00Z");
    JS("chain[0].not_after", "2035-01-01T00:00:00Z");
    char *fp = fingerprint("ipsan.crt", "sha256", 0);
    JS("chain[0].sha256", fp);
    free(fp);
    JS("chain[1].subject", "O=mxtls test,CN=mxtls Test Intermediate CA");
    JS("chain[1].issuer", "O=mxtls test,CN=mxtls Test Root CA");
    JR("pkix.valid", "true");
    JR("pkix.error", "null");
    JR("pkix.depth", "null");
    JS("pkix.message", "the chain is valid");
    JS("fingerprint.digest", "sha256");
    JS("fingerprint.cert", r->fp_cert);
    JS("fingerprint.pubkey", r->fp_pubkey);
    JR("advice", "[]");
    free(json);
    mxtls_result_free(r);
}

static void test_json_verify_fail(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "expired-chain.pem", .domain = "example.com",
                              .mx = {"mx9.example.com"}, .mx_secure = 1),
                           MXTLS_LEVEL_VERIFY);
    char *json = mxtls_result_json(r);
    assert_true(tj_valid(json));
    JS("verdict", "fail");
    JS("security", "none");
    JS("reasons[0].code", "expired");
    JS("reasons[0].status", "4.7.5");
    JS("reasons[1].code", "name-mismatch");
    JS("reasons[1].kind", "decisive");
    JS("reasons[1].status", "4.7.5");
    JR("matched", "null");
    JR("mx_secure", "true");
    JR("pkix.valid", "false");
    JS("pkix.error", "expired");
    JR("pkix.depth", "0");
    assert_int_equal(tj_len(json, "advice"), (long)mxtls_result_advice_count(r));
    JS("advice[0]", mxtls_result_advice(r, 0));
    free(json);
    mxtls_result_free(r);
}

static void test_json_no_tls(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.no_tls = 1, .domain = "example.com", .route = {"relay.test"}),
                           MXTLS_LEVEL_ENCRYPT);
    char *json = mxtls_result_json(r);
    assert_true(tj_valid(json));
    JS("level", "encrypt");
    JS("verdict", "fail");
    JS("security", "none");
    JS("reasons[0].code", "no-starttls");
    JS("reasons[0].status", "4.7.4");
    JR("tls", "false");
    JR("presented", "null");
    JR("reference", "[]");
    JR("matched", "null");
    JR("chain", "[]");
    JR("pkix", "null");
    JR("fingerprint", "null");
    JR("ip", "null");
    JR("mx", "[]");
    JR("routes", "[\"relay.test\"]");
    JR("tls_failed", "null");
    JS("revocation.status", "not-checked");
    free(json);
    mxtls_result_free(r);
}

static void test_json_fingerprint(void **state)
{
    (void)state;
    char *fp = fingerprint("mx1.crt", "sha1", 1);
    mxtls_result *r = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com", .match = fp,
                              .digest = "sha1"),
                           MXTLS_LEVEL_FINGERPRINT);
    char *json = mxtls_result_json(r);
    assert_true(tj_valid(json));
    JS("reasons[0].code", "fingerprint-match");
    JS("matched.reference", fp);
    JS("matched.presented", fp);
    JS("fingerprint.digest", "sha1");
    JS("fingerprint.pubkey", fp);
    JR("pkix", "null");
    free(json);
    mxtls_result_free(r);
    free(fp);
}

/* Hostile bytes in presented names stay valid JSON and are shown escaped. */
static void test_json_hostile_names(void **state)
{
    (void)state;
    const tu_id ids[] = {{'D', "x\0y\"z", 5}, {'C', "a\"b\\c\x01\x7f\xc3\xa9", 0}};
    X509 *x = tu_cert_make(ids, 2);
    char *pem = tu_pem(x);
    mxtls_result *r = eval(EV(.pem = pem, .domain = "example.com"),
                           MXTLS_LEVEL_ESA_PREFERRED_VERIFY);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "not-verified", NULL);
    char *json = mxtls_result_json(r);
    assert_true(tj_valid(json));
    JS("presented.dns[0]", "x\xef\xbf\xbdy\"z");
    /* (tj_str leaves \u escapes as they are) */
    JS("presented.cn[0]", "a\"b\\c\\u0001\\u007f\xc3\xa9");
    JS("reasons[1].code", "self-signed");
    JS("reasons[2].code", "name-mismatch");
    free(json);
    char *text = mxtls_result_text(r, 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "cert dns    x\xef\xbf\xbdy\"z\n"));
    assert_non_null(strstr(text, "cert cn     a\"b\\c\\x01\\x7f\xc3\xa9\n"));
    free(text);
    mxtls_result_free(r);
    free(pem);
    X509_free(x);
}

static void test_json_all_levels(void **state)
{
    (void)state;
    size_t n = 0;
    const mxtls_level *lv = mxtls_levels(&n);
    mxtls_result *rs[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        rs[i] = eval(EV(.chain = "mx1-chain.pem", .domain = "example.com",
                        .mx = {"mx1.example.com"}),
                     lv[i]);
    char *json = mxtls_results_json(rs, n);
    assert_non_null(json);
    assert_true(tj_valid(json));
    assert_int_equal(tj_len(json, "levels"), (long)n);
    JR("schema_version", "1");
    /* inside "levels" the objects carry no schema_version of their own */
    assert_null(tj_find(json, "levels[0].schema_version"));
    /* the verdict of each level for mx1-chain.pem (MX not DNSSEC-secure, no TLSA) */
    static const char *const verdicts[][2] = {
        {"none", "pass"}, {"may", "pass"}, {"encrypt", "pass"}, {"fingerprint", "tempfail"},
        {"verify", "pass"}, {"secure", "pass"}, {"dane", "pass"}, {"dane-only", "fail"},
        {"esa-preferred", "pass"}, {"esa-required", "pass"}, {"esa-preferred-verify", "pass"},
        {"esa-required-verify", "fail"}, {"esa-required-verify-hosted", "pass"},
        {"mta-sts", "pass"}, {"requiretls", "fail"}};
    assert_int_equal(n, sizeof verdicts / sizeof verdicts[0]);
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "levels[%zu].level", i);
        JS(path, verdicts[i][0]);
        assert_string_equal(mxtls_level_name(lv[i]), verdicts[i][0]);
        snprintf(path, sizeof path, "levels[%zu].verdict", i);
        JS(path, verdicts[i][1]);
    }
    char *table = mxtls_results_table_text(rs, n, 0);
    assert_non_null(table);
    assert_non_null(strstr(table, "esa-required-verify          fail      none       "
                                  "name-mismatch\n"));
    assert_non_null(strstr(table, "fingerprint                  tempfail  none       "
                                  "no-fingerprints\n"));
    free(table);
    free(json);
    for (size_t i = 0; i < n; i++)
        mxtls_result_free(rs[i]);
}

static void test_text_report(void **state)
{
    (void)state;
    mxtls_result *r = eval(EV(.chain = "helo-chain.pem", .domain = "example.com",
                              .mx = {"mx.example.com"}),
                           MXTLS_LEVEL_VERIFY);
    char *text = mxtls_result_text(r, 0);
    assert_non_null(text);
    assert_true(strncmp(text, "verify: FAIL (security: none)\n", 30) == 0);
    assert_non_null(strstr(text, "  * name-mismatch [4.7.5]: no certificate name matches"));
    assert_non_null(strstr(text, "  ! mx-insecure: "));
    assert_non_null(strstr(text, "  matched: none\n"));
    assert_null(strstr(text, "\033["));
    free(text);
    text = mxtls_result_text(r, 1);
    assert_non_null(strstr(text, "\033[31mFAIL\033[0m"));
    free(text);
    mxtls_result_free(r);
}


/* ---- an anonymous cipher suite (a policy entry's grade at may/encrypt) -- */

static void test_anonymous_tls(void **state)
{
    (void)state;
    static const mxtls_level pass[] = {MXTLS_LEVEL_MAY, MXTLS_LEVEL_ENCRYPT,
                                       MXTLS_LEVEL_ESA_PREFERRED, MXTLS_LEVEL_ESA_REQUIRED};
    static const mxtls_level fail[] = {MXTLS_LEVEL_FINGERPRINT, MXTLS_LEVEL_VERIFY,
                                       MXTLS_LEVEL_SECURE, MXTLS_LEVEL_ESA_PREFERRED_VERIFY,
                                       MXTLS_LEVEL_ESA_REQUIRED_VERIFY,
                                       MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++) {
        mxtls_result *r = eval(EV(.domain = "example.com", .mx = {"mx1.example.com"},
                                  .anonymous = 1),
                               pass[i]);
        expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL);
        message_has(r, 0, "TLS is established with an anonymous cipher suite (no certificate)");
        mxtls_result_free(r);
    }
    for (size_t i = 0; i < sizeof fail / sizeof fail[0]; i++) {
        mxtls_result *r = eval(EV(.domain = "example.com", .mx = {"mx1.example.com"},
                                  .anonymous = 1, .match = "AB:CD"),
                               fail[i]);
        expect(r, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "no-certificate",
               fail[i] == MXTLS_LEVEL_FINGERPRINT || fail[i] == MXTLS_LEVEL_VERIFY ||
                       fail[i] == MXTLS_LEVEL_SECURE
                   ? "4.7.5"
                   : NULL);
        mxtls_result_free(r);
    }
    /* level none does not use TLS at all */
    mxtls_result *r = eval(EV(.domain = "example.com", .anonymous = 1), MXTLS_LEVEL_NONE);
    expect(r, MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "tls-disabled", NULL);
    mxtls_result_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anonymous_tls),
        cmocka_unit_test(test_none_with_tls),
        cmocka_unit_test(test_tls_failed_implicit),
        cmocka_unit_test(test_unreachable_without_tls),
        cmocka_unit_test(test_unreachable_ehlo_after_starttls),
        cmocka_unit_test(test_unreachable_lost_after_starttls),
        cmocka_unit_test(test_unreachable_after_implicit_tls),
        cmocka_unit_test(test_none_ignores_certificate),
        cmocka_unit_test(test_none_without_tls),
        cmocka_unit_test(test_none_implicit_tls),
        cmocka_unit_test(test_no_tls_may),
        cmocka_unit_test(test_no_tls_esa_preferred),
        cmocka_unit_test(test_no_tls_esa_preferred_verify),
        cmocka_unit_test(test_no_tls_encrypt),
        cmocka_unit_test(test_no_tls_fingerprint),
        cmocka_unit_test(test_no_tls_fingerprint_no_items),
        cmocka_unit_test(test_no_tls_verify),
        cmocka_unit_test(test_no_tls_secure),
        cmocka_unit_test(test_no_tls_esa_required),
        cmocka_unit_test(test_no_tls_esa_required_verify),
        cmocka_unit_test(test_no_tls_esa_required_verify_hosted),
        cmocka_unit_test(test_may_encrypted),
        cmocka_unit_test(test_encrypt_encrypted),
        cmocka_unit_test(test_esa_preferred_encrypted),
        cmocka_unit_test(test_esa_required_encrypted),
        cmocka_unit_test(test_fingerprint_cert_match),
        cmocka_unit_test(test_fingerprint_pubkey_match),
        cmocka_unit_test(test_fingerprint_forms),
        cmocka_unit_test(test_fingerprint_other_digests),
        cmocka_unit_test(test_fingerprint_mismatch),
        cmocka_unit_test(test_fingerprint_wrong_digest_advice),
        cmocka_unit_test(test_fingerprint_no_items),
        cmocka_unit_test(test_fingerprint_ignores_pkix),
        cmocka_unit_test(test_verify_pass),
        cmocka_unit_test(test_verify_mx_secure),
        cmocka_unit_test(test_verify_implicit_mx),
        cmocka_unit_test(test_helo_name_is_not_mx),
        cmocka_unit_test(test_verify_name_mismatch_disagree),
        cmocka_unit_test(test_verify_cn_only),
        cmocka_unit_test(test_verify_wildcard),
        cmocka_unit_test(test_verify_idn),
        cmocka_unit_test(test_verify_expired),
        cmocka_unit_test(test_verify_not_yet_valid),
        cmocka_unit_test(test_verify_expired_intermediate),
        cmocka_unit_test(test_verify_root_not_yet_valid),
        cmocka_unit_test(test_verify_self_signed),
        cmocka_unit_test(test_verify_missing_intermediate),
        cmocka_unit_test(test_verify_unknown_issuer),
        cmocka_unit_test(test_verify_untrusted_root),
        cmocka_unit_test(test_verify_wrong_purpose),
        cmocka_unit_test(test_verify_bad_signature),
        cmocka_unit_test(test_verify_invalid_ca),
        cmocka_unit_test(test_verify_pkix_error),
        cmocka_unit_test(test_verify_pkix_then_names),
        cmocka_unit_test(test_verify_match_nexthop),
        cmocka_unit_test(test_verify_match_dot_nexthop),
        cmocka_unit_test(test_verify_match_literals),
        cmocka_unit_test(test_verify_match_list_mismatch),
        cmocka_unit_test(test_verify_match_bad_item),
        cmocka_unit_test(test_verify_match_nexthop_route),
        cmocka_unit_test(test_secure_dot_nexthop),
        cmocka_unit_test(test_secure_nexthop),
        cmocka_unit_test(test_secure_mismatch),
        cmocka_unit_test(test_secure_route),
        cmocka_unit_test(test_secure_advice_example),
        cmocka_unit_test(test_secure_pkix),
        cmocka_unit_test(test_secure_match_hostname),
        cmocka_unit_test(test_esa_required_verify_dns_domain),
        cmocka_unit_test(test_esa_required_verify_cn_domain),
        cmocka_unit_test(test_esa_required_verify_ptr_confirmed),
        cmocka_unit_test(test_esa_required_verify_ptr_unconfirmed),
        cmocka_unit_test(test_esa_required_verify_ptr_vs_dns),
        cmocka_unit_test(test_esa_required_verify_mx_ignored),
        cmocka_unit_test(test_esa_required_verify_pkix),
        cmocka_unit_test(test_esa_preferred_verify_pass),
        cmocka_unit_test(test_esa_preferred_verify_names),
        cmocka_unit_test(test_esa_preferred_verify_pkix),
        cmocka_unit_test(test_esa_hosted_mx),
        cmocka_unit_test(test_esa_hosted_domain_and_routes),
        cmocka_unit_test(test_esa_hosted_first_mx_only),
        cmocka_unit_test(test_route_address_never_a_reference),
        cmocka_unit_test(test_route_forms),
        cmocka_unit_test(test_dane_ta_name_advice),
        cmocka_unit_test(test_esa_hosted_cn_rules),
        cmocka_unit_test(test_esa_hosted_pkix),
        cmocka_unit_test(test_cisco_worked_example),
        cmocka_unit_test(test_verify_wildcard_advice_only_deeper),
        cmocka_unit_test(test_verify_revoked),
        cmocka_unit_test(test_revocation_unavailable),
        cmocka_unit_test(test_tls_failed),
        cmocka_unit_test(test_expires_soon),
        cmocka_unit_test(test_mx_insecure_only_for_verify),
        cmocka_unit_test(test_evaluate_errors),
        cmocka_unit_test(test_evidence_setters),
        cmocka_unit_test(test_level_names),
        cmocka_unit_test(test_json_verify_pass),
        cmocka_unit_test(test_json_verify_fail),
        cmocka_unit_test(test_json_no_tls),
        cmocka_unit_test(test_json_fingerprint),
        cmocka_unit_test(test_json_hostile_names),
        cmocka_unit_test(test_json_all_levels),
        cmocka_unit_test(test_text_report),
    };
    return cmocka_run_group_tests(tests, NULL, tu_group_teardown);
}
