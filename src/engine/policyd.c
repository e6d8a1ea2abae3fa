/* policyd.c - the socketmap server of `mxtls policyd` (engine/policyd.h)
 *
 * Objects: the server (listeners, clients, the answer table), a client
 * (one connection: one request at a time, in order, as Postfix sends them),
 * an answer (one domain: the last reply computed, the lookup running for it
 * and the clients waiting for it). A client never outlives its connection;
 * an answer is freed only when no lookup runs for it. */
#include "engine/policyd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "core/sockmap.h"
#include "core/dane.h"
#include "engine/check.h"
#include "engine/config.h"
#include "engine/sts.h"
#include "io/stscache.h"

#define POLICYD_BUCKETS 16384u
#define POLICYD_MAX_LISTENERS 8
/* replies queued for a client that does not read them: stop taking its requests */
#define POLICYD_MAX_OUTPUT (256u * 1024u)

typedef struct pd_client pd_client;
typedef struct pd_answer pd_answer;

struct pd_answer {
    policyd *d;
    char domain[MXTLS_MAX_NAME + 1];
    int has;                     /* kind/text hold a computed answer */
    int transient;               /* from a lookup that could not complete */
    sockmap_kind kind;
    char *text;
    time_t computed_at, used_at;
    mxtls_check *running;        /* the lookup in flight, or NULL */
    int background;              /* the lookup is a refresh nobody waits for */
    pd_client *waiters;          /* clients waiting for this lookup */
    pd_answer *next;             /* hash chain */
};

struct pd_client {
    policyd *d;
    struct bufferevent *bev;
    struct event *req_timer;     /* a started request must complete in time */
    pd_answer *waiting;          /* the answer this client waits for, or NULL */
    pd_client *wnext;            /* next waiter of that answer */
    pd_client *prev, *next;      /* the server's list */
    char peer[64];
};

typedef struct pd_listener {
    struct evconnlistener *lev;
    char *unix_path;             /* made by us: unlinked at the end */
    dev_t dev;
    ino_t ino;
} pd_listener;

struct policyd {
    struct event_base *base;
    mxtls_engine *eng;
    policyd_settings set;
    char *map_name, *cache_path;
    pd_listener listeners[POLICYD_MAX_LISTENERS];
    size_t nlisteners;
    struct event *accept_pause;  /* listeners paused after EMFILE */
    pd_client *clients;
    size_t nclients;
    pd_answer *buckets[POLICYD_BUCKETS];
    size_t nanswers, running, background;
    unsigned long long requests, computed, errors;
    struct event *sweep;         /* proactive refresh */
    time_t reloaded_at;
};

/* ---- log ---------------------------------------------------------------- */

static void pd_log(policyd *d, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pd_log(policyd *d, int prio, const char *fmt, ...)
{
    if (!d->set.log)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    d->set.log(d->set.log_arg, prio, buf);
}

/* ---- answers ------------------------------------------------------------ */

static unsigned pd_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % POLICYD_BUCKETS;
}

static pd_answer *pd_find(policyd *d, const char *domain)
{
    for (pd_answer *a = d->buckets[pd_hash(domain)]; a; a = a->next)
        if (!strcmp(a->domain, domain))
            return a;
    return NULL;
}

static void pd_answer_free(pd_answer *a)
{
    if (a)
        free(a->text);
    free(a);
}

/* pd_evict - make room: drop answers nobody waits for, least recently used
 * first among a bucket's chain, until under the cap (bounded scan) */
static void pd_evict(policyd *d)
{
    unsigned start = (unsigned)time(NULL) % POLICYD_BUCKETS;
    for (unsigned k = 0; k < POLICYD_BUCKETS && d->nanswers >= d->set.max_answers; k++) {
        pd_answer **pp = &d->buckets[(start + k) % POLICYD_BUCKETS];
        while (*pp && d->nanswers >= d->set.max_answers) {
            pd_answer *a = *pp;
            if (a->running) {
                pp = &a->next;
                continue;
            }
            *pp = a->next;
            pd_answer_free(a);
            d->nanswers--;
        }
    }
}

