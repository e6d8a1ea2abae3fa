/* test_probe - the probe adapter against the test world's Postfix and hostile peers
 *
 * Runs inside the world's network namespace (CTest starts it through
 * `world exec`). Every SMTP listener of tests/world/hosts.tsv is probed and
 * judged from the tables: Postfix with STARTTLS (leaf CN from certs.tsv, chain
 * length from its kind), without STARTTLS, with an SNI-dependent certificate,
 * with implicit TLS on 465, the refused address, and the hostile servers
 * (inject, trickle, garbage, endless, close-handshake, after-220-close,
 * after-220-reset, handshake-reset) with exact outcomes in bounded time.
 * Without a world the program exits 77 (skipped). */
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
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "io/probe.h"
#include "report/probe_report.h"
#include "liveworld.h"

#define SKIP 77
#define MAX_ROWS 128
#define EHLO_NAME "client.mxtls.test"
#define PHASE_MS 5000 /* generous for a loaded CI machine; hostile tests use less */

static SSL_CTX *ctx;

/* ---- the world's tables -------------------------------------------------- */

struct host_row {
    char address[64], port[16], service[64], name[256], cert[256];
};

struct cert_row {
    char name[64], kind[32], cn[256];
};

static struct host_row hosts[MAX_ROWS];
static size_t nhosts;
static struct cert_row certs[MAX_ROWS];
static size_t ncerts;

/* tsv_rows - data rows of a world table: no comments, no blank lines, no header;
 * calls fn with the tab-separated columns */
static int tsv_rows(const char *path, void (*fn)(char **cols, int n))
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int header = 1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (header) {
            header = 0;
            continue;
        }
        char *cols[16];
        int n = 0;
        for (char *s = line; n < 16;) {
            cols[n++] = s;
            char *tab = strchr(s, '\t');
            if (!tab)
                break;
            *tab = '\0';
            s = tab + 1;
        }
        fn(cols, n);
    }
    fclose(f);
    return 0;
}

/* host_row_add - keep one hosts.tsv row */
static void host_row_add(char **c, int n)
{
    if (n < 5 || nhosts >= MAX_ROWS)
        return;
    struct host_row *h = &hosts[nhosts++];
    snprintf(h->address, sizeof h->address, "%s", c[0]);
    snprintf(h->port, sizeof h->port, "%s", c[1]);
    snprintf(h->service, sizeof h->service, "%s", c[2]);
    snprintf(h->name, sizeof h->name, "%s", c[3]);
    snprintf(h->cert, sizeof h->cert, "%s", c[4]);
}

/* cert_row_add - keep one certs.tsv row */
static void cert_row_add(char **c, int n)
{
    if (n < 4 || ncerts >= MAX_ROWS)
        return;
    struct cert_row *r = &certs[ncerts++];
    snprintf(r->name, sizeof r->name, "%s", c[0]);
    snprintf(r->kind, sizeof r->kind, "%s", c[1]);
    snprintf(r->cn, sizeof r->cn, "%s", c[3]);
}

/* cert_named - the certs.tsv row called name (fails the test if absent) */
static const struct cert_row *cert_named(const char *name)
{
    for (size_t i = 0; i < ncerts; i++)
        if (!strcmp(certs[i].name, name))
            return &certs[i];
    fail_msg("certs.tsv has no certificate %s", name);
    return NULL;
}

/* world_reachable - the world's first Postfix accepts TCP (we run in its namespace) */
static int world_reachable(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(25)};
    inet_pton(AF_INET, "127.0.2.1", &sin.sin_addr);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* ---- probing ------------------------------------------------------------- */

struct slot {
    probe_report *r;
    int calls;
};

/* slot_done - the probe callback: keep the report */
static void slot_done(void *arg, probe_report *r)
{
    struct slot *s = arg;
    s->r = r;
    s->calls++;
}

/* probe_one - probe ADDR:PORT with SNI (NULL: none); one callback, never inside probe_start */
static probe_report *probe_one(const char *ip, uint16_t port, const char *sni, int implicit_tls,
                               int phase_ms, int total_ms)
{
    struct event_base *base = event_base_new();
    assert_non_null(base);
    probe_config cfg = {.ip = ip, .port = port, .ehlo_name = EHLO_NAME, .sni = sni,
                        .implicit_tls = implicit_tls, .want_ocsp_staple = 1,
                        .phase_timeout_ms = phase_ms, .total_timeout_ms = total_ms};
    struct slot s = {0};
    err_rec e;
    probe *p = probe_start(base, ctx, &cfg, slot_done, &s, &e);
    if (!p)
        fail_msg("probe_start %s: %s", ip, e.message);
    assert_int_equal(s.calls, 0);
    event_base_dispatch(base);
    assert_int_equal(s.calls, 1);
    event_base_free(base);
    return s.r;
}

