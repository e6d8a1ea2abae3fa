/* dns.c - asynchronous DNS with DNSSEC validation: libunbound on our libevent loop
 *
 * libunbound's event API (unbound-event.h: ub_ctx_create_event,
 * ub_resolve_event) runs its resolver state machines on the caller's
 * event_base: no thread, no fork. Its callback hands over (rcode, reply packet,
 * sec, why_bogus); core/dnsmsg.c turns that into a dns_answer.
 *
 * Invariants of the query records (struct dns_query):
 * - a record lives from dns_resolve() until both (a) its answer has been
 *   delivered to the caller and (b) libunbound has called back for it (it
 *   holds the record as its callback argument), or until dns_resolver_free();
 * - the caller's callback always runs from our own event (the record's
 *   timer), never from inside libunbound's callback: libunbound answers
 *   local data before ub_resolve_event() returns, and a caller that frees
 *   the resolver from its callback must not pull libunbound's state out from
 *   under libunbound's own stack;
 * - the per-query timeout is ours (libunbound's event API has none): when it
 *   fires the caller gets DNS_TIMEOUT and libunbound's later callback only
 *   frees the record. ub_cancel() is not used: in 1.17 it is written for the
 *   background-worker modes (it deletes the query and writes to a pipe the
 *   event mode does not have).
 *
 * libunbound runs on our loop through its pluggable event API
 * (ub_ctx_create_ub_event) with a thin table over libevent, not through
 * ub_ctx_create_event(): when libunbound fails to set up its worker (out of
 * memory, out of file descriptors) its clean-up frees the event base it was
 * given (libworker_delete -> comm_base_delete -> event_base_free, libunbound
 * 1.17 to at least 1.24), and the next event_add on our loop crashes. Our
 * table's "free the base" does nothing, so the loop stays ours. The worker
 * is set up in dns_resolver_new() (a first query for "localhost.", answered
 * from libunbound's local zone), so that such failures are reported there,
 * as "out of memory", before anything runs.
 *
 * libunbound logs to standard error unless told otherwise: its log goes to a
 * file in the resolver's private directory (ub_ctx_debugout), and the first
 * error line becomes part of our error message when setting up fails.
 */
#include "io/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <ldns/ldns.h>
#include <unbound-event.h>
#include <unbound.h>

#define DNS_CONF_NAME "unbound.conf"
#define DNS_LOG_NAME "unbound.log"
#define DNS_LOG_LINE_MAX 160 /* bytes of a libunbound log line quoted in an error */

typedef struct dns_query dns_query;

struct dns_query {
    dns_resolver *r;
    dns_query *prev, *next;  /* r->queries */
    char *qname;
    uint16_t qtype;
    dns_cb cb;
    void *arg;
    struct event *timer;     /* timeout, and the deferred delivery of the answer */
    dns_answer *answer;      /* libunbound's answer, waiting for delivery */
    dns_answer *spare;       /* preallocated: the timeout / out-of-memory answer */
    int ub_pending;          /* libunbound still owes its callback */
    int delivered;           /* the caller has had its answer */
    struct dns_query *wnext; /* r's queue of queries not yet sent (max_inflight) */
};

/* The pluggable event base handed to libunbound: our loop, never freed by it. */
typedef struct dns_ub_base {
    struct ub_event_base super; /* first: libunbound sees only this */
    struct event_base *base;
} dns_ub_base;

/* One event of libunbound's, on our loop. */
typedef struct dns_ub_event {
    struct ub_event super; /* first */
    struct event ev;
    struct event_base *base;
    int fd;
    short bits;
    void (*cb)(int, short, void *);
    void *arg;
} dns_ub_event;

struct dns_resolver {
    struct event_base *base;
    struct ub_ctx *ub;
    dns_ub_base ub_base;     /* libunbound's view of base */
    FILE *log;               /* libunbound's log (ub_ctx_debugout), or NULL */
    char dir[PATH_MAX];      /* private temp dir holding the unbound config */
    char conf[PATH_MAX];
    char logpath[PATH_MAX];
    int timeout_ms;
    int freeing;             /* in dns_resolver_free: ignore libunbound callbacks */
    dns_query *queries;
    unsigned long nqueries;  /* queries started (dns_resolver_queries) */
    unsigned max_inflight;   /* queries libunbound works on at a time; 0: no bound */
    unsigned inflight, peak_inflight;
    dns_query *wait_head, *wait_tail; /* queries waiting for room, oldest first */
    struct event *pump;      /* sends waiting queries, from the loop */
};

/* ---- libunbound's pluggable events over libevent ----------------------- */