static pd_answer *pd_get(policyd *d, const char *domain)
{
    pd_answer *a = pd_find(d, domain);
    if (a)
        return a;
    if (d->nanswers >= d->set.max_answers)
        pd_evict(d);
    a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->d = d;
    snprintf(a->domain, sizeof a->domain, "%s", domain);
    unsigned h = pd_hash(domain);
    a->next = d->buckets[h];
    d->buckets[h] = a;
    d->nanswers++;
    return a;
}

/* ---- clients ------------------------------------------------------------ */

static void pd_client_process(pd_client *c);

static void pd_client_close(pd_client *c)
{
    policyd *d = c->d;
    if (c->waiting) {
        pd_client **pp = &c->waiting->waiters;
        while (*pp && *pp != c)
            pp = &(*pp)->wnext;
        if (*pp)
            *pp = c->wnext;
        c->waiting = NULL;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        d->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->nclients--;
    if (c->req_timer)
        event_free(c->req_timer);
    bufferevent_free(c->bev);
    free(c);
}

/* pd_reply - queue one reply; -1 when the client had to be closed */
static int pd_reply(pd_client *c, sockmap_kind kind, const char *text)
{
    char out[SOCKMAP_MAX_ANSWER + 32];
    size_t n = sockmap_reply_format(kind, text, out, sizeof out);
    if (n == 0)
        n = sockmap_reply_format(SOCKMAP_TEMP, "4.3.0 answer too long", out, sizeof out);
    if (bufferevent_write(c->bev, out, n) != 0) {
        c->d->errors++;
        pd_client_close(c);
        return -1;
    }
    return 0;
}

/* ---- lookups ------------------------------------------------------------ */

/* pd_translate - the answer from what the check found */
static void pd_translate(const check_report *rep, sockmap_answer *out)
{
    sockmap_host hosts[SOCKMAP_MAX_HOSTS];
    size_t n = 0, dropped = rep->hosts_dropped;
    sockmap_facts f = {0};
    f.domain = rep->domain;
    if (rep->mx_outcome == DNS_DATA && !rep->null_mx) {
        f.mx = SOCKMAP_MX_HOSTS;
    } else if (rep->mx_outcome == DNS_NODATA) {
        f.mx = SOCKMAP_MX_HOSTS; /* implicit MX: the domain itself */
    } else if (rep->mx_outcome == DNS_NXDOMAIN || rep->null_mx) {
        f.mx = SOCKMAP_MX_NONE;
    } else {
        f.mx = SOCKMAP_MX_FAILED;
        f.mx_why = rep->mx_why ? rep->mx_why : dns_outcome_name(rep->mx_outcome);
    }
    int mx_secure = rep->implicit_mx || rep->mx_security == DNS_SEC_SECURE;
    for (size_t i = 0; i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        if (h->invalid)
            continue;
        if (n == SOCKMAP_MAX_HOSTS) {
            dropped++;
            continue;
        }
        int dane = 0;
        if (mx_secure && h->tlsa_done && h->tlsa_state == MXTLS_TLSA_SECURE) {
            for (size_t k = 0; k < h->ntlsa; k++)
                dane |= dane_rr_unusable_why(&h->tlsa[k]) == NULL;
        } else if (mx_secure && h->tlsa_started &&
                   (h->tlsa_state == MXTLS_TLSA_BOGUS || h->tlsa_state == MXTLS_TLSA_ERROR)) {
            dane = 1; /* a DANE sender defers on a failed TLSA lookup, RFC 7672 §2.2 */
        }
        hosts[n].name = h->name;
        hosts[n].dane = dane;
        n++;
    }
    f.hosts = hosts;
    f.nhosts = n;
    f.hosts_dropped = dropped;
    const sts_report *s = rep->sts;
    if (s && s->concluded && s->apply != STS_APPLY_NONE) {
        f.has_policy = 1;
        f.mode = s->mode;
        f.patterns = s->apply == STS_APPLY_FETCHED ? &s->policy.mx : &s->cached.mx;
        f.source = sts_apply_name(s->apply);
    }
    sockmap_translate(&f, out);
}

/* pd_incomplete - the lookup could not see what it needed */
static int pd_incomplete(const check_report *rep)
{
    if (rep->timed_out)
        return 1;
    int mx_ok = rep->mx_outcome == DNS_DATA || rep->mx_outcome == DNS_NODATA ||
                rep->mx_outcome == DNS_NXDOMAIN;
    const sts_report *s = rep->sts;
    int txt_ok = !s || s->txt_outcome == DNS_DATA || s->txt_outcome == DNS_NODATA ||
                 s->txt_outcome == DNS_NXDOMAIN;
    return !mx_ok || !txt_ok;
}

static void pd_set_answer(pd_answer *a, sockmap_kind kind, const char *text, time_t now)
{
    char *t = strdup(text);
    if (!t)
        return; /* keep the old one; the waiters get this one below */
    free(a->text);
    a->text = t;
    a->kind = kind;
    a->has = 1;
    a->computed_at = now;
}

static void pd_lookup_cb(void *arg, mxtls_report *rep, const mxtls_error *err)
{
    pd_answer *a = arg;
    policyd *d = a->d;
    a->running = NULL;
    d->running--;
    if (a->background) {
        a->background = 0;
        d->background--;
    }
    time_t now = time(NULL);
    sockmap_answer sa;
    int keep_old = 0, transient = 1;
    if (!rep) {
        d->errors++;
        sa.kind = SOCKMAP_TEMP;
        snprintf(sa.text, sizeof sa.text, "4.3.0 local failure: %s",
                 err ? err->message : "no report");
        snprintf(sa.why, sizeof sa.why, "the lookup could not run");
    } else {
        pd_translate(rep, &sa);
        transient = pd_incomplete(rep);
    }
    /* A lookup that did not complete (local failure, deadline, the MX or
     * _mta-sts TXT lookup failed) never replaces a complete answer that is
     * still young enough (docs/policyd.md, "When DNS or HTTPS fail"): a DNS
     * outage must not turn an enforced policy into NOTFOUND. */
    if (transient && a->has && !a->transient && now - a->computed_at <= d->set.stale_s)
        keep_old = 1;
    d->computed++;
    if (keep_old) {
        pd_log(d, LOG_WARNING, "%s: lookup %s; keeping the answer of %lds ago: %s%s%s",
               a->domain,
               !rep             ? "failed"
               : rep->timed_out ? "timed out"
                                : "incomplete (DNS)",
               (long)(now - a->computed_at), sockmap_kind_name(a->kind), *a->text ? " " : "",
               a->text);
    } else {
        pd_log(d, sa.kind == SOCKMAP_TEMP ? LOG_WARNING : LOG_INFO, "%s: %s%s%s (%s%s)",
               a->domain, sockmap_kind_name(sa.kind), *sa.text ? " " : "", sa.text, sa.why,
               !rep             ? ""
               : rep->timed_out ? "; lookup timed out"
               : transient      ? "; lookup incomplete"
                                : "");
        /* Every answer is kept, a transient one only POLICYD_TRANSIENT_S:
         * a policy's TEMP ("covers none of its MX hosts") is as stable as
         * an OK, and recomputing it per request would cost a lookup each. */
        pd_set_answer(a, sa.kind, sa.text, now);
        a->transient = transient;
    }
    mxtls_report_free(rep);
    sockmap_kind kind = a->has ? a->kind : sa.kind;
    const char *text = a->has ? a->text : sa.text; /* !has: out of memory storing it */
    char copy[SOCKMAP_MAX_ANSWER];
    snprintf(copy, sizeof copy, "%s", text ? text : "");
    /* Reply to the waiters; pd_reply may take their next requests, which may
     * wait on this answer again, so detach the list first. */
    pd_client *w = a->waiters;
    a->waiters = NULL;
    while (w) {
        pd_client *next = w->wnext;
        w->waiting = NULL;
        w->wnext = NULL;
        if (pd_reply(w, kind, copy) == 0)
            pd_client_process(w);
        w = next;
    }
}

/* pd_start - start a lookup for answer a; -1 when it cannot start (err) */
static int pd_start(policyd *d, pd_answer *a, int background, mxtls_error *err)
{
    check_options o = {0};
    o.domain = a->domain;
    o.sts_cache = d->cache_path;
    o.lookups_only = 1;
    a->running = check_start(d->eng, &o, pd_lookup_cb, a, err);
    if (!a->running)
        return -1;
    d->running++;
    a->background = background;
    if (background)
        d->background++;
    return 0;
}

/* ---- requests ------------------------------------------------------------ */

/* pd_request - answer or start waiting; -1 when the client was closed */
static int pd_request(pd_client *c, const sockmap_request *rq)
{
    policyd *d = c->d;
    d->requests++;
    char name[SOCKMAP_MAX_NAME + 1];
    memcpy(name, rq->name, rq->name_len);
    name[rq->name_len] = '\0';
    if (strcmp(name, d->map_name) != 0) {
        char why[256];
        char shown[SOCKMAP_MAX_NAME + 1];
        for (size_t i = 0; i <= rq->name_len; i++)
            shown[i] = i < rq->name_len && (name[i] < 0x20 || name[i] > 0x7e) ? '?' : name[i];
        snprintf(why, sizeof why, "unknown map name \"%s\": this server answers \"%s\"", shown,
                 d->map_name);
        pd_log(d, LOG_WARNING, "%s: %s", c->peer, why);
        return pd_reply(c, SOCKMAP_PERM, why);
    }
    char domain[MXTLS_MAX_NAME + 1];
    if (sockmap_key_domain(rq->key, rq->key_len, domain, sizeof domain) != 0) {
        if (d->set.verbose)
            pd_log(d, LOG_INFO, "%s: key is no mail domain: NOTFOUND", c->peer);
        return pd_reply(c, SOCKMAP_NOTFOUND, "");
    }
    pd_answer *a = pd_get(d, domain);
    if (!a) {
        d->errors++;
        return pd_reply(c, SOCKMAP_TEMP, "4.3.0 out of memory");
    }
    time_t now = time(NULL);
    a->used_at = now;
    if (a->has && a->computed_at >= d->reloaded_at &&
        !(a->transient && now - a->computed_at >= POLICYD_TRANSIENT_S)) {
        if (now - a->computed_at >= d->set.refresh_s && !a->running &&
            d->background < POLICYD_MAX_BACKGROUND) {
            mxtls_error e = {0};
            if (pd_start(d, a, 1, &e) != 0)
                pd_log(d, LOG_WARNING, "%s: refresh not started: %s", a->domain, e.message);
        }
        if (d->set.verbose)
            pd_log(d, LOG_INFO, "%s: %s: %s%s%s (answer of %lds ago)", c->peer, a->domain,
                   sockmap_kind_name(a->kind), *a->text ? " " : "", a->text,
                   (long)(now - a->computed_at));
        char copy[SOCKMAP_MAX_ANSWER];
        snprintf(copy, sizeof copy, "%s", a->text);
        return pd_reply(c, a->kind, copy);
    }
    if (!a->running) {
        mxtls_error e = {0};
        if (pd_start(d, a, 0, &e) != 0) {
            d->errors++;
            char why[600];
            snprintf(why, sizeof why, "4.3.0 lookup not started: %s", e.message);
            pd_log(d, LOG_WARNING, "%s: %s", a->domain, why);
            return pd_reply(c, SOCKMAP_TEMP, why);
        }
    } else if (a->background) {
        /* a client waits now: the refresh is no longer only in the background */
        a->background = 0;
        d->background--;
    }
    c->waiting = a;
    c->wnext = a->waiters;
    a->waiters = c;
    bufferevent_disable(c->bev, EV_READ); /* one request at a time, in order */
    return 0;
}

/* pd_client_process - handle the complete requests buffered, one at a
 * time, until one waits for a lookup, the input holds no complete request,
 * or the replies not yet read by the client pile up (POLICYD_MAX_OUTPUT) */
static void pd_client_process(pd_client *c)
{
    policyd *d = c->d;
    static char copy[SOCKMAP_MAX_REQUEST + 64]; /* one loop, one thread: not on the stack */
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (!c->waiting) {
        if (evbuffer_get_length(out) > POLICYD_MAX_OUTPUT) {
            /* resumed by pd_write_cb once the client has read */
            bufferevent_disable(c->bev, EV_READ);
            return;
        }
        bufferevent_enable(c->bev, EV_READ);
        size_t len = evbuffer_get_length(in);
        if (len == 0) {
            evtimer_del(c->req_timer);
            return;
        }
        size_t take = len < sizeof copy ? len : sizeof copy;
        if (evbuffer_copyout(in, copy, take) != (ev_ssize_t)take) {
            pd_client_close(c);
            return;
        }
        sockmap_request rq;
        switch (sockmap_parse(copy, take, SOCKMAP_MAX_REQUEST, &rq)) {
        case SOCKMAP_PARSE_MORE:
            if (!evtimer_pending(c->req_timer, NULL)) {
                struct timeval tv = {d->set.request_s, 0};
                evtimer_add(c->req_timer, &tv);
            }
            return;
        case SOCKMAP_PARSE_BAD:
            d->errors++;
            pd_log(d, LOG_WARNING, "%s: bad request: %s at byte %zu; connection closed", c->peer,
                   rq.error, rq.error_at);
            pd_client_close(c);
            return;
        case SOCKMAP_PARSE_OK:
            break;
        }
        evtimer_del(c->req_timer);
        evbuffer_drain(in, rq.consumed);
        if (pd_request(c, &rq) != 0)
            return;
    }
}

static void pd_write_cb(struct bufferevent *bev, void *arg)
{
    pd_client *c = arg;
    (void)bev;
    if (!c->waiting)
        pd_client_process(c);
}

static void pd_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    pd_client_process(arg);
}

