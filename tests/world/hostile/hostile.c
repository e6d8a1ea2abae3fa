/* hostile.c - misbehaving SMTP (and HTTPS) servers for the test world
 *
 *   hostile MODE ADDR PORT [CERT KEY]
 *   hostile --list
 *
 * One listening socket, one forked child per connection. Every child is bounded
 * in time (HOSTILE_CONN_SECONDS, enforced with alarm()) and in bytes, so a
 * client under test can never make us run away, and we can never hang a test
 * for longer than the cap. SIGTERM/SIGINT stop the listener and its children.
 *
 * A mode is one row of the table `modes` below: for each step of the dialogue
 * (greeting, EHLO, reply to STARTTLS, handshake, EHLO over TLS) what the
 * server does instead of behaving (an action of enum act), plus flags
 * (implicit TLS, TLS 1.2 only, a 100-certificate chain). Steps without an
 * action behave like a plain, well-formed SMTP server. `hostile --list`
 * prints every mode with its sentence; docs/world.md has the same table.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define HOSTILE_CONN_SECONDS 60          /* hard cap on one connection */
#define HOSTILE_MAX_CHILDREN 64          /* concurrent connections */
#define HOSTILE_LINE_MAX 1024            /* command line cap (RFC 5321: 512) */
#define HOSTILE_MAX_COMMANDS 200         /* commands per connection */
#define HOSTILE_ENDLESS_BYTES (16u << 20) /* endless reply / body cap */
#define HOSTILE_GARBAGE_BYTES 8192       /* garbage greeting size */
#define HOSTILE_DATA_MAX (1u << 20)      /* message body and sink cap */
#define HOSTILE_CHAIN_FILLERS 100        /* extra certificates of chain100 */

/* Steps of the dialogue, in the order a STARTTLS client meets them; with
 * implicit TLS the handshake comes first and there is no STARTTLS. */
enum step { S_BANNER, S_EHLO, S_STARTTLS, S_HANDSHAKE, S_TLS_EHLO, S_N };

/* What the server does at a step. A_OK (zero) is "behave". */
enum act {
    A_OK = 0,
    A_4XX,       /* refuse temporarily: 421 (greeting, EHLO), 454 (STARTTLS); the
                    dialogue goes on (QUIT gets 221) */
    A_5XX,       /* refuse: 554 (greeting, EHLO and HELO), 554 5.7.3 (STARTTLS) */
    A_CLOSE,     /* close the connection (FIN) instead of answering; in the
                    handshake step: right after the 220, before any TLS byte */
    A_RESET,     /* reset the connection (RST) instead of answering */
    A_SILENT,    /* say nothing; read and drop what comes until the client goes */
    A_GARBAGE,   /* 8 KiB of binary bytes instead of the greeting */
    A_TRICKLE,   /* the greeting one byte per second, never ending */
    A_ENDLESS,   /* an endless "250-" reply to EHLO/HELO */
    A_INJECT,    /* "220 Ready" and "250 injected" in one write, then TLS */
    A_HALF,      /* handshake: read the ClientHello, send half of the first
                    flight, close (FIN) */
    A_HALF_RESET, /* the same, then reset (RST) */
    A_ALERT,     /* handshake: read the ClientHello, answer with a fatal
                    handshake_failure alert, close */
    A_RENEGOTIATE, /* EHLO over TLS: request renegotiation (HelloRequest, TLS
                      1.2) before answering; answer only if the client
                      renegotiates, else close */
    A_HTTP_STALL,  /* (implicit TLS) read an HTTP request, never answer */
    A_HTTP_ENDLESS /* (implicit TLS) answer 200 with a body that never ends */
};

#define F_CERT 1u      /* needs CERT KEY */
#define F_IMPLICIT 2u  /* TLS on connect (port 465, or HTTPS) */
#define F_TLS12 4u     /* TLS 1.2 at most (renegotiation exists only there) */
#define F_CHAIN100 8u  /* send HOSTILE_CHAIN_FILLERS extra certificates */
#define F_DNS 16u      /* a DNS server (UDP and TCP) instead of SMTP: see dns_answer */
#define F_REQUIRETLS 32u /* list REQUIRETLS (RFC 8689) in the EHLO reply over TLS */

struct mode_def {
    const char *name;
    unsigned flags;
    enum act at[S_N];
    const char *what;
};

#define TLS_MODE(n, f, step, a, w) {n, F_CERT | (f), {[step] = a}, w}