#if UB_EV_TIMEOUT != EV_TIMEOUT || UB_EV_READ != EV_READ || UB_EV_WRITE != EV_WRITE || \
    UB_EV_SIGNAL != EV_SIGNAL || UB_EV_PERSIST != EV_PERSIST
#error "libunbound's event bits differ from libevent's"
#endif

/* dns_ub_assign - (re)configure a libunbound event that is not pending */
static void dns_ub_assign(dns_ub_event *u)
{
    /* event_assign() fails only for an invalid base or bits; the event then
     * stays as it was and its event_add() reports the failure to libunbound. */
    (void)event_assign(&u->ev, u->base, u->fd, u->bits, u->cb, u->arg);
}

static void dns_ub_add_bits(struct ub_event *ev, short bits)
{
    dns_ub_event *u = (dns_ub_event *)ev;
    u->bits |= bits;
    dns_ub_assign(u);
}

static void dns_ub_del_bits(struct ub_event *ev, short bits)
{
    dns_ub_event *u = (dns_ub_event *)ev;
    u->bits &= (short)~bits;
    dns_ub_assign(u);
}

static void dns_ub_set_fd(struct ub_event *ev, int fd)
{
    dns_ub_event *u = (dns_ub_event *)ev;
    u->fd = fd;
    dns_ub_assign(u);
}

static void dns_ub_free(struct ub_event *ev)
{
    free(ev);
}

static int dns_ub_add(struct ub_event *ev, struct timeval *tv)
{
    return event_add(&((dns_ub_event *)ev)->ev, tv);
}

static int dns_ub_del(struct ub_event *ev)
{
    return event_del(&((dns_ub_event *)ev)->ev);
}

static int dns_ub_add_timer(struct ub_event *ev, struct ub_event_base *b,
                            void (*cb)(int, short, void *), void *arg, struct timeval *tv)
{
    dns_ub_event *u = (dns_ub_event *)ev;
    u->base = ((dns_ub_base *)b)->base;
    u->fd = -1;
    u->bits = EV_TIMEOUT;
    u->cb = cb;
    u->arg = arg;
    if (event_assign(&u->ev, u->base, -1, EV_TIMEOUT, cb, arg) != 0)
        return -1;
    return event_add(&u->ev, tv);
}

static int dns_ub_del_timer(struct ub_event *ev)
{
    return event_del(&((dns_ub_event *)ev)->ev);
}

static void dns_ub_winsock_unregister(struct ub_event *ev)
{
    (void)ev;
}

static void dns_ub_winsock_wouldblock(struct ub_event *ev, int bits)
{
    (void)ev;
    (void)bits;
}

static struct ub_event_vmt dns_ub_event_vmt = {
    dns_ub_add_bits, dns_ub_del_bits, dns_ub_set_fd,    dns_ub_free,
    dns_ub_add,      dns_ub_del,      dns_ub_add_timer, dns_ub_del_timer,
    dns_ub_add,      dns_ub_del, /* signals: not used by libunbound */
    dns_ub_winsock_unregister,   dns_ub_winsock_wouldblock,
};

static struct ub_event *dns_ub_new_event(struct ub_event_base *b, int fd, short bits,
                                         void (*cb)(int, short, void *), void *arg)
{
    dns_ub_event *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->super.magic = UB_EVENT_MAGIC;
    u->super.vmt = &dns_ub_event_vmt;
    u->base = ((dns_ub_base *)b)->base;
    u->fd = fd;
    u->bits = bits;
    u->cb = cb;
    u->arg = arg;
    if (event_assign(&u->ev, u->base, fd, bits, cb, arg) != 0) {
        free(u);
        return NULL;
    }
    return &u->super;
}

static struct ub_event *dns_ub_new_signal(struct ub_event_base *b, int fd,
                                          void (*cb)(int, short, void *), void *arg)
{
    return dns_ub_new_event(b, fd, EV_SIGNAL | EV_PERSIST, cb, arg);
}

static struct ub_event *dns_ub_register_wsaevent(struct ub_event_base *b, void *wsaevent,
                                                 void (*cb)(int, short, void *), void *arg)
{
    (void)b;
    (void)wsaevent;
    (void)cb;
    (void)arg;
    return NULL;
}

/* dns_ub_base_free - libunbound's clean-up after a failed worker set-up
 * calls this: the loop is the caller's and stays (see the top) */
static void dns_ub_base_free(struct ub_event_base *b)
{
    (void)b;
}

static int dns_ub_base_dispatch(struct ub_event_base *b)
{
    return event_base_dispatch(((dns_ub_base *)b)->base);
}

static int dns_ub_base_loopexit(struct ub_event_base *b, struct timeval *tv)
{
    return event_base_loopexit(((dns_ub_base *)b)->base, tv);
}

