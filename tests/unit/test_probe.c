/* test_probe - the probe adapter (src/io/probe.c) against scripted servers on loopback
 *
 * Every test starts a tiny server on 127.0.0.1 with an ephemeral port: a forked
 * child that accepts and forks once more per connection, then plays one
 * script with blocking I/O (plaintext SMTP, then OpenSSL as a TLS server with
 * a certificate made in this test). Real TCP, so the adapter's non-blocking
 * connect, partial reads and timers are exercised as they are in production.
 * Every server process is bounded by alarm(). No root, no network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "testutil.h"

#include "core/fingerprint.h"
#include "io/probe.h"
#include "report/probe_report.h"

/* No server process outlives this; under valgrind (MXTLS_TEST_VALGRIND, set by
 * the valgrind-labelled tests) 64 concurrent handshakes take longer. */
#define SRV_ALARM_S (getenv("MXTLS_TEST_VALGRIND") ? 60 : 10)
#define SRV_NAME "tls.test"

/* ---- the scripted server ------------------------------------------------ */

/* What a server script may vary. Set before srv_start(); the child gets a copy. */
struct srv_opts {
    int max_version;          /* 0 = TLS 1.3 */
    int inject;               /* send "250 injected" after the 220 to STARTTLS */
    int rst_after_quit;       /* reset (SO_LINGER 0) right after 221 */
    const char *staple;       /* OCSP staple bytes to send when asked */
};

static struct srv_opts srv_o;
static SSL_CTX *srv_ctx;  /* TLS server context, certificate made in group setup */
static SSL_CTX *cli_ctx;  /* probe_ssl_ctx_new() */
static X509 *srv_cert;

struct sconn {
    int fd;
    SSL *ssl;
};

typedef void (*srv_fn)(struct sconn *c);

struct srv {
    pid_t pid;
    uint16_t port;
};

/* srv_write - all of s, plaintext or TLS; the child exits when the client is gone */
static void srv_write(struct sconn *c, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, s, (int)n) : send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            _exit(0);
        s += w;
        n -= (size_t)w;
    }
}

/* srv_puts - a C string */
static void srv_puts(struct sconn *c, const char *s)
{
    srv_write(c, s, strlen(s));
}

/* srv_line - one command line (without CRLF); exits on EOF */
static void srv_line(struct sconn *c, char *buf, size_t n)
{
    size_t len = 0;
    for (;;) {
        char ch;
        ssize_t r = c->ssl ? SSL_read(c->ssl, &ch, 1) : recv(c->fd, &ch, 1, 0);
        if (r <= 0)
            _exit(0);
        if (ch == '\n')
            break;
        if (ch != '\r' && len + 1 < n)
            buf[len++] = ch;
    }
    buf[len] = '\0';
}

/* srv_expect - read a command and exit unless it starts with verb */
static void srv_expect(struct sconn *c, const char *verb)
{
    char line[1024];
    srv_line(c, line, sizeof line);
    if (strncasecmp(line, verb, strlen(verb)) != 0)
        _exit(3);
}

/* srv_wait_close - block until the client closes */
static void srv_wait_close(struct sconn *c)
{
    char buf[512];
    while (recv(c->fd, buf, sizeof buf, 0) > 0)
        ;
}

/* srv_tls - become the TLS server on this connection */
static void srv_tls(struct sconn *c)
{
    c->ssl = SSL_new(srv_ctx);
    if (!c->ssl)
        _exit(4);
    if (srv_o.max_version)
        SSL_set_max_proto_version(c->ssl, srv_o.max_version);
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_accept(c->ssl) != 1)
        _exit(0);
}

/* srv_listen - a listening socket on the loopback address of family, ephemeral
 * port; -1 when the family is not available here */
static int srv_listen(int family, uint16_t *port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *s4;
    }
    int lfd = socket(family, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, len) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&ss, &len) != 0) {
        if (lfd >= 0)
            close(lfd);
        return -1;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return lfd;
}

/* srv_start_on - serve every connection of the listening socket lfd with fn */
static void srv_start_on(struct srv *s, int lfd, srv_fn fn)
{
    fflush(NULL);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        alarm(SRV_ALARM_S);
        signal(SIGCHLD, SIG_IGN); /* connection children reap themselves */
        for (;;) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd < 0)
                _exit(errno == EINTR ? 0 : 1);
            pid_t k = fork();
            if (k == 0) {
                close(lfd);
                alarm(SRV_ALARM_S);
                struct sconn c = {cfd, NULL};
                fn(&c);
                if (c.ssl && srv_o.rst_after_quit) {
                    struct linger lg = {1, 0};
                    setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                } else if (c.ssl) {
                    SSL_shutdown(c.ssl);
                }
                close(cfd);
                _exit(0);
            }
            close(cfd);
        }
    }
    close(lfd);
}