static const struct mode_def modes[] = {
    /* the original five */
    {"inject", F_CERT, {[S_STARTTLS] = A_INJECT},
     "\"250 injected\" right after \"220 Ready to start TLS\", in the same segment"},
    {"trickle", 0, {[S_BANNER] = A_TRICKLE}, "the greeting, one byte per second, never ends"},
    {"garbage", 0, {[S_BANNER] = A_GARBAGE}, "binary garbage instead of a greeting"},
    {"endless", 0, {[S_EHLO] = A_ENDLESS}, "the EHLO reply is an endless 250- reply"},
    {"close-handshake", 0, {[S_HANDSHAKE] = A_HALF},
     "reads the ClientHello, sends half of its first flight, closes"},
    /* greeting */
    {"banner-421", 0, {[S_BANNER] = A_4XX}, "421 greeting"},
    {"banner-554", 0, {[S_BANNER] = A_5XX}, "554 greeting"},
    {"banner-close", 0, {[S_BANNER] = A_CLOSE}, "closes at once, no greeting"},
    {"banner-reset", 0, {[S_BANNER] = A_RESET}, "resets at once, no greeting"},
    /* EHLO before TLS */
    {"ehlo-421", 0, {[S_EHLO] = A_4XX}, "EHLO answered 421"},
    {"ehlo-554", 0, {[S_EHLO] = A_5XX}, "EHLO and HELO answered 554"},
    {"ehlo-close", 0, {[S_EHLO] = A_CLOSE}, "closes instead of answering EHLO"},
    {"ehlo-reset", 0, {[S_EHLO] = A_RESET}, "resets instead of answering EHLO"},
    /* STARTTLS */
    TLS_MODE("starttls-454", 0, S_STARTTLS, A_4XX, "STARTTLS offered, answered 454"),
    TLS_MODE("starttls-554", 0, S_STARTTLS, A_5XX, "STARTTLS offered, answered 554"),
    TLS_MODE("starttls-close", 0, S_STARTTLS, A_CLOSE, "closes instead of answering STARTTLS"),
    TLS_MODE("starttls-reset", 0, S_STARTTLS, A_RESET, "resets instead of answering STARTTLS"),
    /* the handshake after "220 Ready to start TLS" */
    TLS_MODE("after-220-close", 0, S_HANDSHAKE, A_CLOSE, "220 to STARTTLS, then closes at once"),
    TLS_MODE("after-220-reset", 0, S_HANDSHAKE, A_RESET, "220 to STARTTLS, then resets at once"),
    TLS_MODE("handshake-reset", 0, S_HANDSHAKE, A_HALF_RESET,
             "half of its first handshake flight, then a reset"),
    TLS_MODE("handshake-alert", 0, S_HANDSHAKE, A_ALERT,
             "a fatal handshake_failure alert instead of the ServerHello"),
    TLS_MODE("handshake-silent", 0, S_HANDSHAKE, A_SILENT,
             "reads the ClientHello and says nothing (a handshake that never ends)"),
    /* EHLO over TLS */
    TLS_MODE("tls-ehlo-421", 0, S_TLS_EHLO, A_4XX, "EHLO over TLS answered 421"),
    TLS_MODE("tls-ehlo-554", 0, S_TLS_EHLO, A_5XX, "EHLO and HELO over TLS answered 554"),
    TLS_MODE("tls-ehlo-close", 0, S_TLS_EHLO, A_CLOSE, "closes instead of answering EHLO over TLS"),
    TLS_MODE("tls-ehlo-reset", 0, S_TLS_EHLO, A_RESET, "resets instead of answering EHLO over TLS"),
    TLS_MODE("tls-ehlo-silent", 0, S_TLS_EHLO, A_SILENT,
             "TLS up, then the EHLO over TLS is never answered (bench/probe_mem holds probes there)"),
    TLS_MODE("renegotiate", F_TLS12, S_TLS_EHLO, A_RENEGOTIATE,
             "TLS 1.2; asks for renegotiation before answering EHLO over TLS"),
    {"requiretls", F_CERT | F_REQUIRETLS, {A_OK},
     "a clean STARTTLS dialogue that lists REQUIRETLS after STARTTLS (Postfix 3.7 cannot)"},
    {"chain100", F_CERT | F_CHAIN100, {A_OK},
     "a clean dialogue whose chain carries 100 extra self-signed certificates"},
    /* implicit TLS (port 465): the handshake works, the dialogue does not */
    TLS_MODE("implicit-554", F_IMPLICIT, S_BANNER, A_5XX, "TLS, then a 554 greeting"),
    TLS_MODE("implicit-close", F_IMPLICIT, S_BANNER, A_CLOSE, "TLS, then closes"),
    TLS_MODE("implicit-garbage", F_IMPLICIT, S_BANNER, A_GARBAGE, "TLS, then binary garbage"),
    TLS_MODE("implicit-silent", F_IMPLICIT, S_BANNER, A_SILENT, "TLS, then silence"),
    TLS_MODE("implicit-ehlo-554", F_IMPLICIT, S_TLS_EHLO, A_5XX,
             "TLS, a 220 greeting, EHLO and HELO answered 554"),
    TLS_MODE("implicit-alert", F_IMPLICIT, S_HANDSHAKE, A_ALERT,
             "a fatal alert instead of the ServerHello"),
    /* DNS: name servers of delegations (records.txt) that misbehave; the
     * step does not matter, the action says how every query is answered */
    {"dns-refused", F_DNS, {[S_BANNER] = A_4XX},
     "DNS: REFUSED to every query (a lame delegation)"},
    {"dns-truncated", F_DNS, {[S_BANNER] = A_CLOSE},
     "DNS: TC=1 and no records over UDP, the TCP connection closed at once"},
    {"dns-malformed", F_DNS, {[S_BANNER] = A_GARBAGE},
     "DNS: an answer whose owner name is a compression pointer to itself"},
    {"dns-oversized", F_DNS, {[S_BANNER] = A_ENDLESS},
     "DNS: MX 10 mx.good.test. plus about 4 KiB of additional records, over UDP too"},
    /* HTTPS, for an MTA-STS policy fetcher */
    TLS_MODE("https-stall", F_IMPLICIT, S_BANNER, A_HTTP_STALL,
             "HTTPS: reads the request, never answers"),
    TLS_MODE("https-endless", F_IMPLICIT, S_BANNER, A_HTTP_ENDLESS,
             "HTTPS: 200 with a body that never ends (capped at 16 MiB)"),
};

