/* test_oom_policy.c - out of memory in the pure core: every allocation of
 * mxtls_evaluate() (all levels, several evidence records), of building the
 * evidence and the context, of rendering results, and of the policy-map
 * parser, lookup and warnings fails in turn (tests/unit/failmalloc.h)
 *
 * Each run must end either with the result of the run without failures or
 * with a clean MXTLS_ERR_NOMEM; no crash, and no leak (LeakSanitizer in the
 * ASan build). OpenSSL's allocations are failed too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/fingerprint.h"
#include "core/policymap.h"
#include "mxtls.h"
#include "failmalloc.h"
#include "testutil.h"

#define AT 1780272000 /* 2026-06-01T00:00:00Z: the test certificates' reference time */

static const mxtls_level levels[] = {
    MXTLS_LEVEL_NONE,          MXTLS_LEVEL_MAY,
    MXTLS_LEVEL_ENCRYPT,       MXTLS_LEVEL_FINGERPRINT,
    MXTLS_LEVEL_VERIFY,        MXTLS_LEVEL_SECURE,
    MXTLS_LEVEL_DANE,          MXTLS_LEVEL_DANE_ONLY,
    MXTLS_LEVEL_ESA_PREFERRED, MXTLS_LEVEL_ESA_REQUIRED,
    MXTLS_LEVEL_ESA_PREFERRED_VERIFY, MXTLS_LEVEL_ESA_REQUIRED_VERIFY,
    MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED,
};
#define NLEVELS (sizeof levels / sizeof levels[0])

/* validates - the level validates a chain with X509_verify_cert (PKIX or
 * DANE). OpenSSL 3.0 absorbs some allocation failures inside it: a failed
 * allocation in its provider name map makes an issuer "unknown", with
 * nothing in the error queue, so the verdict is wrong rather than an error.
 * Those levels are run with only our own allocations failing. */
static int validates(mxtls_level l)
{
    switch (l) {
    case MXTLS_LEVEL_VERIFY:
    case MXTLS_LEVEL_SECURE:
    case MXTLS_LEVEL_DANE:
    case MXTLS_LEVEL_DANE_ONLY:
    case MXTLS_LEVEL_ESA_PREFERRED_VERIFY:
    case MXTLS_LEVEL_ESA_REQUIRED_VERIFY:
    case MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED:
        return 1;
    default:
        return 0;
    }
}

/* ---- evidence records -------------------------------------------------- */

enum { REC_GOOD, REC_BAD, REC_NO_TLS, REC_TLS_FAILED, REC_FINGERPRINT, NRECS };
static const char *const rec_names[NRECS] = {"good", "bad", "no-tls", "tls-failed",
                                             "fingerprint"};

/* hexdigest - "AB:CD:..." without colons, in a static buffer per slot */
static const char *hexdigest(const char *cert, const char *alg, int pubkey, int slot)
{
    static char out[4][200];
    X509 *x = tu_load_x509(cert);
    char *fp = fp_digest_cert(x, alg, pubkey);
    assert_non_null(fp);
    size_t o = 0;
    for (const char *p = fp; *p && o + 1 < sizeof out[slot]; p++)
        if (*p != ':')
            out[slot][o++] = *p;
    out[slot][o] = '\0';
    free(fp);
    X509_free(x);
    return out[slot];
}

#define OK(call)                                                                               \
    do {                                                                                       \
        mxtls_status st_ = (call);                                                             \
        if (st_ != MXTLS_OK)                                                                   \
            return st_;                                                                        \
    } while (0)

