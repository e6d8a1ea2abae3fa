/* check.c - check one mail domain: DNS, probes, revocation, verdicts
 *
 * Everything runs on one private event loop. Each asynchronous step holds a
 * reference (`pending`) on the run; when the last one finishes the loop stops
 * and the verdicts are computed from the evidence, purely. A total deadline
 * stops the loop early; whatever did not finish becomes a `timeout` reason. */
#include "engine/check.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/ctx.h"
#include "core/dnssec_advice.h"
#include "core/evidence.h"
#include "core/level.h"
#include "core/mx.h"
#include "core/names.h"
#include "core/pkix.h"
#include "core/result.h"
#include "core/tlsparams.h"
#include "engine/config.h"
#include "engine/aggregate.h"
#include "engine/advice.h"
#include "engine/probeshare.h"
#include "engine/revshare.h"
#include "engine/sts.h"

/* One check is a struct mxtls_check (the public handle). */
typedef struct mxtls_check check_run_state;

/* check_op - the context of one asynchronous step; all are freed with the
 * check, so a step cancelled by the deadline leaks nothing */
typedef struct check_op {
    check_run_state *rs;
    check_host *host;
    check_address *addr;
    int conn;        /* index into addr->conns of the probe */
    int ptr_index;   /* forward confirmation of addr->ptr.v[ptr_index] */
    int tlsa_at_target; /* TLSA lookup at the host's CNAME target */
    int family;      /* 4 or 6 for address lookups */
    probe *running;  /* probe in flight, for cancellation */
    probeshare_wait *waiter; /* or its shared result awaited (engine limits set) */
    revshare_wait *rev_waiter; /* a shared revocation result awaited (engine limits set) */
    dns_cb fn;       /* the step's DNS callback (through check_dns_answer) */
    dns_cb ext_fn;   /* check_ext_lookup's callback and its argument */
    void *ext_arg;
    struct check_op *next;
} check_op;

/* The engine: what the checks on one loop share (include/mxtls.h). */
struct mxtls_engine {
    struct event_base *base;
    mxtls_config *cfg;           /* a reference; frozen */
    dns_resolver *dns;           /* one validating resolver: its cache stays warm */
    check_run_state *runs;       /* checks not yet freed */
    probeshare *ps;              /* shared probes and politeness (mxtls_engine_set_limits) */
    revshare *rv;                /* shared revocation results (with ps) */
    X509_STORE *https_trust;     /* the trust store of HTTPS fetches (check_ext_https_trust) */
    struct stat https_trust_file; /* the CA file it was loaded from, as it was then */
    int started;                 /* a check was started: the limits are fixed */
};

/* Lifetime: a check runs until every step is done or its deadline passes;
 * then it finishes (verdicts, callback). DNS queries cannot be taken back
 * from the shared resolver, so a finished check stays allocated until the
 * answers it still owes have come back and been dropped (OpenSMTPD's rule:
 * free an object after the last callback that refers to it). */
struct mxtls_check {
    mxtls_engine *eng;
    mxtls_ctx *ctx;              /* this check's errors; the config's trust store */
    check_options optv;          /* the options, with the strings in `owned` */
    const check_options *opt;    /* = &optv */
    strlist owned;
    check_report *rep;
    struct event_base *base;     /* the engine's */
    dns_resolver *dns;           /* the engine's */
    https_client *https;         /* this check's own (revocation), made on first use */
    SSL_CTX *ssl;                /* the configuration's */
    struct event *deadline, *finish;
    int pending;                 /* steps still running */
    int dns_pending;             /* DNS answers still owed to this check */
    int finished;                /* verdicts delivered, or cancelled */
    err_rec local_err;           /* out of memory or descriptors: no report */
    check_op *ops;
    char ehlo[SMTP_MAX_EHLO_NAME + 1];
    struct timeval started;
    mxtls_check_cb cb;
    void *cb_arg;
    struct mxtls_check *prev, *next; /* the engine's list */
};

/* check_total_ms - the check's whole budget */
static int check_total_ms(const check_options *opt)
{
    return opt->total_timeout_ms ? opt->total_timeout_ms : CHECK_DEFAULT_TOTAL_TIMEOUT_MS;
}

/* check_elapsed_ms - milliseconds since the check started */
static long check_elapsed_ms(const check_run_state *rs)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    return (now.tv_sec - rs->started.tv_sec) * 1000L +
           (now.tv_usec - rs->started.tv_usec) / 1000L;
}

/* check_ms_left - milliseconds until the check's deadline */
static long check_ms_left(const check_run_state *rs)
{
    return check_total_ms(rs->opt) - check_elapsed_ms(rs);
}

/* check_local_failure - out of memory or descriptors is this machine's
 * failure, not the domain's: remember the first, stop, and report it to the
 * caller instead of a report (its verdicts would be wrong) */
static void check_local_failure(check_run_state *rs, const err_rec *e)
{
    if (e->code != MXTLS_ERR_NOMEM && e->code != MXTLS_ERR_RESOURCE)
        return;
    if (rs->local_err.code == MXTLS_OK)
        rs->local_err = *e;
    if (!rs->finished)
        event_active(rs->finish, 0, 0);
}

/* check_nomem - an allocation failed: the check ends as a local failure
 * (a report built without it could show a different verdict) */
static void check_nomem(check_run_state *rs)
{
    err_rec e;
    err_clear(&e);
    err_set(&e, MXTLS_ERR_NOMEM, "check", "out of memory");
    check_local_failure(rs, &e);
}

/* check_strdup - a copy of s; out of memory ends the check (check_nomem) */
static char *check_strdup(check_run_state *rs, const char *s)
{
    char *d = strdup(s);
    if (!d)
        check_nomem(rs);
    return d;
}

/* check_step_done - one step less; the last one finishes the check, from
 * its own event (never inside another adapter's callback) */
static void check_step_done(check_run_state *rs)
{
    if (--rs->pending == 0 && !rs->finished)
        event_active(rs->finish, 0, 0);
}

static check_op *check_op_new(check_run_state *rs, check_host *h, check_address *a)
{
    check_op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->rs = rs;
    op->host = h;
    op->addr = a;
    op->next = rs->ops;
    rs->ops = op;
    return op;
}

static void check_free_run(check_run_state *rs);

/* check_dns_answer - every DNS answer of a check comes here first: a check
 * that is over only drops it (and is freed with its last one) */
static void check_dns_answer(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    check_run_state *rs = op->rs;
    rs->dns_pending--;
    if (rs->finished || (rs->rep && rs->rep->timed_out)) {
        /* over, or past its deadline and about to finish */
        dns_answer_free(ans);
        if (rs->finished && rs->dns_pending == 0)
            check_free_run(rs);
        return;
    }
    if (ans->nomem) /* the adapter could not build the answer */
        check_nomem(rs);
    op->fn(op, ans);
}

/* check_lookup - start a DNS query as one pending step */
static int check_lookup(check_run_state *rs, const char *name, uint16_t type, dns_cb cb,
                        check_op *op)
{
    if (!op) { /* check_op_new failed */
        check_nomem(rs);
        return -1;
    }
    err_rec e;
    err_clear(&e);
    op->fn = cb;
    if (dns_resolve(rs->dns, name, type, check_dns_answer, op, &e) != 0) {
        check_local_failure(rs, &e);
        return -1;
    }
    rs->pending++;
    rs->dns_pending++;
    return 0;
}

/* ---- steps of other modules (engine/sts.c) ---------------------------- */

static void check_ext_answer(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    op->ext_fn(op->ext_arg, ans);
    check_step_done(op->rs);
}

int check_ext_lookup(mxtls_check *rs, const char *name, uint16_t type, dns_cb cb, void *arg)
{
    check_op *op = check_op_new(rs, NULL, NULL);
    if (op) {
        op->ext_fn = cb;
        op->ext_arg = arg;
    }
    return check_lookup(rs, name, type, check_ext_answer, op);
}

void check_ext_hold(mxtls_check *rs)
{
    rs->pending++;
}

void check_ext_release(mxtls_check *rs)
{
    check_step_done(rs);
}

https_client *check_ext_https(mxtls_check *rs)
{
    err_rec e;
    err_clear(&e);
    if (!rs->https && !rs->finished) {
        rs->https = https_client_new(rs->base, &e);
        if (!rs->https)
            check_local_failure(rs, &e);
    }
    return rs->https;
}

/* https_trust_path - the CA file an HTTPS trust store is read from: the
 * configuration's, else OpenSSL's default (SSL_CERT_FILE overrides it, as in
 * X509_STORE_set_default_paths); NULL for a --ca-path directory alone, which
 * is read as certificates are looked up */
static const char *https_trust_path(const mxtls_config *cfg)
{
    if (cfg->ca_file || cfg->ca_path)
        return cfg->ca_file;
    const char *env = getenv(X509_get_default_cert_file_env());
    return env && *env ? env : X509_get_default_cert_file();
}

static int https_trust_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