static volatile sig_atomic_t stop_requested;
static pid_t children[HOSTILE_MAX_CHILDREN];
static const char *progname = "hostile";

/* conn - one client connection, plaintext or TLS, with a line buffer */
struct conn {
    int fd;
    SSL *ssl;
    char buf[4096];
    size_t len;
    const char *name; /* host name we claim in the greeting and EHLO */
    const struct mode_def *m;
    SSL_CTX *ctx;
    int refused;      /* the greeting refused the session: only QUIT is welcome */
};

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", progname);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static enum act act_at(const struct conn *c, enum step s)
{
    return c->m->at[s];
}

/* conn_write - write all bytes; -1 when the peer is gone */
static int conn_write(struct conn *c, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w;
        if (c->ssl) {
            int r = SSL_write(c->ssl, s, n > 16384 ? 16384 : (int)n);
            if (r <= 0)
                return -1;
            w = r;
        } else {
            w = write(c->fd, s, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int conn_puts(struct conn *c, const char *s)
{
    return conn_write(c, s, strlen(s));
}

/* conn_printf - one formatted reply */
static int conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int conn_printf(struct conn *c, const char *fmt, ...)
{
    char buf[HOSTILE_LINE_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return conn_puts(c, buf);
}

/* conn_fill - read more bytes into the buffer; 0 on EOF/error */
static ssize_t conn_fill(struct conn *c)
{
    if (c->len >= sizeof c->buf)
        return 0;
    for (;;) {
        ssize_t r;
        if (c->ssl) {
            int n = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len));
            r = n > 0 ? n : 0;
        } else {
            r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                r = 0;
        }
        c->len += (size_t)r;
        return r;
    }
}

/* conn_getline - one CRLF-terminated line without the terminator, at most
 * HOSTILE_LINE_MAX bytes; returns length, -1 on EOF or overlong line */
static ssize_t conn_getline(struct conn *c, char *out, size_t outsz)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf) + 1;
            size_t l = n - 1;
            if (l > 0 && c->buf[l - 1] == '\r')
                l--;
            if (l >= outsz || l > HOSTILE_LINE_MAX)
                return -1;
            memcpy(out, c->buf, l);
            out[l] = '\0';
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            return (ssize_t)l;
        }
        if (c->len > HOSTILE_LINE_MAX)
            return -1;
        if (conn_fill(c) <= 0)
            return -1;
    }
}

/* conn_reset - end the connection with a RST (SO_LINGER 0), no close_notify */
static void conn_reset(struct conn *c)
{
    struct linger l = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);
    c->fd = -1;
}

/* conn_sink - read and drop the client's bytes (raw, TLS records too) until
 * it goes away, HOSTILE_DATA_MAX bytes, or the alarm */
static void conn_sink(struct conn *c)
{
    char sink[1024];
    size_t total = 0;
    for (;;) {
        ssize_t r = read(c->fd, sink, sizeof sink);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (total += (size_t)r) > HOSTILE_DATA_MAX)
            return;
    }
}

/* read_client_hello - whatever arrives within 10 s; one read is enough for a
 * test (the ClientHello is one record, far below a loopback segment) */
static ssize_t read_client_hello(struct conn *c, char *in, size_t n)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0)
        return -1;
    ssize_t r = read(c->fd, in, n);
    return r > 0 ? r : -1;
}

