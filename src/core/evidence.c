/* evidence.c - building the evidence record (setters validate and normalise) */
#include "core/evidence.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/chain.h"
#include "core/ctx.h"
#include "core/hostport.h"
#include "core/names.h"

mxtls_evidence *mxtls_evidence_new(void)
{
    return calloc(1, sizeof(mxtls_evidence));
}

void mxtls_evidence_free(mxtls_evidence *ev)
{
    if (!ev)
        return;
    free(ev->domain);
    free(ev->host);
    strlist_free(&ev->mx);
    free(ev->ip);
    strlist_free(&ev->ptr);
    free(ev->ptr_confirmed);
    strlist_free(&ev->routes);
    free(ev->match_raw);
    free(ev->fp_digest);
    chain_free(ev->chain);
    free(ev->chain_name);
    free(ev->tls_failed);
    free(ev->revocation_detail);
    free(ev->tlsa_base);
    free(ev->tlsa_why);
    strlist_free(&ev->sts_mx);
    free(ev->sts_source);
    for (size_t i = 0; i < ev->ntlsa; i++)
        dane_rr_clear(&ev->tlsa[i]);
    free(ev);
}

const char *evidence_host(const mxtls_evidence *ev)
{
    return ev->host ? ev->host : ev->mx.n ? ev->mx.v[0] : ev->domain;
}

mxtls_status evidence_set_host(mxtls_evidence *ev, const char *host, err_rec *e)
{
    char *n = names_normalize(host, 0, e);
    if (!n)
        return e ? e->code : MXTLS_ERR_INVALID;
    free(ev->host);
    ev->host = n;
    return MXTLS_OK;
}

