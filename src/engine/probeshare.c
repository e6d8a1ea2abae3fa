/* probeshare.c - shared probe results and per-address politeness (probeshare.h)
 *
 * An entry is one key's probe: QUEUED (waiting for a politeness bound),
 * RUNNING, BACKOFF (waiting to retry a 421/450 greeting or a refused
 * connection) or DONE (result kept, with sharing on). Waiters hang on the
 * entry until its result comes; each then gets its own hold on the report,
 * delivered from its own event so that no callback runs inside a call of the
 * caller's (probeshare_get) or inside another waiter's callback. */
#include "engine/probeshare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

typedef enum ps_state { PS_QUEUED, PS_RUNNING, PS_BACKOFF, PS_DONE } ps_state;

/* ps_ip - what politeness knows of one server address */
typedef struct ps_ip {
    char *ip;
    unsigned active;              /* connections open now */
    struct timeval next_start;    /* earliest start of the next connection (ip_rate) */
    struct ps_ip *bnext;
} ps_ip;

typedef struct ps_entry {
    probeshare *ps;
    char *key;
    unsigned long hash;
    int in_table;
    int kept;                         /* on the list of kept results */
    struct ps_entry *bnext;           /* bucket chain */
    struct ps_entry *prev, *next;     /* every entry (for probeshare_free) */
    struct ps_entry *qprev, *qnext;   /* queue (QUEUED) or kept results (DONE) */
    ps_ip *ipst;
    probe_config pc;                  /* strings below are the entry's */
    char *ip, *ehlo, *sni, *ciphers;
    SSL_CTX *ssl;                     /* up-referenced */
    ps_state state;
    unsigned attempt;                 /* 0: the first connection */
    probe *running;
    probe_report *rep;                /* DONE: the kept result (the entry's hold) */
    probeshare_wait *waiters;
    struct event *timer;              /* BACKOFF */
} ps_entry;

struct probeshare_wait {
    probeshare *ps;
    ps_entry *e;                      /* NULL once the result is on its way */
    probe_cb cb;
    void *arg;
    struct event *ev;                 /* delivery */
    probe_report *rep;                /* the waiter's hold, until delivered */
    struct probeshare_wait *prev, *next;
};

struct probeshare {
    struct event_base *base;
    probeshare_limits lim;
    ps_entry *buckets[PROBESHARE_BUCKETS];
    ps_ip *ips[PROBESHARE_BUCKETS];
    ps_entry *all;
    ps_entry *qhead, *qtail;          /* QUEUED, first come first served */
    ps_entry *khead, *ktail;          /* DONE and kept, oldest first */
    size_t nkept;
    unsigned active;
    struct event *pump_timer;
    probeshare_stats st;
};

static void ps_pump(probeshare *ps);

/* ps_hash - FNV-1a, 64 bits */
static unsigned long ps_hash(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (unsigned long)h;
}

static int ps_tv_before(const struct timeval *a, const struct timeval *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_usec < b->tv_usec);
}

static ps_ip *ps_ip_get(probeshare *ps, const char *ip)
{
    unsigned long h = ps_hash(ip) % PROBESHARE_BUCKETS;
    for (ps_ip *p = ps->ips[h]; p; p = p->bnext)
        if (!strcmp(p->ip, ip))
            return p;
    ps_ip *p = calloc(1, sizeof *p);
    if (!p || !(p->ip = strdup(ip))) {
        free(p);
        return NULL;
    }
    p->bnext = ps->ips[h];
    ps->ips[h] = p;
    return p;
}

