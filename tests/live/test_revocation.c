/* test_revocation - revocation checks against the test world (docs/world.md)
 *
 * Runs inside the world's network namespace (CTest starts it through
 * `world exec`). The world's leaves name its OCSP responder (`openssl ocsp`
 * on ocsp.pki.test:8888, signing as the intermediate) and its CRL
 * (http://crl.pki.test/inter.crl, DER, from nginx); "revoked" is revoked
 * (keyCompromise) in both. To reach the CRL path, or a responder that is
 * down, the test re-issues copies of the world's leaves with the world's
 * intermediate key: same serial, other URLs. Without a world: exit 77. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/revparse.h"
#include "io/https.h"
#include "io/revocation.h"
#include "liveworld.h"

#define SKIP 77
#define BUDGET_MS 3000
#define CRL_URL "http://crl.pki.test/inter.crl"
#define OCSP_DOWN_URL "http://ocsp.pki.test:8899/"

static struct event_base *base;
static https_client *https;
static X509_STORE *store;
static X509 *inter;
static EVP_PKEY *inter_key;
static const char *pki_dir, *ocsp_url;

/* ---- the world's environment -------------------------------------------- */

/* world_path - "$MXTLS_WORLD_PKI/name" in a static buffer */
static const char *world_path(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", pki_dir, name);
    return buf;
}

/* world_ready - the world is up and its PKI is there */
static int world_ready(void)
{
    const char *dir = getenv("MXTLS_WORLD_DIR");
    pki_dir = getenv("MXTLS_WORLD_PKI");
    ocsp_url = getenv("MXTLS_WORLD_OCSP_URL");
    if (!dir || !pki_dir || !ocsp_url)
        return 0;
    char up[4096];
    snprintf(up, sizeof up, "%s/run/up", dir);
    if (access(up, F_OK) != 0) {
        fprintf(stderr, "test_revocation: the world is not up (%s missing)\n", up);
        return 0;
    }
    const char *need[] = {"root.crt", "inter.crt", "inter.key", "good-chain.pem",
                          "revoked-chain.pem"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (access(world_path(need[i]), R_OK) != 0) {
            fprintf(stderr, "test_revocation: %s missing\n", world_path(need[i]));
            return 0;
        }
    return 1;
}

/* load_chain - the certificates of a PEM file, leaf first; caller frees */
static STACK_OF(X509) *load_chain(const char *name)
{
    FILE *f = fopen(world_path(name), "r");
    if (!f)
        fail_msg("cannot open %s", world_path(name));
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        sk_X509_push(chain, x);
    fclose(f);
    assert_true(sk_X509_num(chain) > 0);
    return chain;
}

/* reissue - a copy of chain's leaf (same serial and key) with other URLs,
 * signed by the world's intermediate; returns [copy, intermediate] */
static STACK_OF(X509) *reissue(const char *chain_file, const char *aia, const char *crldp)
{
    STACK_OF(X509) *orig = load_chain(chain_file);
    X509 *x = X509_dup(sk_X509_value(orig, 0));
    sk_X509_pop_free(orig, X509_free);
    assert_non_null(x);
    int nids[] = {NID_info_access, NID_crl_distribution_points};
    for (size_t i = 0; i < 2; i++) {
        int at;
        while ((at = X509_get_ext_by_NID(x, nids[i], -1)) >= 0)
            X509_EXTENSION_free(X509_delete_ext(x, at));
    }
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, inter, x, NULL, NULL, 0);
    char v[512];
    if (aia) {
        snprintf(v, sizeof v, "OCSP;URI:%s", aia);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_info_access, v);
        assert_non_null(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (crldp) {
        snprintf(v, sizeof v, "URI:%s", crldp);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_crl_distribution_points, v);
        assert_non_null(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, inter_key, EVP_sha256()) > 0);
    STACK_OF(X509) *chain = sk_X509_new_null();
    sk_X509_push(chain, x);
    X509_up_ref(inter);
    sk_X509_push(chain, inter);
    return chain;
}

/* ---- running a check ------------------------------------------------------ */

typedef struct got {
    int calls;
    revocation_result r;
} got;

static void on_result(void *arg, revocation_result *r)
{
    got *g = arg;
    g->calls++;
    g->r = *r;
    r->detail = NULL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
}

/* run_until - turn the loop until *flag is set or ms pass */
static void run_until(const int *flag, int ms)
{
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 20000};
    event_add(tick, &tv);
    double end = now_ms() + ms;
    while (!*flag && now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(tick);
}

/* check_in - revocation_check of a chain within budget_ms; returns the time
 * it took in ms */