static int verb_is(const char *line, const char *verb)
{
    size_t n = strlen(verb);
    return strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

/* reply_endless - a "250-" reply that never ends, until the byte or time cap */
static void reply_endless(struct conn *c)
{
    char line[128];
    size_t sent = 0;
    unsigned long i = 0;
    snprintf(line, sizeof line, "250-%s greets you, at length\r\n", c->name);
    if (conn_puts(c, line) < 0)
        return;
    while (sent < HOSTILE_ENDLESS_BYTES && !stop_requested) {
        int n = snprintf(line, sizeof line, "250-XENDLESS-%08lu this reply does not end\r\n", i++);
        if (conn_write(c, line, (size_t)n) < 0)
            return;
        sent += (size_t)n;
    }
}

/* send_garbage - HOSTILE_GARBAGE_BYTES binary bytes, starting 00 ff */
static int send_garbage(struct conn *c)
{
    unsigned char g[HOSTILE_GARBAGE_BYTES];
    unsigned int x = (unsigned int)time(NULL) ^ (unsigned int)getpid();
    for (size_t i = 0; i < sizeof g; i++) {
        x = x * 1103515245u + 12345u; /* not crypto: just bytes */
        g[i] = (unsigned char)(x >> 16);
    }
    g[0] = 0x00; /* binary from the first byte */
    g[1] = 0xff;
    return conn_write(c, g, sizeof g);
}

/* break_handshake - read the ClientHello, send half of our first flight (or
 * nothing without a certificate), then the caller closes or resets */
static void break_handshake(struct conn *c)
{
    char in[16384];
    ssize_t n = read_client_hello(c, in, sizeof in);
    if (n <= 0 || !c->ctx)
        return;
    SSL *ssl = SSL_new(c->ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    if (!ssl || !rb || !wb) {
        SSL_free(ssl);
        BIO_free(rb);
        BIO_free(wb);
        return;
    }
    BIO_write(rb, in, (int)n);
    SSL_set_bio(ssl, rb, wb); /* ssl owns both BIOs now */
    SSL_set_accept_state(ssl);
    (void)SSL_do_handshake(ssl); /* WANT_READ after writing ServerHello.. */
    char *out = NULL;
    long olen = BIO_get_mem_data(wb, &out);
    if (olen > 1 && out)
        (void)conn_write(c, out, (size_t)olen / 2);
    SSL_free(ssl);
}

/* handshake - the server's side of the handshake, or the mode's twist on it;
 * 0 when TLS is up, -1 when the connection is to end (c->fd may be gone) */
static int handshake(struct conn *c)
{
    /* a fatal handshake_failure(40) alert in a TLS 1.0 record: what a server
     * sends when it cannot agree on anything */
    static const unsigned char alert[] = {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28};
    char in[16384];
    c->len = 0; /* never carry plaintext across the TLS boundary */
    switch (act_at(c, S_HANDSHAKE)) {
    case A_CLOSE:
        return -1;
    case A_RESET:
        conn_reset(c);
        return -1;
    case A_HALF:
        break_handshake(c);
        return -1;
    case A_HALF_RESET:
        break_handshake(c);
        conn_reset(c);
        return -1;
    case A_ALERT:
        if (read_client_hello(c, in, sizeof in) > 0)
            (void)conn_write(c, alert, sizeof alert);
        return -1;
    case A_SILENT:
        conn_sink(c);
        return -1;
    default:
        break;
    }
    if (!c->ctx)
        return -1;
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
        return -1;
    if (SSL_accept(c->ssl) != 1) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        return -1;
    }
    return 0;
}

/* renegotiate - TLS 1.2 HelloRequest; 0 once the client has renegotiated,
 * -1 when it refused (a no_renegotiation alert ends the session here, as in
 * OpenSSL's server) or went away */
static int renegotiate(struct conn *c)
{
    if (SSL_version(c->ssl) > TLS1_2_VERSION || SSL_renegotiate(c->ssl) != 1 ||
        SSL_do_handshake(c->ssl) != 1)
        return -1;
    /* Application data may still arrive first; keep it for the dialogue. */
    while (SSL_renegotiate_pending(c->ssl)) {
        if (c->len >= sizeof c->buf)
            return -1;
        int n = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof c->buf - c->len));
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
    return 0;
}

/* http_request - read request headers (up to the empty line, bounded) */
static int http_request(struct conn *c)
{
    char line[HOSTILE_LINE_MAX + 1];
    for (int i = 0; i < 100; i++) {
        ssize_t l = conn_getline(c, line, sizeof line);
        if (l < 0)
            return -1;
        if (l == 0)
            return 0;
    }
    return -1;
}

