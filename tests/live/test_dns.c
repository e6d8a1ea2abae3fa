/* test_dns - the DNS adapter against the test world (tests/world, docs/world.md)
 *
 * Runs inside the world's network namespace (CTest starts it through
 * `world exec`). The world's private signed root is reached with its root
 * hints and trust anchor (`"$MXTLS_WORLD" env`); outcomes and DNSSEC statuses
 * are asserted exactly, per case of tests/world/cases.tsv and for the
 * special cases (bogus, insecure, NXDOMAIN vs NODATA, null and implicit MX,
 * PTR, TLSA, TXT, CNAME when the world publishes one), in both modes
 * (embedded recursion and forwarding to the world's resolver), plus the
 * per-query timeout. Without a world the program exits 77 (skipped). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "io/dns.h"
#include "liveworld.h"

#define SKIP 77

static struct event_base *base;
static dns_resolver *res;       /* embedded recursion with the world's root */
static const char *root_hints, *trust_anchor, *world_resolver, *cases_file, *records_file;

/* ---- the world's environment ---------------------------------------------- */

/* world_ready - the files the tests need exist (the world is up) */
static int world_ready(void)
{
    root_hints = getenv("MXTLS_WORLD_ROOT_HINTS");
    trust_anchor = getenv("MXTLS_WORLD_TRUST_ANCHOR");
    world_resolver = getenv("MXTLS_WORLD_RESOLVER");
    cases_file = getenv("MXTLS_WORLD_CASES");
    const char *src = getenv("MXTLS_SOURCE_DIR");
    static char rec[4096];
    if (src) {
        snprintf(rec, sizeof rec, "%s/tests/world/records.txt", src);
        records_file = rec;
    }
    const char *need[] = {root_hints, trust_anchor, cases_file};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!need[i] || access(need[i], R_OK) != 0) {
            fprintf(stderr, "test_dns: the world is not up (%s missing)\n",
                    need[i] ? need[i] : "an MXTLS_WORLD_* variable");
            return -1;
        }
    return 0;
}

/* ---- running queries ------------------------------------------------------- */

typedef struct slot {
    dns_answer *a;
    int done;
    struct timespec t0, t1;
} slot;

static int pending;

static void slot_cb(void *arg, dns_answer *a)
{
    slot *s = arg;
    s->a = a;
    s->done++;
    clock_gettime(CLOCK_MONOTONIC, &s->t1);
    pending--;
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    *(int *)arg = 1;
}

/* run_pending - run the loop until every started query has answered (or ms) */
static void run_pending(int ms)
{
    int expired = 0;
    struct event *wd = evtimer_new(base, watchdog_cb, &expired);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(wd, &tv);
    while (pending > 0 && !expired)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(wd);
    assert_int_equal(pending, 0);
}

/* start - start one query into a slot */
static void start(dns_resolver *r, const char *name, uint16_t type, slot *s)
{
    err_rec e;
    memset(s, 0, sizeof *s);
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    if (dns_resolve(r, name, type, slot_cb, s, &e) != 0)
        fail_msg("dns_resolve %s: %s", name, e.message);
    pending++;
}

/* ask - one query, answered; caller frees */
static dns_answer *ask_with(dns_resolver *r, const char *name, uint16_t type)
{
    slot s;
    start(r, name, type, &s);
    run_pending(15000);
    assert_int_equal(s.done, 1);
    assert_non_null(s.a);
    char norm[MXTLS_MAX_NAME + 2];
    assert_int_equal(dnsmsg_name_normalize(name, norm, sizeof norm), 0);
    assert_string_equal(s.a->qname, norm);
    assert_int_equal(s.a->qtype, type);
    return s.a;
}

