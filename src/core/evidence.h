/* evidence.h - what was observed about one MX host (plain record, no decisions) */
#ifndef MXTLS_CORE_EVIDENCE_H
#define MXTLS_CORE_EVIDENCE_H

#include <openssl/x509.h>

#include "core/base.h"
#include "core/dane.h"

struct mxtls_evidence {
    char *domain;          /* recipient domain, normalised (A-labels, lower case) */
    strlist mx;            /* MX hostnames, normalised; mx.v[0] presented the chain */
    char *host;            /* the host that presented the chain when it is not an MX
                              host (a configured route, a probed server); NULL */
    int mx_secure;         /* MX RRset DNSSEC-validated */
    char *ip;              /* connected address, canonical text; NULL if unknown */
    strlist ptr;           /* PTR names of ip, normalised */
    unsigned char *ptr_confirmed; /* parallel to ptr: forward-confirmed */
    strlist routes;        /* explicitly configured next hops: normalised names or
                              canonical addresses (evidence_is_ip) */
    char *match_raw;       /* Postfix match= list as given; NULL: level default */
    char *fp_digest;       /* "sha256" (default), "sha1", "md5" */
    int no_tls;            /* STARTTLS not offered */
    int implicit_tls;      /* TLS on connect (port 465): no plaintext at all */
    char *tls_failed;      /* STARTTLS offered, TLS not established: why; else NULL */
    int tls_failed_after_220; /* the handshake failed (vs STARTTLS refused) */
    int tls_anonymous;     /* TLS established with an anonymous suite: no certificate */
    mxtls_revocation_status revocation;
    char *revocation_detail;
    mxtls_tlsa_state tlsa_state;
    char *tlsa_base;       /* TLSA base domain; NULL: the MX host */
    char *tlsa_why;
    dane_rr tlsa[DANE_MAX_RECORDS];
    size_t ntlsa;
    /* MTA-STS policy in force (mxtls_evidence_set_sts_policy) */
    int sts_present;
    int sts_mode;          /* mtasts_mode */
    long long sts_max_age;
    strlist sts_mx;        /* mx patterns */
    char *sts_source;
    int requiretls;        /* REQUIRETLS advertised after STARTTLS */
    STACK_OF(X509) *chain; /* presented chain, leaf first; NULL if none */
    char *chain_name;      /* label for messages (file name) */
};

/* evidence_host - the host that presented the chain: the route/probed host,
 * else the first MX host, else (implicit MX) the domain */
const char *evidence_host(const mxtls_evidence *ev);
/* evidence_set_host - see `host` above; MXTLS_OK or an error in e */
mxtls_status evidence_set_host(mxtls_evidence *ev, const char *host, err_rec *e);
/* evidence_is_ip - an IPv4 or IPv6 address in text form */
int evidence_is_ip(const char *s);
/* evidence_route_parse - one route as given (--route, SMTP route): every
 * form hostport_parse takes (core/hostport.h: "host", "host:port", "[host]",
 * "[host]:port", an address bare or in brackets, "[IPv6:2001:db8::1]").
 * Writes the normalised name or the canonical address into out (outlen
 * bytes); *is_ip says which; *port is the port or 0. MXTLS_OK or an error in e. */
mxtls_status evidence_route_parse(const char *in, char *out, size_t outlen, int *is_ip,
                                  unsigned *port, err_rec *e);
/* evidence_set_chain - the chain as captured by a probe (certificates are
 * up-referenced, the stack copied); MXTLS_OK or MXTLS_ERR_NOMEM */
mxtls_status evidence_set_chain(mxtls_evidence *ev, STACK_OF(X509) *chain);
/* evidence_match_split - the match= items: fingerprints split on '|', ',' and
 * blanks; names on ':', ',' and blanks (Postfix's separators). Out of memory:
 * MXTLS_ERR_NOMEM, and out is freed (empty) */
mxtls_status evidence_match_split(const mxtls_evidence *ev, int fingerprints, strlist *out);

#endif
