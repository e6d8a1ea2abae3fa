/* policy.c - evidence x level -> verdict (pure: no I/O but the trust store)
 *
 * docs/policies.md is the table this file implements; each rule cites its
 * source there. The decisive reason comes first; every reason that alone
 * would fail the level is "decisive" too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/chainmemo.h"
#include "core/ctx.h"
#include "core/dane.h"
#include "core/evidence.h"
#include "core/fingerprint.h"
#include "core/level.h"
#include "core/mtasts_eval.h"
#include "core/names.h"
#include "core/pkix.h"
#include "core/result.h"

/* Certificates expiring within this many days get a warning (operators need
 * time to renew and, with DANE, to pre-publish TLSA records). */
#define POLICY_EXPIRY_WARN_DAYS 21

/* Postfix's enhanced status codes for TLS failures (smtp_proto.c, tls_client.c). */
#define STATUS_TLS_NOT_OFFERED "4.7.4"
#define STATUS_CERT_FAIL "4.7.5"

enum match_kind { MATCH_DNS_OR_CN, MATCH_DNS, MATCH_CN, MATCH_IP };
static const char *const match_against[] = {"dns-or-cn", "dns", "cn", "ip"};

/* policy_traits - the level's row of the level table (core/level.h); never
 * NULL for a level mxtls_evaluate accepted */
static const level_traits *policy_traits(mxtls_level l)
{
    static const level_traits unknown = {MXTLS_LEVEL_INVALID, LEVEL_SENDER_POSTFIX,
                                         LEVEL_SNI_SERVERNAME, 0, LEVEL_AUTH_NONE,
                                         LEVEL_REFS_NONE, 1, 0, 0, 1, 0};
    const level_traits *t = level_traits_of(l);
    return t ? t : &unknown;
}

/* policy_requires_tls - levels at which a sender will not deliver in plaintext */
static int policy_requires_tls(mxtls_level l)
{
    return policy_traits(l)->requires_tls;
}

/* policy_status - the RFC 3463 status a Postfix level logs with a reason;
 * NULL for senders that log none */
static const char *policy_status(mxtls_level l, const char *status)
{
    return policy_traits(l)->postfix_status ? status : NULL;
}

/* policy_nexthop - Postfix's next-hop: the configured route, else the domain */
static const char *policy_nexthop(const mxtls_evidence *ev)
{
    return ev->routes.n ? ev->routes.v[0] : ev->domain;
}

/* policy_address_hop - the host that presented the chain is an address (a
 * route given as an address): never compared with a DNS name or CN */
static int policy_address_hop(const mxtls_evidence *ev)
{
    return evidence_is_ip(evidence_host(ev));
}

static int policy_oom(mxtls_ctx *ctx, mxtls_result *r)
{
    err_set(&ctx->err, MXTLS_ERR_NOMEM, "evaluate", "out of memory");
    mxtls_result_free(r);
    return -1;
}

/* policy_snapshot - copy the evidence into the result so reports stand alone */
static mxtls_status policy_snapshot(mxtls_result *r, const mxtls_evidence *ev)
{
    if (!(r->domain = strdup(ev->domain)) || !(r->host = strdup(evidence_host(ev))))
        return MXTLS_ERR_NOMEM;
    if (strlist_copy(&r->mx, &ev->mx) || strlist_copy(&r->ptr, &ev->ptr) ||
        strlist_copy(&r->routes, &ev->routes))
        return MXTLS_ERR_NOMEM;
    r->mx_secure = ev->mx_secure;
    r->no_tls = ev->no_tls || ev->tls_failed;
    if (ev->tls_failed && !(r->tls_failed = strdup(ev->tls_failed)))
        return MXTLS_ERR_NOMEM;
    r->revocation = ev->revocation;
    if (ev->revocation_detail && !(r->revocation_detail = strdup(ev->revocation_detail)))
        return MXTLS_ERR_NOMEM;
    r->tlsa_state = ev->tlsa_state;
    if (ev->tlsa_state != MXTLS_TLSA_NOT_LOOKED_UP &&
        !(r->tlsa_base = strdup(ev->tlsa_base ? ev->tlsa_base : evidence_host(ev))))
        return MXTLS_ERR_NOMEM;
    for (size_t i = 0; i < ev->ntlsa; i++) {
        char *t = dane_rr_text(&ev->tlsa[i]);
        const char *why = dane_rr_unusable_why(&ev->tlsa[i]);
        mxtls_status st = t ? strlist_add(&r->tlsa, t) : MXTLS_ERR_NOMEM;
        free(t);
        if (st != MXTLS_OK || strlist_add(&r->tlsa_unusable, why ? why : "") != MXTLS_OK)
            return MXTLS_ERR_NOMEM;
    }
    if (ev->ip && !(r->ip = strdup(ev->ip)))
        return MXTLS_ERR_NOMEM;
    if (ev->ptr.n) {
        if (!(r->ptr_confirmed = xmemdup(ev->ptr_confirmed, ev->ptr.n)))
            return MXTLS_ERR_NOMEM;
    }
    if (!ev->chain)
        return MXTLS_OK;
    /* The same chain's texts serve every level and, in a survey, every
     * domain behind the same MX: they are made once (core/chainmemo.c). */
    return chainmemo_report(ev->chain, ev->fp_digest ? ev->fp_digest : "sha256", r);
}

/* policy_match_one - compare one reference with the leaf, recording the match */
static int policy_match_one(mxtls_result *r, X509 *leaf, const char *name, enum match_kind k)
{
    char *matched = NULL;
    int hit = 0;
    switch (k) {
    case MATCH_DNS: hit = names_match_san(leaf, name, &matched); break;
    case MATCH_CN: hit = names_match_cn(leaf, name, &matched); break;
    case MATCH_IP: hit = names_match_ip(leaf, name, &matched); break;
    case MATCH_DNS_OR_CN: hit = names_match_default(leaf, name, &matched); break;
    }
    if (hit < 0) {
        r->nomem = 1; /* OpenSSL could not compare (out of memory) */
        return 0;
    }
    if (hit && !r->matched_ref) {
        r->matched_ref = strdup(name);
        r->matched_pres = matched;
        matched = NULL;
        if (!r->matched_ref || !r->matched_pres)
            r->nomem = 1;
    }
    free(matched);
    return hit;
}

/* policy_add_ref - add a reference identity and try it if nothing matched yet */
static int policy_add_ref(mxtls_result *r, X509 *leaf, const char *name, enum match_kind k,
                          const char *source, int *matched)
{
    if (result_ref(r, name, match_against[k], source) != MXTLS_OK)
        return -1;
    /* A DNS name or CN that spells an address is no proof of identity: an
     * address is compared only with iPAddress SANs, where a level does so
     * (docs/policies.md, "SMTP routes"). */
    if (!*matched && leaf && (k == MATCH_IP || !evidence_is_ip(name[0] == '.' ? name + 1 : name)))
        *matched = policy_match_one(r, leaf, name, k);
    return 0;
}

/* policy_postfix_kind - how Postfix compares a reference: an address (a next
 * hop given as an address) goes to SSL_add1_host(), which OpenSSL 3 turns
 * into an iPAddress check; a name is a DNS name (CN without DNS SANs) */
static enum match_kind policy_postfix_kind(const char *name)
{
    return evidence_is_ip(name) ? MATCH_IP : MATCH_DNS_OR_CN;
}