/* leaf_cn - the subject CN of chain[0] (static buffer) */
static const char *leaf_cn(const probe_report *r)
{
    static char cn[256];
    assert_non_null(r->tls.chain);
    assert_true(sk_X509_num(r->tls.chain) >= 1);
    X509_NAME *n = X509_get_subject_name(sk_X509_value(r->tls.chain, 0));
    if (X509_NAME_get_text_by_NID(n, NID_commonName, cn, sizeof cn) < 0)
        cn[0] = '\0';
    return cn;
}

/* explain - the text report, printed when an assertion is about to fail */
static void explain(const probe_report *r)
{
    char *t = probe_report_text(r, 0);
    fprintf(stderr, "%s", t ? t : "(no memory)\n");
    free(t);
}

#define CHECK(r, cond)                                                                     \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            explain(r);                                                                    \
            fail_msg("%s:%d: %s", __FILE__, __LINE__, #cond);                              \
        }                                                                                  \
    } while (0)

/* expect_postfix_tls - a clean Postfix STARTTLS session presenting cert CERT */
static void expect_postfix_tls(const probe_report *r, const struct host_row *h, const char *cert)
{
    const struct cert_row *c = cert_named(cert);
    CHECK(r, r->connected);
    CHECK(r, r->smtp.outcome == SMTP_OUTCOME_OK_TLS);
    CHECK(r, r->smtp.banner.code == 220);
    CHECK(r, r->greeting_host && !strcmp(r->greeting_host, h->name));
    CHECK(r, r->smtp.banner.lines.n > 0 && strstr(r->smtp.banner.lines.v[0], "ESMTP"));
    CHECK(r, r->smtp.starttls_offered && r->smtp.starttls.code == 220);
    CHECK(r, r->smtp.injected_bytes == 0);
    CHECK(r, r->tls_ok && r->tls.version && !strcmp(r->tls.version, "TLSv1.3"));
    CHECK(r, r->tls.error == NULL);
    CHECK(r, r->smtp.post_tls.esmtp && !(r->smtp.post_tls.caps.ext & EHLO_STARTTLS));
    CHECK(r, !strcmp(leaf_cn(r), c->cn));
    int want_len = !strcmp(c->kind, "selfsigned") || !strcmp(c->kind, "nointer") ? 1 : 2;
    CHECK(r, sk_X509_num(r->tls.chain) == want_len);
    CHECK(r, r->smtp.quit_status == SMTP_QUIT_REPLIED && r->smtp.quit_code == 221);
}

/* ---- tests ----------------------------------------------------------------- */

/* the clean MX: banner, greeting host, STARTTLS, TLS 1.3, leaf, timing */
static void test_good(void **state)
{
    const struct host_row *h = NULL;
    for (size_t i = 0; i < nhosts && !h; i++)
        if (!strcmp(hosts[i].address, "127.0.2.1") && !strcmp(hosts[i].port, "25"))
            h = &hosts[i];
    assert_non_null(h);
    probe_report *r = probe_one(h->address, 25, h->name, 0, PHASE_MS, 0);
    expect_postfix_tls(r, h, "good");
    /* the world's smtpd_banner is "$myhostname ESMTP"; Postfix's own EHLO set follows */
    char want[300];
    snprintf(want, sizeof want, "%s ESMTP", h->name);
    CHECK(r, !strncmp(r->smtp.banner.lines.v[0], want, strlen(want)));
    CHECK(r, r->smtp.pre_tls.caps.ext & EHLO_PIPELINING);
    CHECK(r, strlist_contains(&r->smtp.pre_tls.caps.keywords, "ETRN") &&
                 strlist_contains(&r->smtp.pre_tls.caps.keywords, "VRFY"));
    CHECK(r, r->tls.sni_sent && !strcmp(r->tls.sni_sent, "mx.good.test"));
    CHECK(r, r->tls.peer_key_type != NULL && r->tls.peer_key_bits > 0);
    CHECK(r, r->tls.group != NULL);
    print_message("mx.good.test: %ld ms, %zu bytes in, %zu out\n", r->elapsed_ms, r->bytes_in,
                  r->bytes_out);
    probe_report_free(r);
}

