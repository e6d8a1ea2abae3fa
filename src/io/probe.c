/* probe.c - one SMTP connection on a libevent loop (socket + OpenSSL + smtp machine)
 *
 * Sans-I/O split (DESIGN.md): src/core/smtp.c decides what to say and what a
 * reply means; this file only moves bytes, runs timers and owns the SSL*.
 * The driving loop is the one in smtp.h's usage comment:
 *
 *     connect (non-blocking, connect timeout)
 *     for (;;) switch (smtp_want(s)):
 *         WRITE      send()/SSL_write() the machine's output
 *         READ       feed buffered bytes, else recv()/SSL_read() a chunk
 *         START_TLS  feed every byte already read or readable to the machine
 *                    (it discards them: RFC 3207 §5, CVE-2011-0411), then
 *                    SSL_connect() until done, record the session, smtp_tls_done()
 *         DONE       SSL_shutdown once, close, report, callback, free
 *
 * Plain `event`s on the fd (not bufferevents) so that exactly the bytes we
 * choose reach the machine or OpenSSL: a bufferevent reads ahead, and bytes
 * read before the handshake must never reach OpenSSL.
 *
 * The SSL object talks to the socket through a minimal BIO of our own instead
 * of SSL_set_fd(): it sends with MSG_NOSIGNAL, so a server that closes while we
 * write can never raise SIGPIPE in the host process (a library must not depend
 * on its caller ignoring SIGPIPE), and it counts the bytes on the wire.
 *
 * Timers: a connect timeout, then a deadline per SMTP phase (armed when the
 * machine enters a phase, not reset by progress: a server trickling one byte a
 * second cannot stretch a phase, as with Postfix's smtp_per_request_deadline),
 * and a deadline for the whole probe. Expiry calls smtp_timeout().
 *
 * Lifetime (OpenSMTPD rule): the callback that ends a probe runs from the
 * loop, never inside probe_start(), and the probe is freed after it returns. */
#include "io/probe.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "core/names.h"
#include "core/tlsparams.h"

#define PROBE_DRAIN_CHUNKS 16    /* reads of already-received cleartext before the handshake */
#define PROBE_STEPS_PER_EVENT 64 /* I/O steps before yielding to the other probes of the loop */
#define PROBE_PHASE_CONNECT (-1) /* timed_phase while connecting */
#define PROBE_PHASE_NONE (-2)    /* no phase timer armed yet */
#define PROBE_CIPHERS "ALL:!aNULL:!eNULL:!PSK:!SRP:@SECLEVEL=0"
/* A fixed BIO type: BIO_get_new_index() draws from a process-wide counter that
 * one call per probe would exhaust (OpenSSL 3.0 does not even bound it and lets
 * it run into the flag bits). DESCRIPTOR makes SSL_get_fd() work (BIO_C_GET_FD). */
#define PROBE_BIO_TYPE ((BIO_TYPE_START + 77) | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR)

/* What one step of the loop achieved. */
enum probe_io {
    PROBE_PROGRESS, /* the machine's state may have changed: look again */
    PROBE_WAIT      /* an fd event is armed: return to the loop */
};

struct probe {
    struct event_base *base;
    SSL_CTX *ctx; /* up-referenced: the caller may free theirs at any time */
    SSL *ssl;
    BIO_METHOD *bio_method; /* per probe: no global mutable state */
    probe_cb cb;
    void *arg;
    int fd;
    int connected;
    int failed;    /* connect failed: report without an SMTP dialogue */
    int in_callback;
    int ssl_fatal; /* SSL_shutdown() must not be called after a fatal error */
    int bio_eof;   /* the socket BIO saw EOF (answers BIO_CTRL_EOF) */
    size_t tls_bytes_in; /* bytes read through the TLS BIO: none yet = no TLS byte came */
    int timer_fired; /* 1 phase timer, 2 total deadline: explains a timeout */
    const char *loop_error; /* the event loop refused a timer or an fd event */
    int nomem;              /* an allocation for the report failed: it is incomplete */
    char stop_why[96];      /* probe_stop: the caller's deadline, for the reason */
    struct event *ev_read, *ev_write, *ev_phase, *ev_total, *ev_later;
    smtp_session *smtp;
    int timed_phase; /* smtp_phase the phase timer runs for, or PROBE_PHASE_* */
    int timed_phase_started; /* the timer for the current phase has been armed */
    int connect_ms, phase_ms, total_ms;
    char *sni;
    int want_ocsp;
    unsigned proto_excluded, proto_floor, proto_ceiling;
    char *cipher_list;
    char *groups_list;
    int postfix_security;
    struct sockaddr_storage sa;
    socklen_t salen;
    struct timespec t0;
    probe_report *rep; /* filled as we go; handed to the callback */
    char rbuf[PROBE_READ_CHUNK];
    size_t rlen, roff; /* rbuf[roff..rlen) read but not yet consumed by the machine */
};

static void probe_step(probe *p);

/* ---- small helpers ------------------------------------------------------ */

/* probe_now_ms - monotonic milliseconds since the probe started */
static long probe_now_ms(const probe *p)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - p->t0.tv_sec) * 1000L + (long)(t.tv_nsec - p->t0.tv_nsec) / 1000000L;
}

/* probe_tv - milliseconds as a struct timeval */
static struct timeval probe_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* probe_strdupf - formatted string, malloc'd; NULL when memory is short */
__attribute__((format(printf, 1, 2))) static char *probe_strdupf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

/* probe_need - s, noting in p when an allocation that made it failed (the
 * report is then incomplete: a local failure, never a verdict) */
static char *probe_need(probe *p, char *s)
{
    if (!s)
        p->nomem = 1;
    return s;
}

/* probe_set_text - replace *slot with a copy of text (kept NULL on failure) */
static void probe_set_text(probe *p, char **slot, const char *text)
{
    free(*slot);
    *slot = text ? probe_need(p, strdup(text)) : NULL;
}

/* probe_errno_text - connect errors in the words an operator expects */
static const char *probe_errno_text(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return "connection refused";
    case ETIMEDOUT:
        return "timed out";
    case ENETUNREACH:
        return "network unreachable";
    case EHOSTUNREACH:
        return "host unreachable";
    case ECONNRESET:
        return "connection reset";
    case EADDRNOTAVAIL:
        return "address not available";
    default:
        return strerror(err);
    }
}