/* policy_refs_postfix - reference identities of verify/secure (Postfix match=) */
static int policy_refs_postfix(mxtls_ctx *ctx, mxtls_result *r, const mxtls_evidence *ev,
                               X509 *leaf, int *matched)
{
    strlist items = {0};
    const char *defaults = r->level == MXTLS_LEVEL_VERIFY ? "hostname" : "nexthop:dot-nexthop";
    const char *list = ev->match_raw ? ev->match_raw : defaults;
    mxtls_evidence tmp = {.match_raw = (char *)list};
    if (evidence_match_split(&tmp, 0, &items) != MXTLS_OK)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < items.n; i++) {
        const char *it = items.v[i];
        if (strcasecmp(it, "hostname") == 0) {
            rc = policy_add_ref(r, leaf, evidence_host(ev), policy_postfix_kind(evidence_host(ev)),
                                "hostname", matched);
        } else if (strcasecmp(it, "nexthop") == 0) {
            rc = policy_add_ref(r, leaf, policy_nexthop(ev), policy_postfix_kind(policy_nexthop(ev)),
                                "nexthop", matched);
        } else if (strcasecmp(it, "dot-nexthop") == 0) {
            char buf[MXTLS_MAX_NAME + 2];
            snprintf(buf, sizeof buf, ".%s", policy_nexthop(ev));
            rc = policy_add_ref(r, leaf, buf, MATCH_DNS_OR_CN, "dot-nexthop", matched);
        } else {
            char *n = names_normalize(it, 1, &ctx->err);
            if (!n && ctx->err.code == MXTLS_ERR_NOMEM) {
                rc = -1;
                break;
            }
            if (!n) {
                char msg[MXTLS_ERR_MESSAGE_MAX];
                snprintf(msg, sizeof msg, "%s", ctx->err.message);
                err_set(&ctx->err, MXTLS_ERR_INVALID, "match", "match item \"%.64s\": %s", it,
                        msg);
                rc = -2;
                break;
            }
            rc = policy_add_ref(r, leaf, n, policy_postfix_kind(n), "match", matched);
            free(n);
        }
    }
    strlist_free(&items);
    return rc;
}

/* policy_refs_esa - Cisco ESA "Verify" modes (AsyncOS TLS verification process):
 * dNSNames against the recipient domain; the CN against the recipient domain,
 * then against the forward-confirmed PTR name of the connected IP. */
static int policy_refs_esa(mxtls_result *r, const mxtls_evidence *ev, X509 *leaf, int *matched)
{
    if (policy_add_ref(r, leaf, ev->domain, MATCH_DNS, "domain", matched) ||
        policy_add_ref(r, leaf, ev->domain, MATCH_CN, "domain", matched))
        return -1;
    for (size_t i = 0; i < ev->ptr.n; i++)
        if (ev->ptr_confirmed[i] &&
            policy_add_ref(r, leaf, ev->ptr.v[i], MATCH_CN, "ptr", matched))
            return -1;
    return 0;
}

/* policy_connected_route - the FQDN route the chain came from: the host that
 * presented it when that is a route, else the first route given as a name;
 * NULL when an address route presented it, every route is an address, or
 * there is none */
static const char *policy_connected_route(const mxtls_evidence *ev)
{
    if (ev->host && evidence_is_ip(ev->host))
        return NULL; /* an address route was connected */
    for (size_t i = 0; ev->host && i < ev->routes.n; i++)
        if (!strcasecmp(ev->routes.v[i], ev->host) && !evidence_is_ip(ev->routes.v[i]))
            return ev->routes.v[i];
    for (size_t i = 0; i < ev->routes.n; i++)
        if (!evidence_is_ip(ev->routes.v[i]))
            return ev->routes.v[i];
    return NULL;
}

/* policy_refs_esa_hosted - ESA "Required - Verify Hosted Domains": dNSNames
 * (CN only without dNSNames) against the recipient domain and then, per the
 * Cisco note on explicitly configured SMTP routes: the FQDN route through
 * which the connection was made (the MX hostname is then not considered);
 * with routes given only as addresses, the MX hostnames (the address is used
 * to connect, never compared); without routes, the MX hostname that was
 * connected. DNSSEC is not required. */
static int policy_refs_esa_hosted(mxtls_result *r, const mxtls_evidence *ev, X509 *leaf,
                                  int *matched)
{
    if (policy_add_ref(r, leaf, ev->domain, MATCH_DNS_OR_CN, "domain", matched))
        return -1;
    const char *route = policy_connected_route(ev);
    if (route)
        return policy_add_ref(r, leaf, route, MATCH_DNS_OR_CN, "route", matched);
    size_t nmx = ev->routes.n ? ev->mx.n : ev->mx.n ? 1 : 0;
    for (size_t i = 0; i < nmx; i++)
        if (policy_add_ref(r, leaf, ev->mx.v[i], MATCH_DNS_OR_CN, "mx", matched))
            return -1;
    return 0;
}