/* ps_key - the key of a probe: every input that can change what it sees */
static char *ps_key(const char *host, const probe_config *pc)
{
    strbuf b;
    sb_init(&b, 8192);
    mxtls_status st = sb_printf(&b, "%s\x1f%s\x1f%u\x1f%d\x1f%d\x1f%s\x1f%d\x1f%s\x1f%u\x1f%u\x1f%u\x1f%d\x1f%s\x1f%d\x1f%d",
              host ? host : "", pc->ip, (unsigned)pc->port, pc->implicit_tls, pc->no_starttls,
              pc->ehlo_name ? pc->ehlo_name : "", pc->sni != NULL, pc->sni ? pc->sni : "",
              pc->proto_excluded, pc->proto_floor, pc->proto_ceiling, pc->cipher_list != NULL,
              pc->cipher_list ? pc->cipher_list : "", pc->postfix_security, pc->want_ocsp_staple);
    if (st != MXTLS_OK) {
        sb_free(&b);
        return NULL;
    }
    return sb_take(&b);
}

static void ps_queue_unlink(ps_entry **head, ps_entry **tail, ps_entry *e)
{
    if (e->qprev)
        e->qprev->qnext = e->qnext;
    else if (*head == e)
        *head = e->qnext;
    if (e->qnext)
        e->qnext->qprev = e->qprev;
    else if (*tail == e)
        *tail = e->qprev;
    e->qprev = e->qnext = NULL;
}

static void ps_queue_append(ps_entry **head, ps_entry **tail, ps_entry *e)
{
    e->qnext = NULL;
    e->qprev = *tail;
    if (*tail)
        (*tail)->qnext = e;
    else
        *head = e;
    *tail = e;
}

static void ps_waiter_free(probeshare_wait *w)
{
    if (w->ev)
        event_free(w->ev);
    probe_report_free(w->rep);
    free(w);
}

/* ps_entry_free - off every list, its probe cancelled, its waiters dropped
 * (no callbacks) */
static void ps_entry_free(ps_entry *e)
{
    probeshare *ps = e->ps;
    if (e->in_table) {
        ps_entry **pp = &ps->buckets[e->hash % PROBESHARE_BUCKETS];
        while (*pp && *pp != e)
            pp = &(*pp)->bnext;
        if (*pp)
            *pp = e->bnext;
        e->in_table = 0;
    }
    if (e->state == PS_QUEUED)
        ps_queue_unlink(&ps->qhead, &ps->qtail, e);
    else if (e->kept) {
        ps_queue_unlink(&ps->khead, &ps->ktail, e);
        ps->nkept--;
    }
    if (e->prev)
        e->prev->next = e->next;
    else if (ps->all == e)
        ps->all = e->next;
    if (e->next)
        e->next->prev = e->prev;
    if (e->running) {
        probe_cancel(e->running);
        ps->active--;
        e->ipst->active--;
    }
    while (e->waiters) {
        probeshare_wait *w = e->waiters;
        e->waiters = w->next;
        ps_waiter_free(w);
    }
    if (e->timer)
        event_free(e->timer);
    probe_report_free(e->rep);
    SSL_CTX_free(e->ssl);
    free(e->key);
    free(e->ip);
    free(e->ehlo);
    free(e->sni);
    free(e->ciphers);
    free(e);
}

static void ps_deliver_cb(evutil_socket_t fd, short what, void *arg)
{
    probeshare_wait *w = arg;
    (void)fd;
    (void)what;
    probe_cb cb = w->cb;
    void *cbarg = w->arg;
    probe_report *r = w->rep;
    w->rep = NULL;
    ps_waiter_free(w);
    cb(cbarg, r);
}

/* ps_finish - the entry's result is final: every waiter gets a hold on it */
static void ps_finish(ps_entry *e, probe_report *r)
{
    probeshare *ps = e->ps;
    while (e->waiters) {
        probeshare_wait *w = e->waiters;
        e->waiters = w->next;
        w->prev = w->next = NULL;
        w->e = NULL;
        w->rep = probe_report_ref(r);
        event_active(w->ev, 0, 0);
    }
    e->state = PS_DONE;
    e->rep = r;
    if (!ps->lim.share || !e->in_table || !r) {
        ps_entry_free(e);
        return;
    }
    e->kept = 1;
    ps_queue_append(&ps->khead, &ps->ktail, e);
    if (++ps->nkept > PROBESHARE_MAX_ENTRIES)
        ps_entry_free(ps->khead); /* the oldest result goes */
}