/* srv_start - listen on 127.0.0.1:0 and serve every connection with fn */
static void srv_start(struct srv *s, srv_fn fn)
{
    int lfd = srv_listen(AF_INET, &s->port);
    assert_true(lfd >= 0);
    srv_start_on(s, lfd, fn);
}

/* srv_stop - stop the listener (connection children end on their own) */
static void srv_stop(struct srv *s)
{
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
}

/* ---- scripts ------------------------------------------------------------- */

/* plain ESMTP without STARTTLS */
static void script_plain(struct sconn *c)
{
    srv_puts(c, "220 plain.test ESMTP scripted\r\n");
    srv_expect(c, "EHLO probe.test");
    srv_puts(c, "250-plain.test hello\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
    srv_expect(c, "QUIT");
    srv_puts(c, "221 2.0.0 bye\r\n");
    srv_wait_close(c);
}

/* the post-TLS part shared by STARTTLS and implicit TLS: EHLO names the SNI seen */
static void script_after_tls(struct sconn *c)
{
    char line[600];
    const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
    srv_expect(c, "EHLO");
    snprintf(line, sizeof line, "250-" SRV_NAME " sni=%s\r\n250 8BITMIME\r\n", sni ? sni : "none");
    srv_puts(c, line);
    srv_expect(c, "QUIT");
    srv_puts(c, "221 2.0.0 bye\r\n");
}

/* STARTTLS; optionally injects plaintext after the 220 in the same segment */
static void script_starttls(struct sconn *c)
{
    srv_puts(c, "220 " SRV_NAME " ESMTP scripted\r\n");
    srv_expect(c, "EHLO");
    srv_puts(c, "250-" SRV_NAME "\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
    srv_expect(c, "STARTTLS");
    /* one write, so the injected reply shares the segment (CVE-2011-0411) */
    srv_puts(c, srv_o.inject ? "220 2.0.0 Ready\r\n250 injected\r\n" : "220 2.0.0 Ready\r\n");
    srv_tls(c);
    script_after_tls(c);
}

/* implicit TLS (port 465): handshake first, then the greeting */
static void script_implicit(struct sconn *c)
{
    srv_tls(c);
    srv_puts(c, "220 " SRV_NAME " ESMTP implicit\r\n");
    script_after_tls(c);
}

/* STARTTLS accepted; the ClientHello is read completely (so that close()
 * sends a FIN, not a reset for unread data) and the connection closed */
static void script_close_handshake(struct sconn *c)
{
    unsigned char hdr[5], body[1 << 14];
    srv_puts(c, "220 " SRV_NAME " ESMTP\r\n");
    srv_expect(c, "EHLO");
    srv_puts(c, "250-" SRV_NAME "\r\n250 STARTTLS\r\n");
    srv_expect(c, "STARTTLS");
    srv_puts(c, "220 2.0.0 Ready\r\n");
    if (recv(c->fd, hdr, sizeof hdr, MSG_WAITALL) != (ssize_t)sizeof hdr)
        _exit(0);
    size_t len = (size_t)hdr[3] << 8 | hdr[4];
    if (len > sizeof body || recv(c->fd, body, len, MSG_WAITALL) != (ssize_t)len)
        _exit(0);
}

/* reads the whole ClientHello, then resets: no TLS byte from the server */
static void script_reset_after_client_hello(struct sconn *c)
{
    script_close_handshake(c);
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
    _exit(0);
}

/* STARTTLS accepted, then silence during the handshake */
static void script_stall_handshake(struct sconn *c)
{
    srv_puts(c, "220 " SRV_NAME " ESMTP\r\n");
    srv_expect(c, "EHLO");
    srv_puts(c, "250-" SRV_NAME "\r\n250 STARTTLS\r\n");
    srv_expect(c, "STARTTLS");
    srv_puts(c, "220 2.0.0 Ready\r\n");
    srv_wait_close(c);
}

/* accepts and never greets */
static void script_silent(struct sconn *c)
{
    srv_wait_close(c);
}

/* a greeting that arrives one byte every 50 ms and never ends */
static void script_trickle(struct sconn *c)
{
    srv_puts(c, "220 ");
    for (;;) {
        srv_puts(c, "x");
        usleep(50 * 1000);
    }
}

/* binary garbage instead of a greeting */
static void script_garbage(struct sconn *c)
{
    srv_write(c, "\x16\x03\x01\x00\x05\x00\xff\xfe\r\n", 10);
    srv_wait_close(c);
}

/* an EHLO reply that never ends (stopped by the machine's line-count limit) */
static void script_endless(struct sconn *c)
{
    srv_puts(c, "220 endless.test ESMTP\r\n");
    srv_expect(c, "EHLO");
    for (int i = 0; i < 500; i++)
        srv_puts(c, "250-ENDLESS\r\n");
    srv_wait_close(c);
}

/* greets, then hangs up */
static void script_close_after_banner(struct sconn *c)
{
    srv_puts(c, "220 gone.test ESMTP\r\n");
}

/* STARTTLS accepted, then an immediate close: the FIN usually arrives with
 * the 220, before the client's ClientHello */
static void script_close_after_220(struct sconn *c)
{
    srv_puts(c, "220 " SRV_NAME " ESMTP\r\n");
    srv_expect(c, "EHLO");
    srv_puts(c, "250-" SRV_NAME "\r\n250 STARTTLS\r\n");
    srv_expect(c, "STARTTLS");
    srv_puts(c, "220 2.0.0 Ready\r\n");
}

/* accepted, then reset at once */
static void script_reset_at_accept(struct sconn *c)
{
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
    _exit(0);
}

/* TLS 1.2; before answering EHLO the server asks for renegotiation and goes
 * on only if the client renegotiates */
static void script_renegotiate(struct sconn *c)
{
    srv_puts(c, "220 " SRV_NAME " ESMTP\r\n");
    srv_expect(c, "EHLO");
    srv_puts(c, "250-" SRV_NAME "\r\n250 STARTTLS\r\n");
    srv_expect(c, "STARTTLS");
    srv_puts(c, "220 2.0.0 Ready\r\n");
    srv_tls(c);
    srv_expect(c, "EHLO");
    if (SSL_renegotiate(c->ssl) != 1 || SSL_do_handshake(c->ssl) != 1)
        _exit(5);
    char ch;
    while (SSL_renegotiate_pending(c->ssl))
        if (SSL_read(c->ssl, &ch, 1) <= 0)
            _exit(0); /* refused: the session ends here */
    srv_puts(c, "250 " SRV_NAME "\r\n");
    srv_expect(c, "QUIT");
    srv_puts(c, "221 2.0.0 bye\r\n");
}

/* ---- driving a probe ---------------------------------------------------- */

struct done {
    int calls;
    probe_report *r;
};

/* on_done - the probe callback: count and keep the report */
static void on_done(void *arg, probe_report *r)
{
    struct done *d = arg;
    d->calls++;
    d->r = r;
}

/* cfg_for - a config aimed at the server, short timeouts */
static probe_config cfg_for(const struct srv *s)
{
    probe_config c = {.ip = "127.0.0.1", .port = s->port, .ehlo_name = "probe.test",
                      .connect_timeout_ms = 2000, .phase_timeout_ms = 3000,
                      .total_timeout_ms = 8000};
    return c;
}

/* run_probe - one probe on its own loop; asserts one callback, never inside probe_start */
static probe_report *run_probe(const probe_config *cfg)
{
    struct event_base *base = event_base_new();
    assert_non_null(base);
    struct done d = {0};
    err_rec e;
    probe *p = probe_start(base, cli_ctx, cfg, on_done, &d, &e);
    if (!p)
        fail_msg("probe_start: %s", e.message);
    assert_int_equal(d.calls, 0);
    event_base_dispatch(base);
    assert_int_equal(d.calls, 1);
    assert_non_null(d.r);
    event_base_free(base);
    return d.r;
}

/* run_script - start a server with fn, probe it with cfg (port filled in), stop */
static probe_report *run_script(srv_fn fn, probe_config *cfg)
{
    struct srv s;
    srv_start(&s, fn);
    cfg->port = s.port;
    probe_report *r = run_probe(cfg);
    srv_stop(&s);
    return r;
}

/* leaf_subject - RFC 2253 subject of chain[i]; caller frees */
static char *chain_subject(const probe_report *r, int i)
{
    assert_non_null(r->tls.chain);
    return fp_name_text(X509_get_subject_name(sk_X509_value(r->tls.chain, i)));
}

/* ---- tests ---------------------------------------------------------------- */

/* plain ESMTP: every observation of a clean dialogue without STARTTLS */
static void test_plain(void **state)
{
    struct srv s;
    srv_start(&s, script_plain);
    probe_config cfg = cfg_for(&s);
    probe_report *r = run_probe(&cfg);
    srv_stop(&s);
    assert_true(r->connected);
    assert_null(r->connect_error);
    assert_string_equal(r->ip, "127.0.0.1");
    assert_int_equal(r->port, s.port);
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_EHLO);
    assert_int_equal(r->smtp.banner.code, 220);
    assert_string_equal(r->smtp.banner.lines.v[0], "plain.test ESMTP scripted");
    assert_string_equal(r->greeting_host, "plain.test");
    assert_null(r->smtp.greeting_host); /* moved to the report (probe.h) */
    assert_true(r->smtp.pre_tls.esmtp);
    assert_int_equal(r->smtp.pre_tls.ehlo.lines.n, 3);
    assert_true(r->smtp.pre_tls.caps.ext & EHLO_PIPELINING);
    assert_int_equal(r->smtp.pre_tls.caps.size, 1000);
    assert_false(r->smtp.starttls_offered);
    assert_false(r->tls_attempted);
    assert_false(r->tls_ok);
    assert_null(r->tls.chain);
    assert_int_equal(r->smtp.quit_status, SMTP_QUIT_REPLIED);
    assert_int_equal(r->smtp.quit_code, 221);
    assert_int_equal(r->smtp.commands, 2);
    assert_int_equal(r->smtp.replies, 3);
    assert_int_equal(r->smtp.nfindings, 0);
    assert_int_equal(r->bytes_out, strlen("EHLO probe.test\r\nQUIT\r\n"));
    assert_int_equal(r->bytes_in, strlen("220 plain.test ESMTP scripted\r\n250-plain.test "
                                         "hello\r\n250-PIPELINING\r\n250 SIZE 1000\r\n221 "
                                         "2.0.0 bye\r\n"));
    assert_true(r->elapsed_ms >= 0 && r->elapsed_ms < 3000);
    probe_report_free(r);
}

/* STARTTLS with TLS 1.3: session parameters, SNI as the server saw it, chain, staple */
static void test_starttls(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .sni = SRV_NAME ".",
                        .want_ocsp_staple = 1, .phase_timeout_ms = 3000};
    srv_o.staple = "fake-ocsp-response";
    probe_report *r = run_script(script_starttls, &cfg);
    srv_o.staple = NULL;
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_OK_TLS);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_POST_TLS_EHLO);
    assert_true(r->smtp.starttls_offered);
    assert_true(r->smtp.starttls_attempted);
    assert_int_equal(r->smtp.starttls.code, 220);
    assert_true(r->tls_attempted);
    assert_true(r->tls_ok);
    assert_int_equal(r->smtp.injected_bytes, 0);
    assert_string_equal(r->tls.version, "TLSv1.3");
    assert_string_equal(r->tls.cipher, "TLS_AES_256_GCM_SHA384");
    assert_string_equal(r->tls.group, "X25519");
    assert_string_equal(r->tls.peer_key_type, "EC");
    assert_int_equal(r->tls.peer_key_bits, 256);
    assert_string_equal(r->tls.sni_sent, SRV_NAME); /* trailing dot removed (RFC 6066 §3) */
    assert_null(r->tls.error);
    assert_int_equal(sk_X509_num(r->tls.chain), 1);
    assert_int_equal(X509_cmp(sk_X509_value(r->tls.chain, 0), srv_cert), 0);
    char *subj = chain_subject(r, 0);
    assert_string_equal(subj, "CN=" SRV_NAME ",O=mxtls test");
    free(subj);
    assert_int_equal(r->tls.ocsp_staple_len, strlen("fake-ocsp-response"));
    assert_memory_equal(r->tls.ocsp_staple, "fake-ocsp-response", r->tls.ocsp_staple_len);
    /* the server echoes the SNI it received in its EHLO over TLS */
    assert_string_equal(r->smtp.post_tls.ehlo.lines.v[0], SRV_NAME " sni=" SRV_NAME);
    assert_true(r->smtp.post_tls.esmtp);
    assert_false(r->smtp.post_tls.caps.ext & EHLO_STARTTLS);
    assert_int_equal(r->smtp.quit_code, 221);
    assert_int_equal(r->smtp.nfindings, 0);
    probe_report_free(r);
}