static struct ub_event_base_vmt dns_ub_base_vmt = {
    dns_ub_base_free,  dns_ub_base_dispatch, dns_ub_base_loopexit,
    dns_ub_new_event,  dns_ub_new_signal,    dns_ub_register_wsaevent,
};

/* dns_ub_warmup_done - the answer to the set-up query: nothing to do */
static void dns_ub_warmup_done(void *mydata, int rcode, void *packet, int packet_len, int sec,
                               char *why_bogus, int was_ratelimited)
{
    (void)mydata;
    (void)rcode;
    (void)packet;
    (void)packet_len;
    (void)sec;
    (void)why_bogus;
    (void)was_ratelimited;
}

/* dns_log_error - the first error line libunbound logged, without its
 * "[time] libunbound[pid:0] error: " prefix, printable ASCII only, cut to
 * DNS_LOG_LINE_MAX bytes; "" if none */
static void dns_log_error(dns_resolver *r, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!r->log || outlen == 0)
        return;
    fflush(r->log);
    rewind(r->log);
    char line[512];
    while (fgets(line, sizeof line, r->log)) {
        char *m = strstr(line, " error: ");
        if (!m)
            continue;
        m += strlen(" error: ");
        size_t o = 0;
        for (; *m && *m != '\n' && o + 1 < outlen && o < DNS_LOG_LINE_MAX; m++)
            out[o++] = (*m >= 0x20 && *m < 0x7f) ? *m : '?';
        out[o] = '\0';
        break;
    }
    clearerr(r->log);
    fseek(r->log, 0, SEEK_END);
}

/* dns_ub_failure - an error record for a failed libunbound set-up step: out
 * of memory or file descriptors when its log or errno says so, else
 * libunbound's own words */
static void dns_ub_failure(dns_resolver *r, int rc, err_rec *e)
{
    int saved = errno;
    char why[DNS_LOG_LINE_MAX + 1];
    dns_log_error(r, why, sizeof why);
    if (rc == UB_NOMEM || strstr(why, "malloc") || strstr(why, "memory") ||
        strstr(why, "alloc"))
        err_set(e, MXTLS_ERR_NOMEM, "dns", "out of memory (libunbound: %s)",
                why[0] ? why : ub_strerror(rc));
    else if (saved == EMFILE || saved == ENFILE || strstr(why, "Too many open files"))
        err_set(e, MXTLS_ERR_RESOURCE, "dns", "out of file descriptors (ulimit -n) (libunbound: %s)",
                why[0] ? why : ub_strerror(rc));
    else if (why[0])
        err_set(e, MXTLS_ERR_INVALID, "dns", "libunbound: %s", why);
    else /* the files were checked above: a silent failure is a failed allocation */
        err_set(e, MXTLS_ERR_NOMEM, "dns", "out of memory (libunbound: %s)", ub_strerror(rc));
}