/* evidence_name - normalise a name, prefixing errors with what it is */
static char *evidence_name(mxtls_ctx *ctx, const char *what, const char *name)
{
    char *n = names_normalize(name, 0, &ctx->err);
    if (!n) {
        char msg[MXTLS_ERR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", ctx->err.message);
        err_set(&ctx->err, ctx->err.code, what, "%s", msg);
    }
    return n;
}

mxtls_status mxtls_evidence_set_domain(mxtls_ctx *ctx, mxtls_evidence *ev, const char *domain)
{
    char *n = evidence_name(ctx, "domain", domain);
    if (!n)
        return ctx->err.code;
    free(ev->domain);
    ev->domain = n;
    return MXTLS_OK;
}

static mxtls_status evidence_add_name(mxtls_ctx *ctx, strlist *l, const char *what,
                                      const char *name)
{
    char *n = evidence_name(ctx, what, name);
    if (!n)
        return ctx->err.code;
    mxtls_status st = strlist_add_unique(l, n);
    free(n);
    if (st != MXTLS_OK)
        return err_set(&ctx->err, st, what, "out of memory");
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_add_mx(mxtls_ctx *ctx, mxtls_evidence *ev, const char *host)
{
    return evidence_add_name(ctx, &ev->mx, "MX host", host);
}

void mxtls_evidence_set_mx_secure(mxtls_evidence *ev, int secure)
{
    ev->mx_secure = !!secure;
}

mxtls_status mxtls_evidence_set_ip(mxtls_ctx *ctx, mxtls_evidence *ev, const char *ip)
{
    unsigned char bin[16];
    char text[INET6_ADDRSTRLEN];
    int af = (ip && strchr(ip, ':')) ? AF_INET6 : AF_INET;
    if (!ip || inet_pton(af, ip, bin) != 1 || !inet_ntop(af, bin, text, sizeof text))
        return err_set(&ctx->err, MXTLS_ERR_INVALID, "IP address",
                       "\"%.64s\" is not an IPv4 or IPv6 address", ip ? ip : "");
    char *copy = strdup(text);
    if (!copy)
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "IP address", "out of memory");
    free(ev->ip);
    ev->ip = copy;
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_add_ptr(mxtls_ctx *ctx, mxtls_evidence *ev, const char *name,
                                    int confirmed)
{
    char *n = evidence_name(ctx, "PTR name", name);
    if (!n)
        return ctx->err.code;
    for (size_t i = 0; i < ev->ptr.n; i++) {
        if (strcmp(ev->ptr.v[i], n) == 0) {
            ev->ptr_confirmed[i] |= (unsigned char)!!confirmed;
            free(n);
            return MXTLS_OK;
        }
    }
    unsigned char *c = realloc(ev->ptr_confirmed, ev->ptr.n + 1);
    if (!c) {
        free(n);
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "PTR name", "out of memory");
    }
    ev->ptr_confirmed = c;
    mxtls_status st = strlist_add(&ev->ptr, n);
    free(n);
    if (st != MXTLS_OK)
        return err_set(&ctx->err, st, "PTR name", "out of memory");
    ev->ptr_confirmed[ev->ptr.n - 1] = (unsigned char)!!confirmed;
    return MXTLS_OK;
}

int evidence_is_ip(const char *s)
{
    unsigned char bin[16];
    return s && (inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1);
}

mxtls_status evidence_route_parse(const char *in, char *out, size_t outlen, int *is_ip,
                                  unsigned *port, err_rec *e)
{
    hostport hp;
    err_rec he;
    err_clear(&he);
    *is_ip = 0;
    *port = 0;
    mxtls_status st = hostport_parse(in, &hp, &he);
    if (st == MXTLS_ERR_NOMEM)
        return err_set(e, st, "route", "out of memory");
    if (st != MXTLS_OK && hp.bad_name)
        return err_set(e, MXTLS_ERR_INVALID, "route", "%s", he.message);
    if (st != MXTLS_OK)
        return err_set(e, MXTLS_ERR_INVALID, "route",
                       "\"%.64s\" is not a host, [host], [host]:port or an address",
                       in ? in : "");
    if (strlen(hp.host) >= outlen)
        return err_set(e, MXTLS_ERR_INVALID, "route", "name too long");
    memcpy(out, hp.host, strlen(hp.host) + 1);
    *is_ip = hp.is_ip != 0;
    *port = hp.port;
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_add_route(mxtls_ctx *ctx, mxtls_evidence *ev, const char *host)
{
    /* The port does not take part in name checks; an address is kept in its
     * canonical text and is never a reference identity (policy.c). */
    char name[MXTLS_MAX_NAME + 2];
    int is_ip;
    unsigned port;
    if (evidence_route_parse(host, name, sizeof name, &is_ip, &port, &ctx->err) != MXTLS_OK)
        return ctx->err.code;
    mxtls_status st = strlist_add_unique(&ev->routes, name);
    if (st != MXTLS_OK)
        return err_set(&ctx->err, st, "route", "out of memory");
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_set_match(mxtls_ctx *ctx, mxtls_evidence *ev, const char *list)
{
    /* Kept as written: how it splits depends on the level (names are
     * separated by ':' as in Postfix's match=, fingerprints contain ':' and
     * are separated by '|'), see evidence_match_split(). */
    if (!list || strspn(list, ":, \t|") == strlen(list))
        return err_set(&ctx->err, MXTLS_ERR_INVALID, "match", "empty match list");
    if (strlen(list) > 64 * 1024)
        return err_set(&ctx->err, MXTLS_ERR_LIMIT, "match", "match list longer than 64 KiB");
    char *copy = strdup(list);
    if (!copy)
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "match", "out of memory");
    free(ev->match_raw);
    ev->match_raw = copy;
    return MXTLS_OK;
}

mxtls_status evidence_match_split(const mxtls_evidence *ev, int fingerprints, strlist *out)
{
    const char *seps = fingerprints ? "|, \t" : ":, \t";
    for (const char *p = ev->match_raw; p && *p;) {
        size_t n = strcspn(p, seps);
        if (n && strlist_addn(out, p, n) != MXTLS_OK) {
            strlist_free(out); /* nothing half-made is left to the caller */
            return MXTLS_ERR_NOMEM;
        }
        p += n;
        while (*p && strchr(seps, *p))
            p++;
    }
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_set_fingerprint_digest(mxtls_ctx *ctx, mxtls_evidence *ev,
                                                   const char *digest)
{
    if (!digest || (strcasecmp(digest, "sha256") != 0 && strcasecmp(digest, "sha1") != 0 &&
                    strcasecmp(digest, "md5") != 0))
        return err_set(&ctx->err, MXTLS_ERR_INVALID, "digest",
                       "unknown digest \"%.32s\" (use sha256, sha1 or md5)",
                       digest ? digest : "");
    char *d = strdup(digest);
    if (!d)
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "digest", "out of memory");
    for (char *q = d; *q; q++)
        *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
    free(ev->fp_digest);
    ev->fp_digest = d;
    return MXTLS_OK;
}

void mxtls_evidence_set_no_tls(mxtls_evidence *ev, int no_tls)
{
    ev->no_tls = !!no_tls;
}

mxtls_status mxtls_evidence_set_tls_failed(mxtls_ctx *ctx, mxtls_evidence *ev, int after_220,
                                           const char *why)
{
    ev->tls_failed_after_220 = !!after_220;
    char *copy = strdup(why && *why ? why : "TLS could not be established");
    if (!copy)
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "evidence", "out of memory");
    free(ev->tls_failed);
    ev->tls_failed = copy;
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_set_revocation(mxtls_ctx *ctx, mxtls_evidence *ev,
                                           mxtls_revocation_status status, const char *detail)
{
    if ((unsigned)status > MXTLS_REVOCATION_UNAVAILABLE)
        return err_set(&ctx->err, MXTLS_ERR_INVALID, "revocation", "unknown status %d",
                       (int)status);
    char *copy = NULL;
    if (detail && !(copy = strdup(detail)))
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "revocation", "out of memory");
    free(ev->revocation_detail);
    ev->revocation = status;
    ev->revocation_detail = copy;
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_set_chain_pem(mxtls_ctx *ctx, mxtls_evidence *ev, const char *pem,
                                          size_t len, const char *name)
{
    STACK_OF(X509) *chain = chain_parse_pem(pem, len, name, &ctx->err);
    if (!chain)
        return ctx->err.code;
    char *label = strdup(name ? name : "chain");
    if (!label) {
        chain_free(chain);
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "chain", "out of memory");
    }
    chain_free(ev->chain);
    free(ev->chain_name);
    ev->chain = chain;
    ev->chain_name = label;
    return MXTLS_OK;
}

mxtls_status evidence_set_chain(mxtls_evidence *ev, STACK_OF(X509) *chain)
{
    if (!chain || sk_X509_num(chain) == 0)
        return MXTLS_ERR_INVALID;
    STACK_OF(X509) *copy = sk_X509_new_null();
    if (!copy)
        return MXTLS_ERR_NOMEM;
    for (int i = 0; i < sk_X509_num(chain) && i < MXTLS_MAX_CHAIN; i++) {
        X509 *x = sk_X509_value(chain, i);
        if (!X509_up_ref(x) || !sk_X509_push(copy, x)) {
            chain_free(copy);
            return MXTLS_ERR_NOMEM;
        }
    }
    chain_free(ev->chain);
    ev->chain = copy;
    return MXTLS_OK;
}

static const char *const tlsa_state_names[] = {"not-looked-up", "none", "secure",
                                               "insecure", "bogus", "error"};

const char *mxtls_tlsa_state_name(mxtls_tlsa_state s)
{
    return (unsigned)s <= MXTLS_TLSA_ERROR ? tlsa_state_names[s] : "unknown";
}

mxtls_status mxtls_evidence_set_tlsa_state(mxtls_ctx *ctx, mxtls_evidence *ev,
                                           mxtls_tlsa_state state, const char *base,
                                           const char *why)
{
    if ((unsigned)state > MXTLS_TLSA_ERROR)
        return err_set(&ctx->err, MXTLS_ERR_INVALID, "TLSA", "unknown TLSA state %d",
                       (int)state);
    char *b = NULL, *w = NULL;
    if (base && !(b = names_normalize(base, 0, &ctx->err)))
        return ctx->err.code;
    if (why && !(w = strdup(why))) {
        free(b);
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "TLSA", "out of memory");
    }
    free(ev->tlsa_base);
    free(ev->tlsa_why);
    ev->tlsa_state = state;
    ev->tlsa_base = b;
    ev->tlsa_why = w;
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_add_tlsa(mxtls_ctx *ctx, mxtls_evidence *ev, const char *text)
{
    if (ev->ntlsa >= DANE_MAX_RECORDS)
        return err_set(&ctx->err, MXTLS_ERR_LIMIT, "TLSA", "more than %d TLSA records",
                       DANE_MAX_RECORDS);
    if (dane_rr_parse(text ? text : "", &ev->tlsa[ev->ntlsa], &ctx->err) != 0)
        return ctx->err.code;
    ev->ntlsa++;
    return MXTLS_OK;
}

mxtls_status mxtls_evidence_add_tlsa_rdata(mxtls_ctx *ctx, mxtls_evidence *ev, unsigned usage,
                                           unsigned selector, unsigned mtype,
                                           const unsigned char *data, size_t len)
{
    if (ev->ntlsa >= DANE_MAX_RECORDS)
        return err_set(&ctx->err, MXTLS_ERR_LIMIT, "TLSA", "more than %d TLSA records",
                       DANE_MAX_RECORDS);
    if (usage > 255 || selector > 255 || mtype > 255)
        return err_set(&ctx->err, MXTLS_ERR_INVALID, "TLSA", "TLSA fields are 0..255");
    if (len > DANE_MAX_DATA)
        return err_set(&ctx->err, MXTLS_ERR_LIMIT, "TLSA",
                       "association data longer than %d bytes", DANE_MAX_DATA);
    if (dane_rr_set(&ev->tlsa[ev->ntlsa], (uint8_t)usage, (uint8_t)selector, (uint8_t)mtype,
                    data, len) != 0)
        return err_set(&ctx->err, MXTLS_ERR_NOMEM, "TLSA", "out of memory");
    ev->ntlsa++;
    return MXTLS_OK;
}