/* TLS 1.2 and no SNI: the other names, and nothing in the server_name extension */
static void test_tls12_no_sni(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test"};
    srv_o.max_version = TLS1_2_VERSION;
    probe_report *r = run_script(script_starttls, &cfg);
    srv_o.max_version = 0;
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_OK_TLS);
    assert_string_equal(r->tls.version, "TLSv1.2");
    assert_string_equal(r->tls.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
    assert_string_equal(r->tls.group, "X25519");
    assert_null(r->tls.sni_sent);
    assert_null(r->tls.ocsp_staple); /* not requested */
    assert_string_equal(r->smtp.post_tls.ehlo.lines.v[0], SRV_NAME " sni=none");
    probe_report_free(r);
}

/* RFC 3207 §5: plaintext after the 220 is discarded, reported, and the
 * handshake still succeeds */
static void test_injection(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .sni = SRV_NAME};
    srv_o.inject = 1;
    probe_report *r = run_script(script_starttls, &cfg);
    srv_o.inject = 0;
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_OK_TLS);
    assert_true(r->tls_ok);
    assert_int_equal(r->smtp.injected_bytes, 14);
    assert_int_equal(r->smtp.injected_head_len, 14);
    assert_memory_equal(r->smtp.injected_head, "250 injected\r\n", 14);
    assert_int_equal(r->smtp.nfindings, 1);
    assert_string_equal(r->smtp.findings[0].code, "starttls-injection");
    assert_int_equal(r->smtp.findings[0].phase, SMTP_PHASE_TLS_HANDSHAKE);
    /* the injected 250 was not taken as the reply to the EHLO over TLS */
    assert_string_equal(r->smtp.post_tls.ehlo.lines.v[0], SRV_NAME " sni=" SRV_NAME);

    char *text = probe_report_text(r, 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "  injection      14 bytes before the handshake, discarded: "
                                 "\"250 injected\\r\\n\"\n"));
    assert_non_null(strstr(text, "starttls-injection (tls-handshake)"));
    free(text);
    jsonw w;
    jw_init(&w);
    probe_report_json(&w, r);
    char *json = jw_finish(&w);
    assert_non_null(json);
    assert_true(tj_valid(json));
    assert_string_equal(tj_raw(json, "injection.bytes"), "14");
    assert_string_equal(tj_str(json, "injection.head"), "250 injected\\r\\n");
    assert_string_equal(tj_str(json, "findings[0].code"), "starttls-injection");
    free(json);
    probe_report_free(r);
}

