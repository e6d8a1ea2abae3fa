/* test_revocation.c - OCSP and CRL judging (revparse) and the revocation check
 *
 * Builds a PKI with OpenSSL APIs: a root (the only trust anchor), an
 * intermediate, leaves (good, revoked, ...), a delegated OCSP responder, a
 * responder without id-kp-OCSPSigning, a rogue CA that copies the
 * intermediate's name with another key, and two more intermediates: one
 * whose key usage lacks cRLSign, one without a key usage extension. OCSP responses and CRLs are made
 * per test with exact times. The asynchronous revocation_check() runs
 * against a tiny HTTP server on 127.0.0.1 in the same libevent loop, which
 * serves the canned OCSP response and CRL the test sets. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/revparse.h"
#include "httpserver.h"
#include "io/revocation.h"

#define HOUR 3600L
#define DAY (24 * HOUR)

/* ---- the test PKI ------------------------------------------------------- */

typedef struct pki {
    EVP_PKEY *k_root, *k_inter, *k_leaf, *k_resp, *k_nosign, *k_rogue, *k_nocrl, *k_noku;
    X509 *root, *inter, *resp, *nosign, *rogue;
    X509 *nocrl;       /* intermediate with keyUsage keyCertSign only (no cRLSign) */
    X509 *noku;        /* intermediate without a keyUsage extension */
    X509 *nocrl_leaf;  /* serial 0x1009, issued by nocrl */
    X509 *noku_leaf;   /* serial 0x100a, issued by noku */
    X509 *leaf;        /* serial 0x1001, AIA and CRL DP on the test server */
    X509 *revoked;     /* serial 0x1002, same */
    X509 *crlonly;     /* serial 0x1004, CRL DP only */
    X509 *bare;        /* serial 0x1005, no AIA, no CRL DP */
    X509 *down;        /* serial 0x1006, AIA and CRL DP on a closed port */
    X509 *slow;        /* serial 0x1007, AIA on /never, CRL DP on the server */
    X509 *direct;      /* serial 0x1008, issued by the root itself */
    X509_STORE *store; /* the root only */
    int closed_port;
} pki;

typedef struct fx {
    struct event_base *base;
    httpsrv s;             /* answers /ocsp and /crl with what follows */
    unsigned char *ocsp;   /* NULL: 404 */
    size_t ocsp_len;
    int ocsp_status;       /* 0: 200 */
    unsigned char *crl;    /* NULL: 404 */
    size_t crl_len;
    https_client *https;
    pki p;
    time_t now;
} fx;

/* srv_answer - the canned OCSP response and CRL of the test, by path */
static void srv_answer(httpsrv *s, httpsrv_conn *c, void *arg)
{
    fx *f = arg;
    char status[16];
    if (strcmp(s->path, "/ocsp") == 0 && f->ocsp) {
        snprintf(status, sizeof status, "%d X", f->ocsp_status ? f->ocsp_status : 200);
        httpsrv_reply(c, status, "application/ocsp-response", NULL, f->ocsp, f->ocsp_len, 1);
    } else if (strcmp(s->path, "/crl") == 0 && f->crl)
        httpsrv_reply(c, "200 X", "application/pkix-crl", NULL, f->crl, f->crl_len, 1);
    else if (strcmp(s->path, "/never") == 0)
        ; /* say nothing */
    else
        httpsrv_reply(c, "404 X", "text/plain", NULL, "not here", 8, 1);
}

static EVP_PKEY *key_new(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    return k;
}

/* add_ext - one extension in openssl.cnf syntax */
static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* cert_make - a certificate; kind 'C' CA, 'K' CA whose key usage lacks
 * cRLSign, 'B' CA without key usage, 'L' TLS leaf, 'O' OCSP responder, 'N'
 * responder without OCSPSigning. issuer NULL: self-signed. */
static X509 *cert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long serial,
                       char kind, const char *aia, const char *crldp)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -30 * DAY);
    X509_gmtime_adj(X509_getm_notAfter(x), 365 * DAY);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"mxtls test", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    X509_set_pubkey(x, key);
    add_ext(x, issuer, NID_subject_key_identifier, "hash");
    if (issuer)
        add_ext(x, issuer, NID_authority_key_identifier, "keyid");
    switch (kind) {
    case 'C':
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
        break;
    case 'K':
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,digitalSignature");
        break;
    case 'B':
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
        break;
    case 'L':
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
        add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
        break;
    case 'O':
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
        add_ext(x, issuer, NID_ext_key_usage, "OCSPSigning");
        break;
    case 'N':
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
        add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
        break;
    }
    char v[300];
    if (aia) {
        snprintf(v, sizeof v, "OCSP;URI:%s", aia);
        add_ext(x, issuer, NID_info_access, v);
    }
    if (crldp) {
        snprintf(v, sizeof v, "URI:%s", crldp);
        add_ext(x, issuer, NID_crl_distribution_points, v);
    }
    assert_true(X509_sign(x, issuer ? ikey : key, EVP_sha256()) > 0);
    return x;
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    socklen_t len = sizeof sin;
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd);
    return ntohs(sin.sin_port);
}