/* every Postfix listener of hosts.tsv, judged from the tables */
static void test_every_postfix_listener(void **state)
{
    size_t probed = 0;
    for (size_t i = 0; i < nhosts; i++) {
        const struct host_row *h = &hosts[i];
        uint16_t port = (uint16_t)atoi(h->port);
        probe_report *r = NULL;
        if (!strcmp(h->service, "smtp") || !strcmp(h->service, "smtp-ccert")) {
            r = probe_one(h->address, port, h->name, 0, PHASE_MS, 0);
            expect_postfix_tls(r, h, h->cert);
        } else if (!strcmp(h->service, "smtp-plain")) {
            r = probe_one(h->address, port, h->name, 0, PHASE_MS, 0);
            CHECK(r, r->smtp.outcome == SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS);
            CHECK(r, r->greeting_host && !strcmp(r->greeting_host, h->name));
            CHECK(r, !r->smtp.starttls_offered && !r->tls_attempted);
        } else if (!strcmp(h->service, "smtps")) {
            r = probe_one(h->address, port, h->name, 1, PHASE_MS, 0);
            CHECK(r, r->smtp.outcome == SMTP_OUTCOME_OK_TLS && r->smtp.implicit_tls);
            CHECK(r, !r->smtp.pre_tls.ehlo_sent && r->smtp.banner.code == 220);
            CHECK(r, r->greeting_host && !strcmp(r->greeting_host, h->name));
            CHECK(r, !strcmp(leaf_cn(r), cert_named(h->cert)->cn));
        } else if (!strcmp(h->service, "none")) {
            r = probe_one(h->address, 25, h->name, 0, PHASE_MS, 0);
            CHECK(r, !r->connected && r->connect_error &&
                         !strcmp(r->connect_error, "connection refused"));
        } else {
            continue; /* smtp-sni, hostile-*, web: their own tests */
        }
        probed++;
        probe_report_free(r);
    }
    assert_true(probed >= 25);
}

/* tls_server_sni_maps: one certificate with SNI mx.sni.test, another without */
static void test_sni(void **state)
{
    const struct host_row *h = NULL;
    for (size_t i = 0; i < nhosts && !h; i++)
        if (!strcmp(hosts[i].service, "smtp-sni"))
            h = &hosts[i];
    assert_non_null(h);
    /* cert column: DEFAULT,SNINAME=CERT[,SNINAME=CERT...]; the first pair */
    char def[64], sniname[256], snicert[64];
    assert_int_equal(sscanf(h->cert, "%63[^,],%255[^=]=%63[^,]", def, sniname, snicert), 3);

    probe_report *with = probe_one(h->address, 25, sniname, 0, PHASE_MS, 0);
    expect_postfix_tls(with, h, snicert);
    probe_report *without = probe_one(h->address, 25, NULL, 0, PHASE_MS, 0);
    expect_postfix_tls(without, h, def);
    CHECK(without, without->tls.sni_sent == NULL);
    CHECK(with, X509_cmp(sk_X509_value(with->tls.chain, 0),
                         sk_X509_value(without->tls.chain, 0)) != 0);
    CHECK(with, strcmp(leaf_cn(with), cert_named(def)->cn) != 0);
    probe_report_free(with);
    probe_report_free(without);
}

/* hostile inject: the 250 after "220 Ready to start TLS" is discarded and reported */
static void test_inject(void **state)
{
    probe_report *r = probe_one("127.0.4.1", 25, "mx.inject.test", 0, PHASE_MS, 0);
    CHECK(r, r->smtp.outcome == SMTP_OUTCOME_OK_TLS);
    CHECK(r, r->smtp.injected_bytes == 14);
    CHECK(r, !memcmp(r->smtp.injected_head, "250 injected\r\n", 14));
    CHECK(r, r->smtp.nfindings >= 1 && !strcmp(r->smtp.findings[0].code, "starttls-injection"));
    CHECK(r, !strcmp(leaf_cn(r), "mx.inject.test"));
    CHECK(r, r->smtp.post_tls.ehlo.code == 250);
    probe_report_free(r);
}

