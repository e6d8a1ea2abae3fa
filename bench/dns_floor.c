/* dns_floor.c - what a domain's DNS costs the scanner, with nothing else
 *
 *   dns_floor FILE ROOT_HINTS TRUST_ANCHOR [CONCURRENCY]
 *
 * For every domain in FILE (one per line), the lookups `mxtls check` makes
 * for it and its MX hosts, through the scanner's own resolver (io/dns.c:
 * libunbound embedded, validating, configured as `mxtls scan` configures it):
 * MX, then, in the scan's order (MXTLS_LOOKUP_MX_FIRST), TXT _mta-sts.DOMAIN
 * and TXT _smtp._tls.DOMAIN with each MX host's A, AAAA and TLSA
 * _25._tcp.HOST (answered from the cache once a host was asked). Not the PTR names of the addresses, nor the MTA-STS policy
 * host's addresses: the floor errs low. CONCURRENCY domains (default 1000) are in flight, and at most four
 * queries per domain are in libunbound's hands, as in a scan. No connection,
 * no evaluation, no report: the figures are the floor under a scan's
 * domains/s on one core, and the scan benchmark prints them next to the
 * scan's (bench/scan_bench.sh). Prints domains, wall seconds, CPU seconds
 * (user + system, getrusage), the answers by DNSSEC status, and queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <event2/event.h>

#include "core/base.h"
#include "io/dns.h"

#define MAX_MX 8

typedef struct run run;

typedef struct domain_job {
    run *g;
    char name[MXTLS_MAX_NAME + 1];
    int pending;
} domain_job;

struct run {
    struct event_base *base;
    dns_resolver *dns;
    FILE *in;
    int eof;
    long concurrency, inflight, done, answers, secure, insecure, bogus, failed;
};

static void run_fill(run *g);

static void job_answer(domain_job *j, const dns_answer *a)
{
    run *g = j->g;
    g->answers++;
    if (a->outcome == DNS_ERROR || a->outcome == DNS_TIMEOUT)
        g->failed++;
    else if (a->security == DNS_SEC_SECURE)
        g->secure++;
    else if (a->security == DNS_SEC_BOGUS)
        g->bogus++;
    else
        g->insecure++;
}

static void job_release(domain_job *j)
{
    run *g = j->g;
    if (--j->pending > 0)
        return;
    free(j);
    g->inflight--;
    g->done++;
    run_fill(g);
    if (g->eof && g->inflight == 0)
        event_base_loopbreak(g->base);
}

static void job_ask(domain_job *j, const char *name, uint16_t type, dns_cb cb);

static void host_done(void *arg, dns_answer *a)
{
    domain_job *j = arg;
    job_answer(j, a);
    dns_answer_free(a);
    job_release(j);
}

static void mx_done(void *arg, dns_answer *a)
{
    domain_job *j = arg;
    char q[MXTLS_MAX_NAME + 32];
    job_answer(j, a);
    snprintf(q, sizeof q, "_mta-sts.%s", j->name);
    job_ask(j, q, DNS_T_TXT, host_done);
    snprintf(q, sizeof q, "_smtp._tls.%s", j->name);
    job_ask(j, q, DNS_T_TXT, host_done);
    for (size_t i = 0; a->outcome == DNS_DATA && i < a->n && i < MAX_MX; i++) {
        const char *host = a->rr[i].text;
        char tlsa[MXTLS_MAX_NAME + 16];
        if (!host || !*host || !strcmp(host, "."))
            continue;
        snprintf(tlsa, sizeof tlsa, "_25._tcp.%s", host);
        job_ask(j, host, DNS_T_A, host_done);
        job_ask(j, host, DNS_T_AAAA, host_done);
        job_ask(j, tlsa, DNS_T_TLSA, host_done);
    }
    dns_answer_free(a);
    job_release(j);
}

static void job_ask(domain_job *j, const char *name, uint16_t type, dns_cb cb)
{
    err_rec e;
    err_clear(&e);
    j->pending++;
    if (dns_resolve(j->g->dns, name, type, cb, j, &e) != 0) {
        fprintf(stderr, "dns_floor: %s: %s\n", name, e.message);
        j->g->failed++;
        j->pending--;
    }
}

static void run_fill(run *g)
{
    char line[1024];
    while (!g->eof && g->inflight < g->concurrency) {
        if (!fgets(line, sizeof line, g->in)) {
            g->eof = 1;
            break;
        }
        line[strcspn(line, " \t\r\n#")] = '\0';
        if (!line[0] || strlen(line) > MXTLS_MAX_NAME)
            continue;
        domain_job *j = calloc(1, sizeof *j);
        if (!j) {
            fprintf(stderr, "dns_floor: out of memory\n");
            exit(4);
        }
        j->g = g;
        snprintf(j->name, sizeof j->name, "%s", line);
        g->inflight++;
        j->pending = 1; /* held until the MX lookup is started */
        job_ask(j, j->name, DNS_T_MX, mx_done);
        job_release(j);
    }
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: dns_floor FILE ROOT_HINTS TRUST_ANCHOR [CONCURRENCY]\n");
        return 2;
    }
    run g = {0};
    g.concurrency = argc == 5 ? atol(argv[4]) : 1000;
    if (g.concurrency < 1 || g.concurrency > 100000) {
        fprintf(stderr, "dns_floor: CONCURRENCY must be 1..100000\n");
        return 2;
    }
    if (!(g.in = fopen(argv[1], "r"))) {
        perror(argv[1]);
        return 2;
    }
    g.base = event_base_new();
    /* as `mxtls scan` sets its resolver up: room upstream
     * (mxtls_config_set_dns_inflight) and four queries per domain */
    dns_config cfg = {0};
    cfg.root_hints = argv[2];
    cfg.trust_anchor = argv[3];
    cfg.inflight = 4096;
    err_rec e;
    err_clear(&e);
    long max_dns = g.concurrency * 4 < 500 ? 500 : g.concurrency * 4 > 2000 ? 2000 : g.concurrency * 4;
    if (!g.base || !(g.dns = dns_resolver_new(g.base, &cfg, &e)) ||
        dns_resolver_set_max_inflight(g.dns, (unsigned)max_dns, &e) != 0) {
        fprintf(stderr, "dns_floor: %s\n", e.message[0] ? e.message : "no event base");
        return 4;
    }
    struct timeval t0, t1;
    double c0 = cpu_seconds();
    gettimeofday(&t0, NULL);
    run_fill(&g);
    if (!(g.eof && g.inflight == 0))
        event_base_dispatch(g.base);
    gettimeofday(&t1, NULL);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
    double cpu = cpu_seconds() - c0;
    printf("domains %ld wall %.2f cpu %.2f answers %ld secure %ld insecure %ld bogus %ld "
           "failed %ld queries %lu\n",
           g.done, wall, cpu, g.answers, g.secure, g.insecure, g.bogus, g.failed,
           dns_resolver_queries(g.dns));
    dns_resolver_free(g.dns);
    event_base_free(g.base);
    fclose(g.in);
    return g.failed || g.bogus ? 1 : 0;
}