static void pki_make(pki *p, int port)
{
    char ocsp[128], crl[128], ocsp_down[128], crl_down[128], ocsp_slow[128];
    p->closed_port = closed_port();
    snprintf(ocsp, sizeof ocsp, "http://127.0.0.1:%d/ocsp", port);
    snprintf(crl, sizeof crl, "http://127.0.0.1:%d/crl", port);
    snprintf(ocsp_slow, sizeof ocsp_slow, "http://127.0.0.1:%d/never", port);
    snprintf(ocsp_down, sizeof ocsp_down, "http://127.0.0.1:%d/ocsp", p->closed_port);
    snprintf(crl_down, sizeof crl_down, "http://127.0.0.1:%d/crl", p->closed_port);
    p->k_root = key_new();
    p->k_inter = key_new();
    p->k_leaf = key_new();
    p->k_resp = key_new();
    p->k_nosign = key_new();
    p->k_rogue = key_new();
    p->k_nocrl = key_new();
    p->k_noku = key_new();
    p->root = cert_make("Test Root", p->k_root, NULL, NULL, 1, 'C', NULL, NULL);
    p->inter = cert_make("Test Inter", p->k_inter, p->root, p->k_root, 2, 'C', NULL, NULL);
    p->rogue = cert_make("Test Inter", p->k_rogue, NULL, NULL, 3, 'C', NULL, NULL);
    p->resp = cert_make("Test OCSP", p->k_resp, p->inter, p->k_inter, 0x100, 'O', NULL, NULL);
    p->nosign = cert_make("Test Not OCSP", p->k_nosign, p->inter, p->k_inter, 0x101, 'N', NULL,
                          NULL);
    p->leaf = cert_make("mx.good.test", p->k_leaf, p->inter, p->k_inter, 0x1001, 'L', ocsp, crl);
    p->revoked =
        cert_make("mx.revoked.test", p->k_leaf, p->inter, p->k_inter, 0x1002, 'L', ocsp, crl);
    p->crlonly =
        cert_make("mx.crlonly.test", p->k_leaf, p->inter, p->k_inter, 0x1004, 'L', NULL, crl);
    p->bare = cert_make("mx.bare.test", p->k_leaf, p->inter, p->k_inter, 0x1005, 'L', NULL, NULL);
    p->down = cert_make("mx.down.test", p->k_leaf, p->inter, p->k_inter, 0x1006, 'L', ocsp_down,
                        crl_down);
    p->slow =
        cert_make("mx.slow.test", p->k_leaf, p->inter, p->k_inter, 0x1007, 'L', ocsp_slow, crl);
    p->direct =
        cert_make("mx.direct.test", p->k_leaf, p->root, p->k_root, 0x1008, 'L', NULL, NULL);
    p->nocrl = cert_make("Test Inter No cRLSign", p->k_nocrl, p->root, p->k_root, 4, 'K', NULL,
                         NULL);
    p->noku = cert_make("Test Inter No KU", p->k_noku, p->root, p->k_root, 5, 'B', NULL, NULL);
    p->nocrl_leaf =
        cert_make("mx.nocrl.test", p->k_leaf, p->nocrl, p->k_nocrl, 0x1009, 'L', NULL, crl);
    p->noku_leaf =
        cert_make("mx.noku.test", p->k_leaf, p->noku, p->k_noku, 0x100a, 'L', NULL, crl);
    p->store = X509_STORE_new();
    X509_STORE_add_cert(p->store, p->root);
}

static void pki_free(pki *p)
{
    EVP_PKEY *keys[] = {p->k_root,   p->k_inter, p->k_leaf,  p->k_resp,
                        p->k_nosign, p->k_rogue, p->k_nocrl, p->k_noku};
    X509 *certs[] = {p->root,    p->inter,   p->resp,  p->nosign, p->rogue,
                     p->leaf,    p->revoked, p->crlonly, p->bare, p->down,
                     p->slow,    p->direct,  p->nocrl, p->noku,   p->nocrl_leaf,
                     p->noku_leaf};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        EVP_PKEY_free(keys[i]);
    for (size_t i = 0; i < sizeof certs / sizeof certs[0]; i++)
        X509_free(certs[i]);
    X509_STORE_free(p->store);
}

/* ---- OCSP responses and CRLs ------------------------------------------- */

/* One OCSP answer to build. Times are offsets from now; NO_TIME: absent. */
#define NO_TIME (-999999999L)
typedef struct ocsp_spec {
    X509 *about;        /* certificate the single response is about */
    int status;         /* V_OCSP_CERTSTATUS_* */
    int reason;         /* for revoked; -1 none */
    long revoked_off;
    long this_off, next_off;
    X509 *signer;       /* NULL: the delegated responder */
    EVP_PKEY *signer_key;
    int no_certs;       /* do not include the signer's certificate */
    const EVP_MD *id_md;     /* CertID hash (NULL: SHA-1) */
    OCSP_REQUEST *copy_nonce;
    const char *nonce;  /* a nonce of our own */
    int resp_status;    /* OCSP_RESPONSE_STATUS_* (default successful) */
} ocsp_spec;

static unsigned char *ocsp_make(fx *f, const ocsp_spec *sp, size_t *len)
{
    OCSP_RESPONSE *resp;
    if (sp->resp_status) {
        resp = OCSP_response_create(sp->resp_status, NULL);
    } else {
        OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
        OCSP_CERTID *id = OCSP_cert_to_id(sp->id_md, sp->about, f->p.inter);
        ASN1_TIME *thisupd = ASN1_GENERALIZEDTIME_adj(NULL, f->now, 0, sp->this_off);
        ASN1_TIME *nextupd = sp->next_off == NO_TIME
                                 ? NULL
                                 : ASN1_GENERALIZEDTIME_adj(NULL, f->now, 0, sp->next_off);
        ASN1_TIME *revtime = sp->status == V_OCSP_CERTSTATUS_REVOKED
                                 ? ASN1_GENERALIZEDTIME_adj(NULL, f->now, 0, sp->revoked_off)
                                 : NULL;
        assert_non_null(OCSP_basic_add1_status(bs, id, sp->status, sp->reason, revtime, thisupd,
                                               nextupd));
        if (sp->copy_nonce)
            assert_int_equal(OCSP_copy_nonce(bs, sp->copy_nonce), 1);
        if (sp->nonce)
            assert_int_equal(OCSP_basic_add1_nonce(bs, (unsigned char *)sp->nonce,
                                                   (int)strlen(sp->nonce)),
                             1);
        X509 *signer = sp->signer ? sp->signer : f->p.resp;
        EVP_PKEY *key = sp->signer_key ? sp->signer_key : f->p.k_resp;
        assert_int_equal(OCSP_basic_sign(bs, signer, key, EVP_sha256(), NULL,
                                         sp->no_certs ? OCSP_NOCERTS : 0),
                         1);
        resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
        OCSP_CERTID_free(id);
        ASN1_TIME_free(thisupd);
        ASN1_TIME_free(nextupd);
        ASN1_TIME_free(revtime);
        OCSP_BASICRESP_free(bs);
    }
    assert_non_null(resp);
    unsigned char *der = NULL;
    int n = i2d_OCSP_RESPONSE(resp, &der);
    assert_true(n > 0);
    OCSP_RESPONSE_free(resp);
    unsigned char *copy = malloc((size_t)n);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

/* A default good answer about the leaf: this update 1 h ago, next in 1 h. */
static ocsp_spec ocsp_good(fx *f, X509 *about)
{
    ocsp_spec sp = {.about = about, .status = V_OCSP_CERTSTATUS_GOOD, .reason = -1,
                    .this_off = -HOUR, .next_off = HOUR};
    (void)f;
    return sp;
}

typedef struct crl_spec {
    X509 *revoked;       /* listed certificate, or NULL */
    int reason;          /* -1 none */
    long revoked_off;
    long last_off, next_off;
    X509 *issuer_cert;   /* name on the CRL (NULL: the intermediate) */
    EVP_PKEY *key;       /* signing key (NULL: the intermediate's) */
    int pem;
    int delta;           /* add a critical delta CRL indicator */
    int only_ca;         /* issuing distribution point: onlyContainsCACerts */
    X509 *other;         /* a second, unrelated listed serial */
} crl_spec;

static void crl_list(X509_CRL *crl, X509 *x, int reason, time_t when)
{
    X509_REVOKED *rev = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(rev, (ASN1_INTEGER *)X509_get0_serialNumber(x));
    ASN1_TIME *t = ASN1_TIME_set(NULL, when);
    X509_REVOKED_set_revocationDate(rev, t);
    ASN1_TIME_free(t);
    if (reason >= 0) {
        ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
        ASN1_ENUMERATED_set(e, reason);
        X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, 0);
        ASN1_ENUMERATED_free(e);
    }
    X509_CRL_add0_revoked(crl, rev);
}