static void pd_event_cb(struct bufferevent *bev, short what, void *arg)
{
    pd_client *c = arg;
    (void)bev;
    if (what & BEV_EVENT_TIMEOUT)
        pd_log(c->d, LOG_INFO, "%s: %s timeout; connection closed", c->peer,
               what & BEV_EVENT_READING ? "idle" : "write");
    else if (what & BEV_EVENT_ERROR)
        pd_log(c->d, LOG_INFO, "%s: connection error: %s", c->peer,
               evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    pd_client_close(c);
}

static void pd_request_timeout(evutil_socket_t fd, short what, void *arg)
{
    pd_client *c = arg;
    (void)fd;
    (void)what;
    if (c->waiting)
        return;
    c->d->errors++;
    pd_log(c->d, LOG_WARNING, "%s: request not complete within %ds; connection closed", c->peer,
           c->d->set.request_s);
    pd_client_close(c);
}

static void pd_set_timeouts(policyd *d, pd_client *c)
{
    struct timeval idle = {d->set.idle_s, 0}, wr = {d->set.request_s, 0};
    bufferevent_set_timeouts(c->bev, &idle, &wr);
}

static void pd_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    policyd *d = arg;
    (void)lev;
    if (d->nclients >= d->set.max_clients) {
        d->errors++;
        pd_log(d, LOG_WARNING, "too many clients (%zu): connection refused", d->nclients);
        evutil_closesocket(fd);
        return;
    }
    pd_client *c = calloc(1, sizeof *c);
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->d = d;
    if (sa->sa_family == AF_UNIX) {
        snprintf(c->peer, sizeof c->peer, "unix client %d", (int)fd);
    } else {
        char host[INET6_ADDRSTRLEN + 1] = "?";
        unsigned port = 0;
        if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct sockaddr_in)) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
            evutil_inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
            port = ntohs(s4->sin_port);
        } else if (sa->sa_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
            evutil_inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
            port = ntohs(s6->sin6_port);
        }
        snprintf(c->peer, sizeof c->peer, "%s:%u", host, port);
    }
    c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->req_timer = evtimer_new(d->base, pd_request_timeout, c);
    if (!c->bev || !c->req_timer) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        if (c->req_timer)
            event_free(c->req_timer);
        free(c);
        return;
    }
    /* a request beyond the limit is refused as soon as its length is read */
    bufferevent_setwatermark(c->bev, EV_READ, 0, SOCKMAP_MAX_REQUEST + 64);
    bufferevent_setcb(c->bev, pd_read_cb, pd_write_cb, pd_event_cb, c);
    pd_set_timeouts(d, c);
    bufferevent_enable(c->bev, EV_READ);
    c->next = d->clients;
    if (d->clients)
        d->clients->prev = c;
    d->clients = c;
    d->nclients++;
}

