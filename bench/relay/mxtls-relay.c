/* mxtls-relay - a relay that adds latency to TCP streams and UDP datagrams
 *
 * This machine's kernel has no netem (docs/world.md, PITFALLS), so the
 * benchmarks put this relay between a client and the world's servers:
 *
 *   mxtls-relay --map tcp:127.0.20.1:25=127.0.21.1:25 \
 *               --map udp:127.0.20.1:53=127.0.21.1:53 --delay-ms 25 \
 *               [--control FILE] [--pidfile FILE] [--max-conns N]
 *
 * Every byte and every datagram is held DELAY ms in each direction, so a
 * round trip through the relay costs 2 x DELAY more. TCP keeps order and
 * half-close (a FIN is relayed as a shutdown, after the data before it, with
 * the same delay); a reset or a failed upstream connection resets the other
 * side. The upstream connection is opened 3 x DELAY after the relay accepts:
 * the client's connect() returns at once (the kernel accepts for the relay),
 * and over a real path the server's first byte reaches the client two round
 * trips after the SYN (SYN, SYN-ACK, ACK, data): 3 x DELAY to the server's
 * accept plus DELAY back.
 *
 * UDP: each client address gets its own upstream socket, so replies go back
 * to the client that asked. A resolver sends each query from a new random
 * port, so sessions are many and short: a new client takes over the socket
 * of the least recently used session once that has been quiet (nothing
 * queued, nothing sent or received) for UDP_REUSE_QUIET_MS, so a survey does
 * not open and close a socket per query; one idle for UDP_IDLE_S is closed,
 * and at UDP_SESSIONS_MAX the least recently used idle one is closed to make
 * room. Datagrams are read and written in batches (recvmmsg, sendmmsg).
 *
 * Each delay queue (a TCP direction, a UDP map) is a FIFO with one timer
 * armed for its head: what is queued shares the delay, so due times never
 * decrease along the queue.
 *
 * SIGHUP re-reads the control file, one line:
 *   pass          no delay
 *   delay MS      DELAY = MS
 *   blackhole     accept / receive and never answer
 *   refuse        TCP: reset at once; UDP: drop
 * A new mode applies to connections accepted and data read from then on.
 * SIGTERM and SIGINT close everything and exit 0.
 *
 * Memory is bounded: per TCP direction at most PIPE_MAX bytes held (reading
 * stops until the receiver drains), per UDP map at most UDP_QUEUE_MAX bytes
 * queued (further datagrams are dropped, as a full router queue would),
 * at most --max-conns connections and UDP_SESSIONS_MAX sessions per map
 * (each an open socket).
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#define PIPE_MAX (256 * 1024)        /* bytes held per TCP direction */
#define CHUNK_MAX (64 * 1024)        /* bytes taken from a socket per read */
#define UDP_QUEUE_MAX (16 * 1024 * 1024) /* bytes queued per UDP map */
#define UDP_SESSIONS_MAX 8192        /* client addresses per UDP map */
#define UDP_IDLE_S 10                /* an idle UDP session is closed */
#define UDP_REUSE_QUIET_MS 1000      /* a session this quiet may serve a new client */
#define UDP_BUCKETS 16384            /* client-address hash, 2 x UDP_SESSIONS_MAX */
#define UDP_BATCH 16                 /* datagrams per recvmmsg / sendmmsg */
#define DELAY_MS_MAX 60000
#define MAPS_MAX 1024
#define CONNS_DEFAULT 20000

enum mode { MODE_PASS, MODE_DELAY, MODE_BLACKHOLE, MODE_REFUSE };
static const char *const mode_names[] = {"pass", "delay", "blackhole", "refuse"};

struct relay;
struct conn;

/* one queued piece of a TCP direction: data, or the end of the stream */
enum chunk_kind { CHUNK_DATA, CHUNK_EOF, CHUNK_RESET };
struct chunk {
    struct chunk *next;
    uint64_t due_us;
    enum chunk_kind kind;
    size_t len;
    unsigned char data[];
};

/* one direction of a TCP connection: bytes read from src wait in the queue
 * until due, then go to dst's output buffer */
struct pipe {
    struct conn *conn;
    struct bufferevent *src, *dst;
    struct chunk *head, *tail;
    size_t queued;
    struct event *timer;
    int eof_pending; /* the FIN is due: shut dst down once its output drains */
    int eof_done;
    int src_done;    /* nothing more is read from src */
};

struct conn {
    struct relay *relay;
    struct conn *prev, *next;
    struct bufferevent *client, *server; /* server NULL for a blackhole */
    struct pipe up, down;                /* client->server, server->client */
    struct event *connect_timer; /* until the upstream connect() starts */
    int server_up;               /* the upstream connection is established */
    const struct sockaddr_storage *target;
    int target_len;
};

