/* https.c - HTTP(S) fetches with libcurl's multi interface on a libevent loop
 *
 * The multi handle tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when to call it back without socket activity (CURLMOPT_TIMERFUNCTION);
 * libevent watches, and every event ends in curl_multi_socket_action(). After
 * each action the finished transfers are collected with curl_multi_info_read()
 * and their callbacks run, outside any libcurl callback, so a callback may
 * start new fetches or free the client.
 *
 * Rules every transfer gets (docs/https.md):
 * - protocols http and https only, also after redirects (CURLOPT_PROTOCOLS_STR);
 * - redirects only when asked (RFC 8461 §3.3 forbids them for MTA-STS);
 * - a total timeout (CURLOPT_TIMEOUT_MS) and a body limit enforced in the
 *   write callback (and early through CURLOPT_MAXFILESIZE_LARGE);
 * - no proxy, whatever the environment says (CURLOPT_PROXY ""): a checker
 *   must report what the destination answers, and tests against loopback
 *   servers must not depend on the caller's http_proxy;
 * - certificate and host name verification on (libcurl's default), with an
 *   optional CA file.
 *
 * curl_global_init() is not ours to call more than once: it runs under a
 * pthread_once at the first https_client_new(). It is never undone
 * (curl_global_cleanup at exit would race with other users of libcurl in the
 * same process); this is the only process-wide state the module has. */
#include "io/https.h"

#include <limits.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#ifndef MXTLS_VERSION
#define MXTLS_VERSION "dev"
#endif

#define HTTPS_MAX_REDIRECTS 5L
#define HTTPS_MAX_CONTENT_TYPE 256

typedef struct https_sock https_sock;
typedef struct https_xfer https_xfer;
typedef struct https_soon https_soon;

struct https_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    https_xfer *xfers;  /* transfers in flight */
    https_sock *socks;  /* sockets libcurl asked us to watch */
    https_soon *soons;  /* https_call_soon() calls not yet run */
    int busy;           /* depth of https_run(): callbacks may be running */
    int dying;          /* https_client_free() was called while busy */
};

/* One socket libcurl wants watched; attached with curl_multi_assign(). */
struct https_sock {
    https_client *c;
    curl_socket_t fd;
    struct event *ev;
    https_sock *next, *prev;
};

struct https_xfer {
    https_client *c;
    CURL *easy;
    https_cb cb;
    void (*cancelled)(void *arg);
    void *arg;
    struct curl_slist *headers;
    unsigned char *body;
    size_t len, cap, max;
    int too_large;
    int want_certinfo;
    int nomem;                  /* an allocation of ours failed during the transfer */
    https_response *spare;      /* preallocated: the out-of-memory response */
    struct curl_slist *resolve;
    X509_STORE *trust;          /* https_request.trust, held for the transfer */
    long timeout_ms;
    char errbuf[CURL_ERROR_SIZE];
    https_xfer *next, *prev;
};

/* A call deferred to the next turn of the loop. */
struct https_soon {
    https_client *c;
    struct event *ev;
    void (*fn)(void *);
    void (*cancelled)(void *);
    void *arg;
    https_soon *next, *prev;
};

static pthread_once_t https_once = PTHREAD_ONCE_INIT;
static CURLcode https_init_rc = CURLE_FAILED_INIT;

/* https_global_init - curl_global_init, exactly once per process */
static void https_global_init(void)
{
    https_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* https_response_free - free a response and everything it holds (NULL is fine) */
void https_response_free(https_response *r)
{
    if (!r)
        return;
    free(r->content_type);
    free(r->cert);
    free(r->primary_ip);
    free(r->body);
    free(r->error);
    free(r);
}

/* https_sock_free - stop watching a socket and forget it */
static void https_sock_free(https_sock *s)
{
    if (!s)
        return;
    if (s->ev)
        event_free(s->ev);
    if (s->prev)
        s->prev->next = s->next;
    else
        s->c->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    free(s);
}

/* https_xfer_free - release one transfer (already removed from the multi handle) */
static void https_xfer_free(https_xfer *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->resolve);
    X509_STORE_free(x->trust);
    free(x->body);
    free(x->spare);
    free(x);
}

