/* dnssec_advice.c - validator reasons (libunbound why_bogus) -> operator advice
 *
 * The reasons are unbound's (validator/val_sigcrypt.c, val_utils.c,
 * val_nsec*.c, validator.c): the fixed words, never the names, are matched,
 * so a zone called "nsec.example" is not an NSEC problem. */
#include "core/dnssec_advice.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#define DNSSEC_WHY_MAX 1024

static const char advice_expired[] =
    "The zone's DNSSEC signatures (RRSIG) have expired: re-sign the zone now, and check the job "
    "that re-signs it before they expire (the signer's cron job, or the DNS server's automatic "
    "re-signing).";
static const char advice_not_yet[] =
    "The zone's DNSSEC signatures are not valid yet (their inception time is in the future): "
    "check the clock of the signing host and of the validating resolver, then re-sign the zone.";
static const char advice_ds[] =
    "The DS record at the parent zone matches no DNSKEY of the zone (a key rollover without a "
    "DS update, or a stale DS): publish the DS of the zone's current key-signing key at the "
    "parent (registrar) and remove the old one.";
static const char advice_unsigned[] =
    "The parent publishes a DS record for the zone, so validators require signatures, but the "
    "zone serves records without RRSIG signatures (or no DNSKEY): sign the zone completely with "
    "the key the DS names, or remove the DS at the parent if the zone is meant to be unsigned.";
static const char advice_nsec[] =
    "The zone's proof that a name or record does not exist (NSEC/NSEC3) does not validate: "
    "re-sign the zone so that its NSEC/NSEC3 chain is complete and current, and make every "
    "authoritative server serve the same version.";
static const char advice_crypto[] =
    "A DNSSEC signature does not verify over the records served: they were changed after "
    "signing, or a server serves a stale or differently signed copy of the zone; re-sign the "
    "zone after every change and make every authoritative server serve the same signed zone.";

static const struct {
    const char *words; /* lower case, as it appears in the reason */
    const char *advice;
} dnssec_classes[] = {
    {"signature expired", advice_expired},
    {"signature before inception date", advice_not_yet},
    /* NSEC/NSEC3 before "no signatures" ("no signatures over NSECs") */
    {"nsec ", advice_nsec},
    {"nsecs ", advice_nsec},
    {"nsec3 ", advice_nsec},
    {"nsec3s ", advice_nsec},
    {"proof failed", advice_nsec},
    {"no proof of that", advice_nsec},
    {"fails to prove", advice_nsec},
    {"ds hash mismatches key", advice_ds},
    {"keyset not secured by dnskey that matches ds", advice_ds},
    {"no keys have a ds", advice_ds},
    {"dnskey rrset did not match ds", advice_ds},
    {"did not match a ds to a dnskey", advice_ds},
    {"failed to match any usable ds", advice_ds},
    {"no signatures", advice_unsigned},
    {"no dnskey record", advice_unsigned},
    {"signature for expected key and algorithm missing", advice_unsigned},
    {"no dnssec records", advice_unsigned},
    {"signature verification failed", advice_crypto},
    {"signature crypto failed", advice_crypto},
    {"all signatures are bogus", advice_crypto},
    {"signature inception after expiration", advice_crypto},
};

/* dnssec_words - the reason's words in lower case, without the "<NAME TYPE
 * CLASS>" part and without names (unbound prints them absolute: a word with
 * an inner dot that ends in a dot), one space between words and one after
 * the last */
static void dnssec_words(const char *why, char *out, size_t n)
{
    size_t o = 0;
    const char *p = why;
    const char *lt = strchr(why, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    while (*p && o + 2 < n) {
        if (lt && gt && p == lt) {
            p = gt + 1;
            continue;
        }
        if (isspace((unsigned char)*p) || *p == ':' || *p == ',' || *p == ';' || *p == '(' ||
            *p == ')') {
            p++;
            continue;
        }
        size_t len = 0;
        while (p[len] && !isspace((unsigned char)p[len]) && p[len] != ',' && p[len] != ';' &&
               p[len] != '(' && p[len] != ')' && !(lt && gt && p + len == lt))
            len++;
        const char *dot = memchr(p, '.', len);
        int name = len > 1 && p[len - 1] == '.' && dot && dot < p + len - 1;
        if (!name && o + len + 2 < n) {
            for (size_t i = 0; i < len; i++)
                out[o++] = (char)tolower((unsigned char)p[i]);
            if (len && out[o - 1] == '.')
                o--; /* "thus bogus." */
            out[o++] = ' ';
        }
        p += len;
    }
    out[o] = '\0';
}

const char *dnssec_advice(const char *why)
{
    if (!why || !*why)
        return NULL;
    char words[DNSSEC_WHY_MAX];
    dnssec_words(why, words, sizeof words);
    for (size_t i = 0; i < sizeof dnssec_classes / sizeof dnssec_classes[0]; i++)
        if (strstr(words, dnssec_classes[i].words))
            return dnssec_classes[i].advice;
    return NULL;
}
