/* tlsa_check.c - the TLSA toolkit: records for certificates and keys, and
 * whether a published TLSA RRset authenticates a server now and after a
 * certificate change
 *
 * Every match is decided by OpenSSL's DANE verifier through dane_verify(),
 * with the SMTP rules of RFC 7672 (usages 2 and 3 only; DANE-EE without name
 * or validity checks; DANE-TA with both). tlsa_match_depth() compares raw
 * association data only, to explain records the verifier does not use. */
#include "engine/tlsa_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/chain.h"
#include "io/dns.h"

/* ---- generation ------------------------------------------------------- */

void tlsa_material_clear(tlsa_material *m)
{
    chain_free(m->chain);
    EVP_PKEY_free(m->key);
    memset(m, 0, sizeof *m);
}

/* tlsa_contains - bounded substring search (memmem is a GNU extension) */
static int tlsa_contains(const char *buf, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (buf[i] == s[0] && memcmp(buf + i, s, n) == 0)
            return 1;
    return 0;
}

/* tlsa_no_passphrase - PEM password callback that refuses: a tool run from
 * scripts must never stop at a passphrase prompt */
static int tlsa_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* tlsa_load_key - the first private key of buf, else the first public key */
static int tlsa_load_key(const char *buf, size_t len, const char *name, EVP_PKEY **out,
                         err_rec *e)
{
    int has_private = tlsa_contains(buf, len, "PRIVATE KEY-----");
    int has_public = tlsa_contains(buf, len, "-----BEGIN PUBLIC KEY-----");
    *out = NULL;
    if (!has_private && !has_public)
        return 0;
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    if (!bio)
        return err_set(e, MXTLS_ERR_NOMEM, name, "out of memory"), -1;
    ERR_clear_error();
    EVP_PKEY *k = NULL;
    if (has_private) {
        /* PEM_read_bio_PrivateKey skips blocks of other types (certificates
         * before the key in a Postfix chain file). */
        k = PEM_read_bio_PrivateKey(bio, NULL, tlsa_no_passphrase, NULL);
        if (!k) {
            BIO_free(bio);
            ERR_clear_error();
            int enc = tlsa_contains(buf, len, "ENCRYPTED");
            return err_set(e, MXTLS_ERR_PARSE, name, "%s",
                           enc ? "the private key is encrypted; decrypt a copy with "
                                 "\"openssl pkey -in FILE\" or give the certificate instead"
                               : "the private key cannot be decoded (damaged PEM?)"),
                   -1;
        }
    } else {
        k = PEM_read_bio_PUBKEY(bio, NULL, tlsa_no_passphrase, NULL);
        if (!k) {
            BIO_free(bio);
            ERR_clear_error();
            return err_set(e, MXTLS_ERR_PARSE, name,
                           "the public key cannot be decoded (damaged PEM?)"),
                   -1;
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    *out = k;
    return 0;
}

int tlsa_material_load(const char *buf, size_t len, const char *name, tlsa_material *m,
                       err_rec *e)
{
    memset(m, 0, sizeof *m);
    if (len > MXTLS_MAX_INPUT_FILE)
        return err_set(e, MXTLS_ERR_LIMIT, name, "input is larger than the limit of %u bytes",
                       MXTLS_MAX_INPUT_FILE),
               -1;
    if (tlsa_load_key(buf, len, name, &m->key, e) != 0)
        return -1;
    if (tlsa_contains(buf, len, "-----BEGIN CERTIFICATE-----") || !m->key) {
        m->chain = chain_parse_pem(buf, len, name, e);
        if (!m->chain) {
            tlsa_material_clear(m);
            return -1;
        }
    }
    return 0;
}

int tlsa_key_matches(X509 *cert, EVP_PKEY *key)
{
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    int r = pub && key && EVP_PKEY_eq(pub, key) == 1;
    ERR_clear_error();
    return r;
}

int tlsa_ta_index(STACK_OF(X509) *chain, const char *name, err_rec *e)
{
    int n = chain ? sk_X509_num(chain) : 0;
    if (n >= 2) {
        X509 *leaf = sk_X509_value(chain, 0), *ca = sk_X509_value(chain, 1);
        if (X509_check_ca(ca) <= 0)
            return err_set(e, MXTLS_ERR_INVALID, name,
                           "certificate 2 is not a CA certificate; a DANE-TA record (usage "
                           "2) is made for the CA that issued the server certificate"),
                   -1;
        /* The record authenticates the chain only if this CA really is the
         * leaf's issuer (RFC 7671 §5.2.2: the server sends the TA in its chain). */
        if (X509_check_issued(ca, leaf) != X509_V_OK)
            return err_set(e, MXTLS_ERR_INVALID, name,
                           "certificate 2 did not issue certificate 1: give the chain leaf "
                           "first, in the order the server sends it"),
                   -1;
        return 1;
    }
    if (n == 1 && X509_check_ca(sk_X509_value(chain, 0)) > 0)
        return 0;
    return err_set(e, MXTLS_ERR_INVALID, name,
                   "a DANE-TA record (usage 2) needs the issuing CA certificate: the file "
                   "holds only the server certificate; append the intermediate as the "
                   "server sends it"),
           -1;
}

/* tlsa_digest - DER as is (mtype 0) or its SHA-256 (1) / SHA-512 (2) digest
 * (RFC 6698 §2.1.3); caller frees */
static unsigned char *tlsa_digest(const unsigned char *der, size_t n, uint8_t mtype, size_t *len)
{
    unsigned char *out;
    if (mtype > 2)
        return NULL;
    if (mtype == 0) {
        out = malloc(n ? n : 1);
        if (out)
            memcpy(out, der, n);
        *len = n;
        return out;
    }
    unsigned int dl = 0;
    out = malloc(EVP_MAX_MD_SIZE);
    if (out && !EVP_Digest(der, n, out, &dl, mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL)) {
        free(out);
        return NULL;
    }
    *len = dl;
    return out;
}

unsigned char *tlsa_key_association(EVP_PKEY *key, uint8_t mtype, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der); /* SubjectPublicKeyInfo, as selector 1 wants */
    if (n <= 0) {
        ERR_clear_error();
        return NULL;
    }
    unsigned char *out = tlsa_digest(der, (size_t)n, mtype, len);
    OPENSSL_free(der);
    return out;
}

int tlsa_make(const tlsa_material *m, const char *name, uint8_t usage, uint8_t selector,
              uint8_t mtype, dane_rr *out, int *index, err_rec *e)
{
    *index = -1;
    if (usage != 2 && usage != 3)
        return err_set(e, MXTLS_ERR_INVALID, "usage",
                       "usage %u is not used by SMTP senders: only 2 (DANE-TA) and 3 (DANE-EE) "
                       "are (RFC 7672 §3.1.3)",
                       usage),
               -1;
    if (selector > 1)
        return err_set(e, MXTLS_ERR_INVALID, "selector",
                       "selector %u is unknown (0: certificate, 1: public key)", selector),
               -1;
    if (mtype > 2)
        return err_set(e, MXTLS_ERR_INVALID, "mtype",
                       "matching type %u is unknown (0: full, 1: SHA-256, 2: SHA-512)", mtype),
               -1;
    unsigned char *data = NULL;
    size_t len = 0;
    if (usage == 3 && selector == 1 && m->key) {
        /* The key's own SubjectPublicKeyInfo: callers have checked that it is
         * the certificate's key when both are given. */
        data = tlsa_key_association(m->key, mtype, &len);
    } else if (usage == 3 && m->chain) {
        *index = 0;
        data = dane_association(sk_X509_value(m->chain, 0), selector, mtype, &len);
    } else if (usage == 3) {
        return err_set(e, MXTLS_ERR_INVALID, name,
                       "the file holds only a key: a \"3 0 x\" record needs the certificate"),
               -1;
    } else {
        if (!m->chain)
            return err_set(e, MXTLS_ERR_INVALID, name,
                           "the file holds only a key: a DANE-TA record (usage 2) needs the "
                           "issuing CA certificate"),
                   -1;
        int ta = tlsa_ta_index(m->chain, name, e);
        if (ta < 0)
            return -1;
        *index = ta;
        data = dane_association(sk_X509_value(m->chain, ta), selector, mtype, &len);
    }
    if (!data)
        return err_set(e, MXTLS_ERR_CRYPTO, name, "cannot compute the association data"), -1;
    memset(out, 0, sizeof *out);
    int rc = dane_rr_set(out, usage, selector, mtype, data, len);
    free(data);
    if (rc != 0)
        return err_set(e, MXTLS_ERR_NOMEM, name, "out of memory"), -1;
    return 0;
}

int tlsa_match_depth(STACK_OF(X509) *chain, const dane_rr *rr)
{
    if (!chain || rr->selector > 1 || rr->mtype > 2)
        return -1;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        size_t len = 0;
        unsigned char *d = dane_association(sk_X509_value(chain, i), rr->selector, rr->mtype,
                                            &len);
        int eq = d && len == rr->len && memcmp(d, rr->data, len) == 0;
        free(d);
        if (eq)
            return i;
    }
    return -1;
}

