/* test_https.c - the libcurl multi client against a tiny HTTP server in the same loop
 *
 * The server (httpserver.h) listens on 127.0.0.1 (ephemeral port) and answers
 * by path: /hello, /echo (POST: returns what it got), /big (announced
 * 100000 bytes), /big-close (100000 bytes, no length, close), /exact (1000
 * bytes), /missing (404), /redirect (302 to /hello), /never (reads the request
 * and never answers). Everything runs on one event_base, so the tests are
 * deterministic and ASan sees every allocation. */
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

#include "httpserver.h"
#include "io/https.h"

/* ---- the tiny server (httpserver.h) answers by path ---------------------- */

/* srv_answer - answer by path */
static void srv_answer(httpsrv *s, httpsrv_conn *c, void *arg)
{
    static char big[100000];
    memset(big, 'x', sizeof big);
    if (strcmp(s->path, "/hello") == 0)
        httpsrv_reply(c, "200 OK", "text/plain", NULL, "hello world", 11, 1);
    else if (strcmp(s->path, "/echo") == 0)
        httpsrv_reply(c, "200 OK", s->ctype, NULL, s->body, s->body_len, 1);
    else if (strcmp(s->path, "/big") == 0)
        httpsrv_reply(c, "200 OK", "text/plain", NULL, big, sizeof big, 1);
    else if (strcmp(s->path, "/big-close") == 0)
        httpsrv_reply(c, "200 OK", "text/plain", NULL, big, sizeof big, 0);
    else if (strcmp(s->path, "/exact") == 0)
        httpsrv_reply(c, "200 OK", "text/plain", NULL, big, 1000, 0);
    else if (strcmp(s->path, "/redirect") == 0)
        httpsrv_reply(c, "302 Found", "text/plain", "Location: /hello", "moved", 5, 1);
    else if (strcmp(s->path, "/never") == 0)
        ; /* hold the connection open and say nothing */
    else
        httpsrv_reply(c, "404 Not Found", "text/plain", NULL, "not here", 8, 1);
}

/* ---- fixture ----------------------------------------------------------- */

typedef struct fx {
    struct event_base *base;
    httpsrv s;
    https_client *c;
} fx;

typedef struct got {
    int calls;
    int in_fetch;        /* set around https_fetch(): callbacks must not see it */
    int cancelled;
    https_response *r;
    fx *f;
    int free_client;     /* free the client from inside the callback */
} got;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    httpsrv_start(&f->s, f->base, srv_answer, NULL);
    err_rec e;
    err_clear(&e);
    f->c = https_client_new(f->base, &e);
    assert_non_null(f->c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    https_client_free(f->c);
    httpsrv_stop(&f->s);
    event_base_free(f->base);
    free(f);
    return 0;
}

static void on_done(void *arg, https_response *r)
{
    got *g = arg;
    assert_false(g->in_fetch);
    g->calls++;
    if (g->r)
        https_response_free(g->r);
    g->r = r;
    if (g->free_client) {
        https_client_free(g->f->c);
        g->f->c = NULL;
    }
}

static void on_cancelled(void *arg)
{
    got *g = arg;
    g->cancelled++;
}

/* fetch - start one request and wait for its callback */
static void fetch(fx *f, got *g, https_request *req)
{
    err_rec e;
    err_clear(&e);
    g->f = f;
    g->in_fetch = 1;
    int rc = https_fetch(f->c, req, on_done, g, &e);
    g->in_fetch = 0;
    assert_int_equal(rc, 0);
    loop_run_until(f->base, &g->calls, 1, 10000);
    assert_int_equal(g->calls, 1);
    assert_non_null(g->r);
}

static char *url(fx *f, const char *path)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "http://127.0.0.1:%d%s", f->s.port, path);
    return buf;
}

/* ---- tests --------------------------------------------------------------- */

static void test_get(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/hello")};
    fetch(f, &g, &req);
    assert_true(g.r->ok);
    assert_int_equal(g.r->status, 200);
    assert_int_equal(g.r->body_len, 11);
    assert_string_equal((char *)g.r->body, "hello world");
    assert_string_equal(g.r->content_type, "text/plain");
    assert_null(g.r->error);
    assert_string_equal(f->s.method, "GET");
    https_response_free(g.r);
}