/* policy_list_presented_ip - "a, b, CN=c" for messages (with_ip: ", IP:d" too) */
static void policy_list_presented_ip(const mxtls_result *r, char *buf, size_t n, int with_ip)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->presented.dns.n && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "", r->presented.dns.v[i]);
    for (size_t i = 0; i < r->presented.cn.n && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%sCN=%s", o ? ", " : "", r->presented.cn.v[i]);
    for (size_t i = 0; with_ip && i < r->presented.ip.n && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%sIP:%s", o ? ", " : "", r->presented.ip.v[i]);
    if (o == 0)
        snprintf(buf, n, "no names at all");
}

static void policy_list_presented(const mxtls_result *r, char *buf, size_t n)
{
    policy_list_presented_ip(r, buf, n, 0);
}

/* policy_wildcard_advice - a one-label wildcard that does not cover a deeper name */
static void policy_wildcard_advice(mxtls_result *r, const char *host)
{
    for (size_t i = 0; i < r->presented.dns.n; i++) {
        const char *w = r->presented.dns.v[i];
        if (strncmp(w, "*.", 2) != 0)
            continue;
        size_t wl = strlen(w + 1), hl = strlen(host);
        if (hl > wl && strcasecmp(host + hl - wl, w + 1) == 0 &&
            memchr(host, '.', hl - wl) != NULL)
            result_advice(r,
                          "The wildcard %s covers exactly one label, so it does not cover %s: "
                          "add %s itself (or *.%s) to the certificate.",
                          w, host, host, strchr(host, '.') + 1);
    }
}

/* policy_under - name is strictly below parent (a label or more) */
static int policy_under(const char *name, const char *parent)
{
    size_t nl = strlen(name), pl = strlen(parent);
    return nl > pl + 1 && name[nl - pl - 1] == '.' && strcasecmp(name + nl - pl, parent) == 0;
}

/* policy_name_advice - which names the certificate must carry for this level */
static void policy_name_advice(mxtls_result *r, const mxtls_evidence *ev)
{
    char have[1024], have_ip[1024];
    policy_list_presented(r, have, sizeof have);
    policy_list_presented_ip(r, have_ip, sizeof have_ip, 1);
    const char *host = evidence_host(ev);
    switch (r->level) {
    case MXTLS_LEVEL_VERIFY:
        if (ev->match_raw)
            break;
        if (policy_address_hop(ev)) {
            result_advice(r,
                          "The next hop is the address %s: a Postfix sender at level verify "
                          "looks for it among the certificate's iPAddress subjectAltNames "
                          "(OpenSSL 3), never in a DNS name or CN that spells it (it carries: "
                          "%s). Route to a host name ([%s%s]) that the certificate carries as "
                          "a DNS subjectAltName, or give the sender a match= list of names.",
                          host, have_ip, ev->mx.n ? "" : "mx.",
                          ev->mx.n ? ev->mx.v[0] : ev->domain);
            break;
        }
        result_advice(r,
                      "The certificate must carry the MX hostname %s as a DNS "
                      "subjectAltName (it carries: %s). The HELO/EHLO name does not "
                      "matter for verification.",
                      host, have);
        policy_wildcard_advice(r, host);
        break;
    case MXTLS_LEVEL_SECURE: {
        if (ev->match_raw)
            break;
        const char *nh = policy_nexthop(ev);
        if (evidence_is_ip(nh)) {
            result_advice(r,
                          "The next hop is the address %s: a Postfix sender at level secure "
                          "looks for it among the certificate's iPAddress subjectAltNames "
                          "(OpenSSL 3), never in a DNS name or CN that spells it (it carries: "
                          "%s). Route to a host name ([%s%s]) that the certificate carries as "
                          "a DNS subjectAltName, or give the sender a match= list of names.",
                          nh, have_ip, ev->mx.n ? "" : "mx.",
                          ev->mx.n ? ev->mx.v[0] : ev->domain);
        } else if (policy_under(host, nh)) {
            result_advice(r,
                          "For senders at level secure the certificate must carry %s or a "
                          "name under it (for example %s) as a DNS subjectAltName (it "
                          "carries: %s).",
                          nh, host, have);
            policy_wildcard_advice(r, host);
        } else if (strcasecmp(host, nh) != 0 && !policy_address_hop(ev)) {
            /* The MX host is elsewhere: naming it does not help. */
            result_advice(r,
                          "For senders at level secure the certificate must carry %s or a "
                          "name under it (such as mx.%s) as a DNS subjectAltName (it carries: "
                          "%s). The MX hostname %s is not under %s, so naming it does not "
                          "satisfy secure.",
                          nh, nh, have, host, nh);
        } else {
            result_advice(r,
                          "For senders at level secure the certificate must carry %s or a "
                          "name under it as a DNS subjectAltName (it carries: %s).",
                          nh, have);
        }
        break;
    }
    case MXTLS_LEVEL_ESA_PREFERRED_VERIFY:
    case MXTLS_LEVEL_ESA_REQUIRED_VERIFY:
        result_advice(r,
                      "Cisco ESA senders in Verify modes need the recipient domain %s as a "
                      "dNSName or CN, or a CN equal to the forward-confirmed PTR name of the "
                      "server's address (it carries: %s).",
                      ev->domain, have);
        for (size_t i = 0; i < ev->ptr.n; i++) {
            X509 *leaf = sk_X509_value(ev->chain, 0);
            if (!ev->ptr_confirmed[i] && names_match_cn(leaf, ev->ptr.v[i], NULL) > 0)
                result_advice(r,
                              "The CN matches the PTR name %s, but that name does not resolve "
                              "back to %s: fix its A/AAAA record so the PTR is "
                              "forward-confirmed.",
                              ev->ptr.v[i], ev->ip ? ev->ip : "the address");
        }
        break;
    case MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED: {
        const char *route = policy_connected_route(ev);
        if (route) {
            result_advice(r,
                          "Cisco ESA senders in Verify Hosted Domains mode with an SMTP route "
                          "need the recipient domain %s or the route's host name %s as a "
                          "dNSName (it carries: %s).",
                          ev->domain, route, have);
            policy_wildcard_advice(r, route);
        } else if (ev->routes.n) {
            /* Routes given as addresses only: the address is not a name. */
            char mx[768] = "";
            size_t o = 0;
            for (size_t i = 0; i < ev->mx.n && o < sizeof mx; i++)
                o += (size_t)snprintf(mx + o, sizeof mx - o, "%s%s", i ? ", " : "",
                                      ev->mx.v[i]);
            result_advice(r,
                          "Cisco ESA senders in Verify Hosted Domains mode with an SMTP route "
                          "given as an address (%s) compare the certificate with the recipient "
                          "domain %s%s%s, never with the address: the certificate needs %s as "
                          "a dNSName (it carries: %s).",
                          policy_address_hop(ev) ? evidence_host(ev) : ev->routes.v[0],
                          ev->domain,
                          ev->mx.n > 1 ? " and the MX hostnames " : ev->mx.n ? " and the MX hostname " : "",
                          mx, ev->mx.n ? "one of these names" : "that name", have);
        } else {
            result_advice(r,
                          "Cisco ESA senders in Verify Hosted Domains mode need the recipient "
                          "domain %s or the MX hostname %s as a dNSName (it carries: %s).",
                          ev->domain, host, have);
            policy_wildcard_advice(r, host);
        }
        break;
    }
    case MXTLS_LEVEL_NONE:
    case MXTLS_LEVEL_MAY:
    case MXTLS_LEVEL_ENCRYPT:
    case MXTLS_LEVEL_FINGERPRINT:
    case MXTLS_LEVEL_DANE:
    case MXTLS_LEVEL_DANE_ONLY:
    case MXTLS_LEVEL_ESA_PREFERRED:
    case MXTLS_LEVEL_ESA_REQUIRED:
    case MXTLS_LEVEL_MTA_STS:
    case MXTLS_LEVEL_REQUIRETLS:
    case MXTLS_LEVEL_INVALID:
        break; /* these levels compare no names, or give their own advice */
    }
}

/* policy_dane_authenticates - would a DANE sender authenticate this chain?
 * (the preconditions of policy_dane and a matching usable record) */
static int policy_dane_authenticates(mxtls_result *r, const mxtls_evidence *ev, time_t at)
{
    if ((ev->mx.n && !ev->mx_secure && !policy_address_hop(ev)) ||
        ev->tlsa_state != MXTLS_TLSA_SECURE || !ev->ntlsa ||
        !ev->chain)
        return 0;
    const char *host = evidence_host(ev);
    const char *base = ev->tlsa_base ? ev->tlsa_base : host;
    const char *names[1] = {host};
    dane_result dr;
    err_rec e;
    err_clear(&e);
    if (dane_verify(ev->chain, ev->tlsa, ev->ntlsa, base, names, strcasecmp(host, base) != 0, at,
                    &dr, &e) != 0) {
        if (e.code == MXTLS_ERR_NOMEM)
            r->nomem = 1;
        return 0;
    }
    return dr.authenticated;
}

/* policy_pkix_advice - what the operator should change for a PKIX failure */
static void policy_pkix_advice(mxtls_result *r, const char *code, int dane_authenticates)
{
    if (!code)
        return;
    /* The certificate at fault need not be the leaf, and may come from the
     * trust store rather than the chain the server sent. */
    int bad = r->pkix_bad_subject && r->pkix_bad_presented;
    int time_code = !strcmp(code, "expired") || !strcmp(code, "not-yet-valid");
    if (!strcmp(code, "missing-intermediate"))
        result_advice(r, "Configure the server to send its intermediate certificate(s) after "
                         "its own certificate (Postfix: the full chain in smtpd_tls_chain_files "
                         "or smtpd_tls_cert_file).");
    else if (time_code && !bad)
        result_advice(r, "The chain leads to a CA certificate that is %s at the validation "
                         "time: check the chain and the clocks involved.",
                      code[0] == 'e' ? "no longer valid" : "not yet valid");
    else if (time_code && r->pkix_depth > 0)
        result_advice(r, "The chain certificate %s is valid from %s to %s: send its current "
                         "version.",
                      r->pkix_bad_subject, r->pkix_bad_not_before, r->pkix_bad_not_after);
    else if (!strcmp(code, "expired"))
        result_advice(r, "Renew the certificate: it expired on %s.", r->pkix_bad_not_after);
    else if (!strcmp(code, "not-yet-valid"))
        result_advice(r, "The certificate is valid only from %s: check the issuing process "
                         "and the clocks involved.",
                      r->pkix_bad_not_before);
    else if (!strcmp(code, "self-signed") && dane_authenticates)
        result_advice(r, "The certificate is self-signed: DANE senders authenticate it through "
                         "the published TLSA records, but senders that verify against CAs "
                         "(verify, secure, the Cisco Verify modes) cannot; use a CA-issued "
                         "certificate if they matter.");
    else if (!strcmp(code, "self-signed"))
        result_advice(r, "Use a certificate from a CA that senders trust, or publish DANE "
                         "TLSA records (e.g. \"3 1 1\") in a DNSSEC-signed zone so that DANE "
                         "senders can authenticate this certificate.");
    else if (!strcmp(code, "unknown-issuer") || !strcmp(code, "untrusted-root"))
        result_advice(r, "The chain does not lead to a CA in the sender's trust store: use a "
                         "publicly trusted CA and send the complete chain.");
    else if (!strcmp(code, "bad-extension"))
        result_advice(r, "Reissue the certificate: one of its extensions is not valid DER "
                         "(check the subjectAltName names with \"openssl x509 -text\").");
    else if (!strcmp(code, "wrong-purpose"))
        result_advice(r, "The certificate's extendedKeyUsage must include serverAuth.");
    else if (!strcmp(code, "revoked"))
        result_advice(r, "The certificate has been revoked: install a new one.");
}

/* policy_fp_digest_advice - configured fingerprints that cannot be digests
 * of the selected algorithm (smtp_tls_fingerprint_digest): which digest each
 * looks like, and whether it is that digest of this very certificate */
static void policy_fp_digest_advice(mxtls_result *r, const mxtls_evidence *ev,
                                    const strlist *fps)
{
    X509 *leaf = sk_X509_value(ev->chain, 0);
    for (size_t i = 0; i < fps->n && i < 8; i++) {
        char buf[1024];
        size_t bytes;
        if (!fp_wrong_digest_advice(fps->v[i], r->fp_digest, buf, sizeof buf))
            continue;
        const char *guess = fp_guess_digest(fps->v[i], &bytes);
        int which = -1;
        for (int pub = 0; guess && which < 0 && pub < 2; pub++) {
            char *d = fp_digest_cert(leaf, guess, pub);
            if (!d)
                r->nomem = 1;
            if (d && fp_equal(d, fps->v[i]))
                which = pub;
            free(d);
        }
        if (which >= 0)
            result_advice(r,
                          "The fingerprint %.200s is the %s digest of the server's %s, but the "
                          "sender computes %s digests (Postfix smtp_tls_fingerprint_digest = "
                          "%s): configure its %s digest %s instead, or set the digest to %s.",
                          fps->v[i], fp_digest_label(guess),
                          which ? "public key" : "certificate", fp_digest_label(r->fp_digest),
                          r->fp_digest, fp_digest_label(r->fp_digest),
                          which ? r->fp_pubkey : r->fp_cert, guess);
        else
            result_advice(r, "%s", buf);
    }
}

/* policy_general_findings - warnings that do not depend on the level */
static void policy_general_findings(mxtls_result *r, const mxtls_evidence *ev, time_t at)
{
    if (!ev->chain)
        return;
    X509 *leaf = sk_X509_value(ev->chain, 0);
    int has_dns = names_has_dns_san(leaf);
    if (has_dns < 0)
        r->nomem = 1;
    if (has_dns == 0) {
        result_reason(r, "warning", "cn-only", NULL,
                      "the certificate has no DNS subjectAltName; only clients that fall back "
                      "to the subject CN can match it");
        result_advice(r, "Put the server's names in the subjectAltName extension: RFC 6125 "
                         "clients ignore the CN when SANs exist, and newer ones ignore it "
                         "entirely.");
    }
    time_t now = at ? at : time(NULL);
    time_t soon = now + (time_t)POLICY_EXPIRY_WARN_DAYS * 86400;
    const ASN1_TIME *na = X509_get0_notAfter(leaf);
    if (X509_cmp_time(na, &now) > 0 && X509_cmp_time(na, &soon) < 0) {
        result_reason(r, "warning", "expires-soon", NULL,
                      "the certificate expires on %s, within %d days",
                      r->chain[0].not_after, POLICY_EXPIRY_WARN_DAYS);
        result_advice(r, "Renew the certificate before %s.", r->chain[0].not_after);
    }
}

/* policy_checks_revocation - whether the sender modelled at this level
 * refuses a revoked certificate: the level's sender by default
 * (core/level.h), or any sender when --revocation soft|hard asks */
static int policy_checks_revocation(const mxtls_ctx *ctx, mxtls_level level)
{
    const level_traits *t = level_traits_of(level);
    switch (ctx->revocation) {
    case MXTLS_REVOCATION_OFF: return 0;
    case MXTLS_REVOCATION_REPORT: return t && t->checks_revocation;
    case MXTLS_REVOCATION_SOFT:
    case MXTLS_REVOCATION_HARD: return 1;
    }
    return 0;
}

/* policy_evaluate_names - PKIX plus reference identities; sets verdict fields */
static int policy_authenticate(mxtls_ctx *ctx, mxtls_result *r, const mxtls_evidence *ev,
                               time_t at, int *verified)
{
    X509 *leaf = sk_X509_value(ev->chain, 0);
    pkix_result pk;
    if (pkix_validate(ctx, ev->chain, at, &pk) != MXTLS_OK)
        return -2;
    r->pkix_checked = 1;
    r->pkix_valid = pk.valid;
    r->pkix_depth = pk.depth;
    r->pkix_message = strdup(pk.message);
    if (!r->pkix_message || (pk.code && !(r->pkix_code = strdup(pk.code))))
        return -1;
    if (!pk.valid && pk.bad_subject[0]) {
        r->pkix_bad_subject = strdup(pk.bad_subject);
        r->pkix_bad_not_before = strdup(pk.bad_not_before);
        r->pkix_bad_not_after = strdup(pk.bad_not_after);
        r->pkix_bad_presented = pk.bad_presented;
        if (!r->pkix_bad_subject || !r->pkix_bad_not_before || !r->pkix_bad_not_after)
            return -1;
    }

    /* Revocation only matters for a chain that is otherwise valid (and is
     * reported, not decisive, when the chain fails anyway), and only to a
     * sender that checks it: none of the modelled senders does by default,
     * so it decides only when asked to model one (soft, hard). */
    if (pk.valid && policy_checks_revocation(ctx, r->level) &&
        ev->revocation == MXTLS_REVOCATION_REVOKED) {
        pk.valid = 0;
        r->pkix_valid = 0;
        r->pkix_depth = 0;
        free(r->pkix_code);
        free(r->pkix_message);
        r->pkix_code = strdup("revoked");
        char msg[1024];
        snprintf(msg, sizeof msg, "the server certificate has been revoked%s%s",
                 ev->revocation_detail ? ": " : "",
                 ev->revocation_detail ? ev->revocation_detail : "");
        r->pkix_message = strdup(msg);
        if (!r->pkix_code || !r->pkix_message)
            return -1;
    }

    int matched = 0, rc = 0;
    switch (policy_traits(r->level)->refs) {
    case LEVEL_REFS_POSTFIX: rc = policy_refs_postfix(ctx, r, ev, leaf, &matched); break;
    case LEVEL_REFS_ESA_HOSTED: rc = policy_refs_esa_hosted(r, ev, leaf, &matched); break;
    case LEVEL_REFS_ESA: rc = policy_refs_esa(r, ev, leaf, &matched); break;
    case LEVEL_REFS_NONE: break; /* a level that compares no names matches none */
    }
    if (rc != 0)
        return rc;
    *verified = pk.valid && matched;
    return pk.valid | (matched << 1);
}

/* policy_unauthenticated - the may (mandatory 0) or encrypt (mandatory 1)
 * outcome, for DANE levels that fall back to them */
static void policy_unauthenticated(mxtls_result *r, const mxtls_evidence *ev, int mandatory,
                                   const char *lname)
{
    if (ev->no_tls || ev->tls_failed) {
        const char *code = ev->no_tls ? "no-starttls" : "tls-failed";
        /* With implicit TLS (port 465) there is no plaintext to fall back to. */
        if (mandatory || (ev->tls_failed && ev->implicit_tls)) {
            r->verdict = MXTLS_VERDICT_FAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", code, ev->no_tls ? STATUS_TLS_NOT_OFFERED : STATUS_CERT_FAIL,
                          "level %s %s, but %s", lname,
                          mandatory ? "requires TLS here (secure TLSA records exist)"
                                    : "has no plaintext to fall back to with implicit TLS",
                          ev->no_tls ? "the server does not offer STARTTLS"
                                     : ev->tls_failed);
        } else {
            r->verdict = MXTLS_VERDICT_PASS;
            r->security = MXTLS_SECURITY_PLAINTEXT;
            result_reason(r, "decisive", code, NULL, "%s; level %s delivers in plaintext",
                          ev->no_tls ? "the server does not offer STARTTLS" : ev->tls_failed,
                          lname);
        }
        return;
    }
    r->verdict = MXTLS_VERDICT_PASS;
    r->security = MXTLS_SECURITY_ENCRYPTED;
    result_reason(r, "decisive", "encrypted", NULL,
                  "TLS is established without authentication (level %s as %s)", lname,
                  mandatory ? "encrypt" : "may");
}