/* the server reads our ClientHello and closes (or resets) without a TLS
 * byte: tls-failed, worded as a drop before the ClientHello left is */
static void test_close_mid_handshake(void **state)
{
    static const struct {
        srv_fn fn;
        const char *error;
    } cases[] = {
        {script_close_handshake,
         "the server dropped the connection before answering the ClientHello"},
        {script_reset_after_client_hello,
         "the server dropped the connection before answering the ClientHello"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .sni = SRV_NAME};
        probe_report *r = run_script(cases[i].fn, &cfg);
        assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_TLS_FAILED);
        assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_TLS_HANDSHAKE);
        assert_true(r->tls_attempted);
        assert_false(r->tls_ok);
        assert_non_null(r->tls.error);
        assert_string_equal(r->tls.error, cases[i].error);
        assert_string_equal(r->tls.sni_sent, SRV_NAME);
        assert_null(r->tls.version);
        assert_null(r->tls.chain);
        assert_int_equal(r->smtp.quit_status, SMTP_QUIT_NOT_SENT);
        probe_report_free(r);
    }
}

/* a close right after the 220 to STARTTLS: one outcome, whether the EOF is
 * seen before the ClientHello or inside the handshake */
static void test_close_after_220(void **state)
{
    for (int i = 0; i < 20; i++) {
        probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .sni = SRV_NAME};
        probe_report *r = run_script(script_close_after_220, &cfg);
        assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_TLS_FAILED);
        assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_TLS_HANDSHAKE);
        assert_true(r->connected);
        assert_true(r->tls_attempted);
        assert_false(r->tls_ok);
        assert_non_null(r->tls.error);
        /* a close, or a reset when our ClientHello reached the server before
         * its close (the kernel resets a socket closed with unread data):
         * the same words every run, and the SNI is shown */
        assert_string_equal(r->tls.error,
                            "the server dropped the connection before answering the ClientHello");
        assert_string_equal(r->tls.sni_sent, SRV_NAME);
        assert_int_equal(r->smtp.quit_status, SMTP_QUIT_NOT_SENT);
        probe_report_free(r);
    }
}