struct dgram {
    struct dgram *next;
    uint64_t due_us;
    struct usess *sess;              /* to the target through this session */
    struct sockaddr_storage client;  /* or, when sess is NULL, to this client */
    socklen_t client_len;
    size_t len;
    unsigned char data[];
};

struct usess {
    struct umap *map;
    struct usess *hnext;          /* in the client-address hash */
    struct usess *older, *newer;  /* in the LRU list while nothing is queued */
    struct sockaddr_storage client;
    socklen_t client_len;
    int fd;
    struct event *ev;
    uint64_t last_us; /* the last datagram from the client, to or from the target */
    size_t pending;   /* datagrams in the queue that name this session */
};

struct umap {
    struct relay *relay;
    int fd;
    struct event *ev;
    struct sockaddr_storage target;
    int target_len;
    struct usess **buckets;          /* UDP_BUCKETS chains */
    struct usess *lru_old, *lru_new; /* sessions with nothing queued */
    size_t nsessions;
    struct dgram *head, *tail;
    size_t queued;
    struct event *timer;
    uint64_t armed_us; /* the timer is armed for this due time (0: not armed) */
    int full_logged, sessions_logged;
};

struct tmap {
    struct relay *relay;
    struct evconnlistener *listener;
    struct sockaddr_storage target;
    int target_len;
    struct event *resume;
};