/* policy_dane - levels dane and dane-only (RFC 7672; Postfix dane_init):
 * DANE applies to a host only when the MX RRset is DNSSEC-secure and a
 * DNSSEC-secure TLSA RRset exists; then authentication is mandatory. A failed
 * TLSA lookup defers (never a downgrade). Where DANE does not apply, "dane"
 * is opportunistic TLS and "dane-only" refuses. */
static int policy_dane(mxtls_ctx *ctx, mxtls_result *r, const mxtls_evidence *ev,
                       const char *lname)
{
    int only = r->level == MXTLS_LEVEL_DANE_ONLY;
    const char *host = evidence_host(ev);
    const char *base = ev->tlsa_base ? ev->tlsa_base : host;
    const char *na_code = NULL;
    char na[768];
    if (ev->mx.n && !ev->mx_secure && !policy_address_hop(ev)) {
        na_code = "mx-insecure";
        snprintf(na, sizeof na,
                 "the MX RRset is not DNSSEC-validated, so DANE does not apply "
                 "(RFC 7672 §2.2.1)");
    } else {
        switch (ev->tlsa_state) {
        case MXTLS_TLSA_BOGUS:
        case MXTLS_TLSA_ERROR:
            r->verdict = MXTLS_VERDICT_TEMPFAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", "tlsa-lookup-error", STATUS_CERT_FAIL,
                          "the TLSA lookup for %s %s%s%s: the sender defers rather than "
                          "deliver without DANE (RFC 7672 §2.2)",
                          base, ev->tlsa_state == MXTLS_TLSA_BOGUS ? "is bogus" : "failed",
                          ev->tlsa_why ? ": " : "", ev->tlsa_why ? ev->tlsa_why : "");
            return 0;
        case MXTLS_TLSA_NOT_LOOKED_UP:
            na_code = "dane-not-applicable";
            snprintf(na, sizeof na, "no TLSA lookup for %s%s%s", base, ev->tlsa_why ? ": " : "",
                     ev->tlsa_why ? ev->tlsa_why : "");
            break;
        case MXTLS_TLSA_NONE:
            na_code = "no-tlsa";
            snprintf(na, sizeof na, "%s has no TLSA records (securely denied)", base);
            break;
        case MXTLS_TLSA_INSECURE:
            na_code = "tlsa-insecure";
            snprintf(na, sizeof na,
                     "the TLSA records of %s are not DNSSEC-secure and are ignored", base);
            break;
        case MXTLS_TLSA_SECURE:
            break;
        }
    }
    if (na_code) {
        if (only) {
            r->verdict = MXTLS_VERDICT_FAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", na_code, STATUS_CERT_FAIL,
                          "%s; level dane-only does not deliver without DANE", na);
        } else {
            policy_unauthenticated(r, ev, 0, lname);
            result_reason(r, "info", na_code, NULL, "%s; level dane falls back to may", na);
        }
        return 0;
    }

    dane_result dr;
    const char *names[2] = {host, NULL};
    size_t nnames = 0;
    if (strcasecmp(host, base) != 0)
        nnames = 1; /* RFC 7672 §3.2.3: the original MX name too, when CNAME-expanded */
    if (!ev->no_tls && !ev->tls_failed && ev->chain) {
        if (dane_verify(ev->chain, ev->tlsa, ev->ntlsa, base, names, nnames, ctx->at, &dr,
                        &ctx->err) != 0)
            return -1;
    } else {
        memset(&dr, 0, sizeof dr);
        for (size_t i = 0; i < ev->ntlsa; i++)
            dr.usable += !dane_rr_unusable_why(&ev->tlsa[i]);
    }
    if (dr.usable == 0) {
        /* RFC 7672 §2.2: secure but unusable TLSA records: TLS is mandatory
         * but cannot be authenticated (Postfix: "encrypt"). */
        if (only) {
            r->verdict = MXTLS_VERDICT_FAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", "tlsa-unusable", STATUS_CERT_FAIL,
                          "%s publishes secure TLSA records, none usable for SMTP; level "
                          "dane-only cannot authenticate the server",
                          base);
        } else {
            policy_unauthenticated(r, ev, 1, lname);
            result_reason(r, "info", "tlsa-unusable", NULL,
                          "%s publishes secure TLSA records, none usable for SMTP: TLS is "
                          "mandatory but unauthenticated (RFC 7672 §2.2)",
                          base);
        }
        result_advice(r, "Publish TLSA records SMTP senders can use: \"3 1 1\" (DANE-EE, "
                         "SHA-256 of the public key) or \"2 1 1\" (DANE-TA); usages 0 and 1 "
                         "are ignored by SMTP senders (RFC 7672 §3.1.3).");
        return 0;
    }
    if (ev->no_tls || ev->tls_failed) {
        policy_unauthenticated(r, ev, 1, lname);
        return 0;
    }
    r->dane_match_index = dr.match_index;
    r->dane_match_depth = dr.match_depth;
    if (dr.authenticated) {
        r->verdict = MXTLS_VERDICT_PASS;
        r->security = MXTLS_SECURITY_DANE;
        result_reason(r, "decisive", "dane-verified", NULL, "%s", dr.message);
    } else {
        r->verdict = MXTLS_VERDICT_FAIL;
        r->security = MXTLS_SECURITY_NONE;
        result_reason(r, "decisive", dr.code, STATUS_CERT_FAIL, "%s", dr.message);
        if (!strcmp(dr.code, "name-mismatch")) {
            /* The records are right: the certificate's names are not. */
            char have[1024], want[600];
            policy_list_presented(r, have, sizeof have);
            if (strcasecmp(host, base) != 0)
                snprintf(want, sizeof want, "the TLSA base domain %s or the MX hostname %s",
                         base, host);
            else
                snprintf(want, sizeof want, "the TLSA base domain %s (the MX hostname)", base);
            result_advice(r,
                          "The DANE-TA record of %s matches the server's chain, so the TLSA "
                          "records are right; but with DANE-TA senders also check the "
                          "certificate's names against %s, and the certificate carries %s. "
                          "Put %s in its subjectAltName, or publish a DANE-EE record (\"3 1 "
                          "1\"), which checks no names.",
                          base, want, have, base);
        } else if (!strcmp(dr.code, "expired") || !strcmp(dr.code, "not-yet-valid")) {
            result_advice(r,
                          "The DANE-TA record of %s matches the server's chain, but DANE-TA "
                          "senders also check validity periods and a certificate of the chain "
                          "is %s: %s it (the records can stay if the issuing CA stays).",
                          base, dr.code[0] == 'e' ? "expired" : "not yet valid",
                          dr.code[0] == 'e' ? "renew" : "check the dates of");
        } else {
            result_advice(r, "Make the TLSA records of %s match the certificate the server "
                             "presents (mxtls tlsa gen prints them), and publish the next key's "
                             "record before each certificate change.",
                          base);
        }
    }
    return 0;
}

