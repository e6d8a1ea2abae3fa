/* config.c - the shared configuration of live checks (config.h) */
#include "engine/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ctx.h"
#include "core/pkix.h"
#include "core/smtp.h"
#include "io/probe.h"

void config_error(mxtls_error *out, const err_rec *e)
{
    if (!out)
        return;
    out->code = e->code ? e->code : MXTLS_ERR_NOMEM;
    snprintf(out->where, sizeof out->where, "%s", e->where);
    snprintf(out->message, sizeof out->message, "%s", e->message[0] ? e->message : "out of memory");
}

/* config_fail - fill err and return its code */
static mxtls_status config_fail(mxtls_error *err, mxtls_status code, const char *where,
                                const char *message)
{
    if (err) {
        err->code = code;
        snprintf(err->where, sizeof err->where, "%s", where);
        snprintf(err->message, sizeof err->message, "%s", message);
    }
    return code;
}

static void config_ok(mxtls_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

mxtls_config *mxtls_config_new(void)
{
    mxtls_config *cfg = calloc(1, sizeof *cfg);
    if (cfg) {
        atomic_init(&cfg->refs, 1);
        cfg->revocation = MXTLS_REVOCATION_REPORT;
    }
    return cfg;
}

mxtls_config *mxtls_config_ref(mxtls_config *cfg)
{
    if (cfg)
        atomic_fetch_add_explicit(&cfg->refs, 1, memory_order_relaxed);
    return cfg;
}

void mxtls_config_unref(mxtls_config *cfg)
{
    if (!cfg || atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) > 1)
        return;
    free(cfg->ca_file);
    free(cfg->ca_path);
    free(cfg->resolver);
    free(cfg->trust_anchor);
    free(cfg->root_hints);
    free(cfg->ehlo_name);
    free(cfg->client_cert);
    free(cfg->client_key);
    X509_STORE_free(cfg->store);
    SSL_CTX_free(cfg->ssl);
    free(cfg);
}

/* config_settable - not frozen; else MXTLS_ERR_STATE in err */
static mxtls_status config_settable(mxtls_config *cfg, mxtls_error *err)
{
    config_ok(err);
    if (!cfg)
        return config_fail(err, MXTLS_ERR_INVALID, "config", "no configuration");
    if (cfg->frozen)
        return config_fail(err, MXTLS_ERR_STATE, "config",
                           "the configuration is frozen (in use): set it up before the first "
                           "engine is made");
    return MXTLS_OK;
}

/* config_str - replace *dst by a copy of s (NULL clears) */
static mxtls_status config_str(char **dst, const char *s, mxtls_error *err)
{
    char *d = NULL;
    if (s && !(d = strdup(s)))
        return config_fail(err, MXTLS_ERR_NOMEM, "config", "out of memory");
    free(*dst);
    *dst = d;
    return MXTLS_OK;
}

mxtls_status mxtls_config_set_ca_file(mxtls_config *cfg, const char *path, mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    return st ? st : config_str(&cfg->ca_file, path, err);
}

mxtls_status mxtls_config_set_ca_path(mxtls_config *cfg, const char *dir, mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    return st ? st : config_str(&cfg->ca_path, dir, err);
}

mxtls_status mxtls_config_set_time(mxtls_config *cfg, time_t when, mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (!st)
        cfg->at = when;
    return st;
}

mxtls_status mxtls_config_set_revocation(mxtls_config *cfg, mxtls_revocation_mode mode,
                                         mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (st)
        return st;
    if (!mxtls_revocation_mode_name(mode) || !strcmp(mxtls_revocation_mode_name(mode), "unknown"))
        return config_fail(err, MXTLS_ERR_INVALID, "revocation", "unknown revocation mode");
    cfg->revocation = mode;
    return MXTLS_OK;
}

mxtls_status mxtls_config_set_dns(mxtls_config *cfg, const char *resolver,
                                  const char *trust_anchor, const char *root_hints,
                                  mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (!st)
        st = config_str(&cfg->resolver, resolver, err);
    if (!st)
        st = config_str(&cfg->trust_anchor, trust_anchor, err);
    if (!st)
        st = config_str(&cfg->root_hints, root_hints, err);
    return st;
}

mxtls_status mxtls_config_set_timeouts(mxtls_config *cfg, int connect_ms, int phase_ms,
                                       int total_ms, mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (st)
        return st;
    if (connect_ms < 0 || phase_ms < 0 || total_ms < 0)
        return config_fail(err, MXTLS_ERR_INVALID, "timeouts", "a timeout cannot be negative");
    cfg->connect_ms = connect_ms;
    cfg->phase_ms = phase_ms;
    cfg->total_ms = total_ms;
    return MXTLS_OK;
}