/* probe_quickack - acknowledge the server's next segments at once. A server
 * that writes a reply in pieces (or TLS 1.3 tickets, then its greeting) with
 * Nagle on waits for our ACK before its next small segment; Linux delays that
 * ACK by 40 ms or more. Quick-ack mode is not sticky (tcp(7)), so it is set
 * again before every wait for data. */
static void probe_quickack(probe *p)
{
#ifdef TCP_QUICKACK
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)p;
#endif
}

/* probe_loop_failed - the loop could not arm an event (libevent out of
 * memory): end the probe from the loop with an internal error, never wait
 * for an event that will not come */
static void probe_loop_failed(probe *p, const char *what)
{
    if (!p->loop_error)
        p->loop_error = what;
    p->failed = 1;
    event_active(p->ev_later, 0, 0);
}

/* probe_wait - arm the fd event for one direction; the other is not needed */
static enum probe_io probe_wait(probe *p, short what)
{
    int rc;
    if (what == EV_READ) {
        probe_quickack(p);
        event_del(p->ev_write);
        rc = event_add(p->ev_read, NULL);
    } else {
        event_del(p->ev_read);
        rc = event_add(p->ev_write, NULL);
    }
    if (rc != 0)
        probe_loop_failed(p, "the event loop could not watch the socket (out of memory)");
    return PROBE_WAIT;
}

/* ---- the socket BIO ---------------------------------------------------- */

/* probe_bio_write - send() without SIGPIPE; EAGAIN becomes a retry */
static int probe_bio_write(BIO *b, const char *buf, int len)
{
    probe *p = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = send(p->fd, buf, (size_t)len, MSG_NOSIGNAL);
    if (n >= 0) {
        p->rep->bytes_out += (size_t)n;
        return (int)n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        BIO_set_retry_write(b);
    return -1;
}

/* probe_bio_read - recv(); 0 is EOF (remembered for BIO_CTRL_EOF), EAGAIN a retry */
static int probe_bio_read(BIO *b, char *buf, int len)
{
    probe *p = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = recv(p->fd, buf, (size_t)len, 0);
    if (n > 0) {
        p->rep->bytes_in += (size_t)n;
        p->tls_bytes_in += (size_t)n;
        return (int)n;
    }
    if (n == 0) {
        p->bio_eof = 1;
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        BIO_set_retry_read(b);
    return -1;
}

/* probe_bio_ctrl - what OpenSSL asks of a socket BIO. BIO_CTRL_EOF matters:
 * with it OpenSSL 3 reports a peer's close as "unexpected eof while reading"
 * instead of a bare SSL_ERROR_SYSCALL. */
static long probe_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    probe *p = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1; /* nothing buffered here */
    case BIO_CTRL_EOF:
        return p && p->bio_eof;
    case BIO_C_GET_FD:
        if (ptr && p)
            *(int *)ptr = p->fd;
        return p ? p->fd : -1;
    default:
        return 0;
    }
}

/* probe_bio_create - the BIO is usable at once (its data is set by the caller) */
static int probe_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* probe_bio_new - a BIO over p->fd; the method lives as long as the probe */
static BIO *probe_bio_new(probe *p)
{
    if (!p->bio_method) {
        p->bio_method = BIO_meth_new(PROBE_BIO_TYPE, "mxtls probe socket");
        if (!p->bio_method || !BIO_meth_set_write(p->bio_method, probe_bio_write) ||
            !BIO_meth_set_read(p->bio_method, probe_bio_read) ||
            !BIO_meth_set_ctrl(p->bio_method, probe_bio_ctrl) ||
            !BIO_meth_set_create(p->bio_method, probe_bio_create))
            return NULL;
    }
    BIO *b = BIO_new(p->bio_method);
    if (b)
        BIO_set_data(b, p);
    return b;
}

/* ---- timers ------------------------------------------------------------- */

/* probe_arm_phase_timer - a fresh deadline whenever the machine enters a new
 * phase (RFC 5321 §4.5.3.2 times each command/reply; we use one deadline per
 * phase so progress by single bytes cannot extend it) */
static void probe_arm_phase_timer(probe *p)
{
    int phase = (int)smtp_phase_get(p->smtp);
    if (p->timed_phase_started && phase == p->timed_phase)
        return;
    p->timed_phase = phase;
    p->timed_phase_started = 1;
    if (phase == SMTP_PHASE_DONE) {
        event_del(p->ev_phase);
        return;
    }
    struct timeval tv = probe_tv(p->phase_ms);
    if (evtimer_add(p->ev_phase, &tv) != 0)
        probe_loop_failed(p, "the event loop could not arm the phase timer (out of memory)");
}

/* probe_on_timer - the phase timer or the total deadline expired */
static void probe_on_timer(probe *p, int which)
{
    int ms = which == 2 ? p->total_ms : p->connected ? p->phase_ms : p->connect_ms;
    if (!p->connected) {
        p->failed = 1;
        p->rep->connect_error = probe_need(
            p, which == 2 ? probe_strdupf("timed out (probe deadline of %d ms)", ms)
                          : probe_strdupf("timed out after %d ms", ms));
        probe_step(p);
        return;
    }
    if (!p->timer_fired)
        p->timer_fired = which;
    if (smtp_want(p->smtp) == SMTP_WANT_START_TLS && p->rep->tls_attempted && !p->rep->tls.error)
        p->rep->tls.error =
            probe_need(p, probe_strdupf("the handshake did not finish within %d ms", ms));
    smtp_timeout(p->smtp);
    probe_step(p);
}

/* probe_phase_cb - libevent: per-phase (or connect) timeout */
static void probe_phase_cb(evutil_socket_t fd, short what, void *arg)
{
    probe_on_timer(arg, 1);
}

/* probe_total_cb - libevent: the whole probe's deadline */
static void probe_total_cb(evutil_socket_t fd, short what, void *arg)
{
    probe_on_timer(arg, 2);
}

/* ---- TLS ---------------------------------------------------------------- */