static dns_answer *ask(const char *name, uint16_t type)
{
    return ask_with(res, name, type);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1000.0 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* expect - outcome and security, with the answer's own words on failure */
static void expect(const dns_answer *a, dns_outcome o, dns_security s)
{
    if (a->outcome != o || a->security != s)
        fail_msg("%s type %u: got %s/%s (rcode %d, why %s), want %s/%s", a->qname, a->qtype,
                 dns_outcome_name(a->outcome), dns_security_name(a->security), a->rcode,
                 a->why ? a->why : "-", dns_outcome_name(o), dns_security_name(s));
}

/* has_text - the answer holds a record with this text (and MX preference, if >= 0) */
static int has_text(const dns_answer *a, const char *text, int pref)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->rr[i].text, text) == 0 && (pref < 0 || a->rr[i].pref == pref))
            return 1;
    return 0;
}

/* ---- the special cases ------------------------------------------------------ */

static void test_signed_mx(void **state)
{
    dns_answer *a = ask("good.test", DNS_T_MX);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_int_equal(a->rcode, 0);
    assert_null(a->why);
    assert_null(a->canonname);
    assert_int_equal(a->n, 1);
    assert_int_equal(a->rr[0].pref, 10);
    assert_string_equal(a->rr[0].text, "mx.good.test");
    assert_true(a->rr[0].ttl > 0);
    dns_answer_free(a);

    a = ask("backup.test.", DNS_T_MX); /* asked with the trailing dot, kept without */
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_int_equal(a->n, 3);
    assert_true(has_text(a, "mx1.backup.test", 10));
    assert_true(has_text(a, "mx2.backup.test", 20));
    assert_true(has_text(a, "mx3.backup.test", 30));
    dns_answer_free(a);

    a = ask("MX.Good.TEST", DNS_T_A);
    assert_string_equal(a->qname, "mx.good.test");
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "127.0.2.1");
    dns_answer_free(a);
}

static void test_insecure(void **state)
{
    dns_answer *a = ask("insecure.test", DNS_T_MX);
    expect(a, DNS_DATA, DNS_SEC_INSECURE);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "mx.insecure.test");
    dns_answer_free(a);
    a = ask("mx.insecure.test", DNS_T_A);
    expect(a, DNS_DATA, DNS_SEC_INSECURE);
    assert_string_equal(a->rr[0].text, "127.0.2.13");
    dns_answer_free(a);
    /* denial in an insecure zone is insecure too */
    a = ask("nothing-here.insecure.test", DNS_T_A);
    expect(a, DNS_NXDOMAIN, DNS_SEC_INSECURE);
    dns_answer_free(a);
}

static void test_bogus(void **state)
{
    static const char *const names[] = {"bogus-expired.test", "bogus-tampered.test"};
    for (size_t i = 0; i < 2; i++) {
        dns_answer *a = ask(names[i], DNS_T_MX);
        expect(a, DNS_SERVFAIL, DNS_SEC_BOGUS);
        assert_int_equal(a->rcode, 2);
        assert_int_equal(a->n, 0); /* the bogus MX is not handed out */
        assert_non_null(a->why);
        assert_true(strlen(a->why) > 10);
        print_message("    %s MX: %s\n", names[i], a->why);
        if (i == 0)
            assert_non_null(strstr(a->why, "expired"));
        dns_answer_free(a);
    }
    /* the MX host's address in the bogus zone is bogus as well */
    dns_answer *a = ask("mx.bogus-expired.test", DNS_T_A);
    expect(a, DNS_SERVFAIL, DNS_SEC_BOGUS);
    dns_answer_free(a);
}

static void test_nxdomain_vs_nodata(void **state)
{
    dns_answer *a = ask("no-such-domain.test", DNS_T_MX);
    expect(a, DNS_NXDOMAIN, DNS_SEC_SECURE); /* denial proven by NSEC/NSEC3 */
    assert_int_equal(a->rcode, 3);
    assert_int_equal(a->n, 0);
    dns_answer_free(a);
    a = ask("no-such-host.good.test", DNS_T_A);
    expect(a, DNS_NXDOMAIN, DNS_SEC_SECURE);
    dns_answer_free(a);
    /* the name exists, the type does not */
    a = ask("mx.good.test", DNS_T_AAAA);
    expect(a, DNS_NODATA, DNS_SEC_SECURE);
    assert_int_equal(a->rcode, 0);
    assert_int_equal(a->n, 0);
    dns_answer_free(a);
    a = ask("good.test", DNS_T_TXT);
    expect(a, DNS_NODATA, DNS_SEC_SECURE);
    dns_answer_free(a);
}