/* http_endless - a 200 response whose body never ends (capped) */
static void http_endless(struct conn *c)
{
    if (http_request(c) < 0 ||
        conn_puts(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                     "version: STSv1\r\nmode: enforce\r\nmax_age: 86400\r\n") < 0)
        return;
    char line[96];
    size_t sent = 0;
    for (unsigned long i = 0; sent < HOSTILE_ENDLESS_BYTES && !stop_requested; i++) {
        int n = snprintf(line, sizeof line, "mx: mx%08lu.endless.test\r\n", i);
        if (conn_write(c, line, (size_t)n) < 0)
            return;
        sent += (size_t)n;
    }
}

/* offers_starttls - before TLS, with a certificate, or when the mode's twist
 * comes at STARTTLS or in the handshake (close-handshake works without one) */
static int offers_starttls(const struct conn *c)
{
    return !c->ssl && !(c->m->flags & F_IMPLICIT) &&
           (c->ctx || act_at(c, S_STARTTLS) != A_OK || act_at(c, S_HANDSHAKE) != A_OK);
}

/* hello_reply - the reply to EHLO or HELO at this step (before or over TLS);
 * 0 to go on, -1 to end the connection */
static int hello_reply(struct conn *c, const char *line)
{
    int helo = verb_is(line, "HELO");
    enum step s = c->ssl ? S_TLS_EHLO : S_EHLO;
    switch (act_at(c, s)) {
    case A_4XX:
        return conn_printf(c, "421 4.3.2 %s hostile: try again later\r\n", c->name);
    case A_5XX:
        return conn_printf(c, "554 5.7.1 %s hostile: %s refused\r\n", c->name,
                           helo ? "HELO" : "EHLO");
    case A_CLOSE:
        return -1;
    case A_RESET:
        conn_reset(c);
        return -1;
    case A_SILENT:
        conn_sink(c);
        return -1;
    case A_ENDLESS:
        reply_endless(c);
        return -1;
    case A_RENEGOTIATE:
        if (renegotiate(c) < 0)
            return -1;
        break;
    default:
        break;
    }
    if (helo)
        return conn_printf(c, "250 %s\r\n", c->name);
    return conn_printf(c,
                       "250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n%s%s"
                       "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
                       c->name, offers_starttls(c) ? "250-STARTTLS\r\n" : "",
                       c->ssl && (c->m->flags & F_REQUIRETLS) ? "250-REQUIRETLS\r\n" : "");
}

/* starttls_reply - the reply to STARTTLS and the handshake after it;
 * 0 to go on (over TLS), -1 to end the connection */
static int starttls_reply(struct conn *c)
{
    switch (act_at(c, S_STARTTLS)) {
    case A_4XX:
        return conn_puts(c, "454 4.7.0 TLS not available due to temporary reason\r\n");
    case A_5XX:
        return conn_puts(c, "554 5.7.3 TLS refused\r\n");
    case A_CLOSE:
        return -1;
    case A_RESET:
        conn_reset(c);
        return -1;
    case A_SILENT:
        conn_sink(c);
        return -1;
    case A_INJECT:
        /* one write, so the injected reply shares the segment */
        if (conn_puts(c, "220 2.0.0 Ready to start TLS\r\n250 injected\r\n") < 0)
            return -1;
        return handshake(c);
    default:
        if (!c->ctx && act_at(c, S_HANDSHAKE) == A_OK)
            return conn_puts(c, "454 4.7.0 TLS not available\r\n");
        if (conn_puts(c, "220 2.0.0 Ready to start TLS\r\n") < 0)
            return -1;
        return handshake(c);
    }
}

/* dialogue - a minimal, well-formed SMTP server loop with the mode's twists */
static void dialogue(struct conn *c)
{
    char line[HOSTILE_LINE_MAX + 1];
    int commands = 0;

    while (commands++ < HOSTILE_MAX_COMMANDS && !stop_requested) {
        if (conn_getline(c, line, sizeof line) < 0) {
            (void)conn_puts(c, "500 5.5.0 line too long or connection lost\r\n");
            return;
        }
        if (verb_is(line, "QUIT")) {
            (void)conn_puts(c, "221 2.0.0 Bye\r\n");
            return;
        }
        if (c->refused) {
            /* RFC 5321 §3.1: after a 554 greeting, only QUIT */
            if (conn_puts(c, "503 5.5.1 Error: bad sequence of commands\r\n") < 0)
                return;
        } else if (verb_is(line, "EHLO") || verb_is(line, "HELO")) {
            if (hello_reply(c, line) < 0)
                return;
        } else if (verb_is(line, "STARTTLS") && !c->ssl) {
            if (starttls_reply(c) < 0)
                return;
        } else if (verb_is(line, "MAIL") || verb_is(line, "RCPT") || verb_is(line, "RSET") ||
                   verb_is(line, "NOOP")) {
            if (conn_puts(c, "250 2.0.0 Ok\r\n") < 0)
                return;
        } else if (verb_is(line, "DATA")) {
            size_t body = 0;
            if (conn_puts(c, "354 End data with <CR><LF>.<CR><LF>\r\n") < 0)
                return;
            for (;;) {
                ssize_t l = conn_getline(c, line, sizeof line);
                if (l < 0)
                    return;
                if (strcmp(line, ".") == 0)
                    break;
                body += (size_t)l + 2;
                if (body > HOSTILE_DATA_MAX) {
                    (void)conn_puts(c, "552 5.3.4 Message too big\r\n");
                    return;
                }
            }
            if (conn_puts(c, "250 2.0.0 Ok: discarded\r\n") < 0)
                return;
        } else {
            if (conn_puts(c, "502 5.5.2 Error: command not recognized\r\n") < 0)
                return;
        }
    }
}