/* hostile trickle: a greeting that never ends is cut by the phase deadline */
static void test_trickle(void **state)
{
    probe_report *r = probe_one("127.0.4.2", 25, "mx.trickle.test", 0, 1500, 10000);
    CHECK(r, r->smtp.outcome == SMTP_OUTCOME_TIMEOUT);
    CHECK(r, r->smtp.outcome_phase == SMTP_PHASE_BANNER);
    CHECK(r, r->elapsed_ms >= 1490 && r->elapsed_ms < 2500);
    probe_report_free(r);
    /* and by the total deadline when it is the shorter one */
    r = probe_one("127.0.4.2", 25, "mx.trickle.test", 0, 5000, 1200);
    CHECK(r, r->smtp.outcome == SMTP_OUTCOME_TIMEOUT);
    CHECK(r, strstr(r->smtp.reason, "probe deadline of 1200 ms") != NULL);
    CHECK(r, r->elapsed_ms >= 1190 && r->elapsed_ms < 2200);
    probe_report_free(r);
}

/* hostile garbage: binary instead of a greeting is a protocol error at once */
static void test_garbage(void **state)
{
    probe_report *r = probe_one("127.0.4.3", 25, "mx.garbage.test", 0, PHASE_MS, 0);
    CHECK(r, r->smtp.outcome == SMTP_OUTCOME_PROTOCOL_ERROR);
    CHECK(r, r->smtp.outcome_phase == SMTP_PHASE_BANNER);
    CHECK(r, r->smtp.quit_status == SMTP_QUIT_NOT_SENT);
    CHECK(r, r->elapsed_ms < 1000);
    probe_report_free(r);
}

/* hostile endless: the EHLO reply hits the machine's line limit */
static void test_endless(void **state)
{
    probe_report *r = probe_one("127.0.4.4", 25, "mx.endless.test", 0, PHASE_MS, 0);
    CHECK(r, r->smtp.outcome == SMTP_OUTCOME_LIMIT_EXCEEDED);
    CHECK(r, r->smtp.outcome_phase == SMTP_PHASE_EHLO);
    CHECK(r, r->bytes_in < 2 * REPLY_MAX_BYTES_DEFAULT);
    CHECK(r, r->elapsed_ms < 1000);
    probe_report_free(r);
}

/* hostile close-handshake: tls-failed with the reason, quickly */
static void test_close_handshake(void **state)
{
    probe_report *r = probe_one("127.0.4.5", 25, "mx.close-handshake.test", 0, PHASE_MS, 0);
    CHECK(r, r->smtp.outcome == SMTP_OUTCOME_TLS_FAILED);
    CHECK(r, r->smtp.outcome_phase == SMTP_PHASE_TLS_HANDSHAKE);
    CHECK(r, r->tls_attempted && !r->tls_ok);
    /* half a first flight came: OpenSSL's words, not "before answering" */
    CHECK(r, r->tls.error && !strcmp(r->tls.error, "the server closed the connection "
                                                   "(unexpected eof while reading)"));
    CHECK(r, r->tls.sni_sent && !strcmp(r->tls.sni_sent, "mx.close-handshake.test"));
    CHECK(r, r->elapsed_ms < 1000);
    probe_report_free(r);
}

/* hostile after-220-close, after-220-reset: the drop may reach us before or
 * after our ClientHello left, and a close turns into a reset when our
 * ClientHello got there first; the report is the same every run, whatever the
 * order (4 rounds of 12 probes at once on one loop, 24 of each). A reset after
 * the server's first bytes (handshake-reset) keeps OpenSSL's words. */
