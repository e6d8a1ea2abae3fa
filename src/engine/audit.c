/* audit.c - `mxtls audit`: a bounded, paced series of probes per address and port
 *
 * Sequential on purpose: an audit asks one server many small questions, and
 * a server operator's logs should show them one after the other, with a
 * pause between, never a burst (audit.h lists the steps). */
#include "engine/audit.h"

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ctx.h"
#include "core/evidence.h"
#include "core/names.h"
#include "core/tlsparams.h"
#include "io/dns.h"
#include "io/probe.h"

typedef struct audit_state {
    mxtls_ctx *ctx;
    const audit_options *opt;
    struct event_base *base;
    dns_resolver *dns;
    SSL_CTX *ssl;
    const char *ehlo;
    struct timespec t0;
    long deadline_ms;
    int pace_ms;
    int probes_on_addr;            /* connections made to the current address */
    /* The cipher classes this OpenSSL can offer at all (Debian 12's OpenSSL 3
     * has no 3DES suite): a class it cannot offer stays "not tested". */
    int class_offerable[AUDIT_NCIPHER_CLASSES];
    int group_offerable[AUDIT_NGROUPS]; /* likewise for the key exchange groups */
    audit_report *rep;
} audit_state;

static long audit_elapsed_ms(const audit_state *st)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - st->t0.tv_sec) * 1000L + (now.tv_nsec - st->t0.tv_nsec) / 1000000L;
}

/* ---- blocking wrappers over the asynchronous adapters ------------------- */

typedef struct audit_wait {
    int done;
    dns_answer *answer;
    probe_report *probe;
} audit_wait;

static void audit_dns_done(void *arg, dns_answer *a)
{
    audit_wait *w = arg;
    w->answer = a;
    w->done = 1;
}

static void audit_probe_done(void *arg, probe_report *r)
{
    audit_wait *w = arg;
    w->probe = r;
    w->done = 1;
}

/* audit_lookup - one query, answered (the resolver bounds its time); NULL with e set */
static dns_answer *audit_lookup(audit_state *st, const char *name, uint16_t type, err_rec *e)
{
    audit_wait w = {0};
    if (dns_resolve(st->dns, name, type, audit_dns_done, &w, e) != 0)
        return NULL;
    while (!w.done)
        if (event_base_loop(st->base, EVLOOP_ONCE) < 0)
            break;
    if (!w.done)
        err_set(e, MXTLS_ERR_RESOURCE, "audit", "the event loop stopped before the DNS answer");
    return w.answer;
}

/* audit_probe - one connection; the pause before it keeps the pace polite.
 * NULL when it could not start (why in e) */
