/* config.h - the shared, reference-counted configuration of live checks
 *
 * Built with the mxtls_config_set_* calls, frozen once (trust store, TLS
 * context and client certificate loaded), then read-only and shared by every
 * engine and check that holds a reference (libtls tls_config; Postfix
 * tls_client_init). Nothing here changes after the freeze, so a frozen
 * configuration needs no locking. */
#ifndef MXTLS_ENGINE_CONFIG_H
#define MXTLS_ENGINE_CONFIG_H

#include <stdatomic.h>

#include <openssl/ssl.h>

#include "core/base.h"
#include "io/dns.h"

struct mxtls_config {
    atomic_int refs;               /* engines in several threads share a frozen config */
    int frozen;
    char *ca_file, *ca_path;       /* NULL both: OpenSSL's default paths */
    time_t at;                     /* 0: the time of each check */
    mxtls_revocation_mode revocation;
    char *resolver, *trust_anchor, *root_hints;
    int connect_ms, phase_ms, total_ms; /* 0: defaults */
    char *ehlo_name;               /* NULL: this host's FQDN */
    char *client_cert, *client_key;
    int family;                    /* 0, 4 or 6 */
    unsigned dns_inflight;         /* 0: libunbound's default */
    mxtls_lookup_order lookup_order;
    /* built by the freeze */
    X509_STORE *store;             /* trust store, shared read-only */
    SSL_CTX *ssl;                  /* the probes' TLS context */
    char ehlo[256];                /* the EHLO name in effect */
};

/* config_dns - the DNS settings as the resolver takes them */
void config_dns(const mxtls_config *cfg, dns_config *out);
/* config_ctx_new - a library context for one check: its own error record,
 * the configuration's trust store (shared), validation time and revocation
 * mode. NULL when out of memory. */
mxtls_ctx *config_ctx_new(const mxtls_config *cfg);
/* config_error - copy an internal error record into a caller's mxtls_error */
void config_error(mxtls_error *out, const err_rec *e);

#endif