/* probe_key_type - the peer key's algorithm in OpenSSL 3 naming ("RSA", "EC", "ED25519") */
static const char *probe_key_type(EVP_PKEY *k)
{
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
        return "RSA";
    case EVP_PKEY_RSA_PSS:
        return "RSA-PSS";
    case EVP_PKEY_EC:
        return "EC";
    case EVP_PKEY_ED25519:
        return "ED25519";
    case EVP_PKEY_ED448:
        return "ED448";
    case EVP_PKEY_DSA:
        return "DSA";
    default:
        break;
    }
    /* Provider-only key types have no legacy id; their key manager names them. */
    const char *n = EVP_PKEY_get0_type_name(k);
    return n ? n : "unknown";
}

/* probe_group_name - the key exchange group: OpenSSL's short name, as Postfix
 * logs it ("X25519", "prime256v1"); for finite-field DHE in TLS <= 1.2, where
 * no group is negotiated, "DH-<bits>" from the server's ephemeral key */
static char *probe_group_name(probe *p, SSL *ssl)
{
    int nid = SSL_get_negotiated_group(ssl);
    if (nid > 0) {
        const char *n = OBJ_nid2sn(nid);
        if (!n)
            n = SSL_group_to_name(ssl, nid);
        if (n)
            return probe_need(p, strdup(n));
    }
    EVP_PKEY *tmp = NULL;
    if (SSL_get_peer_tmp_key(ssl, &tmp) == 1 && tmp) {
        char *s = probe_need(p, EVP_PKEY_get_base_id(tmp) == EVP_PKEY_DH
                                    ? probe_strdupf("DH-%d", EVP_PKEY_get_bits(tmp))
                                    : strdup(probe_key_type(tmp)));
        EVP_PKEY_free(tmp);
        return s;
    }
    return NULL;
}

/* probe_record_chain - up-ref the chain as sent (leaf first) into our own
 * stack; on the client side SSL_get_peer_cert_chain() includes the leaf.
 * At most MXTLS_MAX_CHAIN certificates are kept: the evidence uses no more. */
static void probe_record_chain(probe *p)
{
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(p->ssl);
    if (!sent || p->rep->tls.chain)
        return;
    STACK_OF(X509) *mine = sk_X509_new_null();
    if (!mine) {
        p->nomem = 1;
        return;
    }
    for (int i = 0; i < sk_X509_num(sent) && i < MXTLS_MAX_CHAIN; i++) {
        X509 *x = sk_X509_value(sent, i);
        if (!X509_up_ref(x))
            break;
        if (!sk_X509_push(mine, x)) {
            X509_free(x);
            p->nomem = 1;
            break;
        }
    }
    p->rep->tls.chain = mine;
}

/* probe_record_session - what the handshake negotiated, for the report */
static void probe_record_session(probe *p)
{
    probe_tls *t = &p->rep->tls;
    probe_set_text(p, &t->version, SSL_get_version(p->ssl));
    const SSL_CIPHER *c = SSL_get_current_cipher(p->ssl);
    probe_set_text(p, &t->cipher, c ? SSL_CIPHER_get_name(c) : NULL);
    free(t->group);
    t->group = probe_group_name(p, p->ssl);
    EVP_PKEY *k = NULL;
    X509 *leaf = SSL_get0_peer_certificate(p->ssl);
    if (leaf && (k = X509_get0_pubkey(leaf)) != NULL) {
        probe_set_text(p, &t->peer_key_type, probe_key_type(k));
        t->peer_key_bits = EVP_PKEY_get_bits(k);
    }
    probe_record_chain(p);
    /* RFC 6066 §8 / RFC 8446 §4.4.2.1: the staple is kept as sent (DER) and
     * judged later with the chain; an oversized one is not kept. */
    const unsigned char *resp = NULL;
    long len = SSL_get_tlsext_status_ocsp_resp(p->ssl, &resp);
    if (p->want_ocsp && resp && len > 0 && (unsigned long)len <= PROBE_MAX_OCSP_STAPLE &&
        !t->ocsp_staple) {
        t->ocsp_staple = malloc((size_t)len);
        if (t->ocsp_staple) {
            memcpy(t->ocsp_staple, resp, (size_t)len);
            t->ocsp_staple_len = (size_t)len;
        } else {
            p->nomem = 1;
        }
    }
}

/* probe_dropped_text - a close, reset or socket error before the server sent
 * any TLS byte. Whether it reached us before our ClientHello left is timing,
 * and so is close against reset: a server that closes without reading turns
 * into a RST once our ClientHello is in its socket (the kernel resets a socket
 * closed with unread data). One server behaviour, one wording. */
static char *probe_dropped_text(probe *p, int eof, int err)
{
    return probe_need(p, eof || err == ECONNRESET
                             ? strdup("the server dropped the connection before answering the "
                                      "ClientHello")
                             : probe_strdupf("socket error before the server answered the "
                                             "ClientHello: %s",
                                             probe_errno_text(err)));
}

/* probe_ssl_error_text - OpenSSL's reason for a failed call, in plain words.
 * Empties the thread's error queue, which all probes of the thread share. */
static char *probe_ssl_error_text(probe *p, int sslerr, int saved_errno)
{
    char *s = NULL;
    unsigned long e = ERR_peek_error();
    if (sslerr == SSL_ERROR_SSL && e) {
        const char *reason = ERR_reason_error_string(e);
        char buf[256];
        if (!reason) {
            ERR_error_string_n(e, buf, sizeof buf);
            reason = buf;
        }
        /* OpenSSL 3 reports a peer's close as "unexpected eof while reading". */
        s = p->bio_eof ? probe_strdupf("the server closed the connection (%s)", reason)
                       : strdup(reason);
    } else if (p->bio_eof) {
        s = strdup("the server closed the connection");
    } else if (sslerr == SSL_ERROR_ZERO_RETURN) {
        s = strdup("the server closed the TLS session (close_notify)");
    } else if (sslerr == SSL_ERROR_SYSCALL && saved_errno == ECONNRESET) {
        s = strdup("the server reset the connection");
    } else if (sslerr == SSL_ERROR_SYSCALL && saved_errno != 0) {
        s = probe_strdupf("socket error: %s", probe_errno_text(saved_errno));
    } else if (sslerr == SSL_ERROR_SYSCALL) {
        s = strdup("the connection failed without an error code");
    } else {
        s = probe_strdupf("OpenSSL error %d", sslerr);
    }
    ERR_clear_error();
    return probe_need(p, s);
}