struct x509_store_st *check_ext_https_trust(mxtls_check *rs)
{
    mxtls_engine *eng = rs->eng;
    if (!eng)
        return NULL;
    /* A fetch trusts what the CA file says now, as when libcurl read it for
     * each connection: a changed file (update-ca-certificates) is loaded
     * again, at the cost of one stat() per fetch. */
    const char *path = https_trust_path(eng->cfg);
    struct stat now;
    int have_file = path && stat(path, &now) == 0;
    if (eng->https_trust && path &&
        (!have_file || !https_trust_same_file(&now, &eng->https_trust_file))) {
        X509_STORE_free(eng->https_trust); /* fetches in flight hold their own reference */
        eng->https_trust = NULL;
    }
    if (!eng->https_trust) {
        /* The configuration's trust, for the engine's MTA-STS fetches. A
         * store of its own, not the PKIX one: libcurl may set verification
         * flags on the stores it is given. */
        err_rec e;
        err_clear(&e);
        eng->https_trust = pkix_store_load(eng->cfg->ca_file, eng->cfg->ca_path, &e);
        if (!eng->https_trust && e.code == MXTLS_ERR_NOMEM)
            check_nomem(rs);
        /* the flags libcurl sets on the stores it loads itself, whichever
         * order its version sets up a connection's store in */
        if (eng->https_trust)
            X509_STORE_set_flags(eng->https_trust,
                                 X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
        /* any other failure: libcurl reads the files and says why */
        if (have_file)
            eng->https_trust_file = now;
    }
    return eng->https_trust;
}

void check_ext_nomem(mxtls_check *rs)
{
    check_nomem(rs);
}

/* ---- addresses: PTR, forward confirmation, probe, revocation ---------- */

static void check_revocation_done(void *arg, revocation_result *r)
{
    check_op *op = arg;
    check_conn *c = &op->addr->conns[op->conn];
    op->rev_waiter = NULL;
    if (r->nomem)
        check_nomem(op->rs);
    free(c->rev.detail);
    c->rev = *r; /* take the detail; r itself is the adapter's */
    r->detail = NULL;
    check_step_done(op->rs);
}

static void check_plan(check_run_state *rs, check_host *h, check_address *a);

static void check_probe_done(void *arg, probe_report *r)
{
    check_op *op = arg;
    check_run_state *rs = op->rs;
    check_conn *c = &op->addr->conns[op->conn];
    op->running = NULL;
    op->waiter = NULL;
    if (!r) { /* a shared probe that could not even report (out of memory) */
        check_nomem(rs);
        c->probe_error = check_strdup(rs, "out of memory");
        check_step_done(rs);
        return;
    }
    c->probe = r;
    if (r->local_failure) /* out of memory: the report says nothing of the server */
        check_nomem(rs);
    /* TLS < 1.2 at security level 0: Postfix's authenticating levels make
     * their own handshake at level 1 (check_level_hello). */
    if (r->tls_ok && !c->hello.seclevel1 && r->tls.version && !op->addr->legacy_tls &&
        (!strcmp(r->tls.version, "TLSv1") || !strcmp(r->tls.version, "TLSv1.1") ||
         !strcmp(r->tls.version, "SSLv3"))) {
        op->addr->legacy_tls = 1;
        check_plan(rs, op->host, op->addr);
    }
    if (rs->ctx->revocation != MXTLS_REVOCATION_OFF && r->tls_ok && r->tls.chain &&
        sk_X509_num(r->tls.chain) > 0) {
        X509_STORE *store = pkix_store(rs->ctx);
        err_rec he;
        err_clear(&he);
        /* Created on first use: libcurl's start-up is not free, and a
         * check without revocation never needs it. */
        if (!rs->https && !rs->eng->rv && !(rs->https = https_client_new(rs->base, &he)))
            check_local_failure(rs, &he);
        check_op *rop = check_op_new(rs, op->host, op->addr);
        if (rop)
            rop->conn = op->conn;
        else
            check_nomem(rs);
        err_rec e;
        err_clear(&e);
        int timeout = rs->opt->phase_timeout_ms ? rs->opt->phase_timeout_ms : 10000;
        long left = check_ms_left(rs);
        if (left < timeout)
            timeout = left > 1 ? (int)left : 1;
        /* Until an answer comes: the deadline may stop the check first,
         * and no answer is not "not checked" (hard mode defers on it). */
        c->rev.status = MXTLS_REVOCATION_UNAVAILABLE;
        c->rev.source = REVOCATION_SRC_NONE;
        free(c->rev.detail);
        c->rev.detail = check_strdup(rs, "no revocation answer before the check's deadline");
        int started = 0;
        if (store && rop && rs->eng->rv) /* once per chain for the engine (revshare.h) */
            started = (rop->rev_waiter = revshare_get(rs->eng->rv, r->tls.chain, store,
                                                      r->tls.ocsp_staple, r->tls.ocsp_staple_len,
                                                      rs->ctx->at, timeout, check_revocation_done,
                                                      rop, &e)) != NULL;
        else if (store && rop && rs->https)
            started = revocation_check(rs->https, r->tls.chain, store, r->tls.ocsp_staple,
                                       r->tls.ocsp_staple_len, rs->ctx->at, timeout,
                                       check_revocation_done, rop, &e) == 0;
        if (started) {
            rs->pending++;
        } else {
            check_local_failure(rs, &e);
            free(c->rev.detail);
            c->rev.detail = check_strdup(rs, e.message[0]    ? e.message
                                             : he.message[0] ? he.message
                                                             : "revocation check could not start");
        }
    }
    check_step_done(rs);
}

/* ---- connections: one per distinct ClientHello ------------------------ */

/* A ClientHello as a level's sender would send it (strings borrowed). */
typedef struct hello_view {
    const char *sni, *protocols, *ciphers, *exclude;
    int seclevel1;
} hello_view;

/* check_nexthop - Postfix's next-hop domain: the first route, else the domain */
static const char *check_nexthop(const check_run_state *rs)
{
    return rs->opt->nroutes ? rs->opt->routes[0] : rs->rep->domain;
}

/* check_dane_applies - DANE decides for this host (RFC 7672 §2.2, Postfix
 * dane_init): the MX RRset is DNSSEC-secure (or there is no MX lookup) and
 * the final TLSA answer holds secure, usable records. Until that answer
 * comes, a DANE level is planned like its fallback (may/encrypt). */
static int check_dane_applies(const check_run_state *rs, const check_host *h)
{
    const check_report *rep = rs->rep;
    if (!h->tlsa_done || h->tlsa_state != MXTLS_TLSA_SECURE)
        return 0;
    if (!rep->routed && !rep->implicit_mx && rep->mx_security != DNS_SEC_SECURE)
        return 0;
    for (size_t i = 0; i < h->ntlsa; i++)
        if (!dane_rr_unusable_why(&h->tlsa[i]))
            return 1;
    return 0;
}

/* check_servername - Postfix smtp_tls_servername (tls_client.c): "hostname"
 * is the MX hostname as in the MX record, "nexthop" the next-hop domain,
 * anything else is sent as written; unset sends nothing */
static const char *check_servername(const check_run_state *rs, const check_host *h,
                                    const char *servername)
{
    if (!servername || !*servername)
        return NULL;
    if (!strcmp(servername, "hostname"))
        return h->name;
    if (!strcmp(servername, "nexthop"))
        return check_nexthop(rs);
    return servername;
}

/* check_level_sni - the server name the sender of a level sends to host h */
static const char *check_level_sni(const check_run_state *rs, const check_host *h,
                                   mxtls_level level, int dane)
{
    const check_options *opt = rs->opt;
    switch (opt->sni) {
    case CHECK_SNI_HOSTNAME: return h->name;
    case CHECK_SNI_NONE: return NULL;
    case CHECK_SNI_NAME: return opt->sni_name;
    case CHECK_SNI_SENDER: break;
    }
    const level_traits *t = level_traits_of(level);
    const mxtls_policy_entry *pe = rs->rep->policy_entry;
    /* A policy entry's servername= overrides main.cf for its destination. */
    const char *servername =
        pe && pe->level == level && pe->servername ? pe->servername : opt->servername;
    switch (t ? t->sni : LEVEL_SNI_SERVERNAME) {
    case LEVEL_SNI_ESA:
        /* AsyncOS documents no SNI on delivery (docs/policies.md). */
        return NULL;
    case LEVEL_SNI_DANE_BASE:
        /* RFC 7672 §3.1.1: the TLSA base domain; smtp_tls_servername is
         * ignored while DANE is in effect. */
        if (dane)
            return h->tlsa_base ? h->tlsa_base : h->name;
        return check_servername(rs, h, servername);
    case LEVEL_SNI_SERVERNAME: return check_servername(rs, h, servername);
    case LEVEL_SNI_MX_HOSTNAME: return dane && h->tlsa_base ? h->tlsa_base : h->name;
    }
    return NULL;
}

/* check_must_match - Postfix's TLS_MUST_MATCH: a Postfix level that
 * authenticates the server (fingerprint, verify, secure, dane, dane-only) */
static int check_must_match(mxtls_level level)
{
    const level_traits *t = level_traits_of(level);
    return t && t->sender == LEVEL_SENDER_POSTFIX &&
           (t->auth == LEVEL_AUTH_FINGERPRINT || t->auth == LEVEL_AUTH_PKIX ||
            t->auth == LEVEL_AUTH_DANE);
}

/* check_level_hello - the ClientHello of a level's sender */
static void check_level_hello(const check_run_state *rs, const check_host *h, mxtls_level level,
                              int dane, int legacy, hello_view *v)
{
    const mxtls_policy_entry *pe = rs->rep->policy_entry;
    memset(v, 0, sizeof *v);
    v->sni = check_level_sni(rs, h, level, dane);
    /* RFC 6066 §3: no address literals as SNI (a route given as an address). */
    unsigned char bin[16];
    if (v->sni && (inet_pton(AF_INET, v->sni, bin) == 1 || inet_pton(AF_INET6, v->sni, bin) == 1))
        v->sni = NULL;
    /* Postfix ignores these attributes at level none (smtp_tls_policy.c). */
    if (pe && pe->level == level && level != MXTLS_LEVEL_NONE) {
        v->protocols = pe->protocols;
        v->ciphers = pe->ciphers;
        v->exclude = pe->exclude;
    }
    /* Postfix runs its client at OpenSSL security level 0 and raises the
     * levels that authenticate the server to 1 (tls_client.c: "if
     * (TLS_MUST_MATCH(level)) SSL_set_security_level(con, 1)"), which refuses
     * the SHA-1 signatures of TLS 1.0 and 1.1. That makes a different
     * handshake only where TLS < 1.2 is negotiated: such a handshake at
     * level 1 is made only then, or for a policy entry's own limits. */
    v->seclevel1 = check_must_match(level) && (v->protocols || v->ciphers || v->exclude || legacy);
}

static int check_str_same(const char *a, const char *b, int nocase)
{
    if (!a || !b)
        return a == b;
    return nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

static int check_hello_same(const check_hello *h, const hello_view *v)
{
    return check_str_same(h->sni, v->sni, 1) && check_str_same(h->protocols, v->protocols, 0) &&
           check_str_same(h->ciphers, v->ciphers, 0) && check_str_same(h->exclude, v->exclude, 0) &&
           h->seclevel1 == v->seclevel1;
}

static char *check_dup(const char *s, int *bad)
{
    char *d = s ? strdup(s) : NULL;
    *bad |= s && !d;
    return d;
}

/* check_probe_limits - a policy entry's protocols=/ciphers=/exclude= as the
 * probe's settings, the way Postfix applies them; -1 with e set when Postfix
 * would refuse them (the session then fails, as Postfix's does) */
static int check_probe_limits(const check_hello *hl, mxtls_level level, probe_config *pc,
                              char *ciphers, size_t cap, err_rec *e)
{
    pc->postfix_security = hl->seclevel1;
    if (!hl->protocols && !hl->ciphers && !hl->exclude)
        return 0;
    if (hl->protocols && tlsparams_protocols(hl->protocols, &pc->proto_excluded,
                                             &pc->proto_floor, &pc->proto_ceiling, e) != 0)
        return -1;
    /* The entry's handshake is Postfix's whole ClientHello: its cipher grade
     * (smtp_tls_[mandatory_]ciphers, default medium, which keeps anonymous
     * suites for levels that do not authenticate) with the exclusions the
     * level implies, at OpenSSL's default security level. */
    int required = level != MXTLS_LEVEL_MAY, authenticates = check_must_match(level);
    if (tlsparams_cipherlist(hl->ciphers, hl->exclude, required, authenticates, ciphers, cap, e) !=
        0)
        return -1;
    pc->cipher_list = ciphers;
    return 0;
}

static void check_start_probe(check_run_state *rs, check_host *h, check_address *a, int ci,
                              mxtls_level level)
{
    check_conn *c = &a->conns[ci];
    check_op *op = check_op_new(rs, h, a);
    if (!op) {
        check_nomem(rs);
        return;
    }
    op->conn = ci;
    probe_config pc = {0};
    pc.ip = a->ip;
    pc.port = rs->rep->port;
    pc.ehlo_name = rs->ehlo;
    pc.sni = c->hello.sni;
    pc.implicit_tls = rs->opt->implicit_tls;
    pc.want_ocsp_staple = rs->ctx->revocation != MXTLS_REVOCATION_OFF;
    pc.connect_timeout_ms = rs->opt->connect_timeout_ms;
    pc.phase_timeout_ms = rs->opt->phase_timeout_ms;
    /* The check's deadline, not the probe's, ends a probe that runs as
     * long as the check: the probe's is set later than it, since both
     * timers would otherwise expire together (libevent's coarse clock ticks
     * every few ms) and either could explain the timeout. */
    int total = rs->opt->total_timeout_ms;
    pc.total_timeout_ms = total && total <= INT_MAX - CHECK_PROBE_DEADLINE_SLACK_MS
                              ? total + CHECK_PROBE_DEADLINE_SLACK_MS
                              : total;
    char ciphers[1024];
    err_rec e;
    err_clear(&e);
    if (check_probe_limits(&c->hello, level, &pc, ciphers, sizeof ciphers, &e) == 0) {
        if (rs->eng->ps)
            op->waiter = probeshare_get(rs->eng->ps, rs->ssl, h->name, &pc, check_probe_done, op,
                                        &e);
        else
            op->running = probe_start(rs->base, rs->ssl, &pc, check_probe_done, op, &e);
    }
    if (op->running || op->waiter)
        rs->pending++;
    else
        check_local_failure(rs, &e);
    if (!op->running && !op->waiter && !c->probe_error)
        c->probe_error = check_strdup(rs, e.message[0] ? e.message : "the probe could not start");
}

/* check_conn_for - the connection with this ClientHello, started if new */
static int check_conn_for(check_run_state *rs, check_host *h, check_address *a,
                          const hello_view *v, mxtls_level level, int alt)
{
    for (size_t i = 0; i < a->nconns; i++)
        if (check_hello_same(&a->conns[i].hello, v))
            return (int)i;
    if (a->nconns >= CHECK_MAX_CONNS) {
        a->conns_dropped++;
        return 0;
    }
    check_conn *c = &a->conns[a->nconns];
    int bad = 0;
    c->hello.sni = check_dup(v->sni, &bad);
    c->hello.protocols = check_dup(v->protocols, &bad);
    c->hello.ciphers = check_dup(v->ciphers, &bad);
    c->hello.exclude = check_dup(v->exclude, &bad);
    c->hello.seclevel1 = v->seclevel1;
    c->alt = alt;
    int ci = (int)a->nconns++;
    if (bad)
        check_nomem(rs);
    else
        check_start_probe(rs, h, a, ci, level);
    return ci;
}

/* check_plan - which connection each level's verdict comes from: one per
 * distinct ClientHello, started as soon as it is known. Run when the address
 * appears and again when the host's TLSA answer is final (DANE senders send
 * the TLSA base domain only once DANE applies). Idempotent. */
static void check_plan(check_run_state *rs, check_host *h, check_address *a)
{
    check_report *rep = rs->rep;
    int dane = check_dane_applies(rs, h);
    for (size_t li = 0; li < rep->nlevels; li++) {
        hello_view v;
        check_level_hello(rs, h, rep->levels[li], dane, a->legacy_tls, &v);
        a->level_conn[li] = check_conn_for(rs, h, a, &v, rep->levels[li], 0);
    }
    if (rs->opt->sni_compare && a->alt_conn < 0 && a->nconns) {
        /* --sni-compare: conns[0]'s hello with the other SNI choice */
        hello_view v = {.sni = a->conns[0].hello.sni || evidence_is_ip(h->name) ? NULL : h->name};
        a->alt_conn = check_conn_for(rs, h, a, &v, MXTLS_LEVEL_MAY, 1);
    }
}

static void check_forward_done(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    check_address *a = op->addr;
    /* Forward-confirmed: the PTR name's A/AAAA records contain the address
     * (compare binary forms: text forms of IPv6 differ). */
    unsigned char want[16], got[16];
    int af = a->family == 6 ? AF_INET6 : AF_INET;
    if (ans->outcome == DNS_DATA && inet_pton(af, a->ip, want) == 1)
        for (size_t i = 0; i < ans->n; i++)
            if (inet_pton(af, ans->rr[i].text, got) == 1 &&
                memcmp(want, got, af == AF_INET ? 4 : 16) == 0)
                a->ptr_confirmed[op->ptr_index] = 1;
    dns_answer_free(ans);
    check_step_done(op->rs);
}

static void check_ptr_done(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    check_run_state *rs = op->rs;
    check_address *a = op->addr;
    if (ans->outcome == DNS_DATA) {
        size_t i = 0;
        for (; i < ans->n && a->ptr.n < CHECK_MAX_PTR; i++) {
            err_rec ne;
            err_clear(&ne);
            char *n = names_normalize(ans->rr[i].text, 0, &ne);
            if (!n) {
                check_local_failure(rs, &ne); /* out of memory; else not a name: skipped */
                continue;
            }
            size_t had = a->ptr.n;
            if (strlist_add_unique(&a->ptr, n) != MXTLS_OK) {
                check_nomem(rs);
            } else if (a->ptr.n > had) {
                check_op *fop = check_op_new(rs, op->host, a);
                if (fop)
                    fop->ptr_index = (int)a->ptr.n - 1;
                check_lookup(rs, n, a->family == 6 ? DNS_T_AAAA : DNS_T_A, check_forward_done,
                             fop);
            }
            free(n);
        }
        a->ptr_dropped += ans->n - i;
    } else {
        char buf[160];
        snprintf(buf, sizeof buf, "%s (%s)", dns_outcome_name(ans->outcome),
                 dns_security_name(ans->security));
        a->ptr_problem = check_strdup(rs, buf);
    }
    dns_answer_free(ans);
    check_step_done(rs);
}

static void check_start_tlsa(check_run_state *rs, check_host *h, const char *base, int is_cname);

/* check_tlsa_done - RFC 7672 §2.2.2: with a secure CNAME chain, secure TLSA
 * records at the target win; when it has none (or none securely), the
 * original name is asked; a failed lookup stops the search (defer) */
static void check_tlsa_done(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    check_run_state *rs = op->rs;
    check_host *h = op->host;
    int retry_original = 0;
    free(h->tlsa_why); /* tlsa_base was set when the lookup started */
    h->tlsa_why = NULL;
    if (ans->outcome == DNS_DATA && ans->security != DNS_SEC_SECURE && op->tlsa_at_target) {
        /* No secure TLSA records at the target: the original name is asked
         * (only a failed lookup stops the search). */
        h->tlsa_state = MXTLS_TLSA_INSECURE;
        retry_original = 1;
    } else if (ans->outcome == DNS_DATA) {
        h->tlsa_state = ans->security == DNS_SEC_SECURE ? MXTLS_TLSA_SECURE : MXTLS_TLSA_INSECURE;
        for (size_t i = 0; i < ans->n; i++)
            if (h->tlsa_ttl < 0 || (long)ans->rr[i].ttl < h->tlsa_ttl)
                h->tlsa_ttl = (long)ans->rr[i].ttl;
        size_t i = 0;
        for (; i < ans->n && h->ntlsa < DANE_MAX_RECORDS; i++)
            if (dane_rr_set(&h->tlsa[h->ntlsa], ans->rr[i].usage, ans->rr[i].selector,
                            ans->rr[i].mtype, ans->rr[i].data, ans->rr[i].data_len) == 0)
                h->ntlsa++;
            else if (ans->rr[i].data_len <= DANE_MAX_DATA) /* not too long: out of memory */
                check_nomem(rs);
        h->tlsa_dropped += ans->n - i;
    } else if (ans->outcome == DNS_NODATA || ans->outcome == DNS_NXDOMAIN) {
        h->tlsa_state = ans->security == DNS_SEC_SECURE ? MXTLS_TLSA_NONE : MXTLS_TLSA_INSECURE;
        retry_original = op->tlsa_at_target;
    } else {
        h->tlsa_state = ans->security == DNS_SEC_BOGUS ? MXTLS_TLSA_BOGUS : MXTLS_TLSA_ERROR;
        char buf[512];
        snprintf(buf, sizeof buf, "%s%s%s", dns_outcome_name(ans->outcome), ans->why ? ": " : "",
                 ans->why ? ans->why : "");
        h->tlsa_why = check_strdup(rs, buf);
    }
    dns_answer_free(ans);
    if (retry_original) {
        check_start_tlsa(rs, h, h->name, 0);
    } else {
        h->tlsa_done = 1;
        for (size_t i = 0; i < h->naddrs; i++)
            check_plan(rs, h, h->addrs[i]);
    }
    check_step_done(rs);
}

static void check_start_tlsa(check_run_state *rs, check_host *h, const char *base, int is_cname)
{
    char qname[MXTLS_MAX_NAME + 32];
    snprintf(qname, sizeof qname, "_%u._tcp.%s", rs->rep->port, base);
    check_op *op = check_op_new(rs, h, NULL);
    if (!op) {
        check_nomem(rs);
        return;
    }
    op->tlsa_at_target = is_cname;
    /* Until an answer comes; the deadline may stop the check first, and a
     * missing answer must defer DANE senders, never downgrade them. */
    h->tlsa_state = MXTLS_TLSA_ERROR;
    free(h->tlsa_why);
    h->tlsa_why = check_strdup(rs, "no TLSA answer before the check's deadline");
    char *copy = check_strdup(rs, base); /* base may be h->tlsa_base itself */
    free(h->tlsa_base);
    h->tlsa_base = copy;
    if (check_lookup(rs, qname, DNS_T_TLSA, check_tlsa_done, op) != 0) {
        free(h->tlsa_why);
        h->tlsa_why = check_strdup(rs, "the TLSA lookup could not start");
    }
}

/* check_tlsa_info_done - TLSA records published where DANE senders ignore
 * them (an insecure answer): counted for the advice, never evaluated */
static void check_tlsa_info_done(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    if (ans->outcome == DNS_DATA && ans->security == DNS_SEC_INSECURE)
        op->host->tlsa_ignored = ans->n;
    dns_answer_free(ans);
    check_step_done(op->rs);
}

static void check_add_address(check_run_state *rs, check_host *h, const char *ip, int family,
                              dns_security sec)
{
    if (h->naddrs >= sizeof h->addrs / sizeof h->addrs[0]) {
        h->addrs_dropped++;
        return;
    }
    check_address *a = calloc(1, sizeof *a);
    if (!a || !(a->ip = strdup(ip))) {
        free(a);
        check_nomem(rs);
        return;
    }
    a->family = family;
    a->security = sec;
    a->alt_conn = -1;
    h->addrs[h->naddrs++] = a;
    if (rs->opt->lookups_only)
        return;
    char ptrname[128];
    if (dns_ptr_name(ip, ptrname, sizeof ptrname) == 0)
        check_lookup(rs, ptrname, DNS_T_PTR, check_ptr_done, check_op_new(rs, h, a));
    check_plan(rs, h, a);
}

static void check_addr_done(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    check_host *h = op->host;
    if (op->family == 4) {
        h->a_outcome = ans->outcome;
        h->a_security = ans->security;
    } else {
        h->aaaa_outcome = ans->outcome;
        h->aaaa_security = ans->security;
    }
    if (ans->outcome == DNS_DATA) {
        if (ans->security == DNS_SEC_SECURE && ans->canonname && !h->canonname &&
            strcasecmp(ans->canonname, h->name) != 0)
            h->canonname = check_strdup(op->rs, ans->canonname);
        for (size_t i = 0; i < ans->n && i < CHECK_MAX_ADDRS; i++)
            check_add_address(op->rs, h, ans->rr[i].text, op->family, ans->security);
        if (ans->n > CHECK_MAX_ADDRS)
            h->addrs_dropped += ans->n - CHECK_MAX_ADDRS;
        if (ans->security == DNS_SEC_SECURE && !h->tlsa_started) {
            h->tlsa_started = 1;
            check_start_tlsa(op->rs, h, h->canonname ? h->canonname : h->name,
                             h->canonname != NULL);
        } else if (ans->security == DNS_SEC_INSECURE && !h->tlsa_info_started &&
                   !op->rs->opt->lookups_only) {
            h->tlsa_info_started = 1;
            char qname[MXTLS_MAX_NAME + 32];
            snprintf(qname, sizeof qname, "_%u._tcp.%s", op->rs->rep->port, h->name);
            check_lookup(op->rs, qname, DNS_T_TLSA, check_tlsa_info_done,
                         check_op_new(op->rs, h, NULL));
        }
    }
    dns_answer_free(ans);
    check_step_done(op->rs);
}

/* ---- hosts and MX ----------------------------------------------------- */

static check_host *check_add_host(check_run_state *rs, const char *name, int pref)
{
    check_report *rep = rs->rep;
    if (rep->nhosts >= CHECK_MAX_HOSTS) {
        rep->hosts_dropped++;
        return NULL;
    }
    check_host *h = calloc(1, sizeof *h);
    if (!h || !(h->name = strdup(name))) {
        free(h);
        check_nomem(rs);
        return NULL;
    }
    h->pref = pref;
    h->tlsa_ttl = -1;
    h->a_outcome = h->aaaa_outcome = DNS_ERROR;
    h->a_security = h->aaaa_security = DNS_SEC_INDETERMINATE;
    rep->hosts[rep->nhosts++] = h;
    return h;
}

static void check_resolve_host(check_run_state *rs, check_host *h)
{
    if (rs->opt->ip_override) {
        int fam = strchr(rs->opt->ip_override, ':') ? 6 : 4;
        check_add_address(rs, h, rs->opt->ip_override, fam, DNS_SEC_INDETERMINATE);
        return;
    }
    if (rs->opt->family != 6) {
        check_op *op = check_op_new(rs, h, NULL);
        if (op) {
            op->family = 4;
            h->a_queried = 1;
            h->a_outcome = DNS_TIMEOUT; /* until an answer says otherwise */
        }
        check_lookup(rs, h->name, DNS_T_A, check_addr_done, op);
    }
    if (rs->opt->family != 4) {
        check_op *op = check_op_new(rs, h, NULL);
        if (op) {
            op->family = 6;
            h->aaaa_queried = 1;
            h->aaaa_outcome = DNS_TIMEOUT;
        }
        check_lookup(rs, h->name, DNS_T_AAAA, check_addr_done, op);
    }
}

/* check_route_mx_done - the MX hostnames for routes given as addresses (Cisco:
 * the certificate is then compared with the recipient domain and the names
 * of its MX records); in preference order, no host is probed */
static void check_route_mx_done(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    check_report *rep = op->rs->rep;
    if (ans->outcome == DNS_DATA) {
        mx_sort(ans->rr, ans->n);
        rep->route_mx_secure = ans->security == DNS_SEC_SECURE;
        for (size_t i = mx_next(ans->rr, ans->n, 0);
             i < ans->n && rep->route_mx.n < CHECK_MAX_HOSTS; i = mx_next(ans->rr, ans->n, i + 1)) {
            err_rec ne;
            err_clear(&ne);
            char *n = names_normalize(ans->rr[i].text, 0, &ne);
            if (!n)
                check_local_failure(op->rs, &ne); /* out of memory; else not a name: skipped */
            else if (strlist_add_unique(&rep->route_mx, n) != MXTLS_OK)
                check_nomem(op->rs);
            free(n);
        }
    }
    dns_answer_free(ans);
    check_step_done(op->rs);
}

static void check_mx_done(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    check_run_state *rs = op->rs;
    check_report *rep = rs->rep;
    sts_lookup(rep->sts); /* MXTLS_LOOKUP_MX_FIRST: now; else already asked */
    rep->mx_outcome = ans->outcome;
    rep->mx_security = ans->security;
    if (ans->why)
        rep->mx_why = check_strdup(rs, ans->why);
    if (ans->outcome == DNS_DATA) {
        mx_sort(ans->rr, ans->n);
        /* RFC 7505 §3: an MX with an empty target (".") says the domain
         * accepts no mail. Only null MX records: a null MX. Mixed with real
         * ones (which §3 forbids), the real ones are tried and the mix is
         * reported, since senders differ here. */
        size_t dots = mx_null_count(ans->rr, ans->n);
        if (ans->n > 0 && dots == ans->n) {
            rep->null_mx = 1;
        } else {
            rep->null_mx_mixed = dots > 0;
            for (size_t i = mx_next(ans->rr, ans->n, 0); i < ans->n;
                 i = mx_next(ans->rr, ans->n, i + 1)) {
                check_host *h = check_add_host(rs, ans->rr[i].text, ans->rr[i].pref);
                if (!h)
                    continue;
                err_rec ne;
                err_clear(&ne);
                char *valid = names_normalize(h->name, 0, &ne);
                if (!valid && ne.code == MXTLS_ERR_NOMEM) {
                    check_local_failure(rs, &ne);
                    continue;
                }
                if (!valid) {
                    /* A target that is no host name is skipped, as MTAs do,
                     * and reported; the other MX hosts still count. */
                    h->invalid = 1;
                    char *shown = names_escape((const unsigned char *)h->name, strlen(h->name));
                    if (!shown)
                        check_nomem(rs);
                    char buf[600];
                    snprintf(buf, sizeof buf, "the MX target \"%s\" is not a valid host name: "
                             "senders skip it", shown ? shown : "?");
                    free(shown);
                    h->problem = check_strdup(rs, buf);
                    continue;
                }
                free(valid);
                check_resolve_host(rs, h);
            }
        }
    } else if (ans->outcome == DNS_NODATA) {
        /* RFC 5321 §5.1: no MX records, the domain itself is the host. */
        rep->implicit_mx = 1;
        check_host *h = check_add_host(rs, rep->domain, -1);
        if (h)
            check_resolve_host(rs, h);
    }
    dns_answer_free(ans);
    check_step_done(rs);
}

/* check_stop_io - defined below */
static void check_stop_io(check_run_state *rs);

/* check_deadline - the check's time is up: nothing that arrives later counts
 * (probes are stopped now, not after the other events due in this loop
 * iteration, so a probe timer that expires at the same moment cannot decide) */
static void check_deadline(evutil_socket_t fd, short what, void *arg)
{
    check_run_state *rs = arg;
    rs->rep->timed_out = 1;
    check_stop_io(rs);
    if (!rs->finished)
        event_active(rs->finish, 0, 0);
}

/* ---- verdicts --------------------------------------------------------- */

/* check_unreachable_code - why the SMTP session with an address is not
 * usable, or NULL when its evidence decides every level (docs/policies.md,
 * "When the dialogue fails"). A completed handshake is not enough: the
 * greeting (implicit TLS) and EHLO over TLS must succeed too, so a session
 * that fails after the handshake gets a code; policy_unreachable() then lets
 * the TLS evidence decide what it can (a level that fails on the certificate
 * fails, level none passes after STARTTLS, may retries in plaintext after a
 * lost TLS session) and tempfails the rest. A handshake that times out is a
 * failed handshake, as in Postfix (tls_client_start), not an unreachable
 * server. */
static const char *check_unreachable_code(const check_conn *c)
{
    const probe_report *p = c->probe;
    if (!p && c->probe_error)
        return "probe-error";
    if (!p)
        return "timeout";
    /* Stopped by the check's own deadline: what it saw is kept and shown,
     * but the server gave no outcome, so no level decides on it. */
    if (p->stopped)
        return "timeout";
    if (!p->connected)
        return "connect-failed";
    switch (p->smtp.outcome) {
    case SMTP_OUTCOME_OK_TLS:
        return p->tls_ok ? NULL : "smtp-failed";
    case SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS:
    case SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED:
    case SMTP_OUTCOME_STARTTLS_REJECTED:
    case SMTP_OUTCOME_TLS_FAILED:
        return NULL;
    case SMTP_OUTCOME_BANNER_REJECTED: return "banner-rejected";
    case SMTP_OUTCOME_EHLO_REJECTED:
    case SMTP_OUTCOME_EHLO_AND_HELO_REJECTED: return "ehlo-rejected";
    case SMTP_OUTCOME_PROTOCOL_ERROR: return "smtp-protocol-error";
    case SMTP_OUTCOME_LIMIT_EXCEEDED: return "smtp-limit-exceeded";
    case SMTP_OUTCOME_CONNECTION_CLOSED: return "connection-closed";
    case SMTP_OUTCOME_TIMEOUT:
        if (p->smtp.outcome_phase == SMTP_PHASE_TLS_HANDSHAKE && p->tls_attempted && !p->tls_ok)
            return NULL;
        return "timeout";
    default: return "smtp-failed";
    }
}

/* check_evidence - the evidence one probe gathered, for the pure core */
static mxtls_evidence *check_evidence(check_run_state *rs, const check_host *h,
                                      const check_address *a, const check_conn *c,
                                      const char *match)
{
    const probe_report *p = c->probe;
    mxtls_ctx *ctx = rs->ctx;
    const check_report *rep = rs->rep;
    mxtls_evidence *ev = mxtls_evidence_new();
    if (!ev)
        return NULL;
    int bad = mxtls_evidence_set_domain(ctx, ev, rep->domain) != MXTLS_OK;
    if (!rep->routed && !rep->implicit_mx) {
        bad |= mxtls_evidence_add_mx(ctx, ev, h->name) != MXTLS_OK;
        for (size_t i = 0; i < rep->nhosts; i++)
            if (!rep->hosts[i]->invalid)
                bad |= mxtls_evidence_add_mx(ctx, ev, rep->hosts[i]->name) != MXTLS_OK;
        mxtls_evidence_set_mx_secure(ev, rep->mx_security == DNS_SEC_SECURE);
    }
    for (size_t i = 0; i < rs->opt->nroutes; i++)
        bad |= mxtls_evidence_add_route(ctx, ev, rs->opt->routes[i]) != MXTLS_OK;
    ev->implicit_tls = rs->opt->implicit_tls;
    if (rep->routed) /* the next hop itself presented the chain (Postfix "hostname") */
        bad |= evidence_set_host(ev, h->name, &ctx->err) != MXTLS_OK;
    if (rep->routed && evidence_is_ip(h->name)) {
        /* an address route: the domain's MX hostnames are the names */
        for (size_t i = 0; i < rep->route_mx.n; i++)
            bad |= mxtls_evidence_add_mx(ctx, ev, rep->route_mx.v[i]) != MXTLS_OK;
        mxtls_evidence_set_mx_secure(ev, rep->route_mx_secure);
    }
    bad |= mxtls_evidence_set_ip(ctx, ev, a->ip) != MXTLS_OK;
    for (size_t i = 0; i < a->ptr.n; i++)
        bad |= mxtls_evidence_add_ptr(ctx, ev, a->ptr.v[i], a->ptr_confirmed[i]) != MXTLS_OK;
    if (match)
        bad |= mxtls_evidence_set_match(ctx, ev, match) != MXTLS_OK;
    bad |= sts_evidence(rep->sts, ctx, ev) != MXTLS_OK;
    mxtls_evidence_set_requiretls(ev, p && p->tls_ok &&
                                          strlist_contains(&p->smtp.post_tls.caps.keywords,
                                                           "REQUIRETLS"));
    if (h->tlsa_started) {
        for (size_t i = 0; i < h->ntlsa; i++)
            bad |= mxtls_evidence_add_tlsa_rdata(ctx, ev, h->tlsa[i].usage, h->tlsa[i].selector,
                                                  h->tlsa[i].mtype, h->tlsa[i].data,
                                                  h->tlsa[i].len) != MXTLS_OK;
        bad |= mxtls_evidence_set_tlsa_state(ctx, ev, h->tlsa_state, h->tlsa_base,
                                             h->tlsa_why) != MXTLS_OK;
    } else {
        bad |= mxtls_evidence_set_tlsa_state(ctx, ev, MXTLS_TLSA_NOT_LOOKED_UP, NULL,
                                             "the host's address records are not DNSSEC-secure")
               != MXTLS_OK;
    }
    if (p && p->tls_ok && (!p->tls.chain || sk_X509_num(p->tls.chain) == 0)) {
        ev->tls_anonymous = 1;
    } else if (p && p->tls_ok && p->tls.chain) {
        bad |= evidence_set_chain(ev, p->tls.chain) != MXTLS_OK;
        /* Each connection's revocation answer is about its own leaf. */
        bad |= mxtls_evidence_set_revocation(ctx, ev, c->rev.status, c->rev.detail) !=
               MXTLS_OK;
    } else if (p && p->smtp.outcome == SMTP_OUTCOME_STARTTLS_REJECTED) {
        char why[SMTP_REASON_MAX + 32];
        snprintf(why, sizeof why, "STARTTLS refused: %s", p->smtp.reason);
        bad |= mxtls_evidence_set_tls_failed(ctx, ev, 0, why) != MXTLS_OK;
    } else if (p && p->tls_attempted && !p->tls_ok) {
        char why[1024];
        snprintf(why, sizeof why, "TLS handshake failed: %s",
                 p->tls.error ? p->tls.error : p->smtp.reason);
        bad |= mxtls_evidence_set_tls_failed(ctx, ev, 1, why) != MXTLS_OK;
    } else {
        mxtls_evidence_set_no_tls(ev, 1);
    }
    if (bad) {
        mxtls_evidence_free(ev);
        return NULL;
    }
    return ev;
}

/* check_evaluate_conn - the result of one level from one connection's
 * evidence (ev: the connection's evidence, with the policy entry's match=
 * when the level is the entry's) */
static mxtls_result *check_evaluate_conn(check_run_state *rs, const check_address *a,
                                         const check_conn *c, const mxtls_evidence *ev,
                                         mxtls_level level)
{
    if (!ev)
        return NULL;
    const probe_report *p = c->probe;
    const char *code = check_unreachable_code(c);
    if (!code)
        return mxtls_evaluate(rs->ctx, ev, level);
    char msg[1024];
    if (!p && c->probe_error)
        snprintf(msg, sizeof msg, "cannot probe %s: %s", a->ip, c->probe_error);
    else if (!p)
        snprintf(msg, sizeof msg, "the check's deadline passed before %s answered", a->ip);
    else if (!p->connected)
        snprintf(msg, sizeof msg, "cannot connect to %s port %u: %s", a->ip, p->port,
                 p->connect_error ? p->connect_error : "failed");
    else
        snprintf(msg, sizeof msg, "%s", p->smtp.reason);
    return policy_unreachable(rs->ctx, ev, level, code, msg);
}

/* check_conn_evidence - a connection's evidence, built once and kept in
 * cache[ci][with_match] for every level that comes from that connection */
static const mxtls_evidence *check_conn_evidence(check_run_state *rs, const check_host *h,
                                                 const check_address *a, int ci, int with_match,
                                                 mxtls_evidence *cache[][2])
{
    if (!cache[ci][with_match])
        cache[ci][with_match] = check_evidence(rs, h, a, &a->conns[ci],
                                               with_match ? rs->rep->policy_entry->match_raw
                                                          : NULL);
    return cache[ci][with_match];
}

/* check_evaluate_address - every level's result, each from the connection
 * its sender makes (and from the --sni-compare connection); -1 when one
 * could not be made (out of memory: rs->ctx->err) */
static int check_evaluate_address(check_run_state *rs, const check_host *h, check_address *a)
{
    int bad = 0;
    check_report *rep = rs->rep;
    const mxtls_policy_entry *pe = rep->policy_entry;
    mxtls_evidence *cache[CHECK_MAX_CONNS][2];
    memset(cache, 0, sizeof cache);
    for (size_t li = 0; li < rep->nlevels && a->nconns; li++) {
        mxtls_level l = rep->levels[li];
        /* The policy entry's match= applies at its own level only. */
        int with_match = pe && pe->match_raw && pe->level == l;
        int ci = a->level_conn[li];
        a->results[li] = check_evaluate_conn(
            rs, a, &a->conns[ci], check_conn_evidence(rs, h, a, ci, with_match, cache), l);
        bad |= !a->results[li];
        if (a->alt_conn >= 0) {
            a->results_alt[li] = check_evaluate_conn(
                rs, a, &a->conns[a->alt_conn],
                check_conn_evidence(rs, h, a, a->alt_conn, with_match, cache), l);
            bad |= !a->results_alt[li];
        }
    }
    for (size_t i = 0; i < CHECK_MAX_CONNS; i++) {
        mxtls_evidence_free(cache[i][0]);
        mxtls_evidence_free(cache[i][1]);
    }
    return bad ? -1 : 0;
}

int check_address_same_leaf(const check_address *a)
{
    X509 *first = NULL;
    for (size_t i = 0; i < a->nconns; i++) {
        X509 *x = check_leaf(&a->conns[i]);
        if (x && first && X509_cmp(x, first) != 0)
            return 0;
        if (x && !first)
            first = x;
    }
    return 1;
}

const check_conn *check_address_conn(const check_address *a, size_t level_index)
{
    if (!a->nconns || level_index >= CHECK_NLEVELS)
        return NULL;
    return &a->conns[a->level_conn[level_index]];
}

/* check_finish - the verdicts and advice from the finished evidence; -1
 * when out of memory (rs->local_err says why: no report then) */
static int check_finish(check_run_state *rs)
{
    check_report *rep = rs->rep;
    if (sts_conclude(rep->sts, rep) != MXTLS_OK) {
        check_nomem(rs);
        return -1;
    }
    if (rs->opt->lookups_only)
        return 0;
    for (size_t i = 0; i < rep->nhosts; i++) {
        check_host *h = rep->hosts[i];
        for (size_t j = 0; j < h->naddrs; j++) {
            check_address *a = h->addrs[j];
            if (check_evaluate_address(rs, h, a) != 0) {
                /* mxtls_evaluate fails only for want of memory here */
                if (rs->ctx->err.code == MXTLS_ERR_NOMEM || rs->ctx->err.code == MXTLS_OK)
                    check_nomem(rs);
                else
                    rs->local_err = rs->ctx->err;
                return -1;
            }
        }
        if (h->naddrs == 0 && !h->problem) {
            char a[96] = "", aaaa[96] = "", buf[256];
            if (h->a_queried)
                snprintf(a, sizeof a, "A %s (%s)", dns_outcome_name(h->a_outcome),
                         dns_security_name(h->a_security));
            if (h->aaaa_queried)
                snprintf(aaaa, sizeof aaaa, "AAAA %s (%s)", dns_outcome_name(h->aaaa_outcome),
                         dns_security_name(h->aaaa_security));
            snprintf(buf, sizeof buf, "no address: %s%s%s", a, *a && *aaaa ? ", " : "", aaaa);
            if (!(h->problem = check_strdup(rs, buf)))
                return -1;
        }
    }
    if (check_auto_dane(rep) != MXTLS_OK) {
        check_nomem(rs);
        return -1;
    }
    if (check_auto_sts(rep) != MXTLS_OK) {
        check_nomem(rs);
        return -1;
    }
    for (size_t li = 0; li < rep->nlevels; li++)
        if (check_aggregate(rep, li) != MXTLS_OK) {
            check_nomem(rs);
            return -1;
        }
    if (check_advice(rep) != MXTLS_OK) {
        check_nomem(rs);
        return -1;
    }
    return 0;
}

/* check_auto_level - what a modern MTA would use: the policy-map entry, else may */
static int check_auto_level(mxtls_ctx *ctx, check_report *rep, const check_options *opt)
{
    rep->auto_level = MXTLS_LEVEL_MAY;
    const mxtls_policy_entry *pe = NULL;
    if (opt->policy_map) {
        char key[MXTLS_MAX_NAME + 16];
        if (opt->nroutes)
            snprintf(key, sizeof key, "%s", opt->routes[0]);
        else
            snprintf(key, sizeof key, "%s", rep->domain);
        pe = mxtls_policymap_lookup(opt->policy_map, key);
    }
    rep->policy_entry = pe;
    char buf[512];
    if (pe) {
        rep->auto_level = pe->level;
        snprintf(buf, sizeof buf, "policy map entry \"%s\" (line %zu): %s", pe->key, pe->line,
                 mxtls_level_name(pe->level));
    } else {
        snprintf(buf, sizeof buf, "no policy map entry: opportunistic TLS (may)");
    }
    rep->auto_reason = strdup(buf);
    if (!rep->auto_reason) {
        err_set(&ctx->err, MXTLS_ERR_NOMEM, "check", "out of memory");
        return -1;
    }
    return 0;
}

/* ---- the check's lifetime -------------------------------------------- */

/* check_stop_io - stop what still runs except DNS: probes (no callbacks
 * after this) and this check's HTTPS client (revocation) */
static void check_stop_io(check_run_state *rs)
{
    /* At the deadline a probe hands back what it saw so far (connection,
     * partial dialogue); otherwise it is dropped. */
    char stop_why[64];
    snprintf(stop_why, sizeof stop_why, "the check's deadline of %d ms", check_total_ms(rs->opt));
    for (check_op *op = rs->ops; op; op = op->next) {
        revshare_cancel(op->rev_waiter);
        op->rev_waiter = NULL;
    }
    for (check_op *op = rs->ops; op; op = op->next)
        if (op->waiter) {
            /* A shared probe: what it saw so far only when no other check
             * waits for it (probeshare.h). */
            probe_report *pr = NULL;
            if (rs->rep && rs->rep->timed_out && !rs->finished && op->addr)
                pr = probeshare_stop(op->waiter, stop_why);
            else
                probeshare_cancel(op->waiter);
            op->waiter = NULL;
            check_conn *c = op->addr ? &op->addr->conns[op->conn] : NULL;
            if (pr && c && !c->probe)
                c->probe = pr;
            else
                probe_report_free(pr);
        } else if (op->running) {
            if (rs->rep && rs->rep->timed_out && !rs->finished && op->addr) {
                probe_report *pr = probe_stop(op->running, stop_why);
                check_conn *c = &op->addr->conns[op->conn];
                if (pr && !c->probe)
                    c->probe = pr;
                else
                    probe_report_free(pr);
            } else {
                probe_cancel(op->running);
            }
            op->running = NULL;
        }
    https_client_free(rs->https);
    rs->https = NULL;
    if (rs->deadline)
        event_del(rs->deadline);
}

/* check_unlink - off the engine's list */
static void check_unlink(check_run_state *rs)
{
    if (rs->prev)
        rs->prev->next = rs->next;
    else if (rs->eng && rs->eng->runs == rs)
        rs->eng->runs = rs->next;
    if (rs->next)
        rs->next->prev = rs->prev;
    rs->prev = rs->next = NULL;
}

static void check_free_run(check_run_state *rs)
{
    if (!rs)
        return;
    check_stop_io(rs);
    check_unlink(rs);
    if (rs->deadline)
        event_free(rs->deadline);
    if (rs->finish)
        event_free(rs->finish);
    while (rs->ops) {
        check_op *next = rs->ops->next;
        free(rs->ops);
        rs->ops = next;
    }
    check_report_free(rs->rep);
    strlist_free(&rs->owned);
    mxtls_ctx_free(rs->ctx);
    free(rs);
}

/* check_publish - the verdicts as the public API shows them */
static void check_publish(check_report *rep)
{
    for (size_t i = 0; i < rep->nlevels; i++) {
        const check_domain_verdict *v = &rep->verdicts[i];
        rep->pub[i] = (mxtls_domain_verdict){v->level, v->verdict, v->security,
                                             v->code, v->message, v->via};
    }
}

/* check_finish_cb - the check is over (every step done, or the deadline):
 * verdicts from the evidence, then the caller's callback */
static void check_finish_cb(evutil_socket_t fd, short what, void *arg)
{
    check_run_state *rs = arg;
    (void)fd;
    (void)what;
    if (rs->finished)
        return;
    check_stop_io(rs);
    if (!rs->local_err.code)
        check_finish(rs); /* out of memory sets rs->local_err */
    if (rs->local_err.code) {
        /* This machine failed, not the domain: no verdicts. */
        mxtls_error me;
        config_error(&me, &rs->local_err);
        rs->finished = 1;
        mxtls_check_cb lcb = rs->cb;
        void *larg = rs->cb_arg;
        if (rs->dns_pending == 0)
            check_free_run(rs);
        lcb(larg, NULL, &me);
        return;
    }
    check_report *rep = rs->rep;
    rep->elapsed_ms = check_elapsed_ms(rs);
    check_publish(rep);
    rs->rep = NULL;
    rs->finished = 1;
    mxtls_check_cb cb = rs->cb;
    void *cb_arg = rs->cb_arg;
    /* The handle is gone for the caller once its callback runs. */
    if (rs->dns_pending == 0)
        check_free_run(rs);
    cb(cb_arg, rep, NULL);
}

/* check_keep - a copy of s that lives as long as the check */
static const char *check_keep(check_run_state *rs, const char *s, int *bad)
{
    if (!s || *bad)
        return s;
    if (strlist_add(&rs->owned, s) != MXTLS_OK) {
        *bad = 1;
        return NULL;
    }
    return rs->owned.v[rs->owned.n - 1];
}

/* check_fail - an error for the caller of check_start */
static mxtls_check *check_fail(check_run_state *rs, mxtls_error *err, const err_rec *e)
{
    config_error(err, e);
    /* DNS queries already started owe an answer to this check: it is freed
     * with the last one (check_dns_answer), never before. */
    rs->finished = 1;
    check_stop_io(rs);
    if (rs->dns_pending == 0)
        check_free_run(rs);
    return NULL;
}

mxtls_check *check_start(mxtls_engine *eng, const check_options *opt, mxtls_check_cb cb,
                         void *arg, mxtls_error *err)
{
    err_rec e;
    err_clear(&e);
    if (err)
        memset(err, 0, sizeof *err);
    if (!eng || !opt || !opt->domain || !cb) {
        err_set(&e, MXTLS_ERR_INVALID, "check", "an engine, a domain and a callback are needed");
        config_error(err, &e);
        return NULL;
    }
    const mxtls_config *cfg = eng->cfg;
    check_run_state *rs = calloc(1, sizeof *rs);
    if (!rs) {
        err_set(&e, MXTLS_ERR_NOMEM, "check", "out of memory");
        config_error(err, &e);
        return NULL;
    }
    rs->eng = eng;
    eng->started = 1;
    rs->cb = cb;
    rs->cb_arg = arg;
    rs->base = eng->base;
    rs->dns = eng->dns;
    rs->ssl = cfg->ssl;
    rs->opt = &rs->optv;
    /* The options, with what the configuration decides. */
    int bad = 0;
    check_options *o = &rs->optv;
    *o = *opt;
    o->domain = check_keep(rs, opt->domain, &bad);
    for (size_t i = 0; i < opt->nroutes && i < CHECK_MAX_ROUTES; i++)
        o->routes[i] = check_keep(rs, opt->routes[i], &bad);
    o->sni_name = check_keep(rs, opt->sni_name, &bad);
    o->servername = check_keep(rs, opt->servername, &bad);
    o->ip_override = check_keep(rs, opt->ip_override, &bad);
    o->sts_cache = check_keep(rs, opt->sts_cache, &bad);
    config_dns(cfg, &o->dns);
    o->family = cfg->family;
    o->connect_timeout_ms = cfg->connect_ms;
    o->phase_timeout_ms = cfg->phase_ms;
    o->total_timeout_ms = cfg->total_ms;
    o->ehlo_name = NULL;
    o->client_cert = o->client_key = NULL;
    snprintf(rs->ehlo, sizeof rs->ehlo, "%s", cfg->ehlo);
    rs->ctx = config_ctx_new(cfg);
    rs->deadline = evtimer_new(rs->base, check_deadline, rs);
    rs->finish = event_new(rs->base, -1, 0, check_finish_cb, rs);
    check_report *rep = rs->rep = calloc(1, sizeof *rs->rep);
    if (bad || !rs->ctx || !rs->deadline || !rs->finish || !rep) {
        err_set(&e, MXTLS_ERR_NOMEM, "check", "out of memory");
        return check_fail(rs, err, &e);
    }
    rs->next = eng->runs;
    if (eng->runs)
        eng->runs->prev = rs;
    eng->runs = rs;
    gettimeofday(&rs->started, NULL);

    if (!(rep->domain = names_normalize(o->domain, 0, &e)))
        return check_fail(rs, err, &e);
    rep->port = o->port ? o->port : o->implicit_tls ? 465 : 25;
    rep->routed = o->nroutes > 0;
    size_t n = 0;
    const mxtls_level *levels = mxtls_levels(&n);
    for (size_t i = 0; i < n && i < CHECK_NLEVELS && !o->lookups_only; i++)
        rep->levels[rep->nlevels++] = levels[i];
    if (check_auto_level(rs->ctx, rep, o) != 0)
        return check_fail(rs, err, &rs->ctx->err);

    int total = check_total_ms(o);
    struct timeval tv = {total / 1000, (total % 1000) * 1000};
    if (evtimer_add(rs->deadline, &tv) != 0) {
        err_set(&e, MXTLS_ERR_RESOURCE, "check", "cannot arm the check's deadline");
        return check_fail(rs, err, &e);
    }

    if (!rep->routed) {
        sts_params sp = {rep->domain, cfg->ca_file, cfg->ca_path, o->sts_cache,
                         o->phase_timeout_ms ? o->phase_timeout_ms : 10000,
                         rs->ctx->at ? (long long)rs->ctx->at : (long long)time(NULL)};
        if (!(rep->sts = sts_new(rs, &sp))) {
            err_set(&e, MXTLS_ERR_NOMEM, "check", "out of memory");
            return check_fail(rs, err, &e);
        }
        /* MXTLS_LOOKUP_MX_FIRST: check_mx_done asks, so that the domain's
         * DNSKEY set is verified for one waiting lookup, not three */
        if (cfg->lookup_order != MXTLS_LOOKUP_MX_FIRST)
            sts_lookup(rep->sts);
    }
    int route_mx = 0;
    if (rep->routed) {
        /* Routes: HOST, [HOST] (no MX lookup either way), or an address,
         * which is connected to directly and never compared with the
         * certificate (policy.c). A port belongs in --port. */
        for (size_t i = 0; i < o->nroutes; i++) {
            char r[MXTLS_MAX_NAME + 2];
            int is_ip;
            unsigned rport;
            if (evidence_route_parse(o->routes[i], r, sizeof r, &is_ip, &rport, &e) != MXTLS_OK)
                return check_fail(rs, err, &e);
            if (rport) {
                err_set(&e, MXTLS_ERR_INVALID, "route",
                        "\"%.64s\": give the port with --port, not in the route", o->routes[i]);
                return check_fail(rs, err, &e);
            }
            check_host *h = check_add_host(rs, r, -1);
            if (h && is_ip && !o->ip_override)
                check_add_address(rs, h, r, strchr(r, ':') ? 6 : 4, DNS_SEC_INDETERMINATE);
            else if (h)
                check_resolve_host(rs, h);
            if (is_ip && !route_mx++)
                check_lookup(rs, rep->domain, DNS_T_MX, check_route_mx_done,
                             check_op_new(rs, NULL, NULL));
        }
    } else if ((rep->mx_outcome = DNS_TIMEOUT, /* until an answer says otherwise */
                rep->mx_security = DNS_SEC_INDETERMINATE,
                check_lookup(rs, rep->domain, DNS_T_MX, check_mx_done,
                             check_op_new(rs, NULL, NULL)) != 0)) {
        if (rs->local_err.code) /* check_local_failure said why */
            return check_fail(rs, err, &rs->local_err);
        err_set(&e, MXTLS_ERR_INVALID, "dns", "cannot start the MX lookup");
        return check_fail(rs, err, &e);
    }
    if (rs->pending == 0) /* nothing to wait for: finish from the loop */
        event_active(rs->finish, 0, 0);
    return rs;
}

mxtls_check *mxtls_check_start(mxtls_engine *eng, const mxtls_check_options *opt,
                               mxtls_check_cb cb, void *arg, mxtls_error *err)
{
    err_rec e;
    err_clear(&e);
    if (!opt || opt->nroutes > CHECK_MAX_ROUTES || opt->port > 65535) {
        err_set(&e, MXTLS_ERR_INVALID, "check", "bad options (routes: at most %d, port: 1-65535)",
                CHECK_MAX_ROUTES);
        config_error(err, &e);
        return NULL;
    }
    /* RFC 6066 §3: SNI is a host name, never an address. */
    const char *names[2] = {opt->sni == MXTLS_SNI_NAME ? opt->sni_name : NULL,
                            opt->servername && strcmp(opt->servername, "hostname") &&
                                    strcmp(opt->servername, "nexthop")
                                ? opt->servername
                                : NULL};
    for (int i = 0; i < 2; i++) {
        if (!names[i] && !(i == 0 && opt->sni == MXTLS_SNI_NAME))
            continue;
        char *nn = names[i] ? names_sni(names[i], &e) : NULL;
        int ok = nn != NULL;
        free(nn);
        if (!ok) {
            err_set(&e, MXTLS_ERR_INVALID, i ? "servername" : "sni",
                    i ? "the servername must be hostname, nexthop or a host name"
                      : "the SNI name must be a host name");
            config_error(err, &e);
            return NULL;
        }
    }
    check_options o = {0};
    o.domain = opt->domain;
    for (size_t i = 0; i < opt->nroutes; i++)
        o.routes[i] = opt->routes[i];
    o.nroutes = opt->nroutes;
    o.port = (uint16_t)opt->port;
    o.implicit_tls = opt->implicit_tls;
    o.sni = (check_sni)opt->sni;
    o.sni_name = opt->sni_name;
    o.servername = opt->servername;
    o.sni_compare = opt->sni_compare;
    o.policy_map = opt->policy_map;
    o.ip_override = opt->ip;
    o.sts_cache = opt->sts_cache;
    return check_start(eng, &o, cb, arg, err);
}

void mxtls_check_cancel(mxtls_check *c)
{
    if (!c || c->finished)
        return;
    c->finished = 1;
    check_stop_io(c);
    if (c->dns_pending == 0)
        check_free_run(c);
}

mxtls_engine *mxtls_engine_new(struct event_base *base, mxtls_config *cfg, mxtls_error *err)
{
    err_rec e;
    err_clear(&e);
    if (err)
        memset(err, 0, sizeof *err);
    if (!base || !cfg) {
        err_set(&e, MXTLS_ERR_INVALID, "engine", "an event loop and a configuration are needed");
        config_error(err, &e);
        return NULL;
    }
    if (mxtls_config_freeze(cfg, err) != MXTLS_OK)
        return NULL;
    mxtls_engine *eng = calloc(1, sizeof *eng);
    if (!eng) {
        err_set(&e, MXTLS_ERR_NOMEM, "engine", "out of memory");
        config_error(err, &e);
        return NULL;
    }
    eng->base = base;
    eng->cfg = mxtls_config_ref(cfg);
    dns_config dc;
    config_dns(cfg, &dc);
    if (!(eng->dns = dns_resolver_new(base, &dc, &e))) {
        config_error(err, &e);
        mxtls_config_unref(eng->cfg);
        free(eng);
        return NULL;
    }
    return eng;
}

void mxtls_engine_free(mxtls_engine *eng)
{
    if (!eng)
        return;
    /* The resolver goes first: it drops its queries without callbacks, so
     * no check owes a DNS answer any more. */
    dns_resolver_free(eng->dns);
    eng->dns = NULL;
    while (eng->runs) {
        check_run_state *rs = eng->runs;
        check_unlink(rs);
        rs->eng = NULL;
        check_free_run(rs);
    }
    probeshare_free(eng->ps);
    revshare_free(eng->rv);
    X509_STORE_free(eng->https_trust);
    mxtls_config_unref(eng->cfg);
    free(eng);
}

/* mxtls_engine_set_limits - see mxtls.h; the limits live in probeshare.c */
mxtls_status mxtls_engine_set_limits(mxtls_engine *eng, const mxtls_engine_limits *l,
                                     mxtls_error *err)
{
    err_rec e;
    err_clear(&e);
    if (err)
        memset(err, 0, sizeof *err);
    if (!eng || !l || l->ip_rate < 0 || l->retries > PROBESHARE_MAX_RETRIES ||
        l->retry_delay_ms < 0 || l->retry_delay_ms > PROBESHARE_MAX_RETRY_DELAY_MS) {
        err_set(&e, MXTLS_ERR_INVALID, "engine",
                "bad limits (retries: at most %d, retry delay: 0-%d ms, rate: not negative)",
                PROBESHARE_MAX_RETRIES, PROBESHARE_MAX_RETRY_DELAY_MS);
        config_error(err, &e);
        return MXTLS_ERR_INVALID;
    }
    if (eng->started || eng->ps) {
        err_set(&e, MXTLS_ERR_STATE, "engine", "limits are set once, before the first check");
        config_error(err, &e);
        return MXTLS_ERR_STATE;
    }
    probeshare_limits pl = {l->share_probes != 0, l->per_ip, l->ip_rate, l->max_connections,
                            l->retries, l->retry_delay_ms};
    if (l->max_dns && dns_resolver_set_max_inflight(eng->dns, l->max_dns, &e) != 0) {
        config_error(err, &e);
        return e.code;
    }
    if (!(eng->ps = probeshare_new(eng->base, &pl)) ||
        (l->share_probes && !(eng->rv = revshare_new(eng->base)))) {
        probeshare_free(eng->ps);
        eng->ps = NULL;
        err_set(&e, MXTLS_ERR_NOMEM, "engine", "out of memory");
        config_error(err, &e);
        return MXTLS_ERR_NOMEM;
    }
    return MXTLS_OK;
}

void mxtls_engine_get_stats(const mxtls_engine *eng, mxtls_engine_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!eng)
        return;
    probeshare_stats st;
    probeshare_get_stats(eng->ps, &st);
    out->probes = st.probes;
    out->probes_reused = st.reused;
    out->probes_joined = st.joined;
    out->retries = st.retries;
    out->probes_queued = st.queued;
    out->peak_connections = st.peak_connections;
    out->peak_connections_per_ip = st.peak_per_ip;
    out->dns_queries = dns_resolver_queries(eng->dns);
    out->peak_dns = dns_resolver_peak_inflight(eng->dns);
    revshare_stats(eng->rv, &out->revocation_checks, &out->revocation_reused);
}

mxtls_config *check_config_from(const mxtls_ctx *ctx, const check_options *opt, mxtls_error *e)
{
    mxtls_config *cfg = mxtls_config_new();
    if (!cfg) {
        e->code = MXTLS_ERR_NOMEM;
        snprintf(e->where, sizeof e->where, "config");
        snprintf(e->message, sizeof e->message, "out of memory");
        return NULL;
    }
    if (mxtls_config_set_ca_file(cfg, ctx->ca_file, e) || mxtls_config_set_ca_path(cfg, ctx->ca_path, e) ||
        mxtls_config_set_time(cfg, ctx->at, e) ||
        mxtls_config_set_revocation(cfg, ctx->revocation, e) ||
        mxtls_config_set_dns(cfg, opt->dns.resolver, opt->dns.trust_anchor, opt->dns.root_hints,
                             e) ||
        mxtls_config_set_timeouts(cfg, opt->connect_timeout_ms, opt->phase_timeout_ms,
                                  opt->total_timeout_ms, e) ||
        mxtls_config_set_ehlo_name(cfg, opt->ehlo_name, e) ||
        mxtls_config_set_client_cert(cfg, opt->client_cert, opt->client_key, e) ||
        mxtls_config_set_family(cfg, opt->family, e)) {
        mxtls_config_unref(cfg);
        return NULL;
    }
    return cfg;
}

/* check_run_done - check_run's callback: keep the report */
typedef struct check_run_result {
    check_report *rep;
    mxtls_error err;
    struct event_base *base;
} check_run_result;

static void check_run_done(void *arg, mxtls_report *rep, const mxtls_error *err)
{
    check_run_result *res = arg;
    res->rep = rep;
    if (err)
        res->err = *err;
    /* One check per loop: done. The resolver's own timers need not run out. */
    event_base_loopbreak(res->base);
}

check_report *check_run(mxtls_ctx *ctx, const check_options *opt)
{
    err_clear(&ctx->err);
    mxtls_error me;
    memset(&me, 0, sizeof me);
    check_run_result res;
    memset(&res, 0, sizeof res);
    mxtls_config *cfg = check_config_from(ctx, opt, &me);
    struct event_base *base = cfg ? event_base_new() : NULL;
    mxtls_engine *eng = base ? mxtls_engine_new(base, cfg, &me) : NULL;
    if (cfg && !base)
        me = (mxtls_error){MXTLS_ERR_RESOURCE, "check", "out of memory (cannot create the event loop)"};
    res.base = base;
    if (eng && check_start(eng, opt, check_run_done, &res, &me))
        event_base_dispatch(base);
    check_report *rep = res.rep;
    if (!rep && res.err.code)
        me = res.err;
    if (!rep)
        err_set(&ctx->err, me.code ? me.code : MXTLS_ERR_NOMEM, me.where[0] ? me.where : "check",
                "%s", me.message[0] ? me.message : "cannot set up the check");
    mxtls_engine_free(eng);
    if (base)
        event_base_free(base);
    mxtls_config_unref(cfg);
    return rep;
}

/* ---- the report through the public API -------------------------------- */

void mxtls_report_free(mxtls_report *rep)
{
    check_report_free(rep);
}

const char *mxtls_report_domain(const mxtls_report *rep)
{
    return rep ? rep->domain : NULL;
}

mxtls_level mxtls_report_auto_level(const mxtls_report *rep)
{
    return rep ? rep->auto_level : MXTLS_LEVEL_INVALID;
}

const mxtls_domain_verdict *mxtls_report_verdict(const mxtls_report *rep, mxtls_level level)
{
    if (!rep)
        return NULL;
    if (level == MXTLS_LEVEL_INVALID)
        level = rep->auto_level;
    for (size_t i = 0; i < rep->nlevels; i++)
        if (rep->levels[i] == level)
            return &rep->pub[i];
    return NULL;
}

long mxtls_report_elapsed_ms(const mxtls_report *rep)
{
    return rep ? rep->elapsed_ms : 0;
}

const check_domain_verdict *check_report_verdict(const check_report *r, mxtls_level level)
{
    for (size_t i = 0; i < r->nlevels; i++)
        if (r->levels[i] == level)
            return &r->verdicts[i];
    return NULL;
}

static void check_address_free(check_address *a)
{
    if (!a)
        return;
    free(a->ip);
    strlist_free(&a->ptr);
    free(a->ptr_problem);
    for (size_t i = 0; i < a->nconns; i++) {
        check_conn *c = &a->conns[i];
        if (c->probe)
            probe_report_free(c->probe);
        free(c->probe_error);
        free(c->rev.detail);
        free(c->hello.sni);
        free(c->hello.protocols);
        free(c->hello.ciphers);
        free(c->hello.exclude);
    }
    for (size_t i = 0; i < CHECK_NLEVELS; i++) {
        mxtls_result_free(a->results[i]);
        mxtls_result_free(a->results_alt[i]);
    }
    free(a);
}

void check_report_free(check_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nhosts; i++) {
        check_host *h = r->hosts[i];
        for (size_t j = 0; j < h->naddrs; j++)
            check_address_free(h->addrs[j]);
        free(h->name);
        free(h->problem);
        free(h->tlsa_base);
        free(h->tlsa_why);
        free(h->canonname);
        for (size_t k = 0; k < h->ntlsa; k++)
            dane_rr_clear(&h->tlsa[k]);
        free(h);
    }
    for (size_t i = 0; i < r->nlevels; i++) {
        free(r->verdicts[i].code);
        free(r->verdicts[i].message);
        free(r->verdicts[i].via);
    }
    free(r->domain);
    free(r->mx_why);
    free(r->auto_reason);
    sts_report_free(r->sts);
    strlist_free(&r->advice);
    strlist_free(&r->route_mx);
    free(r);
}
