/* httpserver.h - a tiny HTTP/1.1 server on a test's own libevent loop
 * (header-only), and the loop helpers its tests need
 *
 * httpsrv_start listens on 127.0.0.1 (ephemeral port, in ->port). Each
 * complete request (head, and a body as long as its Content-Length) is
 * counted in ->requests, its method, path, Content-Type and body (at most
 * HTTPSRV_MAX_BODY bytes) are kept in the server, and the test's handler
 * answers it with httpsrv_reply, or not at all to hold the connection open.
 * Every response closes its connection. Because server and client share one
 * event_base, the tests are deterministic and ASan sees every allocation.
 *
 * Include after <cmocka.h>. Everything is static inline so that a test file
 * that uses only part of it compiles without unused-function warnings. */
#ifndef MXTLS_HTTPSERVER_H
#define MXTLS_HTTPSERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define HTTPSRV_MAX_BODY 8192

typedef struct httpsrv httpsrv;
typedef struct httpsrv_conn httpsrv_conn;

/* httpsrv_handler - answer the request now in S (method, path, ctype, body) on C */
typedef void (*httpsrv_handler)(httpsrv *s, httpsrv_conn *c, void *arg);

struct httpsrv {
    struct event_base *base;
    struct evconnlistener *lis;
    int port;
    int requests;                         /* complete requests so far */
    char method[16], path[256], ctype[256]; /* of the last request */
    unsigned char body[HTTPSRV_MAX_BODY];
    size_t body_len;
    httpsrv_handler handler;
    void *arg;
    httpsrv_conn *conns;
};

struct httpsrv_conn {
    httpsrv *s;
    struct bufferevent *bev;
    int closing;
    httpsrv_conn *next;
};

/* httpsrv_conn_free - drop one connection */
static inline void httpsrv_conn_free(httpsrv_conn *c)
{
    httpsrv_conn **pp = &c->s->conns;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp)
        *pp = c->next;
    bufferevent_free(c->bev);
    free(c);
}

/* httpsrv_reply - queue a response ("200 OK"; CTYPE and EXTRA, a whole header
 * line, may be NULL; Content-Length only WITH_LENGTH) and close once it is
 * written */
static inline void httpsrv_reply(httpsrv_conn *c, const char *status, const char *ctype,
                                 const char *extra, const void *body, size_t len,
                                 int with_length)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "HTTP/1.1 %s\r\nConnection: close\r\n", status);
    if (ctype)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
    if (extra)
        evbuffer_add_printf(out, "%s\r\n", extra);
    if (with_length)
        evbuffer_add_printf(out, "Content-Length: %zu\r\n", len);
    evbuffer_add(out, "\r\n", 2);
    evbuffer_add(out, body, len);
    c->closing = 1;
}

/* httpsrv_header - value of a header in the request head, or "" */
static inline void httpsrv_header(const char *head, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            snprintf(out, n, "%.*s", (int)len, v);
            return;
        }
    }
}

/* httpsrv_on_read - collect one request, then let the handler answer it */
static inline void httpsrv_on_read(struct bufferevent *bev, void *arg)
{
    httpsrv_conn *c = arg;
    httpsrv *s = c->s;
    if (c->closing)
        return;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0)
        return;
    size_t head_len = (size_t)end.pos + 4;
    char head[4096];
    if (head_len >= sizeof head)
        head_len = sizeof head - 1;
    evbuffer_copyout(in, head, head_len);
    head[head_len] = '\0';
    char clen[32];
    httpsrv_header(head, "Content-Length", clen, sizeof clen);
    size_t blen = (size_t)strtoul(clen, NULL, 10);
    if (evbuffer_get_length(in) < head_len + blen)
        return;
    s->requests++;
    s->method[0] = s->path[0] = '\0';
    sscanf(head, "%15s %255s", s->method, s->path);
    httpsrv_header(head, "Content-Type", s->ctype, sizeof s->ctype);
    evbuffer_drain(in, head_len);
    s->body_len = blen < HTTPSRV_MAX_BODY ? blen : HTTPSRV_MAX_BODY;
    evbuffer_remove(in, s->body, s->body_len);
    evbuffer_drain(in, blen - s->body_len);
    s->handler(s, c, s->arg);
}

/* httpsrv_on_write - close once a response is out */
static inline void httpsrv_on_write(struct bufferevent *bev, void *arg)
{
    httpsrv_conn *c = arg;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        httpsrv_conn_free(c);
}

/* httpsrv_on_event - the client went away */
static inline void httpsrv_on_event(struct bufferevent *bev, short what, void *arg)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        httpsrv_conn_free(arg);
}

/* httpsrv_on_accept - a new client connection */
static inline void httpsrv_on_accept(struct evconnlistener *l, evutil_socket_t fd,
                                     struct sockaddr *sa, int salen, void *arg)
{
    httpsrv *s = arg;
    httpsrv_conn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->s = s;
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    assert_non_null(c->bev);
    c->next = s->conns;
    s->conns = c;
    bufferevent_setcb(c->bev, httpsrv_on_read, httpsrv_on_write, httpsrv_on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* httpsrv_start - listen on 127.0.0.1, ephemeral port; HANDLER answers */
static inline void httpsrv_start(httpsrv *s, struct event_base *base, httpsrv_handler handler,
                                 void *arg)
{
    memset(s, 0, sizeof *s);
    s->base = base;
    s->handler = handler;
    s->arg = arg;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lis = evconnlistener_new_bind(base, httpsrv_on_accept, s,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                     (struct sockaddr *)&sin, sizeof sin);
    assert_non_null(s->lis);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    assert_int_equal(getsockname(evconnlistener_get_fd(s->lis), (struct sockaddr *)&got, &len),
                     0);
    s->port = ntohs(got.sin_port);
}

/* httpsrv_stop - close every connection and the listener */
static inline void httpsrv_stop(httpsrv *s)
{
    while (s->conns)
        httpsrv_conn_free(s->conns);
    evconnlistener_free(s->lis);
}

/* ---- the loop ----------------------------------------------------------- */

/* loop_now_ms - a monotonic clock in milliseconds */
static inline double loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static inline void loop_on_tick(evutil_socket_t fd, short what, void *arg)
{
}

/* loop_run_until - turn BASE until *FLAG >= WANT (FLAG NULL: never) or MS
 * pass; a 20 ms tick keeps the loop turning while nothing else happens */
static inline void loop_run_until(struct event_base *base, const int *flag, int want, int ms)
{
    struct event *tick = event_new(base, -1, EV_PERSIST, loop_on_tick, NULL);
    struct timeval tv = {0, 20000};
    event_add(tick, &tv);
    double end = loop_now_ms() + ms;
    while ((!flag || *flag < want) && loop_now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(tick);
}

#endif
