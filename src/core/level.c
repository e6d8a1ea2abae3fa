/* level.c - names of levels, verdicts and security outcomes, and what each
 * level's sender does (level_traits_of)
 *
 * One table converts level names both ways (as Postfix's tls_level_lookup
 * does). The numeric values of the levels are stable identifiers, not an
 * order: Postfix's own order puts dane below verify (tls.h), and nothing in
 * mxtls compares levels numerically; what a level does is in its row of
 * level_table. */
#include <string.h>

#include "core/level.h"

static const struct {
    mxtls_level level;
    const char *name;
} level_names[] = {
    {MXTLS_LEVEL_NONE, "none"},
    {MXTLS_LEVEL_MAY, "may"},
    {MXTLS_LEVEL_ENCRYPT, "encrypt"},
    {MXTLS_LEVEL_FINGERPRINT, "fingerprint"},
    {MXTLS_LEVEL_VERIFY, "verify"},
    {MXTLS_LEVEL_SECURE, "secure"},
    {MXTLS_LEVEL_DANE, "dane"},
    {MXTLS_LEVEL_DANE_ONLY, "dane-only"},
    {MXTLS_LEVEL_ESA_PREFERRED, "esa-preferred"},
    {MXTLS_LEVEL_ESA_REQUIRED, "esa-required"},
    {MXTLS_LEVEL_ESA_PREFERRED_VERIFY, "esa-preferred-verify"},
    {MXTLS_LEVEL_ESA_REQUIRED_VERIFY, "esa-required-verify"},
    {MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED, "esa-required-verify-hosted"},
    {MXTLS_LEVEL_MTA_STS, "mta-sts"},
    {MXTLS_LEVEL_REQUIRETLS, "requiretls"},
};

/* The levels reports evaluate, in report order. */
static const mxtls_level offline_levels[] = {
    MXTLS_LEVEL_NONE,
    MXTLS_LEVEL_MAY,
    MXTLS_LEVEL_ENCRYPT,
    MXTLS_LEVEL_FINGERPRINT,
    MXTLS_LEVEL_VERIFY,
    MXTLS_LEVEL_SECURE,
    MXTLS_LEVEL_DANE,
    MXTLS_LEVEL_DANE_ONLY,
    MXTLS_LEVEL_ESA_PREFERRED,
    MXTLS_LEVEL_ESA_REQUIRED,
    MXTLS_LEVEL_ESA_PREFERRED_VERIFY,
    MXTLS_LEVEL_ESA_REQUIRED_VERIFY,
    MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED,
    MXTLS_LEVEL_MTA_STS,
    MXTLS_LEVEL_REQUIRETLS,
};

const char *mxtls_level_name(mxtls_level level)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (level_names[i].level == level)
            return level_names[i].name;
    return NULL;
}

mxtls_level mxtls_level_from_name(const char *name)
{
    if (!name)
        return MXTLS_LEVEL_INVALID;
    if (strcmp(name, "dane_only") == 0)
        return MXTLS_LEVEL_DANE_ONLY;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcmp(level_names[i].name, name) == 0)
            return level_names[i].level;
    return MXTLS_LEVEL_INVALID;
}

const mxtls_level *mxtls_levels(size_t *n)
{
    *n = sizeof offline_levels / sizeof offline_levels[0];
    return offline_levels;
}

const char *mxtls_verdict_name(mxtls_verdict v)
{
    switch (v) {
    case MXTLS_VERDICT_PASS: return "pass";
    case MXTLS_VERDICT_FAIL: return "fail";
    case MXTLS_VERDICT_TEMPFAIL: return "tempfail";
    }
    return "unknown";
}

const char *mxtls_security_name(mxtls_security s)
{
    switch (s) {
    case MXTLS_SECURITY_NONE: return "none";
    case MXTLS_SECURITY_PLAINTEXT: return "plaintext";
    case MXTLS_SECURITY_ENCRYPTED: return "encrypted";
    case MXTLS_SECURITY_VERIFIED: return "verified";
    case MXTLS_SECURITY_DANE: return "dane";
    }
    return "unknown";
}

/* What each level's sender does with its default configuration. Sources:
 * Postfix 3.7 src/tls/tls_client.c tls_auth_enable() (SNI only when
 * smtp_tls_servername is set, the TLSA base domain at DANE levels) and no
 * CRL/OCSP code anywhere in src/tls or src/smtp; Cisco AsyncOS user guides
 * ("Encrypting Communication with Other MTAs") document neither SNI nor
 * revocation checking on delivery: mxtls assumes neither (docs/policies.md). */
/* sender, SNI, revocation checked, authentication, reference identities,
 * requires TLS, plaintext fallback (before the 220 only), enforces the
 * authentication, Postfix status codes */