/* a reset right after accept: a lost connection in the greeting phase, never
 * a connect failure */
static void test_reset_at_accept(void **state)
{
    for (int i = 0; i < 20; i++) {
        probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test"};
        probe_report *r = run_script(script_reset_at_accept, &cfg);
        assert_true(r->connected);
        assert_null(r->connect_error);
        assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_CONNECTION_CLOSED);
        assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_BANNER);
        probe_report_free(r);
    }
}

/* renegotiation is refused (SSL_OP_NO_RENEGOTIATION, as Postfix): the server
 * that insists ends the session; the TLS session itself was fine */
static void test_renegotiation_refused(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .sni = SRV_NAME};
    srv_o.max_version = TLS1_2_VERSION;
    probe_report *r = run_script(script_renegotiate, &cfg);
    srv_o.max_version = 0;
    assert_true(r->tls_ok);
    assert_string_equal(r->tls.version, "TLSv1.2");
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_CONNECTION_CLOSED);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_POST_TLS_EHLO);
    assert_non_null(r->tls.error);
    assert_non_null(strstr(r->tls.error, "alert"));
    probe_report_free(r);
}

/* nothing listens: connect-failed, reported from the loop */
static void test_connection_refused(void **state)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    socklen_t len = sizeof sin;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd); /* bound, never listened: the port refuses */
    probe_config cfg = {.ip = "127.0.0.1", .port = ntohs(sin.sin_port), .ehlo_name = "probe.test"};
    probe_report *r = run_probe(&cfg);
    assert_false(r->connected);
    assert_string_equal(r->connect_error, "connection refused");
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_NONE);
    assert_string_equal(probe_report_outcome(r), "connect-failed");
    assert_string_equal(probe_report_phase(r), "connect");
    assert_int_equal(r->bytes_in + r->bytes_out, 0);
    char *text = probe_report_text(r, 0);
    assert_non_null(strstr(text, "  connect        failed: connection refused\n"));
    assert_non_null(strstr(text, "  outcome        connect-failed in connect\n"));
    free(text);
    probe_report_free(r);
}