static unsigned char *crl_make(fx *f, const crl_spec *sp, size_t *len)
{
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509 *iss = sp->issuer_cert ? sp->issuer_cert : f->p.inter;
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(iss));
    ASN1_TIME *t = ASN1_TIME_set(NULL, f->now + sp->last_off);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_free(t);
    if (sp->next_off != NO_TIME) {
        t = ASN1_TIME_set(NULL, f->now + sp->next_off);
        X509_CRL_set1_nextUpdate(crl, t);
        ASN1_TIME_free(t);
    }
    if (sp->other)
        crl_list(crl, sp->other, 4, f->now - 2 * DAY);
    if (sp->revoked)
        crl_list(crl, sp->revoked, sp->reason, f->now + sp->revoked_off);
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    ASN1_INTEGER_set(num, 42);
    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
    if (sp->delta)
        X509_CRL_add1_ext_i2d(crl, NID_delta_crl, num, 1, 0);
    ASN1_INTEGER_free(num);
    if (sp->only_ca) {
        ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
        idp->onlyCA = 0xff;
        X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0);
        ISSUING_DIST_POINT_free(idp);
    }
    X509_CRL_sort(crl);
    assert_true(X509_CRL_sign(crl, sp->key ? sp->key : f->p.k_inter, EVP_sha256()) > 0);
    unsigned char *out;
    if (sp->pem) {
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509_CRL(b, crl);
        char *data;
        long n = BIO_get_mem_data(b, &data);
        out = malloc((size_t)n);
        memcpy(out, data, (size_t)n);
        *len = (size_t)n;
        BIO_free(b);
    } else {
        unsigned char *der = NULL;
        int n = i2d_X509_CRL(crl, &der);
        assert_true(n > 0);
        out = malloc((size_t)n);
        memcpy(out, der, (size_t)n);
        *len = (size_t)n;
        OPENSSL_free(der);
    }
    X509_CRL_free(crl);
    return out;
}

static crl_spec crl_default(void)
{
    crl_spec sp = {.reason = -1, .last_off = -HOUR, .next_off = 7 * DAY};
    return sp;
}

/* ---- fixture ----------------------------------------------------------- */

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->now = time(NULL);
    f->base = event_base_new();
    httpsrv_start(&f->s, f->base, srv_answer, f);
    err_rec e;
    f->https = https_client_new(f->base, &e);
    assert_non_null(f->https);
    pki_make(&f->p, f->s.port);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    https_client_free(f->https);
    httpsrv_stop(&f->s);
    free(f->ocsp);
    free(f->crl);
    event_base_free(f->base);
    pki_free(&f->p);
    free(f);
    return 0;
}

/* chain_of - [leaf, intermediate] (references); caller sk_X509_pop_free()s */
static STACK_OF(X509) *chain_of(fx *f, X509 *leaf, int with_inter)
{
    STACK_OF(X509) *c = sk_X509_new_null();
    X509_up_ref(leaf);
    sk_X509_push(c, leaf);
    if (with_inter) {
        X509_up_ref(f->p.inter);
        sk_X509_push(c, f->p.inter);
    }
    return c;
}

/* judge_ocsp - revparse_ocsp of a spec about spec->about, checked against `leaf` */
static revparse_status judge_ocsp(fx *f, const ocsp_spec *sp, X509 *leaf, time_t at,
                                  OCSP_REQUEST *req, revparse_result *out)
{
    size_t len;
    unsigned char *der = ocsp_make(f, sp, &len);
    revparse_status st =
        revparse_ocsp(der, len, leaf, f->p.inter, NULL, f->p.store, at, req, out);
    free(der);
    return st;
}

#define assert_detail(r, frag)                                                                 \
    do {                                                                                       \
        if (!strstr((r)->detail, (frag)))                                                      \
            fail_msg("detail \"%s\" lacks \"%s\"", (r)->detail, (frag));                       \
    } while (0)

/* ---- OCSP --------------------------------------------------------------- */

static void test_ocsp_good_delegated(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_GOOD);
    assert_detail(&r, "good: the responder vouches for the certificate (this update ");
    assert_int_equal(r.this_update, f->now - HOUR);
    assert_int_equal(r.next_update, f->now + HOUR);
}

static void test_ocsp_good_signed_by_issuer(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.signer = f->p.inter;
    sp.signer_key = f->p.k_inter;
    sp.no_certs = 1; /* the issuer comes from the chain */
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_GOOD);
}

static void test_ocsp_good_sha256_certid(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.id_md = EVP_sha256();
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_GOOD);
}

static void test_ocsp_revoked(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.revoked);
    sp.status = V_OCSP_CERTSTATUS_REVOKED;
    sp.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
    sp.revoked_off = -DAY;
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.revoked, 0, NULL, &r), REVPARSE_REVOKED);
    assert_int_equal(r.revoked_at, f->now - DAY);
    assert_int_equal(r.reason, 1);
    assert_detail(&r, "revoked at ");
    assert_detail(&r, "(reason: keyCompromise)");
}