/* policy_evaluate - mxtls_evaluate without the final out-of-memory check */
static mxtls_result *policy_evaluate(mxtls_ctx *ctx, const mxtls_evidence *ev,
                                     mxtls_level level)
{
    const char *lname = mxtls_level_name(level);
    if (!lname) {
        err_set(&ctx->err, MXTLS_ERR_INVALID, "level", "unknown level %d", (int)level);
        return NULL;
    }
    if (!ev->domain) {
        err_set(&ctx->err, MXTLS_ERR_INVALID, "evidence", "no recipient domain given");
        return NULL;
    }
    if (!ev->no_tls && !ev->tls_failed && !ev->chain && !ev->tls_anonymous) {
        err_set(&ctx->err, MXTLS_ERR_INVALID, "evidence",
                "no certificate chain given, and TLS is not marked as unavailable");
        return NULL;
    }
    if (policy_traits(level)->auth == LEVEL_AUTH_MTA_STS) /* core/mtasts_eval.h */
        return mtasts_evaluate(ctx, ev);
    if (policy_traits(level)->auth == LEVEL_AUTH_REQUIRETLS)
        return requiretls_evaluate(ctx, ev);
    mxtls_result *r = result_new(level);
    if (!r || policy_snapshot(r, ev) != MXTLS_OK) {
        policy_oom(ctx, r);
        return NULL;
    }

    /* An anonymous cipher suite (a policy entry's cipher grade at may or
     * encrypt, as Postfix offers them there): encrypted, and nothing to
     * authenticate, so every level that authenticates fails. */
    const level_traits *traits = policy_traits(level);
    if (ev->tls_anonymous && !ev->no_tls && !ev->tls_failed && traits->auth != LEVEL_AUTH_NONE) {
        if (traits->auth == LEVEL_AUTH_ENCRYPT_ONLY) {
            r->verdict = MXTLS_VERDICT_PASS;
            r->security = MXTLS_SECURITY_ENCRYPTED;
            result_reason(r, "decisive", "encrypted", NULL,
                          "TLS is established with an anonymous cipher suite (no certificate); "
                          "level %s does not authenticate the server",
                          lname);
        } else {
            r->verdict = MXTLS_VERDICT_FAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", "no-certificate",
                          policy_status(level, STATUS_CERT_FAIL),
                          "TLS is established with an anonymous cipher suite: the server sent "
                          "no certificate to authenticate at level %s",
                          lname);
        }
        return r;
    }

    /* DANE levels have their own preconditions (RFC 7672, Postfix dane_init). */
    if (traits->auth == LEVEL_AUTH_DANE) {
        if (policy_dane(ctx, r, ev, lname) != 0) {
            mxtls_result_free(r);
            return NULL;
        }
        return r;
    }

    /* 1. The level that never uses TLS. */
    if (traits->auth == LEVEL_AUTH_NONE && ev->implicit_tls) {
        r->verdict = MXTLS_VERDICT_FAIL;
        r->security = MXTLS_SECURITY_NONE;
        result_reason(r, "decisive", "implicit-tls", NULL,
                      "the server speaks only TLS (implicit TLS, RFC 8314), and a sender at "
                      "level none does not use TLS");
        return r;
    }
    if (traits->auth == LEVEL_AUTH_NONE) {
        r->verdict = MXTLS_VERDICT_PASS;
        r->security = MXTLS_SECURITY_PLAINTEXT;
        result_reason(r, "decisive", "tls-disabled", NULL,
                      "at level none the sender does not use TLS and delivers in plaintext");
        return r;
    }

    /* 2. No TLS: opportunistic levels deliver in plaintext, the others fail
     *    (Postfix: "4.7.4 TLS is required, but was not offered by host"). */
    if (ev->no_tls) {
        if (policy_requires_tls(level)) {
            r->verdict = MXTLS_VERDICT_FAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", "no-starttls",
                          policy_status(level, STATUS_TLS_NOT_OFFERED),
                          "TLS is required at level %s, but the server does not offer STARTTLS",
                          lname);
        } else {
            r->verdict = MXTLS_VERDICT_PASS;
            r->security = MXTLS_SECURITY_PLAINTEXT;
            result_reason(r, "decisive", "no-starttls", NULL,
                          "the server does not offer STARTTLS; level %s delivers in plaintext",
                          lname);
        }
        result_advice(r, "Offer STARTTLS (Postfix: smtpd_tls_security_level = may with a "
                         "certificate): senders that require TLS cannot deliver, and everyone "
                         "else sends in plaintext.");
        return r;
    }

    /* 3. STARTTLS offered, TLS failed. Postfix at "may" continues or retries
     *    in plaintext (smtp_proto.c, RETRY_AS_PLAINTEXT); Cisco's Preferred
     *    modes fall back only when the failure comes before the 220 reply to
     *    STARTTLS ("if an error occurs after the 220 response is received, the
     *    SMTP transaction does not fall back to clear text"). */
    if (ev->tls_failed) {
        const level_traits *lt = policy_traits(level);
        /* With implicit TLS (port 465) there is no plaintext to fall back to. */
        int plaintext = !ev->implicit_tls && lt->plaintext_fallback &&
                        (!lt->fallback_before_220_only || !ev->tls_failed_after_220);
        if (plaintext) {
            r->verdict = MXTLS_VERDICT_PASS;
            r->security = MXTLS_SECURITY_PLAINTEXT;
            result_reason(r, "decisive", "tls-failed", NULL,
                          "TLS failed (%s); level %s falls back to plaintext", ev->tls_failed,
                          lname);
        } else {
            r->verdict = MXTLS_VERDICT_FAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", "tls-failed",
                          policy_status(level, STATUS_CERT_FAIL),
                          "TLS failed (%s); level %s does not deliver without TLS",
                          ev->tls_failed, lname);
        }
        result_advice(r, "Fix the server's TLS: STARTTLS is offered but a TLS session cannot "
                         "be established (%s).",
                      ev->tls_failed);
        return r;
    }

    time_t at = ctx->at;
    int verified = 0, rc = 0;
    switch (traits->auth) {
    case LEVEL_AUTH_NONE:
    case LEVEL_AUTH_DANE:
    case LEVEL_AUTH_MTA_STS:
    case LEVEL_AUTH_REQUIRETLS:
        /* decided above */
        break;
    case LEVEL_AUTH_ENCRYPT_ONLY:
        /* Unauthenticated TLS: any certificate will do (RFC 3207 §4.1, Postfix
         * may/encrypt, ESA Preferred/Required). */
        r->verdict = MXTLS_VERDICT_PASS;
        r->security = MXTLS_SECURITY_ENCRYPTED;
        result_reason(r, "decisive", "encrypted", NULL,
                      "TLS is established; level %s does not authenticate the server", lname);
        break;

    case LEVEL_AUTH_FINGERPRINT: {
        strlist fps = {0};
        if (ev->match_raw && evidence_match_split(ev, 1, &fps) != MXTLS_OK) {
            policy_oom(ctx, r);
            return NULL;
        }
        const char *hit = NULL;
        for (size_t i = 0; !hit && i < fps.n; i++)
            if (fp_equal(fps.v[i], r->fp_cert) || fp_equal(fps.v[i], r->fp_pubkey))
                hit = fps.v[i];
        if (fps.n == 0) {
            /* Postfix treats this as an invalid policy and defers the mail. */
            r->verdict = MXTLS_VERDICT_TEMPFAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", "no-fingerprints", STATUS_CERT_FAIL,
                          "level fingerprint has no fingerprints to match (give them with "
                          "--match); a Postfix sender defers the mail");
        } else if (hit) {
            r->verdict = MXTLS_VERDICT_PASS;
            r->security = MXTLS_SECURITY_VERIFIED;
            r->matched_ref = strdup(hit);
            r->matched_pres = strdup(fp_equal(hit, r->fp_cert) ? r->fp_cert : r->fp_pubkey);
            if (!r->matched_ref || !r->matched_pres)
                r->nomem = 1;
            result_reason(r, "decisive", "fingerprint-match", NULL,
                          "the %s %s digest of the server certificate matches a configured "
                          "fingerprint",
                          fp_equal(hit, r->fp_cert) ? "certificate" : "public-key",
                          r->fp_digest);
        } else {
            r->verdict = MXTLS_VERDICT_FAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", "fingerprint-mismatch", STATUS_CERT_FAIL,
                          "neither the certificate %s digest %s nor the public-key digest %s "
                          "is among the %zu configured fingerprint(s)",
                          r->fp_digest, r->fp_cert, r->fp_pubkey, fps.n);
            policy_fp_digest_advice(r, ev, &fps);
        }
        strlist_free(&fps);
        break;
    }

    case LEVEL_AUTH_PKIX: { /* verify, secure and the ESA Verify modes */
        rc = policy_authenticate(ctx, r, ev, at, &verified);
        if (rc == -1 || rc == -2) {
            if (rc == -1)
                policy_oom(ctx, r);
            else
                mxtls_result_free(r);
            return NULL;
        }
        int pkix_ok = rc & 1, names_ok = (rc >> 1) & 1;
        int enforcing = traits->enforces_auth;
        /* Under hard checking, no check at all is no answer too. */
        int rev_missing = ev->revocation == MXTLS_REVOCATION_UNAVAILABLE ||
                          ev->revocation == MXTLS_REVOCATION_UNKNOWN ||
                          (ctx->revocation == MXTLS_REVOCATION_HARD &&
                           ev->revocation == MXTLS_REVOCATION_NOT_CHECKED);
        if (verified && rev_missing && ctx->revocation == MXTLS_REVOCATION_HARD && enforcing) {
            /* Hard revocation checking: no answer, no verdict. */
            r->verdict = MXTLS_VERDICT_TEMPFAIL;
            r->security = MXTLS_SECURITY_NONE;
            result_reason(r, "decisive", "revocation-unavailable", STATUS_CERT_FAIL,
                          "the revocation status of the certificate is %s (%s), and revocation "
                          "checking is hard",
                          mxtls_revocation_status_name(ev->revocation),
                          ev->revocation_detail ? ev->revocation_detail : "no details");
            break;
        }
        const char *kind = enforcing ? "decisive" : "info";
        if (verified) {
            r->verdict = MXTLS_VERDICT_PASS;
            r->security = MXTLS_SECURITY_VERIFIED;
            result_reason(r, "decisive", "verified", NULL,
                          "the chain is valid and the certificate name %s matches the "
                          "reference identity %s",
                          r->matched_pres, r->matched_ref);
        } else {
            if (enforcing) {
                r->verdict = MXTLS_VERDICT_FAIL;
                r->security = MXTLS_SECURITY_NONE;
            } else {
                /* ESA Preferred-Verify: TLS that fails verification still
                 * delivers, encrypted. */
                r->verdict = MXTLS_VERDICT_PASS;
                r->security = MXTLS_SECURITY_ENCRYPTED;
                result_reason(r, "decisive", "not-verified", NULL,
                              "TLS is established but the server is not verified; level %s "
                              "delivers encrypted anyway",
                              lname);
            }
            const char *st = policy_status(level, STATUS_CERT_FAIL);
            if (!pkix_ok) {
                result_reason(r, kind, r->pkix_code, st, "%s", r->pkix_message);
                policy_pkix_advice(r, r->pkix_code,
                                   !strcmp(r->pkix_code, "self-signed") &&
                                       policy_dane_authenticates(r, ev, ctx->at));
            }
            if (!names_ok) {
                char have[1024], want[1024];
                size_t o = 0;
                want[0] = '\0';
                for (size_t i = 0; i < r->nrefs && o < sizeof want; i++) {
                    int seen = 0; /* ESA lists a name once per kind of comparison */
                    for (size_t j = 0; j < i; j++)
                        seen |= strcmp(r->refs[j].name, r->refs[i].name) == 0;
                    if (!seen)
                        o += (size_t)snprintf(want + o, sizeof want - o, "%s%s", o ? ", " : "",
                                              r->refs[i].name);
                }
                policy_list_presented(r, have, sizeof have);
                result_reason(r, kind, "name-mismatch", st,
                              "no certificate name matches the reference identities (%s); "
                              "the certificate carries %s",
                              want, have);
                policy_name_advice(r, ev);
            }
        }
        /* A warning, so after the decisive reason (the first reason decides). */
        /* Preferred-Verify delivers anyway, so under hard checking too the
         * missing answer is only a warning there. */
        /* Revoked, and the sender does not check: its verdict stands, and
         * the finding is reported on its own line (docs/revocation.md). */
        if (verified && ev->revocation == MXTLS_REVOCATION_REVOKED &&
            ctx->revocation != MXTLS_REVOCATION_OFF) {
            const level_traits *t = level_traits_of(level);
            result_reason(r, "warning", "revoked", NULL,
                          "the server certificate has been revoked%s%s%s: %s delivers anyway; "
                          "senders that check revocation refuse it",
                          ev->revocation_detail ? " (" : "",
                          ev->revocation_detail ? ev->revocation_detail : "",
                          ev->revocation_detail ? ")" : "",
                          t ? level_sender_name(t->sender) : "this sender");
            result_advice(r, "The certificate has been revoked: install a new one.");
        }
        if (verified && rev_missing &&
            (ctx->revocation == MXTLS_REVOCATION_SOFT ||
             ctx->revocation == MXTLS_REVOCATION_REPORT ||
             (ctx->revocation == MXTLS_REVOCATION_HARD && !enforcing)))
            result_reason(r, "warning", "revocation-unavailable", NULL,
                          "the revocation status of the certificate is %s (%s)",
                          mxtls_revocation_status_name(ev->revocation),
                          ev->revocation_detail ? ev->revocation_detail : "no details");
        if (level == MXTLS_LEVEL_VERIFY && ev->mx.n && !ev->mx_secure && !ev->match_raw &&
            !policy_address_hop(ev))
            result_reason(r, "warning", "mx-insecure", NULL,
                          "the MX hostname %s comes from an MX lookup without DNSSEC: whoever "
                          "forges that answer chooses the name that is verified (senders "
                          "avoid this with secure, DANE or MTA-STS)",
                          ev->mx.v[0]);
        break;
    }
    }
    policy_general_findings(r, ev, at);
    return r;
}