/* build_evidence - one of the records; MXTLS_OK, or the first error */
static mxtls_status build_evidence(mxtls_ctx *ctx, int rec, mxtls_evidence **out)
{
    static char *pem[2];
    static size_t pem_len[2];
    static char tlsa_ee[200], tlsa_ta[200], fps[400];
    if (!pem[0]) { /* read once, outside any counted run */
        pem[0] = tu_read_cert("mx1-chain.pem", &pem_len[0]);
        pem[1] = tu_read_cert("expired-chain.pem", &pem_len[1]);
        snprintf(tlsa_ee, sizeof tlsa_ee, "3 1 1 %s", hexdigest("mx1.crt", "sha256", 1, 0));
        snprintf(tlsa_ta, sizeof tlsa_ta, "2 0 1 %s", hexdigest("inter.crt", "sha256", 0, 1));
        snprintf(fps, sizeof fps, "%s|%s", hexdigest("mx1.crt", "sha1", 0, 2),
                 hexdigest("othermx1.crt", "sha256", 1, 3));
    }
    mxtls_evidence *ev = mxtls_evidence_new();
    *out = ev;
    if (!ev)
        return MXTLS_ERR_NOMEM;
    switch (rec) {
    case REC_GOOD:
        OK(mxtls_evidence_set_domain(ctx, ev, "example.com"));
        OK(mxtls_evidence_add_mx(ctx, ev, "mx1.example.com"));
        OK(mxtls_evidence_add_mx(ctx, ev, "mx2.example.com"));
        mxtls_evidence_set_mx_secure(ev, 1);
        OK(mxtls_evidence_set_ip(ctx, ev, "192.0.2.25"));
        OK(mxtls_evidence_add_ptr(ctx, ev, "mx1.example.com", 1));
        OK(mxtls_evidence_add_tlsa(ctx, ev, tlsa_ee));
        OK(mxtls_evidence_add_tlsa(ctx, ev, tlsa_ta));
        OK(mxtls_evidence_add_tlsa(ctx, ev, "1 1 1 00112233445566778899aabbccddeeff00112233445566"
                                            "778899aabbccddeeff"));
        OK(mxtls_evidence_set_tlsa_state(ctx, ev, MXTLS_TLSA_SECURE, NULL, NULL));
        OK(mxtls_evidence_set_chain_pem(ctx, ev, pem[0], pem_len[0], "mx1-chain.pem"));
        break;
    case REC_BAD:
        /* expired, names that match nothing, an unconfirmed PTR, an
         * insecure MX, a revoked certificate, a route: most advice paths */
        OK(mxtls_evidence_set_domain(ctx, ev, "example.org"));
        OK(mxtls_evidence_add_mx(ctx, ev, "mail.example.org"));
        OK(mxtls_evidence_add_route(ctx, ev, "relay.example.org"));
        OK(mxtls_evidence_set_ip(ctx, ev, "2001:db8::25"));
        OK(mxtls_evidence_add_ptr(ctx, ev, "mx1.example.com", 0));
        OK(mxtls_evidence_add_tlsa(ctx, ev, "3 1 1 0000000000000000000000000000000000000000000000"
                                            "000000000000000000"));
        OK(mxtls_evidence_set_tlsa_state(ctx, ev, MXTLS_TLSA_INSECURE, "mail.example.org",
                                         NULL));
        OK(mxtls_evidence_set_revocation(ctx, ev, MXTLS_REVOCATION_REVOKED,
                                         "OCSP: revoked at 2026-05-01T00:00:00Z"));
        OK(mxtls_evidence_set_chain_pem(ctx, ev, pem[1], pem_len[1], "expired-chain.pem"));
        break;
    case REC_NO_TLS:
        OK(mxtls_evidence_set_domain(ctx, ev, "example.net"));
        OK(mxtls_evidence_add_mx(ctx, ev, "mx.example.net"));
        mxtls_evidence_set_no_tls(ev, 1);
        OK(mxtls_evidence_set_tlsa_state(ctx, ev, MXTLS_TLSA_BOGUS, NULL,
                                         "signature expired"));
        break;
    case REC_TLS_FAILED:
        OK(mxtls_evidence_set_domain(ctx, ev, "example.net"));
        OK(mxtls_evidence_set_tls_failed(ctx, ev, 1, "handshake failure: no shared cipher"));
        break;
    case REC_FINGERPRINT:
        OK(mxtls_evidence_set_domain(ctx, ev, "example.com"));
        OK(mxtls_evidence_add_mx(ctx, ev, "mx1.example.com"));
        OK(mxtls_evidence_set_match(ctx, ev, fps));
        OK(mxtls_evidence_set_fingerprint_digest(ctx, ev, "sha256"));
        OK(mxtls_evidence_set_chain_pem(ctx, ev, pem[0], pem_len[0], "mx1-chain.pem"));
        break;
    }
    return MXTLS_OK;
}