/* a server that accepts and never greets: the phase deadline ends the banner phase */
static void test_phase_timeout(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .phase_timeout_ms = 300,
                        .total_timeout_ms = 5000};
    probe_report *r = run_script(script_silent, &cfg);
    assert_true(r->connected);
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_TIMEOUT);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_BANNER);
    assert_string_equal(r->smtp.reason,
                        "timed out waiting for the greeting (phase timeout of 300 ms)");
    assert_true(r->elapsed_ms >= 290);
    assert_true(r->elapsed_ms < 1500);
    probe_report_free(r);
}

/* a trickling greeting cannot stretch the probe beyond its total deadline */
static void test_total_deadline(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .phase_timeout_ms = 5000,
                        .total_timeout_ms = 400};
    probe_report *r = run_script(script_trickle, &cfg);
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_TIMEOUT);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_BANNER);
    assert_non_null(strstr(r->smtp.reason, "(probe deadline of 400 ms)"));
    assert_true(r->bytes_in >= 5);
    assert_true(r->elapsed_ms >= 390 && r->elapsed_ms < 1500);
    probe_report_free(r);
}

/* the handshake has its own phase deadline */
static void test_handshake_timeout(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .phase_timeout_ms = 300};
    probe_report *r = run_script(script_stall_handshake, &cfg);
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_TIMEOUT);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_TLS_HANDSHAKE);
    assert_true(r->tls_attempted);
    assert_false(r->tls_ok);
    assert_string_equal(r->tls.error, "the handshake did not finish within 300 ms");
    probe_report_free(r);
}

/* RFC 8314 implicit TLS: handshake first, then greeting and EHLO over TLS */
static void test_implicit_tls(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .sni = SRV_NAME,
                        .implicit_tls = 1};
    probe_report *r = run_script(script_implicit, &cfg);
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_OK_TLS);
    assert_true(r->smtp.implicit_tls);
    assert_true(r->tls_ok);
    assert_string_equal(r->tls.version, "TLSv1.3");
    assert_int_equal(r->smtp.banner.code, 220);
    assert_string_equal(r->greeting_host, SRV_NAME);
    assert_false(r->smtp.pre_tls.ehlo_sent);
    assert_false(r->smtp.starttls_attempted);
    assert_int_equal(r->smtp.post_tls.ehlo.code, 250);
    assert_string_equal(r->smtp.post_tls.ehlo.lines.v[0], SRV_NAME " sni=" SRV_NAME);
    char *text = probe_report_text(r, 0);
    assert_non_null(strstr(text, "port "));
    assert_non_null(strstr(text, "(implicit TLS)"));
    assert_non_null(strstr(text, "  tls            TLSv1.3, TLS_AES_256_GCM_SHA384, group X25519\n"));
    free(text);
    probe_report_free(r);
}

/* a server resetting right after 221: our close_notify must not raise SIGPIPE */
static void test_reset_after_quit(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .implicit_tls = 1};
    srv_o.rst_after_quit = 1;
    probe_report *r = run_script(script_implicit, &cfg);
    srv_o.rst_after_quit = 0;
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_OK_TLS);
    assert_int_equal(r->smtp.quit_code, 221);
    probe_report_free(r);
}

/* hostile peers end within the machine's limits */
static void test_hostile(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .phase_timeout_ms = 3000};
    probe_report *r = run_script(script_endless, &cfg);
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_LIMIT_EXCEEDED);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_EHLO);
    assert_int_equal(r->smtp.quit_status, SMTP_QUIT_NOT_SENT);
    probe_report_free(r);

    r = run_script(script_garbage, &cfg);
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_PROTOCOL_ERROR);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_BANNER);
    assert_int_equal(r->smtp.error.line, 1);
    probe_report_free(r);

    r = run_script(script_close_after_banner, &cfg);
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_CONNECTION_CLOSED);
    assert_int_equal(r->smtp.outcome_phase, SMTP_PHASE_EHLO);
    probe_report_free(r);
}