/* https_ssl_ctx_cb - CURLOPT_SSL_CTX_FUNCTION: the connection verifies
 * against the caller's trust store, loaded once, instead of a CA file that
 * libcurl would parse for every connection (about 20 ms of CPU for Debian's
 * 144 roots) */
static CURLcode https_ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *arg)
{
    (void)easy;
    https_xfer *x = arg;
    SSL_CTX_set1_cert_store(ssl_ctx, x->trust);
    return CURLE_OK;
}

/* https_xfer_unlink - take a transfer off the client's list */
static void https_xfer_unlink(https_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        x->c->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->next = x->prev = NULL;
}

/* https_response_error - plain words for a failed transfer */
static char *https_response_error(https_xfer *x, CURLcode rc)
{
    char buf[CURL_ERROR_SIZE + 128];
    if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        snprintf(buf, sizeof buf, "body larger than %zu bytes", x->max);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(buf, sizeof buf, "timed out after %ld ms", x->timeout_ms);
    else if (x->errbuf[0])
        snprintf(buf, sizeof buf, "%s", x->errbuf);
    else
        snprintf(buf, sizeof buf, "%s", curl_easy_strerror(rc));
    return strdup(buf);
}

/* https_certinfo - the leaf's subject, issuer and dates from libcurl's
 * CURLINFO_CERTINFO ("Subject:...", "Issuer:...", "Start date:...",
 * "Expire date:..."), or NULL when libcurl has none (a failed handshake) */
static char *https_certinfo(CURL *easy, int *nomem)
{
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci ||
        ci->num_of_certs < 1)
        return NULL;
    static const char *const keys[] = {"Subject:", "Issuer:", "Start date:", "Expire date:"};
    char buf[2048];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
            if (!strncmp(l->data, keys[k], strlen(keys[k])) && o < sizeof buf) {
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.500s", o ? "; " : "",
                                      l->data);
                break;
            }
    char *s = buf[0] ? strdup(buf) : NULL;
    *nomem |= buf[0] && !s;
    return s;
}

/* https_finish - turn a completed transfer into a response for its callback */
static https_response *https_finish(https_xfer *x, CURLcode rc)
{
    https_response *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    r->nomem = x->nomem;
    if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        r->nomem |= !(r->content_type = strndup(ct, HTTPS_MAX_CONTENT_TYPE));
    char *ip = NULL;
    if (curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip)
        r->nomem |= !(r->primary_ip = strdup(ip));
    if (x->want_certinfo)
        r->cert = https_certinfo(x->easy, &r->nomem);
    if (rc == CURLE_OK) {
        r->ok = 1;
        /* Hand over the body; keep the promised terminating NUL. */
        if (!x->body) {
            x->body = malloc(1);
            if (!x->body) {
                https_response_free(r);
                return NULL;
            }
        }
        x->body[x->len] = '\0';
        r->body = x->body;
        r->body_len = x->len;
        x->body = NULL;
        x->len = x->cap = 0;
    } else {
        r->ok = 0;
        r->error = https_response_error(x, rc);
        if (!r->error) {
            https_response_free(r);
            return NULL;
        }
    }
    return r;
}

/* https_drain - deliver every finished transfer to its callback
 *
 * Each transfer is removed from the multi handle before its callback runs, so
 * the callback owns the only reference to the outcome. Stops when the client
 * is being freed: https_client_free() then cancels the rest silently. */