/* new_ctx - a context trusting ca.pem at the reference time; MXTLS_OK or the error */
static mxtls_status new_ctx(mxtls_ctx **out)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    *out = ctx;
    if (!ctx)
        return MXTLS_ERR_NOMEM;
    mxtls_ctx_set_time(ctx, AT);
    return mxtls_ctx_set_ca_file(ctx, tu_certs_path("ca.pem"));
}

/* ---- evaluate ---------------------------------------------------------- */

typedef struct eval_case {
    mxtls_ctx *ctx;
    mxtls_evidence *ev;
    mxtls_level level;
    char *want; /* the result's JSON without failures */
} eval_case;

/* outcome - compare a result (or its absence) with the case's baseline */
static int outcome(char **want, const char *got_json, int nomem)
{
    if (nomem)
        return FM_NOMEM;
    if (!got_json)
        return FM_WRONG;
    if (!*want) {
        *want = strdup(got_json);
        return FM_SAME;
    }
    return strcmp(*want, got_json) == 0 ? FM_SAME : FM_WRONG;
}

static int op_evaluate(void *arg)
{
    eval_case *c = arg;
    fm_start();
    mxtls_result *r = mxtls_evaluate(c->ctx, c->ev, c->level);
    fm_stop();
    if (!r && mxtls_ctx_error_code(c->ctx) == MXTLS_ERR_NOMEM)
        return FM_NOMEM;
    if (!r) { /* an error that is not out of memory: the same every time */
        char err[1024];
        snprintf(err, sizeof err, "error %d: %s: %s", (int)mxtls_ctx_error_code(c->ctx),
                 mxtls_ctx_error_where(c->ctx), mxtls_ctx_error(c->ctx));
        int rc = outcome(&c->want, err, 0);
        if (rc == FM_WRONG)
            fprintf(stderr, "want: %s\ngot:  %s\n", c->want, err);
        return rc;
    }
    char *json = mxtls_result_json(r);
    int rc = json && mxtls_result_reason_count(r) > 0 ? outcome(&c->want, json, 0) : FM_WRONG;
    if (rc == FM_WRONG && json && c->want)
        fprintf(stderr, "want: %s\ngot:  %s\n", c->want, json);
    free(json);
    mxtls_result_free(r);
    return rc;
}

static void test_evaluate(void **state)
{
    (void)state;
    long total = 0;
    for (int rec = 0; rec < NRECS; rec++) {
        mxtls_ctx *ctx;
        mxtls_evidence *ev;
        assert_int_equal(new_ctx(&ctx), MXTLS_OK);
        assert_int_equal(build_evidence(ctx, rec, &ev), MXTLS_OK);
        for (size_t i = 0; i < NLEVELS; i++) {
            eval_case c = {.ctx = ctx, .ev = ev, .level = levels[i]};
            char what[128];
            snprintf(what, sizeof what, "evaluate %s at %s", rec_names[rec],
                     mxtls_level_name(levels[i]));
            total += fm_run(what, op_evaluate, &c, !validates(levels[i]));
            free(c.want);
        }
        mxtls_evidence_free(ev);
        mxtls_ctx_free(ctx);
    }
    print_message("mxtls_evaluate: %ld allocations failed one at a time\n", total);
}

/* A fresh context: the trust store is loaded inside the counted run, and
 * the evidence is built there too. Only our own allocations are failed:
 * OpenSSL 3.0's PEM_read_bio_ex drops some allocation failures without a
 * trace in the error queue, which would read as a damaged certificate. */
typedef struct fresh_case {
    int rec;
    mxtls_level level;
    char *want;
} fresh_case;

static int op_fresh(void *arg)
{
    fresh_case *c = arg;
    mxtls_ctx *ctx = NULL;
    mxtls_evidence *ev = NULL;
    mxtls_result *r = NULL;
    fm_start();
    mxtls_status st = new_ctx(&ctx);
    if (st == MXTLS_OK)
        st = build_evidence(ctx, c->rec, &ev);
    if (st == MXTLS_OK && !(r = mxtls_evaluate(ctx, ev, c->level)))
        st = mxtls_ctx_error_code(ctx);
    fm_stop();
    int rc;
    if (st != MXTLS_OK) {
        if (st != MXTLS_ERR_NOMEM && ctx)
            fprintf(stderr, "error %d: %s: %s\n", (int)st, mxtls_ctx_error_where(ctx),
                    mxtls_ctx_error(ctx));
        rc = st == MXTLS_ERR_NOMEM ? FM_NOMEM : FM_WRONG;
    } else {
        char *json = mxtls_result_json(r);
        rc = outcome(&c->want, json, 0);
        free(json);
    }
    mxtls_result_free(r);
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    return rc;
}

