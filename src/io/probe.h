/* probe.h - one SMTP connection: socket + OpenSSL driving the smtp state machine
 *
 * The adapter owns the socket, the timers and the SSL object; the dialogue is
 * src/core/smtp.c's. A probe never verifies anything during the handshake
 * (SSL_VERIFY_NONE): it records the chain as sent, and the pure policy code
 * judges it afterwards, the same way `mxtls verify` judges files. */
#ifndef MXTLS_IO_PROBE_H
#define MXTLS_IO_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "core/base.h"
#include "core/smtp.h"

struct event_base;

#define PROBE_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define PROBE_DEFAULT_PHASE_TIMEOUT_MS 30000   /* per SMTP phase and for the handshake */
#define PROBE_DEFAULT_TOTAL_TIMEOUT_MS 60000   /* whole probe deadline */
#define PROBE_MAX_OCSP_STAPLE (64u * 1024u)
#define PROBE_READ_CHUNK 4096

typedef struct probe_config {
    const char *ip;            /* address to connect to (IPv4 or IPv6 text) */
    uint16_t port;             /* 25 unless told */
    const char *ehlo_name;     /* name announced in EHLO */
    const char *sni;           /* server name to send; NULL: no SNI */
    int implicit_tls;          /* TLS on connect (port 465) */
    int no_starttls;           /* do not upgrade even if offered */
    int want_ocsp_staple;      /* request a stapled OCSP response (status_request) */
    /* A Postfix policy entry's handshake limits (core/tlsparams.h); all zero
     * and NULL: OpenSSL's defaults. */
    unsigned proto_excluded;   /* TLSP_* bits turned off (SSL_OP_NO_*) */
    unsigned proto_floor, proto_ceiling; /* ">=" / "<=" bounds, TLSP_* bit or 0 */
    const char *cipher_list;   /* OpenSSL list for TLS 1.2 and older, or NULL */
    const char *groups_list;   /* key exchange groups offered (SSL_set1_groups_list),
                                  or NULL: OpenSSL's defaults */
    int postfix_security;      /* OpenSSL security level 1, as Postfix's client has it
                                  at levels that authenticate the server, instead of
                                  the probe's 0 */
    int connect_timeout_ms, phase_timeout_ms, total_timeout_ms; /* 0: defaults */
    int mail_probe;            /* smtp_config.mail_probe: MAIL FROM:<> in a plaintext
                                  dialogue, then QUIT (mxtls audit) */
} probe_config;

typedef struct probe_tls {
    char *version;             /* "TLSv1.3" */
    char *cipher;              /* "TLS_AES_256_GCM_SHA384" */
    char *group;               /* key exchange group, "X25519"; NULL if unknown */
    char *peer_key_type;       /* "EC", "RSA", "ED25519" ... */
    int peer_key_bits;
    char *sni_sent;            /* the SNI our ClientHello offers (set as the handshake
                                  starts, before a drop can race it); NULL for none */
    STACK_OF(X509) *chain;     /* as sent by the server, leaf first (owned) */
    unsigned char *ocsp_staple;/* DER OCSP response, if stapled */
    size_t ocsp_staple_len;
    char *error;               /* handshake failure in plain words (OpenSSL's reason) */
    int client_cert_requested; /* the server sent a CertificateRequest */
    int client_cert_sent;      /* ... and we answered with a certificate */
} probe_tls;

typedef struct probe_report {
    char *ip;
    uint16_t port;
    int connected;             /* TCP connected */
    int stopped;               /* stopped by its caller (probe_stop): no outcome of its own */
    int local_failure;         /* out of memory, or the event loop refused an event: the
                                  report is incomplete and says nothing of the server */
    char *connect_error;       /* "connection refused", "timed out", ... */
    smtp_obs smtp;             /* a copy of the machine's observations (owned; see probe_report_free) */
    char *greeting_host;       /* copy of smtp.greeting_host (the copy in smtp is NULLed) */
    probe_tls tls;             /* filled when a handshake was attempted */
    int tls_attempted, tls_ok;
    long elapsed_ms;
    size_t bytes_in, bytes_out;
    unsigned refs;             /* owners besides the first (probe_report_ref) */
    char *json;                /* its JSON object, set by the first probe_report_json
                                  (report/probe_report.c): a complete report does not
                                  change otherwise, and a survey shows one shared probe
                                  in every report of a domain behind it */
} probe_report;

/* probe_report_free - drop one owner's hold; the last one frees (NULL: no-op) */
void probe_report_free(probe_report *r);
/* probe_report_ref - one more owner of a finished report, which is then
 * read-only but for its JSON memo (the engine's shared probe results,
 * engine/probeshare.h); returns r */
probe_report *probe_report_ref(probe_report *r);

/* probe_cb - called once when the probe ends; the callee owns `r` */
typedef void (*probe_cb)(void *arg, probe_report *r);

typedef struct probe probe;

/* probe_start - connect and run the dialogue on the loop. ssl_ctx is the
 * caller's client context (not verified here; shared by many probes). Returns
 * the probe (for probe_cancel) or NULL with the error in e; the callback never
 * runs inside probe_start(). */
probe *probe_start(struct event_base *base, SSL_CTX *ssl_ctx, const probe_config *cfg,
                   probe_cb cb, void *arg, err_rec *e);
/* probe_cancel - stop a probe that has not reported yet; its callback is not called */
void probe_cancel(probe *p);
/* probe_stop - stop a probe that has not reported yet, for the caller's own
 * deadline, and hand back what it saw so far instead of calling back: the
 * connection state, the dialogue up to then (a reply still incomplete is
 * quoted in the reason as far as it arrived), the TLS session if any, with
 * outcome timeout and WHY ("the check's deadline of 2000 ms") in the reason.
 * The caller owns the report (probe_report_free); NULL inside the callback
 * (the probe reports itself). */
probe_report *probe_stop(probe *p, const char *why);

/* probe_ssl_ctx_new - an SSL_CTX for probing: TLS 1.0-1.3 allowed (to report
 * what the server offers), no verification during the handshake, session
 * tickets off. NULL with the error in e. */
SSL_CTX *probe_ssl_ctx_new(err_rec *e);
/* probe_ssl_ctx_client_cert - present this certificate chain (PEM, leaf
 * first) and key (PEM; NULL: in the chain file) when a server asks for a
 * client certificate. 0, or -1 with what is wrong in e. */
int probe_ssl_ctx_client_cert(SSL_CTX *c, const char *chain_file, const char *key_file,
                              err_rec *e);

#endif
