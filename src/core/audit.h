/* audit.h - a mail server's own TLS configuration: observations -> findings -> advice
 *
 * Pure. `mxtls audit` (src/engine/audit.c) fills one audit_port_obs per
 * address and port from a bounded set of probes; audit_findings() turns it
 * into findings, each tied to a row of the advice table: a stable id, a
 * severity, the Postfix parameter that controls it, a main.cf/master.cf
 * snippet that fixes it, and one line for Exim and OpenSMTPD.
 * docs/audit.md lists every row. */
#ifndef MXTLS_CORE_AUDIT_H
#define MXTLS_CORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_MAX_FINDINGS 32
#define AUDIT_DETAIL_MAX 320

typedef enum audit_severity {
    AUDIT_INFO = 0,
    AUDIT_WARNING = 1,
    AUDIT_ERROR = 2
} audit_severity;

/* What a probe showed about one property. NOT_TESTED: no probe asked (the
 * handshake budget ran out, the port is closed, or an earlier step failed). */
typedef enum audit_tri {
    AUDIT_NOT_TESTED = 0,
    AUDIT_NO = 1,
    AUDIT_YES = 2
} audit_tri;

/* How the port is meant to be used: it decides which rules apply and some
 * severities (RFC 8314 §3 for 465, RFC 6409 for 587, RFC 3207 §4 for 25). */
typedef enum audit_role {
    AUDIT_ROLE_MX = 0,         /* 25: other MTAs deliver here; TLS is opportunistic */
    AUDIT_ROLE_SUBMISSION = 1, /* 587: mail clients, STARTTLS required */
    AUDIT_ROLE_SUBMISSIONS = 2 /* 465: mail clients, TLS on connect */
} audit_role;

/* TLS protocol versions the probes ask for one at a time. SSL 2 and 3 are
 * not in this list: the OpenSSL 3 the probes use cannot speak them. */
typedef enum audit_proto {
    AUDIT_TLS1_0 = 0,
    AUDIT_TLS1_1 = 1,
    AUDIT_TLS1_2 = 2,
    AUDIT_TLS1_3 = 3,
    AUDIT_NPROTOS = 4
} audit_proto;

/* Cipher suite classes, each asked with one handshake limited to TLS 1.2
 * (TLS 1.3 has only AEAD suites). The OpenSSL lists are testssl.sh 3.0's
 * (run_cipherlists), so the two tools ask the same question. EXPORT, LOW
 * (DES, RC2, RC4) are not asked: OpenSSL 3 cannot offer them, and a server
 * built on OpenSSL 3 cannot accept them either. */
typedef enum audit_cipher_class {
    AUDIT_CIPHERS_NULL = 0,    /* weak: no encryption */
    AUDIT_CIPHERS_ANON = 1,    /* anonymous: no server authentication */
    AUDIT_CIPHERS_3DES = 2,    /* weak: 64-bit blocks (Sweet32), IDEA */
    AUDIT_CIPHERS_CBC = 3,     /* acceptable: obsolete CBC modes (AES, CAMELLIA, ARIA) */
    AUDIT_CIPHERS_AEAD = 4,    /* strong: AES-GCM, CHACHA20-POLY1305, AES-CCM */
    AUDIT_NCIPHER_CLASSES = 5
} audit_cipher_class;

/* Key exchange groups, each asked with one handshake that offers only that
 * group. The EC groups are asked with TLS 1.3 and, for TLS 1.2, ECDHE suites
 * only, so that a handshake cannot fall back to another key exchange.
 * ffdhe2048 is asked with TLS 1.3 only (RFC 8446 named group); DHE is the
 * TLS 1.2 DHE suites, whose parameters the server chooses (no group is
 * negotiated: RFC 7919 negotiation is not implemented by OpenSSL servers). */
typedef enum audit_group {
    AUDIT_GROUP_X25519 = 0,
    AUDIT_GROUP_P256 = 1,      /* OpenSSL's short name prime256v1 (secp256r1) */
    AUDIT_GROUP_P384 = 2,      /* secp384r1 */
    AUDIT_GROUP_FFDHE2048 = 3, /* TLS 1.3 only */
    AUDIT_GROUP_DHE = 4,       /* TLS 1.2 DHE suites, server-chosen parameters */
    AUDIT_NGROUPS = 5
} audit_group;

/* audit_group_name - "X25519", "prime256v1", "secp384r1", "ffdhe2048", "DHE"
 * (the first four as OpenSSL and Postfix name the negotiated group) */
const char *audit_group_name(audit_group g);
/* audit_group_offer - the SSL_set1_groups_list argument a probe offers for g;
 * NULL for DHE (no group is offered for TLS 1.2 DHE) */
const char *audit_group_offer(audit_group g);
/* audit_group_cipher_list - the TLS 1.2 cipher list that goes with it: ECDHE
 * suites for the EC groups, DHE suites for DHE; NULL for ffdhe2048 (TLS 1.3) */