/* trickle - one byte per second, never a CRLF (bounded by the cap) */
static void trickle(struct conn *c)
{
    char buf[256];
    snprintf(buf, sizeof buf,
             "220 %s ESMTP this greeting arrives one byte per second and does not end ", c->name);
    size_t i = 0, len = strlen(buf);
    for (int t = 0; t < HOSTILE_CONN_SECONDS && !stop_requested; t++) {
        char ch = i < len ? buf[i] : '.';
        if (conn_write(c, &ch, 1) < 0)
            return;
        i++;
        sleep(1);
    }
}

/* serve - one connection in the child process */
static void serve(struct conn *c)
{
    if ((c->m->flags & F_IMPLICIT) && handshake(c) < 0)
        return;
    switch (act_at(c, S_BANNER)) {
    case A_TRICKLE:
        trickle(c);
        return;
    case A_GARBAGE:
        if (send_garbage(c) == 0)
            conn_sink(c);
        return;
    case A_CLOSE:
        return;
    case A_RESET:
        conn_reset(c);
        return;
    case A_SILENT:
    case A_HTTP_STALL:
        if (act_at(c, S_BANNER) == A_HTTP_STALL)
            (void)http_request(c);
        conn_sink(c);
        return;
    case A_HTTP_ENDLESS:
        http_endless(c);
        return;
    case A_4XX:
        c->refused = 1;
        if (conn_printf(c, "421 4.3.2 %s hostile: service not available\r\n", c->name) < 0)
            return;
        break;
    case A_5XX:
        c->refused = 1;
        if (conn_printf(c, "554 5.3.2 %s hostile: no SMTP service here\r\n", c->name) < 0)
            return;
        break;
    default:
        if (conn_printf(c, "220 %s ESMTP hostile %s\r\n", c->name, c->m->name) < 0)
            return;
    }
    dialogue(c);
}

/* add_fillers - HOSTILE_CHAIN_FILLERS self-signed EC certificates appended
 * to the chain the server sends (after its own intermediate) */
static void add_fillers(SSL_CTX *ctx)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        die("cannot make a key for the chain fillers");
    for (int i = 0; i < HOSTILE_CHAIN_FILLERS; i++) {
        X509 *x = X509_new();
        X509_NAME *n = X509_NAME_new();
        char cn[64];
        snprintf(cn, sizeof cn, "hostile chain filler %d", i + 1);
        if (!x || !n || !X509_set_version(x, 2) ||
            !ASN1_INTEGER_set(X509_get_serialNumber(x), i + 1) ||
            !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                        0) ||
            !X509_set_subject_name(x, n) || !X509_set_issuer_name(x, n) ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -86400) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) || !X509_set_pubkey(x, k) ||
            !X509_sign(x, k, EVP_sha256()) || SSL_CTX_add1_chain_cert(ctx, x) != 1)
            die("cannot make chain filler %d", i + 1);
        X509_NAME_free(n);
        X509_free(x);
    }
    EVP_PKEY_free(k);
}

/* ---- DNS ------------------------------------------------------------------- */

#define DNS_MAX_MSG 65535 /* the TCP length prefix's limit */
#define DNS_PAD_RECORDS 180 /* additional A records of dns-oversized (~4 KiB) */

/* dns_put16 - big-endian 16 bits */
static size_t dns_put16(unsigned char *p, size_t off, unsigned v)
{
    p[off] = (unsigned char)(v >> 8);
    p[off + 1] = (unsigned char)v;
    return off + 2;
}

/* dns_answer - the mode's answer to the query q (len bytes) in out; its
 * length, or 0 to send nothing. tcp: the query came over TCP. Only the
 * header and the first question are read; everything is bounded. */
