/* fuzz_chain.c - libFuzzer target: PEM chain loader, presented identities,
 * name matching and policy evaluation on hostile certificates
 *
 * The input is a "chain file". When it loads, everything that later reads the
 * leaf runs on it: presented identities (the display escaping), the matchers
 * against fixed references and against the names the certificate itself
 * presents (after names_normalize), fingerprints, and mxtls_evaluate at every
 * offline level with the text and JSON reports. PKIX runs against an empty
 * trust store, so it always fails fast, but names, advice and warnings are
 * still produced. Invariants that must hold for any input abort().
 *
 * Mutating PEM text mostly breaks the base64, so an input that starts like
 * DER (0x30) and does not load is also tried as the body of one PEM
 * certificate block: that lets the fuzzer mutate certificates themselves
 * (names, extensions) and reach the matchers with them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/chain.h"
#include "core/ctx.h"
#include "core/evidence.h"
#include "core/fingerprint.h"
#include "core/names.h"
#include "mxtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mxtls_ctx *fuzz_ctx;

/* fuzz_context - one context for the whole run, with an empty trust store
 * (loading the system store per input would dominate the run time) */
static mxtls_ctx *fuzz_context(void)
{
    if (fuzz_ctx)
        return fuzz_ctx;
    fuzz_ctx = mxtls_ctx_new();
    if (!fuzz_ctx)
        abort();
    fuzz_ctx->store = X509_STORE_new();
    if (!fuzz_ctx->store)
        abort();
    mxtls_ctx_set_time(fuzz_ctx, 1780272000); /* 2026-06-01T00:00:00Z */
    return fuzz_ctx;
}

/* fuzz_match_all - every matcher; a match must report a presented name */
static void fuzz_match_all(X509 *leaf, const char *ref)
{
    int (*const fns[])(X509 *, const char *, char **) = {names_match_default, names_match_san,
                                                          names_match_cn};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        char *m = NULL;
        int hit = fns[i](leaf, ref, &m);
        if (hit && !m)
            abort();
        if (!hit && m)
            abort();
        free(m);
        /* the result does not depend on asking for the matched name */
        if (fns[i](leaf, ref, NULL) != hit)
            abort();
    }
}

/* fuzz_self_names - each presented DNS name / CN, normalised, as a reference */
static void fuzz_self_names(X509 *leaf, const strlist *l)
{
    for (size_t i = 0; i < l->n && i < 8; i++) {
        err_rec e;
        err_clear(&e);
        char *n = names_normalize(l->v[i], 1, &e);
        if (!n) {
            if (e.code == MXTLS_OK || !e.message[0])
                abort();
            continue;
        }
        if (strlen(n) > MXTLS_MAX_NAME + 1)
            abort();
        fuzz_match_all(leaf, n);
        free(n);
    }
}

static void fuzz_evaluate(mxtls_ctx *ctx, const mxtls_evidence *ev, mxtls_level level)
{
    mxtls_result *r = mxtls_evaluate(ctx, ev, level);
    if (!r) {
        /* only a match= item can make the evidence unusable here */
        return;
    }
    if (mxtls_result_reason_count(r) == 0)
        abort();
    char *j = mxtls_result_json(r);
    char *t = mxtls_result_text(r, 0);
    if (!j || !t)
        abort();
    /* no control character from the certificate reaches a terminal */
    for (const unsigned char *c = (const unsigned char *)t; *c; c++)
        if ((*c < 0x20 && *c != '\n') || *c == 0x7f)
            abort();
    free(j);
    free(t);
    mxtls_result_free(r);
}