const char *audit_group_cipher_list(audit_group g);
/* audit_group_of - the class a negotiated group name answers (the probe's
 * "DH-<bits>" for TLS <= 1.2 DHE is DHE), -1 if none */
int audit_group_of(const char *negotiated);

/* audit_cipher_class_name - "null", "anonymous", "3des", "cbc", "aead" */
const char *audit_cipher_class_name(audit_cipher_class c);
/* audit_cipher_class_grade - "weak", "anonymous", "acceptable", "strong" */
const char *audit_cipher_class_grade(audit_cipher_class c);
/* audit_cipher_class_list - the OpenSSL cipher list a probe offers for c */
const char *audit_cipher_class_list(audit_cipher_class c);
/* audit_proto_name - "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" (OpenSSL's names) */
const char *audit_proto_name(audit_proto p);
/* audit_role_name - "mx", "submission", "submissions" */
const char *audit_role_name(audit_role r);
/* audit_role_for_port - 465: submissions, 587: submission, else mx */
audit_role audit_role_for_port(uint16_t port);
const char *audit_severity_name(audit_severity s); /* "info", "warning", "error" */

/* audit_port_obs - what the probes of one address and port showed */
typedef struct audit_port_obs {
    uint16_t port;
    audit_role role;
    int reachable;                  /* connected and the SMTP greeting (or, on 465,
                                       the handshake) happened */
    char unreachable_why[160];      /* when not reachable */
    audit_tri starttls_offered;     /* the pre-TLS EHLO announced STARTTLS (not 465) */
    int tls_ok;                     /* the first (full) handshake completed */
    char tls_error[200];            /* when STARTTLS or implicit TLS was tried and failed */
    audit_tri auth_before_tls;      /* AUTH in the EHLO reply before TLS */
    audit_tri auth_after_tls;       /* AUTH in the EHLO reply over TLS */
    audit_tri requiretls;           /* REQUIRETLS (RFC 8689) over TLS */
    char extensions[256];           /* keywords of the EHLO reply over TLS, space-separated */
    audit_tri mail_without_tls;     /* MAIL FROM:<> accepted (2xx) before STARTTLS */
    int mail_code;                  /* the reply code to that probe, 0 if none */
    char mail_reply[200];
    audit_tri proto[AUDIT_NPROTOS];
    audit_tri ciphers[AUDIT_NCIPHER_CLASSES];
    audit_tri groups[AUDIT_NGROUPS]; /* a handshake offering only that group used it */
    char version[16];               /* of the first handshake */
    char cipher[64];
    char group[32];                 /* key exchange group; "" if unknown */
    char key_type[16];              /* "RSA", "EC", "ED25519" ... */
    int key_bits;
    audit_tri ocsp_stapled;
    audit_tri client_cert_requested;
    int handshakes;                 /* TLS handshakes this port's probes attempted */
    int handshakes_skipped;         /* probe classes left out by --max-handshakes */
    /* The certificate as senders judge it: mxtls_evaluate() at level
     * verify with the names senders use (cert_checked 0: not judged). */
    int cert_checked;
    int cert_ok;
    char cert_code[40];             /* decisive reason code when not ok ("name-mismatch") */
    char cert_message[AUDIT_DETAIL_MAX];
    char cert_names[200];           /* the reference names the check used */
} audit_port_obs;

/* audit_rule - one row of the advice table (static storage) */
typedef struct audit_rule {
    const char *id;                 /* stable: "auth-before-tls" */
    audit_severity severity_mx;     /* on port 25 */
    audit_severity severity_submission; /* on 465 and 587 */
    const char *title;              /* one line: what is wrong */
    const char *postfix_param;      /* the Postfix parameter(s) in control */
    const char *postfix_fix;        /* main.cf / master.cf lines that fix it */
    const char *exim;               /* one line for Exim, or NULL: same idea as Postfix */
    const char *opensmtpd;          /* one line for OpenSMTPD, or NULL */
} audit_rule;

/* audit_rule_find - the row for an id, NULL if none */
const audit_rule *audit_rule_find(const char *id);
/* audit_rules - the whole table, in report order; *n receives its size */
const audit_rule *audit_rules(size_t *n);

typedef struct audit_finding {
    const audit_rule *rule;
    audit_severity severity;        /* the rule's severity for the port's role */
    char detail[AUDIT_DETAIL_MAX];  /* what was observed, one sentence */
} audit_finding;

/* audit_findings - the findings for one port's observations, in table
 * order; at most max are written, the count of all is returned */
size_t audit_findings(const audit_port_obs *o, audit_finding *out, size_t max);

/* audit_worst - the highest severity among n findings; -1 when n is 0 */
int audit_worst(const audit_finding *f, size_t n);

#endif