/* probe_msg_seen - OpenSSL's message callback: notes a CertificateRequest
 * from the server (TLS 1.2 and 1.3 alike: the callback sees handshake
 * messages after decryption) and whether we answered with a certificate */
static void probe_msg_seen(int write_p, int version, int content_type, const void *buf,
                           size_t len, SSL *ssl, void *arg)
{
    probe *p = arg;
    if (content_type != SSL3_RT_HANDSHAKE || len < 4)
        return;
    const unsigned char *m = buf;
    if (!write_p && m[0] == SSL3_MT_CERTIFICATE_REQUEST)
        p->rep->tls.client_cert_requested = 1;
    /* Our Certificate message: 3-byte body length, then (TLS 1.3) a context
     * length byte and the 3-byte list length; an empty list sends no cert. */
    if (write_p && m[0] == SSL3_MT_CERTIFICATE && p->rep->tls.client_cert_requested) {
        size_t off = SSL_version(ssl) >= TLS1_3_VERSION ? 5 : 4;
        if (len >= off + 3 && (m[off] | m[off + 1] | m[off + 2]) != 0)
            p->rep->tls.client_cert_sent = 1;
    }
    (void)version;
}

/* probe_tls_version - OpenSSL's version number of one TLSP_* bit */
static int probe_tls_version(unsigned bit)
{
    switch (bit) {
    case TLSP_SSLv3: return SSL3_VERSION;
    case TLSP_TLSv1: return TLS1_VERSION;
    case TLSP_TLSv1_1: return TLS1_1_VERSION;
    case TLSP_TLSv1_2: return TLS1_2_VERSION;
    case TLSP_TLSv1_3: return TLS1_3_VERSION;
    default: return 0;
    }
}

/* probe_tls_limits - a policy entry's protocols= and ciphers=/exclude=, set
 * as Postfix sets them (tls_client.c: SSL_OP_NO_* for excluded protocols,
 * min/max only for ">=" and "<=" bounds), so an entry that leaves no usable
 * protocol fails the handshake as it does in Postfix. */
static int probe_tls_limits(probe *p)
{
    static const struct {
        unsigned bit;
        uint64_t op;
    } no[] = {{TLSP_SSLv3, SSL_OP_NO_SSLv3},     {TLSP_TLSv1, SSL_OP_NO_TLSv1},
              {TLSP_TLSv1_1, SSL_OP_NO_TLSv1_1}, {TLSP_TLSv1_2, SSL_OP_NO_TLSv1_2},
              {TLSP_TLSv1_3, SSL_OP_NO_TLSv1_3}};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (p->proto_excluded & no[i].bit)
            SSL_set_options(p->ssl, no[i].op);
    if (p->proto_floor && SSL_set_min_proto_version(p->ssl, probe_tls_version(p->proto_floor)) != 1)
        return -1;
    if (p->proto_ceiling &&
        SSL_set_max_proto_version(p->ssl, probe_tls_version(p->proto_ceiling)) != 1)
        return -1;
    /* A list that selects no cipher is a handshake that cannot start: the
     * error is reported as the TLS failure it is in Postfix. */
    if (p->cipher_list && SSL_set_cipher_list(p->ssl, p->cipher_list) != 1)
        return -1;
    if (p->groups_list && SSL_set1_groups_list(p->ssl, p->groups_list) != 1)
        return -1;
    /* OpenSSL 3 refuses SHA-1 signatures and small keys from level 1 on: a
     * TLS 1.0 handshake that authenticates the server fails there, as
     * Postfix's does (the probe's own level 0 would let it through). */
    if (p->postfix_security)
        SSL_set_security_level(p->ssl, 1);
    return 0;
}