#define P LEVEL_SENDER_POSTFIX
#define E LEVEL_SENDER_ESA
static const level_traits level_table[] = {
    {MXTLS_LEVEL_NONE, P, LEVEL_SNI_SERVERNAME, 0, LEVEL_AUTH_NONE, LEVEL_REFS_NONE, 0, 0, 0, 0, 1},
    {MXTLS_LEVEL_MAY, P, LEVEL_SNI_SERVERNAME, 0, LEVEL_AUTH_ENCRYPT_ONLY, LEVEL_REFS_NONE, 0, 1, 0,
     0, 1},
    {MXTLS_LEVEL_ENCRYPT, P, LEVEL_SNI_SERVERNAME, 0, LEVEL_AUTH_ENCRYPT_ONLY, LEVEL_REFS_NONE, 1,
     0, 0, 0, 1},
    {MXTLS_LEVEL_FINGERPRINT, P, LEVEL_SNI_SERVERNAME, 0, LEVEL_AUTH_FINGERPRINT, LEVEL_REFS_NONE,
     1, 0, 0, 1, 1},
    {MXTLS_LEVEL_VERIFY, P, LEVEL_SNI_SERVERNAME, 0, LEVEL_AUTH_PKIX, LEVEL_REFS_POSTFIX, 1, 0, 0,
     1, 1},
    {MXTLS_LEVEL_SECURE, P, LEVEL_SNI_SERVERNAME, 0, LEVEL_AUTH_PKIX, LEVEL_REFS_POSTFIX, 1, 0, 0,
     1, 1},
    {MXTLS_LEVEL_DANE, P, LEVEL_SNI_DANE_BASE, 0, LEVEL_AUTH_DANE, LEVEL_REFS_NONE, 0, 1, 0, 1, 1},
    {MXTLS_LEVEL_DANE_ONLY, P, LEVEL_SNI_DANE_BASE, 0, LEVEL_AUTH_DANE, LEVEL_REFS_NONE, 1, 0, 0, 1,
     1},
    {MXTLS_LEVEL_ESA_PREFERRED, E, LEVEL_SNI_ESA, 0, LEVEL_AUTH_ENCRYPT_ONLY, LEVEL_REFS_NONE, 0, 1,
     1, 0, 0},
    {MXTLS_LEVEL_ESA_REQUIRED, E, LEVEL_SNI_ESA, 0, LEVEL_AUTH_ENCRYPT_ONLY, LEVEL_REFS_NONE, 1, 0,
     0, 0, 0},
    {MXTLS_LEVEL_ESA_PREFERRED_VERIFY, E, LEVEL_SNI_ESA, 0, LEVEL_AUTH_PKIX, LEVEL_REFS_ESA, 0, 1, 1,
     0, 0},
    {MXTLS_LEVEL_ESA_REQUIRED_VERIFY, E, LEVEL_SNI_ESA, 0, LEVEL_AUTH_PKIX, LEVEL_REFS_ESA, 1, 0, 0,
     1, 0},
    {MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED, E, LEVEL_SNI_ESA, 0, LEVEL_AUTH_PKIX,
     LEVEL_REFS_ESA_HOSTED, 1, 0, 0, 1, 0},
    /* RFC 8461 requires no revocation checking and the large senders
     * document none: assumed not checked (docs/policies.md). Evaluated by
     * core/mtasts_eval.c: DANE first, then the policy in force, else as may. */
    {MXTLS_LEVEL_MTA_STS, LEVEL_SENDER_MTA_STS, LEVEL_SNI_MX_HOSTNAME, 0, LEVEL_AUTH_MTA_STS,
     LEVEL_REFS_NONE, 0, 1, 0, 1, 0},
    /* A REQUIRETLS sender authenticates by DANE or MTA-STS: it sends what
     * an MTA-STS sender sends (the TLSA base domain where DANE applies). */
    {MXTLS_LEVEL_REQUIRETLS, LEVEL_SENDER_MTA_STS, LEVEL_SNI_MX_HOSTNAME, 0, LEVEL_AUTH_REQUIRETLS,
     LEVEL_REFS_NONE, 1, 0, 0, 1, 0},
};
#undef P
#undef E

const level_traits *level_traits_of(mxtls_level level)
{
    for (size_t i = 0; i < sizeof level_table / sizeof level_table[0]; i++)
        if (level_table[i].level == level)
            return &level_table[i];
    return NULL;
}

const char *level_sender_name(level_sender s)
{
    switch (s) {
    case LEVEL_SENDER_POSTFIX: return "Postfix";
    case LEVEL_SENDER_ESA: return "Cisco ESA";
    case LEVEL_SENDER_MTA_STS: return "MTA-STS senders (Gmail, Microsoft, ...)";
    }
    return "?";
}