/* dns_query_unlink - take a record off the resolver's list */
static void dns_query_unlink(dns_query *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else if (q->r->queries == q)
        q->r->queries = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

/* dns_query_free - free a record (already unlinked or being dropped wholesale) */
static void dns_query_free(dns_query *q)
{
    if (!q)
        return;
    if (q->timer)
        event_free(q->timer);
    dns_answer_free(q->answer);
    dns_answer_free(q->spare);
    free(q->qname);
    free(q);
}

/* dns_query_fire - deliver the answer (or the timeout) to the caller
 *
 * Runs from the record's own event. The record is finished with before the
 * callback runs, so the callback may start queries or free the resolver. */
static void dns_query_fire(evutil_socket_t fd, short what, void *arg)
{
    dns_query *q = arg;
    dns_answer *a = q->answer;
    q->answer = NULL;
    if (!a) {
        /* Our timer expired first. The spare answer was allocated up front so
         * that a timeout is reported even when memory is short. */
        a = q->spare;
        q->spare = NULL;
        a->outcome = DNS_TIMEOUT;
        a->rcode = 0;
        char why[96];
        snprintf(why, sizeof why, "no answer within %d ms", q->r->timeout_ms);
        a->why = strdup(why);
        a->nomem = !a->why;
    }
    dns_cb cb = q->cb;
    void *cb_arg = q->arg;
    q->delivered = 1;
    if (!q->ub_pending) {
        dns_query_unlink(q);
        dns_query_free(q); /* frees this (non-persistent) event: allowed in its callback */
    }
    cb(cb_arg, a);
}

/* dns_ub_done - libunbound's callback (ub_event_callback_type) */
static void dns_ub_done(void *mydata, int rcode, void *packet, int packet_len, int sec,
                        char *why_bogus, int was_ratelimited)
{
    dns_query *q = mydata;
    q->ub_pending = 0;
    q->r->inflight--;
    if (q->r->wait_head && q->r->pump && !q->r->freeing)
        event_active(q->r->pump, 0, 0); /* room for a waiting query */
    if (q->r->freeing)
        return; /* ub_ctx_delete() flushing its queries; dns_resolver_free frees q */
    if (q->delivered) {
        /* The caller already had DNS_TIMEOUT: this late answer is dropped. */
        dns_query_unlink(q);
        dns_query_free(q);
        return;
    }
    q->answer = dnsmsg_answer(q->qname, q->qtype, rcode, packet,
                              packet_len > 0 ? (size_t)packet_len : 0, sec, why_bogus);
    if (!q->answer) {
        q->answer = q->spare;
        q->spare = NULL;
        q->answer->outcome = DNS_ERROR;
        q->answer->why = NULL; /* out of memory: no room for a sentence either */
        q->answer->nomem = 1;
    }
    /* Deliver from our event, not from inside libunbound (see the top). */
    event_del(q->timer);
    event_active(q->timer, EV_TIMEOUT, 0);
}

/* dns_check_file - the file exists, is a regular file and readable */
static mxtls_status dns_check_file(const char *path, const char *what, err_rec *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(e, err_code_errno(errno), path, "%s: %s", what,
                       err_errno_text(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(e, MXTLS_ERR_IO, path, "%s: not a regular file", what);
    if (access(path, R_OK) != 0)
        return err_set(e, err_code_errno(errno), path, "%s: %s", what,
                       err_errno_text(errno));
    if (strchr(path, '"') || strchr(path, '\n'))
        return err_set(e, MXTLS_ERR_INVALID, path,
                       "%s: the path cannot be written into an unbound config file", what);
    return MXTLS_OK;
}

/* dns_ldns_nomem - whether a failed ldns_rr_new_frm_fp_l() ran out of memory.
 * ldns turns a failed allocation inside an rdata parser into "could not
 * parse the RR's rdata", a syntax error. So a syntax error counts as one
 * only when there is room for what ldns allocates for a record (two buffers
 * of LDNS_MAX_RDFLEN) and more; a file that really is malformed is still
 * malformed with memory to spare. */
static int dns_ldns_nomem(ldns_status s)
{
    if (s == LDNS_STATUS_MEM_ERR)
        return 1;
    void *room = malloc(4u * (LDNS_MAX_RDFLEN + 1));
    int none = room == NULL;
    free(room);
    return none;
}

/* dns_check_trust_anchor - the file holds at least one DS or DNSKEY record
 *
 * libunbound reads the trust anchor only when the first query starts, and
 * then reports a bare "initialization failure". Reading it here with ldns
 * gives the user the file and line instead. */
static mxtls_status dns_check_trust_anchor(const char *path, err_rec *e)
{
    mxtls_status st = dns_check_file(path, "trust anchor", e);
    if (st != MXTLS_OK)
        return st;
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, err_code_errno(errno), path, "trust anchor: %s",
                       err_errno_text(errno));
    int line = 1, anchors = 0;
    uint32_t ttl = 3600;
    ldns_rdf *origin = NULL, *prev = NULL;
    while (!feof(f)) {
        ldns_rr *rr = NULL;
        int rr_line = line; /* ldns counts the newline of the record it read */
        ldns_status s = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);
        if (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
            s == LDNS_STATUS_SYNTAX_ORIGIN || s == LDNS_STATUS_SYNTAX_INCLUDE)
            continue;
        if (s != LDNS_STATUS_OK) {
            if (feof(f) && anchors > 0)
                break;
            if (dns_ldns_nomem(s)) {
                fclose(f);
                ldns_rdf_deep_free(origin);
                ldns_rdf_deep_free(prev);
                return err_set(e, MXTLS_ERR_NOMEM, path, "trust anchor: out of memory");
            }
            char where[MXTLS_ERR_WHERE_MAX];
            snprintf(where, sizeof where, "%s:%d", path, rr_line);
            fclose(f);
            ldns_rdf_deep_free(origin);
            ldns_rdf_deep_free(prev);
            return err_set(e, MXTLS_ERR_PARSE, where, "trust anchor: %s",
                           ldns_get_errorstr_by_id(s));
        }
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS ||
            ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY)
            anchors++;
        ldns_rr_free(rr);
    }
    fclose(f);
    ldns_rdf_deep_free(origin);
    ldns_rdf_deep_free(prev);
    if (anchors == 0)
        return err_set(e, MXTLS_ERR_PARSE, path, "trust anchor: no DS or DNSKEY record");
    return MXTLS_OK;
}