struct relay {
    struct event_base *base;
    enum mode mode;
    unsigned delay_ms;
    const char *control;
    const char *pidfile;
    struct tmap tmaps[MAPS_MAX];
    size_t ntmaps;
    struct umap umaps[MAPS_MAX];
    size_t numaps;
    struct conn *conns;
    size_t nconns, max_conns;
    struct event *sig_term, *sig_int, *sig_hup, *sweep;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mxtls-relay: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* relay_delay_us - the one-way delay new data gets now */
static uint64_t relay_delay_us(const struct relay *r)
{
    return r->mode == MODE_DELAY ? (uint64_t)r->delay_ms * 1000u : 0;
}

static void arm(struct event *timer, uint64_t due_us)
{
    uint64_t now = now_us(), wait = due_us > now ? due_us - now : 0;
    struct timeval tv = {(time_t)(wait / 1000000u), (suseconds_t)(wait % 1000000u)};
    event_add(timer, &tv);
}

/* ------------------------------------------------------------------ TCP */

static void conn_free(struct conn *c, int reset)
{
    struct relay *r = c->relay;
    struct pipe *ps[2] = {&c->up, &c->down};
    for (int i = 0; i < 2; i++) {
        struct chunk *k = ps[i]->head;
        while (k) {
            struct chunk *n = k->next;
            free(k);
            k = n;
        }
        if (ps[i]->timer)
            event_free(ps[i]->timer);
    }
    struct bufferevent *bevs[2] = {c->client, c->server};
    for (int i = 0; i < 2; i++) {
        if (!bevs[i])
            continue;
        evutil_socket_t fd = bufferevent_getfd(bevs[i]);
        if (reset && fd >= 0) {
            /* close with RST: the peer sees the reset the other side sent */
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        bufferevent_free(bevs[i]);
    }
    if (c->connect_timer)
        event_free(c->connect_timer);
    if (c->prev)
        c->prev->next = c->next;
    else
        r->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    r->nconns--;
    free(c);
}

/* pipe_flow - stop reading src while too much is held, resume when drained */
static void pipe_flow(struct pipe *p)
{
    if (p->src_done)
        return;
    size_t held = p->queued + (p->dst ? evbuffer_get_length(bufferevent_get_output(p->dst)) : 0);
    if (held >= PIPE_MAX)
        bufferevent_disable(p->src, EV_READ);
    else
        bufferevent_enable(p->src, EV_READ);
}

/* pipe_try_shutdown - the FIN is due and dst has written everything before it.
 * Returns 1 when the connection was freed. */
static int pipe_try_shutdown(struct pipe *p)
{
    if (!p->eof_pending || p->eof_done || !p->dst)
        return 0;
    if (evbuffer_get_length(bufferevent_get_output(p->dst)) > 0)
        return 0;
    evutil_socket_t fd = bufferevent_getfd(p->dst);
    if (fd >= 0)
        shutdown(fd, SHUT_WR);
    p->eof_done = 1;
    struct conn *c = p->conn;
    if (c->up.eof_done && c->down.eof_done) {
        conn_free(c, 0);
        return 1;
    }
    return 0;
}

/* pipe_write - DATA to dst: straight to its socket while nothing waits in
 * its output buffer (no write event to arm and disarm for each piece), what
 * the socket does not take through the buffer, which writes it when it can
 * and reports errors */
static void pipe_write(struct pipe *p, const unsigned char *data, size_t len)
{
    struct conn *c = p->conn;
    if ((p->dst == c->client || c->server_up) && evbuffer_get_length(bufferevent_get_output(p->dst)) == 0) {
        ssize_t n = send(bufferevent_getfd(p->dst), data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        }
    }
    if (len > 0)
        bufferevent_write(p->dst, data, len);
}

/* pipe_deliver - move every chunk that is due to dst; returns 1 when the
 * connection was freed */
static int pipe_deliver(struct pipe *p)
{
    /* before the upstream connection exists nothing is written to it */
    if (p == &p->conn->up && p->conn->connect_timer)
        return 0;
    uint64_t now = now_us();
    while (p->head && p->head->due_us <= now) {
        struct chunk *k = p->head;
        p->head = k->next;
        if (!p->head)
            p->tail = NULL;
        p->queued -= k->len;
        enum chunk_kind kind = k->kind;
        if (kind == CHUNK_DATA)
            pipe_write(p, k->data, k->len);
        free(k);
        if (kind == CHUNK_RESET) {
            conn_free(p->conn, 1);
            return 1;
        }
        if (kind == CHUNK_EOF) {
            p->eof_pending = 1;
            if (pipe_try_shutdown(p))
                return 1;
        }
    }
    if (p->head)
        arm(p->timer, p->head->due_us);
    pipe_flow(p);
    return 0;
}

static void pipe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pipe_deliver(arg);
}

/* pipe_push - a new chunk of LEN bytes (for the caller to fill) at the end of
 * the queue, due after the current delay; NULL when out of memory */
static struct chunk *pipe_push(struct pipe *p, enum chunk_kind kind, size_t len)
{
    struct chunk *k = malloc(sizeof *k + len);
    if (!k)
        return NULL;
    uint64_t due = now_us() + relay_delay_us(p->conn->relay);
    /* never overtake what is already queued (the delay may have shrunk) */
    if (p->tail && p->tail->due_us > due)
        due = p->tail->due_us;
    k->next = NULL;
    k->due_us = due;
    k->kind = kind;
    k->len = len;
    if (p->tail)
        p->tail->next = k;
    else
        p->head = k;
    p->tail = k;
    p->queued += len;
    return k;
}

static struct pipe *pipe_of_src(struct conn *c, struct bufferevent *bev)
{
    return bev == c->client ? &c->up : &c->down;
}

static struct pipe *pipe_of_dst(struct conn *c, struct bufferevent *bev)
{
    return bev == c->client ? &c->down : &c->up;
}

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct pipe *p = pipe_of_src(c, bev);
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n;
    while ((n = evbuffer_get_length(in)) > 0) {
        if (n > CHUNK_MAX)
            n = CHUNK_MAX;
        struct chunk *k = pipe_push(p, CHUNK_DATA, n);
        if (!k) {
            say("out of memory: connection reset");
            conn_free(c, 1);
            return;
        }
        evbuffer_remove(in, k->data, n);
    }
    pipe_deliver(p);
}

/* the receiver drained its output: resume the sender, send a due FIN */
static void tcp_write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct pipe *p = pipe_of_dst(c, bev);
    if (pipe_try_shutdown(p))
        return;
    pipe_flow(p);
}

static void tcp_event_cb(struct bufferevent *bev, short events, void *arg)
{
    struct conn *c = arg;
    if (events & BEV_EVENT_CONNECTED) {
        c->server_up = 1;
        bufferevent_enable(c->server, EV_READ);
        pipe_deliver(&c->up);
        return;
    }
    if (bev == c->server && !c->server_up) {
        /* the upstream connection failed (refused, unreachable): reset the client */
        conn_free(c, 1);
        return;
    }
    struct pipe *p = pipe_of_src(c, bev);
    if (p->src_done) {
        /* writing failed after reading had ended (the peer is gone): what is
         * left for it can never be written, so nothing else will end this */
        if (events & BEV_EVENT_ERROR)
            conn_free(c, 1);
        return;
    }
    p->src_done = 1;
    bufferevent_disable(bev, EV_READ);
    /* what was read before the end still goes first */
    tcp_read_cb(bev, c);
    if (!pipe_push(p, (events & BEV_EVENT_EOF) ? CHUNK_EOF : CHUNK_RESET, 0)) {
        conn_free(c, 1);
        return;
    }
    pipe_deliver(p);
}

