/* level.h - what each level's sender does on the wire, as data
 *
 * A level is named after a sender, and its verdict must come from the
 * handshake that sender makes with its default configuration. This table
 * says which sender that is, which server name it sends (SNI) and whether it
 * checks revocation; the engine plans its connections from it, so a level's
 * row changes with the sender's behaviour, not a switch in the engine.
 * Sources for every row: docs/policies.md, "What each sender sends". */
#ifndef MXTLS_CORE_LEVEL_H
#define MXTLS_CORE_LEVEL_H

#include "mxtls.h"

typedef enum level_sender {
    LEVEL_SENDER_POSTFIX, /* Postfix smtp(8), smtp_tls_security_level / policy maps */
    LEVEL_SENDER_ESA,     /* Cisco Secure Email (AsyncOS) destination controls */
    LEVEL_SENDER_MTA_STS  /* MTA-STS senders (Gmail, Microsoft, ...), RFC 8461 */
} level_sender;

/* Which name a sender puts in the TLS ClientHello (RFC 6066 server_name). */
typedef enum level_sni_rule {
    /* Postfix: smtp_tls_servername (or a policy entry's servername=); unset by
     * default, and then no SNI at all (tls_client.c). */
    LEVEL_SNI_SERVERNAME,
    /* Postfix dane/dane-only: the TLSA base domain while DANE applies to the
     * host (usable, secure TLSA records); otherwise the level is carried out
     * as may/encrypt and sends what LEVEL_SNI_SERVERNAME sends. */
    LEVEL_SNI_DANE_BASE,
    /* Cisco ESA: see esa_sni in level.c and docs/policies.md. */
    LEVEL_SNI_ESA,
    /* The MX hostname: what MTA-STS senders send (RFC 8461 §4.2 validates the
     * certificate against the MX host, so it is the name a server with
     * several certificates must choose by; docs/policies.md). While DANE
     * applies to the host, the TLSA base domain (RFC 7672 §3.1.1). */
    LEVEL_SNI_MX_HOSTNAME
} level_sni_rule;

/* How the level authenticates the server (Postfix's TLS_MUST_MATCH,
 * TLS_MUST_PKIX, TLS_DANE_BASED over tls_level.c, as data). */
typedef enum level_auth {
    LEVEL_AUTH_NONE,          /* TLS is not used at all (Postfix none) */
    LEVEL_AUTH_ENCRYPT_ONLY,  /* TLS, any certificate (may, encrypt, ESA Preferred/Required) */
    LEVEL_AUTH_FINGERPRINT,   /* certificate or key digests (Postfix fingerprint) */
    LEVEL_AUTH_PKIX,          /* chain to a trusted CA + reference names */
    LEVEL_AUTH_DANE,          /* TLSA records (RFC 7672), else as may/encrypt */
    LEVEL_AUTH_MTA_STS,       /* DANE first, then the MTA-STS policy (core/mtasts_eval.c) */
    LEVEL_AUTH_REQUIRETLS     /* REQUIRETLS over DANE or MTA-STS (RFC 8689 §4.2) */
} level_auth;

/* Which reference identities a PKIX level compares (docs/policies.md). */
typedef enum level_refs {
    LEVEL_REFS_NONE,
    LEVEL_REFS_POSTFIX,       /* match= strategies: hostname, nexthop, dot-nexthop */
    LEVEL_REFS_ESA,           /* recipient domain (SAN, CN), forward-confirmed PTR (CN) */
    LEVEL_REFS_ESA_HOSTED     /* recipient domain, connected route or MX hostname */
} level_refs;

typedef struct level_traits {
    mxtls_level level;
    level_sender sender;
    level_sni_rule sni;
    int checks_revocation;  /* with the sender's default configuration */
    level_auth auth;
    level_refs refs;
    int requires_tls;       /* no delivery in plaintext */
    /* After a failed TLS handshake the sender retries in plaintext: Postfix
     * may (smtp_proto.c RETRY_AS_PLAINTEXT) and Cisco's Preferred modes, which
     * fall back only on errors before the 220 reply to STARTTLS. */
    int plaintext_fallback;
    int fallback_before_220_only;
    int enforces_auth;      /* a failed verification stops delivery (not ESA Preferred-Verify) */
    int postfix_status;     /* reasons carry the RFC 3463 status Postfix logs */
} level_traits;

/* level_traits_of - the row of a level, NULL for an unknown level */
const level_traits *level_traits_of(mxtls_level level);

/* level_sender_name - "Postfix", "Cisco ESA" */
const char *level_sender_name(level_sender s);

#endif