static void https_drain(https_client *c)
{
    CURLMsg *msg;
    int left;
    while (!c->dying && (msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result; /* msg is invalid after remove_handle */
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        https_xfer *x = (https_xfer *)(void *)priv;
        curl_multi_remove_handle(c->multi, easy);
        if (!x)
            continue;
        https_xfer_unlink(x);
        https_response *r = https_finish(x, rc);
        if (!r) {
            /* Out of memory: still exactly one callback, with the response
             * allocated when the fetch started. */
            r = x->spare;
            x->spare = NULL;
            r->nomem = 1;
        }
        https_cb cb = x->cb;
        void *arg = x->arg;
        https_xfer_free(x);
        cb(arg, r);
    }
}

static void https_destroy(https_client *c);
static void https_soon_free(https_soon *s);

/* https_fail_all - the multi handle is dead (a callback of ours failed for
 * want of memory: libcurl then refuses every further action): every
 * transfer still in flight ends with its out-of-memory response */
static void https_fail_all(https_client *c)
{
    while (c->xfers && !c->dying) {
        https_xfer *x = c->xfers;
        https_xfer_unlink(x);
        curl_multi_remove_handle(c->multi, x->easy);
        https_response *r = x->spare;
        x->spare = NULL;
        r->nomem = 1;
        https_cb cb = x->cb;
        void *arg = x->arg;
        https_xfer_free(x);
        cb(arg, r);
    }
}

/* https_run - let libcurl act on a socket (or on its timeout), then deliver */
static void https_run(https_client *c, curl_socket_t fd, int flags)
{
    int running = 0;
    c->busy++;
    CURLMcode mc = curl_multi_socket_action(c->multi, fd, flags, &running);
    https_drain(c);
    if (mc == CURLM_ABORTED_BY_CALLBACK || mc == CURLM_OUT_OF_MEMORY)
        https_fail_all(c);
    if (--c->busy == 0 && c->dying)
        https_destroy(c);
}

/* https_on_socket - libevent saw activity on a socket libcurl watches */
static void https_on_socket(evutil_socket_t fd, short what, void *arg)
{
    https_client *c = arg;
    int flags = 0;
    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    https_run(c, (curl_socket_t)fd, flags);
}

/* https_on_timer - libcurl's timeout expired */
static void https_on_timer(evutil_socket_t fd, short what, void *arg)
{
    https_run(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* https_easy_nomem - the transfer on easy lost an allocation of ours: its
 * response says so */
static void https_easy_nomem(CURL *easy)
{
    char *priv = NULL;
    if (easy && curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) == CURLE_OK && priv)
        ((https_xfer *)(void *)priv)->nomem = 1;
}

/* https_socket_cb - CURLMOPT_SOCKETFUNCTION: start, change or stop watching s
 *
 * Called from inside libcurl: it only (re)arms libevent, never calls libcurl
 * back except curl_multi_assign(), which the libcurl docs allow here. */
static int https_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    https_client *c = userp;
    https_sock *hs = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (hs) {
            curl_multi_assign(c->multi, s, NULL);
            https_sock_free(hs);
        }
        return 0;
    }
    short kind = EV_PERSIST;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        kind |= EV_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        kind |= EV_WRITE;
    if (!hs) {
        hs = calloc(1, sizeof *hs);
        if (!hs) {
            https_easy_nomem(easy);
            return -1;
        }
        hs->c = c;
        hs->fd = s;
        hs->next = c->socks;
        if (c->socks)
            c->socks->prev = hs;
        c->socks = hs;
        curl_multi_assign(c->multi, s, hs);
    }
    if (hs->ev) {
        event_del(hs->ev);
        if (event_assign(hs->ev, c->base, s, kind, https_on_socket, c) != 0)
            return -1;
    } else {
        hs->ev = event_new(c->base, s, kind, https_on_socket, c);
        if (!hs->ev) {
            https_easy_nomem(easy);
            return -1;
        }
    }
    return event_add(hs->ev, NULL) == 0 ? 0 : -1;
}

/* https_timer_cb - CURLMOPT_TIMERFUNCTION: one non-repeating timer
 *
 * -1 deletes it; any other value (0 included) re-arms it. Per the libcurl
 * docs we must not call curl_multi_socket_action() from here, so even a zero
 * timeout goes through the loop. */