/* ps_failed_report - a report for a queued probe that could not start: the
 * connection was never made, and why */
static probe_report *ps_failed_report(const ps_entry *e, const char *why)
{
    probe_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->ip = strdup(e->ip);
    r->port = e->pc.port ? e->pc.port : 25;
    r->connect_error = strdup(why);
    if (!r->ip || !r->connect_error) /* says nothing of the server */
        r->local_failure = 1;
    return r;
}

/* ps_retryable - a temporary refusal a sender retries: a 421 or 450
 * greeting, or a refused connection (the server's listener is full or
 * restarting) */
static int ps_retryable(const probe_report *r)
{
    if (!r->connected)
        return r->connect_error && strstr(r->connect_error, "refused") != NULL;
    return r->smtp.outcome == SMTP_OUTCOME_BANNER_REJECTED &&
           (r->smtp.banner.code == 421 || r->smtp.banner.code == 450);
}

static void ps_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    ps_entry *e = arg;
    (void)fd;
    (void)what;
    e->state = PS_QUEUED;
    ps_queue_append(&e->ps->qhead, &e->ps->qtail, e);
    ps_pump(e->ps);
}

static void ps_probe_done(void *arg, probe_report *r)
{
    ps_entry *e = arg;
    probeshare *ps = e->ps;
    e->running = NULL;
    ps->active--;
    e->ipst->active--;
    if (r && ps_retryable(r) && e->attempt < ps->lim.retries && e->attempt < PROBESHARE_MAX_RETRIES) {
        long delay = ps->lim.retry_delay_ms > 0 ? ps->lim.retry_delay_ms : 1000;
        for (unsigned i = 0; i < e->attempt && delay < PROBESHARE_MAX_RETRY_DELAY_MS; i++)
            delay *= 2;
        if (delay > PROBESHARE_MAX_RETRY_DELAY_MS)
            delay = PROBESHARE_MAX_RETRY_DELAY_MS;
        struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
        if ((e->timer || (e->timer = evtimer_new(ps->base, ps_retry_cb, e))) &&
            evtimer_add(e->timer, &tv) == 0) {
            e->attempt++;
            e->state = PS_BACKOFF;
            probe_report_free(r);
            ps_pump(ps);
            return;
        }
    }
    ps_finish(e, r);
    ps_pump(ps);
}

/* ps_start - connect now; 0, or -1 with the error in err */
static int ps_start(ps_entry *e, err_rec *err)
{
    probeshare *ps = e->ps;
    e->running = probe_start(ps->base, e->ssl, &e->pc, ps_probe_done, e, err);
    if (!e->running)
        return -1;
    e->state = PS_RUNNING;
    ps->active++;
    e->ipst->active++;
    ps->st.probes++;
    if (e->attempt)
        ps->st.retries++;
    if (ps->active > ps->st.peak_connections)
        ps->st.peak_connections = ps->active;
    if (e->ipst->active > ps->st.peak_per_ip)
        ps->st.peak_per_ip = e->ipst->active;
    if (ps->lim.ip_rate > 0) {
        struct timeval now;
        gettimeofday(&now, NULL);
        long long us = (long long)(1e6 / ps->lim.ip_rate);
        long long t = (long long)now.tv_sec * 1000000 + now.tv_usec + us;
        e->ipst->next_start.tv_sec = (time_t)(t / 1000000);
        e->ipst->next_start.tv_usec = (suseconds_t)(t % 1000000);
    }
    return 0;
}

/* ps_may_start - the entry's address and the engine have room now; else,
 * for the rate, when the address has (*when) */
static int ps_may_start(const probeshare *ps, const ps_entry *e, const struct timeval *now,
                        struct timeval *when, int *has_when)
{
    if (ps->lim.max_connections && ps->active >= ps->lim.max_connections)
        return 0;
    if (ps->lim.per_ip && e->ipst->active >= ps->lim.per_ip)
        return 0;
    if (ps->lim.ip_rate > 0 && ps_tv_before(now, &e->ipst->next_start)) {
        if (!*has_when || ps_tv_before(&e->ipst->next_start, when))
            *when = e->ipst->next_start;
        *has_when = 1;
        return 0;
    }
    return 1;
}