/* fuzz_one - the whole pipeline on one chain file; 0 if it did not load */
static int fuzz_one(const uint8_t *data, size_t size)
{
    err_rec e;
    err_clear(&e);
    STACK_OF(X509) *chain = chain_parse_pem((const char *)data, size, "fuzz.pem", &e);
    if (!chain) {
        /* Every failure carries a code, a place and a sentence. */
        if (e.code == MXTLS_OK || !e.message[0] || strncmp(e.where, "fuzz.pem", 8) != 0)
            abort();
        return 0;
    }
    int n = sk_X509_num(chain);
    if (n < 1 || n > MXTLS_MAX_CHAIN)
        abort();
    X509 *leaf = sk_X509_value(chain, 0);

    presented_ids p = {0};
    if (names_presented(leaf, &p) != MXTLS_OK)
        abort();
    /* stored forms are UTF-8, cut after NAMES_MAX_PRESENTED bytes of the
     * certificate (each of which may have become a 3-byte U+FFFD), plus the
     * "...(N bytes)" marker; their terminal form has no control character */
    const strlist *lists[] = {&p.dns, &p.ip, &p.cn};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < lists[k]->n; i++) {
            const unsigned char *v = (const unsigned char *)lists[k]->v[i];
            size_t len = strlen((const char *)v);
            if (len > 3 * NAMES_MAX_PRESENTED + 32)
                abort();
            for (size_t o = 0, sl; o < len; o += sl)
                if ((sl = utf8_seq_len(v + o, len - o)) == 0)
                    abort();
            char *shown = text_display((const char *)v);
            if (!shown)
                abort();
            for (const unsigned char *c = (const unsigned char *)shown; *c; c++)
                if (*c < 0x20 || *c == 0x7f || (c[0] == 0xc2 && c[1] >= 0x80 && c[1] < 0xa0))
                    abort();
            free(shown);
        }
    (void)names_has_dns_san(leaf);
    static const char *const refs[] = {"mx1.example.com", ".example.com", "example.com",
                                       "mx.xn--mnchen-3ya.example", "a.b.example.com", "com"};
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        fuzz_match_all(leaf, refs[i]);
    fuzz_self_names(leaf, &p.dns);
    fuzz_self_names(leaf, &p.cn);
    (void)names_match_ip(leaf, "192.0.2.25", NULL);
    (void)names_match_ip(leaf, "2001:db8::25", NULL);
    presented_ids_free(&p);

    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(chain, i);
        char *s = fp_name_text(X509_get_subject_name(x));
        char *t = fp_time_text(X509_get0_notAfter(x));
        char *d = fp_digest_cert(x, "sha256", 0);
        char *k = fp_digest_cert(x, "sha1", 1); /* may be NULL: no usable key */
        free(s);
        free(t);
        free(d);
        free(k);
    }

    /* The same bytes through the public API, at every offline level. */
    mxtls_ctx *ctx = fuzz_context();
    mxtls_evidence *ev = mxtls_evidence_new();
    mxtls_evidence *evfp = mxtls_evidence_new();
    if (!ev || !evfp)
        abort();
    mxtls_evidence *evs[] = {ev, evfp};
    for (size_t i = 0; i < 2; i++) {
        if (mxtls_evidence_set_domain(ctx, evs[i], "example.com") ||
            mxtls_evidence_add_mx(ctx, evs[i], "mx1.example.com") ||
            mxtls_evidence_set_ip(ctx, evs[i], "192.0.2.10") ||
            mxtls_evidence_add_ptr(ctx, evs[i], "mx0a.example.com", 1) ||
            mxtls_evidence_add_ptr(ctx, evs[i], "mx1.example.com", 0))
            abort();
        if (mxtls_evidence_set_chain_pem(ctx, evs[i], (const char *)data, size, "fuzz.pem"))
            abort(); /* it loaded above */
    }
    if (mxtls_evidence_set_match(ctx, evfp, "AB:CD|00:11:22"))
        abort();
    size_t nl = 0;
    const mxtls_level *levels = mxtls_levels(&nl);
    for (size_t i = 0; i < nl; i++)
        fuzz_evaluate(ctx, levels[i] == MXTLS_LEVEL_FINGERPRINT ? evfp : ev, levels[i]);
    mxtls_evidence_free(ev);
    mxtls_evidence_free(evfp);
    chain_free(chain);
    return 1;
}

/* fuzz_der_as_pem - DER bytes as one PEM certificate block; caller frees */
static uint8_t *fuzz_der_as_pem(const uint8_t *der, size_t n, size_t *out_len)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----\n";
    static const char end[] = "-----END CERTIFICATE-----\n";
    size_t lines = (n + 47) / 48;
    size_t cap = sizeof begin + sizeof end + lines * 66 + 8;
    uint8_t *pem = malloc(cap);
    if (!pem)
        return NULL;
    size_t o = 0;
    memcpy(pem, begin, sizeof begin - 1);
    o += sizeof begin - 1;
    for (size_t i = 0; i < n; i += 48) {
        size_t chunk = n - i < 48 ? n - i : 48;
        o += (size_t)EVP_EncodeBlock(pem + o, der + i, (int)chunk);
        pem[o++] = '\n';
    }
    memcpy(pem + o, end, sizeof end - 1);
    o += sizeof end - 1;
    *out_len = o;
    return pem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_one(data, size) || size == 0 || data[0] != 0x30 || size > 64 * 1024)
        return 0;
    size_t len = 0;
    uint8_t *pem = fuzz_der_as_pem(data, size, &len);
    if (!pem)
        return 0;
    (void)fuzz_one(pem, len);
    free(pem);
    return 0;
}
