/* test_probeshare - shared probe results and politeness (src/engine/probeshare.c)
 * against a plain SMTP server on loopback
 *
 * The server is a forked child per connection (bounded by alarm()); its
 * counters (connections, most at a time) live in shared memory, so every
 * bound is asserted as the server saw it. No root, no network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine/probeshare.h"

#define SRV_ALARM_S 20

/* What the server saw, in memory shared with its children. */
struct srv_seen {
    atomic_int connections, active, peak;
    int busy_first;   /* answer busy_code to the first this many connections */
    int busy_code;    /* 421 (default) or 450 */
    int hold_ms;      /* before the greeting */
};

static struct srv_seen *seen;
static pid_t srv_pid;
static uint16_t srv_port;

static void srv_line(int fd)
{
    char c;
    while (read(fd, &c, 1) == 1 && c != '\n')
        ;
}

static void srv_say(int fd, const char *s)
{
    if (write(fd, s, strlen(s)) < 0)
        _exit(1);
}

/* srv_conn - one session; it counts as over before its last reply */
static void srv_conn(int fd)
{
    int n = atomic_fetch_add(&seen->connections, 1) + 1;
    int a = atomic_fetch_add(&seen->active, 1) + 1;
    int p = atomic_load(&seen->peak);
    while (a > p && !atomic_compare_exchange_weak(&seen->peak, &p, a))
        ;
    if (n <= seen->busy_first) {
        atomic_fetch_sub(&seen->active, 1);
        char line[64];
        snprintf(line, sizeof line, "%d 4.7.0 busy\r\n", seen->busy_code ? seen->busy_code : 421);
        srv_say(fd, line);
        return;
    }
    usleep((useconds_t)seen->hold_ms * 1000);
    srv_say(fd, "220 srv.test ESMTP\r\n");
    srv_line(fd); /* EHLO */
    srv_say(fd, "250 srv.test\r\n");
    srv_line(fd); /* QUIT */
    atomic_fetch_sub(&seen->active, 1);
    srv_say(fd, "221 bye\r\n");
}

static void srv_start(int busy_first, int hold_ms)
{
    memset(seen, 0, sizeof *seen);
    seen->busy_first = busy_first;
    seen->hold_ms = hold_ms;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sl), 0);
    assert_int_equal(listen(lfd, 64), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    srv_port = ntohs(sa.sin_port);
    srv_pid = fork();
    assert_true(srv_pid >= 0);
    if (srv_pid == 0) {
        alarm(SRV_ALARM_S);
        signal(SIGCHLD, SIG_IGN);
        for (;;) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd < 0)
                continue;
            if (fork() == 0) {
                alarm(SRV_ALARM_S);
                close(lfd);
                srv_conn(cfd);
                close(cfd);
                _exit(0);
            }
            close(cfd);
        }
    }
    close(lfd);
}

static void srv_stop(void)
{
    kill(srv_pid, SIGTERM);
    waitpid(srv_pid, NULL, 0);
}

/* ---- the client side ----------------------------------------------------- */

typedef struct got {
    probe_report *r[16];
    int n;
    struct timeval at[16];
    struct event_base *base;
    int want;
} got;

static void got_cb(void *arg, probe_report *r)
{
    got *g = arg;
    gettimeofday(&g->at[g->n], NULL);
    g->r[g->n++] = r;
    if (g->n == g->want)
        event_base_loopbreak(g->base);
}

static probe_config pc_for(void)
{
    probe_config pc = {0};
    pc.ip = "127.0.0.1";
    pc.port = srv_port;
    pc.ehlo_name = "client.test";
    pc.connect_timeout_ms = pc.phase_timeout_ms = pc.total_timeout_ms = 5000;
    return pc;
}

static void run(got *g)
{
    struct timeval cap = {15, 0};
    event_base_loopexit(g->base, &cap);
    event_base_dispatch(g->base);
}

static void release(got *g)
{
    for (int i = 0; i < g->n; i++)
        probe_report_free(g->r[i]);
}

static SSL_CTX *ssl_ctx;