static double check_in(STACK_OF(X509) *chain, got *g, int budget_ms)
{
    memset(g, 0, sizeof *g);
    err_rec e;
    err_clear(&e);
    double t0 = now_ms();
    assert_int_equal(revocation_check(https, chain, store, NULL, 0, 0, budget_ms, on_result, g,
                                      &e),
                     0);
    run_until(&g->calls, budget_ms + 5000);
    assert_int_equal(g->calls, 1);
    assert_non_null(g->r.detail);
    print_message("      %s (%s): %s\n", mxtls_revocation_status_name(g->r.status),
                  revocation_source_name(g->r.source), g->r.detail);
    return now_ms() - t0;
}

static double check(STACK_OF(X509) *chain, got *g)
{
    return check_in(chain, g, BUDGET_MS);
}

#define assert_rdetail(g, frag)                                                                \
    do {                                                                                       \
        if (!strstr((g)->r.detail, (frag)))                                                    \
            fail_msg("detail \"%s\" lacks \"%s\"", (g)->r.detail, (frag));                     \
    } while (0)

/* ---- tests ---------------------------------------------------------------- */

static void test_good_via_ocsp(void **state)
{
    STACK_OF(X509) *chain = load_chain("good-chain.pem");
    got g;
    check(chain, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_GOOD);
    assert_int_equal(g.r.source, REVOCATION_SRC_OCSP);
    char want[300];
    snprintf(want, sizeof want, "OCSP responder %s: good: ", ocsp_url);
    assert_rdetail(&g, want);
    revocation_result_free(&g.r);
    sk_X509_pop_free(chain, X509_free);
}

static void test_revoked_via_ocsp(void **state)
{
    STACK_OF(X509) *chain = load_chain("revoked-chain.pem");
    got g;
    check(chain, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(g.r.source, REVOCATION_SRC_OCSP);
    assert_true(g.r.revoked_at > 0 && g.r.revoked_at <= time(NULL));
    assert_rdetail(&g, "revoked at ");
    assert_rdetail(&g, "(reason: keyCompromise)");
    revocation_result_free(&g.r);
    sk_X509_pop_free(chain, X509_free);
}

static void test_revoked_via_crl(void **state)
{
    STACK_OF(X509) *chain = reissue("revoked-chain.pem", NULL, CRL_URL);
    got g;
    check(chain, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(g.r.source, REVOCATION_SRC_CRL);
    assert_rdetail(&g, "CRL " CRL_URL ": revoked at ");
    assert_rdetail(&g, "(reason: keyCompromise)");
    revocation_result_free(&g.r);
    sk_X509_pop_free(chain, X509_free);
}

static void test_good_via_crl(void **state)
{
    STACK_OF(X509) *chain = reissue("good-chain.pem", NULL, CRL_URL);
    got g;
    check(chain, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_GOOD);
    assert_int_equal(g.r.source, REVOCATION_SRC_CRL);
    assert_rdetail(&g, "CRL " CRL_URL ": good: not listed among ");
    revocation_result_free(&g.r);
    sk_X509_pop_free(chain, X509_free);
}

static void test_responder_down(void **state)
{
    /* Nothing listens on 8899: unavailable, well within the budget. */
    STACK_OF(X509) *chain = reissue("good-chain.pem", OCSP_DOWN_URL, NULL);
    got g;
    double took = check(chain, &g);
    assert_true(took < BUDGET_MS);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_UNAVAILABLE);
    assert_int_equal(g.r.source, REVOCATION_SRC_NONE);
    assert_rdetail(&g, "no usable revocation answer: OCSP responder " OCSP_DOWN_URL ": no answer (");
    revocation_result_free(&g.r);
    sk_X509_pop_free(chain, X509_free);
}

static void test_responder_not_http(void **state)
{
    /* The world's "trickle" SMTP peer answers an OCSP POST with a trickle
     * of "220 ...": libcurl refuses it at the first byte (no HTTP/0.9). */
    STACK_OF(X509) *chain = reissue("good-chain.pem", "http://mx.trickle.test:25/", NULL);
    got g;
    double took = check_in(chain, &g, 1000);
    assert_true(took < 1000);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_UNAVAILABLE);
    assert_rdetail(&g, "OCSP responder http://mx.trickle.test:25/: no answer (Received HTTP/0.9");
    revocation_result_free(&g.r);
    sk_X509_pop_free(chain, X509_free);
}