static void test_null_and_implicit_mx(void **state)
{
    dns_answer *a = ask("nullmx.test", DNS_T_MX);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_int_equal(a->n, 1);
    assert_int_equal(a->rr[0].pref, 0);
    assert_string_equal(a->rr[0].text, "."); /* RFC 7505 */
    dns_answer_free(a);

    a = ask("implicit.test", DNS_T_MX);
    expect(a, DNS_NODATA, DNS_SEC_SECURE); /* RFC 5321 §5.1: use the domain itself */
    dns_answer_free(a);
    a = ask("implicit.test", DNS_T_A);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "127.0.2.16");
    dns_answer_free(a);
}

static void test_ptr(void **state)
{
    char name[128];
    assert_int_equal(dns_ptr_name("127.0.2.1", name, sizeof name), 0);
    dns_answer *a = ask(name, DNS_T_PTR);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "mx.good.test");
    dns_answer_free(a);

    /* ptr-bad.test's MX address: the PTR names mx0b, which points elsewhere */
    assert_int_equal(dns_ptr_name("127.0.2.24", name, sizeof name), 0);
    a = ask(name, DNS_T_PTR);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_string_equal(a->rr[0].text, "mx0b.hosting.test");
    dns_answer_free(a);
    a = ask("mx0b.hosting.test", DNS_T_A);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_string_equal(a->rr[0].text, "127.0.2.23");
    dns_answer_free(a);

    /* hosts.tsv: 127.0.2.26 publishes no PTR */
    assert_int_equal(dns_ptr_name("127.0.2.26", name, sizeof name), 0);
    a = ask(name, DNS_T_PTR);
    expect(a, DNS_NXDOMAIN, DNS_SEC_SECURE);
    dns_answer_free(a);
}

/* records_find - the first "OWNER TYPE RDATA" line of records.txt with this
 * type; owner and rdata without trailing dots. 0 found, -1 not. */
static int records_find(const char *type, char *owner, size_t olen, char *rdata, size_t rlen)
{
    if (!records_file)
        return -1;
    FILE *f = fopen(records_file, "r");
    if (!f)
        return -1;
    char line[1024];
    int found = -1;
    while (found && fgets(line, sizeof line, f)) {
        char o[256], t[32];
        int off = 0;
        if (line[0] == '#' || sscanf(line, "%255s %31s %n", o, t, &off) < 2 || strcmp(t, type))
            continue;
        char *rd = line + off;
        rd[strcspn(rd, "\n")] = '\0';
        size_t n = strlen(o);
        if (n > 1 && o[n - 1] == '.')
            o[n - 1] = '\0';
        n = strlen(rd);
        if (n > 1 && rd[n - 1] == '.')
            rd[n - 1] = '\0';
        snprintf(owner, olen, "%s", o);
        snprintf(rdata, rlen, "%s", rd);
        found = 0;
    }
    fclose(f);
    return found;
}

static void test_tlsa(void **state)
{
    /* The clean MX publishes no TLSA: the name does not exist, provably. */
    dns_answer *a = ask("_25._tcp.mx.good.test", DNS_T_TLSA);
    expect(a, DNS_NXDOMAIN, DNS_SEC_SECURE);
    dns_answer_free(a);
    char owner[256], rdata[1024];
    if (records_find("TLSA", owner, sizeof owner, rdata, sizeof rdata) != 0) {
        print_message("    the world publishes no TLSA record: data case not run\n");
        return;
    }
    a = ask(owner, DNS_T_TLSA);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_true(a->n >= 1);
    unsigned u, s, m;
    assert_int_equal(sscanf(rdata, "%u %u %u", &u, &s, &m), 3);
    assert_int_equal(a->rr[0].usage, u);
    assert_int_equal(a->rr[0].selector, s);
    assert_int_equal(a->rr[0].mtype, m);
    assert_true(a->rr[0].data_len > 0);
    dns_answer_free(a);
}

