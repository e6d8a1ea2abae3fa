/* hostile.c - misbehaving SMTP servers for the test world
 *
 *   hostile MODE ADDR PORT [CERT KEY]
 *
 * One listening socket, one forked child per connection. Every child is bounded
 * in time (HOSTILE_CONN_SECONDS, enforced with alarm()) and in bytes, so a
 * client under test can never make us run away, and we can never hang a test
 * for longer than the cap. SIGTERM/SIGINT stop the listener and its children.
 *
 * Modes (what a robust SMTP client must survive):
 *   inject           offers STARTTLS; after "220 Ready to start TLS" sends
 *                    "250 injected" in the same segment, before the handshake
 *                    (the CVE-2011-0411 class: plaintext that must be discarded),
 *                    then does TLS and a normal EHLO dialogue. Needs CERT KEY.
 *   trickle          the greeting arrives one byte per second and never ends
 *                    (no CRLF before the time cap).
 *   garbage          binary garbage instead of a greeting, then waits for close.
 *   endless          normal greeting; the EHLO/HELO reply is an endless
 *                    multi-line "250-" reply (capped at HOSTILE_ENDLESS_BYTES).
 *   close-handshake  offers STARTTLS, then closes the connection in the middle
 *                    of the TLS handshake: it sends the first half of its first
 *                    handshake flight (with CERT KEY) or nothing, then closes.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/err.h>
#include <openssl/ssl.h>

#define HOSTILE_CONN_SECONDS 60          /* hard cap on one connection */
#define HOSTILE_MAX_CHILDREN 64          /* concurrent connections */
#define HOSTILE_LINE_MAX 1024            /* command line cap (RFC 5321: 512) */
#define HOSTILE_MAX_COMMANDS 200         /* commands per connection */
#define HOSTILE_ENDLESS_BYTES (16u << 20) /* endless reply cap */
#define HOSTILE_GARBAGE_BYTES 8192       /* garbage greeting size */
#define HOSTILE_DATA_MAX (1u << 20)      /* message body cap */

enum mode { M_INJECT, M_TRICKLE, M_GARBAGE, M_ENDLESS, M_CLOSE_HANDSHAKE };

struct mode_def {
    const char *name;
    enum mode mode;
    int needs_cert;
};