static void test_responder_silent(void **state)
{
    /* A responder that takes the connection and never answers (a listener
     * in the world's namespace that never accepts): the 1 s budget ends the
     * check, and the CRL after it is not tried. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof sin;
    getsockname(fd, (struct sockaddr *)&sin, &len);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
    STACK_OF(X509) *chain = reissue("good-chain.pem", url, CRL_URL);
    got g;
    double took = check_in(chain, &g, 1000);
    close(fd);
    assert_true(took >= 900 && took < 2500);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_UNAVAILABLE);
    assert_rdetail(&g, ": no answer (timed out after ");
    assert_rdetail(&g, "; CRL " CRL_URL ": not tried, the 1000 ms budget is spent");
    revocation_result_free(&g.r);
    sk_X509_pop_free(chain, X509_free);
}

static void test_responder_down_crl_answers(void **state)
{
    STACK_OF(X509) *chain = reissue("revoked-chain.pem", OCSP_DOWN_URL, CRL_URL);
    got g;
    check(chain, &g);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(g.r.source, REVOCATION_SRC_CRL);
    assert_rdetail(&g, "(earlier: OCSP responder " OCSP_DOWN_URL ": no answer (");
    revocation_result_free(&g.r);
    sk_X509_pop_free(chain, X509_free);
}

typedef struct fetched {
    int calls;
    https_response *r;
} fetched;

static void on_fetched(void *arg, https_response *r)
{
    fetched *f = arg;
    f->calls++;
    f->r = r;
}

static void test_staple_from_world_responder(void **state)
{
    /* What a server would staple: the world responder's own answer. */
    STACK_OF(X509) *chain = load_chain("revoked-chain.pem");
    OCSP_REQUEST *req = revparse_ocsp_request(sk_X509_value(chain, 0), inter, 0);
    assert_non_null(req);
    unsigned char *der = NULL;
    int len = i2d_OCSP_REQUEST(req, &der);
    assert_true(len > 0);
    https_request hr = {.url = ocsp_url,
                        .post_body = (const char *)der,
                        .post_len = (size_t)len,
                        .content_type = "application/ocsp-request",
                        .timeout_ms = BUDGET_MS};
    fetched f = {0};
    err_rec e;
    assert_int_equal(https_fetch(https, &hr, on_fetched, &f, &e), 0);
    run_until(&f.calls, BUDGET_MS + 2000);
    assert_int_equal(f.calls, 1);
    assert_true(f.r->ok);
    assert_int_equal(f.r->status, 200);
    revocation_result r;
    revocation_check_staple(f.r->body, f.r->body_len, chain, store, 0, &r);
    print_message("      %s (%s): %s\n", mxtls_revocation_status_name(r.status),
                  revocation_source_name(r.source), r.detail);
    assert_int_equal(r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(r.source, REVOCATION_SRC_STAPLE);
    /* The same bytes as a staple for the full check: no fetch needed. */
    got g = {0};
    assert_int_equal(revocation_check(https, chain, store, f.r->body, f.r->body_len, 0,
                                      BUDGET_MS, on_result, &g, &e),
                     0);
    assert_int_equal(g.calls, 0);
    run_until(&g.calls, 2000);
    assert_int_equal(g.r.status, MXTLS_REVOCATION_REVOKED);
    assert_int_equal(g.r.source, REVOCATION_SRC_STAPLE);
    revocation_result_free(&g.r);
    revocation_result_free(&r);
    https_response_free(f.r);
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
    sk_X509_pop_free(chain, X509_free);
}

/* ---- main ----------------------------------------------------------------- */

static int group_setup(void **state)
{
    base = event_base_new();
    err_rec e;
    err_clear(&e);
    https = https_client_new(base, &e);
    store = X509_STORE_new();
    if (!base || !https || !store ||
        X509_STORE_load_locations(store, world_path("root.crt"), NULL) != 1)
        return -1;
    FILE *f = fopen(world_path("inter.crt"), "r");
    inter = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    f = fopen(world_path("inter.key"), "r");
    inter_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return inter && inter_key ? 0 : -1;
}

static int group_teardown(void **state)
{
    https_client_free(https);
    event_base_free(base);
    X509_STORE_free(store);
    X509_free(inter);
    EVP_PKEY_free(inter_key);
    return 0;
}

int main(void)
{
    if (world_load_env("test_revocation") != 0 || !world_ready()) {
        fprintf(stderr, "test_revocation: no test world: skipped\n");
        return SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_via_ocsp),
        cmocka_unit_test(test_revoked_via_ocsp),
        cmocka_unit_test(test_revoked_via_crl),
        cmocka_unit_test(test_good_via_crl),
        cmocka_unit_test(test_responder_down),
        cmocka_unit_test(test_responder_not_http),
        cmocka_unit_test(test_responder_silent),
        cmocka_unit_test(test_responder_down_crl_answers),
        cmocka_unit_test(test_staple_from_world_responder),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