static void test_ocsp_revoked_no_reason(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.revoked);
    sp.status = V_OCSP_CERTSTATUS_REVOKED;
    sp.revoked_off = -DAY;
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.revoked, 0, NULL, &r), REVPARSE_REVOKED);
    assert_int_equal(r.reason, -1);
    assert_detail(&r, "(reason: unspecified)");
}

static void test_ocsp_unknown(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.status = V_OCSP_CERTSTATUS_UNKNOWN;
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNKNOWN);
    assert_string_equal(r.detail, "unknown: the responder does not know the certificate");
}

static void test_ocsp_expired(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.this_off = -3 * DAY;
    sp.next_off = -2 * DAY;
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "unusable: expired (next update ");
    assert_detail(&r, "is before the check time");
}

static void test_ocsp_skew(void **state)
{
    fx *f = *state;
    /* Expired 4 minutes ago: within the 5-minute skew, still usable. */
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.this_off = -DAY;
    sp.next_off = -4 * 60;
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_GOOD);
    /* Produced 4 minutes in the future: a fast responder clock, usable. */
    sp.this_off = 4 * 60;
    sp.next_off = DAY;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_GOOD);
    /* 10 minutes in the future: not yet valid. */
    sp.this_off = 10 * 60;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "unusable: not yet valid (this update ");
}

static void test_ocsp_no_next_update(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.next_off = NO_TIME;
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_GOOD);
    assert_detail(&r, "next update none");
    sp.this_off = -8 * DAY;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "unusable: too old");
}

static void test_ocsp_check_time(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    revparse_result r;
    /* Within the window at a chosen time, outside it 3 days later. */
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, f->now - 30 * 60, NULL, &r), REVPARSE_GOOD);
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, f->now + 3 * DAY, NULL, &r),
                     REVPARSE_UNUSABLE);
    assert_detail(&r, "expired");
    /* At a time the responder certificate was not yet valid (it starts 30
     * days back): the signature check fails at that time. */
    sp.this_off = -40 * DAY;
    sp.next_off = 10 * DAY;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, f->now - 35 * DAY, NULL, &r),
                     REVPARSE_UNUSABLE);
    assert_detail(&r, "does not verify");
}

static void test_ocsp_wrong_key(void **state)
{
    fx *f = *state;
    /* Signed by a rogue CA that copies the intermediate's name. */
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.signer = f->p.rogue;
    sp.signer_key = f->p.k_rogue;
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "unusable: the signature or the responder's authority does not verify");
    /* The same without its certificate: the responder ID names the real
     * intermediate, whose key does not verify the signature. */
    sp.no_certs = 1;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "signature failure");
}

static void test_ocsp_unauthorized_responder(void **state)
{
    fx *f = *state;
    /* Issued by the intermediate, but not for id-kp-OCSPSigning. */
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.signer = f->p.nosign;
    sp.signer_key = f->p.k_nosign;
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "does not verify");
}

static void test_ocsp_other_certificate(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.revoked);
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_string_equal(r.detail,
                        "unusable: the response says nothing about this certificate (serial 1001)");
}

static void test_ocsp_not_successful(void **state)
{
    fx *f = *state;
    ocsp_spec sp = {.resp_status = OCSP_RESPONSE_STATUS_TRYLATER};
    revparse_result r;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: the responder answered trylater (3)");
    sp.resp_status = OCSP_RESPONSE_STATUS_UNAUTHORIZED;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, NULL, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "unauthorized (6)");
}

