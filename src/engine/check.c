/* check.c - check one mail domain: DNS, probes, revocation, verdicts
 *
 * Everything runs on one private event loop. Each asynchronous step holds a
 * reference (`pending`) on the run; when the last one finishes the loop stops
 * and the verdicts are computed from the evidence, purely. A total deadline
 * stops the loop early; whatever did not finish becomes a `timeout` reason. */
#include "engine/check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/ctx.h"
#include "core/evidence.h"
#include "core/names.h"
#include "core/pkix.h"
#include "core/result.h"
#include "engine/aggregate.h"

typedef struct check_run_state check_run_state;

/* check_op - the context of one asynchronous step; all are freed at the end,
 * so a step cancelled by the deadline leaks nothing */
typedef struct check_op {
    check_run_state *rs;
    check_host *host;
    check_address *addr;
    int alt;         /* the --sni-compare probe */
    int ptr_index;   /* forward confirmation of addr->ptr.v[ptr_index] */
    int tlsa_at_target; /* TLSA lookup at the host's CNAME target */
    int family;      /* 4 or 6 for address lookups */
    probe *running;  /* probe in flight, for cancellation */
    struct check_op *next;
} check_op;

struct check_run_state {
    mxtls_ctx *ctx;
    const check_options *opt;
    check_report *rep;
    struct event_base *base;
    dns_resolver *dns;
    https_client *https;
    SSL_CTX *ssl;
    struct event *deadline;
    int pending;
    check_op *ops;
    char ehlo[SMTP_MAX_EHLO_NAME + 1];
    struct timeval started;
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

static void check_step_done(check_run_state *rs)
{
    if (--rs->pending == 0)
        event_base_loopbreak(rs->base);
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

/* check_lookup - start a DNS query as one pending step */
static int check_lookup(check_run_state *rs, const char *name, uint16_t type, dns_cb cb,
                        check_op *op)
{
    if (!op)
        return -1;
    err_rec e;
    err_clear(&e);
    if (dns_resolve(rs->dns, name, type, cb, op, &e) != 0)
        return -1;
    rs->pending++;
    return 0;
}

/* ---- addresses: PTR, forward confirmation, probe, revocation ---------- */

static void check_revocation_done(void *arg, revocation_result *r)
{
    check_op *op = arg;
    free(op->addr->rev.detail);
    op->addr->rev = *r; /* take the detail; r itself is the adapter's */
    r->detail = NULL;
    check_step_done(op->rs);
}

static void check_probe_done(void *arg, probe_report *r)
{
    check_op *op = arg;
    check_run_state *rs = op->rs;
    op->running = NULL;
    if (op->alt) {
        op->addr->probe_alt = r;
    } else {
        op->addr->probe = r;
        if (rs->ctx->revocation != MXTLS_REVOCATION_OFF && r->tls_ok && r->tls.chain &&
            sk_X509_num(r->tls.chain) > 0) {
            X509_STORE *store = pkix_store(rs->ctx);
            err_rec he;
            err_clear(&he);
            /* Created on first use: libcurl's start-up is not free, and a
             * check without revocation never needs it. */
            if (!rs->https)
                rs->https = https_client_new(rs->base, &he);
            check_op *rop = check_op_new(rs, op->host, op->addr);
            err_rec e;
            err_clear(&e);
            int timeout = rs->opt->phase_timeout_ms ? rs->opt->phase_timeout_ms : 10000;
            long left = check_ms_left(rs);
            if (left < timeout)
                timeout = left > 1 ? (int)left : 1;
            /* Until an answer comes: the deadline may stop the check first,
             * and no answer is not "not checked" (hard mode defers on it). */
            op->addr->rev.status = REVOCATION_UNAVAILABLE;
            op->addr->rev.source = REVOCATION_SRC_NONE;
            free(op->addr->rev.detail);
            op->addr->rev.detail = strdup("no revocation answer before the check's deadline");
            if (store && rop && rs->https &&
                revocation_check(rs->https, r->tls.chain, store, r->tls.ocsp_staple,
                                 r->tls.ocsp_staple_len, rs->ctx->at, timeout,
                                 check_revocation_done, rop, &e) == 0) {
                rs->pending++;
            } else {
                free(op->addr->rev.detail);
                op->addr->rev.detail = strdup(e.message[0]    ? e.message
                                              : he.message[0] ? he.message
                                                              : "revocation check could not start");
            }
        }
    }
    check_step_done(rs);
}

/* check_sni_for - the server name to send: auto = the name being verified */
static const char *check_sni_for(const check_run_state *rs, const check_host *h, int alt)
{
    check_sni mode = rs->opt->sni;
    const char *name = mode == CHECK_SNI_NAME ? rs->opt->sni_name
                       : mode == CHECK_SNI_AUTO ? h->name
                                                : NULL;
    if (alt) /* --sni-compare: the other choice */
        return name ? NULL : h->name;
    return name;
}

static void check_start_probe(check_run_state *rs, check_host *h, check_address *a, int alt)
{
    check_op *op = check_op_new(rs, h, a);
    if (!op)
        return;
    op->alt = alt;
    probe_config pc = {0};
    pc.ip = a->ip;
    pc.port = rs->rep->port;
    pc.ehlo_name = rs->ehlo;
    pc.sni = check_sni_for(rs, h, alt);
    pc.implicit_tls = rs->opt->implicit_tls;
    pc.want_ocsp_staple = rs->ctx->revocation != MXTLS_REVOCATION_OFF;
    pc.connect_timeout_ms = rs->opt->connect_timeout_ms;
    pc.phase_timeout_ms = rs->opt->phase_timeout_ms;
    pc.total_timeout_ms = rs->opt->total_timeout_ms;
    err_rec e;
    err_clear(&e);
    op->running = probe_start(rs->base, rs->ssl, &pc, check_probe_done, op, &e);
    if (op->running)
        rs->pending++;
    else if (!alt && !a->probe_error)
        a->probe_error = strdup(e.message[0] ? e.message : "the probe could not start");
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
        for (size_t i = 0; i < ans->n && a->ptr.n < CHECK_MAX_PTR; i++) {
            char *n = names_normalize(ans->rr[i].text, 0, NULL);
            if (!n)
                continue;
            if (strlist_add_unique(&a->ptr, n) == MXTLS_OK && a->ptr.n &&
                !strcmp(a->ptr.v[a->ptr.n - 1], n)) {
                check_op *fop = check_op_new(rs, op->host, a);
                if (fop) {
                    fop->ptr_index = (int)a->ptr.n - 1;
                    check_lookup(rs, n, a->family == 6 ? DNS_T_AAAA : DNS_T_A,
                                 check_forward_done, fop);
                }
            }
            free(n);
        }
    } else {
        char buf[160];
        snprintf(buf, sizeof buf, "%s (%s)", dns_outcome_name(ans->outcome),
                 dns_security_name(ans->security));
        a->ptr_problem = strdup(buf);
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
        for (size_t i = 0; i < ans->n && h->ntlsa < DANE_MAX_RECORDS; i++)
            if (dane_rr_set(&h->tlsa[h->ntlsa], ans->rr[i].usage, ans->rr[i].selector,
                            ans->rr[i].mtype, ans->rr[i].data, ans->rr[i].data_len) == 0)
                h->ntlsa++;
    } else if (ans->outcome == DNS_NODATA || ans->outcome == DNS_NXDOMAIN) {
        h->tlsa_state = ans->security == DNS_SEC_SECURE ? MXTLS_TLSA_NONE : MXTLS_TLSA_INSECURE;
        retry_original = op->tlsa_at_target;
    } else {
        h->tlsa_state = ans->security == DNS_SEC_BOGUS ? MXTLS_TLSA_BOGUS : MXTLS_TLSA_ERROR;
        char buf[512];
        snprintf(buf, sizeof buf, "%s%s%s", dns_outcome_name(ans->outcome), ans->why ? ": " : "",
                 ans->why ? ans->why : "");
        h->tlsa_why = strdup(buf);
    }
    dns_answer_free(ans);
    if (retry_original)
        check_start_tlsa(rs, h, h->name, 0);
    check_step_done(rs);
}

static void check_start_tlsa(check_run_state *rs, check_host *h, const char *base, int is_cname)
{
    char qname[MXTLS_MAX_NAME + 32];
    snprintf(qname, sizeof qname, "_%u._tcp.%s", rs->rep->port, base);
    check_op *op = check_op_new(rs, h, NULL);
    if (!op)
        return;
    op->tlsa_at_target = is_cname;
    /* Until an answer comes; the deadline may stop the check first, and a
     * missing answer must defer DANE senders, never downgrade them. */
    h->tlsa_state = MXTLS_TLSA_ERROR;
    free(h->tlsa_why);
    h->tlsa_why = strdup("no TLSA answer before the check's deadline");
    free(h->tlsa_base);
    h->tlsa_base = strdup(base);
    if (check_lookup(rs, qname, DNS_T_TLSA, check_tlsa_done, op) != 0) {
        free(h->tlsa_why);
        h->tlsa_why = strdup("the TLSA lookup could not start");
    }
}

static void check_add_address(check_run_state *rs, check_host *h, const char *ip, int family,
                              dns_security sec)
{
    if (h->naddrs >= sizeof h->addrs / sizeof h->addrs[0])
        return;
    check_address *a = calloc(1, sizeof *a);
    if (!a || !(a->ip = strdup(ip))) {
        free(a);
        return;
    }
    a->family = family;
    a->security = sec;
    h->addrs[h->naddrs++] = a;
    char ptrname[128];
    if (dns_ptr_name(ip, ptrname, sizeof ptrname) == 0)
        check_lookup(rs, ptrname, DNS_T_PTR, check_ptr_done, check_op_new(rs, h, a));
    check_start_probe(rs, h, a, 0);
    if (rs->opt->sni_compare)
        check_start_probe(rs, h, a, 1);
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
            h->canonname = strdup(ans->canonname);
        for (size_t i = 0; i < ans->n && i < CHECK_MAX_ADDRS; i++)
            check_add_address(op->rs, h, ans->rr[i].text, op->family, ans->security);
        if (ans->security == DNS_SEC_SECURE && !h->tlsa_started) {
            h->tlsa_started = 1;
            check_start_tlsa(op->rs, h, h->canonname ? h->canonname : h->name,
                             h->canonname != NULL);
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
            check_lookup(rs, h->name, DNS_T_A, check_addr_done, op);
        }
    }
    if (rs->opt->family != 4) {
        check_op *op = check_op_new(rs, h, NULL);
        if (op) {
            op->family = 6;
            h->aaaa_queried = 1;
            h->aaaa_outcome = DNS_TIMEOUT;
            check_lookup(rs, h->name, DNS_T_AAAA, check_addr_done, op);
        }
    }
}