static const struct mode_def modes[] = {
    {"inject", M_INJECT, 1},
    {"trickle", M_TRICKLE, 0},
    {"garbage", M_GARBAGE, 0},
    {"endless", M_ENDLESS, 0},
    {"close-handshake", M_CLOSE_HANDSHAKE, 0},
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
    const char *name;  /* host name we claim in the greeting and EHLO */
    enum mode mode;
    SSL_CTX *ctx;
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

/* start_tls_server - server side handshake on the connection's socket */
static int start_tls_server(struct conn *c)
{
    c->ssl = SSL_new(c->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
        return -1;
    c->len = 0; /* never carry plaintext across the TLS boundary */
    if (SSL_accept(c->ssl) != 1) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        return -1;
    }
    return 0;
}

/* break_handshake - send half of our first handshake flight, then close */
static void break_handshake(struct conn *c)
{
    char in[16384];
    ssize_t n;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};

    /* ClientHello: whatever arrives within 10 s, one read is enough for a test */
    if (poll(&p, 1, 10000) <= 0)
        return;
    n = read(c->fd, in, sizeof in);
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

/* dialogue - a minimal, well-behaved SMTP server loop (plus the mode's twist) */
static void dialogue(struct conn *c)
{
    char line[HOSTILE_LINE_MAX + 1], buf[HOSTILE_LINE_MAX + 128];
    int commands = 0;

    while (commands++ < HOSTILE_MAX_COMMANDS && !stop_requested) {
        if (conn_getline(c, line, sizeof line) < 0) {
            (void)conn_puts(c, "500 5.5.0 line too long or connection lost\r\n");
            return;
        }
        if (verb_is(line, "EHLO") || verb_is(line, "HELO")) {
            if (c->mode == M_ENDLESS) {
                reply_endless(c);
                return;
            }
            if (verb_is(line, "HELO")) {
                snprintf(buf, sizeof buf, "250 %s\r\n", c->name);
            } else {
                snprintf(buf, sizeof buf,
                         "250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n%s"
                         "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
                         c->name, !c->ssl ? "250-STARTTLS\r\n" : "");
            }
            if (conn_puts(c, buf) < 0)
                return;
        } else if (verb_is(line, "STARTTLS") && !c->ssl) {
            if (c->mode == M_INJECT) {
                /* one write, so the injected reply shares the segment */
                if (conn_puts(c, "220 2.0.0 Ready to start TLS\r\n250 injected\r\n") < 0)
                    return;
                if (start_tls_server(c) < 0)
                    return;
            } else if (c->mode == M_CLOSE_HANDSHAKE) {
                if (conn_puts(c, "220 2.0.0 Ready to start TLS\r\n") < 0)
                    return;
                break_handshake(c);
                return;
            } else {
                (void)conn_puts(c, "454 4.7.0 TLS not available\r\n");
            }
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
        } else if (verb_is(line, "QUIT")) {
            (void)conn_puts(c, "221 2.0.0 Bye\r\n");
            return;
        } else {
            if (conn_puts(c, "502 5.5.2 Error: command not recognized\r\n") < 0)
                return;
        }
    }
}

/* serve - one connection in the child process */
static void serve(struct conn *c)
{
    char buf[256];

    switch (c->mode) {
    case M_TRICKLE: {
        snprintf(buf, sizeof buf,
                 "220 %s ESMTP this greeting arrives one byte per second and does not end ",
                 c->name);
        size_t i = 0, len = strlen(buf);
        /* bounded by alarm(); one byte per second, never a CRLF */
        for (int t = 0; t < HOSTILE_CONN_SECONDS && !stop_requested; t++) {
            char ch = i < len ? buf[i] : '.';
            if (conn_write(c, &ch, 1) < 0)
                return;
            i++;
            sleep(1);
        }
        return;
    }
    case M_GARBAGE: {
        unsigned char g[HOSTILE_GARBAGE_BYTES];
        unsigned int x = (unsigned int)time(NULL) ^ (unsigned int)getpid();
        for (size_t i = 0; i < sizeof g; i++) {
            x = x * 1103515245u + 12345u; /* not crypto: just bytes */
            g[i] = (unsigned char)(x >> 16);
        }
        g[0] = 0x00; /* make sure it is binary from the first byte */
        g[1] = 0xff;
        if (conn_write(c, g, sizeof g) < 0)
            return;
        /* drain whatever the client says until it gives up (bounded by alarm) */
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
    default:
        snprintf(buf, sizeof buf, "220 %s ESMTP hostile %s\r\n", c->name,
                 c->mode == M_INJECT ? "inject" : c->mode == M_ENDLESS ? "endless"
                                                                       : "close-handshake");
        if (conn_puts(c, buf) < 0)
            return;
        dialogue(c);
    }
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

int main(int argc, char **argv)
{
    const struct mode_def *m = NULL;
    SSL_CTX *ctx = NULL;

    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s MODE ADDR PORT [CERT KEY]\n"
                        "modes: inject trickle garbage endless close-handshake\n",
                progname);
        return 2;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(argv[1], modes[i].name) == 0)
            m = &modes[i];
    if (!m)
        die("unknown mode '%s'", argv[1]);
    if (m->needs_cert && argc != 6)
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
    }

    /* the greeting name: the host name of the certificate is not known here;
     * use HOSTILE_NAME when set, else "MODE.hostile.test" */
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
    int nchildren = 0;

    while (!stop_requested) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        reap(&nchildren);
        int r = poll(&p, 1, 1000);
        if (r <= 0)
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
            c.mode = m->mode;
            c.ctx = ctx;
            close(lfd);
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
#ifdef __linux__
            prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
            alarm(HOSTILE_CONN_SECONDS);
            serve(&c);
            if (c.ssl) {
                SSL_shutdown(c.ssl);
                SSL_free(c.ssl);
            }
            close(cfd);
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