/* probe_tls_new - the SSL object: caller's context, our socket BIO, SNI, OCSP request */
static int probe_tls_new(probe *p)
{
    p->ssl = SSL_new(p->ctx);
    if (!p->ssl)
        return -1;
    BIO *b = probe_bio_new(p);
    if (!b)
        return -1;
    SSL_set_bio(p->ssl, b, b); /* the SSL owns the BIO (one reference for both directions) */
    SSL_set_connect_state(p->ssl);
    SSL_set_msg_callback(p->ssl, probe_msg_seen);
    SSL_set_msg_callback_arg(p->ssl, p);
    /* The machine's output buffer is stable, but SSL_write retries must not
     * depend on that. */
    SSL_set_mode(p->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* A probe waits for replies most of its life: OpenSSL's 16 KiB read and
     * write buffers are released while idle (about 34 KiB less per probe
     * waiting over TLS; docs/probe.md has the numbers). */
    SSL_set_mode(p->ssl, SSL_MODE_RELEASE_BUFFERS);
    /* RFC 6066 §3: the HostName, an A-label DNS name without trailing dot. */
    if (p->sni && SSL_set_tlsext_host_name(p->ssl, p->sni) != 1)
        return -1;
    if (p->want_ocsp && SSL_set_tlsext_status_type(p->ssl, TLSEXT_STATUSTYPE_ocsp) != 1)
        return -1;
    return probe_tls_limits(p);
}

/* probe_tls_setup_failed - the handshake cannot start (OpenSSL refused a
 * setting, or memory ran out): a failed handshake, in OpenSSL's words */
static enum probe_io probe_tls_setup_failed(probe *p)
{
    unsigned long err = ERR_peek_error();
    const char *why = err ? ERR_reason_error_string(err) : NULL;
    free(p->rep->tls.error);
    p->rep->tls.error =
        probe_need(p, probe_strdupf("cannot set up TLS: %s", why ? why : "out of memory"));
    ERR_clear_error();
    p->ssl_fatal = 1;
    smtp_tls_done(p->smtp, 0);
    return PROBE_PROGRESS;
}

/* probe_do_tls - START_TLS: keep pre-handshake bytes away from OpenSSL, then
 * drive SSL_connect() until it finishes */
static enum probe_io probe_do_tls(probe *p)
{
    if (!p->ssl) {
        /* RFC 3207 §5: whatever followed the 220 in the same read is not TLS
         * and must not be read as SMTP: the machine counts and discards it. */
        if (p->roff < p->rlen)
            smtp_feed(p->smtp, p->rbuf + p->roff, p->rlen - p->roff);
        p->roff = p->rlen = 0;
        /* A TLS server speaks only after our ClientHello, so anything already
         * readable now was sent before it: injected too. Reading it here keeps
         * it away from OpenSSL (bounded, a flood cannot stall us). */
        p->rep->tls_attempted = 1;
        /* The SNI is what the ClientHello offers, recorded before anything
         * can fail: a server that drops the connection now reports the
         * same SNI whether or not our ClientHello had left. */
        if (p->sni && !(p->rep->tls.sni_sent = probe_need(p, strdup(p->sni))))
            return probe_tls_setup_failed(p);
        for (int i = 0; i < PROBE_DRAIN_CHUNKS; i++) {
            ssize_t n = recv(p->fd, p->rbuf, sizeof p->rbuf, MSG_DONTWAIT);
            if (n > 0) {
                p->rep->bytes_in += (size_t)n;
                smtp_feed(p->smtp, p->rbuf, (size_t)n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            /* Closed (or reset) before our ClientHello: whether we see that
             * here or inside SSL_connect is a matter of timing, so both are
             * the same failed handshake, in the same words (smtp_eof in the
             * handshake state says tls-failed too). One outcome, every run. */
            free(p->rep->tls.error);
            p->rep->tls.error = probe_dropped_text(p, n == 0, n == 0 ? 0 : errno);
            p->ssl_fatal = 1;
            smtp_tls_done(p->smtp, 0);
            return PROBE_PROGRESS;
        }
        if (probe_tls_new(p) != 0)
            return probe_tls_setup_failed(p);
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_connect(p->ssl);
    if (r == 1) {
        p->rep->tls_ok = 1;
        probe_record_session(p);
        smtp_tls_done(p->smtp, 1);
        return PROBE_PROGRESS;
    }
    int saved = errno;
    int e = SSL_get_error(p->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return probe_wait(p, EV_READ);
    if (e == SSL_ERROR_WANT_WRITE)
        return probe_wait(p, EV_WRITE);
    p->ssl_fatal = 1;
    free(p->rep->tls.error);
    /* No TLS byte from the server: the drop that the drain above did not
     * see yet, worded as it words it. */
    if (p->tls_bytes_in == 0 && (p->bio_eof || (e == SSL_ERROR_SYSCALL && saved != 0))) {
        ERR_clear_error();
        p->rep->tls.error = probe_dropped_text(p, p->bio_eof, saved);
    } else {
        p->rep->tls.error = probe_ssl_error_text(p, e, saved);
    }
    /* A chain received before the failure is still evidence of what was sent. */
    probe_record_chain(p);
    smtp_tls_done(p->smtp, 0);
    return PROBE_PROGRESS;
}

/* probe_tls_io_failed - SSL_read/SSL_write failed for good: note why (not for
 * a plain close) and tell the machine the connection is gone */
static enum probe_io probe_tls_io_failed(probe *p, int e, int saved)
{
    if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL)
        p->ssl_fatal = 1;
    char *why = probe_ssl_error_text(p, e, saved);
    if (!p->rep->tls.error && e == SSL_ERROR_SSL && !p->bio_eof)
        p->rep->tls.error = why;
    else
        free(why);
    smtp_eof(p->smtp);
    return PROBE_PROGRESS;
}

/* ---- plain and TLS I/O -------------------------------------------------- */

/* probe_do_write - WRITE: send the machine's command */
static enum probe_io probe_do_write(probe *p)
{
    const char *buf;
    size_t n = smtp_output(p->smtp, &buf);
    if (p->ssl) {
        ERR_clear_error();
        errno = 0;
        int w = SSL_write(p->ssl, buf, (int)n);
        if (w > 0) {
            smtp_output_consumed(p->smtp, (size_t)w);
            return PROBE_PROGRESS;
        }
        int saved = errno;
        int e = SSL_get_error(p->ssl, w);
        if (e == SSL_ERROR_WANT_WRITE)
            return probe_wait(p, EV_WRITE);
        if (e == SSL_ERROR_WANT_READ)
            return probe_wait(p, EV_READ);
        return probe_tls_io_failed(p, e, saved);
    }
    ssize_t w = send(p->fd, buf, n, MSG_NOSIGNAL);
    if (w >= 0) {
        p->rep->bytes_out += (size_t)w;
        smtp_output_consumed(p->smtp, (size_t)w);
        return PROBE_PROGRESS;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return probe_wait(p, EV_WRITE);
    if (errno == EINTR)
        return PROBE_PROGRESS;
    smtp_eof(p->smtp); /* EPIPE, ECONNRESET: the server is gone */
    return PROBE_PROGRESS;
}

/* probe_do_read - READ: feed what is buffered, else read one chunk */
static enum probe_io probe_do_read(probe *p)
{
    if (p->roff < p->rlen) {
        /* The machine may stop after a reply that makes it write; the rest
         * is fed again once it reads (smtp.h). */
        ssize_t r = smtp_feed(p->smtp, p->rbuf + p->roff, p->rlen - p->roff);
        if (r < 0)
            p->roff = p->rlen; /* DONE (out of memory): nothing more is read */
        else
            p->roff += (size_t)r;
        if (p->roff >= p->rlen)
            p->roff = p->rlen = 0;
        return PROBE_PROGRESS;
    }
    if (p->ssl) {
        /* SSL_read before waiting on the fd: OpenSSL may hold decrypted
         * records already (SSL_pending), and the fd would not wake us. */
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(p->ssl, p->rbuf, (int)sizeof p->rbuf);
        if (r > 0) {
            p->rlen = (size_t)r;
            p->roff = 0;
            return PROBE_PROGRESS;
        }
        int saved = errno;
        int e = SSL_get_error(p->ssl, r);
        /* Without AUTO_RETRY, a record that is not application data (a TLS 1.3
         * NewSessionTicket) yields WANT_READ only when OpenSSL holds no further
         * record; without read-ahead the next record is still in the socket,
         * so waiting for the fd cannot miss it. */
        if (e == SSL_ERROR_WANT_READ)
            return probe_wait(p, EV_READ);
        if (e == SSL_ERROR_WANT_WRITE) /* e.g. a key update to answer */
            return probe_wait(p, EV_WRITE);
        return probe_tls_io_failed(p, e, saved);
    }
    ssize_t n = recv(p->fd, p->rbuf, sizeof p->rbuf, 0);
    if (n > 0) {
        p->rep->bytes_in += (size_t)n;
        p->rlen = (size_t)n;
        p->roff = 0;
        return PROBE_PROGRESS;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return probe_wait(p, EV_READ);
    if (n < 0 && errno == EINTR)
        return PROBE_PROGRESS;
    smtp_eof(p->smtp);
    return PROBE_PROGRESS;
}

/* ---- report and end ----------------------------------------------------- */

/* probe_copy_obs - the report's own deep copy of the machine's observations
 * (smtp_obs_copy), so the session can be freed; the greeting host moves to
 * the report's own field. On out-of-memory the copy keeps only the
 * fixed-size fields and says so. */
static void probe_copy_obs(probe_report *r, const smtp_obs *src)
{
    if (smtp_obs_copy(&r->smtp, src) == MXTLS_OK) {
        r->greeting_host = r->smtp.greeting_host;
        r->smtp.greeting_host = NULL;
        return;
    }
    r->greeting_host = NULL;
    r->smtp.outcome = SMTP_OUTCOME_INTERNAL_ERROR;
    snprintf(r->smtp.reason, sizeof r->smtp.reason, "out of memory copying the observations");
}

/* probe_note_local_failure - an incomplete report (an allocation failed, or
 * the loop refused an event: SMTP_OUTCOME_INTERNAL_ERROR) says so, so that
 * no verdict is drawn from it */
static void probe_note_local_failure(probe *p, probe_report *r)
{
    if (p->nomem || r->smtp.outcome == SMTP_OUTCOME_INTERNAL_ERROR)
        r->local_failure = 1;
    if (p->nomem && r->smtp.outcome != SMTP_OUTCOME_INTERNAL_ERROR) {
        r->smtp.outcome = SMTP_OUTCOME_INTERNAL_ERROR;
        snprintf(r->smtp.reason, sizeof r->smtp.reason, "out of memory");
    }
}

/* probe_note_timer - say which of our timers ended the dialogue and its length */
static void probe_note_timer(probe *p)
{
    smtp_obs *o = &p->rep->smtp;
    if (o->outcome != SMTP_OUTCOME_TIMEOUT || !p->timer_fired)
        return;
    size_t n = strlen(o->reason);
    if (p->timer_fired == 3)
        snprintf(o->reason + n, sizeof o->reason - n, " (%s)", p->stop_why);
    else if (p->timer_fired == 2)
        snprintf(o->reason + n, sizeof o->reason - n, " (probe deadline of %d ms)", p->total_ms);
    else
        snprintf(o->reason + n, sizeof o->reason - n, " (phase timeout of %d ms)", p->phase_ms);
}

/* probe_free - release everything the probe holds; the report too, unless it
 * was handed to the callback */
static void probe_free(probe *p)
{
    if (!p)
        return;
    struct event *evs[] = {p->ev_read, p->ev_write, p->ev_phase, p->ev_total, p->ev_later};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i])
            event_free(evs[i]);
    SSL_free(p->ssl); /* frees the BIO; the method after it */
    BIO_meth_free(p->bio_method);
    if (p->fd >= 0)
        close(p->fd);
    smtp_free(p->smtp);
    SSL_CTX_free(p->ctx);
    probe_report_free(p->rep);
    free(p->sni);
    free(p->cipher_list);
    free(p->groups_list);
    free(p);
}

/* probe_finish - DONE: close politely, report, call back, then free */
static void probe_finish(probe *p)
{
    event_del(p->ev_read);
    event_del(p->ev_write);
    event_del(p->ev_phase);
    event_del(p->ev_total);
    event_del(p->ev_later);
    if (p->ssl && p->rep->tls_ok && !p->ssl_fatal) {
        /* RFC 8446 §6.1: send close_notify once; the server's is not awaited
         * (Postfix does the same after QUIT). Non-blocking: if it cannot be
         * written now it is not written. */
        ERR_clear_error();
        SSL_shutdown(p->ssl);
        ERR_clear_error();
    }
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    probe_report *r = p->rep;
    r->connected = p->connected;
    probe_copy_obs(r, smtp_obs_get(p->smtp));
    probe_note_timer(p);
    if (p->loop_error) {
        r->smtp.outcome = SMTP_OUTCOME_INTERNAL_ERROR;
        snprintf(r->smtp.reason, sizeof r->smtp.reason, "%s", p->loop_error);
    }
    probe_note_local_failure(p, r);
    r->elapsed_ms = probe_now_ms(p);
    p->rep = NULL;
    p->in_callback = 1;
    p->cb(p->arg, r); /* the callee owns r now */
    probe_free(p);
}

/* probe_step - run the machine until it waits for the network or is done */
static void probe_step(probe *p)
{
    if (p->failed) {
        probe_finish(p);
        return;
    }
    for (int i = 0; i < PROBE_STEPS_PER_EVENT; i++) {
        probe_arm_phase_timer(p);
        if (p->failed)
            return; /* probe_loop_failed: finished from ev_later */
        enum probe_io r;
        switch (smtp_want(p->smtp)) {
        case SMTP_WANT_WRITE:
            r = probe_do_write(p);
            break;
        case SMTP_WANT_READ:
            r = probe_do_read(p);
            break;
        case SMTP_WANT_START_TLS:
            r = probe_do_tls(p);
            break;
        case SMTP_WANT_DONE:
        default:
            probe_finish(p);
            return;
        }
        if (r == PROBE_WAIT)
            return;
    }
    /* A fast peer could keep us here: let the loop serve the other probes. */
    event_active(p->ev_later, 0, 0);
}

/* probe_io_cb - libevent: the fd is readable or writable */
static void probe_io_cb(evutil_socket_t fd, short what, void *arg)
{
    probe *p = arg;
    if (!p->connected) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == ECONNRESET || err == EPIPE) {
            /* Only an established connection can be reset: the server
             * accepted and hung up. Whether that shows here or on the first
             * read is timing, so it is the same lost connection. */
            p->connected = 1;
            p->rep->connected = 1;
            event_del(p->ev_phase);
            p->timed_phase_started = 0;
            smtp_eof(p->smtp);
            probe_step(p);
            return;
        }
        if (err != 0) {
            p->failed = 1;
            p->rep->connect_error = probe_need(p, strdup(probe_errno_text(err)));
            probe_step(p);
            return;
        }
        p->connected = 1;
        p->rep->connected = 1;
        event_del(p->ev_phase);
        p->timed_phase_started = 0; /* the SMTP phase timer starts now */
    }
    probe_step(p);
}

/* probe_later_cb - libevent: continue a yielded probe, or report an immediate failure */
static void probe_later_cb(evutil_socket_t fd, short what, void *arg)
{
    probe_step(arg);
}

/* ---- public API --------------------------------------------------------- */

/* probe_report_free - release a report and everything it owns: the strings,
 * the copy of the SMTP observations (reply_rec lines and EHLO capabilities,
 * deep-copied from the session), the certificate stack with one reference per
 * certificate, the OCSP staple, and the report itself (the callback receives
 * it malloc'd and owns it). NULL is fine. */
probe_report *probe_report_ref(probe_report *r)
{
    if (r)
        r->refs++;
    return r;
}

void probe_report_free(probe_report *r)
{
    if (!r)
        return;
    if (r->refs) {
        r->refs--;
        return;
    }
    free(r->ip);
    free(r->connect_error);
    smtp_obs_free(&r->smtp);
    free(r->greeting_host);
    probe_tls *t = &r->tls;
    free(t->version);
    free(t->cipher);
    free(t->group);
    free(t->peer_key_type);
    free(t->sni_sent);
    sk_X509_pop_free(t->chain, X509_free);
    free(t->ocsp_staple);
    free(t->error);
    free(r->json);
    free(r);
}

/* probe_start - see probe.h */
probe *probe_start(struct event_base *base, SSL_CTX *ssl_ctx, const probe_config *cfg,
                   probe_cb cb, void *arg, err_rec *e)
{
    if (!base || !ssl_ctx || !cfg || !cb || !cfg->ip) {
        err_set(e, MXTLS_ERR_INVALID, "probe", "missing event base, SSL context, address or callback");
        return NULL;
    }
    if (cfg->connect_timeout_ms < 0 || cfg->phase_timeout_ms < 0 || cfg->total_timeout_ms < 0) {
        err_set(e, MXTLS_ERR_INVALID, "probe", "timeouts must not be negative");
        return NULL;
    }
    smtp_config sc = {.ehlo_name = cfg->ehlo_name,
                      .no_starttls = cfg->no_starttls,
                      .implicit_tls = cfg->implicit_tls,
                      .mail_probe = cfg->mail_probe};
    if (smtp_config_check(&sc, e) != 0)
        return NULL;

    probe *p = calloc(1, sizeof *p);
    if (!p) {
        err_set(e, MXTLS_ERR_NOMEM, "probe", "out of memory");
        return NULL;
    }
    p->fd = -1;
    p->base = base;
    p->cb = cb;
    p->arg = arg;
    p->want_ocsp = cfg->want_ocsp_staple != 0;
    p->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : PROBE_DEFAULT_CONNECT_TIMEOUT_MS;
    p->phase_ms = cfg->phase_timeout_ms ? cfg->phase_timeout_ms : PROBE_DEFAULT_PHASE_TIMEOUT_MS;
    p->total_ms = cfg->total_timeout_ms ? cfg->total_timeout_ms : PROBE_DEFAULT_TOTAL_TIMEOUT_MS;
    p->timed_phase = PROBE_PHASE_NONE;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);

    /* A numeric address only: name resolution is the DNS adapter's job. */
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)(cfg->port ? cfg->port : 25));
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(cfg->ip, port, &hints, &ai) != 0 || !ai) {
        err_set(e, MXTLS_ERR_INVALID, "probe", "\"%.64s\" is not an IPv4 or IPv6 address", cfg->ip);
        free(p);
        return NULL;
    }
    memcpy(&p->sa, ai->ai_addr, ai->ai_addrlen);
    p->salen = ai->ai_addrlen;
    freeaddrinfo(ai);

    if (cfg->sni && !(p->sni = names_sni(cfg->sni, e))) {
        free(p);
        return NULL;
    }
    p->postfix_security = cfg->postfix_security;
    p->proto_excluded = cfg->proto_excluded;
    p->proto_floor = cfg->proto_floor;
    p->proto_ceiling = cfg->proto_ceiling;
    if ((cfg->cipher_list && !(p->cipher_list = strdup(cfg->cipher_list))) ||
        (cfg->groups_list && !(p->groups_list = strdup(cfg->groups_list)))) {
        free(p->cipher_list);
        free(p->sni);
        free(p);
        err_set(e, MXTLS_ERR_NOMEM, "probe", "out of memory");
        return NULL;
    }
    p->rep = calloc(1, sizeof *p->rep);
    p->smtp = smtp_new(&sc);
    p->ev_read = event_new(base, -1, 0, probe_io_cb, p); /* fd set after socket() */
    p->ev_phase = evtimer_new(base, probe_phase_cb, p);
    p->ev_total = evtimer_new(base, probe_total_cb, p);
    p->ev_later = event_new(base, -1, 0, probe_later_cb, p);
    if (!p->rep || !p->smtp || !p->ev_read || !p->ev_phase || !p->ev_total || !p->ev_later ||
        !(p->rep->ip = strdup(cfg->ip))) {
        err_set(e, MXTLS_ERR_NOMEM, "probe", "out of memory");
        probe_free(p);
        return NULL;
    }
    p->rep->port = cfg->port ? cfg->port : 25;
    if (!SSL_CTX_up_ref(ssl_ctx)) {
        err_set(e, MXTLS_ERR_CRYPTO, "probe", "cannot reference the SSL context");
        probe_free(p);
        return NULL;
    }
    p->ctx = ssl_ctx;

    p->fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) {
        int err = errno;
        if (err == EMFILE || err == ENFILE)
            err_set(e, MXTLS_ERR_RESOURCE, "probe", "out of file descriptors (ulimit -n)");
        else
            err_set(e, err_code_errno(err), "probe", "socket: %s", strerror(err));
        probe_free(p);
        return NULL;
    }
    /* One command or one TLS flight at a time: Nagle would hold our EHLO
     * behind the unacknowledged Finished and cost a delayed-ACK round. */
    int one = 1;
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    event_free(p->ev_read);
    p->ev_read = event_new(base, p->fd, EV_READ, probe_io_cb, p);
    p->ev_write = event_new(base, p->fd, EV_WRITE, probe_io_cb, p);
    if (!p->ev_read || !p->ev_write) {
        err_set(e, MXTLS_ERR_NOMEM, "probe", "out of memory");
        probe_free(p);
        return NULL;
    }
    struct timeval total = probe_tv(p->total_ms);
    if (evtimer_add(p->ev_total, &total) != 0) {
        err_set(e, MXTLS_ERR_NOMEM, "probe", "out of memory (the event loop refused a timer)");
        probe_free(p);
        return NULL;
    }

    if (connect(p->fd, (struct sockaddr *)&p->sa, p->salen) == 0 || errno == EINPROGRESS ||
        errno == EINTR) { /* EINTR: the connect goes on asynchronously */
        /* Writable means connected or failed (SO_ERROR tells): probe_io_cb. */
        struct timeval ct = probe_tv(p->connect_ms);
        p->timed_phase = PROBE_PHASE_CONNECT;
        if (evtimer_add(p->ev_phase, &ct) != 0 || event_add(p->ev_write, NULL) != 0) {
            err_set(e, MXTLS_ERR_NOMEM, "probe", "out of memory (the event loop refused an event)");
            probe_free(p);
            return NULL;
        }
    } else {
        /* Refused at once (possible on loopback): report it from the loop,
         * never from inside probe_start(). */
        p->failed = 1;
        p->rep->connect_error = probe_need(p, strdup(probe_errno_text(errno)));
        event_active(p->ev_later, 0, 0);
    }
    return p;
}