static void test_ocsp_malformed(void **state)
{
    fx *f = *state;
    revparse_result r;
    static const unsigned char junk[] = "HTTP/1.1 200 OK\r\n\r\nnot der";
    assert_int_equal(revparse_ocsp(junk, sizeof junk - 1, f->p.leaf, f->p.inter, NULL,
                                   f->p.store, 0, NULL, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: not a DER OCSP response");
    assert_int_equal(revparse_ocsp(junk, 0, f->p.leaf, f->p.inter, NULL, f->p.store, 0, NULL, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: empty OCSP response");
    /* Every truncation of a good response is refused, none crashes. */
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    size_t len;
    unsigned char *der = ocsp_make(f, &sp, &len);
    for (size_t n = 1; n < len; n++) {
        unsigned char *cut = malloc(n);
        memcpy(cut, der, n);
        assert_int_equal(revparse_ocsp(cut, n, f->p.leaf, f->p.inter, NULL, f->p.store, 0, NULL,
                                       &r),
                         REVPARSE_UNUSABLE);
        free(cut);
    }
    /* Trailing bytes. */
    unsigned char *more = malloc(len + 3);
    memcpy(more, der, len);
    memcpy(more + len, "abc", 3);
    assert_int_equal(revparse_ocsp(more, len + 3, f->p.leaf, f->p.inter, NULL, f->p.store, 0,
                                   NULL, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: 3 bytes of garbage after the OCSP response");
    /* A flipped bit in the signature. */
    memcpy(more, der, len);
    more[len - 5] ^= 0x01;
    assert_int_equal(revparse_ocsp(more, len, f->p.leaf, f->p.inter, NULL, f->p.store, 0, NULL,
                                   &r),
                     REVPARSE_UNUSABLE);
    free(more);
    free(der);
    /* The size limit, at its edge: one byte more is refused unparsed. */
    unsigned char *huge = calloc(1, REVPARSE_MAX_OCSP + 1);
    assert_int_equal(revparse_ocsp(huge, REVPARSE_MAX_OCSP + 1, f->p.leaf, f->p.inter, NULL,
                                   f->p.store, 0, NULL, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: OCSP response larger than 65536 bytes");
    assert_int_equal(revparse_ocsp(huge, REVPARSE_MAX_OCSP, f->p.leaf, f->p.inter, NULL,
                                   f->p.store, 0, NULL, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: not a DER OCSP response");
    free(huge);
}

static void test_ocsp_nonce(void **state)
{
    fx *f = *state;
    OCSP_REQUEST *req = revparse_ocsp_request(f->p.leaf, f->p.inter, 1);
    assert_non_null(req);
    revparse_result r;
    /* Echoed: good. */
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.copy_nonce = req;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, req, &r), REVPARSE_GOOD);
    /* Not echoed (pre-signed responses): accepted. */
    sp.copy_nonce = NULL;
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, req, &r), REVPARSE_GOOD);
    /* A different nonce: a replayed or misrouted answer. */
    sp.nonce = "0123456789abcdef";
    assert_int_equal(judge_ocsp(f, &sp, f->p.leaf, 0, req, &r), REVPARSE_UNUSABLE);
    assert_string_equal(r.detail,
                        "unusable: the nonce does not match the request (replayed or misrouted)");
    OCSP_REQUEST_free(req);
}

static void test_ocsp_untrusted_issuer(void **state)
{
    fx *f = *state;
    X509_STORE *empty = X509_STORE_new();
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    size_t len;
    unsigned char *der = ocsp_make(f, &sp, &len);
    revparse_result r;
    assert_int_equal(
        revparse_ocsp(der, len, f->p.leaf, f->p.inter, NULL, empty, 0, NULL, &r),
        REVPARSE_UNUSABLE);
    assert_detail(&r, "unusable: the issuer \"CN=Test Inter,O=mxtls test\" is not trusted");
    /* Wrong issuer given for the leaf. */
    assert_int_equal(
        revparse_ocsp(der, len, f->p.leaf, f->p.root, NULL, f->p.store, 0, NULL, &r),
        REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: the given issuer did not issue the certificate");
    X509_STORE_free(empty);
    free(der);
}

static void test_staple(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    size_t len;
    unsigned char *der = ocsp_make(f, &sp, &len);
    STACK_OF(X509) *chain = chain_of(f, f->p.leaf, 1);
    revocation_result r;
    revocation_check_staple(der, len, chain, f->p.store, 0, &r);
    assert_int_equal(r.status, MXTLS_REVOCATION_GOOD);
    assert_int_equal(r.source, REVOCATION_SRC_STAPLE);
    assert_non_null(strstr(r.detail, "stapled OCSP response: good: "));
    revocation_result_free(&r);
    assert_null(r.detail);
    /* Without the intermediate in the chain, the issuer is not found. */
    STACK_OF(X509) *alone = chain_of(f, f->p.leaf, 0);
    revocation_check_staple(der, len, alone, f->p.store, 0, &r);
    assert_int_equal(r.status, MXTLS_REVOCATION_UNAVAILABLE);
    assert_non_null(strstr(r.detail, "issuer is unknown"));
    revocation_result_free(&r);
    /* No staple at all. */
    revocation_check_staple(NULL, 0, chain, f->p.store, 0, &r);
    assert_int_equal(r.status, MXTLS_REVOCATION_UNAVAILABLE);
    assert_string_equal(r.detail, "the server stapled no OCSP response");
    revocation_result_free(&r);
    sk_X509_pop_free(chain, X509_free);
    sk_X509_pop_free(alone, X509_free);
    free(der);
}

static void test_staple_issuer_from_store(void **state)
{
    fx *f = *state;
    /* A leaf issued by the root itself: chain of one, issuer in the store,
     * response signed by the root directly. */
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, f->p.direct, f->p.root);
    ASN1_TIME *t1 = ASN1_GENERALIZEDTIME_adj(NULL, f->now, 0, -HOUR);
    ASN1_TIME *t2 = ASN1_GENERALIZEDTIME_adj(NULL, f->now, 0, HOUR);
    OCSP_basic_add1_status(bs, id, V_OCSP_CERTSTATUS_GOOD, -1, NULL, t1, t2);
    OCSP_basic_sign(bs, f->p.root, f->p.k_root, EVP_sha256(), NULL, OCSP_NOCERTS);
    OCSP_RESPONSE *resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    int n = i2d_OCSP_RESPONSE(resp, &der);
    STACK_OF(X509) *chain = sk_X509_new_null();
    sk_X509_push(chain, f->p.direct);
    revocation_result r;
    revocation_check_staple(der, (size_t)n, chain, f->p.store, 0, &r);
    assert_int_equal(r.status, MXTLS_REVOCATION_GOOD);
    revocation_result_free(&r);
    sk_X509_free(chain);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(t1);
    ASN1_TIME_free(t2);
}

/* ---- CRL ---------------------------------------------------------------- */

static revparse_status judge_crl(fx *f, const crl_spec *sp, X509 *leaf, time_t at,
                                 revparse_result *out)
{
    size_t len;
    unsigned char *buf = crl_make(f, sp, &len);
    revparse_status st = revparse_crl(buf, len, leaf, f->p.inter, NULL, f->p.store, at, out);
    free(buf);
    return st;
}

static void test_crl_good(void **state)
{
    fx *f = *state;
    crl_spec sp = crl_default();
    sp.other = f->p.revoked;
    revparse_result r;
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_GOOD);
    assert_detail(&r, "good: not listed among 1 revoked certificates (this update ");
    assert_int_equal(r.next_update, f->now + 7 * DAY);
}

static void test_crl_revoked(void **state)
{
    fx *f = *state;
    crl_spec sp = crl_default();
    sp.revoked = f->p.revoked;
    sp.reason = 1;
    sp.revoked_off = -2 * DAY;
    sp.other = f->p.crlonly;
    revparse_result r;
    assert_int_equal(judge_crl(f, &sp, f->p.revoked, 0, &r), REVPARSE_REVOKED);
    assert_int_equal(r.revoked_at, f->now - 2 * DAY);
    assert_int_equal(r.reason, 1);
    assert_detail(&r, "(reason: keyCompromise)");
    /* PEM is accepted as well. */
    sp.pem = 1;
    assert_int_equal(judge_crl(f, &sp, f->p.revoked, 0, &r), REVPARSE_REVOKED);
    /* The good leaf is not listed in the same CRL. */
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_GOOD);
    assert_detail(&r, "not listed among 2 revoked");
    /* An entry with reason removeFromCRL (8) takes a certificate off hold; it
     * does not say the certificate is revoked (RFC 5280 §5.3.1). */
    sp = crl_default();
    sp.revoked = f->p.revoked;
    sp.reason = 8;
    sp.revoked_off = -2 * DAY;
    assert_int_equal(judge_crl(f, &sp, f->p.revoked, 0, &r), REVPARSE_GOOD);
    assert_detail(&r, "good: not listed among 1 revoked certificates");
}

static void test_crl_expired(void **state)
{
    fx *f = *state;
    crl_spec sp = crl_default();
    sp.last_off = -10 * DAY;
    sp.next_off = -DAY;
    revparse_result r;
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "unusable: expired (next update ");
    /* ... and usable at a time inside its window. */
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, f->now - 5 * DAY, &r), REVPARSE_GOOD);
    /* Not yet valid. */
    sp.last_off = HOUR;
    sp.next_off = DAY;
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "not yet valid");
    /* No nextUpdate (RFC 5280 §5.1.2.5 requires it). */
    sp.last_off = -HOUR;
    sp.next_off = NO_TIME;
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "no next update time");
}

