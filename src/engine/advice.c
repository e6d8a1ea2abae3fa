/* advice.c - the operator's to-do list of a finished check (engine/advice.h)
 *
 * Pure: reads the report (hosts, addresses, their connections' probe
 * reports and per-level results); no I/O, no clock. */
#include "engine/advice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "core/dnssec_advice.h"
#include "core/names.h"
#include "core/result.h"
#include "core/tlsparams.h"

/* check_conn_advice - what one connection showed that no level decides on */
static mxtls_status check_conn_advice(check_report *rep, const check_host *h,
                                      const check_address *a, const check_conn *c)
{
    const probe_report *p = c->probe;
    int st = MXTLS_OK; /* the statuses or'ed: any failure is out of memory */
    if (!p)
        return MXTLS_OK;
    char buf[1024];
    if (p->smtp.injected_bytes) {
        snprintf(buf, sizeof buf,
                 "%s [%s] sent %zu bytes after its 220 reply to STARTTLS, before the "
                 "TLS handshake: this is the STARTTLS injection flaw class "
                 "(CVE-2011-0411); update the server software.",
                 h->name, a->ip, p->smtp.injected_bytes);
        st |= strlist_add_unique(&rep->advice, buf);
    }
    /* An old version that a policy entry asked for says nothing of the server. */
    if (p->tls_ok && p->tls.version && !c->hello.protocols &&
        (!strcmp(p->tls.version, "TLSv1") || !strcmp(p->tls.version, "TLSv1.1") ||
         !strcmp(p->tls.version, "SSLv3"))) {
        snprintf(buf, sizeof buf,
                 "%s [%s] negotiated %s: enable TLS 1.2 and 1.3; many senders refuse "
                 "older versions (RFC 8996).",
                 h->name, a->ip, p->tls.version);
        st |= strlist_add_unique(&rep->advice, buf);
    }
    /* RFC 7525 / RFC 9325: no NULL, export, RC4, 3DES or anonymous suites. */
    static const char *const weak[] = {"NULL", "EXP", "RC4", "DES-CBC3", "3DES",
                                       "ADH", "AECDH", "anon"};
    for (size_t w = 0; p->tls_ok && p->tls.cipher && !c->hello.ciphers && !c->hello.exclude &&
                       w < sizeof weak / sizeof weak[0];
         w++)
        if (strstr(p->tls.cipher, weak[w])) {
            snprintf(buf, sizeof buf,
                     "%s [%s] negotiated the weak cipher %s: remove it from the "
                     "server's cipher list (RFC 9325).",
                     h->name, a->ip, p->tls.cipher);
            st |= strlist_add_unique(&rep->advice, buf);
            break;
        }
    return st ? MXTLS_ERR_NOMEM : MXTLS_OK;
}

X509 *check_leaf(const check_conn *c)
{
    const probe_report *p = c->probe;
    if (!p || !p->tls_ok || !p->tls.chain || sk_X509_num(p->tls.chain) < 1)
        return NULL;
    return sk_X509_value(p->tls.chain, 0);
}

/* check_leaf_name - the first DNS name of a leaf (else its CN), printable */
static mxtls_status check_leaf_name(X509 *x, char *out, size_t cap)
{
    presented_ids ids;
    memset(&ids, 0, sizeof ids);
    snprintf(out, cap, "?");
    mxtls_status st = names_presented(x, &ids);
    if (st == MXTLS_OK) {
        /* already escaped for display */
        const char *n = ids.dns.n ? ids.dns.v[0] : ids.cn.n ? ids.cn.v[0] : NULL;
        if (n)
            snprintf(out, cap, "%.200s", n);
    }
    presented_ids_free(&ids);
    return st == MXTLS_ERR_NOMEM ? st : MXTLS_OK;
}

/* check_sni_advice - a server whose certificate depends on SNI (the shared
 * hosting case): senders without SNI see its default certificate */