static void conn_connect_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    event_free(c->connect_timer);
    c->connect_timer = NULL;
    if (bufferevent_socket_connect(c->server, (const struct sockaddr *)c->target, c->target_len) < 0) {
        conn_free(c, 1);
        return;
    }
}

static void blackhole_read_cb(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void blackhole_event_cb(struct bufferevent *bev, short events, void *arg)
{
    (void)bev;
    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_free(arg, 0);
}

static void tcp_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                          void *arg)
{
    (void)l;
    (void)sa;
    (void)salen;
    struct tmap *m = arg;
    struct relay *r = m->relay;
    if (r->mode == MODE_REFUSE || r->nconns >= r->max_conns) {
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        evutil_closesocket(fd);
        return;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->relay = r;
    c->target = &m->target;
    c->target_len = m->target_len;
    c->client = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->client) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->next = r->conns;
    if (r->conns)
        r->conns->prev = c;
    r->conns = c;
    r->nconns++;
    c->up.conn = c->down.conn = c;
    if (r->mode == MODE_BLACKHOLE) {
        c->up.src = c->client;
        bufferevent_setcb(c->client, blackhole_read_cb, NULL, blackhole_event_cb, c);
        bufferevent_enable(c->client, EV_READ);
        return;
    }
    c->server = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
    c->up.timer = evtimer_new(r->base, pipe_timer_cb, &c->up);
    c->down.timer = evtimer_new(r->base, pipe_timer_cb, &c->down);
    c->connect_timer = evtimer_new(r->base, conn_connect_cb, c);
    if (!c->server || !c->up.timer || !c->down.timer || !c->connect_timer) {
        conn_free(c, 1);
        return;
    }
    c->up.src = c->client;
    c->up.dst = c->server;
    c->down.src = c->server;
    c->down.dst = c->client;
    struct bufferevent *bevs[2] = {c->client, c->server};
    for (int i = 0; i < 2; i++) {
        bufferevent_setcb(bevs[i], tcp_read_cb, tcp_write_cb, tcp_event_cb, c);
        bufferevent_setwatermark(bevs[i], EV_READ, 0, CHUNK_MAX);
        bufferevent_setwatermark(bevs[i], EV_WRITE, 0, 0);
    }
    bufferevent_enable(c->client, EV_READ);
    arm(c->connect_timer, now_us() + 3 * relay_delay_us(r));
}

static void listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evconnlistener_enable(((struct tmap *)arg)->listener);
}

/* accept() failed (most likely out of descriptors): pause 100 ms rather than
 * spin on the same error */
static void listener_error_cb(struct evconnlistener *l, void *arg)
{
    struct tmap *m = arg;
    int err = EVUTIL_SOCKET_ERROR();
    say("accept: %s (pausing 100 ms)", evutil_socket_error_to_string(err));
    evconnlistener_disable(l);
    struct timeval tv = {0, 100000};
    event_add(m->resume, &tv);
}

/* ------------------------------------------------------------------ UDP */

/* a static buffer per batch slot: datagrams are copied into the queue before
 * the next read, and the relay has one thread */
static unsigned char udp_bufs[UDP_BATCH][65536];