/* policy_lost_session - codes of a session lost after the handshake, as
 * opposed to a refusal: Postfix's smtp_stream_except() (EOF or timeout) */
static int policy_lost_session(const char *code)
{
    return !strcmp(code, "connection-closed") || !strcmp(code, "timeout");
}

/* policy_after_tls - the SMTP dialogue failed after a completed handshake
 * (greeting or EHLO over TLS refused, lost, malformed, too long). What each
 * level does, from Postfix's smtp_proto.c and smtp_trouble.c:
 * - the certificate is judged right after the handshake, before EHLO
 *   (smtp_start_tls: TLS_MUST_MATCH), so a level that fails or defers on the
 *   TLS evidence does so here too; level none never sends STARTTLS and
 *   delivers in plaintext (with implicit TLS it cannot talk at all);
 * - a lost session (EOF, timeout: smtp_stream_except) at level may is retried
 *   in plaintext (PLAINTEXT_FALLBACK_OK_AFTER_TLS_SESSION_FAILURE,
 *   RETRY_AS_PLAINTEXT), as after a failed handshake; there is no plaintext
 *   with implicit TLS, and Cisco's Preferred modes do not fall back after the
 *   220 reply to STARTTLS;
 * - a refused greeting or EHLO/HELO (smtp_site_fail) is never retried in
 *   plaintext;
 * - everything else is a temporary failure with the dialogue's code (the
 *   sender defers), with the TLS evidence kept and the verdict the TLS
 *   evidence alone would give as an "info" reason. */