static void ps_pump_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ps_pump(arg);
}

/* ps_pump - start every queued probe the bounds allow, in queue order; arm
 * the timer for the earliest one the rate holds back */
static void ps_pump(probeshare *ps)
{
    struct timeval now, when = {0, 0};
    int has_when = 0;
    gettimeofday(&now, NULL);
    ps_entry *e = ps->qhead;
    while (e) {
        ps_entry *next = e->qnext;
        if (ps->lim.max_connections && ps->active >= ps->lim.max_connections)
            break;
        if (ps_may_start(ps, e, &now, &when, &has_when)) {
            ps_queue_unlink(&ps->qhead, &ps->qtail, e);
            err_rec err;
            err_clear(&err);
            if (ps_start(e, &err) != 0) {
                e->state = PS_RUNNING; /* off the queue: ps_finish frees or keeps it */
                ps_finish(e, ps_failed_report(e, err.message[0] ? err.message
                                                                : "the probe could not start"));
            }
        }
        e = next;
    }
    if (has_when) {
        struct timeval d;
        timersub(&when, &now, &d);
        if (d.tv_sec < 0)
            d.tv_sec = d.tv_usec = 0;
        evtimer_add(ps->pump_timer, &d);
    }
}

probeshare *probeshare_new(struct event_base *base, const probeshare_limits *lim)
{
    probeshare *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    ps->base = base;
    ps->lim = *lim;
    if (!(ps->pump_timer = evtimer_new(base, ps_pump_cb, ps))) {
        free(ps);
        return NULL;
    }
    return ps;
}

void probeshare_free(probeshare *ps)
{
    if (!ps)
        return;
    while (ps->all)
        ps_entry_free(ps->all);
    for (size_t i = 0; i < PROBESHARE_BUCKETS; i++)
        while (ps->ips[i]) {
            ps_ip *p = ps->ips[i];
            ps->ips[i] = p->bnext;
            free(p->ip);
            free(p);
        }
    event_free(ps->pump_timer);
    free(ps);
}

static char *ps_dup(const char *s, int *bad)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *bad = 1;
    return d;
}

/* ps_entry_new - a new entry for key (taken), not yet queued */
static ps_entry *ps_entry_new(probeshare *ps, SSL_CTX *ssl, char *key, const probe_config *pc)
{
    ps_entry *e = calloc(1, sizeof *e);
    if (!e) {
        free(key);
        return NULL;
    }
    e->ps = ps;
    e->key = key;
    e->hash = ps_hash(key);
    e->state = PS_BACKOFF; /* on no list until queued or started */
    e->next = ps->all;
    if (ps->all)
        ps->all->prev = e;
    ps->all = e;
    e->ssl = ssl;
    SSL_CTX_up_ref(ssl);
    int bad = 0;
    e->pc = *pc;
    e->pc.ip = e->ip = ps_dup(pc->ip, &bad);
    e->pc.ehlo_name = e->ehlo = ps_dup(pc->ehlo_name, &bad);
    e->pc.sni = e->sni = ps_dup(pc->sni, &bad);
    e->pc.cipher_list = e->ciphers = ps_dup(pc->cipher_list, &bad);
    if (bad || !(e->ipst = ps_ip_get(ps, pc->ip))) {
        ps_entry_free(e);
        return NULL;
    }
    return e;
}

static probeshare_wait *ps_waiter_new(probeshare *ps, probe_cb cb, void *arg)
{
    probeshare_wait *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->ps = ps;
    w->cb = cb;
    w->arg = arg;
    if (!(w->ev = event_new(ps->base, -1, 0, ps_deliver_cb, w))) {
        free(w);
        return NULL;
    }
    return w;
}