static void test_cname(void **state)
{
    char owner[256], target[256];
    if (records_find("CNAME", owner, sizeof owner, target, sizeof target) != 0) {
        print_message("    the world publishes no CNAME: case not run\n");
        skip();
    }
    dns_answer *a = ask(owner, DNS_T_A);
    assert_non_null(a->canonname);
    for (char *p = target; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    assert_string_equal(a->canonname, target);
    assert_true(a->outcome == DNS_DATA || a->outcome == DNS_NODATA ||
                a->outcome == DNS_NXDOMAIN);
    dns_answer_free(a);
    a = ask(owner, DNS_T_CNAME);
    expect(a, DNS_DATA, a->security);
    assert_null(a->canonname);
    assert_string_equal(a->rr[0].text, target);
    dns_answer_free(a);
}

static void test_txt(void **state)
{
    dns_answer *a = ask("_mta-sts.sts.test", DNS_T_TXT);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "v=STSv1; id=20250101T000000;");
    dns_answer_free(a);
    a = ask("_smtp._tls.sts.test", DNS_T_TXT);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_string_equal(a->rr[0].text, "v=TLSRPTv1; rua=mailto:tlsrpt@sts.test");
    dns_answer_free(a);
}

/* ---- every case of cases.tsv, all at once ------------------------------------ */

#define MAX_CASES 128

typedef struct wcase {
    char domain[256], dnssec[32], mx[1024], addrs[1024];
    slot mxq;
} wcase;

/* cases_load - the rows of cases.tsv */
static size_t cases_load(wcase *c, size_t max)
{
    FILE *f = fopen(cases_file, "r");
    assert_non_null(f);
    char line[8192];
    size_t n = 0;
    int header = 1;
    while (n < max && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (header) { /* the column names */
            header = 0;
            continue;
        }
        char *cols[4];
        char *save = NULL, *p = line;
        for (int i = 0; i < 4; i++) {
            cols[i] = strtok_r(p, "\t\n", &save);
            p = NULL;
            assert_non_null(cols[i]);
        }
        memset(&c[n], 0, sizeof c[n]);
        snprintf(c[n].domain, sizeof c[n].domain, "%s", cols[0]);
        snprintf(c[n].dnssec, sizeof c[n].dnssec, "%s", cols[1]);
        snprintf(c[n].mx, sizeof c[n].mx, "%s", cols[2]);
        snprintf(c[n].addrs, sizeof c[n].addrs, "%s", cols[3]);
        n++;
    }
    fclose(f);
    return n;
}