/* the client-address hash: FNV-1a over the address bytes */
static size_t addr_bucket(const struct sockaddr_storage *a, socklen_t len)
{
    const unsigned char *p = (const unsigned char *)a;
    uint64_t h = 1469598103934665603u;
    for (socklen_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return (size_t)(h ^ (h >> 32)) & (UDP_BUCKETS - 1);
}

static void usess_hash_insert(struct umap *m, struct usess *s)
{
    size_t b = addr_bucket(&s->client, s->client_len);
    s->hnext = m->buckets[b];
    m->buckets[b] = s;
}

static void usess_hash_remove(struct umap *m, struct usess *s)
{
    struct usess **pp = &m->buckets[addr_bucket(&s->client, s->client_len)];
    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = s->hnext;
}

/* The LRU list holds the sessions with nothing queued for the target (the
 * ones that may be closed or given to another client), oldest first. */
static void lru_unlink(struct umap *m, struct usess *s)
{
    if (s->older)
        s->older->newer = s->newer;
    else
        m->lru_old = s->newer;
    if (s->newer)
        s->newer->older = s->older;
    else
        m->lru_new = s->older;
    s->older = s->newer = NULL;
}

static void lru_append(struct umap *m, struct usess *s)
{
    s->newer = NULL;
    s->older = m->lru_new;
    if (m->lru_new)
        m->lru_new->newer = s;
    else
        m->lru_old = s;
    m->lru_new = s;
}

/* usess_touch - traffic at NOW on a session with nothing queued */
static void usess_touch(struct umap *m, struct usess *s, uint64_t now)
{
    s->last_us = now;
    if (s->pending == 0 && m->lru_new != s) {
        lru_unlink(m, s);
        lru_append(m, s);
    }
}

static void usess_close(struct umap *m, struct usess *s)
{
    usess_hash_remove(m, s);
    if (s->pending == 0)
        lru_unlink(m, s);
    m->nsessions--;
    event_free(s->ev);
    evutil_closesocket(s->fd);
    free(s);
}

/* umap_flush - send the batch of datagrams for clients (one sendmmsg);
 * one that fails is dropped, as a full socket buffer would */
static void umap_flush(struct umap *m, struct mmsghdr *msgs, unsigned n)
{
    unsigned done = 0;
    while (done < n) {
        int k = sendmmsg(m->fd, msgs + done, n - done, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            k = 0;
        }
        if ((unsigned)k == n - done)
            break;
        done += (unsigned)k + 1; /* skip the one that failed */
    }
}

static void umap_deliver(struct umap *m)
{
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct dgram *sent[UDP_BATCH];
    unsigned n = 0;
    uint64_t now = now_us();
    while (m->head && m->head->due_us <= now) {
        struct dgram *g = m->head;
        m->head = g->next;
        if (!m->head)
            m->tail = NULL;
        m->queued -= g->len;
        if (g->sess) {
            struct usess *s = g->sess;
            (void)send(s->fd, g->data, g->len, 0);
            s->last_us = now;
            if (--s->pending == 0)
                lru_append(m, s);
            free(g);
            continue;
        }
        iov[n].iov_base = g->data;
        iov[n].iov_len = g->len;
        memset(&msgs[n], 0, sizeof msgs[n]);
        msgs[n].msg_hdr.msg_name = &g->client;
        msgs[n].msg_hdr.msg_namelen = g->client_len;
        msgs[n].msg_hdr.msg_iov = &iov[n];
        msgs[n].msg_hdr.msg_iovlen = 1;
        sent[n++] = g;
        if (n == UDP_BATCH) {
            umap_flush(m, msgs, n);
            while (n)
                free(sent[--n]);
        }
    }
    if (n) {
        umap_flush(m, msgs, n);
        while (n)
            free(sent[--n]);
    }
    /* one timer for the queue, armed for its head (due times never decrease) */
    if (m->head && m->head->due_us != m->armed_us) {
        arm(m->timer, m->head->due_us);
        m->armed_us = m->head->due_us;
    }
}

static void umap_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct umap *m = arg;
    m->armed_us = 0;
    umap_deliver(m);
}

/* umap_push - queue a datagram, due after the current delay; the caller
 * delivers (umap_deliver) once its batch is queued */
static void umap_push(struct umap *m, struct usess *s, const struct sockaddr_storage *client, socklen_t clen,
                      const unsigned char *data, size_t len, uint64_t now)
{
    if (m->queued + len > UDP_QUEUE_MAX) {
        if (!m->full_logged)
            say("UDP queue full (%d bytes): dropping datagrams", UDP_QUEUE_MAX);
        m->full_logged = 1;
        return;
    }
    struct dgram *g = malloc(sizeof *g + len);
    if (!g)
        return;
    uint64_t due = now + relay_delay_us(m->relay);
    if (m->tail && m->tail->due_us > due)
        due = m->tail->due_us;
    g->next = NULL;
    g->due_us = due;
    g->sess = s;
    if (s && s->pending++ == 0)
        lru_unlink(m, s); /* not to be closed or reused while this waits */
    if (client) {
        memcpy(&g->client, client, clen);
        g->client_len = clen;
    } else {
        g->client_len = 0;
    }
    g->len = len;
    memcpy(g->data, data, len);
    if (m->tail)
        m->tail->next = g;
    else
        m->head = g;
    m->tail = g;
    m->queued += len;
}

/* udp_recv_batch - up to UDP_BATCH datagrams from FD into udp_bufs (names
 * into FROM when given) with one call; 0 when none is waiting */
static int udp_recv_batch(int fd, struct mmsghdr *msgs, struct iovec *iov, struct sockaddr_storage *from)
{
    for (int i = 0; i < UDP_BATCH; i++) {
        iov[i].iov_base = udp_bufs[i];
        iov[i].iov_len = sizeof udp_bufs[i];
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (from) {
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        }
    }
    int n;
    do
        n = recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? 0 : n;
}