static void pd_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    policyd *d = arg;
    (void)fd;
    (void)what;
    for (size_t i = 0; i < d->nlisteners; i++)
        evconnlistener_enable(d->listeners[i].lev);
}

static void pd_accept_error(struct evconnlistener *lev, void *arg)
{
    policyd *d = arg;
    int e = EVUTIL_SOCKET_ERROR();
    (void)lev;
    d->errors++;
    pd_log(d, LOG_WARNING, "accept: %s; not accepting for 1s", evutil_socket_error_to_string(e));
    /* out of descriptors: stop accepting for a moment instead of spinning */
    for (size_t i = 0; i < d->nlisteners; i++)
        evconnlistener_disable(d->listeners[i].lev);
    struct timeval tv = {1, 0};
    evtimer_add(d->accept_pause, &tv);
}

/* ---- proactive refresh --------------------------------------------------- */

/* pd_sweep - answers used within the last day and older than refresh_s are
 * recomputed in the background (at most POLICYD_MAX_BACKGROUND at once), so
 * a policy is refetched before it expires and a changed TXT id is seen
 * without a client waiting (RFC 8461 §5.1, §10.2) */
static void pd_sweep(evutil_socket_t fd, short what, void *arg)
{
    policyd *d = arg;
    (void)fd;
    (void)what;
    time_t now = time(NULL);
    for (unsigned b = 0; b < POLICYD_BUCKETS && d->background < POLICYD_MAX_BACKGROUND; b++)
        for (pd_answer *a = d->buckets[b]; a && d->background < POLICYD_MAX_BACKGROUND;
             a = a->next) {
            if (a->running || !a->has || now - a->computed_at < d->set.refresh_s ||
                now - a->used_at > 86400)
                continue;
            mxtls_error e = {0};
            if (pd_start(d, a, 1, &e) != 0) {
                pd_log(d, LOG_WARNING, "%s: refresh not started: %s", a->domain, e.message);
                return;
            }
        }
}