static void ps_waiter_attach(ps_entry *e, probeshare_wait *w)
{
    w->e = e;
    w->prev = NULL;
    w->next = e->waiters;
    if (e->waiters)
        e->waiters->prev = w;
    e->waiters = w;
}

probeshare_wait *probeshare_get(probeshare *ps, SSL_CTX *ssl, const char *host,
                                const probe_config *pc, probe_cb cb, void *arg, err_rec *err)
{
    if (!ps || !ssl || !pc || !pc->ip || !cb) {
        err_set(err, MXTLS_ERR_INVALID, "probe", "missing address, SSL context or callback");
        return NULL;
    }
    char *key = ps_key(host, pc);
    probeshare_wait *w = key ? ps_waiter_new(ps, cb, arg) : NULL;
    if (!w) {
        free(key);
        err_set(err, MXTLS_ERR_NOMEM, "probe", "out of memory");
        return NULL;
    }
    unsigned long h = ps_hash(key);
    if (ps->lim.share)
        for (ps_entry *e = ps->buckets[h % PROBESHARE_BUCKETS]; e; e = e->bnext)
            if (e->hash == h && !strcmp(e->key, key)) {
                free(key);
                ps->st.reused++;
                if (e->state == PS_DONE) {
                    w->rep = probe_report_ref(e->rep);
                    event_active(w->ev, 0, 0);
                } else {
                    ps->st.joined++;
                    ps_waiter_attach(e, w);
                }
                return w;
            }
    ps_entry *e = ps_entry_new(ps, ssl, key, pc);
    if (!e) {
        ps_waiter_free(w);
        err_set(err, MXTLS_ERR_NOMEM, "probe", "out of memory");
        return NULL;
    }
    if (ps->lim.share) {
        e->bnext = ps->buckets[h % PROBESHARE_BUCKETS];
        ps->buckets[h % PROBESHARE_BUCKETS] = e;
        e->in_table = 1;
    }
    struct timeval now, when;
    int has_when = 0;
    gettimeofday(&now, NULL);
    if (!ps->qhead && ps_may_start(ps, e, &now, &when, &has_when)) {
        /* Room now: start here, so that a configuration the probe refuses
         * is the caller's error, as without politeness. */
        if (ps_start(e, err) != 0) {
            ps_entry_free(e);
            ps_waiter_free(w);
            return NULL;
        }
    } else {
        e->state = PS_QUEUED;
        ps->st.queued++;
        ps_queue_append(&ps->qhead, &ps->qtail, e);
        ps_pump(ps);
    }
    ps_waiter_attach(e, w);
    return w;
}

/* ps_detach - take w off its entry; an entry nobody waits for any more is
 * dropped unless its result is worth keeping (sharing on, probe running) */
static void ps_detach(probeshare_wait *w)
{
    ps_entry *e = w->e;
    if (!e)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        e->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->e = NULL;
    if (!e->waiters && e->state != PS_DONE && !(e->ps->lim.share && e->state == PS_RUNNING)) {
        probeshare *ps = e->ps;
        ps_entry_free(e);
        ps_pump(ps); /* a connection slot may have come free */
    }
}

void probeshare_cancel(probeshare_wait *w)
{
    if (!w)
        return;
    ps_detach(w);
    ps_waiter_free(w);
}

probe_report *probeshare_stop(probeshare_wait *w, const char *why)
{
    if (!w)
        return NULL;
    ps_entry *e = w->e;
    probe_report *r = NULL;
    if (e && e->state == PS_RUNNING && e->waiters == w && !w->next) {
        probeshare *ps = e->ps;
        r = probe_stop(e->running, why);
        e->running = NULL;
        ps->active--;
        e->ipst->active--;
        e->waiters = NULL;
        w->e = NULL;
        ps_entry_free(e); /* a partial result is nobody else's */
        ps_waiter_free(w);
        ps_pump(ps);
        return r;
    }
    probeshare_cancel(w);
    return NULL;
}

void probeshare_get_stats(const probeshare *ps, probeshare_stats *out)
{
    memset(out, 0, sizeof *out);
    if (ps)
        *out = ps->st;
}