/* replies from the target to one session: back to its client */
static void usess_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct usess *s = arg;
    struct umap *m = s->map;
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    /* at most 4 batches per wakeup, so one busy session does not starve
     * the others; a short batch means the socket is empty */
    for (int round = 0; round < 4; round++) {
        int n = udp_recv_batch(fd, msgs, iov, NULL);
        if (n == 0)
            break;
        uint64_t now = now_us();
        usess_touch(m, s, now);
        if (m->relay->mode != MODE_BLACKHOLE && m->relay->mode != MODE_REFUSE)
            for (int i = 0; i < n; i++)
                umap_push(m, NULL, &s->client, s->client_len, udp_bufs[i], msgs[i].msg_len, now);
        if (n < UDP_BATCH)
            break;
    }
    umap_deliver(m);
}

static struct usess *usess_find(struct umap *m, const struct sockaddr_storage *from, socklen_t len)
{
    for (struct usess *s = m->buckets[addr_bucket(from, len)]; s; s = s->hnext)
        if (s->client_len == len && memcmp(&s->client, from, len) == 0)
            return s;
    return NULL;
}

/* usess_get - the session of a client address, new if needed. A new client
 * takes over the least recently used session with nothing queued when it
 * has been quiet UDP_REUSE_QUIET_MS (no socket to open or close: a resolver
 * asks from a new port every time); else it gets a new socket, and at
 * UDP_SESSIONS_MAX the least recently used one is closed to make room (its
 * late replies are dropped, not given to the newcomer). */
static struct usess *usess_get(struct umap *m, const struct sockaddr_storage *from, socklen_t len, uint64_t now)
{
    struct usess *s = usess_find(m, from, len);
    if (s)
        return s;
    struct usess *oldest = m->lru_old;
    if (oldest && oldest->last_us + (uint64_t)UDP_REUSE_QUIET_MS * 1000u <= now) {
        usess_hash_remove(m, oldest);
        memcpy(&oldest->client, from, len);
        oldest->client_len = len;
        usess_hash_insert(m, oldest);
        usess_touch(m, oldest, now);
        return oldest;
    }
    if (m->nsessions >= UDP_SESSIONS_MAX) {
        if (!oldest) {
            if (!m->sessions_logged)
                say("%d UDP sessions, none idle: dropping datagrams of new clients", UDP_SESSIONS_MAX);
            m->sessions_logged = 1;
            return NULL;
        }
        usess_close(m, oldest);
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = socket(m->target.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&m->target, (socklen_t)m->target_len) < 0) {
        if (s->fd >= 0)
            evutil_closesocket(s->fd);
        free(s);
        return NULL;
    }
    s->ev = event_new(m->relay->base, s->fd, EV_READ | EV_PERSIST, usess_read_cb, s);
    if (!s->ev || event_add(s->ev, NULL) < 0) {
        if (s->ev)
            event_free(s->ev);
        evutil_closesocket(s->fd);
        free(s);
        return NULL;
    }
    s->map = m;
    memcpy(&s->client, from, len);
    s->client_len = len;
    s->last_us = now;
    usess_hash_insert(m, s);
    lru_append(m, s);
    m->nsessions++;
    return s;
}

/* datagrams from clients: to the target through each client's session */
static void umap_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct umap *m = arg;
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    static struct sockaddr_storage from[UDP_BATCH];
    for (int round = 0; round < 4; round++) {
        int n = udp_recv_batch(fd, msgs, iov, from);
        if (n == 0)
            break;
        if (m->relay->mode != MODE_BLACKHOLE && m->relay->mode != MODE_REFUSE) {
            uint64_t now = now_us();
            for (int i = 0; i < n; i++) {
                struct usess *s = usess_get(m, &from[i], msgs[i].msg_hdr.msg_namelen, now);
                if (!s)
                    continue;
                s->last_us = now;
                umap_push(m, s, NULL, 0, udp_bufs[i], msgs[i].msg_len, now);
            }
        }
        if (n < UDP_BATCH)
            break;
    }
    umap_deliver(m);
}

/* close UDP sessions idle for UDP_IDLE_S with nothing queued for them */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct relay *r = arg;
    uint64_t limit = now_us() - (uint64_t)UDP_IDLE_S * 1000000u;
    for (size_t i = 0; i < r->numaps; i++) {
        struct umap *m = &r->umaps[i];
        while (m->lru_old && m->lru_old->last_us < limit)
            usess_close(m, m->lru_old);
    }
}

/* ------------------------------------------------------------------ control */