static void test_every_case(void **state)
{
    static wcase cases[MAX_CASES];
    size_t n = cases_load(cases, MAX_CASES);
    assert_true(n >= 20);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n; i++)
        start(res, cases[i].domain, DNS_T_MX, &cases[i].mxq);
    run_pending(30000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("    %zu MX lookups in parallel: %.1f ms\n", n, ms_between(&t0, &t1));

    /* then the A record of every MX host named in the addresses column */
    static slot hosts[MAX_CASES * 4];
    static char hostaddr[MAX_CASES * 4][64];
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        wcase *c = &cases[i];
        dns_answer *a = c->mxq.a;
        int bogus = strncmp(c->dnssec, "bogus", 5) == 0;
        dns_security want = bogus ? DNS_SEC_BOGUS
                            : strcmp(c->dnssec, "unsigned") == 0 ? DNS_SEC_INSECURE
                                                                 : DNS_SEC_SECURE;
        if (bogus) {
            expect(a, DNS_SERVFAIL, want);
            assert_non_null(a->why);
        } else if (strcmp(c->mx, "-") == 0) {
            expect(a, DNS_NODATA, want);
        } else {
            expect(a, DNS_DATA, want);
            /* exactly the PREF:HOST list of the row */
            char list[1024], *save = NULL;
            snprintf(list, sizeof list, "%s", c->mx);
            size_t count = 0;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(t, ':');
                assert_non_null(colon);
                *colon = '\0';
                if (!has_text(a, colon + 1, atoi(t)))
                    fail_msg("%s: MX %s %s missing", c->domain, t, colon + 1);
                count++;
            }
            assert_int_equal(a->n, count);
        }
        if (strcmp(c->addrs, "-") == 0)
            continue;
        char list[1024], *save = NULL;
        snprintf(list, sizeof list, "%s", c->addrs);
        for (char *t = strtok_r(list, ",", &save); t && nh < MAX_CASES * 4;
             t = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(t, '=');
            assert_non_null(eq);
            *eq = '\0';
            snprintf(hostaddr[nh], sizeof hostaddr[nh], "%s", eq + 1);
            start(res, t, DNS_T_A, &hosts[nh]);
            nh++;
        }
    }
    run_pending(30000);
    for (size_t i = 0; i < nh; i++) {
        dns_answer *a = hosts[i].a;
        /* bogus-expired: every signature of the zone expired; bogus-tampered:
         * only the MX was changed after signing, the addresses validate */
        int bogus = 0;
        for (size_t k = 0; k < n; k++) {
            size_t dl = strlen(cases[k].domain), ql = strlen(a->qname);
            if (ql >= dl && strcmp(a->qname + ql - dl, cases[k].domain) == 0 &&
                (ql == dl || a->qname[ql - dl - 1] == '.'))
                bogus = strcmp(cases[k].dnssec, "bogus-expired") == 0;
        }
        if (bogus) {
            assert_int_equal(a->security, DNS_SEC_BOGUS);
        } else {
            assert_int_equal(a->outcome, DNS_DATA);
            if (!has_text(a, hostaddr[i], -1))
                fail_msg("%s A: %s missing", a->qname, hostaddr[i]);
        }
        dns_answer_free(a);
    }
    for (size_t i = 0; i < n; i++)
        dns_answer_free(cases[i].mxq.a);
}

/* ---- forwarding, timeouts, latency ------------------------------------------- */

static void test_forward_mode(void **state)
{
    if (!world_resolver || !*world_resolver)
        skip();
    dns_config cfg = {.resolver = world_resolver, .trust_anchor = trust_anchor};
    err_rec e;
    dns_resolver *r = dns_resolver_new(base, &cfg, &e);
    if (!r)
        fail_msg("forward resolver: %s: %s", e.where, e.message);
    dns_answer *a = ask_with(r, "good.test", DNS_T_MX);
    expect(a, DNS_DATA, DNS_SEC_SECURE); /* validated here, not trusted from the AD bit */
    assert_string_equal(a->rr[0].text, "mx.good.test");
    dns_answer_free(a);
    a = ask_with(r, "insecure.test", DNS_T_MX);
    expect(a, DNS_DATA, DNS_SEC_INSECURE);
    dns_answer_free(a);
    a = ask_with(r, "bogus-tampered.test", DNS_T_MX);
    /* The world's resolver validates too and answers SERVFAIL; ours asks again
     * with CD and finds the data bogus itself. */
    expect(a, DNS_SERVFAIL, DNS_SEC_BOGUS);
    assert_non_null(a->why);
    dns_answer_free(a);
    a = ask_with(r, "no-such-domain.test", DNS_T_MX);
    expect(a, DNS_NXDOMAIN, DNS_SEC_SECURE);
    dns_answer_free(a);
    a = ask_with(r, "nullmx.test", DNS_T_MX);
    expect(a, DNS_DATA, DNS_SEC_SECURE);
    assert_string_equal(a->rr[0].text, ".");
    dns_answer_free(a);
    dns_resolver_free(r);

    /* without the world's trust anchor, the root's real key does not sign the
     * world's root: everything the forwarder returns is bogus */
    dns_config real = {.resolver = world_resolver};
    r = dns_resolver_new(base, &real, &e);
    assert_non_null(r);
    a = ask_with(r, "good.test", DNS_T_MX);
    expect(a, DNS_SERVFAIL, DNS_SEC_BOGUS);
    dns_answer_free(a);
    dns_resolver_free(r);
}