static mxtls_result *policy_after_tls(mxtls_ctx *ctx, const mxtls_evidence *ev,
                                      mxtls_level level, const char *code, const char *message)
{
    mxtls_result *r = mxtls_evaluate(ctx, ev, level);
    if (!r || r->verdict != MXTLS_VERDICT_PASS)
        return r;
    if (level == MXTLS_LEVEL_NONE) /* pass only without implicit TLS */
        return r;
    if (!ev->implicit_tls && policy_lost_session(code)) {
        char why[MXTLS_ERR_MESSAGE_MAX + 64];
        snprintf(why, sizeof why, "the TLS session was lost after the handshake: %s", message);
        mxtls_evidence lost = *ev; /* shallow: mxtls_evaluate only reads it */
        lost.tls_failed = why;
        lost.tls_failed_after_220 = 1;
        mxtls_result *fb = mxtls_evaluate(ctx, &lost, level);
        if (!fb) {
            mxtls_result_free(r);
            return NULL;
        }
        if (fb->verdict == MXTLS_VERDICT_PASS) {
            mxtls_result_free(r);
            return fb;
        }
        mxtls_result_free(fb);
    }
    /* The dialogue's failure decides; what TLS alone would have given
     * stays as context. */
    r->verdict = MXTLS_VERDICT_TEMPFAIL;
    r->security = MXTLS_SECURITY_NONE;
    if (result_reason(r, "decisive", code, NULL, "%s", message) != MXTLS_OK) {
        policy_oom(ctx, r);
        return NULL;
    }
    reason last = r->reasons[r->nreasons - 1];
    memmove(r->reasons + 1, r->reasons, (r->nreasons - 1) * sizeof *r->reasons);
    r->reasons[0] = last;
    for (size_t i = 1; i < r->nreasons; i++)
        if (!strcmp(r->reasons[i].kind, "decisive"))
            r->reasons[i].kind = "info";
    return r;
}