static void test_shared_once(void **state)
{
    (void)state;
    srv_start(0, 200);
    struct event_base *base = event_base_new();
    probeshare_limits lim = {.share = 1, .per_ip = 2};
    probeshare *ps = probeshare_new(base, &lim);
    got g = {.base = base, .want = 5};
    probe_config pc = pc_for();
    err_rec e;
    err_clear(&e);
    for (int i = 0; i < 5; i++)
        assert_non_null(probeshare_get(ps, ssl_ctx, "mx.test", &pc, got_cb, &g, &e));
    assert_int_equal(g.n, 0); /* never inside probeshare_get */
    run(&g);
    assert_int_equal(g.n, 5);
    for (int i = 1; i < 5; i++)
        assert_ptr_equal(g.r[i], g.r[0]); /* one report, read-only, five holders */
    assert_int_equal(g.r[0]->smtp.outcome, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS);
    /* kept: a later check gets it without a connection, from the loop */
    g.want = 6;
    assert_non_null(probeshare_get(ps, ssl_ctx, "mx.test", &pc, got_cb, &g, &e));
    assert_int_equal(g.n, 5);
    run(&g);
    assert_int_equal(g.n, 6);
    assert_ptr_equal(g.r[5], g.r[0]);
    /* another MX host name on the same address is another key */
    g.want = 7;
    assert_non_null(probeshare_get(ps, ssl_ctx, "mx2.test", &pc, got_cb, &g, &e));
    run(&g);
    assert_true(g.r[6] != g.r[0]);
    probeshare_stats st;
    probeshare_get_stats(ps, &st);
    assert_int_equal(st.probes, 2);
    assert_int_equal(st.reused, 5);
    assert_int_equal(st.joined, 4);
    release(&g);
    probeshare_free(ps);
    event_base_free(base);
    srv_stop();
    assert_int_equal(seen->connections, 2);
}

static void test_per_ip(void **state)
{
    (void)state;
    for (unsigned per_ip = 1; per_ip <= 3; per_ip++) {
        srv_start(0, 150);
        struct event_base *base = event_base_new();
        probeshare_limits lim = {.share = 0, .per_ip = per_ip};
        probeshare *ps = probeshare_new(base, &lim);
        got g = {.base = base, .want = 6};
        probe_config pc = pc_for();
        err_rec e;
        err_clear(&e);
        for (int i = 0; i < 6; i++)
            assert_non_null(probeshare_get(ps, ssl_ctx, "mx.test", &pc, got_cb, &g, &e));
        run(&g);
        assert_int_equal(g.n, 6);
        probeshare_stats st;
        probeshare_get_stats(ps, &st);
        assert_int_equal(st.probes, 6);
        assert_int_equal(st.peak_per_ip, per_ip);
        release(&g);
        probeshare_free(ps);
        event_base_free(base);
        srv_stop();
        assert_int_equal(seen->connections, 6);
        assert_int_equal(seen->peak, (int)per_ip); /* as the server saw it */
    }
}

static long ms_between(const struct timeval *a, const struct timeval *b)
{
    return (b->tv_sec - a->tv_sec) * 1000L + (b->tv_usec - a->tv_usec) / 1000L;
}

static void test_rate(void **state)
{
    (void)state;
    srv_start(0, 0);
    struct event_base *base = event_base_new();
    probeshare_limits lim = {.share = 0, .ip_rate = 10}; /* 100 ms apart */
    probeshare *ps = probeshare_new(base, &lim);
    got g = {.base = base, .want = 4};
    probe_config pc = pc_for();
    err_rec e;
    err_clear(&e);
    struct timeval t0;
    gettimeofday(&t0, NULL);
    for (int i = 0; i < 4; i++)
        assert_non_null(probeshare_get(ps, ssl_ctx, "mx.test", &pc, got_cb, &g, &e));
    run(&g);
    assert_int_equal(g.n, 4);
    /* the fourth connection started no earlier than 300 ms after the first */
    assert_true(ms_between(&t0, &g.at[3]) >= 295);
    release(&g);
    probeshare_free(ps);
    event_base_free(base);
    srv_stop();
    assert_int_equal(seen->connections, 4);
}