mxtls_status mxtls_config_set_ehlo_name(mxtls_config *cfg, const char *name, mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (st)
        return st;
    /* It goes on the wire verbatim: one printable ASCII word (RFC 5321);
     * NULL restores the default. */
    if (name && smtp_ehlo_name_check(name, NULL) != 0)
        return config_fail(err, MXTLS_ERR_INVALID, "ehlo",
                           "the EHLO name must be 1-255 printable characters, no spaces");
    return config_str(&cfg->ehlo_name, name, err);
}

mxtls_status mxtls_config_set_client_cert(mxtls_config *cfg, const char *chain_file,
                                          const char *key_file, mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (!st && key_file && !chain_file)
        return config_fail(err, MXTLS_ERR_INVALID, "client-cert",
                           "a client key needs a client certificate");
    if (!st)
        st = config_str(&cfg->client_cert, chain_file, err);
    if (!st)
        st = config_str(&cfg->client_key, key_file, err);
    return st;
}

mxtls_status mxtls_config_set_family(mxtls_config *cfg, int family, mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (st)
        return st;
    if (family != 0 && family != 4 && family != 6)
        return config_fail(err, MXTLS_ERR_INVALID, "family", "the family must be 0, 4 or 6");
    cfg->family = family;
    return MXTLS_OK;
}

mxtls_status mxtls_config_set_dns_inflight(mxtls_config *cfg, unsigned queries,
                                           mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (st)
        return st;
    if (queries != 0 && (queries < 16 || queries > 65536))
        return config_fail(err, MXTLS_ERR_INVALID, "dns",
                           "DNS queries in flight must be 0 (the default) or 16 to 65536");
    cfg->dns_inflight = queries;
    return MXTLS_OK;
}

mxtls_status mxtls_config_set_lookup_order(mxtls_config *cfg, mxtls_lookup_order order,
                                           mxtls_error *err)
{
    mxtls_status st = config_settable(cfg, err);
    if (st)
        return st;
    if (order != MXTLS_LOOKUP_PARALLEL && order != MXTLS_LOOKUP_MX_FIRST)
        return config_fail(err, MXTLS_ERR_INVALID, "lookup order",
                           "the lookup order must be MXTLS_LOOKUP_PARALLEL or MXTLS_LOOKUP_MX_FIRST");
    cfg->lookup_order = order;
    return MXTLS_OK;
}

mxtls_status mxtls_config_freeze(mxtls_config *cfg, mxtls_error *err)
{
    config_ok(err);
    if (!cfg)
        return config_fail(err, MXTLS_ERR_INVALID, "config", "no configuration");
    if (cfg->frozen)
        return MXTLS_OK;
    /* The trust store, loaded as mxtls_ctx loads it (pkix_store). */
    mxtls_ctx *tmp = mxtls_ctx_new();
    if (!tmp)
        return config_fail(err, MXTLS_ERR_NOMEM, "config", "out of memory");
    tmp->ca_file = cfg->ca_file;
    tmp->ca_path = cfg->ca_path;
    X509_STORE *st = pkix_store(tmp);
    if (st)
        X509_STORE_up_ref(st);
    else
        config_error(err, &tmp->err);
    tmp->ca_file = tmp->ca_path = NULL; /* borrowed */
    mxtls_ctx_free(tmp);
    if (!st)
        return err ? err->code : MXTLS_ERR_CRYPTO;
    err_rec e;
    err_clear(&e);
    SSL_CTX *ssl = probe_ssl_ctx_new(&e);
    if (ssl && cfg->client_cert &&
        probe_ssl_ctx_client_cert(ssl, cfg->client_cert, cfg->client_key, &e) != 0) {
        SSL_CTX_free(ssl);
        ssl = NULL;
    }
    if (!ssl) {
        config_error(err, &e);
        X509_STORE_free(st);
        return err ? err->code : MXTLS_ERR_CRYPTO;
    }
    cfg->store = st;
    cfg->ssl = ssl;
    /* This machine's FQDN, as an MTA announces it. */
    char host[256] = "";
    const char *ehlo = cfg->ehlo_name;
    if (!ehlo && gethostname(host, sizeof host - 1) == 0 && strchr(host, '.'))
        ehlo = host;
    snprintf(cfg->ehlo, sizeof cfg->ehlo, "%s", ehlo ? ehlo : "mxtls.invalid");
    cfg->frozen = 1;
    return MXTLS_OK;
}

void config_dns(const mxtls_config *cfg, dns_config *out)
{
    memset(out, 0, sizeof *out);
    out->resolver = cfg->resolver;
    out->trust_anchor = cfg->trust_anchor;
    out->root_hints = cfg->root_hints;
    out->inflight = cfg->dns_inflight;
}

mxtls_ctx *config_ctx_new(const mxtls_config *cfg)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return NULL;
    if (cfg->store && X509_STORE_up_ref(cfg->store))
        ctx->store = cfg->store;
    ctx->at = cfg->at;
    ctx->revocation = cfg->revocation;
    return ctx;
}