static void test_context_and_evidence(void **state)
{
    (void)state;
    static const struct {
        int rec;
        mxtls_level level;
    } cases[] = {
        {REC_GOOD, MXTLS_LEVEL_VERIFY},
        {REC_GOOD, MXTLS_LEVEL_DANE_ONLY},
        {REC_BAD, MXTLS_LEVEL_SECURE},
        {REC_NO_TLS, MXTLS_LEVEL_DANE},
        {REC_TLS_FAILED, MXTLS_LEVEL_ENCRYPT},
        {REC_FINGERPRINT, MXTLS_LEVEL_FINGERPRINT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fresh_case c = {.rec = cases[i].rec, .level = cases[i].level};
        char what[128];
        snprintf(what, sizeof what, "new context, evidence %s, evaluate at %s",
                 rec_names[c.rec], mxtls_level_name(c.level));
        fm_run(what, op_fresh, &c, 0);
        free(c.want);
    }
}

/* ---- rendering results ------------------------------------------------- */

typedef struct render_case {
    const mxtls_result *r;
    char *want;
} render_case;

static int op_render(void *arg)
{
    render_case *c = arg;
    fm_start();
    char *json = mxtls_result_json(c->r);
    char *text = json ? mxtls_result_text(c->r, 1) : NULL;
    fm_stop();
    int rc = FM_NOMEM;
    if (json && text) {
        size_t n = strlen(json) + strlen(text) + 2;
        char *both = malloc(n);
        assert_non_null(both);
        snprintf(both, n, "%s\n%s", json, text);
        rc = outcome(&c->want, both, 0);
        free(both);
    }
    free(json);
    free(text);
    return rc;
}

static void test_render_results(void **state)
{
    (void)state;
    for (int rec = 0; rec < NRECS; rec++) {
        mxtls_ctx *ctx;
        mxtls_evidence *ev;
        assert_int_equal(new_ctx(&ctx), MXTLS_OK);
        assert_int_equal(build_evidence(ctx, rec, &ev), MXTLS_OK);
        static const mxtls_level some[] = {MXTLS_LEVEL_VERIFY, MXTLS_LEVEL_DANE,
                                           MXTLS_LEVEL_ESA_REQUIRED_VERIFY,
                                           MXTLS_LEVEL_FINGERPRINT};
        for (size_t i = 0; i < sizeof some / sizeof some[0]; i++) {
            mxtls_result *r = mxtls_evaluate(ctx, ev, some[i]);
            if (!r) /* the fingerprint record's match list is no list of names */
                continue;
            render_case c = {.r = r};
            char what[128];
            snprintf(what, sizeof what, "render %s at %s", rec_names[rec],
                     mxtls_level_name(some[i]));
            fm_run(what, op_render, &c, 1);
            free(c.want);
            mxtls_result_free(r);
        }
        mxtls_evidence_free(ev);
        mxtls_ctx_free(ctx);
    }
}

/* ---- policy maps ------------------------------------------------------- */

static const char policy_map[] =
    "# partners\n"
    "example.com         verify ciphers=high\n"
    ".example.net        secure match=.example.net:example.net\n"
    "[mx.example.org]:587 secure\n"
    "    match=nexthop\n"
    "    protocols=>=TLSv1.2\n"
    "b\303\274cher.example may protocols=\377x\n"
    "old.example encrypt protocols=TLSv1 exclude=aNULL servername=hostname\n"
    "a.example fingerprint match=D1:2D:7C:84:B6:4E:77:22:E3:36:3C:54:88:86:07:45:E0:DD:68:0B\n"
    "b.example fingerprint\n"
    "  match=2F38EE0B4C1A0FFD3EDAA01E805B94969BED724DF270F4566270F88CECBA7BFB|"
    "00112233445566778899AABBCCDDEEFF\n"
    "d.example secure tafile=/etc/ta.pem connection_reuse=yes\n"
    "*                   may\n";

static const char *const destinations[] = {
    "example.com", "a.b.example.net", "[mx.example.org]:587", "xn--bcher-kva.example",
    "nowhere.example", "b\303\274cher.example", "D.EXAMPLE.",
};

typedef struct map_case {
    const char *text;
    char *want;
} map_case;

static int op_policymap(void *arg)
{
    map_case *c = arg;
    mxtls_ctx *ctx = mxtls_ctx_new();
    assert_non_null(ctx);
    char out[8192];
    size_t o = 0;
    int rc = FM_SAME;
    fm_start();
    mxtls_policymap *map = mxtls_policymap_parse(ctx, c->text, strlen(c->text), "t.map");
    const mxtls_policy_entry *e[sizeof destinations / sizeof destinations[0]] = {0};
    char *warn = NULL;
    int lookup_nomem = 0;
    if (map) {
        /* policymap_find: mxtls_policymap_lookup cannot tell out of memory
         * from "no entry" (it has no context) */
        for (size_t i = 0; i < sizeof destinations / sizeof destinations[0]; i++)
            lookup_nomem |= policymap_find(map, destinations[i], &e[i]) == MXTLS_ERR_NOMEM;
        warn = mxtls_policymap_warnings(ctx, map, "sha256");
    }
    fm_stop();
    if (!map && mxtls_ctx_error_code(ctx) == MXTLS_ERR_NOMEM) {
        rc = FM_NOMEM;
    } else if (!map) {
        /* an invalid map: the same error every time */
        snprintf(out, sizeof out, "error %d: %s: %s", (int)mxtls_ctx_error_code(ctx),
                 mxtls_ctx_error_where(ctx), mxtls_ctx_error(ctx));
        rc = outcome(&c->want, out, 0);
        if (rc == FM_WRONG)
            fprintf(stderr, "want: %s\ngot:  %s\n", c->want, out);
    } else if (lookup_nomem || (!warn && mxtls_ctx_error_code(ctx) == MXTLS_ERR_NOMEM)) {
        rc = FM_NOMEM;
    } else {
        o += (size_t)snprintf(out + o, sizeof out - o, "%zu entries\n",
                              mxtls_policymap_count(map));
        for (size_t i = 0; i < sizeof destinations / sizeof destinations[0]; i++)
            o += (size_t)snprintf(out + o, sizeof out - o, "%s -> %s:%zu %s\n", destinations[i],
                                  e[i] ? mxtls_policy_entry_key(e[i]) : "-",
                                  e[i] ? mxtls_policy_entry_line(e[i]) : 0,
                                  e[i] ? mxtls_level_name(mxtls_policy_entry_level(e[i]))
                                       : "-");
        o += (size_t)snprintf(out + o, sizeof out - o, "%s", warn ? warn : "(no warnings)");
        assert_true(o < sizeof out);
        rc = outcome(&c->want, out, 0);
        if (rc == FM_WRONG)
            fprintf(stderr, "want: %s\ngot:  %s\n", c->want, out);
    }
    free(warn);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    return rc;
}

static void test_policymap(void **state)
{
    (void)state;
    map_case c = {.text = policy_map};
    long n = fm_run("policy map parse, lookup, warnings", op_policymap, &c, 1);
    assert_non_null(strstr(c.want, "example.com -> example.com:2 verify"));
    assert_non_null(strstr(c.want, "nowhere.example -> -:0 -"));
    print_message("policy map: %ld allocations failed one at a time\n", n);
    free(c.want);
    /* an invalid map: the parse error, or out of memory */
    map_case bad = {.text = "example.com verify\n.example.net secure match=nexthop\n"
                            "example.org verfy\n"};
    fm_run("invalid policy map", op_policymap, &bad, 1);
    assert_string_equal(bad.want, "error 3: t.map:3:13: unknown level \"verfy\"");
    free(bad.want);
}

int main(void)
{
    fm_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_context_and_evidence),
        cmocka_unit_test(test_render_results),
        cmocka_unit_test(test_policymap),
    };
    int rc = cmocka_run_group_tests(tests, NULL, tu_group_teardown);
    printf("%ld runs with one allocation failing\n", fm_.runs);
    return rc;
}