/* test_ipv6 - the same dialogue over [::1] when this host has IPv6 loopback */
static void test_ipv6(void **state)
{
    struct srv s;
    int lfd = srv_listen(AF_INET6, &s.port);
    if (lfd < 0)
        skip();
    srv_start_on(&s, lfd, script_plain);
    probe_config cfg = {.ip = "::1", .port = s.port, .ehlo_name = "probe.test"};
    probe_report *r = run_probe(&cfg);
    srv_stop(&s);
    assert_true(r->connected);
    assert_string_equal(r->ip, "::1");
    assert_int_equal(r->smtp.outcome, SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS);
    char *text = probe_report_text(r, 0);
    assert_non_null(strstr(text, "probe [::1] port "));
    free(text);
    probe_report_free(r);
}

/* cancel before the loop runs, while waiting for the greeting, and mid-handshake */
struct cancel_ctx {
    probe *p;
    struct event_base *base;
};

/* cancel_cb - timer: cancel the probe in flight */
static void cancel_cb(evutil_socket_t fd, short what, void *arg)
{
    struct cancel_ctx *c = arg;
    probe_cancel(c->p);
}

/* cancel_after - probe a server running fn and cancel after ms: no callback */
static void cancel_after(srv_fn fn, int ms)
{
    struct srv s;
    srv_start(&s, fn);
    probe_config cfg = {.ip = "127.0.0.1", .port = s.port, .ehlo_name = "probe.test"};
    struct event_base *base = event_base_new();
    struct done d = {0};
    err_rec e;
    struct cancel_ctx c = {probe_start(base, cli_ctx, &cfg, on_done, &d, &e), base};
    assert_non_null(c.p);
    struct event *t = evtimer_new(base, cancel_cb, &c);
    struct timeval tv = {0, ms * 1000};
    evtimer_add(t, &tv);
    event_base_dispatch(base); /* ends when the cancelled probe left no events */
    assert_int_equal(d.calls, 0);
    event_free(t);
    event_base_free(base);
    srv_stop(&s);
}

/* test_cancel - cancel at once, while waiting for the banner, mid-handshake */
static void test_cancel(void **state)
{
    /* at once: nothing ran, nothing is reported, nothing leaks */
    struct event_base *base = event_base_new();
    struct done d = {0};
    err_rec e;
    probe_config cfg = {.ip = "127.0.0.1", .port = 9, .ehlo_name = "probe.test"};
    probe *p = probe_start(base, cli_ctx, &cfg, on_done, &d, &e);
    assert_non_null(p);
    probe_cancel(p);
    event_base_dispatch(base);
    assert_int_equal(d.calls, 0);
    event_base_free(base);
    probe_cancel(NULL);

    cancel_after(script_silent, 150);          /* waiting for the banner */
    cancel_after(script_stall_handshake, 200); /* with an SSL object in the handshake */
}

/* invalid configurations are refused by probe_start with a reason */
static void test_invalid_config(void **state)
{
    struct event_base *base = event_base_new();
    struct done d = {0};
    err_rec e;
    probe_config cfg = {.ip = "mx.example", .ehlo_name = "probe.test"};
    assert_null(probe_start(base, cli_ctx, &cfg, on_done, &d, &e));
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
    assert_non_null(strstr(e.message, "not an IPv4 or IPv6 address"));
    cfg.ip = "127.0.0.1";
    cfg.ehlo_name = "bad name";
    assert_null(probe_start(base, cli_ctx, &cfg, on_done, &d, &e));
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
    cfg.ehlo_name = "probe.test";
    cfg.sni = "192.0.2.1";
    assert_null(probe_start(base, cli_ctx, &cfg, on_done, &d, &e));
    assert_non_null(strstr(e.message, "RFC 6066"));
    cfg.sni = NULL;
    cfg.phase_timeout_ms = -1;
    assert_null(probe_start(base, cli_ctx, &cfg, on_done, &d, &e));
    assert_null(probe_start(base, NULL, &cfg, on_done, &d, &e));
    assert_int_equal(d.calls, 0);
    event_base_free(base);
}

/* many probes share one loop and one SSL_CTX */
#define CONCURRENT 64

/* test_concurrent - CONCURRENT TLS probes on one loop and one SSL_CTX all report */
static void test_concurrent(void **state)
{
    struct srv s;
    srv_start(&s, script_starttls);
    struct event_base *base = event_base_new();
    struct done d[CONCURRENT] = {{0}};
    for (int i = 0; i < CONCURRENT; i++) {
        probe_config cfg = {.ip = "127.0.0.1", .port = s.port, .ehlo_name = "probe.test",
                            .sni = SRV_NAME};
        err_rec e;
        assert_non_null(probe_start(base, cli_ctx, &cfg, on_done, &d[i], &e));
    }
    event_base_dispatch(base);
    for (int i = 0; i < CONCURRENT; i++) {
        assert_int_equal(d[i].calls, 1);
        assert_int_equal(d[i].r->smtp.outcome, SMTP_OUTCOME_OK_TLS);
        probe_report_free(d[i].r);
    }
    event_base_free(base);
    srv_stop(&s);
}

