/* audit.h - `mxtls audit`: probe a mail server's ports and judge its own TLS configuration
 *
 * For each address of the target (the MX hosts of a domain, a host name, or
 * one address) and each port asked (25, 465, 587 by default), a bounded
 * series of connections, one after the other with a pause between them:
 *
 *   1. the full handshake (every protocol and suite the probe can offer,
 *      SNI = the host name, OCSP staple requested): STARTTLS, EHLO before
 *      and after TLS, the session, the certificate;
 *   2. on 25 and 587, a plaintext dialogue that sends MAIL FROM:<> and QUIT
 *      (no handshake; never RCPT or DATA);
 *   3. one handshake per protocol class (TLS 1.0 only, TLS 1.1 only, TLS 1.2
 *      only when no other probe showed it) and per cipher class
 *      and per key exchange group (core/audit.h), while the port's handshake
 *      budget lasts.
 *
 * The findings come from core/audit.c; the certificate is judged by
 * mxtls_evaluate() at level verify with the names senders use. */
#ifndef MXTLS_ENGINE_AUDIT_H
#define MXTLS_ENGINE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"
#include "engine/check.h"
#include "mxtls.h"

#define AUDIT_MAX_HOSTS 5          /* MX hosts audited (the most preferred first) */
#define AUDIT_MAX_ADDRS 4          /* addresses per host, IPv4 and IPv6 together */
#define AUDIT_MAX_PORTS 3
#define AUDIT_DEFAULT_MAX_HANDSHAKES 13 /* per address and port: every class of a usual server */
#define AUDIT_MAX_MAX_HANDSHAKES 24
#define AUDIT_PACE_MS 200          /* pause between two connections to one address */
#define AUDIT_PROBE_TIMEOUT_MS 20000 /* one probe, all phases */
#define AUDIT_PHASE_TIMEOUT_MS 10000 /* one SMTP phase or the handshake */
#define AUDIT_DEFAULT_TOTAL_TIMEOUT_MS 300000

typedef struct audit_options {
    const char *target;            /* DOMAIN, HOST or address */
    uint16_t ports[AUDIT_MAX_PORTS];
    size_t nports;                 /* 0: 25, 465, 587 */
    int max_handshakes;            /* 0: AUDIT_DEFAULT_MAX_HANDSHAKES */
    int pace_ms;                   /* <0: none; 0: AUDIT_PACE_MS */
    const check_options *net;      /* family, EHLO name, DNS settings, --timeout */
} audit_options;

typedef struct audit_port_result {
    audit_port_obs obs;
    audit_finding findings[AUDIT_MAX_FINDINGS];
    size_t nfindings;
} audit_port_result;

typedef struct audit_address {
    char ip[64];
    audit_port_result ports[AUDIT_MAX_PORTS];
    size_t nports;
} audit_address;

typedef struct audit_host {
    char name[256];                /* "" when the target is an address */
    int pref;                      /* MX preference; -1 when not from an MX record */
    char problem[256];             /* no address to audit: why */
    audit_address addrs[AUDIT_MAX_ADDRS];
    size_t naddrs;
    size_t addrs_dropped;
} audit_host;

typedef enum audit_target_kind {
    AUDIT_TARGET_ADDRESS = 0,
    AUDIT_TARGET_HOST = 1,         /* no MX records: the name itself */
    AUDIT_TARGET_DOMAIN = 2        /* its MX hosts */
} audit_target_kind;

typedef struct audit_report {
    char target[256];
    audit_target_kind kind;
    char dns_problem[320];         /* the target's lookups failed: why */
    int dns_tempfail;              /* ... temporarily (SERVFAIL, timeout, bogus) */
    audit_host hosts[AUDIT_MAX_HOSTS];
    size_t nhosts;
    size_t hosts_dropped;
    int max_handshakes;
    int timed_out;                 /* the --timeout deadline cut probes short */
    int reachable;                 /* at least one port of one address answered */
    size_t counts[3];              /* findings per audit_severity */
    long elapsed_ms;
} audit_report;

/* audit_run - resolve, probe and judge (blocking, on a private event loop).
 * ctx gives the trust store and validation time for the certificate check.
 * Returns the report (free()) or NULL with the error in e (bad options,
 * setup failures, out of memory); failures of the target are findings. */
audit_report *audit_run(mxtls_ctx *ctx, const audit_options *opt, err_rec *e);

#endif
