/* test_dnssec_advice.c - validator reasons (libunbound why_bogus) to advice
 *
 * The texts are libunbound's own: the first two as the test world's
 * validating resolver gives them (mxtls dns bogus-expired.test and
 * bogus-tampered.test inside the world), the others as libunbound 1.17
 * composes them (the reason, " from ADDR", " for key NAME", " while building
 * chain of trust"; the reasons from validator/val_*.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/dnssec_advice.h"

#define EXPIRED                                                                              \
    "The zone's DNSSEC signatures (RRSIG) have expired: re-sign the zone now, and check the " \
    "job that re-signs it before they expire (the signer's cron job, or the DNS server's "   \
    "automatic re-signing)."
#define NOT_YET                                                                              \
    "The zone's DNSSEC signatures are not valid yet (their inception time is in the "         \
    "future): check the clock of the signing host and of the validating resolver, then "     \
    "re-sign the zone."
#define DS                                                                                   \
    "The DS record at the parent zone matches no DNSKEY of the zone (a key rollover without " \
    "a DS update, or a stale DS): publish the DS of the zone's current key-signing key at "  \
    "the parent (registrar) and remove the old one."
#define UNSIGNED                                                                             \
    "The parent publishes a DS record for the zone, so validators require signatures, but "   \
    "the zone serves records without RRSIG signatures (or no DNSKEY): sign the zone "         \
    "completely with the key the DS names, or remove the DS at the parent if the zone is "   \
    "meant to be unsigned."
#define NSEC                                                                                 \
    "The zone's proof that a name or record does not exist (NSEC/NSEC3) does not validate: "  \
    "re-sign the zone so that its NSEC/NSEC3 chain is complete and current, and make every " \
    "authoritative server serve the same version."
#define CRYPTO                                                                               \
    "A DNSSEC signature does not verify over the records served: they were changed after "    \
    "signing, or a server serves a stale or differently signed copy of the zone; re-sign "   \
    "the zone after every change and make every authoritative server serve the same signed " \
    "zone."

static void want(const char *why, const char *advice)
{
    const char *got = dnssec_advice(why);
    if (!advice) {
        if (got)
            fail_msg("\"%s\": expected no advice, got \"%s\"", why ? why : "(null)", got);
        return;
    }
    if (!got)
        fail_msg("\"%s\": no advice", why ? why : "(null)");
    assert_string_equal(got, advice);
}

static void test_expired(void **state)
{
    (void)state;
    /* the world's bogus-expired.test */
    want("validation failure <bogus-expired.test. MX IN>: signature expired from 127.0.1.3 for "
         "key bogus-expired.test. while building chain of trust",
         EXPIRED);
    want("validation failure <www.example.test. A IN>: signature expired from 192.0.2.53",
         EXPIRED);
}

static void test_not_yet_valid(void **state)
{
    (void)state;
    want("validation failure <example.test. MX IN>: signature before inception date from "
         "192.0.2.53 for key example.test. while building chain of trust",
         NOT_YET);
}

static void test_ds_mismatch(void **state)
{
    (void)state;
    want("validation failure <example.test. MX IN>: DS hash mismatches key from 192.0.2.53 for "
         "key example.test. while building chain of trust",
         DS);
    want("validation failure <example.test. MX IN>: keyset not secured by DNSKEY that matches "
         "DS from 192.0.2.53 for key example.test. while building chain of trust",
         DS);
    want("validation failure <example.test. MX IN>: no keys have a DS with algorithm "
         "ECDSAP256SHA256 from 192.0.2.53 for key example.test. while building chain of trust",
         DS);
    want("validation failure <example.test. MX IN>: DNSKEY RRset did not match DS RRset by name "
         "from 192.0.2.53 for key example.test. while building chain of trust",
         DS);
}

static void test_missing_signatures(void **state)
{
    (void)state;
    want("validation failure <www.example.test. A IN>: no signatures from 192.0.2.53", UNSIGNED);
    want("validation failure <example.test. MX IN>: No DNSKEY record from 192.0.2.53 for key "
         "example.test. while building chain of trust",
         UNSIGNED);
    want("validation failure <example.test. MX IN>: signature for expected key and algorithm "
         "missing from 192.0.2.53",
         UNSIGNED);
}

static void test_nsec(void **state)
{
    (void)state;
    want("validation failure <nx.example.test. A IN>: nameerror proof failed from 192.0.2.53",
         NSEC);
    want("validation failure <_25._tcp.mx.example.test. TLSA IN>: nodata proof failed from "
         "192.0.2.53",
         NSEC);
    want("validation failure <sub.example.test. DS IN>: NSECs for the referral did not prove no "
         "DS from 192.0.2.53",
         NSEC);
    want("validation failure <nx.example.test. A IN>: no signatures over NSEC3s from 192.0.2.53",
         NSEC);
    want("validation failure <nx.example.test. A IN>: NSEC3 from child zone", NSEC);
}

static void test_crypto(void **state)
{
    (void)state;
    /* the world's bogus-tampered.test */
    want("validation failure <bogus-tampered.test. MX IN>: ECDSA signature verification failed "
         "from 127.0.1.3",
         CRYPTO);
    want("validation failure <example.test. MX IN>: RSA signature verification failed from "
         "192.0.2.53",
         CRYPTO);
    want("validation failure <example.test. MX IN>: signature crypto failed from 192.0.2.53",
         CRYPTO);
}

/* Names in the text do not count: only unbound's own words. */
static void test_names_do_not_count(void **state)
{
    (void)state;
    want("validation failure <nsec3.signature.expired.test. MX IN>: DS hash mismatches key from "
         "192.0.2.53 for key nsec3.test. while building chain of trust",
         DS);
    want("validation failure <no.signatures.test. MX IN>: unknown new reason from 192.0.2.53 "
         "for key proof.failed.test. while building chain of trust",
         NULL);
    want("validation failure <x.test. A IN>: something unbound has not said before", NULL);
    want("", NULL);
    want(NULL, NULL);
    /* an unterminated "<" hides nothing */
    want("<unterminated signature expired", EXPIRED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expired),         cmocka_unit_test(test_not_yet_valid),
        cmocka_unit_test(test_ds_mismatch),     cmocka_unit_test(test_missing_signatures),
        cmocka_unit_test(test_nsec),            cmocka_unit_test(test_crypto),
        cmocka_unit_test(test_names_do_not_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