static void test_crl_wrong_signer(void **state)
{
    fx *f = *state;
    crl_spec sp = crl_default();
    sp.revoked = f->p.revoked;
    sp.key = f->p.k_rogue; /* the intermediate's name, another key */
    revparse_result r;
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_UNUSABLE);
    assert_string_equal(r.detail,
                        "unusable: the signature does not verify with the issuer's key");
    /* Another issuer's CRL. */
    sp = crl_default();
    sp.issuer_cert = f->p.root;
    sp.key = f->p.k_root;
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: issued by \"CN=Test Root,O=mxtls test\", not by the "
                                  "certificate's issuer \"CN=Test Inter,O=mxtls test\"");
}

/* RFC 5280 §6.3.3 (f): the CRL issuer's key usage must allow signing CRLs.
 * A CRL that says the leaf is revoked, correctly signed by the leaf's issuer,
 * is still refused when that issuer lacks cRLSign; without a key usage
 * extension every use is allowed (§4.2.1.3). */
static void test_crl_issuer_key_usage(void **state)
{
    fx *f = *state;
    assert_int_equal(X509_get_key_usage(f->p.nocrl) & KU_CRL_SIGN, 0);
    assert_true(X509_get_key_usage(f->p.nocrl) & KU_KEY_CERT_SIGN);
    crl_spec sp = crl_default();
    sp.issuer_cert = f->p.nocrl;
    sp.key = f->p.k_nocrl;
    sp.revoked = f->p.nocrl_leaf;
    sp.reason = 1;
    sp.revoked_off = -DAY;
    size_t len;
    unsigned char *buf = crl_make(f, &sp, &len);
    revparse_result r;
    assert_int_equal(revparse_crl(buf, len, f->p.nocrl_leaf, f->p.nocrl, NULL, f->p.store, 0, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: the issuer's key usage does not allow signing CRLs");
    free(buf);
    /* the same CRL for a leaf it does not list: refused as well */
    sp.revoked = NULL;
    buf = crl_make(f, &sp, &len);
    assert_int_equal(revparse_crl(buf, len, f->p.nocrl_leaf, f->p.nocrl, NULL, f->p.store, 0, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: the issuer's key usage does not allow signing CRLs");
    free(buf);

    /* no key usage at all: the CRL is judged */
    sp = crl_default();
    sp.issuer_cert = f->p.noku;
    sp.key = f->p.k_noku;
    sp.revoked = f->p.noku_leaf;
    sp.reason = 1;
    sp.revoked_off = -DAY;
    buf = crl_make(f, &sp, &len);
    assert_int_equal(revparse_crl(buf, len, f->p.noku_leaf, f->p.noku, NULL, f->p.store, 0, &r),
                     REVPARSE_REVOKED);
    assert_detail(&r, "(reason: keyCompromise)");
    free(buf);
}

static void test_crl_scope(void **state)
{
    fx *f = *state;
    crl_spec sp = crl_default();
    sp.delta = 1;
    revparse_result r;
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_UNUSABLE);
    assert_detail(&r, "delta CRL");
    sp = crl_default();
    sp.only_ca = 1;
    assert_int_equal(judge_crl(f, &sp, f->p.leaf, 0, &r), REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: partial CRL (it lists only CA certificates)");
}

static void test_crl_malformed(void **state)
{
    fx *f = *state;
    revparse_result r;
    static const unsigned char junk[] = "<html>404</html>";
    assert_int_equal(revparse_crl(junk, sizeof junk - 1, f->p.leaf, f->p.inter, NULL, f->p.store,
                                  0, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: not a DER or PEM CRL");
    static const unsigned char pem[] = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
    assert_int_equal(revparse_crl(pem, sizeof pem - 1, f->p.leaf, f->p.inter, NULL, f->p.store, 0,
                                  &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: not a PEM X509 CRL");
    crl_spec sp = crl_default();
    sp.revoked = f->p.revoked;
    size_t len;
    unsigned char *der = crl_make(f, &sp, &len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, der, n);
        assert_int_equal(revparse_crl(cut, n, f->p.revoked, f->p.inter, NULL, f->p.store, 0, &r),
                         REVPARSE_UNUSABLE);
        free(cut);
    }
    free(der);
    unsigned char *huge = calloc(1, REVPARSE_MAX_CRL + 1);
    assert_int_equal(revparse_crl(huge, REVPARSE_MAX_CRL + 1, f->p.leaf, f->p.inter, NULL,
                                  f->p.store, 0, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: CRL larger than 1048576 bytes");
    assert_int_equal(revparse_crl(huge, REVPARSE_MAX_CRL, f->p.leaf, f->p.inter, NULL,
                                  f->p.store, 0, &r),
                     REVPARSE_UNUSABLE);
    assert_string_equal(r.detail, "unusable: not a DER or PEM CRL");
    free(huge);
}

/* ---- the asynchronous check --------------------------------------------- */

typedef struct got {
    int calls;
    int in_call;
    revocation_result r;
} got;

static void on_result(void *arg, revocation_result *r)
{
    got *g = arg;
    assert_false(g->in_call);
    g->calls++;
    g->r = *r;
    r->detail = NULL; /* taken */
}

/* check - revocation_check of [leaf, inter] and wait for the result */
static void check(fx *f, X509 *leaf, const unsigned char *staple, size_t staple_len,
                  int timeout_ms, got *g)
{
    memset(g, 0, sizeof *g);
    STACK_OF(X509) *chain = chain_of(f, leaf, 1);
    err_rec e;
    err_clear(&e);
    g->in_call = 1;
    int rc = revocation_check(f->https, chain, f->p.store, staple, staple_len, 0, timeout_ms,
                              on_result, g, &e);
    g->in_call = 0;
    sk_X509_pop_free(chain, X509_free); /* the check keeps its own references */
    assert_int_equal(rc, 0);
    assert_int_equal(g->calls, 0);
    loop_run_until(f->base, &g->calls, 1, 10000);
    assert_int_equal(g->calls, 1);
    assert_non_null(g->r.detail);
}

static void serve_ocsp(fx *f, const ocsp_spec *sp)
{
    free(f->ocsp);
    f->ocsp = ocsp_make(f, sp, &f->ocsp_len);
}

static void serve_crl(fx *f, const crl_spec *sp)
{
    free(f->crl);
    f->crl = crl_make(f, sp, &f->crl_len);
}

#define assert_rdetail(g, frag)                                                                \
    do {                                                                                       \
        if (!strstr((g)->r.detail, (frag)))                                                    \
            fail_msg("detail \"%s\" lacks \"%s\"", (g)->r.detail, (frag));                     \
    } while (0)

static void test_check_ocsp_good(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf); /* no nonce echoed: accepted */
    serve_ocsp(f, &sp);
    got g;
    check(f, f->p.leaf, NULL, 0, 5000, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_GOOD);
    assert_int_equal(g.r.source, REVOCATION_SRC_OCSP);
    char want[128];
    snprintf(want, sizeof want, "OCSP responder http://127.0.0.1:%d/ocsp: good: ", f->s.port);
    assert_rdetail(&g, want);
    assert_int_equal(f->s.requests, 1);
    assert_string_equal(f->s.method, "POST");
    assert_string_equal(f->s.ctype, "application/ocsp-request");
    revocation_result_free(&g.r);
}

static void test_check_ocsp_revoked(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.revoked);
    sp.status = V_OCSP_CERTSTATUS_REVOKED;
    sp.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
    sp.revoked_off = -DAY;
    serve_ocsp(f, &sp);
    got g;
    check(f, f->p.revoked, NULL, 0, 5000, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(g.r.source, REVOCATION_SRC_OCSP);
    assert_int_equal(g.r.revoked_at, f->now - DAY);
    assert_rdetail(&g, "revoked at ");
    assert_rdetail(&g, "keyCompromise");
    revocation_result_free(&g.r);
}

static void test_check_staple_first(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.revoked);
    sp.status = V_OCSP_CERTSTATUS_REVOKED;
    sp.revoked_off = -HOUR;
    size_t len;
    unsigned char *der = ocsp_make(f, &sp, &len);
    got g;
    check(f, f->p.revoked, der, len, 5000, &g); /* delivered from the loop, not inside */
    assert_int_equal(g.r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(g.r.source, REVOCATION_SRC_STAPLE);
    assert_rdetail(&g, "stapled OCSP response: revoked at ");
    assert_int_equal(f->s.requests, 0);
    revocation_result_free(&g.r);
    free(der);
}

static void test_check_bad_staple_then_ocsp(void **state)
{
    fx *f = *state;
    ocsp_spec bad = ocsp_good(f, f->p.leaf);
    bad.this_off = -3 * DAY;
    bad.next_off = -2 * DAY;
    size_t len;
    unsigned char *der = ocsp_make(f, &bad, &len);
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    serve_ocsp(f, &sp);
    got g;
    check(f, f->p.leaf, der, len, 5000, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_GOOD);
    assert_int_equal(g.r.source, REVOCATION_SRC_OCSP);
    assert_rdetail(&g, "(earlier: stapled OCSP response: unusable: expired");
    revocation_result_free(&g.r);
    free(der);
}

static void test_check_ocsp_unusable_then_crl(void **state)
{
    fx *f = *state;
    /* The responder fails (HTTP 500); the CRL lists the certificate. */
    ocsp_spec sp = ocsp_good(f, f->p.revoked);
    serve_ocsp(f, &sp);
    f->ocsp_status = 500;
    crl_spec cs = crl_default();
    cs.revoked = f->p.revoked;
    cs.reason = 1;
    cs.revoked_off = -DAY;
    serve_crl(f, &cs);
    got g;
    check(f, f->p.revoked, NULL, 0, 5000, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(g.r.source, REVOCATION_SRC_CRL);
    char want[200];
    snprintf(want, sizeof want, "CRL http://127.0.0.1:%d/crl: revoked at ", f->s.port);
    assert_rdetail(&g, want);
    snprintf(want, sizeof want, "(earlier: OCSP responder http://127.0.0.1:%d/ocsp: HTTP status 500)",
             f->s.port);
    assert_rdetail(&g, want);
    assert_int_equal(f->s.requests, 2);
    revocation_result_free(&g.r);
}

static void test_check_unknown_then_crl(void **state)
{
    fx *f = *state;
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    sp.status = V_OCSP_CERTSTATUS_UNKNOWN;
    serve_ocsp(f, &sp);
    /* The CRL is unusable too: "unknown" is the answer. */
    crl_spec cs = crl_default();
    cs.key = f->p.k_rogue;
    serve_crl(f, &cs);
    got g;
    check(f, f->p.leaf, NULL, 0, 5000, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_UNKNOWN);
    assert_int_equal(g.r.source, REVOCATION_SRC_OCSP);
    assert_rdetail(&g, "unknown: the responder does not know the certificate (also: CRL ");
    assert_rdetail(&g, "unusable: the signature does not verify");
    revocation_result_free(&g.r);
    /* With a good CRL the CRL decides. */
    cs = crl_default();
    serve_crl(f, &cs);
    check(f, f->p.leaf, NULL, 0, 5000, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_GOOD);
    assert_int_equal(g.r.source, REVOCATION_SRC_CRL);
    revocation_result_free(&g.r);
}

static void test_check_crl_only(void **state)
{
    fx *f = *state;
    crl_spec cs = crl_default();
    cs.revoked = f->p.crlonly;
    cs.pem = 1;
    serve_crl(f, &cs);
    got g;
    check(f, f->p.crlonly, NULL, 0, 5000, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(g.r.source, REVOCATION_SRC_CRL);
    assert_string_equal(f->s.method, "GET");
    revocation_result_free(&g.r);
}

static void test_check_nothing_to_ask(void **state)
{
    fx *f = *state;
    got g;
    check(f, f->p.bare, NULL, 0, 5000, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_UNAVAILABLE);
    assert_int_equal(g.r.source, REVOCATION_SRC_NONE);
    assert_string_equal(g.r.detail, "no stapled OCSP response, and the certificate names no OCSP "
                                    "responder and no CRL distribution point");
    revocation_result_free(&g.r);
}

static void test_check_responder_down(void **state)
{
    fx *f = *state;
    got g;
    double t0 = loop_now_ms();
    check(f, f->p.down, NULL, 0, 2000, &g);
    assert_true(loop_now_ms() - t0 < 2000);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_UNAVAILABLE);
    char want[200];
    snprintf(want, sizeof want, "no usable revocation answer: OCSP responder "
             "http://127.0.0.1:%d/ocsp: no answer (", f->p.closed_port);
    assert_rdetail(&g, want);
    snprintf(want, sizeof want, "; CRL http://127.0.0.1:%d/crl: no answer (", f->p.closed_port);
    assert_rdetail(&g, want);
    revocation_result_free(&g.r);
}

static void test_check_timeout_budget(void **state)
{
    fx *f = *state;
    /* The responder never answers: the whole 300 ms budget goes to it and
     * the CRL is not tried. */
    crl_spec cs = crl_default();
    serve_crl(f, &cs);
    got g;
    double t0 = loop_now_ms();
    check(f, f->p.slow, NULL, 0, 300, &g);
    double took = loop_now_ms() - t0;
    assert_true(took >= 250 && took < 2000);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_UNAVAILABLE);
    assert_rdetail(&g, "/never: no answer (timed out after");
    assert_rdetail(&g, "/crl: not tried, the 300 ms budget is spent");
    revocation_result_free(&g.r);
}

static void test_check_no_chain(void **state)
{
    fx *f = *state;
    got g = {0};
    err_rec e;
    STACK_OF(X509) *empty = sk_X509_new_null();
    assert_int_equal(revocation_check(f->https, empty, f->p.store, NULL, 0, 0, 1000, on_result,
                                      &g, &e),
                     0);
    assert_int_equal(g.calls, 0);
    loop_run_until(f->base, &g.calls, 1, 2000);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_NOT_CHECKED);
    revocation_result_free(&g.r);
    sk_X509_free(empty);
    assert_int_equal(revocation_check(NULL, empty, f->p.store, NULL, 0, 0, 1000, on_result, &g,
                                      &e),
                     -1);
}

static void test_check_cancelled(void **state)
{
    fx *f = *state;
    got g = {0};
    err_rec e;
    STACK_OF(X509) *chain = chain_of(f, f->p.slow, 1);
    assert_int_equal(revocation_check(f->https, chain, f->p.store, NULL, 0, 0, 5000, on_result,
                                      &g, &e),
                     0);
    sk_X509_pop_free(chain, X509_free);
    loop_run_until(f->base, &f->s.requests, 1, 500);
    https_client_free(f->https); /* the job is freed without a callback (ASan: no leak) */
    f->https = NULL;
    loop_run_until(f->base, NULL, 1, 200);
    assert_int_equal(g.calls, 0);
}

static void test_check_cancelled_before_delivery(void **state)
{
    fx *f = *state;
    /* Decided by the staple, but the client goes before the loop turns:
     * no callback, and nothing leaks (ASan). */
    ocsp_spec sp = ocsp_good(f, f->p.leaf);
    size_t len;
    unsigned char *der = ocsp_make(f, &sp, &len);
    STACK_OF(X509) *chain = chain_of(f, f->p.leaf, 1);
    got g = {0};
    err_rec e;
    assert_int_equal(revocation_check(f->https, chain, f->p.store, der, len, 0, 1000, on_result,
                                      &g, &e),
                     0);
    https_client_free(f->https);
    f->https = NULL;
    loop_run_until(f->base, NULL, 1, 100);
    assert_int_equal(g.calls, 0);
    sk_X509_pop_free(chain, X509_free);
    free(der);
}

static void test_names(void **state)
{
    assert_string_equal(mxtls_revocation_status_name(MXTLS_REVOCATION_GOOD), "good");
    assert_string_equal(mxtls_revocation_status_name(MXTLS_REVOCATION_UNAVAILABLE), "unavailable");
    assert_string_equal(mxtls_revocation_status_name(MXTLS_REVOCATION_NOT_CHECKED), "not-checked");
    assert_string_equal(revocation_source_name(REVOCATION_SRC_CRL), "crl");
    assert_string_equal(revocation_source_name(REVOCATION_SRC_NONE), "none");
    assert_string_equal(revparse_reason_name(-1), "unspecified");
    assert_string_equal(revparse_reason_name(1), "keyCompromise");
    char t[40];
    revparse_time_text(0, t, sizeof t);
    assert_string_equal(t, "1970-01-01 00:00:00 UTC");
    revocation_result_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ocsp_good_delegated),
        T(test_ocsp_good_signed_by_issuer),
        T(test_ocsp_good_sha256_certid),
        T(test_ocsp_revoked),
        T(test_ocsp_revoked_no_reason),
        T(test_ocsp_unknown),
        T(test_ocsp_expired),
        T(test_ocsp_skew),
        T(test_ocsp_no_next_update),
        T(test_ocsp_check_time),
        T(test_ocsp_wrong_key),
        T(test_ocsp_unauthorized_responder),
        T(test_ocsp_other_certificate),
        T(test_ocsp_not_successful),
        T(test_ocsp_malformed),
        T(test_ocsp_nonce),
        T(test_ocsp_untrusted_issuer),
        T(test_staple),
        T(test_staple_issuer_from_store),
        T(test_crl_good),
        T(test_crl_revoked),
        T(test_crl_expired),
        T(test_crl_wrong_signer),
        T(test_crl_issuer_key_usage),
        T(test_crl_scope),
        T(test_crl_malformed),
        T(test_check_ocsp_good),
        T(test_check_ocsp_revoked),
        T(test_check_staple_first),
        T(test_check_bad_staple_then_ocsp),
        T(test_check_ocsp_unusable_then_crl),
        T(test_check_unknown_then_crl),
        T(test_check_crl_only),
        T(test_check_nothing_to_ask),
        T(test_check_responder_down),
        T(test_check_timeout_budget),
        T(test_check_no_chain),
        T(test_check_cancelled),
        T(test_check_cancelled_before_delivery),
        T(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