static size_t dns_answer(const struct mode_def *m, const unsigned char *q, size_t len, int tcp,
                         unsigned char *out, size_t outsz)
{
    if (len < 12 || outsz < 512)
        return 0;
    /* the question: labels up to the root, then type and class */
    size_t off = 12;
    while (off < len && q[off] != 0) {
        if (q[off] > 63)
            return 0; /* no compression in questions */
        off += (size_t)q[off] + 1;
    }
    if (off + 5 > len)
        return 0;
    size_t qend = off + 5, qlen = qend - 12;
    unsigned qtype = (unsigned)q[off + 1] << 8 | q[off + 2];
    if (qend > outsz)
        return 0;
    memcpy(out, q, qend);
    out[2] = (unsigned char)(0x80 | (q[2] & 0x79)); /* QR, opcode, RD kept; AA TC cleared */
    out[3] = 0;
    dns_put16(out, 4, 1); /* QDCOUNT */
    dns_put16(out, 6, 0);
    dns_put16(out, 8, 0);
    dns_put16(out, 10, 0); /* no EDNS in the answer */
    enum act a = m->at[S_BANNER];
    size_t o = 12 + qlen;
    switch (a) {
    case A_4XX: /* REFUSED */
        out[3] = 5;
        return o;
    case A_CLOSE: /* truncated */
        out[2] |= 0x02;
        return o;
    case A_GARBAGE: /* an answer whose owner is a pointer to itself */
        out[2] |= 0x04;
        dns_put16(out, 6, 1);
        o = dns_put16(out, o, 0xc000 | (unsigned)o); /* points at these two bytes */
        o = dns_put16(out, o, qtype);
        o = dns_put16(out, o, 1);
        o = dns_put16(out, o, 0);
        o = dns_put16(out, o, 300);
        o = dns_put16(out, o, 4);
        memcpy(out + o, "\x7f\x00\x02\x01", 4);
        return o + 4;
    case A_ENDLESS: { /* oversized: one MX, then padding in the additional section */
        static const unsigned char mxname[] = "\x02mx\x04good\x04test";
        out[2] |= 0x04;
        if (qtype == 15) {
            dns_put16(out, 6, 1);
            o = dns_put16(out, o, 0xc00c);
            o = dns_put16(out, o, 15);
            o = dns_put16(out, o, 1);
            o = dns_put16(out, o, 0);
            o = dns_put16(out, o, 300);
            o = dns_put16(out, o, 2 + sizeof mxname);
            o = dns_put16(out, o, 10);
            memcpy(out + o, mxname, sizeof mxname); /* includes the root label */
            o += sizeof mxname;
        }
        unsigned n = 0;
        for (; n < DNS_PAD_RECORDS && o + 32 < outsz; n++) {
            /* padNNN.<qname> A 192.0.2.N */
            char lab[8];
            int l = snprintf(lab, sizeof lab, "pad%03u", n);
            out[o++] = (unsigned char)l;
            memcpy(out + o, lab, (size_t)l);
            o += (size_t)l;
            o = dns_put16(out, o, 0xc00c);
            o = dns_put16(out, o, 1);
            o = dns_put16(out, o, 1);
            o = dns_put16(out, o, 0);
            o = dns_put16(out, o, 300);
            o = dns_put16(out, o, 4);
            out[o++] = 192, out[o++] = 0, out[o++] = 2, out[o++] = (unsigned char)n;
        }
        dns_put16(out, 10, n);
        (void)tcp; /* the same answer over UDP: larger than any EDNS buffer offered */
        return o;
    }
    default:
        out[3] = 2; /* SERVFAIL */
        return o;
    }
}