#define AFTER_220_ROUNDS 4
#define AFTER_220_PER_ROUND 12
static void test_after_220_drop(void **state)
{
    static const struct {
        const char *ip, *sni, *error;
    } hostile[] = {
        {"127.0.4.18", "mx.after-220-close.test",
         "the server dropped the connection before answering the ClientHello"},
        {"127.0.4.19", "mx.after-220-reset.test",
         "the server dropped the connection before answering the ClientHello"},
        {"127.0.4.20", "mx.handshake-reset.test", "the server reset the connection"},
    };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int seen[3] = {0};
    for (int round = 0; round < AFTER_220_ROUNDS; round++) {
        struct event_base *base = event_base_new();
        assert_non_null(base);
        struct slot s[AFTER_220_PER_ROUND + 1] = {{0}};
        int which[AFTER_220_PER_ROUND + 1];
        int n = 0;
        for (; n < AFTER_220_PER_ROUND + 1; n++) {
            /* alternate close and reset; one handshake-reset per round */
            which[n] = n == AFTER_220_PER_ROUND ? 2 : n % 2;
            probe_config cfg = {.ip = hostile[which[n]].ip, .port = 25, .ehlo_name = EHLO_NAME,
                                .sni = hostile[which[n]].sni, .phase_timeout_ms = PHASE_MS};
            err_rec e;
            if (!probe_start(base, ctx, &cfg, slot_done, &s[n], &e))
                fail_msg("probe_start %s: %s", cfg.ip, e.message);
        }
        event_base_dispatch(base);
        event_base_free(base);
        for (int i = 0; i < n; i++) {
            probe_report *r = s[i].r;
            assert_int_equal(s[i].calls, 1);
            CHECK(r, r->smtp.outcome == SMTP_OUTCOME_TLS_FAILED);
            CHECK(r, r->smtp.outcome_phase == SMTP_PHASE_TLS_HANDSHAKE);
            CHECK(r, r->tls_attempted && !r->tls_ok);
            if (!r->tls.error || strcmp(r->tls.error, hostile[which[i]].error) != 0) {
                explain(r);
                fail_msg("%s round %d: tls.error \"%s\", expected \"%s\"", hostile[which[i]].sni,
                         round, r->tls.error ? r->tls.error : "(null)", hostile[which[i]].error);
            }
            CHECK(r, r->tls.sni_sent && !strcmp(r->tls.sni_sent, hostile[which[i]].sni));
            CHECK(r, r->tls.chain == NULL || sk_X509_num(r->tls.chain) == 0);
            seen[which[i]]++;
            probe_report_free(r);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
    print_message("after-220 drops: %d close, %d reset, %d handshake-reset, one report each, "
                  "%ld ms\n", seen[0], seen[1], seen[2], ms);
    assert_int_equal(seen[0], AFTER_220_ROUNDS * AFTER_220_PER_ROUND / 2);
    assert_int_equal(seen[1], AFTER_220_ROUNDS * AFTER_220_PER_ROUND / 2);
    assert_true(ms < 4 * PHASE_MS);
}

/* all SMTP listeners at once on one loop: every probe reports, time is bounded */
static void test_all_at_once(void **state)
{
    struct event_base *base = event_base_new();
    struct slot s[MAX_ROWS] = {{0}};
    size_t n = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < nhosts; i++) {
        const struct host_row *h = &hosts[i];
        if (strncmp(h->service, "smtp", 4) != 0)
            continue;
        probe_config cfg = {.ip = h->address, .port = (uint16_t)atoi(h->port),
                            .ehlo_name = EHLO_NAME, .sni = h->name,
                            .implicit_tls = !strcmp(h->service, "smtps"),
                            .phase_timeout_ms = PHASE_MS};
        err_rec e;
        assert_non_null(probe_start(base, ctx, &cfg, slot_done, &s[n], &e));
        n++;
    }
    event_base_dispatch(base);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
    long sum = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(s[i].calls, 1);
        CHECK(s[i].r, s[i].r->smtp.outcome == SMTP_OUTCOME_OK_TLS ||
                          s[i].r->smtp.outcome == SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS);
        sum += s[i].r->elapsed_ms;
        probe_report_free(s[i].r);
    }
    print_message("%zu Postfix listeners at once: %ld ms wall, %ld ms mean per probe\n", n, ms,
                  n ? sum / (long)n : 0);
    assert_true(ms < PHASE_MS);
    event_base_free(base);
}

/* main - skip (77) without a world, else run the tests */
int main(void)
{
    if (world_load_env("test_probe") != 0)
        return SKIP;
    const char *hosts_tsv = getenv("MXTLS_WORLD_HOSTS");
    const char *src = getenv("MXTLS_SOURCE_DIR");
    char certs_tsv[4096];
    snprintf(certs_tsv, sizeof certs_tsv, "%s/tests/world/certs.tsv", src ? src : ".");
    if (!hosts_tsv || tsv_rows(hosts_tsv, host_row_add) != 0 ||
        tsv_rows(certs_tsv, cert_row_add) != 0 || nhosts == 0 || ncerts == 0) {
        fprintf(stderr, "test_probe: cannot read the world's tables\n");
        return SKIP;
    }
    if (!world_reachable()) {
        fprintf(stderr, "test_probe: the world is not up (127.0.2.1:25 does not answer)\n");
        return SKIP;
    }
    err_rec e;
    ctx = probe_ssl_ctx_new(&e);
    if (!ctx) {
        fprintf(stderr, "test_probe: %s\n", e.message);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_every_postfix_listener),
        cmocka_unit_test(test_sni),
        cmocka_unit_test(test_inject),
        cmocka_unit_test(test_trickle),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_endless),
        cmocka_unit_test(test_close_handshake),
        cmocka_unit_test(test_after_220_drop),
        cmocka_unit_test(test_all_at_once),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    SSL_CTX_free(ctx);
    return rc;
}