static void test_post(void **state)
{
    fx *f = *state;
    got g = {0};
    static const char body[] = "\x30\x03\x02\x01\x00binary\0tail";
    https_request req = {.url = url(f, "/echo"),
                         .post_body = body,
                         .post_len = sizeof body - 1,
                         .content_type = "application/ocsp-request"};
    fetch(f, &g, &req);
    assert_true(g.r->ok);
    assert_int_equal(g.r->status, 200);
    assert_string_equal(f->s.method, "POST");
    assert_string_equal(f->s.ctype, "application/ocsp-request");
    assert_int_equal(f->s.body_len, sizeof body - 1);
    assert_memory_equal(f->s.body, body, sizeof body - 1);
    assert_int_equal(g.r->body_len, sizeof body - 1);
    assert_memory_equal(g.r->body, body, sizeof body - 1);
    assert_string_equal(g.r->content_type, "application/ocsp-request");
    https_response_free(g.r);
}

static void test_body_limit_announced(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/big"), .max_body = 1000};
    fetch(f, &g, &req);
    assert_false(g.r->ok);
    assert_null(g.r->body);
    assert_string_equal(g.r->error, "body larger than 1000 bytes");
    https_response_free(g.r);
}

static void test_body_limit_streamed(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/big-close"), .max_body = 1000};
    fetch(f, &g, &req);
    assert_false(g.r->ok);
    assert_string_equal(g.r->error, "body larger than 1000 bytes");
    https_response_free(g.r);
}

static void test_body_limit_edge(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/exact"), .max_body = 1000};
    fetch(f, &g, &req);
    assert_true(g.r->ok);
    assert_int_equal(g.r->body_len, 1000);
    assert_int_equal(g.r->body[1000], '\0');
    https_response_free(g.r);
}

static void test_body_default_limit(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/big")}; /* 100000 > 64 KiB default */
    fetch(f, &g, &req);
    assert_false(g.r->ok);
    assert_string_equal(g.r->error, "body larger than 65536 bytes");
    https_response_free(g.r);
}

static void test_timeout(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/never"), .timeout_ms = 300};
    double t0 = loop_now_ms();
    fetch(f, &g, &req);
    double took = loop_now_ms() - t0;
    assert_false(g.r->ok);
    assert_string_equal(g.r->error, "timed out after 300 ms");
    assert_true(took >= 250 && took < 3000);
    https_response_free(g.r);
}

static void test_status_404(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/missing")};
    fetch(f, &g, &req);
    assert_true(g.r->ok); /* the transfer worked; the status says the rest */
    assert_int_equal(g.r->status, 404);
    assert_string_equal((char *)g.r->body, "not here");
    https_response_free(g.r);
}

static void test_redirect_not_followed(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/redirect")};
    fetch(f, &g, &req);
    assert_true(g.r->ok);
    assert_int_equal(g.r->status, 302);
    assert_int_equal(f->s.requests, 1);
    https_response_free(g.r);
}

static void test_redirect_followed(void **state)
{
    fx *f = *state;
    got g = {0};
    https_request req = {.url = url(f, "/redirect"), .follow_redirects = 1};
    fetch(f, &g, &req);
    assert_true(g.r->ok);
    assert_int_equal(g.r->status, 200);
    assert_string_equal((char *)g.r->body, "hello world");
    assert_int_equal(f->s.requests, 2);
    https_response_free(g.r);
}

static void test_protocols_restricted(void **state)
{
    fx *f = *state;
    const char *bad[] = {"file:///etc/passwd", "ftp://127.0.0.1/x", "dict://127.0.0.1/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        got g = {0};
        https_request req = {.url = bad[i]};
        fetch(f, &g, &req);
        assert_false(g.r->ok);
        assert_non_null(g.r->error);
        https_response_free(g.r);
    }
    assert_int_equal(f->s.requests, 0);
}

static void test_connection_refused(void **state)
{
    fx *f = *state;
    /* A port that was free a moment ago: bind, note it, close. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    socklen_t len = sizeof sin;
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd);
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
    got g = {0};
    https_request req = {.url = u};
    fetch(f, &g, &req);
    assert_false(g.r->ok);
    assert_non_null(g.r->error);
    assert_non_null(strstr(g.r->error, "onnect")); /* "Failed to connect ..." */
    https_response_free(g.r);
}