/* probe_cancel - stop without a callback; inside the callback it is a no-op
 * (the probe is freed when the callback returns) */
void probe_cancel(probe *p)
{
    if (!p || p->in_callback)
        return;
    probe_free(p);
}

/* probe_stop - see probe.h: the report probe_finish() would hand over had
 * a timer of ours fired now */
probe_report *probe_stop(probe *p, const char *why)
{
    if (!p || p->in_callback)
        return NULL;
    snprintf(p->stop_why, sizeof p->stop_why, "%s", why ? why : "the caller's deadline");
    if (!p->connected && !p->failed) {
        free(p->rep->connect_error);
        p->rep->connect_error = probe_need(p, probe_strdupf("timed out (%s)", p->stop_why));
    } else if (p->connected) {
        p->timer_fired = 3;
        if (smtp_want(p->smtp) == SMTP_WANT_START_TLS && p->rep->tls_attempted &&
            !p->rep->tls.error)
            p->rep->tls.error = probe_need(
                p, probe_strdupf("the handshake did not finish before %s", p->stop_why));
        smtp_timeout(p->smtp);
    }
    probe_report *r = p->rep;
    r->connected = p->connected;
    r->stopped = 1;
    probe_copy_obs(r, smtp_obs_get(p->smtp));
    probe_note_timer(p);
    probe_note_local_failure(p, r);
    r->elapsed_ms = probe_now_ms(p);
    p->rep = NULL;
    probe_free(p);
    return r;
}