/* dns_check_root_hints - NS records for the root and an address for one of
 * the servers they name, as libunbound's iterator needs them
 *
 * libunbound reads root hints when the first query starts; an empty file or
 * one without NS records makes it fall back to its built-in root servers
 * silently (a DNS timeout later), and a malformed one is a bare
 * "initialization failure". Reading the file here gives the file and line. */
static mxtls_status dns_check_root_hints(const char *path, err_rec *e)
{
    mxtls_status st = dns_check_file(path, "root hints", e);
    if (st != MXTLS_OK)
        return st;
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, err_code_errno(errno), path, "root hints: %s", err_errno_text(errno));
    int line = 1, ns = 0, addrs = 0;
    uint32_t ttl = 3600;
    ldns_rdf *origin = NULL, *prev = NULL;
    ldns_rr_list *targets = ldns_rr_list_new(), *glue = ldns_rr_list_new();
    ldns_rdf *root = ldns_dname_new_frm_str(".");
    if (!targets || !glue || !root) {
        st = err_set(e, MXTLS_ERR_NOMEM, path, "root hints: out of memory");
        goto out;
    }
    while (!feof(f)) {
        ldns_rr *rr = NULL;
        int rr_line = line; /* ldns counts the newline of the record it read */
        ldns_status s = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &origin, &prev, &line);
        if (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
            s == LDNS_STATUS_SYNTAX_ORIGIN || s == LDNS_STATUS_SYNTAX_INCLUDE)
            continue;
        if (s != LDNS_STATUS_OK) {
            if (dns_ldns_nomem(s)) {
                st = err_set(e, MXTLS_ERR_NOMEM, path, "root hints: out of memory");
                goto out;
            }
            char where[MXTLS_ERR_WHERE_MAX];
            snprintf(where, sizeof where, "%s:%d", path, rr_line);
            st = err_set(e, MXTLS_ERR_PARSE, where, "root hints: %s", ldns_get_errorstr_by_id(s));
            goto out;
        }
        ldns_rr_type t = ldns_rr_get_type(rr);
        if (t == LDNS_RR_TYPE_NS && ldns_dname_compare(ldns_rr_owner(rr), root) == 0) {
            ns++;
            if (!ldns_rr_list_push_rr(targets, rr))
                ldns_rr_free(rr);
        } else if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) {
            addrs++;
            if (!ldns_rr_list_push_rr(glue, rr))
                ldns_rr_free(rr);
        } else {
            ldns_rr_free(rr);
        }
    }
    if (ns == 0) {
        st = err_set(e, MXTLS_ERR_PARSE, path,
                     "root hints: no NS record for the root (\".\") in the file");
        goto out;
    }
    int usable = 0;
    for (size_t i = 0; i < ldns_rr_list_rr_count(targets) && !usable; i++) {
        const ldns_rdf *target = ldns_rr_rdf(ldns_rr_list_rr(targets, i), 0);
        for (size_t j = 0; target && j < ldns_rr_list_rr_count(glue) && !usable; j++)
            usable = ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(glue, j)), target) == 0;
    }
    if (!usable)
        st = err_set(e, MXTLS_ERR_PARSE, path,
                     "root hints: no address (A or AAAA record) for any of the root's NS names");
out:
    fclose(f);
    ldns_rdf_deep_free(origin);
    ldns_rdf_deep_free(prev);
    ldns_rdf_deep_free(root);
    ldns_rr_list_deep_free(targets);
    ldns_rr_list_deep_free(glue);
    return st;
}