/* control_parse - LINE as a mode; returns 0, or -1 with *why set */
static int control_parse(const char *line, enum mode *mode, unsigned *delay, const char **why)
{
    char word[16];
    long ms;
    char extra[2];
    if (sscanf(line, "%15s", word) != 1) {
        *why = "empty";
        return -1;
    }
    if (strcmp(word, "delay") == 0) {
        int n = sscanf(line, " delay %ld %1s", &ms, extra);
        if (n != 1 || ms < 0 || ms > DELAY_MS_MAX) {
            *why = "expected `delay MS` with MS from 0 to 60000";
            return -1;
        }
        *mode = MODE_DELAY;
        *delay = (unsigned)ms;
        return 0;
    }
    if (sscanf(line, " %*s %1s", extra) == 1) {
        *why = "unexpected text after the mode";
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        if (i != MODE_DELAY && strcmp(word, mode_names[i]) == 0) {
            *mode = (enum mode)i;
            return 0;
        }
    }
    *why = "unknown mode (pass, delay MS, blackhole, refuse)";
    return -1;
}

static void control_reload(struct relay *r)
{
    FILE *f = fopen(r->control, "r");
    if (!f) {
        say("%s: %s (mode unchanged)", r->control, strerror(errno));
        return;
    }
    char line[256] = "";
    if (!fgets(line, sizeof line, f))
        line[0] = 0;
    fclose(f);
    enum mode mode = r->mode;
    unsigned delay = r->delay_ms;
    const char *why = NULL;
    if (control_parse(line, &mode, &delay, &why) < 0) {
        say("%s: line 1: %s (mode unchanged)", r->control, why);
        return;
    }
    r->mode = mode;
    r->delay_ms = delay;
    if (mode == MODE_DELAY)
        say("mode delay %u ms", delay);
    else
        say("mode %s", mode_names[mode]);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct relay *r = arg;
    if (sig == SIGHUP) {
        if (r->control)
            control_reload(r);
        return;
    }
    event_base_loopbreak(r->base);
}

/* ------------------------------------------------------------------ setup */

static int parse_map(struct relay *r, const char *spec)
{
    const char *eq = strchr(spec, '=');
    int tcp = strncmp(spec, "tcp:", 4) == 0, udp = strncmp(spec, "udp:", 4) == 0;
    if ((!tcp && !udp) || !eq) {
        say("--map %s: expected tcp:ADDR:PORT=ADDR:PORT or udp:ADDR:PORT=ADDR:PORT", spec);
        return -1;
    }
    char listen_s[128];
    size_t ll = (size_t)(eq - (spec + 4));
    if (ll >= sizeof listen_s) {
        say("--map %s: listening address too long", spec);
        return -1;
    }
    memcpy(listen_s, spec + 4, ll);
    listen_s[ll] = 0;
    struct sockaddr_storage la, ta;
    int llen = sizeof la, tlen = sizeof ta;
    if (evutil_parse_sockaddr_port(listen_s, (struct sockaddr *)&la, &llen) < 0 ||
        evutil_parse_sockaddr_port(eq + 1, (struct sockaddr *)&ta, &tlen) < 0) {
        say("--map %s: cannot parse an address (ADDR:PORT or [ADDR6]:PORT)", spec);
        return -1;
    }
    if (tcp) {
        if (r->ntmaps >= MAPS_MAX) {
            say("more than %d TCP maps", MAPS_MAX);
            return -1;
        }
        struct tmap *m = &r->tmaps[r->ntmaps];
        m->relay = r;
        m->target = ta;
        m->target_len = tlen;
        m->listener = evconnlistener_new_bind(r->base, tcp_accept_cb, m,
                                              LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 4096,
                                              (struct sockaddr *)&la, llen);
        if (!m->listener) {
            say("--map %s: cannot listen on %s: %s", spec, listen_s, strerror(errno));
            return -1;
        }
        m->resume = evtimer_new(r->base, listener_resume_cb, m);
        evconnlistener_set_error_cb(m->listener, listener_error_cb);
        r->ntmaps++;
    } else {
        if (r->numaps >= MAPS_MAX) {
            say("more than %d UDP maps", MAPS_MAX);
            return -1;
        }
        struct umap *m = &r->umaps[r->numaps];
        m->relay = r;
        m->target = ta;
        m->target_len = tlen;
        m->fd = socket(la.ss_family, SOCK_DGRAM, 0);
        int one = 1;
        if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(m->fd, (struct sockaddr *)&la, (socklen_t)llen) < 0 ||
            evutil_make_socket_nonblocking(m->fd) < 0) {
            say("--map %s: cannot bind %s: %s", spec, listen_s, strerror(errno));
            if (m->fd >= 0)
                close(m->fd);
            return -1;
        }
        m->buckets = calloc(UDP_BUCKETS, sizeof *m->buckets);
        m->ev = event_new(r->base, m->fd, EV_READ | EV_PERSIST, umap_read_cb, m);
        m->timer = evtimer_new(r->base, umap_timer_cb, m);
        r->numaps++; /* relay_free frees what was made */
        if (!m->buckets || !m->ev || !m->timer || event_add(m->ev, NULL) < 0) {
            say("--map %s: out of memory", spec);
            return -1;
        }
    }
    return 0;
}