/* policy_unreachable - see result.h: without a TLS session, tempfail at every
 * level; after a completed handshake, policy_after_tls() */

mxtls_result *mxtls_evaluate(mxtls_ctx *ctx, const mxtls_evidence *ev, mxtls_level level)
{
    err_clear(&ctx->err);
    mxtls_result *r = policy_evaluate(ctx, ev, level);
    /* A result that lost a reason, a reference or advice to an allocation
     * failure is not returned: callers may rely on the decisive reason. */
    if (r && r->nomem) {
        policy_oom(ctx, r);
        return NULL;
    }
    if (r && r->nreasons == 0) {
        err_set(&ctx->err, MXTLS_ERR_INVALID, "evaluate",
                "internal error: level %s gave no reason", mxtls_level_name(level));
        mxtls_result_free(r);
        return NULL;
    }
    return r;
}

mxtls_result *policy_unreachable(mxtls_ctx *ctx, const mxtls_evidence *ev, mxtls_level level,
                                 const char *code, const char *message)
{
    if (!mxtls_level_name(level) || !ev->domain) {
        err_set(&ctx->err, MXTLS_ERR_INVALID, "evaluate", "bad level or evidence");
        return NULL;
    }
    if (ev->chain && !ev->no_tls && !ev->tls_failed)
        return policy_after_tls(ctx, ev, level, code, message);
    mxtls_result *r = result_new(level);
    if (!r || policy_snapshot(r, ev) != MXTLS_OK) {
        policy_oom(ctx, r);
        return NULL;
    }
    r->no_tls = 1;
    r->verdict = MXTLS_VERDICT_TEMPFAIL;
    r->security = MXTLS_SECURITY_NONE;
    if (result_reason(r, "decisive", code, NULL, "%s", message) != MXTLS_OK) {
        policy_oom(ctx, r);
        return NULL;
    }
    return r;
}