/* dns_check_forwarder - "ADDR" or "ADDR@PORT" as ub_ctx_set_fwd() takes it */
static mxtls_status dns_check_forwarder(const char *spec, err_rec *e)
{
    char addr[INET6_ADDRSTRLEN + 1];
    const char *at = strchr(spec, '@');
    size_t alen = at ? (size_t)(at - spec) : strlen(spec);
    unsigned char bin[16];
    if (alen == 0 || alen >= sizeof addr)
        goto bad;
    memcpy(addr, spec, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
        goto bad;
    if (at && decimal_parse(at + 1, 1, 65535) < 0)
        goto bad;
    return MXTLS_OK;
bad:
    return err_set(e, MXTLS_ERR_INVALID, "resolver",
                   "\"%s\" is not ADDR or ADDR@PORT (ADDR an IPv4 or IPv6 address)", spec);
}

/* dns_write_conf - the unbound config file for this resolver
 *
 * Written to a file because some options only take effect from a file read
 * with ub_ctx_config(): ub_ctx_set_option("local-zone:", "test. nodefault")
 * returns success and changes nothing in libunbound 1.17 (PITFALLS.md). */
static mxtls_status dns_write_conf(dns_resolver *r, const char *anchor, const dns_config *cfg,
                                   err_rec *e)
{
    FILE *f = fopen(r->conf, "w");
    if (!f)
        return err_set(e, err_code_errno(errno), r->conf, "cannot write the resolver config: %s",
                       err_errno_text(errno));
    fprintf(f, "server:\n");
    /* Validate (RFC 4033-4035) on top of iteration or forwarding. */
    fprintf(f, "  module-config: \"validator iterator\"\n");
    /* A read-only anchor: no RFC 5011 rollover state is written back. */
    fprintf(f, "  trust-anchor-file: \"%s\"\n", anchor);
    if (cfg->root_hints)
        fprintf(f, "  root-hints: \"%s\"\n", cfg->root_hints);
    /* Many checks on one resolver (scan, policyd): libunbound's defaults
     * keep few queries in flight upstream and queue the rest, which capped a
     * scan near 55 domains/s whatever its concurrency; the room costs memory
     * at start, so one-shot checks keep the defaults. */
    if (cfg->inflight) {
        fprintf(f, "  outgoing-range: %u\n", cfg->inflight);
        fprintf(f, "  num-queries-per-thread: %u\n", cfg->inflight / 2);
    }
    if (cfg->root_hints || cfg->resolver) {
        /* A private root (tests/world) serves names that libunbound otherwise
         * answers itself (RFC 6761 test., the loopback reverse zone) and runs
         * its servers on 127.0.0.0/8, which do-not-query-localhost skips. A
         * forwarder is the user's choice of authority for every name. */
        fprintf(f, "  do-not-query-localhost: no\n");
        fprintf(f, "  local-zone: \"test.\" nodefault\n");
        fprintf(f, "  local-zone: \"127.in-addr.arpa.\" nodefault\n");
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return err_set(e, MXTLS_ERR_IO, r->conf, "cannot write the resolver config");
    return MXTLS_OK;
}

/* dns_resolver_new - see dns.h */
dns_resolver *dns_resolver_new(struct event_base *base, const dns_config *cfg, err_rec *e)
{
    static const dns_config defaults = {0};
    if (!cfg)
        cfg = &defaults;
    if (!base) {
        err_set(e, MXTLS_ERR_INVALID, "dns", "no event base");
        return NULL;
    }
    if (cfg->timeout_ms < 0) {
        err_set(e, MXTLS_ERR_INVALID, "dns", "negative timeout (%d ms)", cfg->timeout_ms);
        return NULL;
    }
    char anchor[PATH_MAX], hints[PATH_MAX];
    const char *ta = cfg->trust_anchor ? cfg->trust_anchor : DNS_DEFAULT_TRUST_ANCHOR;
    if (dns_check_trust_anchor(ta, e) != MXTLS_OK)
        return NULL;
    /* unbound resolves relative paths against its own idea of a directory;
     * absolute paths mean what the caller meant. */
    if (!realpath(ta, anchor)) {
        err_set(e, err_code_errno(errno), ta, "trust anchor: %s", err_errno_text(errno));
        return NULL;
    }
    if (cfg->root_hints) {
        if (dns_check_root_hints(cfg->root_hints, e) != MXTLS_OK)
            return NULL;
        if (!realpath(cfg->root_hints, hints)) {
            err_set(e, err_code_errno(errno), cfg->root_hints, "root hints: %s",
                    err_errno_text(errno));
            return NULL;
        }
    }
    if (cfg->resolver && dns_check_forwarder(cfg->resolver, e) != MXTLS_OK)
        return NULL;

    dns_resolver *r = calloc(1, sizeof *r);
    if (!r) {
        err_set(e, MXTLS_ERR_NOMEM, "dns", "out of memory");
        return NULL;
    }
    r->base = base;
    r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > PATH_MAX - 64)
        tmp = "/tmp";
    snprintf(r->dir, sizeof r->dir, "%s/mxtls-dns-XXXXXX", tmp);
    if (!mkdtemp(r->dir)) {
        err_set(e, err_code_errno(errno), r->dir, "cannot create a private directory: %s",
                err_errno_text(errno));
        r->dir[0] = '\0';
        goto err;
    }
    snprintf(r->conf, sizeof r->conf, "%s/" DNS_CONF_NAME, r->dir);
    dns_config abs = *cfg;
    abs.root_hints = cfg->root_hints ? hints : NULL;
    if (dns_write_conf(r, anchor, &abs, e) != MXTLS_OK)
        goto err;

    snprintf(r->logpath, sizeof r->logpath, "%s/" DNS_LOG_NAME, r->dir);
    r->log = fopen(r->logpath, "w+");
    if (!r->log) {
        int saved = errno;
        err_set(e, err_code_errno(saved), r->logpath, "cannot create the resolver's log: %s",
                err_errno_text(saved));
        goto err;
    }
    r->ub_base.super.magic = UB_EVENT_MAGIC;
    r->ub_base.super.vmt = &dns_ub_base_vmt;
    r->ub_base.base = base;
    r->ub = ub_ctx_create_ub_event(&r->ub_base.super);
    if (!r->ub) {
        err_set(e, MXTLS_ERR_NOMEM, "dns", "out of memory (libunbound: cannot create a context)");
        goto err;
    }
    /* Before anything can log: libunbound's messages never reach our
     * caller's standard error. */
    ub_ctx_debugout(r->ub, r->log);
    int rc = ub_ctx_config(r->ub, r->conf);
    if (rc != 0) {
        dns_ub_failure(r, rc, e);
        goto err;
    }
    if (cfg->resolver) {
        rc = ub_ctx_set_fwd(r->ub, cfg->resolver);
        if (rc != 0) {
            err_set(e, rc == UB_NOMEM ? MXTLS_ERR_NOMEM : MXTLS_ERR_INVALID, "resolver",
                    "libunbound forwarder \"%s\": %s", cfg->resolver, ub_strerror(rc));
            goto err;
        }
    }
    /* libunbound 1.17 dereferences NULL when an allocation fails inside its
     * first ub_resolve_event() (module and worker set-up): make sure that
     * much address space can be had first, else fail cleanly. */
    void *room = mmap(NULL, DNS_STARTUP_ROOM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (room == MAP_FAILED) {
        err_set(e, MXTLS_ERR_NOMEM, "dns", "out of memory (libunbound's start-up)");
        goto err;
    }
    munmap(room, DNS_STARTUP_ROOM);
    /* Set up libunbound's modules and worker now (see the top): a name from
     * its built-in local zone, answered inside ub_resolve_event(). */
    errno = 0;
    rc = ub_resolve_event(r->ub, "localhost.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, NULL,
                          dns_ub_warmup_done, NULL);
    if (rc != 0) {
        dns_ub_failure(r, rc, e);
        goto err;
    }
    return r;
err:
    dns_resolver_free(r);
    return NULL;
}

/* dns_resolver_free - see dns.h */
void dns_resolver_free(dns_resolver *r)
{
    if (!r)
        return;
    r->freeing = 1;
    /* ub_ctx_delete() cleans up its mesh and calls back every query still in
     * flight with SERVFAIL; dns_ub_done() ignores those (r->freeing). */
    if (r->ub)
        ub_ctx_delete(r->ub); /* also stops libunbound's logging to r->log */
    r->ub = NULL;
    if (r->pump)
        event_free(r->pump);
    r->pump = NULL;
    r->wait_head = r->wait_tail = NULL; /* on r->queries too: freed below */
    while (r->queries) {
        dns_query *q = r->queries;
        dns_query_unlink(q);
        dns_query_free(q);
    }
    if (r->log)
        fclose(r->log);
    if (r->logpath[0])
        unlink(r->logpath);
    if (r->conf[0])
        unlink(r->conf);
    if (r->dir[0])
        rmdir(r->dir);
    free(r);
}

/* dns_resolve - see dns.h */
/* dns_query_send - hand q to libunbound and arm its timeout. 0, or -1 with
 * e set; *held: libunbound still holds the record (its late answer frees it),
 * else it is the caller's to drop. */
static int dns_query_send(dns_query *q, err_rec *e, int *held)
{
    dns_resolver *r = q->r;
    *held = 0;
    q->ub_pending = 1;
    if (++r->inflight > r->peak_inflight)
        r->peak_inflight = r->inflight;
    int rc = ub_resolve_event(r->ub, q->qname, q->qtype, LDNS_RR_CLASS_IN, q, dns_ub_done, NULL);
    if (rc != 0) {
        /* libunbound took no reference (or already answered, which it does not
         * do together with an error): the record is ours to drop. */
        q->ub_pending = 0;
        r->inflight--;
        err_set(e, rc == UB_INITFAIL ? MXTLS_ERR_INVALID : MXTLS_ERR_NOMEM, "dns",
                "libunbound: %s%s", ub_strerror(rc),
                rc == UB_INITFAIL ? " (check the trust anchor and root hints)" : "");
        return -1;
    }
    if (q->ub_pending) {
        struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
        if (event_add(q->timer, &tv) != 0) {
            /* No timeout of ours: the caller gets no callback and an error;
             * libunbound keeps the record and its late answer frees it. */
            q->delivered = 1;
            *held = 1;
            err_set(e, MXTLS_ERR_NOMEM, "dns", "out of memory (the event loop refused a timer)");
            return -1;
        }
    }
    /* else: answered from local data inside ub_resolve_event(); dns_ub_done()
     * has already made the delivery event active. */
    return 0;
}

/* dns_pump_cb - send waiting queries while there is room; one that cannot be
 * sent is answered DNS_ERROR with the reason */
static void dns_pump_cb(evutil_socket_t fd, short what, void *arg)
{
    dns_resolver *r = arg;
    (void)fd;
    (void)what;
    while (r->wait_head && r->inflight < r->max_inflight) {
        dns_query *q = r->wait_head;
        r->wait_head = q->wnext;
        if (!r->wait_head)
            r->wait_tail = NULL;
        q->wnext = NULL;
        err_rec e;
        err_clear(&e);
        int held = 0;
        if (dns_query_send(q, &e, &held) != 0 && !held) {
            q->answer = q->spare;
            q->spare = NULL;
            q->answer->outcome = DNS_ERROR;
            q->answer->why = strdup(e.message);
            event_active(q->timer, EV_TIMEOUT, 0);
        }
    }
}

int dns_resolver_set_max_inflight(dns_resolver *r, unsigned n, err_rec *e)
{
    if (!r->pump && !(r->pump = event_new(r->base, -1, 0, dns_pump_cb, r))) {
        err_set(e, MXTLS_ERR_NOMEM, "dns", "out of memory");
        return -1;
    }
    r->max_inflight = n;
    if (r->wait_head)
        event_active(r->pump, 0, 0);
    return 0;
}

int dns_resolve(dns_resolver *r, const char *name, uint16_t qtype, dns_cb cb, void *arg,
                err_rec *e)
{
    char norm[MXTLS_MAX_NAME + 2];
    if (!r || !name || !cb || qtype == 0) {
        err_set(e, MXTLS_ERR_INVALID, "dns", "dns_resolve: missing argument");
        return -1;
    }
    if (dnsmsg_name_normalize(name, norm, sizeof norm) != 0) {
        err_set(e, MXTLS_ERR_INVALID, name, "not a domain name in A-label form");
        return -1;
    }
    dns_query *q = calloc(1, sizeof *q);
    if (!q)
        goto nomem;
    q->r = r;
    q->qtype = qtype;
    q->cb = cb;
    q->arg = arg;
    q->qname = strdup(norm);
    q->spare = dnsmsg_answer_new(norm, qtype, DNS_ERROR, NULL);
    q->timer = event_new(r->base, -1, 0, dns_query_fire, q);
    if (!q->qname || !q->spare || !q->timer) {
        dns_query_free(q);
        goto nomem;
    }
    q->next = r->queries;
    if (r->queries)
        r->queries->prev = q;
    r->queries = q;
    r->nqueries++;
    if (r->max_inflight && r->inflight >= r->max_inflight) {
        /* Sent when an answer makes room (dns_pump_cb); its timeout starts then. */
        if (r->wait_tail)
            r->wait_tail->wnext = q;
        else
            r->wait_head = q;
        r->wait_tail = q;
        return 0;
    }
    int held = 0;
    if (dns_query_send(q, e, &held) != 0) {
        if (!held) {
            dns_query_unlink(q);
            dns_query_free(q);
        }
        return -1;
    }
    return 0;
nomem:
    err_set(e, MXTLS_ERR_NOMEM, "dns", "out of memory");
    return -1;
}

unsigned long dns_resolver_queries(const dns_resolver *r)
{
    return r ? r->nqueries : 0;
}

unsigned dns_resolver_peak_inflight(const dns_resolver *r)
{
    return r ? r->peak_inflight : 0;
}

/* dns_ptr_name - see dns.h; RFC 1035 §3.5 (in-addr.arpa), RFC 3596 §2.5 (ip6.arpa) */
int dns_ptr_name(const char *ip, char *out, size_t outlen)
{
    unsigned char b[16];
    int n;
    if (!ip || !out)
        return -1;
    if (inet_pton(AF_INET, ip, b) == 1) {
        n = snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
    } else if (inet_pton(AF_INET6, ip, b) == 1) {
        static const char hex[] = "0123456789abcdef";
        char buf[16 * 4 + sizeof "ip6.arpa"];
        size_t o = 0;
        for (int i = 15; i >= 0; i--) {
            buf[o++] = hex[b[i] & 0xf];
            buf[o++] = '.';
            buf[o++] = hex[b[i] >> 4];
            buf[o++] = '.';
        }
        memcpy(buf + o, "ip6.arpa", sizeof "ip6.arpa");
        n = snprintf(out, outlen, "%s", buf);
    } else {
        return -1;
    }
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}