static void pd_arm_sweep(policyd *d)
{
    int s = d->set.refresh_s > 2 ? d->set.refresh_s / 2 : 1;
    struct timeval tv = {s, 0};
    event_del(d->sweep);
    event_add(d->sweep, &tv);
}

/* ---- the server ---------------------------------------------------------- */

void policyd_settings_default(policyd_settings *s)
{
    memset(s, 0, sizeof *s);
    s->map_name = POLICYD_DEFAULT_MAP_NAME;
    s->refresh_s = POLICYD_DEFAULT_REFRESH_S;
    s->stale_s = POLICYD_DEFAULT_STALE_S;
    s->idle_s = POLICYD_DEFAULT_IDLE_S;
    s->request_s = POLICYD_DEFAULT_REQUEST_S;
    s->max_clients = POLICYD_DEFAULT_MAX_CLIENTS;
    s->max_answers = POLICYD_DEFAULT_MAX_ANSWERS;
}

static void pd_error(mxtls_error *err, mxtls_status code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void pd_error(mxtls_error *err, mxtls_status code, const char *where, const char *fmt, ...)
{
    if (!err)
        return;
    err->code = code;
    snprintf(err->where, sizeof err->where, "%s", where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static mxtls_status pd_check_settings(const policyd_settings *s, mxtls_error *err)
{
    if (!s->map_name || !*s->map_name || strlen(s->map_name) > SOCKMAP_MAX_NAME ||
        strpbrk(s->map_name, " \t\r\n,:")) {
        pd_error(err, MXTLS_ERR_INVALID, "map-name", "the map name must be 1-%u characters "
                 "without spaces, ',' or ':'", SOCKMAP_MAX_NAME);
        return MXTLS_ERR_INVALID;
    }
    if (s->refresh_s < 1 || s->stale_s < 0 || s->idle_s < 1 || s->request_s < 1 ||
        s->max_clients < 1 || s->max_answers < 1) {
        pd_error(err, MXTLS_ERR_INVALID, "settings", "limits must be positive");
        return MXTLS_ERR_INVALID;
    }
    return MXTLS_OK;
}

policyd *policyd_new(struct event_base *base, mxtls_engine *eng, const policyd_settings *s,
                     mxtls_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (pd_check_settings(s, err) != MXTLS_OK)
        return NULL;
    policyd *d = calloc(1, sizeof *d);
    if (!d) {
        pd_error(err, MXTLS_ERR_NOMEM, "policyd", "out of memory");
        return NULL;
    }
    d->base = base;
    d->eng = eng;
    d->set = *s;
    d->map_name = strdup(s->map_name);
    d->cache_path = s->cache_path ? strdup(s->cache_path) : NULL;
    d->set.map_name = d->map_name;
    d->set.cache_path = d->cache_path;
    d->sweep = event_new(base, -1, EV_PERSIST, pd_sweep, d);
    d->accept_pause = evtimer_new(base, pd_accept_resume, d);
    if (!d->map_name || (s->cache_path && !d->cache_path) || !d->sweep || !d->accept_pause) {
        policyd_free(d);
        pd_error(err, MXTLS_ERR_NOMEM, "policyd", "out of memory");
        return NULL;
    }
    if (d->cache_path) {
        /* open it once now: a bad path or file is a startup error, not a
         * warning on every lookup */
        stscache *sc = NULL;
        err_rec e;
        err_clear(&e);
        if (stscache_open(d->cache_path, &sc, &e) != MXTLS_OK) {
            pd_error(err, e.code ? e.code : MXTLS_ERR_IO, "cache", "%s: %s", d->cache_path,
                     e.message);
            policyd_free(d);
            return NULL;
        }
        stscache_close(sc);
    }
    pd_arm_sweep(d);
    return d;
}

mxtls_status policyd_reload(policyd *d, const policyd_settings *s, mxtls_error *err)
{
    if (pd_check_settings(s, err) != MXTLS_OK)
        return MXTLS_ERR_INVALID;
    char *name = strdup(s->map_name);
    if (!name) {
        pd_error(err, MXTLS_ERR_NOMEM, "policyd", "out of memory");
        return MXTLS_ERR_NOMEM;
    }
    free(d->map_name);
    d->map_name = name;
    char *cache = d->cache_path;
    d->set = *s;
    d->set.map_name = d->map_name;
    d->set.cache_path = d->cache_path = cache;
    /* answers computed before now are recomputed before use */
    d->reloaded_at = time(NULL);
    for (pd_client *c = d->clients; c; c = c->next)
        pd_set_timeouts(d, c);
    pd_arm_sweep(d);
    return MXTLS_OK;
}

static mxtls_status pd_listen_unix(policyd *d, const char *path, mxtls_error *err)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (!*path || strlen(path) >= sizeof sun.sun_path) {
        pd_error(err, MXTLS_ERR_INVALID, "listen", "unix socket path \"%.120s\" is empty or "
                 "longer than %zu bytes", path, sizeof sun.sun_path - 1);
        return MXTLS_ERR_INVALID;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            pd_error(err, MXTLS_ERR_INVALID, "listen", "%s exists and is not a socket", path);
            return MXTLS_ERR_INVALID;
        }
        /* a socket file: live (another server answers) or stale */
        int live = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (live >= 0 && connect(live, (struct sockaddr *)&sun, sizeof sun) == 0) {
            close(live);
            pd_error(err, MXTLS_ERR_STATE, "listen", "%s: another server is listening there",
                     path);
            return MXTLS_ERR_STATE;
        }
        if (live >= 0)
            close(live);
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
        chmod(path, 0666) != 0 || listen(fd, 511) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        pd_error(err, e == EMFILE || e == ENFILE ? MXTLS_ERR_RESOURCE : MXTLS_ERR_IO, "listen",
                 "unix:%s: %s", path, strerror(e));
        return err ? err->code : MXTLS_ERR_IO;
    }
    pd_listener *l = &d->listeners[d->nlisteners];
    l->lev = evconnlistener_new(d->base, pd_accept, d, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (!l->lev || stat(path, &st) != 0 || !(l->unix_path = strdup(path))) {
        if (l->lev)
            evconnlistener_free(l->lev);
        else
            close(fd);
        l->lev = NULL;
        unlink(path);
        pd_error(err, MXTLS_ERR_NOMEM, "listen", "unix:%s: cannot listen", path);
        return MXTLS_ERR_NOMEM;
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    evconnlistener_set_error_cb(l->lev, pd_accept_error);
    d->nlisteners++;
    return MXTLS_OK;
}

mxtls_status policyd_listen(policyd *d, const char *spec, mxtls_error *err)
{
    if (d->nlisteners >= POLICYD_MAX_LISTENERS) {
        pd_error(err, MXTLS_ERR_LIMIT, "listen", "at most %d listeners", POLICYD_MAX_LISTENERS);
        return MXTLS_ERR_LIMIT;
    }
    if (!strncmp(spec, "unix:", 5))
        return pd_listen_unix(d, spec + 5, err);
    if (strncmp(spec, "inet:", 5) != 0) {
        pd_error(err, MXTLS_ERR_INVALID, "listen", "\"%.120s\": give unix:PATH or "
                 "inet:HOST:PORT", spec);
        return MXTLS_ERR_INVALID;
    }
    struct sockaddr_storage ss;
    int sslen = (int)sizeof ss;
    const char *hp = spec + 5;
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp || !colon[1] || decimal_parse(colon + 1, 1, 65535) < 0 ||
        evutil_parse_sockaddr_port(hp, (struct sockaddr *)&ss, &sslen) != 0) {
        pd_error(err, MXTLS_ERR_INVALID, "listen", "\"%.120s\": give inet:ADDRESS:PORT with a "
                 "numeric address (IPv6 in brackets) and a port 1-65535", spec);
        return MXTLS_ERR_INVALID;
    }
    pd_listener *l = &d->listeners[d->nlisteners];
    l->lev = evconnlistener_new_bind(d->base, pd_accept, d,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                         LEV_OPT_CLOSE_ON_EXEC,
                                     511, (struct sockaddr *)&ss, sslen);
    if (!l->lev) {
        int e = errno;
        pd_error(err, MXTLS_ERR_IO, "listen", "%s: %s", spec, strerror(e));
        return MXTLS_ERR_IO;
    }
    evconnlistener_set_error_cb(l->lev, pd_accept_error);
    d->nlisteners++;
    return MXTLS_OK;
}

void policyd_warm(policyd *d)
{
    if (!d->cache_path)
        return;
    stscache *sc = NULL;
    err_rec e;
    err_clear(&e);
    strlist doms = {0};
    if (stscache_open(d->cache_path, &sc, &e) != MXTLS_OK ||
        stscache_domains(sc, POLICYD_WARM_MAX, &doms, &e) != MXTLS_OK) {
        pd_log(d, LOG_WARNING, "warming from %s: %s", d->cache_path, e.message);
        stscache_close(sc);
        strlist_free(&doms);
        return;
    }
    stscache_close(sc);
    size_t started = 0;
    time_t now = time(NULL);
    for (size_t i = 0; i < doms.n; i++) {
        pd_answer *a = pd_get(d, doms.v[i]);
        if (!a || a->running)
            continue;
        a->used_at = now;
        mxtls_error me = {0};
        /* not background: the first requests wait for these, no limit */
        if (pd_start(d, a, 0, &me) == 0)
            started++;
    }
    pd_log(d, LOG_INFO, "warming %zu cached domain%s from %s", started, started == 1 ? "" : "s",
           d->cache_path);
    strlist_free(&doms);
}

void policyd_get_stats(const policyd *d, policyd_stats *st)
{
    st->clients = d->nclients;
    st->answers = d->nanswers;
    st->running = d->running;
    st->requests = d->requests;
    st->computed = d->computed;
    st->errors = d->errors;
}

void policyd_free(policyd *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nlisteners; i++) {
        pd_listener *l = &d->listeners[i];
        if (l->lev)
            evconnlistener_free(l->lev);
        struct stat st;
        /* remove the socket only if it is still ours */
        if (l->unix_path && stat(l->unix_path, &st) == 0 && st.st_dev == l->dev &&
            st.st_ino == l->ino)
            unlink(l->unix_path);
        free(l->unix_path);
    }
    while (d->clients)
        pd_client_close(d->clients);
    for (unsigned b = 0; b < POLICYD_BUCKETS; b++)
        while (d->buckets[b]) {
            pd_answer *a = d->buckets[b];
            d->buckets[b] = a->next;
            if (a->running)
                mxtls_check_cancel(a->running); /* its callback never runs */
            pd_answer_free(a);
        }
    if (d->sweep)
        event_free(d->sweep);
    if (d->accept_pause)
        event_free(d->accept_pause);
    free(d->map_name);
    free(d->cache_path);
    free(d);
}