/* timeout_case - a query against a forwarder that never answers */
static void timeout_case(const char *fwd, int timeout_ms)
{
    dns_config cfg = {.resolver = fwd, .trust_anchor = trust_anchor, .timeout_ms = timeout_ms};
    err_rec e;
    dns_resolver *r = dns_resolver_new(base, &cfg, &e);
    if (!r)
        fail_msg("resolver %s: %s", fwd, e.message);
    slot s;
    start(r, "good.test", DNS_T_MX, &s);
    run_pending(10000);
    double took = ms_between(&s.t0, &s.t1);
    print_message("    forwarder %s: %s after %.1f ms\n", fwd, dns_outcome_name(s.a->outcome),
                  took);
    expect(s.a, DNS_TIMEOUT, DNS_SEC_INDETERMINATE);
    assert_true(took >= timeout_ms - 5);
    assert_true(took < timeout_ms + 500);
    dns_answer_free(s.a);
    /* free with libunbound's own query still outstanding: no callback, no leak */
    dns_resolver_free(r);
}

static void test_timeout(void **state)
{
    /* nothing listens there: UDP to it is refused; libunbound keeps trying */
    timeout_case("127.0.0.9@5353", 500);
    /* a socket that swallows every query */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char fwd[64];
    snprintf(fwd, sizeof fwd, "127.0.0.1@%u", (unsigned)ntohs(sa.sin_port));
    timeout_case(fwd, 500);
    close(fd);
}

static void test_latency(void **state)
{
    /* a fresh resolver: the first query primes the root and the chain of
     * DNSKEYs; the next ones are served from the cache or need one zone */
    err_rec e;
    dns_config cfg = {.root_hints = root_hints, .trust_anchor = trust_anchor};
    dns_resolver *r = dns_resolver_new(base, &cfg, &e);
    assert_non_null(r);
    slot s;
    start(r, "good.test", DNS_T_MX, &s);
    run_pending(15000);
    expect(s.a, DNS_DATA, DNS_SEC_SECURE);
    double cold = ms_between(&s.t0, &s.t1);
    dns_answer_free(s.a);
    start(r, "mx.good.test", DNS_T_A, &s);
    run_pending(15000);
    double same_zone = ms_between(&s.t0, &s.t1);
    dns_answer_free(s.a);
    start(r, "wild.test", DNS_T_MX, &s);
    run_pending(15000);
    double other_zone = ms_between(&s.t0, &s.t1);
    dns_answer_free(s.a);
    start(r, "good.test", DNS_T_MX, &s);
    run_pending(15000);
    double cached = ms_between(&s.t0, &s.t1);
    dns_answer_free(s.a);
    print_message("    latency: cold %.1f ms, same zone %.1f ms, new zone %.1f ms, cached %.2f ms\n",
                  cold, same_zone, other_zone, cached);
    assert_true(cold < 5000);
    assert_true(cached < 50);
    dns_resolver_free(r);
}

static int group_setup(void **state)
{
    base = event_base_new();
    if (!base)
        return -1;
    dns_config cfg = {.root_hints = root_hints, .trust_anchor = trust_anchor};
    err_rec e;
    res = dns_resolver_new(base, &cfg, &e);
    if (!res) {
        fprintf(stderr, "dns_resolver_new: %s: %s\n", e.where, e.message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    dns_resolver_free(res);
    event_base_free(base);
    return 0;
}

int main(void)
{
    if (world_load_env("test_dns") != 0 || world_ready() != 0)
        return SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signed_mx),
        cmocka_unit_test(test_insecure),
        cmocka_unit_test(test_bogus),
        cmocka_unit_test(test_nxdomain_vs_nodata),
        cmocka_unit_test(test_null_and_implicit_mx),
        cmocka_unit_test(test_ptr),
        cmocka_unit_test(test_tlsa),
        cmocka_unit_test(test_cname),
        cmocka_unit_test(test_txt),
        cmocka_unit_test(test_every_case),
        cmocka_unit_test(test_forward_mode),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_latency),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