static int check_mx_cmp(const void *a, const void *b)
{
    const dns_record *x = a, *y = b;
    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return strcmp(x->text, y->text);
}

static void check_mx_done(void *arg, dns_answer *ans)
{
    check_op *op = arg;
    check_run_state *rs = op->rs;
    check_report *rep = rs->rep;
    rep->mx_outcome = ans->outcome;
    rep->mx_security = ans->security;
    if (ans->why)
        rep->mx_why = strdup(ans->why);
    if (ans->outcome == DNS_DATA) {
        qsort(ans->rr, ans->n, sizeof ans->rr[0], check_mx_cmp);
        /* RFC 7505 §3: an MX with an empty target (".") says the domain
         * accepts no mail. Only null MX records: a null MX. Mixed with real
         * ones (which §3 forbids), the real ones are tried and the mix is
         * reported, since senders differ here. */
        size_t dots = 0;
        for (size_t i = 0; i < ans->n; i++)
            dots += strcmp(ans->rr[i].text, ".") == 0;
        if (ans->n > 0 && dots == ans->n) {
            rep->null_mx = 1;
        } else {
            rep->null_mx_mixed = dots > 0;
            for (size_t i = 0; i < ans->n; i++) {
                if (strcmp(ans->rr[i].text, ".") == 0)
                    continue;
                int dup = 0;
                for (size_t j = 0; j < rep->nhosts; j++)
                    dup |= !strcasecmp(rep->hosts[j]->name, ans->rr[i].text);
                if (dup)
                    continue;
                check_host *h = check_add_host(rs, ans->rr[i].text, ans->rr[i].pref);
                if (!h)
                    continue;
                char *valid = names_normalize(h->name, 0, NULL);
                if (!valid) {
                    /* A target that is no host name is skipped, as MTAs do,
                     * and reported; the other MX hosts still count. */
                    h->invalid = 1;
                    char *shown = names_escape((const unsigned char *)h->name, strlen(h->name));
                    char buf[600];
                    snprintf(buf, sizeof buf, "the MX target \"%s\" is not a valid host name: "
                             "senders skip it", shown ? shown : "?");
                    free(shown);
                    h->problem = strdup(buf);
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

static void check_deadline(evutil_socket_t fd, short what, void *arg)
{
    check_run_state *rs = arg;
    rs->rep->timed_out = 1;
    event_base_loopbreak(rs->base);
}

/* ---- verdicts --------------------------------------------------------- */

/* check_unreachable_code - why an address gave no TLS decision, or NULL */
static const char *check_unreachable_code(const check_address *a, const probe_report *p)
{
    if (!p && a->probe_error)
        return "probe-error";
    if (!p)
        return "timeout";
    if (!p->connected)
        return "connect-failed";
    if (p->tls_ok)
        return NULL;
    switch (p->smtp.outcome) {
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
    case SMTP_OUTCOME_TIMEOUT: return "timeout";
    default: return "smtp-failed";
    }
}

/* check_evidence - the evidence one probe gathered, for the pure core */
static mxtls_evidence *check_evidence(check_run_state *rs, const check_host *h,
                                      const check_address *a, const probe_report *p,
                                      const char *match)
{
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
    bad |= mxtls_evidence_set_ip(ctx, ev, a->ip) != MXTLS_OK;
    for (size_t i = 0; i < a->ptr.n; i++)
        bad |= mxtls_evidence_add_ptr(ctx, ev, a->ptr.v[i], a->ptr_confirmed[i]) != MXTLS_OK;
    if (match)
        bad |= mxtls_evidence_set_match(ctx, ev, match) != MXTLS_OK;
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
    if (p && p->tls_ok && p->tls.chain) {
        bad |= evidence_set_chain(ev, p->tls.chain) != MXTLS_OK;
        static const mxtls_revocation_status map[] = {
            [REVOCATION_NOT_CHECKED] = MXTLS_REVOCATION_NOT_CHECKED,
            [REVOCATION_GOOD] = MXTLS_REVOCATION_GOOD,
            [REVOCATION_REVOKED] = MXTLS_REVOCATION_REVOKED,
            [REVOCATION_UNKNOWN] = MXTLS_REVOCATION_UNKNOWN,
            [REVOCATION_UNAVAILABLE] = MXTLS_REVOCATION_UNAVAILABLE,
        };
        /* The revocation answer is about the first probe's leaf; the
         * --sni-compare probe may have been shown another certificate. */
        int same_leaf = p == a->probe ||
                        (a->probe && a->probe->tls.chain && sk_X509_num(a->probe->tls.chain) &&
                         X509_cmp(sk_X509_value(a->probe->tls.chain, 0),
                                  sk_X509_value(p->tls.chain, 0)) == 0);
        if (same_leaf && (unsigned)a->rev.status <= REVOCATION_UNAVAILABLE)
            bad |= mxtls_evidence_set_revocation(ctx, ev, map[a->rev.status], a->rev.detail) !=
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

/* check_evaluate_probe - every level's result from one probe */
static void check_evaluate_probe(check_run_state *rs, const check_host *h,
                                 const check_address *a, const probe_report *p,
                                 mxtls_result **out)
{
    check_report *rep = rs->rep;
    const mxtls_policy_entry *pe = rep->policy_entry;
    mxtls_evidence *ev = check_evidence(rs, h, a, p, NULL);
    mxtls_evidence *ev_map = NULL;
    if (pe && pe->match_raw)
        ev_map = check_evidence(rs, h, a, p, pe->match_raw);
    const char *code = check_unreachable_code(a, p);
    char msg[1024];
    if (code) {
        if (!p && a->probe_error)
            snprintf(msg, sizeof msg, "cannot probe %s: %s", a->ip, a->probe_error);
        else if (!p)
            snprintf(msg, sizeof msg, "the check's deadline passed before %s answered", a->ip);
        else if (!p->connected)
            snprintf(msg, sizeof msg, "cannot connect to %s port %u: %s", a->ip, p->port,
                     p->connect_error ? p->connect_error : "failed");
        else
            snprintf(msg, sizeof msg, "%s", p->smtp.reason);
    }
    for (size_t i = 0; ev && i < rep->nlevels; i++) {
        mxtls_level l = rep->levels[i];
        const mxtls_evidence *use = (ev_map && pe->level == l) ? ev_map : ev;
        out[i] = code ? policy_unreachable(rs->ctx, use, l, code, msg)
                      : mxtls_evaluate(rs->ctx, use, l);
    }
    mxtls_evidence_free(ev);
    mxtls_evidence_free(ev_map);
}

/* check_advice - the operator's to-do list: the auto level's and verify's
 * advice, and findings that no level decides on */
static void check_advice(check_report *rep)
{
    if (rep->null_mx_mixed)
        strlist_add_unique(&rep->advice,
                           "The MX RRset mixes a null MX (\".\") with other MX records, which "
                           "RFC 7505 §3 forbids: senders differ in what they do with it; publish "
                           "either the null MX alone or only real MX hosts.");
    for (size_t i = 0; i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        for (size_t j = 0; j < h->naddrs; j++) {
            const check_address *a = h->addrs[j];
            for (size_t li = 0; li < rep->nlevels; li++) {
                const mxtls_result *r = a->results[li];
                if (r && (rep->levels[li] == rep->auto_level ||
                          rep->levels[li] == MXTLS_LEVEL_VERIFY))
                    for (size_t k = 0; k < r->advice.n; k++)
                        strlist_add_unique(&rep->advice, r->advice.v[k]);
            }
            const probe_report *p = a->probe;
            if (!p)
                continue;
            char buf[1024];
            if (p->smtp.injected_bytes) {
                snprintf(buf, sizeof buf,
                         "%s [%s] sent %zu bytes after its 220 reply to STARTTLS, before the "
                         "TLS handshake: this is the STARTTLS injection flaw class "
                         "(CVE-2011-0411); update the server software.",
                         h->name, a->ip, p->smtp.injected_bytes);
                strlist_add_unique(&rep->advice, buf);
            }
            if (p->tls_ok && p->tls.version &&
                (!strcmp(p->tls.version, "TLSv1") || !strcmp(p->tls.version, "TLSv1.1") ||
                 !strcmp(p->tls.version, "SSLv3"))) {
                snprintf(buf, sizeof buf,
                         "%s [%s] negotiated %s: enable TLS 1.2 and 1.3; many senders refuse "
                         "older versions (RFC 8996).",
                         h->name, a->ip, p->tls.version);
                strlist_add_unique(&rep->advice, buf);
            }
            /* RFC 7525 / RFC 9325: no NULL, export, RC4, 3DES or anonymous suites. */
            static const char *const weak[] = {"NULL", "EXP", "RC4", "DES-CBC3", "3DES",
                                               "ADH", "AECDH", "anon"};
            for (size_t w = 0; p->tls_ok && p->tls.cipher && w < sizeof weak / sizeof weak[0]; w++)
                if (strstr(p->tls.cipher, weak[w])) {
                    snprintf(buf, sizeof buf,
                             "%s [%s] negotiated the weak cipher %s: remove it from the "
                             "server's cipher list (RFC 9325).",
                             h->name, a->ip, p->tls.cipher);
                    strlist_add_unique(&rep->advice, buf);
                    break;
                }
            const probe_report *q = a->probe_alt;
            if (p->tls_ok && q && q->tls_ok && p->tls.chain && q->tls.chain) {
                X509 *x = sk_X509_value(p->tls.chain, 0), *y = sk_X509_value(q->tls.chain, 0);
                if (x && y && X509_cmp(x, y) != 0) {
                    snprintf(buf, sizeof buf,
                             "%s [%s] shows a different certificate when the client sends no "
                             "SNI: most sending MTAs (Postfix by default) send none, so the "
                             "default certificate must carry the MX hostname too.",
                             h->name, a->ip);
                    strlist_add_unique(&rep->advice, buf);
                }
            }
        }
    }
}

static void check_finish(check_run_state *rs)
{
    check_report *rep = rs->rep;
    for (size_t i = 0; i < rep->nhosts; i++) {
        check_host *h = rep->hosts[i];
        for (size_t j = 0; j < h->naddrs; j++) {
            check_address *a = h->addrs[j];
            check_evaluate_probe(rs, h, a, a->probe, a->results);
            if (a->probe_alt)
                check_evaluate_probe(rs, h, a, a->probe_alt, a->results_alt);
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
            h->problem = strdup(buf);
        }
    }
    /* Auto: DANE first, as a DANE-enabled MTA does (Postfix
     * smtp_tls_security_level = dane), wherever DANE changes the outcome for
     * a host reached through a secure MX RRset (or a configured route):
     * DNSSEC-secure TLSA records (usable: authentication is mandatory;
     * unusable: TLS is mandatory) and failed TLSA lookups (the sender defers
     * rather than downgrade, RFC 7672 §2.2). */
    for (size_t i = 0; i < rep->nhosts && rep->auto_level != MXTLS_LEVEL_DANE; i++) {
        const check_host *h = rep->hosts[i];
        int mx_ok = rep->routed || rep->implicit_mx || rep->mx_security == DNS_SEC_SECURE;
        const char *why = NULL;
        if (!h->tlsa_started || !mx_ok)
            continue;
        if (h->tlsa_state == MXTLS_TLSA_SECURE && h->ntlsa)
            why = "DNSSEC-secure TLSA records";
        else if (h->tlsa_state == MXTLS_TLSA_BOGUS || h->tlsa_state == MXTLS_TLSA_ERROR)
            why = "a failed TLSA lookup (a DANE sender defers)";
        /* An explicit policy-map entry is the operator's choice and wins, as
         * smtp_tls_policy_maps entries override smtp_tls_security_level = dane
         * in Postfix. */
        if (why && !rep->policy_entry) {
            rep->auto_level = MXTLS_LEVEL_DANE;
            char buf[512];
            snprintf(buf, sizeof buf, "%s at %s: dane", why,
                     h->tlsa_base ? h->tlsa_base : h->name);
            free(rep->auto_reason);
            rep->auto_reason = strdup(buf);
        }
    }
    for (size_t li = 0; li < rep->nlevels; li++)
        check_aggregate(rep, li);
    check_advice(rep);
}

/* check_ehlo_name - this machine's FQDN, as an MTA would announce it */
static void check_ehlo_name(check_run_state *rs)
{
    const char *given = rs->opt->ehlo_name;
    char host[256] = "";
    if (!given && gethostname(host, sizeof host - 1) == 0 && strchr(host, '.'))
        given = host;
    snprintf(rs->ehlo, sizeof rs->ehlo, "%s", given ? given : "mxtls.invalid");
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
    return 0;
}

check_report *check_run(mxtls_ctx *ctx, const check_options *opt)
{
    err_clear(&ctx->err);
    char *domain = names_normalize(opt->domain, 0, &ctx->err);
    if (!domain)
        return NULL;
    check_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        free(domain);
        err_set(&ctx->err, MXTLS_ERR_NOMEM, "check", "out of memory");
        return NULL;
    }
    rep->domain = domain;
    rep->port = opt->port ? opt->port : opt->implicit_tls ? 465 : 25;
    rep->routed = opt->nroutes > 0;
    size_t n = 0;
    const mxtls_level *levels = mxtls_levels(&n);
    for (size_t i = 0; i < n && i < CHECK_NLEVELS; i++)
        rep->levels[rep->nlevels++] = levels[i];
    if (check_auto_level(ctx, rep, opt) != 0) {
        check_report_free(rep);
        return NULL;
    }

    check_run_state rs = {.ctx = ctx, .opt = opt, .rep = rep};
    gettimeofday(&rs.started, NULL);
    check_ehlo_name(&rs);
    err_rec e;
    err_clear(&e);
    rs.base = event_base_new();
    if (rs.base)
        rs.dns = dns_resolver_new(rs.base, &opt->dns, &e);
    if (rs.dns)
        rs.ssl = probe_ssl_ctx_new(&e);
    if (rs.ssl && opt->client_cert &&
        probe_ssl_ctx_client_cert(rs.ssl, opt->client_cert, opt->client_key, &e) != 0) {
        SSL_CTX_free(rs.ssl);
        rs.ssl = NULL;
    }
    if (!rs.ssl || !pkix_store(ctx)) {
        if (e.code || !rs.base)
            err_set(&ctx->err, e.code ? e.code : MXTLS_ERR_NOMEM, e.where, "%s",
                    e.message[0] ? e.message : "cannot set up the event loop");
        goto fail;
    }

    int total = check_total_ms(opt);
    struct timeval tv = {total / 1000, (total % 1000) * 1000};
    rs.deadline = evtimer_new(rs.base, check_deadline, &rs);
    if (!rs.deadline)
        goto fail;
    evtimer_add(rs.deadline, &tv);

    if (rep->routed) {
        for (size_t i = 0; i < opt->nroutes; i++) {
            char *r = names_normalize(opt->routes[i], 0, &ctx->err);
            if (!r)
                goto fail;
            check_host *h = check_add_host(&rs, r, -1);
            free(r);
            if (h)
                check_resolve_host(&rs, h);
        }
    } else if ((rep->mx_outcome = DNS_TIMEOUT, /* until an answer says otherwise */
                rep->mx_security = DNS_SEC_INDETERMINATE,
                check_lookup(&rs, rep->domain, DNS_T_MX, check_mx_done,
                             check_op_new(&rs, NULL, NULL)) != 0)) {
        err_set(&ctx->err, MXTLS_ERR_INVALID, "dns", "cannot start the MX lookup");
        goto fail;
    }
    if (rs.pending > 0)
        event_base_dispatch(rs.base);

    /* Stop what is still running (deadline): no callbacks after this. */
    for (check_op *op = rs.ops; op; op = op->next)
        if (op->running)
            probe_cancel(op->running);
    dns_resolver_free(rs.dns);
    rs.dns = NULL;
    https_client_free(rs.https);
    rs.https = NULL;

    check_finish(&rs);
    rep->elapsed_ms = check_elapsed_ms(&rs);
    goto out;
fail:
    for (check_op *op = rs.ops; op; op = op->next)
        if (op->running)
            probe_cancel(op->running);
    check_report_free(rep);
    rep = NULL;
    if (ctx->err.code == MXTLS_OK)
        err_set(&ctx->err, MXTLS_ERR_NOMEM, "check", "cannot set up the check");
out:
    dns_resolver_free(rs.dns);
    https_client_free(rs.https);
    if (rs.deadline)
        event_free(rs.deadline);
    SSL_CTX_free(rs.ssl);
    while (rs.ops) {
        check_op *next = rs.ops->next;
        free(rs.ops);
        rs.ops = next;
    }
    if (rs.base)
        event_base_free(rs.base);
    return rep;
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
    free(a->probe_error);
    strlist_free(&a->ptr);
    free(a->ptr_problem);
    if (a->probe)
        probe_report_free(a->probe);
    if (a->probe_alt)
        probe_report_free(a->probe_alt);
    free(a->rev.detail);
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
    strlist_free(&r->advice);
    free(r);
}