/* probe_ssl_ctx_new - see probe.h; docs/probe.md explains each setting */
SSL_CTX *probe_ssl_ctx_new(err_rec *e)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (!c) {
        /* With the default providers this fails only when an allocation does. */
        err_set(e, MXTLS_ERR_NOMEM, "probe", "out of memory (OpenSSL cannot create a TLS context)");
        ERR_clear_error();
        return NULL;
    }
    /* Observe, do not judge: old protocols and weak parameters are allowed
     * here so the report can say what the server offers; the policy layer
     * decides what a sender at a given level accepts. */
    if (!SSL_CTX_set_min_proto_version(c, TLS1_VERSION) ||
        !SSL_CTX_set_max_proto_version(c, 0) ||
        !SSL_CTX_set_cipher_list(c, PROBE_CIPHERS)) {
        err_set(e, MXTLS_ERR_CRYPTO, "probe", "cannot configure protocol versions or ciphers");
        ERR_clear_error();
        SSL_CTX_free(c);
        return NULL;
    }
    SSL_CTX_set_security_level(c, 0);
    /* Verification happens afterwards on the recorded chain, with the same
     * code as `mxtls verify`; a handshake never fails for trust reasons. */
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    /* Every probe is a fresh full handshake that shows the certificate:
     * no tickets, no session cache, no resumption. */
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET |
                               /* OpenSSL 3 refuses servers without RFC 5746
                                * renegotiation_info; we never renegotiate, and
                                * such servers must still be observed. */
                               SSL_OP_LEGACY_SERVER_CONNECT |
                               /* A server's HelloRequest (TLS <= 1.2) is
                                * refused with a no_renegotiation alert, as
                                * Postfix's client does (tls_misc.c: "There's
                                * no good reason to enable TLS renegotiation in
                                * the middle of an SMTP connection"). */
                               SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    /* Non-blocking driving: WANT_READ must come back to the loop. */
    SSL_CTX_clear_mode(c, SSL_MODE_AUTO_RETRY);
    return c;
}

int probe_ssl_ctx_client_cert(SSL_CTX *c, const char *chain_file, const char *key_file,
                              err_rec *e)
{
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(c, chain_file) != 1) {
        err_set(e, MXTLS_ERR_INVALID, chain_file,
                "cannot use it as a client certificate chain (PEM, leaf first)");
        ERR_clear_error();
        return -1;
    }
    const char *kf = key_file ? key_file : chain_file;
    if (SSL_CTX_use_PrivateKey_file(c, kf, SSL_FILETYPE_PEM) != 1) {
        /* OpenSSL compares key and certificate here already. */
        int reason = ERR_GET_REASON(ERR_peek_last_error());
        int mismatch = reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH;
        err_set(e, MXTLS_ERR_INVALID, kf, "%s",
                mismatch ? "the key does not belong to the client certificate"
                         : "cannot read the client certificate's private key");
        ERR_clear_error();
        return -1;
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        err_set(e, MXTLS_ERR_INVALID, kf, "the key does not belong to the client certificate");
        ERR_clear_error();
        return -1;
    }
    return 0;
}
