/* probe_mem.c - memory per probe in flight, measured on the scanner's own probe
 *
 *   probe_mem N ADDR[,ADDR...] [PORT [PHASE_TIMEOUT_MS]]
 *
 * Starts N probes (the same probe the scan and check run: STARTTLS, the
 * chain kept, the report built) at once on one event loop, round robin over
 * the addresses, and samples every 2 ms the heap in use (glibc mallinfo2:
 * every allocation of libevent, OpenSSL and ours) and the process's RSS.
 * Prints, at the sample where the heap peaked, heap bytes and RSS per probe
 * then in flight, above a baseline taken after one warm-up probe (OpenSSL's
 * tables, the loop). The scan benchmark runs it against the population's MX
 * listeners behind the latency relay (probes in every state of a dialogue),
 * and against the world's hostile server in mode tls-ehlo-silent, which
 * holds every probe in the state that costs the most: TLS up, the chain
 * received, waiting for the reply to EHLO (until PHASE_TIMEOUT_MS). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/base.h"
#include "io/probe.h"

typedef struct run {
    struct event_base *base;
    long started, finished, tls_ok, failed;
    long inflight_at_peak;
    size_t heap_base, heap_peak;
    long rss_base_kib, rss_at_peak_kib;
} run;

static size_t heap_now(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void probe_done(void *arg, probe_report *r)
{
    run *g = arg;
    g->finished++;
    if (r->tls_ok)
        g->tls_ok++;
    else
        g->failed++;
    probe_report_free(r);
    if (g->finished >= g->started)
        event_base_loopbreak(g->base);
}

static void sample(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    run *g = arg;
    size_t h = heap_now();
    if (h > g->heap_peak) {
        g->heap_peak = h;
        g->inflight_at_peak = g->started - g->finished;
        g->rss_at_peak_kib = rss_kib();
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: probe_mem N ADDR[,ADDR...] [PORT [PHASE_TIMEOUT_MS]]\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    if (n < 1 || n > 100000) {
        fprintf(stderr, "probe_mem: N from 1 to 100000\n");
        return 2;
    }
    char *addrs[1024];
    size_t naddrs = 0;
    char *list = strdup(argv[2]);
    for (char *a = strtok(list, ","); a && naddrs < 1024; a = strtok(NULL, ","))
        addrs[naddrs++] = a;
    uint16_t port = argc > 3 ? (uint16_t)strtol(argv[3], NULL, 10) : 25;
    err_rec e;
    err_clear(&e);
    SSL_CTX *ctx = probe_ssl_ctx_new(&e);
    run g = {.base = event_base_new()};
    if (!ctx || !g.base || naddrs == 0) {
        fprintf(stderr, "probe_mem: cannot set up: %s\n", e.message);
        return 1;
    }
    int phase_ms = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 60000;
    probe_config cfg = {.port = port, .ehlo_name = "probe-mem.mxtls.test",
                        .connect_timeout_ms = 30000, .phase_timeout_ms = phase_ms,
                        .total_timeout_ms = 120000};

    /* Warm-up: one probe, so the baseline holds what every later probe shares. */
    cfg.ip = addrs[0];
    g.started = 1;
    if (!probe_start(g.base, ctx, &cfg, probe_done, &g, &e)) {
        fprintf(stderr, "probe_mem: %s\n", e.message);
        return 1;
    }
    event_base_dispatch(g.base);
    long warm_ok = g.tls_ok;
    g.started = g.finished = g.tls_ok = g.failed = 0;
    malloc_trim(0);
    g.heap_base = g.heap_peak = heap_now();
    g.rss_base_kib = rss_kib();

    struct event *tick = event_new(g.base, -1, EV_PERSIST, sample, &g);
    struct timeval every = {0, 2000};
    event_add(tick, &every);
    for (long i = 0; i < n; i++) {
        cfg.ip = addrs[(size_t)i % naddrs];
        if (!probe_start(g.base, ctx, &cfg, probe_done, &g, &e)) {
            fprintf(stderr, "probe_mem: probe %ld: %s\n", i, e.message);
            break;
        }
        g.started++;
    }
    if (g.started)
        event_base_dispatch(g.base);
    event_free(tick);

    long inflight = g.inflight_at_peak > 0 ? g.inflight_at_peak : 1;
    printf("probes %ld (warm-up TLS %s), TLS up %ld, without TLS %ld\n", g.started,
           warm_ok ? "up" : "failed", g.tls_ok, g.failed);
    printf("heap peak %.1f KiB above baseline with %ld probes in flight: %.1f KiB per probe\n",
           (double)(g.heap_peak - g.heap_base) / 1024, g.inflight_at_peak,
           (double)(g.heap_peak - g.heap_base) / 1024 / (double)inflight);
    printf("RSS at that moment %ld KiB above baseline: %.1f KiB per probe\n",
           g.rss_at_peak_kib - g.rss_base_kib,
           (double)(g.rss_at_peak_kib - g.rss_base_kib) / (double)inflight);
    event_base_free(g.base);
    SSL_CTX_free(ctx);
    free(list);
    return g.started == n ? 0 : 1;
}