static mxtls_status check_sni_advice(check_report *rep, const check_host *h,
                                     const check_address *a)
{
    const check_conn *none = NULL, *named = NULL;
    for (size_t i = 0; i < a->nconns; i++) {
        const check_conn *c = &a->conns[i];
        if (!check_leaf(c))
            continue;
        if (!c->hello.sni && !none)
            none = c;
        else if (c->hello.sni && !named && (!none || X509_cmp(check_leaf(c), check_leaf(none))))
            named = c;
    }
    if (!none || !named || X509_cmp(check_leaf(none), check_leaf(named)) == 0)
        return MXTLS_OK;
    char dflt[256], sni[256], buf[1400];
    if (check_leaf_name(check_leaf(none), dflt, sizeof dflt) != MXTLS_OK ||
        check_leaf_name(check_leaf(named), sni, sizeof sni) != MXTLS_OK)
        return MXTLS_ERR_NOMEM;
    snprintf(buf, sizeof buf,
             "%s [%s] presents a certificate for %s to clients that send no SNI and one for %s "
             "to clients that send SNI %s. Postfix (unless smtp_tls_servername is set) and "
             "Cisco ESA send no SNI, so they are shown the default certificate. Fix either "
             "side: make the server's default certificate carry the MX hostname %s (the "
             "receiving server), or set smtp_tls_servername = hostname on the sending Postfix "
             "(Postfix 3.4 and later).",
             h->name, a->ip, dflt, sni, named->hello.sni, h->name);
    return strlist_add_unique(&rep->advice, buf);
}

mxtls_status check_advice(check_report *rep)
{
    int st = MXTLS_OK; /* the statuses or'ed: any failure is out of memory */
    const mxtls_policy_entry *pe = rep->policy_entry;
    unsigned off, lo, hi;
    err_rec pe_err;
    err_clear(&pe_err);
    if (pe && pe->protocols && pe->level != MXTLS_LEVEL_NONE &&
        (tlsparams_protocols(pe->protocols, &off, &lo, &hi, &pe_err) != 0 ||
         !(tlsparams_enabled(off, lo, hi) & (TLSP_TLSv1_2 | TLSP_TLSv1_3)))) {
        char buf[700];
        snprintf(buf, sizeof buf,
                 "The policy map entry \"%.200s\" (line %zu) sets protocols=%.100s, which %s: "
                 "the sender's handshakes with this destination fail. TLS 1.0 and 1.1 are "
                 "obsolete (RFC 8996); remove protocols= from the entry or use "
                 "protocols=>=TLSv1.2.",
                 pe->key, pe->line, pe->protocols,
                 pe_err.message[0] ? "Postfix cannot parse" : "leaves neither TLS 1.2 nor TLS 1.3");
        st |= strlist_add_unique(&rep->advice, buf);
    }
    char dbuf[2048];
    /* DNSSEC failures: what the zone's operator should do, from the
     * validator's reason. */
    const char *dadv = rep->mx_security == DNS_SEC_BOGUS ? dnssec_advice(rep->mx_why) : NULL;
    if (dadv) {
        snprintf(dbuf, sizeof dbuf, "The MX records of %s fail DNSSEC validation (%s). %s",
                 rep->domain, rep->mx_why, dadv);
        st |= strlist_add_unique(&rep->advice, dbuf);
    }
    for (size_t i = 0; i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        const char *base = h->tlsa_base ? h->tlsa_base : h->name;
        dadv = h->tlsa_started && h->tlsa_state == MXTLS_TLSA_BOGUS ? dnssec_advice(h->tlsa_why)
                                                                      : NULL;
        if (dadv) {
            snprintf(dbuf, sizeof dbuf, "The TLSA records at _%u._tcp.%s fail DNSSEC validation "
                     "(%s). %s", rep->port, base, h->tlsa_why, dadv);
            st |= strlist_add_unique(&rep->advice, dbuf);
        }
        /* TLSA records that DANE senders ignore (RFC 7672 §2.2). */
        size_t ignored = h->tlsa_started
                             ? (h->tlsa_state == MXTLS_TLSA_INSECURE ? h->ntlsa : 0)
                             : h->tlsa_ignored;
        if (ignored) {
            snprintf(dbuf, sizeof dbuf,
                     "The TLSA record%s at _%u._tcp.%s %s ignored: %s not DNSSEC-signed (no DS "
                     "record leads to %s: the zone is not signed, or its delegation is "
                     "insecure), so DANE senders do not use %s (RFC 7672 §2.2). Sign the zone "
                     "and publish its DS record at the parent zone.",
                     ignored == 1 ? "" : "s", rep->port, h->tlsa_started ? base : h->name,
                     ignored == 1 ? "is" : "are", ignored == 1 ? "it is" : "they are",
                     ignored == 1 ? "it" : "them", ignored == 1 ? "it" : "them");
            st |= strlist_add_unique(&rep->advice, dbuf);
        }
    }
    if (rep->null_mx_mixed)
        st |= strlist_add_unique(&rep->advice,
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
                        st |= strlist_add_unique(&rep->advice, r->advice.v[k]);
            }
            for (size_t ci = 0; ci < a->nconns; ci++)
                st |= check_conn_advice(rep, h, a, &a->conns[ci]);
            st |= check_sni_advice(rep, h, a);
        }
    }
    return st ? MXTLS_ERR_NOMEM : MXTLS_OK;
}