static int https_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    https_client *c = userp;
    if (timeout_ms < 0)
        return event_del(c->timer) == 0 ? 0 : -1;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    return evtimer_add(c->timer, &tv) == 0 ? 0 : -1;
}

/* https_write_cb - CURLOPT_WRITEFUNCTION: append to the body, within the limit
 *
 * Returning less than size*nmemb makes libcurl abort with CURLE_WRITE_ERROR;
 * too_large turns that into "body larger than N bytes". */
static size_t https_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    https_xfer *x = userdata;
    size_t n = size * nmemb; /* libcurl guarantees size == 1 */
    if (n > x->max - x->len) {
        x->too_large = 1;
        return 0;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        if (x->max < SIZE_MAX && cap > x->max + 1)
            cap = x->max + 1;
        unsigned char *b = realloc(x->body, cap);
        if (!b) {
            x->nomem = 1;
            return 0;
        }
        x->body = b;
        x->cap = cap;
    }
    memcpy(x->body + x->len, ptr, n);
    x->len += n;
    return n;
}

/* https_client_new - a multi handle wired to base's sockets and timers */
https_client *https_client_new(struct event_base *base, err_rec *e)
{
    if (!base) {
        err_set(e, MXTLS_ERR_INVALID, "https", "no event loop");
        return NULL;
    }
    if (pthread_once(&https_once, https_global_init) != 0 || https_init_rc != CURLE_OK) {
        err_set(e, MXTLS_ERR_INVALID, "https", "cannot initialise libcurl: %s",
                curl_easy_strerror(https_init_rc));
        return NULL;
    }
    https_client *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(e, MXTLS_ERR_NOMEM, "https", "out of memory");
        return NULL;
    }
    c->base = base;
    c->multi = curl_multi_init();
    c->timer = evtimer_new(base, https_on_timer, c);
    if (!c->multi || !c->timer) {
        https_destroy(c);
        err_set(e, MXTLS_ERR_NOMEM, "https", "out of memory");
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, https_socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, https_timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

/* https_cancel_all - drop every transfer in flight and every deferred call
 * without callbacks (only the optional `cancelled` hooks, so owners can free
 * their state) */
static void https_cancel_all(https_client *c)
{
    while (c->xfers) {
        https_xfer *x = c->xfers;
        https_xfer_unlink(x);
        curl_multi_remove_handle(c->multi, x->easy);
        void (*cancelled)(void *) = x->cancelled;
        void *arg = x->arg;
        https_xfer_free(x);
        if (cancelled)
            cancelled(arg);
    }
    while (c->soons) {
        https_soon *s = c->soons;
        void (*cancelled)(void *) = s->cancelled;
        void *arg = s->arg;
        https_soon_free(s);
        if (cancelled)
            cancelled(arg);
    }
}

/* https_soon_free - take a deferred call off the list and free it */
static void https_soon_free(https_soon *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        s->c->soons = s->next;
    if (s->next)
        s->next->prev = s->prev;
    event_free(s->ev);
    free(s);
}

/* https_on_soon - run a deferred call (it may free the client) */
static void https_on_soon(evutil_socket_t fd, short what, void *arg)
{
    https_soon *s = arg;
    void (*fn)(void *) = s->fn;
    void *fn_arg = s->arg;
    https_soon_free(s);
    fn(fn_arg);
}

/* https_call_soon - fn(arg) on the next loop turn, cancelled with the client */
int https_call_soon(https_client *c, void (*fn)(void *arg), void (*cancelled)(void *arg),
                    void *arg, err_rec *e)
{
    if (!c || c->dying || !fn)
        return err_set(e, MXTLS_ERR_INVALID, "https", "invalid deferred call"), -1;
    https_soon *s = calloc(1, sizeof *s);
    if (s)
        s->ev = event_new(c->base, -1, 0, https_on_soon, s);
    if (!s || !s->ev) {
        free(s);
        return err_set(e, MXTLS_ERR_NOMEM, "https", "out of memory"), -1;
    }
    s->c = c;
    s->fn = fn;
    s->cancelled = cancelled;
    s->arg = arg;
    s->next = c->soons;
    if (c->soons)
        c->soons->prev = s;
    c->soons = s;
    event_active(s->ev, EV_TIMEOUT, 1);
    return 0;
}

/* https_destroy - free the client; nothing of it may be running */
static void https_destroy(https_client *c)
{
    if (c->multi) {
        https_cancel_all(c);
        /* libcurl may still report sockets (cached connections) and timers
         * while it cleans up: our structures stay valid until it returns. */
        curl_multi_cleanup(c->multi);
        c->multi = NULL;
    }
    while (c->socks)
        https_sock_free(c->socks);
    if (c->timer)
        event_free(c->timer);
    free(c);
}

/* https_client_free - cancel everything (no callbacks) and free, now or when
 * the running callback returns */
void https_client_free(https_client *c)
{
    if (!c)
        return;
    /* From now on https_fetch() refuses, also from a `cancelled` hook. */
    c->dying = 1;
    if (c->busy) {
        /* Called from a fetch callback: cancel now, free when https_run()
         * unwinds (objects are freed after the callback that ends them). */
        https_cancel_all(c);
        return;
    }
    https_destroy(c);
}

/* https_has_crlf - a header value with a line break would inject headers */
static int https_has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* https_fetch - set up one easy handle with the module's rules and add it */
int https_fetch(https_client *c, const https_request *req, https_cb cb, void *arg, err_rec *e)
{
    if (!c || c->dying || !req || !req->url || !cb)
        return err_set(e, MXTLS_ERR_INVALID, "https", "invalid fetch request"), -1;
    if (req->post_body && req->content_type && https_has_crlf(req->content_type))
        return err_set(e, MXTLS_ERR_INVALID, req->url,
                       "content type contains a line break"), -1;
    if (req->post_len > (size_t)LONG_MAX)
        return err_set(e, MXTLS_ERR_LIMIT, req->url, "request body too large"), -1;
    https_xfer *x = calloc(1, sizeof *x);
    if (!x)
        return err_set(e, MXTLS_ERR_NOMEM, "https", "out of memory"), -1;
    x->c = c;
    x->cb = cb;
    x->cancelled = req->cancelled;
    x->arg = arg;
    x->max = req->max_body ? req->max_body : HTTPS_DEFAULT_MAX_BODY;
    x->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : HTTPS_DEFAULT_TIMEOUT_MS;
    x->spare = calloc(1, sizeof *x->spare);
    x->easy = x->spare ? curl_easy_init() : NULL;
    if (!x->easy) {
        https_xfer_free(x);
        return err_set(e, MXTLS_ERR_NOMEM, "https", "out of memory"), -1;
    }
    CURL *h = x->easy;
    CURLcode rc = CURLE_OK;
#define HTTPS_SET(opt, val)                                                                    \
    do {                                                                                       \
        if (rc == CURLE_OK)                                                                    \
            rc = curl_easy_setopt(h, opt, val);                                                \
    } while (0)
    HTTPS_SET(CURLOPT_URL, req->url);
    HTTPS_SET(CURLOPT_PRIVATE, (void *)x);
    HTTPS_SET(CURLOPT_ERRORBUFFER, x->errbuf);
    HTTPS_SET(CURLOPT_WRITEFUNCTION, https_write_cb);
    HTTPS_SET(CURLOPT_WRITEDATA, (void *)x);
    /* No signals: the resolver must not longjmp out of a library user's
     * thread (libcurl docs, CURLOPT_NOSIGNAL). */
    HTTPS_SET(CURLOPT_NOSIGNAL, 1L);
    HTTPS_SET(CURLOPT_PROTOCOLS_STR, "http,https");
    HTTPS_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    HTTPS_SET(CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
    HTTPS_SET(CURLOPT_MAXREDIRS, HTTPS_MAX_REDIRECTS);
    HTTPS_SET(CURLOPT_TIMEOUT_MS, x->timeout_ms);
    /* Refuse early when the server announces a larger body; the write
     * callback enforces the limit when it does not (chunked, no length). */
    HTTPS_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
    /* "" disables proxies even when http_proxy/https_proxy/ALL_PROXY are set. */
    HTTPS_SET(CURLOPT_PROXY, "");
    HTTPS_SET(CURLOPT_USERAGENT, "mxtls/" MXTLS_VERSION);
    HTTPS_SET(CURLOPT_SSL_VERIFYPEER, 1L);
    HTTPS_SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->trust) {
        /* no CA file or directory for libcurl to read: the store is given
         * to each connection's SSL_CTX (https_ssl_ctx_cb) */
        x->trust = req->trust;
        X509_STORE_up_ref(x->trust);
        HTTPS_SET(CURLOPT_CAINFO, NULL);
        HTTPS_SET(CURLOPT_CAPATH, NULL);
        HTTPS_SET(CURLOPT_SSL_CTX_FUNCTION, https_ssl_ctx_cb);
        HTTPS_SET(CURLOPT_SSL_CTX_DATA, (void *)x);
    } else {
        if (req->ca_file)
            HTTPS_SET(CURLOPT_CAINFO, req->ca_file);
        if (req->ca_path)
            HTTPS_SET(CURLOPT_CAPATH, req->ca_path);
    }
    if (req->want_certinfo) {
        x->want_certinfo = 1;
        HTTPS_SET(CURLOPT_CERTINFO, 1L);
    }
    if (req->resolve) {
        if (https_has_crlf(req->resolve) || !(x->resolve = curl_slist_append(NULL, req->resolve))) {
            https_xfer_free(x);
            return err_set(e, MXTLS_ERR_INVALID, req->url, "bad resolve entry"), -1;
        }
        HTTPS_SET(CURLOPT_RESOLVE, x->resolve);
    }
    if (req->post_body) {
        char ct[HTTPS_MAX_CONTENT_TYPE + 32];
        snprintf(ct, sizeof ct, "Content-Type: %s",
                 req->content_type ? req->content_type : "application/octet-stream");
        struct curl_slist *l = curl_slist_append(NULL, ct);
        /* An empty "Expect:" stops libcurl waiting for 100-continue, which
         * small responders (openssl ocsp) never send. */
        struct curl_slist *l2 = l ? curl_slist_append(l, "Expect:") : NULL;
        if (!l2) {
            curl_slist_free_all(l);
            https_xfer_free(x);
            return err_set(e, MXTLS_ERR_NOMEM, "https", "out of memory"), -1;
        }
        x->headers = l2;
        HTTPS_SET(CURLOPT_HTTPHEADER, x->headers);
        HTTPS_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->post_len);
        /* COPYPOSTFIELDS: the caller's buffer need not outlive the call. */
        HTTPS_SET(CURLOPT_COPYPOSTFIELDS, req->post_body);
    }
#undef HTTPS_SET
    if (rc != CURLE_OK) {
        err_set(e, MXTLS_ERR_INVALID, req->url, "cannot set up the transfer: %s",
                curl_easy_strerror(rc));
        https_xfer_free(x);
        return -1;
    }
    /* Adding only arms the timer (libcurl calls https_timer_cb with 0); the
     * transfer starts from the loop, so no callback runs inside https_fetch. */
    CURLMcode mrc = curl_multi_add_handle(c->multi, h);
    if (mrc != CURLM_OK) {
        /* A dead multi handle (a callback of ours ran out of memory) or
         * libcurl's own shortage is this machine's failure. */
        err_set(e,
                mrc == CURLM_OUT_OF_MEMORY || mrc == CURLM_ABORTED_BY_CALLBACK ? MXTLS_ERR_NOMEM
                                                                               : MXTLS_ERR_INVALID,
                req->url, "cannot start the transfer: %s", curl_multi_strerror(mrc));
        https_xfer_free(x);
        return -1;
    }
    x->next = c->xfers;
    if (c->xfers)
        c->xfers->prev = x;
    c->xfers = x;
    return 0;
}