static probe_report *audit_probe(audit_state *st, probe_config *pc, err_rec *e)
{
    if (st->probes_on_addr++ > 0 && st->pace_ms > 0) {
        struct timespec ts = {st->pace_ms / 1000, (long)(st->pace_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    pc->ehlo_name = st->ehlo;
    pc->connect_timeout_ms = st->opt->net->connect_timeout_ms;
    pc->phase_timeout_ms = AUDIT_PHASE_TIMEOUT_MS;
    long left = st->deadline_ms - audit_elapsed_ms(st);
    pc->total_timeout_ms = left < AUDIT_PROBE_TIMEOUT_MS ? (int)(left > 1 ? left : 1)
                                                         : AUDIT_PROBE_TIMEOUT_MS;
    audit_wait w = {0};
    probe *p = probe_start(st->base, st->ssl, pc, audit_probe_done, &w, e);
    if (!p)
        return NULL;
    while (!w.done)
        if (event_base_loop(st->base, EVLOOP_ONCE) < 0)
            break;
    if (!w.done) {
        probe_cancel(p);
        err_set(e, MXTLS_ERR_RESOURCE, "audit", "the event loop stopped before the probe ended");
        return NULL;
    }
    return w.probe;
}

/* ---- reading probe reports ---------------------------------------------- */

static int audit_proto_index(const char *version)
{
    static const char *const names[AUDIT_NPROTOS] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    for (int i = 0; version && i < AUDIT_NPROTOS; i++)
        if (!strcmp(version, names[i]))
            return i;
    return -1;
}

/* AEAD: every TLS 1.3 suite, and the GCM, CCM and ChaCha20-Poly1305 ones */
static int audit_cipher_is_aead(const char *version, const char *cipher)
{
    if (version && !strcmp(version, "TLSv1.3"))
        return 1;
    return cipher && (strstr(cipher, "GCM") || strstr(cipher, "CCM") || strstr(cipher, "CHACHA20"));
}

/* audit_handshake_answer - YES: a handshake completed; NO: the server
 * refused it (alert, close in the handshake); NOT_TESTED: the question was
 * never put (no connection, no STARTTLS, a timeout) */
static audit_tri audit_handshake_answer(const probe_report *r)
{
    if (!r || !r->connected)
        return AUDIT_NOT_TESTED;
    if (r->tls_ok)
        return AUDIT_YES;
    if (r->tls_attempted && r->smtp.outcome == SMTP_OUTCOME_TLS_FAILED)
        return AUDIT_NO;
    return AUDIT_NOT_TESTED;
}

static void audit_copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* audit_caps_words - the EHLO keywords (with AUTH's mechanisms), space-separated */
static void audit_caps_words(const ehlo_caps *c, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->keywords.n && used + 1 < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s", used ? " " : "", c->keywords.v[i]);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

/* audit_judge_cert - the certificate as senders see it: mxtls_evaluate() at
 * level verify, with the host name as the name senders use (the MX host
 * name for a domain's MX hosts, the host name itself otherwise) */
static void audit_judge_cert(audit_state *st, const audit_host *h, const probe_report *r,
                             audit_port_obs *o)
{
    if (!h->name[0] || !r->tls_ok || !r->tls.chain || sk_X509_num(r->tls.chain) == 0)
        return;
    mxtls_ctx *ctx = st->ctx;
    mxtls_evidence *ev = mxtls_evidence_new();
    if (!ev)
        return;
    const char *domain = st->rep->kind == AUDIT_TARGET_DOMAIN ? st->rep->target : h->name;
    int bad = mxtls_evidence_set_domain(ctx, ev, domain) != MXTLS_OK;
    bad |= mxtls_evidence_add_mx(ctx, ev, h->name) != MXTLS_OK;
    bad |= mxtls_evidence_set_ip(ctx, ev, r->ip) != MXTLS_OK;
    bad |= evidence_set_chain(ev, r->tls.chain) != MXTLS_OK;
    ev->implicit_tls = o->role == AUDIT_ROLE_SUBMISSIONS;
    mxtls_result *res = bad ? NULL : mxtls_evaluate(ctx, ev, MXTLS_LEVEL_VERIFY);
    mxtls_evidence_free(ev);
    if (!res)
        return;
    o->cert_checked = 1;
    o->cert_ok = mxtls_result_verdict(res) == MXTLS_VERDICT_PASS;
    if (!o->cert_ok && mxtls_result_reason_count(res) > 0) {
        audit_copy(o->cert_code, sizeof o->cert_code, mxtls_result_reason_code(res, 0));
        audit_copy(o->cert_message, sizeof o->cert_message, mxtls_result_reason_message(res, 0));
    }
    size_t used = 0;
    for (size_t i = 0; i < mxtls_result_reference_count(res); i++) {
        int w = snprintf(o->cert_names + used, sizeof o->cert_names - used, "%s%s",
                         used ? " " : "", mxtls_result_reference(res, i));
        if (w < 0 || (size_t)w >= sizeof o->cert_names - used)
            break;
        used += (size_t)w;
    }
    mxtls_result_free(res);
}

/* audit_first - the full handshake: fills everything but the classes */
static void audit_first(audit_state *st, const audit_host *h, const probe_report *r,
                        audit_port_obs *o)
{
    const smtp_obs *s = &r->smtp;
    int implicit = o->role == AUDIT_ROLE_SUBMISSIONS;
    if (!r->connected) {
        audit_copy(o->unreachable_why, sizeof o->unreachable_why,
                   r->connect_error ? r->connect_error : "no connection");
        return;
    }
    /* Reached: the server greeted (or, on 465, a TLS attempt got an answer
     * at all). A server that refuses us is reachable but says nothing more. */
    int greeted = s->banner.code / 100 == 2;
    if (!greeted && !(implicit && r->tls_attempted && s->outcome == SMTP_OUTCOME_TLS_FAILED)) {
        audit_copy(o->unreachable_why, sizeof o->unreachable_why, s->reason);
        return;
    }
    o->reachable = 1;
    if (!implicit && s->pre_tls.esmtp) {
        o->starttls_offered = s->starttls_offered ? AUDIT_YES : AUDIT_NO;
        o->auth_before_tls = (s->pre_tls.caps.ext & EHLO_AUTH) ? AUDIT_YES : AUDIT_NO;
    }
    if (r->tls_attempted) {
        o->client_cert_requested = r->tls.client_cert_requested ? AUDIT_YES : AUDIT_NO;
        o->handshakes++;
    }
    o->tls_ok = r->tls_ok && (s->outcome == SMTP_OUTCOME_OK_TLS || s->post_tls.esmtp);
    /* A handshake that worked before a refusal over TLS (EHLO answered
     * 554, a close) still leaves the port without usable TLS: say why. */
    if (r->tls_attempted && !o->tls_ok)
        audit_copy(o->tls_error, sizeof o->tls_error,
                   r->tls_ok || !r->tls.error ? s->reason : r->tls.error);
    if (!o->tls_ok)
        return;
    audit_copy(o->version, sizeof o->version, r->tls.version);
    audit_copy(o->cipher, sizeof o->cipher, r->tls.cipher);
    audit_copy(o->group, sizeof o->group, r->tls.group);
    int g = audit_group_of(r->tls.group);
    if (g >= 0)
        o->groups[g] = AUDIT_YES;
    audit_copy(o->key_type, sizeof o->key_type, r->tls.peer_key_type);
    o->key_bits = r->tls.peer_key_bits;
    o->ocsp_stapled = r->tls.ocsp_staple_len > 0 ? AUDIT_YES : AUDIT_NO;
    int v = audit_proto_index(r->tls.version);
    if (v >= 0)
        o->proto[v] = AUDIT_YES;
    /* The probe offered TLS 1.3: a lower version means the server has none. */
    if (v >= 0 && v < AUDIT_TLS1_3)
        o->proto[AUDIT_TLS1_3] = AUDIT_NO;
    if (audit_cipher_is_aead(r->tls.version, r->tls.cipher))
        o->ciphers[AUDIT_CIPHERS_AEAD] = AUDIT_YES;
    if (s->post_tls.esmtp) {
        o->auth_after_tls = (s->post_tls.caps.ext & EHLO_AUTH) ? AUDIT_YES : AUDIT_NO;
        o->requiretls = (s->post_tls.caps.ext & EHLO_REQUIRETLS) ? AUDIT_YES : AUDIT_NO;
        audit_caps_words(&s->post_tls.caps, o->extensions, sizeof o->extensions);
    }
    audit_judge_cert(st, h, r, o);
}

/* One probe class: what it limits, and where its answer goes. */
typedef struct audit_class {
    const char *name;
    unsigned floor, ceiling;       /* TLSP_* bits, 0: none */
    int cipher;                    /* audit_cipher_class, or -1 */
    int proto;                     /* audit_proto it answers, or -1 */
    int group;                     /* audit_group it answers, or -1 */
} audit_class;

static const audit_class audit_classes[] = {
    {"TLSv1", TLSP_TLSv1, TLSP_TLSv1, -1, AUDIT_TLS1_0, -1},
    {"TLSv1.1", TLSP_TLSv1_1, TLSP_TLSv1_1, -1, AUDIT_TLS1_1, -1},
    {"null", 0, TLSP_TLSv1_2, AUDIT_CIPHERS_NULL, -1, -1},
    {"anonymous", 0, TLSP_TLSv1_2, AUDIT_CIPHERS_ANON, -1, -1},
    {"3des", 0, TLSP_TLSv1_2, AUDIT_CIPHERS_3DES, -1, -1},
    {"cbc", 0, TLSP_TLSv1_2, AUDIT_CIPHERS_CBC, -1, -1},
    /* asked only when nothing above showed them */
    {"TLSv1.2", TLSP_TLSv1_2, TLSP_TLSv1_2, -1, AUDIT_TLS1_2, -1},
    {"aead", 0, TLSP_TLSv1_2, AUDIT_CIPHERS_AEAD, -1, -1},
    /* key exchange groups (core/audit.h); the one the full handshake used is known */
    {"X25519", 0, 0, -1, -1, AUDIT_GROUP_X25519},
    {"P-256", 0, 0, -1, -1, AUDIT_GROUP_P256},
    {"P-384", 0, 0, -1, -1, AUDIT_GROUP_P384},
    {"ffdhe2048", TLSP_TLSv1_3, 0, -1, -1, AUDIT_GROUP_FFDHE2048},
    {"DHE", 0, TLSP_TLSv1_2, -1, -1, AUDIT_GROUP_DHE},
};

/* audit_port - every probe of one address and port */
static void audit_port(audit_state *st, const audit_host *h, const char *ip,
                       audit_port_result *pr, uint16_t port)
{
    audit_port_obs *o = &pr->obs;
    memset(pr, 0, sizeof *pr);
    o->port = port;
    o->role = audit_role_for_port(port);
    int implicit = o->role == AUDIT_ROLE_SUBMISSIONS;
    int budget = st->rep->max_handshakes;
    size_t nclasses = sizeof audit_classes / sizeof audit_classes[0];
    err_rec e;

    if (audit_elapsed_ms(st) >= st->deadline_ms) {
        st->rep->timed_out = 1;
        audit_copy(o->unreachable_why, sizeof o->unreachable_why,
                   "not probed: the audit's deadline had passed");
        goto judge;
    }
    probe_config pc = {.ip = ip, .port = port, .sni = h->name[0] ? h->name : NULL,
                       .implicit_tls = implicit, .want_ocsp_staple = 1};
    err_clear(&e);
    probe_report *r = audit_probe(st, &pc, &e);
    if (!r) {
        audit_copy(o->unreachable_why, sizeof o->unreachable_why, e.message);
        goto judge;
    }
    audit_first(st, h, r, o);
    int tls_ok = o->tls_ok, attempted = r->tls_attempted;
    probe_report_free(r);
    if (!o->reachable)
        goto judge;
    budget -= attempted ? 1 : 0;

    /* Does the server take mail without TLS? (MAIL FROM:<> then QUIT) */
    if (!implicit) {
        probe_config mp = {.ip = ip, .port = port, .no_starttls = 1, .mail_probe = 1};
        err_clear(&e);
        if ((r = audit_probe(st, &mp, &e))) {
            if (r->smtp.mail_probed && r->smtp.mail_code) {
                o->mail_code = r->smtp.mail_code;
                audit_copy(o->mail_reply, sizeof o->mail_reply, r->smtp.mail_reply);
                o->mail_without_tls = r->smtp.mail_code / 100 == 2 ? AUDIT_YES : AUDIT_NO;
            }
            probe_report_free(r);
        }
    }
    if (!tls_ok)
        goto judge;

    for (size_t i = 0; i < nclasses; i++) {
        const audit_class *c = &audit_classes[i];
        if ((c->proto >= 0 && o->proto[c->proto] != AUDIT_NOT_TESTED) ||
            (c->cipher >= 0 && o->ciphers[c->cipher] != AUDIT_NOT_TESTED) ||
            (c->group >= 0 && o->groups[c->group] != AUDIT_NOT_TESTED))
            continue; /* already known from an earlier handshake */
        if ((c->cipher >= 0 && !st->class_offerable[c->cipher]) ||
            (c->group >= 0 && !st->group_offerable[c->group]))
            continue;
        /* ffdhe2048 is a TLS 1.3 group: a server without TLS 1.3 is not asked */
        if (c->floor == TLSP_TLSv1_3 && o->proto[AUDIT_TLS1_3] != AUDIT_YES)
            continue;
        if (budget <= 0) {
            o->handshakes_skipped++;
            continue;
        }
        if (audit_elapsed_ms(st) >= st->deadline_ms) {
            st->rep->timed_out = 1;
            o->handshakes_skipped++;
            continue;
        }
        probe_config cp = {.ip = ip, .port = port, .sni = h->name[0] ? h->name : NULL,
                           .implicit_tls = implicit, .proto_floor = c->floor,
                           .proto_ceiling = c->ceiling,
                           .cipher_list = c->cipher >= 0 ? audit_cipher_class_list(c->cipher)
                                          : c->group >= 0 ? audit_group_cipher_list(c->group)
                                                          : NULL,
                           .groups_list = c->group >= 0 ? audit_group_offer(c->group) : NULL};
        err_clear(&e);
        r = audit_probe(st, &cp, &e);
        budget--;
        o->handshakes++;
        if (!r)
            continue;
        audit_tri a = audit_handshake_answer(r);
        if (c->proto >= 0)
            o->proto[c->proto] = a;
        if (c->cipher >= 0)
            o->ciphers[c->cipher] = a;
        if (c->group >= 0) {
            /* Only that group (or DHE suites) was offered; a handshake that
             * completed with another key exchange did not accept it. */
            int used = a == AUDIT_YES ? audit_group_of(r->tls.group) : -1;
            o->groups[c->group] = a == AUDIT_YES && used != c->group ? AUDIT_NO : a;
        }
        if (a == AUDIT_YES) {
            /* Whatever a handshake negotiated, the server accepts. */
            int v = audit_proto_index(r->tls.version);
            if (v >= 0)
                o->proto[v] = AUDIT_YES;
            if (audit_cipher_is_aead(r->tls.version, r->tls.cipher))
                o->ciphers[AUDIT_CIPHERS_AEAD] = AUDIT_YES;
            int g = audit_group_of(r->tls.group);
            if (g >= 0)
                o->groups[g] = AUDIT_YES;
        }
        probe_report_free(r);
    }
judge:
    pr->nfindings = audit_findings(o, pr->findings, AUDIT_MAX_FINDINGS);
    if (pr->nfindings > AUDIT_MAX_FINDINGS)
        pr->nfindings = AUDIT_MAX_FINDINGS;
    for (size_t i = 0; i < pr->nfindings; i++)
        st->rep->counts[pr->findings[i].severity]++;
    if (o->reachable)
        st->rep->reachable = 1;
}

/* audit_addresses - A and AAAA of a host into h (the families --4/-6 allow) */
static void audit_addresses(audit_state *st, audit_host *h)
{
    static const uint16_t types[2] = {DNS_T_A, DNS_T_AAAA};
    int family = st->opt->net->family;
    char why[2][160] = {"", ""};
    for (int t = 0; t < 2; t++) {
        if (family && family != (t == 0 ? 4 : 6))
            continue;
        err_rec e;
        err_clear(&e);
        dns_answer *a = audit_lookup(st, h->name, types[t], &e);
        if (!a) {
            snprintf(why[t], sizeof why[t], "%s", e.message);
            continue;
        }
        if (a->outcome != DNS_DATA)
            snprintf(why[t], sizeof why[t], "%s %s: %s%s%s", t == 0 ? "A" : "AAAA",
                     dns_outcome_name(a->outcome), dns_security_name(a->security),
                     a->why ? ", " : "", a->why ? a->why : "");
        for (size_t i = 0; a->outcome == DNS_DATA && i < a->n; i++) {
            if (h->naddrs >= AUDIT_MAX_ADDRS) {
                h->addrs_dropped++;
                continue;
            }
            audit_copy(h->addrs[h->naddrs++].ip, sizeof h->addrs[0].ip, a->rr[i].text);
        }
        dns_answer_free(a);
    }
    if (h->naddrs == 0)
        snprintf(h->problem, sizeof h->problem, "no address: %s%s%s", why[0],
                 why[0][0] && why[1][0] ? "; " : "", why[1]);
}

static int audit_mx_cmp(const void *a, const void *b)
{
    const dns_record *x = a, *y = b;
    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* audit_resolve - the hosts to audit: the MX hosts, or the name, or the address */
static int audit_resolve(audit_state *st, err_rec *e)
{
    audit_report *rep = st->rep;
    if (evidence_is_ip(rep->target)) {
        rep->kind = AUDIT_TARGET_ADDRESS;
        rep->nhosts = 1;
        rep->hosts[0].pref = -1;
        audit_copy(rep->hosts[0].addrs[0].ip, sizeof rep->hosts[0].addrs[0].ip, rep->target);
        rep->hosts[0].naddrs = 1;
        return 0;
    }
    dns_answer *mx = audit_lookup(st, rep->target, DNS_T_MX, e);
    if (!mx)
        return -1;
    if (mx->outcome == DNS_DATA && mx->n > 0) {
        rep->kind = AUDIT_TARGET_DOMAIN;
        qsort(mx->rr, mx->n, sizeof mx->rr[0], audit_mx_cmp);
        for (size_t i = 0; i < mx->n; i++) {
            if (!strcmp(mx->rr[i].text, ".")) /* null MX (RFC 7505): nothing to audit */
                continue;
            if (rep->nhosts >= AUDIT_MAX_HOSTS) {
                rep->hosts_dropped++;
                continue;
            }
            audit_host *h = &rep->hosts[rep->nhosts++];
            audit_copy(h->name, sizeof h->name, mx->rr[i].text);
            h->pref = mx->rr[i].pref;
        }
        if (rep->nhosts == 0)
            snprintf(rep->dns_problem, sizeof rep->dns_problem,
                     "%s has a null MX (RFC 7505): it accepts no mail", rep->target);
    } else if (mx->outcome == DNS_NODATA || mx->outcome == DNS_NXDOMAIN) {
        rep->kind = AUDIT_TARGET_HOST;
        rep->nhosts = 1;
        rep->hosts[0].pref = -1;
        audit_copy(rep->hosts[0].name, sizeof rep->hosts[0].name, rep->target);
    } else {
        snprintf(rep->dns_problem, sizeof rep->dns_problem, "MX lookup for %s: %s (%s%s%s)",
                 rep->target, dns_outcome_name(mx->outcome), dns_security_name(mx->security),
                 mx->why ? ": " : "", mx->why ? mx->why : "");
        rep->dns_tempfail = 1;
    }
    dns_answer_free(mx);
    for (size_t i = 0; i < rep->nhosts; i++)
        audit_addresses(st, &rep->hosts[i]);
    return 0;
}

audit_report *audit_run(mxtls_ctx *ctx, const audit_options *opt, err_rec *e)
{
    if (!opt || !opt->target || !opt->net) {
        err_set(e, MXTLS_ERR_INVALID, "audit", "no target");
        return NULL;
    }
    if (opt->max_handshakes < 0 || opt->max_handshakes > AUDIT_MAX_MAX_HANDSHAKES) {
        err_set(e, MXTLS_ERR_INVALID, "audit", "--max-handshakes must be 0..%d",
                AUDIT_MAX_MAX_HANDSHAKES);
        return NULL;
    }
    audit_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        err_set(e, MXTLS_ERR_NOMEM, "audit", "out of memory");
        return NULL;
    }
    char *norm = NULL;
    if (evidence_is_ip(opt->target)) {
        audit_copy(rep->target, sizeof rep->target, opt->target);
    } else {
        if (!(norm = names_normalize(opt->target, 0, e))) {
            free(rep);
            return NULL;
        }
        audit_copy(rep->target, sizeof rep->target, norm);
        free(norm);
    }
    rep->max_handshakes = opt->max_handshakes ? opt->max_handshakes : AUDIT_DEFAULT_MAX_HANDSHAKES;
    audit_state st = {.ctx = ctx, .opt = opt, .rep = rep};
    clock_gettime(CLOCK_MONOTONIC, &st.t0);
    st.deadline_ms = opt->net->total_timeout_ms > 0 ? opt->net->total_timeout_ms
                                                    : AUDIT_DEFAULT_TOTAL_TIMEOUT_MS;
    st.pace_ms = opt->pace_ms < 0 ? 0 : opt->pace_ms ? opt->pace_ms : AUDIT_PACE_MS;
    /* This machine's FQDN, as an MTA announces it (as the check does). */
    char host[256] = "";
    st.ehlo = opt->net->ehlo_name;
    if (!st.ehlo && gethostname(host, sizeof host - 1) == 0 && strchr(host, '.'))
        st.ehlo = host;
    if (!st.ehlo)
        st.ehlo = "mxtls.invalid";
    if (!(st.base = event_base_new())) {
        err_set(e, MXTLS_ERR_NOMEM, "audit", "cannot create an event loop");
        free(rep);
        return NULL;
    }
    if (!(st.ssl = probe_ssl_ctx_new(e)) || !(st.dns = dns_resolver_new(st.base, &opt->net->dns, e))) {
        SSL_CTX_free(st.ssl);
        event_base_free(st.base);
        free(rep);
        return NULL;
    }
    for (int i = 0; i < AUDIT_NCIPHER_CLASSES; i++) {
        SSL *t = SSL_new(st.ssl);
        st.class_offerable[i] = t && SSL_set_cipher_list(t, audit_cipher_class_list(i)) == 1;
        SSL_free(t);
        ERR_clear_error();
    }
    for (int i = 0; i < AUDIT_NGROUPS; i++) {
        SSL *t = SSL_new(st.ssl);
        const char *offer = audit_group_offer((audit_group)i);
        const char *ciphers = audit_group_cipher_list((audit_group)i);
        st.group_offerable[i] = t && (!offer || SSL_set1_groups_list(t, offer) == 1) &&
                                (!ciphers || SSL_set_cipher_list(t, ciphers) == 1);
        SSL_free(t);
        ERR_clear_error();
    }
    if (audit_resolve(&st, e) != 0) {
        dns_resolver_free(st.dns);
        SSL_CTX_free(st.ssl);
        event_base_free(st.base);
        free(rep);
        return NULL;
    }
    static const uint16_t default_ports[] = {25, 465, 587};
    const uint16_t *ports = opt->nports ? opt->ports : default_ports;
    size_t nports = opt->nports ? opt->nports : 3;
    for (size_t i = 0; i < rep->nhosts; i++) {
        audit_host *h = &rep->hosts[i];
        for (size_t j = 0; j < h->naddrs; j++) {
            audit_address *a = &h->addrs[j];
            st.probes_on_addr = 0;
            for (size_t k = 0; k < nports; k++)
                audit_port(&st, h, a->ip, &a->ports[a->nports++], ports[k]);
        }
    }
    rep->elapsed_ms = audit_elapsed_ms(&st);
    dns_resolver_free(st.dns);
    SSL_CTX_free(st.ssl);
    event_base_free(st.base);
    return rep;
}