static void usage(void)
{
    fputs("usage: mxtls-relay --map tcp|udp:ADDR:PORT=ADDR:PORT ... [--delay-ms N]\n"
          "                   [--control FILE] [--pidfile FILE] [--max-conns N]\n",
          stderr);
}

static void relay_free(struct relay *r)
{
    while (r->conns)
        conn_free(r->conns, 0);
    for (size_t i = 0; i < r->ntmaps; i++) {
        evconnlistener_free(r->tmaps[i].listener);
        event_free(r->tmaps[i].resume);
    }
    for (size_t i = 0; i < r->numaps; i++) {
        struct umap *m = &r->umaps[i];
        while (m->head) {
            struct dgram *g = m->head;
            m->head = g->next;
            free(g);
        }
        for (size_t b = 0; m->buckets && b < UDP_BUCKETS; b++)
            while (m->buckets[b])
                usess_close(m, m->buckets[b]);
        free(m->buckets);
        if (m->ev)
            event_free(m->ev);
        if (m->timer)
            event_free(m->timer);
        close(m->fd);
    }
    struct event *evs[4] = {r->sig_term, r->sig_int, r->sig_hup, r->sweep};
    for (int i = 0; i < 4; i++)
        if (evs[i])
            event_free(evs[i]);
    event_base_free(r->base);
}

int main(int argc, char **argv)
{
    static struct relay relay; /* large (the map tables): not on the stack */
    struct relay *r = &relay;
    r->max_conns = CONNS_DEFAULT;
    signal(SIGPIPE, SIG_IGN);
    /* thousands of connections, two descriptors each */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    r->base = event_base_new();
    if (!r->base) {
        say("cannot create an event base");
        return 4;
    }
    int nmaps = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (!v) {
            say("%s: missing value", a);
            usage();
            return 2;
        }
        i++;
        if (strcmp(a, "--map") == 0) {
            if (parse_map(r, v) < 0)
                return 2;
            nmaps++;
        } else if (strcmp(a, "--delay-ms") == 0) {
            char *end;
            long ms = strtol(v, &end, 10);
            if (*v == 0 || *end || ms < 0 || ms > DELAY_MS_MAX) {
                say("--delay-ms %s: expected 0 to %d", v, DELAY_MS_MAX);
                return 2;
            }
            r->delay_ms = (unsigned)ms;
        } else if (strcmp(a, "--control") == 0) {
            r->control = v;
        } else if (strcmp(a, "--pidfile") == 0) {
            r->pidfile = v;
        } else if (strcmp(a, "--max-conns") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*v == 0 || *end || n < 1 || n > 1000000) {
                say("--max-conns %s: expected 1 to 1000000", v);
                return 2;
            }
            r->max_conns = (size_t)n;
        } else {
            say("%s: unknown option", a);
            usage();
            return 2;
        }
    }
    if (nmaps == 0) {
        say("no --map given");
        usage();
        return 2;
    }
    r->mode = r->delay_ms ? MODE_DELAY : MODE_PASS;
    if (r->control && access(r->control, F_OK) == 0)
        control_reload(r);
    r->sig_term = evsignal_new(r->base, SIGTERM, signal_cb, r);
    r->sig_int = evsignal_new(r->base, SIGINT, signal_cb, r);
    r->sig_hup = evsignal_new(r->base, SIGHUP, signal_cb, r);
    r->sweep = event_new(r->base, -1, EV_PERSIST, sweep_cb, r);
    struct timeval five = {5, 0};
    if (!r->sig_term || !r->sig_int || !r->sig_hup || !r->sweep || event_add(r->sig_term, NULL) < 0 ||
        event_add(r->sig_int, NULL) < 0 || event_add(r->sig_hup, NULL) < 0 || event_add(r->sweep, &five) < 0) {
        say("cannot set up signal handling");
        return 4;
    }
    /* the pid file says: every map is listening */
    if (r->pidfile) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s.tmp", r->pidfile);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 || rename(tmp, r->pidfile) < 0) {
            say("%s: %s", r->pidfile, strerror(errno));
            return 4;
        }
    }
    event_base_dispatch(r->base);
    relay_free(r);
    if (r->pidfile)
        unlink(r->pidfile);
    return 0;
}