/* the JSON document of a TLS probe: well-formed, the documented fields */
static void test_json(void **state)
{
    probe_config cfg = {.ip = "127.0.0.1", .ehlo_name = "probe.test", .sni = SRV_NAME};
    probe_report *r = run_script(script_starttls, &cfg);
    jsonw w;
    jw_init(&w);
    probe_report_json(&w, r);
    char *json = jw_finish(&w);
    assert_non_null(json);
    assert_true(tj_valid(json));
    assert_string_equal(tj_str(json, "ip"), "127.0.0.1");
    assert_string_equal(tj_raw(json, "connected"), "true");
    assert_string_equal(tj_str(json, "outcome"), "ok-tls");
    assert_string_equal(tj_str(json, "outcome_phase"), "post-tls-ehlo");
    assert_string_equal(tj_raw(json, "banner.code"), "220");
    assert_string_equal(tj_str(json, "greeting_host"), SRV_NAME);
    assert_string_equal(tj_str(json, "ehlo_pre_tls.extensions[0]"), "STARTTLS");
    assert_string_equal(tj_raw(json, "starttls.offered"), "true");
    assert_string_equal(tj_raw(json, "starttls.reply.code"), "220");
    assert_string_equal(tj_str(json, "tls.version"), "TLSv1.3");
    assert_string_equal(tj_str(json, "tls.group"), "X25519");
    assert_string_equal(tj_str(json, "tls.peer_key.type"), "EC");
    assert_string_equal(tj_raw(json, "tls.peer_key.bits"), "256");
    assert_string_equal(tj_str(json, "tls.sni"), SRV_NAME);
    assert_int_equal(tj_len(json, "tls.chain"), 1);
    assert_string_equal(tj_str(json, "tls.chain[0].subject"), "CN=" SRV_NAME ",O=mxtls test");
    assert_string_equal(tj_str(json, "tls.ocsp_staple"), "(null)");
    assert_string_equal(tj_str(json, "tls.error"), "(null)");
    assert_string_equal(tj_raw(json, "ehlo_post_tls.ehlo.code"), "250");
    assert_string_equal(tj_str(json, "quit.status"), "replied");
    assert_string_equal(tj_raw(json, "quit.code"), "221");
    assert_int_equal(tj_len(json, "findings"), 0);
    assert_string_equal(tj_raw(json, "error"), "null");
    free(json);
    probe_report_free(r);
}

/* ---- fixture -------------------------------------------------------------- */

/* srv_status_cb - staple srv_o.staple when the client asks (RFC 6066 §8) */
static int srv_status_cb(SSL *s, void *arg)
{
    if (!srv_o.staple)
        return SSL_TLSEXT_ERR_NOACK;
    size_t n = strlen(srv_o.staple);
    unsigned char *d = OPENSSL_malloc(n);
    if (!d)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    memcpy(d, srv_o.staple, n);
    SSL_set_tlsext_status_ocsp_resp(s, d, (long)n);
    return SSL_TLSEXT_ERR_OK;
}

/* group_setup - server certificate and contexts, client context */
static int group_setup(void **state)
{
    tu_id ids[] = {{'C', SRV_NAME, 0}, {'D', SRV_NAME, 0}};
    srv_cert = tu_cert_make(ids, 2);
    srv_ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(srv_ctx);
    assert_int_equal(SSL_CTX_use_certificate(srv_ctx, srv_cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(srv_ctx, tu_key()), 1);
    SSL_CTX_set_tlsext_status_cb(srv_ctx, srv_status_cb);
    err_rec e;
    cli_ctx = probe_ssl_ctx_new(&e);
    assert_non_null(cli_ctx);
    return 0;
}

/* group_teardown - release the contexts and the test key */
static int group_teardown(void **state)
{
    SSL_CTX_free(cli_ctx);
    SSL_CTX_free(srv_ctx);
    X509_free(srv_cert);
    tu_cleanup();
    return 0;
}

/* main - the tests, in one group */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_tls12_no_sni),
        cmocka_unit_test(test_injection),
        cmocka_unit_test(test_close_mid_handshake),
        cmocka_unit_test(test_close_after_220),
        cmocka_unit_test(test_reset_at_accept),
        cmocka_unit_test(test_renegotiation_refused),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_phase_timeout),
        cmocka_unit_test(test_total_deadline),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_implicit_tls),
        cmocka_unit_test(test_reset_after_quit),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_invalid_config),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