static void test_env_proxy_ignored(void **state)
{
    fx *f = *state;
    setenv("http_proxy", "http://127.0.0.1:9/", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:9/", 1);
    got g = {0};
    https_request req = {.url = url(f, "/hello")};
    fetch(f, &g, &req);
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    assert_true(g.r->ok);
    assert_int_equal(g.r->status, 200);
    https_response_free(g.r);
}

static void test_many_at_once(void **state)
{
    fx *f = *state;
    got g[8];
    memset(g, 0, sizeof g);
    int total = 0;
    for (int i = 0; i < 8; i++) {
        err_rec e;
        https_request req = {.url = url(f, i % 2 ? "/hello" : "/missing")};
        g[i].f = f;
        assert_int_equal(https_fetch(f->c, &req, on_done, &g[i], &e), 0);
    }
    double end = loop_now_ms() + 10000;
    while (total < 8 && loop_now_ms() < end) {
        loop_run_until(f->base, NULL, 0, 50);
        total = 0;
        for (int i = 0; i < 8; i++)
            total += g[i].calls;
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(g[i].calls, 1);
        assert_int_equal(g[i].r->status, i % 2 ? 200 : 404);
        https_response_free(g[i].r);
    }
}

static void test_cancel_by_free(void **state)
{
    fx *f = *state;
    got g1 = {0}, g2 = {0};
    err_rec e;
    https_request slow = {.url = url(f, "/never"), .timeout_ms = 5000};
    https_request hooked = {.url = url(f, "/never"), .timeout_ms = 5000,
                            .cancelled = on_cancelled};
    assert_int_equal(https_fetch(f->c, &slow, on_done, &g1, &e), 0);
    assert_int_equal(https_fetch(f->c, &hooked, on_done, &g2, &e), 0);
    loop_run_until(f->base, &f->s.requests, 2, 2000); /* both requests reached the server */
    assert_int_equal(f->s.requests, 2);
    https_client_free(f->c);
    f->c = NULL;
    loop_run_until(f->base, NULL, 0, 300);
    assert_int_equal(g1.calls, 0);
    assert_int_equal(g2.calls, 0);
    assert_int_equal(g1.cancelled, 0); /* no hook, nothing */
    assert_int_equal(g2.cancelled, 1);
}

static void test_free_inside_callback(void **state)
{
    fx *f = *state;
    got g1 = {0}, g2 = {0};
    err_rec e;
    g1.f = g2.f = f;
    g1.free_client = 1;
    /* url() reuses one buffer; libcurl copies the URL at https_fetch(). */
    https_request slow = {.url = url(f, "/never"), .timeout_ms = 5000};
    assert_int_equal(https_fetch(f->c, &slow, on_done, &g2, &e), 0);
    https_request fast = {.url = url(f, "/hello")};
    assert_int_equal(https_fetch(f->c, &fast, on_done, &g1, &e), 0);
    loop_run_until(f->base, &g1.calls, 1, 5000);
    assert_int_equal(g1.calls, 1);
    assert_null(f->c);
    loop_run_until(f->base, NULL, 0, 200);
    assert_int_equal(g2.calls, 0);
    https_response_free(g1.r);
}

static void on_soon(void *arg)
{
    got *g = arg;
    assert_false(g->in_fetch);
    g->calls++;
}

static void test_call_soon(void **state)
{
    fx *f = *state;
    got g = {0}, g2 = {0};
    err_rec e;
    g.in_fetch = 1;
    assert_int_equal(https_call_soon(f->c, on_soon, on_cancelled, &g, &e), 0);
    g.in_fetch = 0;
    assert_int_equal(g.calls, 0); /* never inside the call */
    loop_run_until(f->base, &g.calls, 1, 1000);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.cancelled, 0);
    /* Pending when the client is freed: cancelled, not run. */
    assert_int_equal(https_call_soon(f->c, on_soon, on_cancelled, &g2, &e), 0);
    https_client_free(f->c);
    f->c = NULL;
    loop_run_until(f->base, NULL, 0, 100);
    assert_int_equal(g2.calls, 0);
    assert_int_equal(g2.cancelled, 1);
}

static void test_invalid_requests(void **state)
{
    fx *f = *state;
    got g = {0};
    err_rec e;
    err_clear(&e);
    https_request none = {0};
    assert_int_equal(https_fetch(f->c, &none, on_done, &g, &e), -1);
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
    https_request inject = {.url = url(f, "/echo"), .post_body = "x", .post_len = 1,
                            .content_type = "text/plain\r\nX-Evil: 1"};
    assert_int_equal(https_fetch(f->c, &inject, on_done, &g, &e), -1);
    assert_non_null(strstr(e.message, "line break"));
    assert_int_equal(https_fetch(f->c, NULL, on_done, &g, &e), -1);
    assert_int_equal(https_fetch(NULL, &none, on_done, &g, &e), -1);
    loop_run_until(f->base, NULL, 0, 100);
    assert_int_equal(g.calls, 0);
    https_client_free(NULL);
    https_response_free(NULL);
    assert_null(https_client_new(NULL, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit_announced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit_streamed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_default_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocols_restricted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_proxy_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_by_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_soon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