/* ---- check analysis --------------------------------------------------- */

const char *tlsa_status_name(tlsa_status s)
{
    switch (s) {
    case TLSA_STATUS_OK: return "ok";
    case TLSA_STATUS_FAILS: return "fails";
    case TLSA_STATUS_WILL_BREAK: return "will-break";
    case TLSA_STATUS_DNS_FAILURE: return "dns-failure";
    case TLSA_STATUS_UNCHECKED: return "unchecked";
    case TLSA_STATUS_NO_SERVER: return "no-server";
    }
    return "unknown";
}

/* tlsa_warn - append a warning; -1 when memory runs out */
static int tlsa_warn(tlsa_check_result *r, const char *code, const char *host, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static int tlsa_warn(tlsa_check_result *r, const char *code, const char *host, const char *fmt,
                     ...)
{
    if (r->nwarnings == r->capwarnings) {
        size_t cap = r->capwarnings ? r->capwarnings * 2 : 8;
        tlsa_warning *w = realloc(r->warnings, cap * sizeof *w);
        if (!w)
            return -1;
        r->warnings = w;
        r->capwarnings = cap;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tlsa_warning *w = &r->warnings[r->nwarnings];
    w->code = code;
    w->host = host ? strdup(host) : NULL;
    w->message = strdup(msg);
    if (!w->message || (host && !w->host)) {
        free(w->host);
        free(w->message);
        return -1;
    }
    r->nwarnings++;
    return 0;
}

/* tlsa_base_of - the TLSA base domain of a host (RFC 7672 §2.2.2: the secure
 * CNAME target when it has records, else the MX hostname) */
static const char *tlsa_base_of(const check_host *h)
{
    return h->tlsa_base ? h->tlsa_base : h->name;
}

/* tlsa_addr_chain - the chain an address presented, or NULL with its state
 * and a note saying why there is none */
static STACK_OF(X509) *tlsa_addr_chain(const check_report *rep, const check_address *a,
                                       tlsa_addr_result *ar)
{
    /* The connection a DANE sender makes (SNI: the TLSA base domain). */
    const check_conn *c = NULL;
    for (size_t li = 0; li < rep->nlevels && !c; li++)
        if (rep->levels[li] == MXTLS_LEVEL_DANE)
            c = check_address_conn(a, li);
    if (!c && a->nconns) /* a report without the dane level */
        c = &a->conns[0];
    const probe_report *p = c ? c->probe : NULL;
    if (!p) {
        ar->state = "unreachable";
        snprintf(ar->note, sizeof ar->note, "no answer before the check's deadline");
        return NULL;
    }
    if (!p->connected) {
        ar->state = "unreachable";
        snprintf(ar->note, sizeof ar->note, "cannot connect: %s",
                 p->connect_error ? p->connect_error : "failed");
        return NULL;
    }
    if (p->tls_ok && p->tls.chain && sk_X509_num(p->tls.chain) > 0)
        return p->tls.chain;
    ar->state = "no-tls";
    if (p->tls_attempted)
        snprintf(ar->note, sizeof ar->note, "TLS handshake failed: %s",
                 p->tls.error ? p->tls.error : p->smtp.reason);
    else if (p->smtp.outcome == SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS)
        snprintf(ar->note, sizeof ar->note, "the server does not offer STARTTLS");
    else if (p->smtp.outcome == SMTP_OUTCOME_STARTTLS_REJECTED)
        snprintf(ar->note, sizeof ar->note, "STARTTLS refused: %s", p->smtp.reason);
    else {
        ar->state = "unreachable";
        snprintf(ar->note, sizeof ar->note, "%s", p->smtp.reason[0] ? p->smtp.reason
                                                                    : "the SMTP dialogue failed");
    }
    return NULL;
}

/* tlsa_verify - dane_verify() with the host's base domain and names, as the
 * dane levels call it (policy_dane): base, plus the MX hostname when the
 * base is a CNAME target (RFC 7672 §3.2.3) */
static int tlsa_verify(const check_host *h, STACK_OF(X509) *chain, const dane_rr *rrs, size_t n,
                       time_t at, dane_result *out, err_rec *e)
{
    const char *base = tlsa_base_of(h);
    const char *names[1] = {h->name};
    size_t nnames = strcasecmp(h->name, base) != 0 ? 1 : 0;
    return dane_verify(chain, rrs, n, base, names, nnames, at, out, e);
}

/* tlsa_suggest - the records a planned chain needs before the switch: its
 * "3 1 1" (survives renewals that keep the key), and for every DANE-TA
 * parameter set already published, the matching record of its issuing CA;
 * records already published are left out */
static int tlsa_suggest(const check_host *h, const tlsa_planned *p, strlist *out)
{
    tlsa_material m = {.chain = p->chain, .key = NULL};
    uint8_t params[DANE_MAX_RECORDS + 1][3];
    size_t np = 0;
    params[np][0] = 3, params[np][1] = 1, params[np][2] = 1, np++;
    for (size_t k = 0; k < h->ntlsa; k++) {
        const dane_rr *rr = &h->tlsa[k];
        if (rr->usage == 2 && !dane_rr_unusable_why(rr))
            params[np][0] = 2, params[np][1] = rr->selector, params[np][2] = rr->mtype, np++;
    }
    for (size_t i = 0; i < np; i++) {
        dane_rr rr = {0};
        int idx;
        err_rec e;
        err_clear(&e);
        if (tlsa_make(&m, p->file, params[i][0], params[i][1], params[i][2], &rr, &idx, &e) != 0)
            continue; /* e.g. no issuing CA in the planned file: nothing to suggest */
        int published = 0;
        for (size_t k = 0; k < h->ntlsa && !published; k++)
            published = h->tlsa[k].usage == rr.usage && h->tlsa[k].selector == rr.selector &&
                        h->tlsa[k].mtype == rr.mtype && h->tlsa[k].len == rr.len &&
                        memcmp(h->tlsa[k].data, rr.data, rr.len) == 0;
        char *t = published ? NULL : dane_rr_text(&rr);
        dane_rr_clear(&rr);
        if (published)
            continue;
        if (!t || strlist_add_unique(out, t) != MXTLS_OK) {
            free(t);
            return -1;
        }
        free(t);
    }
    return 0;
}

/* tlsa_record_warnings - findings about single records (any DNSSEC state:
 * insecure records are still what the operator published) */
static int tlsa_record_warnings(tlsa_check_result *r, const tlsa_host_result *hr)
{
    const check_host *h = hr->host;
    for (size_t k = 0; k < h->ntlsa; k++) {
        const dane_rr *rr = &h->tlsa[k];
        const char *why = dane_rr_unusable_why(rr);
        int rc = 0;
        if (rr->usage == 0 || rr->usage == 1)
            /* RFC 7672 §3.1.3: SMTP clients treat PKIX-TA/PKIX-EE as unusable. */
            rc = tlsa_warn(r, "pkix-usage", h->name,
                           "record [%zu] \"%u %u %u\" at %s has usage %s, which SMTP senders "
                           "ignore (RFC 7672 §3.1.3); publish \"3 %u %u\" (DANE-EE) or \"2 %u "
                           "%u\" (DANE-TA) instead",
                           k + 1, rr->usage, rr->selector, rr->mtype, hr->owner,
                           dane_usage_name(rr->usage), rr->selector, rr->mtype, rr->selector,
                           rr->mtype);
        else if (why)
            rc = tlsa_warn(r, "unusable-record", h->name,
                           "record [%zu] \"%u %u %u\" at %s is unusable: %s", k + 1, rr->usage,
                           rr->selector, rr->mtype, hr->owner, why);
        else if (rr->selector == 0)
            /* RFC 7671 §5.1 recommends "3 1 1": a certificate hash changes with
             * every reissue, a key hash only when the key changes. */
            rc = tlsa_warn(r, "full-certificate", h->name,
                           "record [%zu] \"%u 0 %u\" at %s matches the whole %scertificate: it "
                           "breaks on every %s, even one that keeps the key; prefer \"%u 1 "
                           "1\" (RFC 7671 §5.1)",
                           k + 1, rr->usage, rr->mtype, hr->owner,
                           rr->usage == 2 ? "CA " : "",
                           rr->usage == 2 ? "reissue of the CA certificate" : "renewal",
                           rr->usage);
        if (rc)
            return -1;
    }
    return 0;
}

/* tlsa_analyze_host - one host: its addresses now, the planned chains, warnings */
static int tlsa_analyze_host(tlsa_check_result *r, size_t hi, const tlsa_check_config *cfg,
                             int *fails, int *breaks, int *dnsfail, int *unchecked, err_rec *e)
{
    const check_report *rep = r->rep;
    const check_host *h = rep->hosts[hi];
    tlsa_host_result *hr = &r->hosts[hi];
    long window = cfg->window > 0 ? cfg->window : TLSA_DEFAULT_WINDOW;
    char owner[MXTLS_MAX_NAME + 32];
    snprintf(owner, sizeof owner, "_%u._tcp.%s", rep->port, tlsa_base_of(h));
    hr->host = h;
    hr->ttl = cfg->ttl ? cfg->ttl[hi] : TLSA_TTL_UNKNOWN;
    if (!(hr->owner = strdup(owner)))
        goto nomem;
    for (size_t k = 0; k < h->ntlsa; k++)
        hr->usable += !dane_rr_unusable_why(&h->tlsa[k]);
    hr->published = h->tlsa_started && h->tlsa_state == MXTLS_TLSA_SECURE && h->ntlsa > 0;
    if (h->naddrs && !(hr->addrs = calloc(h->naddrs, sizeof *hr->addrs)))
        goto nomem;
    if (cfg->nplanned && !(hr->plans = calloc(cfg->nplanned, sizeof *hr->plans)))
        goto nomem;
    hr->nplans = cfg->nplanned;

    /* The DNS side. */
    if (!h->tlsa_started) {
        if (h->naddrs == 0 && (h->a_outcome >= DNS_SERVFAIL || h->aaaa_outcome >= DNS_SERVFAIL) &&
            !(h->a_outcome == DNS_DATA || h->aaaa_outcome == DNS_DATA))
            (*dnsfail)++;
        else if (h->naddrs &&
                 tlsa_warn(r, "address-insecure", h->name,
                           "no TLSA lookup for %s: its address records are not DNSSEC-secure, "
                           "so senders do not use DANE for it (RFC 7672 §2.2.2)",
                           h->name))
            goto nomem;
    } else if (h->tlsa_state == MXTLS_TLSA_BOGUS || h->tlsa_state == MXTLS_TLSA_ERROR ||
               h->tlsa_state == MXTLS_TLSA_NOT_LOOKED_UP) {
        (*dnsfail)++; /* NOT_LOOKED_UP after the start: the deadline cut it short */
    } else if (h->tlsa_state == MXTLS_TLSA_INSECURE && h->ntlsa > 0) {
        if (tlsa_warn(r, "tlsa-insecure", h->name,
                      "the TLSA records at %s are not DNSSEC-signed: senders ignore them "
                      "(RFC 7672 §2.2); sign the zone",
                      owner))
            goto nomem;
    }
    if (tlsa_record_warnings(r, hr))
        goto nomem;
    if (hr->published && hr->usable == 1 &&
        tlsa_warn(r, "single-record", h->name,
                  "%s has one usable record: there is no headroom for a key or certificate "
                  "change; publish the next key's record next to it before the change "
                  "(mxtls tlsa gen --next)",
                  owner))
        goto nomem;
    /* Rollover: the next record must be in every cache before the switch,
     * i.e. published at least 2 x TTL earlier (docs/tlsa.md). */
    if (h->ntlsa > 0 && hr->ttl != TLSA_TTL_UNKNOWN && 2 * hr->ttl > window &&
        tlsa_warn(r, "ttl-long", h->name,
                  "the TTL of %s is %ld s: a rollover must wait 2 x TTL = %ld s between "
                  "publishing the next record and the switch, longer than the rollover "
                  "window of %ld s; lower the TTL or plan further ahead",
                  owner, hr->ttl, 2 * hr->ttl, window))
        goto nomem;

    /* The addresses, as they present now. */
    size_t checked = 0, unreachable = 0;
    int *ta_seen = NULL; /* per record: a DANE-TA record's data was seen in some chain */
    int any_chain = 0;
    if (h->ntlsa && !(ta_seen = calloc(h->ntlsa, sizeof *ta_seen)))
        goto nomem;
    for (size_t j = 0; j < h->naddrs; j++) {
        tlsa_addr_result *ar = &hr->addrs[j];
        ar->addr = h->addrs[j];
        ar->state = "not-checked";
        STACK_OF(X509) *chain = tlsa_addr_chain(rep, ar->addr, ar);
        if (chain && h->ntlsa > 0) {
            any_chain = 1;
            if (!(ar->per_rr = calloc(h->ntlsa, sizeof *ar->per_rr)) ||
                !(ar->raw_depth = calloc(h->ntlsa, sizeof *ar->raw_depth))) {
                free(ta_seen);
                goto nomem;
            }
            if (tlsa_verify(h, chain, h->tlsa, h->ntlsa, cfg->at, &ar->all, e) != 0) {
                free(ta_seen);
                return -1;
            }
            for (size_t k = 0; k < h->ntlsa; k++) {
                ar->raw_depth[k] = tlsa_match_depth(chain, &h->tlsa[k]);
                if (ar->raw_depth[k] >= 0)
                    ta_seen[k] = 1;
                if (dane_rr_unusable_why(&h->tlsa[k])) {
                    memset(&ar->per_rr[k], 0, sizeof ar->per_rr[k]);
                    ar->per_rr[k].match_index = ar->per_rr[k].match_depth = -1;
                    ar->per_rr[k].code = "tlsa-unusable";
                    snprintf(ar->per_rr[k].message, sizeof ar->per_rr[k].message, "%s",
                             dane_rr_unusable_why(&h->tlsa[k]));
                } else if (tlsa_verify(h, chain, &h->tlsa[k], 1, cfg->at, &ar->per_rr[k], e) !=
                           0) {
                    free(ta_seen);
                    return -1;
                }
            }
            if (hr->published)
                ar->state = ar->all.authenticated ? "authenticated" : "fails";
        } else if (chain) {
            ar->state = "not-checked";
        }
        if (!hr->published)
            continue;
        if (!strcmp(ar->state, "authenticated")) {
            checked++;
        } else if (!strcmp(ar->state, "fails")) {
            checked++;
            (*fails)++;
        } else if (!strcmp(ar->state, "no-tls")) {
            /* RFC 7672 §2.2: with secure TLSA records TLS is mandatory. */
            checked++;
            (*fails)++;
        } else if (!strcmp(ar->state, "unreachable")) {
            unreachable++;
            if (tlsa_warn(r, "address-unchecked", h->name, "%s [%s] could not be checked: %s",
                          h->name, ar->addr->ip, ar->note)) {
                free(ta_seen);
                goto nomem;
            }
        }
    }
    /* RFC 7672 §3.1.2 / RFC 7671 §5.2.2: the server must send the trust
     * anchor of its DANE-TA records in its chain. */
    for (size_t k = 0; any_chain && k < h->ntlsa; k++) {
        const dane_rr *rr = &h->tlsa[k];
        if (rr->usage == 2 && !dane_rr_unusable_why(rr) && !ta_seen[k] &&
            tlsa_warn(r, "dane-ta-not-sent", h->name,
                      "the DANE-TA record [%zu] \"2 %u %u\" at %s matches no certificate %s "
                      "sends: the server must send the trust-anchor certificate in its chain "
                      "(RFC 7672 §3.1.2)",
                      k + 1, rr->selector, rr->mtype, owner, h->name)) {
            free(ta_seen);
            goto nomem;
        }
    }
    free(ta_seen);
    if (hr->published && hr->usable == 0 && checked == 0)
        (*fails)++; /* RFC 7672 §2.2: TLS mandatory, but nothing can authenticate it */
    else if (hr->published && checked == 0 && h->naddrs > 0 && unreachable > 0)
        (*unchecked)++;

    /* The planned chains. */
    for (size_t p = 0; p < cfg->nplanned; p++) {
        tlsa_plan_result *pr = &hr->plans[p];
        pr->plan = &cfg->planned[p];
        if (!hr->published) {
            pr->verdict = "not-applicable";
            if (h->tlsa_started && (h->tlsa_state == MXTLS_TLSA_BOGUS ||
                                    h->tlsa_state == MXTLS_TLSA_ERROR ||
                                    h->tlsa_state == MXTLS_TLSA_NOT_LOOKED_UP))
                snprintf(pr->note, sizeof pr->note,
                         "the TLSA lookup at %s failed: no judgement possible", owner);
            else
                snprintf(pr->note, sizeof pr->note,
                         "no DNSSEC-secure TLSA records at %s: the change cannot break DANE",
                         owner);
            continue;
        }
        if (tlsa_verify(h, pr->plan->chain, h->tlsa, h->ntlsa, cfg->at, &pr->r, e) != 0)
            return -1;
        if (pr->r.authenticated) {
            pr->verdict = "safe";
        } else {
            if (!strcmp(pr->r.code, "tlsa-mismatch"))
                snprintf(pr->r.message, sizeof pr->r.message,
                         "no usable TLSA record of %s matches the chain in %s", tlsa_base_of(h),
                         pr->plan->file);
            pr->verdict = "will-break";
            (*breaks)++;
            if (tlsa_suggest(h, pr->plan, &pr->publish))
                goto nomem;
        }
    }
    return 0;
nomem:
    err_set(e, MXTLS_ERR_NOMEM, "tlsa check", "out of memory");
    return -1;
}

tlsa_check_result *tlsa_check_analyze(const check_report *rep, const tlsa_check_config *cfg,
                                      err_rec *e)
{
    tlsa_check_result *r = calloc(1, sizeof *r);
    if (!r) {
        err_set(e, MXTLS_ERR_NOMEM, "tlsa check", "out of memory");
        return NULL;
    }
    r->rep = rep;
    if (rep->nhosts && !(r->hosts = calloc(rep->nhosts, sizeof *r->hosts))) {
        free(r);
        err_set(e, MXTLS_ERR_NOMEM, "tlsa check", "out of memory");
        return NULL;
    }
    r->nhosts = rep->nhosts;
    int fails = 0, breaks = 0, dnsfail = 0, unchecked = 0, published = 0;

    /* RFC 7672 §2.2.1: without a DNSSEC-secure MX RRset senders do not look
     * for TLSA records of the MX hosts (the records still serve domains
     * whose MX RRset is secure, and direct checks of the host). */
    if (!rep->routed && !rep->implicit_mx && rep->nhosts && rep->mx_security != DNS_SEC_SECURE &&
        tlsa_warn(r, "mx-insecure", NULL,
                  "the MX RRset of %s is not DNSSEC-secure (%s): senders do not use DANE for "
                  "mail to %s, whatever the TLSA records say (RFC 7672 §2.2.1)",
                  rep->domain, dns_security_name(rep->mx_security), rep->domain))
        goto nomem;
    for (size_t i = 0; i < rep->nhosts; i++) {
        if (tlsa_analyze_host(r, i, cfg, &fails, &breaks, &dnsfail, &unchecked, e) != 0) {
            tlsa_check_result_free(r);
            return NULL;
        }
        published += r->hosts[i].published;
    }

    int only_unusable = fails > 0;
    for (size_t i = 0; i < r->nhosts; i++)
        if (r->hosts[i].published && r->hosts[i].usable > 0)
            only_unusable = 0;
    if (fails && only_unusable) {
        /* RFC 7672 §2.2: secure but unusable records make TLS mandatory
         * without authentication: dane senders deliver over unauthenticated
         * TLS, dane-only senders do not deliver. */
        r->status = TLSA_STATUS_FAILS;
        snprintf(r->summary, sizeof r->summary,
                 "none of the published TLSA records is usable for SMTP: senders at level "
                 "dane require TLS but cannot authenticate the server, and dane-only senders "
                 "cannot deliver");
    } else if (fails) {
        r->status = TLSA_STATUS_FAILS;
        snprintf(r->summary, sizeof r->summary,
                 "the published TLSA records do not authenticate %d server%s: senders using "
                 "DANE cannot deliver there",
                 fails, fails == 1 ? "" : "s");
    } else if (breaks) {
        r->status = TLSA_STATUS_WILL_BREAK;
        snprintf(r->summary, sizeof r->summary,
                 "the planned certificate change will break DANE: publish the records shown, "
                 "wait 2 x TTL, then switch");
    } else if (rep->nhosts == 0 && (rep->null_mx || rep->mx_outcome == DNS_NXDOMAIN)) {
        r->status = TLSA_STATUS_NO_SERVER;
        snprintf(r->summary, sizeof r->summary, "%s",
                 rep->null_mx ? "the domain publishes a null MX (RFC 7505): no mail server to "
                                "check"
                              : "the name does not exist (NXDOMAIN)");
    } else if (rep->nhosts == 0 && rep->timed_out) {
        r->status = TLSA_STATUS_DNS_FAILURE;
        snprintf(r->summary, sizeof r->summary,
                 "the MX lookup did not finish before the deadline");
    } else if (dnsfail || (rep->nhosts == 0 && (rep->mx_outcome >= DNS_SERVFAIL ||
                                                rep->mx_security == DNS_SEC_BOGUS))) {
        r->status = TLSA_STATUS_DNS_FAILURE;
        snprintf(r->summary, sizeof r->summary,
                 "a DNS lookup failed, was bogus or did not finish: senders using DANE defer "
                 "(RFC 7672 §2.2)");
    } else if (unchecked) {
        r->status = TLSA_STATUS_UNCHECKED;
        snprintf(r->summary, sizeof r->summary,
                 "DNSSEC-secure TLSA records are published, but no address of %d host%s "
                 "could be checked",
                 unchecked, unchecked == 1 ? "" : "s");
    } else if (rep->nhosts == 0) {
        r->status = TLSA_STATUS_NO_SERVER;
        snprintf(r->summary, sizeof r->summary, "no mail server to check");
    } else if (published) {
        r->status = TLSA_STATUS_OK;
        snprintf(r->summary, sizeof r->summary,
                 "the TLSA records authenticate every server checked%s",
                 cfg->nplanned ? ", and every planned chain: safe to deploy" : "");
    } else {
        r->status = TLSA_STATUS_OK;
        snprintf(r->summary, sizeof r->summary,
                 "no DNSSEC-secure TLSA records: DANE does not apply, so nothing can break");
    }
    return r;
nomem:
    tlsa_check_result_free(r);
    err_set(e, MXTLS_ERR_NOMEM, "tlsa check", "out of memory");
    return NULL;
}

void tlsa_check_result_free(tlsa_check_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nhosts; i++) {
        tlsa_host_result *hr = &r->hosts[i];
        free(hr->owner);
        for (size_t j = 0; hr->addrs && j < hr->host->naddrs; j++) {
            free(hr->addrs[j].per_rr);
            free(hr->addrs[j].raw_depth);
        }
        free(hr->addrs);
        for (size_t p = 0; hr->plans && p < hr->nplans; p++)
            strlist_free(&hr->plans[p].publish);
        free(hr->plans);
    }
    free(r->hosts);
    for (size_t i = 0; i < r->nwarnings; i++) {
        free(r->warnings[i].host);
        free(r->warnings[i].message);
    }
    free(r->warnings);
    free(r);
}