static void test_retry_421(void **state)
{
    (void)state;
    srv_start(2, 0);
    struct event_base *base = event_base_new();
    probeshare_limits lim = {.share = 1, .retries = 2, .retry_delay_ms = 100};
    probeshare *ps = probeshare_new(base, &lim);
    got g = {.base = base, .want = 1};
    probe_config pc = pc_for();
    err_rec e;
    err_clear(&e);
    struct timeval t0;
    gettimeofday(&t0, NULL);
    assert_non_null(probeshare_get(ps, ssl_ctx, "mx.test", &pc, got_cb, &g, &e));
    run(&g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0]->smtp.outcome, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS);
    assert_true(ms_between(&t0, &g.at[0]) >= 295); /* 100 ms, then 200 ms */
    probeshare_stats st;
    probeshare_get_stats(ps, &st);
    assert_int_equal(st.probes, 3);
    assert_int_equal(st.retries, 2);
    release(&g);
    probeshare_free(ps);
    event_base_free(base);
    srv_stop();
    assert_int_equal(seen->connections, 3);

    /* 450 too, and bounded: with one retry the second 450 is the answer */
    srv_start(5, 0);
    seen->busy_code = 450;
    base = event_base_new();
    lim.retries = 1;
    ps = probeshare_new(base, &lim);
    g = (got){.base = base, .want = 1};
    pc = pc_for();
    assert_non_null(probeshare_get(ps, ssl_ctx, "mx.test", &pc, got_cb, &g, &e));
    run(&g);
    assert_int_equal(g.r[0]->smtp.outcome, SMTP_OUTCOME_BANNER_REJECTED);
    assert_int_equal(g.r[0]->smtp.banner.code, 450);
    release(&g);
    probeshare_free(ps);
    event_base_free(base);
    srv_stop();
    assert_int_equal(seen->connections, 2);
}

/* a refused connection is retried too, after the delay, and only so often */
static void test_retry_refused(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sl), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd); /* nothing listens there now: connections are refused */
    srv_port = ntohs(sa.sin_port);
    struct event_base *base = event_base_new();
    probeshare_limits lim = {.share = 1, .retries = 2, .retry_delay_ms = 50};
    probeshare *ps = probeshare_new(base, &lim);
    got g = {.base = base, .want = 1};
    probe_config pc = pc_for();
    err_rec e;
    err_clear(&e);
    struct timeval t0;
    gettimeofday(&t0, NULL);
    assert_non_null(probeshare_get(ps, ssl_ctx, "mx.test", &pc, got_cb, &g, &e));
    run(&g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.r[0]->connected, 0);
    assert_string_equal(g.r[0]->connect_error, "connection refused");
    assert_true(ms_between(&t0, &g.at[0]) >= 145); /* 50 ms, then 100 ms */
    probeshare_stats st;
    probeshare_get_stats(ps, &st);
    assert_int_equal(st.probes, 3);
    assert_int_equal(st.retries, 2);
    release(&g);
    probeshare_free(ps);
    event_base_free(base);
}

static void test_cancel_and_stop(void **state)
{
    (void)state;
    srv_start(0, 300);
    struct event_base *base = event_base_new();
    probeshare_limits lim = {.share = 1, .per_ip = 1};
    probeshare *ps = probeshare_new(base, &lim);
    got g = {.base = base, .want = 1};
    probe_config pc = pc_for();
    err_rec e;
    err_clear(&e);
    probeshare_wait *a = probeshare_get(ps, ssl_ctx, "a.test", &pc, got_cb, &g, &e);
    probeshare_wait *b = probeshare_get(ps, ssl_ctx, "b.test", &pc, got_cb, &g, &e);
    probeshare_wait *b2 = probeshare_get(ps, ssl_ctx, "b.test", &pc, got_cb, &g, &e);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(b2);
    /* b waits for the address (per_ip 1): cancelling both its waiters drops it */
    probeshare_cancel(b);
    probe_report *none = probeshare_stop(b2, "the test's deadline");
    assert_null(none); /* it never ran: nothing seen */
    /* a runs alone: stopping it hands back what it saw so far */
    struct timeval tv = {0, 100000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    probe_report *r = probeshare_stop(a, "the test's deadline");
    assert_non_null(r);
    assert_int_equal(r->stopped, 1);
    assert_int_equal(r->connected, 1);
    probe_report_free(r);
    assert_int_equal(g.n, 0); /* no callback for cancelled or stopped waiters */
    probeshare_stats st;
    probeshare_get_stats(ps, &st);
    assert_int_equal(st.probes, 1);
    probeshare_free(ps);
    event_base_free(base);
    srv_stop();
    assert_int_equal(seen->connections, 1);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    seen = mmap(NULL, sizeof *seen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    err_rec e;
    err_clear(&e);
    ssl_ctx = probe_ssl_ctx_new(&e);
    return seen == MAP_FAILED || !ssl_ctx;
}

static int group_teardown(void **state)
{
    (void)state;
    SSL_CTX_free(ssl_ctx);
    munmap(seen, sizeof *seen);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_once), cmocka_unit_test(test_per_ip),
        cmocka_unit_test(test_rate),        cmocka_unit_test(test_retry_421),
        cmocka_unit_test(test_retry_refused), cmocka_unit_test(test_cancel_and_stop),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