/* dns_udp - answer one datagram (in the listener: stateless and bounded) */
static void dns_udp(const struct mode_def *m, int ufd)
{
    unsigned char q[4096], out[8192];
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(ufd, q, sizeof q, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (n <= 0)
        return;
    size_t a = dns_answer(m, q, (size_t)n, 0, out, sizeof out);
    if (a)
        (void)sendto(ufd, out, a, MSG_DONTWAIT, (struct sockaddr *)&from, fl);
}

/* dns_tcp - one TCP connection (in a child): length-prefixed queries */
static void dns_tcp(struct conn *c)
{
    static unsigned char q[DNS_MAX_MSG], out[DNS_MAX_MSG];
    if (c->m->at[S_BANNER] == A_CLOSE)
        return; /* truncated over UDP, nothing over TCP */
    for (int i = 0; i < HOSTILE_MAX_COMMANDS; i++) {
        unsigned char hdr[2];
        if (recv(c->fd, hdr, 2, MSG_WAITALL) != 2)
            return;
        size_t len = (size_t)hdr[0] << 8 | hdr[1];
        if (len == 0 || recv(c->fd, q, len, MSG_WAITALL) != (ssize_t)len)
            return;
        size_t a = dns_answer(c->m, q, len, 1, out + 2, sizeof out - 2);
        if (!a)
            return;
        dns_put16(out, 0, (unsigned)a);
        if (conn_write(c, out, a + 2) < 0)
            return;
    }
}

static int udp_on(const char *addr, const char *port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(addr, port, &hints, &res);
    if (rc != 0)
        die("%s port %s: %s", addr, port, gai_strerror(rc));
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0)
        die("udp %s port %s: %s", addr, port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

static void reap(int *nchildren)
{
    pid_t p;
    while ((p = waitpid(-1, NULL, WNOHANG)) > 0) {
        for (int i = 0; i < HOSTILE_MAX_CHILDREN; i++) {
            if (children[i] == p) {
                children[i] = 0;
                (*nchildren)--;
            }
        }
    }
}

static int listen_on(const char *addr, const char *port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(addr, port, &hints, &res);
    if (rc != 0)
        die("%s port %s: %s", addr, port, gai_strerror(rc));
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0)
        die("listen %s port %s: %s", addr, port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: %s MODE ADDR PORT [CERT KEY]\n       %s --list\n", progname, progname);
}

int main(int argc, char **argv)
{
    const struct mode_def *m = NULL;
    SSL_CTX *ctx = NULL;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
            printf("%-18s %s%s\n", modes[i].name, modes[i].what,
                   modes[i].flags & F_CERT ? " (needs CERT KEY)" : "");
        return 0;
    }
    if (argc != 4 && argc != 6) {
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(argv[1], modes[i].name) == 0)
            m = &modes[i];
    if (!m)
        die("unknown mode '%s' (hostile --list shows them)", argv[1]);
    if ((m->flags & F_CERT) && argc != 6)
        die("mode %s needs CERT and KEY", m->name);

    if (argc == 6) {
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            ERR_print_errors_fp(stderr);
            die("cannot load certificate %s / key %s", argv[4], argv[5]);
        }
        if ((m->flags & F_TLS12) && SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1)
            die("cannot limit TLS to 1.2");
        if (m->flags & F_CHAIN100)
            add_fillers(ctx);
    }

    /* the greeting name: HOSTILE_NAME when set, else "MODE.hostile.test" */
    char name[256];
    const char *envname = getenv("HOSTILE_NAME");
    snprintf(name, sizeof name, "%s", envname && *envname ? envname : "");
    if (!name[0])
        snprintf(name, sizeof name, "%s.hostile.test", m->name);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: poll/accept return EINTR */
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = listen_on(argv[2], argv[3]);
    int ufd = (m->flags & F_DNS) ? udp_on(argv[2], argv[3]) : -1;
    int nchildren = 0;

    while (!stop_requested) {
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = ufd, .events = POLLIN}};
        reap(&nchildren);
        int r = poll(p, ufd >= 0 ? 2 : 1, 1000);
        if (r <= 0)
            continue;
        if (ufd >= 0 && (p[1].revents & POLLIN))
            dns_udp(m, ufd);
        if (!(p[0].revents & POLLIN))
            continue;
        int cfd = accept(lfd, NULL, NULL);
        if (cfd < 0)
            continue;
        if (nchildren >= HOSTILE_MAX_CHILDREN) {
            static const char busy[] = "421 4.3.2 too many connections\r\n";
            (void)!write(cfd, busy, sizeof busy - 1);
            close(cfd);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            struct conn c;
            memset(&c, 0, sizeof c);
            c.fd = cfd;
            c.name = name;
            c.m = m;
            c.ctx = ctx;
            close(lfd);
            if (ufd >= 0)
                close(ufd);
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
#ifdef __linux__
            prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
            alarm(HOSTILE_CONN_SECONDS);
            if (m->flags & F_DNS)
                dns_tcp(&c);
            else
                serve(&c);
            if (c.ssl) {
                SSL_shutdown(c.ssl);
                SSL_free(c.ssl);
            }
            if (c.fd >= 0)
                close(c.fd);
            _exit(0);
        }
        close(cfd);
        if (pid > 0) {
            for (int i = 0; i < HOSTILE_MAX_CHILDREN; i++) {
                if (children[i] == 0) {
                    children[i] = pid;
                    nchildren++;
                    break;
                }
            }
        }
    }

    /* stop: end every connection we still serve, wait for them (bounded) */
    close(lfd);
    if (ufd >= 0)
        close(ufd);
    for (int i = 0; i < HOSTILE_MAX_CHILDREN; i++)
        if (children[i] > 0)
            kill(children[i], SIGTERM);
    for (int tries = 0; tries < 50 && nchildren > 0; tries++) {
        reap(&nchildren);
        if (nchildren > 0)
            usleep(100000);
    }
    SSL_CTX_free(ctx);
    return 0;
}
