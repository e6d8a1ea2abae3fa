/* test_dane.c - DANE: TLSA record parsing, usability (RFC 7672 §3.1.3),
 * OpenSSL's DANE verifier on the test PKI, the dane/dane-only levels, and
 * the TLSA toolkit (engine/tlsa_check: generation and the check analysis on
 * hand-built check reports)
 *
 * Certificates come from tests/pki/gen-unit-certs.sh ($MXTLS_TEST_CERTS);
 * their keys are fresh on every run, so expected association data is
 * computed here from the certificates (and once independently, with EVP on
 * the DER). Validation time: 2026-06-01T00:00:00Z. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/chain.h"
#include "core/dane.h"
#include "core/result.h"
#include "engine/check.h"
#include "engine/tlsa_check.h"
#include "mxtls.h"
#include "testutil.h"

#define AT_TEXT "2026-06-01T00:00:00Z"

/* at_default - 2026-06-01T00:00:00Z */
static time_t at_default(void)
{
    struct tm tm = {0};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 5;
    tm.tm_mday = 1;
    return timegm(&tm);
}

/* load_chain - a test PEM file as a chain; caller chain_free()s */
static STACK_OF(X509) *load_chain(const char *name)
{
    size_t len;
    char *pem = tu_read_cert(name, &len);
    err_rec e;
    err_clear(&e);
    STACK_OF(X509) *c = chain_parse_pem(pem, len, name, &e);
    free(pem);
    if (!c)
        fail_msg("%s: %s: %s", name, e.where, e.message);
    return c;
}

/* rr_of - the record (usage, selector, mtype) for the first certificate of a
 * test file; caller dane_rr_clear()s */
static dane_rr rr_of(const char *file, uint8_t u, uint8_t s, uint8_t m)
{
    X509 *x = tu_load_x509(file);
    size_t len = 0;
    unsigned char *d = dane_association(x, s, m, &len);
    assert_non_null(d);
    dane_rr rr = {0};
    assert_int_equal(dane_rr_set(&rr, u, s, m, d, len), 0);
    free(d);
    X509_free(x);
    return rr;
}

/* rr_text_of - "U S M hex" of rr_of(); static buffer (one at a time) */
static const char *rr_text_of(const char *file, uint8_t u, uint8_t s, uint8_t m)
{
    static char buf[2 * DANE_MAX_DATA + 16];
    dane_rr rr = rr_of(file, u, s, m);
    char *t = dane_rr_text(&rr);
    assert_non_null(t);
    snprintf(buf, sizeof buf, "%s", t);
    free(t);
    dane_rr_clear(&rr);
    return buf;
}

/* rr_bytes - a record with len bytes of 0xab */
static dane_rr rr_bytes(uint8_t u, uint8_t s, uint8_t m, size_t len)
{
    unsigned char buf[DANE_MAX_DATA];
    memset(buf, 0xab, sizeof buf);
    dane_rr rr = {0};
    assert_int_equal(dane_rr_set(&rr, u, s, m, buf, len), 0);
    return rr;
}

static void rrs_clear(dane_rr *rrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dane_rr_clear(&rrs[i]);
}

/* ---- dane_rr_parse ------------------------------------------------------ */

static void test_parse_good(void **state)
{
    (void)state;
    dane_rr rr;
    err_rec e;
    err_clear(&e);
    assert_int_equal(dane_rr_parse("3 1 1 0A1b2C3d", &rr, &e), 0);
    assert_int_equal(rr.usage, 3);
    assert_int_equal(rr.selector, 1);
    assert_int_equal(rr.mtype, 1);
    assert_int_equal(rr.len, 4);
    static const unsigned char want[] = {0x0a, 0x1b, 0x2c, 0x3d};
    assert_memory_equal(rr.data, want, 4);
    char *t = dane_rr_text(&rr);
    assert_string_equal(t, "3 1 1 0a1b2c3d");
    free(t);
    dane_rr_clear(&rr);
    assert_null(rr.data);
    assert_int_equal(rr.len, 0);

    /* Leading blanks, tabs between fields, three-digit fields, 255. */
    assert_int_equal(dane_rr_parse(" \t255\t003 000 ff", &rr, &e), 0);
    assert_int_equal(rr.usage, 255);
    assert_int_equal(rr.selector, 3);
    assert_int_equal(rr.mtype, 0);
    assert_int_equal(rr.len, 1);
    assert_int_equal(rr.data[0], 0xff);
    dane_rr_clear(&rr);
}

static void test_parse_blanks_in_hex(void **state)
{
    (void)state;
    dane_rr rr;
    err_rec e;
    err_clear(&e);
    /* Zone files split long hex with blanks (RFC 6698 §2.2); even a blank
     * inside a byte is only presentation. */
    assert_int_equal(dane_rr_parse("2 0 1 0a1b 2c3d\t4e5f  6", &rr, &e), -1);
    assert_int_equal(dane_rr_parse("2 0 1 0a1b 2c3d\t4e5f  60 ", &rr, &e), 0);
    assert_int_equal(rr.len, 7);
    assert_int_equal(rr.data[6], 0x60);
    dane_rr_clear(&rr);
    assert_int_equal(dane_rr_parse("3 1 1 a b", &rr, &e), 0);
    assert_int_equal(rr.len, 1);
    assert_int_equal(rr.data[0], 0xab);
    dane_rr_clear(&rr);
}

/* parse_error - text must fail with this code and message */
static void parse_error(const char *text, mxtls_status code, const char *message)
{
    dane_rr rr;
    err_rec e;
    err_clear(&e);
    if (dane_rr_parse(text, &rr, &e) != -1)
        fail_msg("\"%s\" parsed", text);
    assert_int_equal(e.code, code);
    assert_string_equal(e.where, "TLSA");
    assert_string_equal(e.message, message);
    assert_null(rr.data);
}

static void test_parse_bad_fields(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",            "3",          "3 1",         "3 1 1",      "3 1 1\n",
        "x 1 1 ab",    "3 x 1 ab",   "3 1 x",       "3,1,1 ab",   "-3 1 1 ab",
        "+3 1 1 ab",   "3 1 1ab",    "0003 1 1 ab", "3 1 01234 ab", "3\n1 1 ab",
    };
    char msg[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(msg, sizeof msg,
                 "\"%.80s\": expected \"USAGE SELECTOR MTYPE HEX\" with three numbers from 0 "
                 "to 255",
                 bad[i]);
        parse_error(bad[i], MXTLS_ERR_PARSE, msg);
    }
}

static void test_parse_over_255(void **state)
{
    (void)state;
    parse_error("256 1 1 ab", MXTLS_ERR_PARSE,
                "\"256 1 1 ab\": expected \"USAGE SELECTOR MTYPE HEX\" with three numbers from 0 "
                "to 255");
    parse_error("3 999 1 ab", MXTLS_ERR_PARSE,
                "\"3 999 1 ab\": expected \"USAGE SELECTOR MTYPE HEX\" with three numbers from 0 "
                "to 255");
    parse_error("3 1 300 ab", MXTLS_ERR_PARSE,
                "\"3 1 300 ab\": expected \"USAGE SELECTOR MTYPE HEX\" with three numbers from 0 "
                "to 255");
}

static void test_parse_bad_hex(void **state)
{
    (void)state;
    parse_error("3 1 1 abc", MXTLS_ERR_PARSE,
                "\"3 1 1 abc\": the association data must be a non-empty even number of hex "
                "digits");
    parse_error("3 1 1  ", MXTLS_ERR_PARSE,
                "\"3 1 1  \": the association data must be a non-empty even number of hex "
                "digits");
    parse_error("3 1 1 abzz", MXTLS_ERR_PARSE, "\"3 1 1 abzz\": 'z' is not a hex digit");
    parse_error("3 1 1 0x0a", MXTLS_ERR_PARSE, "\"3 1 1 0x0a\": 'x' is not a hex digit");
    parse_error("3 1 1 ab\n", MXTLS_ERR_PARSE, "\"3 1 1 ab\n\": '\n' is not a hex digit");
}

static void test_parse_too_long(void **state)
{
    (void)state;
    /* DANE_MAX_DATA bytes (a full certificate fits) is the edge. */
    size_t n = 6 + 2 * (DANE_MAX_DATA + 1);
    char *text = malloc(n + 1);
    assert_non_null(text);
    memcpy(text, "3 0 0 ", 6);
    memset(text + 6, 'a', n - 6);
    text[6 + 2 * DANE_MAX_DATA] = '\0';
    dane_rr rr;
    err_rec e;
    err_clear(&e);
    assert_int_equal(dane_rr_parse(text, &rr, &e), 0);
    assert_int_equal(rr.len, DANE_MAX_DATA);
    assert_string_equal(dane_rr_unusable_why(&rr), "full certificate data (matching type 0) "
                                                   "that is not one DER certificate");
    dane_rr_clear(&rr);
    text[6 + 2 * DANE_MAX_DATA] = 'a';
    text[n] = '\0';
    assert_int_equal(dane_rr_parse(text, &rr, &e), -1);
    assert_int_equal(e.code, MXTLS_ERR_LIMIT);
    assert_string_equal(e.message, "association data longer than 8192 bytes");
    free(text);

    unsigned char big[DANE_MAX_DATA + 1] = {0};
    rr = (dane_rr){0};
    assert_int_equal(dane_rr_set(&rr, 3, 0, 0, big, sizeof big), -1);
    assert_null(rr.data);
    assert_int_equal(dane_rr_set(&rr, 3, 0, 0, big, DANE_MAX_DATA), 0);
    assert_int_equal(rr.len, DANE_MAX_DATA);
    dane_rr_clear(&rr);
}

/* ---- dane_rr_unusable_why ----------------------------------------------- */

/* why_is - the reason a record is unusable (NULL: usable) */
static void why_is(uint8_t u, uint8_t s, uint8_t m, size_t len, const char *want)
{
    dane_rr rr = rr_bytes(u, s, m, len);
    const char *why = dane_rr_unusable_why(&rr);
    if (!want && why)
        fail_msg("%u %u %u (%zu bytes): unusable (%s), expected usable", u, s, m, len, why);
    if (want && !why)
        fail_msg("%u %u %u (%zu bytes): usable, expected \"%s\"", u, s, m, len, want);
    if (want)
        assert_string_equal(why, want);
    dane_rr_clear(&rr);
}

static void test_unusable_why(void **state)
{
    (void)state;
    const char *pkix = "PKIX usages (0 and 1) are not usable for SMTP (RFC 7672 §3.1.3)";
    const char *sha256 = "a SHA-256 digest (matching type 1) must be 32 bytes";
    const char *sha512 = "a SHA-512 digest (matching type 2) must be 64 bytes";
    why_is(0, 1, 1, 32, pkix);
    why_is(1, 1, 1, 32, pkix);
    why_is(1, 9, 9, 3, pkix); /* the usage is judged first */
    why_is(4, 1, 1, 32, "unknown certificate usage");
    why_is(255, 1, 1, 32, "unknown certificate usage");
    why_is(3, 2, 1, 32, "unknown selector");
    why_is(2, 255, 1, 32, "unknown selector");
    why_is(3, 1, 3, 32, "unknown matching type");
    why_is(3, 1, 255, 32, "unknown matching type");
    why_is(3, 1, 1, 31, sha256);
    why_is(3, 1, 1, 33, sha256);
    why_is(3, 1, 1, 64, sha256);
    why_is(3, 1, 1, 32, NULL);
    why_is(2, 0, 1, 32, NULL);
    why_is(3, 1, 2, 63, sha512);
    why_is(3, 1, 2, 65, sha512);
    why_is(3, 1, 2, 32, sha512);
    why_is(3, 1, 2, 64, NULL);
    why_is(3, 0, 0, 0, "empty association data");
    /* Full data (matching type 0) must be one DER certificate or key:
     * OpenSSL refuses anything else (SSL_dane_tlsa_add). */
    const char *badcert = "full certificate data (matching type 0) that is not one DER "
                          "certificate";
    const char *badkey = "full public key data (matching type 0) that is not one DER "
                         "SubjectPublicKeyInfo";
    why_is(2, 1, 0, 91, badkey);
    why_is(3, 0, 0, 1, badcert);
    dane_rr full = rr_of("mx1.crt", 3, 0, 0);
    assert_null(dane_rr_unusable_why(&full));
    full.len--; /* truncated */
    assert_string_equal(dane_rr_unusable_why(&full), badcert);
    dane_rr_clear(&full);
    full = rr_of("mx1.crt", 2, 1, 0);
    assert_null(dane_rr_unusable_why(&full));
    unsigned char longer[512];
    memcpy(longer, full.data, full.len);
    longer[full.len] = 0; /* trailing garbage */
    size_t flen = full.len;
    assert_int_equal(dane_rr_set(&full, 2, 1, 0, longer, flen + 1), 0);
    assert_string_equal(dane_rr_unusable_why(&full), badkey);
    dane_rr_clear(&full);

    assert_string_equal(dane_usage_name(0), "PKIX-TA");
    assert_string_equal(dane_usage_name(1), "PKIX-EE");
    assert_string_equal(dane_usage_name(2), "DANE-TA");
    assert_string_equal(dane_usage_name(3), "DANE-EE");
    assert_string_equal(dane_usage_name(4), "unknown");
}

/* ---- dane_association --------------------------------------------------- */

static void test_association_independent(void **state)
{
    (void)state;
    /* 3 1 1 = SHA-256 over the DER SubjectPublicKeyInfo (RFC 6698 §2.1.2),
     * 3 0 1 = over the DER certificate: recomputed here without dane.c. */
    X509 *x = tu_load_x509("mx1.crt");
    unsigned char *spki = NULL, *cert = NULL;
    int ns = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    int nc = i2d_X509(x, &cert);
    assert_true(ns > 0 && nc > 0);
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    size_t len = 0;

    unsigned char *d = dane_association(x, 1, 1, &len);
    assert_true(EVP_Digest(spki, (size_t)ns, h, &hl, EVP_sha256(), NULL));
    assert_int_equal(len, 32);
    assert_memory_equal(d, h, 32);
    free(d);
    d = dane_association(x, 0, 1, &len);
    assert_true(EVP_Digest(cert, (size_t)nc, h, &hl, EVP_sha256(), NULL));
    assert_int_equal(len, 32);
    assert_memory_equal(d, h, 32);
    free(d);
    d = dane_association(x, 1, 2, &len);
    assert_true(EVP_Digest(spki, (size_t)ns, h, &hl, EVP_sha512(), NULL));
    assert_int_equal(len, 64);
    assert_memory_equal(d, h, 64);
    free(d);
    d = dane_association(x, 0, 0, &len);
    assert_int_equal(len, (size_t)nc);
    assert_memory_equal(d, cert, (size_t)nc);
    free(d);
    d = dane_association(x, 1, 0, &len);
    assert_int_equal(len, (size_t)ns);
    assert_memory_equal(d, spki, (size_t)ns);
    free(d);
    assert_null(dane_association(x, 2, 1, &len));
    assert_null(dane_association(x, 1, 3, &len));
    OPENSSL_free(spki);
    OPENSSL_free(cert);
    X509_free(x);
}

/* ---- dane_verify -------------------------------------------------------- */

/* verify - dane_verify on a test chain at the default time */
static dane_result verify(const char *chain_file, const dane_rr *rrs, size_t n, const char *base,
                          const char *const *names, size_t nnames)
{
    STACK_OF(X509) *chain = load_chain(chain_file);
    dane_result r;
    err_rec e;
    err_clear(&e);
    if (dane_verify(chain, rrs, n, base, names, nnames, at_default(), &r, &e) != 0)
        fail_msg("dane_verify: %s: %s", e.where, e.message);
    chain_free(chain);
    return r;
}

/* expect_dane - authenticated?, code, match index/depth, usable count */
static void expect_dane(const dane_result *r, int auth, const char *code, int index, int depth,
                        size_t usable)
{
    if (r->authenticated != auth || strcmp(r->code, code) != 0)
        fail_msg("expected %s (%d), got %s (%d): %s", code, auth, r->code, r->authenticated,
                 r->message);
    assert_int_equal(r->match_index, index);
    assert_int_equal(r->match_depth, depth);
    assert_int_equal(r->usable, usable);
}

static void test_verify_dane_ee(void **state)
{
    (void)state;
    dane_rr rr[1];
    dane_result r;

    rr[0] = rr_of("mx1.crt", 3, 1, 1);
    r = verify("mx1-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ee", 0, 0, 1);
    assert_string_equal(r.message, "the DANE-EE record \"3 1 1\" of mx1.example.com matches the "
                                   "certificate at depth 0");
    rrs_clear(rr, 1);

    /* RFC 7672 §3.1.1: DANE-EE ignores validity ... */
    rr[0] = rr_of("expired.crt", 3, 1, 1);
    r = verify("expired-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ee", 0, 0, 1);
    rrs_clear(rr, 1);
    rr[0] = rr_of("future.crt", 3, 1, 1);
    r = verify("future-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ee", 0, 0, 1);
    rrs_clear(rr, 1);

    /* ... and names: the helo leaf names foo.example.com only. */
    rr[0] = rr_of("helo.crt", 3, 1, 1);
    r = verify("helo-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ee", 0, 0, 1);
    rrs_clear(rr, 1);

    /* A leaf alone, and a self-signed one. */
    rr[0] = rr_of("self.crt", 3, 1, 1);
    r = verify("self-chain.pem", rr, 1, "unrelated.example.net", NULL, 0);
    expect_dane(&r, 1, "dane-ee", 0, 0, 1);
    rrs_clear(rr, 1);
}

static void test_verify_dane_ee_params(void **state)
{
    (void)state;
    static const uint8_t params[][2] = {{0, 1}, {1, 2}, {0, 0}, {1, 0}, {0, 2}};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        dane_rr rr = rr_of("mx1.crt", 3, params[i][0], params[i][1]);
        dane_result r = verify("mx1-leafonly.pem", &rr, 1, "mx1.example.com", NULL, 0);
        expect_dane(&r, 1, "dane-ee", 0, 0, 1);
        char want[128];
        snprintf(want, sizeof want,
                 "the DANE-EE record \"3 %u %u\" of mx1.example.com matches the certificate at "
                 "depth 0",
                 params[i][0], params[i][1]);
        assert_string_equal(r.message, want);
        dane_rr_clear(&rr);
    }
}

static void test_verify_dane_ta(void **state)
{
    (void)state;
    dane_rr rr[1];
    dane_result r;

    rr[0] = rr_of("inter.crt", 2, 0, 1);
    r = verify("mx1-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ta", 0, 1, 1);
    assert_string_equal(r.message, "the DANE-TA record \"2 0 1\" of mx1.example.com matches the "
                                   "certificate at depth 1");
    /* Names are checked (RFC 7672 §3.2.3): the base domain ... */
    r = verify("mx1-chain.pem", rr, 1, "mx2.example.com", NULL, 0);
    expect_dane(&r, 0, "name-mismatch", -1, -1, 1);
    assert_string_equal(r.message,
                        "a DANE-TA record matches the chain, but the server certificate does not "
                        "name mx2.example.com (DANE-TA requires name checks, RFC 7672 §3.2.3)");
    /* ... or another reference name (the MX host of a CNAME-expanded base). */
    const char *names[] = {"mx1.example.com"};
    r = verify("mx1-chain.pem", rr, 1, "target.example.net", names, 1);
    expect_dane(&r, 1, "dane-ta", 0, 1, 1);
    /* Wildcards match one label; partial wildcards never (PITFALLS.md). */
    r = verify("wild-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ta", 0, 1, 1);
    r = verify("wild-chain.pem", rr, 1, "a.b.example.com", NULL, 0);
    expect_dane(&r, 0, "name-mismatch", -1, -1, 1);
    /* A leaf whose only name is the partial wildcard mx*.example.com: the
     * DANE-TA record matches its issuer, but the name check refuses it, as
     * PKIX does (names.c), for the base domain and for other names alike. */
    r = verify("partial-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "name-mismatch", -1, -1, 1);
    assert_string_equal(r.message,
                        "a DANE-TA record matches the chain, but the server certificate does not "
                        "name mx1.example.com (DANE-TA requires name checks, RFC 7672 §3.2.3)");
    r = verify("partial-chain.pem", rr, 1, "target.example.net", names, 1);
    expect_dane(&r, 0, "name-mismatch", -1, -1, 1);
    r = verify("partial-chain.pem", rr, 1, "mxa.example.com", NULL, 0);
    expect_dane(&r, 0, "name-mismatch", -1, -1, 1);
    /* Validity is checked with DANE-TA. */
    r = verify("expired-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "expired", -1, -1, 1);
    assert_string_equal(r.message,
                        "a DANE-TA record matches, but the certificate at depth 0 has expired");
    r = verify("future-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "not-yet-valid", -1, -1, 1);
    /* ... at the validation time given, not at the wall clock: the same
     * chain is expired in 2035 and not yet valid in 2024. */
    STACK_OF(X509) *chain = load_chain("mx1-chain.pem");
    err_rec e;
    err_clear(&e);
    struct tm tm = {.tm_year = 2035 - 1900, .tm_mon = 5, .tm_mday = 1};
    assert_int_equal(dane_verify(chain, rr, 1, "mx1.example.com", NULL, 0, timegm(&tm), &r, &e),
                     0);
    expect_dane(&r, 0, "expired", -1, -1, 1);
    tm.tm_year = 2024 - 1900;
    assert_int_equal(dane_verify(chain, rr, 1, "mx1.example.com", NULL, 0, timegm(&tm), &r, &e),
                     0);
    expect_dane(&r, 0, "not-yet-valid", -1, -1, 1);
    chain_free(chain);
    rrs_clear(rr, 1);

    /* 2 1 1 on the intermediate's key. */
    rr[0] = rr_of("inter.crt", 2, 1, 1);
    r = verify("mx1-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ta", 0, 1, 1);
    /* Another CA's chain does not match. */
    r = verify("othermx1-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "tlsa-mismatch", -1, -1, 1);
    /* The intermediate is not sent: a hash of it cannot match. */
    r = verify("mx1-leafonly.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "tlsa-mismatch", -1, -1, 1);
    rrs_clear(rr, 1);

    /* A DANE-TA hash of the root, which servers do not send. */
    rr[0] = rr_of("root.crt", 2, 0, 1);
    r = verify("mx1-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "tlsa-mismatch", -1, -1, 1);
    rrs_clear(rr, 1);
}

static void test_verify_mismatch_unusable_mix(void **state)
{
    (void)state;
    dane_rr rr[4];
    dane_result r;

    rr[0] = rr_of("helo.crt", 3, 1, 1);
    r = verify("mx1-chain.pem", rr, 1, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "tlsa-mismatch", -1, -1, 1);
    assert_string_equal(r.message, "no usable TLSA record of mx1.example.com matches the "
                                   "certificate chain the server presented");
    rrs_clear(rr, 1);

    /* Only unusable records, even ones whose data would match. */
    rr[0] = rr_of("mx1.crt", 1, 1, 1);
    rr[1] = rr_of("inter.crt", 0, 0, 1);
    rr[2] = rr_bytes(3, 1, 1, 31);
    rr[3] = rr_bytes(3, 1, 2, 65);
    r = verify("mx1-chain.pem", rr, 4, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "tlsa-unusable", -1, -1, 0);
    assert_string_equal(r.message,
                        "none of the 4 TLSA record(s) of mx1.example.com is usable for SMTP");
    /* The same, with one usable record last: its index is reported. */
    dane_rr_clear(&rr[3]);
    rr[3] = rr_of("mx1.crt", 3, 1, 1);
    r = verify("mx1-chain.pem", rr, 4, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ee", 3, 0, 1);
    rrs_clear(rr, 4);

    /* DANE-EE wins at depth 0 before DANE-TA is tried; indexes are exact. */
    rr[0] = rr_of("helo.crt", 3, 1, 1);
    rr[1] = rr_of("inter.crt", 2, 0, 1);
    rr[2] = rr_of("mx1.crt", 3, 0, 1);
    r = verify("mx1-chain.pem", rr, 3, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ee", 2, 0, 3);
    /* With a leaf the EE records do not match: the TA record decides. */
    r = verify("wild-chain.pem", rr, 3, "mx1.example.com", NULL, 0);
    expect_dane(&r, 1, "dane-ta", 1, 1, 3);
    rrs_clear(rr, 3);

    /* Malformed full data only: unusable, not a verification error. */
    rr[0] = rr_bytes(2, 0, 0, 5);
    rr[1] = rr_bytes(3, 1, 0, 91);
    r = verify("mx1-chain.pem", rr, 2, "mx1.example.com", NULL, 0);
    expect_dane(&r, 0, "tlsa-unusable", -1, -1, 0);
    rrs_clear(rr, 2);

    /* No chain at all. */
    rr[0] = rr_of("mx1.crt", 3, 1, 1);
    STACK_OF(X509) *empty = sk_X509_new_null();
    err_rec e;
    err_clear(&e);
    assert_int_equal(dane_verify(empty, rr, 1, "mx1.example.com", NULL, 0, 0, &r, &e), 0);
    expect_dane(&r, 0, "dane-error", -1, -1, 1);
    assert_string_equal(r.message, "no certificate chain to verify");
    assert_int_equal(dane_verify(NULL, rr, 1, "mx1.example.com", NULL, 0, 0, &r, &e), 0);
    assert_string_equal(r.code, "dane-error");
    sk_X509_free(empty);
    rrs_clear(rr, 1);
}

/* ---- the dane and dane-only levels (policy_dane) ------------------------ */

/* dane_spec - evidence for one policy row */
struct dane_spec {
    const char *chain;       /* NULL: no STARTTLS */
    const char *tls_failed;
    int implicit_mx;         /* no MX: the domain is the host */
    int mx_secure;
    mxtls_tlsa_state state;
    const char *rr[4];       /* "U S M hex" */
    const char *base;
};

static mxtls_result *dane_eval(const struct dane_spec *s, mxtls_level level)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    assert_true(ctx && ev);
    mxtls_ctx_set_time(ctx, at_default());
    assert_int_equal(mxtls_evidence_set_domain(ctx, ev, s->implicit_mx ? "mx1.example.com"
                                                                       : "example.com"),
                     MXTLS_OK);
    if (!s->implicit_mx)
        assert_int_equal(mxtls_evidence_add_mx(ctx, ev, "mx1.example.com"), MXTLS_OK);
    mxtls_evidence_set_mx_secure(ev, s->mx_secure);
    for (size_t i = 0; i < 4 && s->rr[i]; i++)
        if (mxtls_evidence_add_tlsa(ctx, ev, s->rr[i]) != MXTLS_OK)
            fail_msg("add_tlsa \"%s\": %s", s->rr[i], mxtls_ctx_error(ctx));
    assert_int_equal(mxtls_evidence_set_tlsa_state(ctx, ev, s->state, s->base, NULL), MXTLS_OK);
    if (s->chain) {
        size_t len;
        char *pem = tu_read_cert(s->chain, &len);
        assert_int_equal(mxtls_evidence_set_chain_pem(ctx, ev, pem, len, s->chain), MXTLS_OK);
        free(pem);
    } else if (s->tls_failed) {
        assert_int_equal(mxtls_evidence_set_tls_failed(ctx, ev, 1, s->tls_failed), MXTLS_OK);
    } else {
        mxtls_evidence_set_no_tls(ev, 1);
    }
    mxtls_result *r = mxtls_evaluate(ctx, ev, level);
    if (!r)
        fail_msg("evaluate: %s", mxtls_ctx_error(ctx));
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    return r;
}

/* row - verdict/security/decisive code (+status) at dane and dane-only, and
 * the code of the info reason that follows at dane (NULL: none checked) */
static void row(const struct dane_spec *s, mxtls_verdict v, mxtls_security sec, const char *code,
                const char *status, const char *info, mxtls_verdict v_only,
                mxtls_security sec_only, const char *code_only, const char *status_only)
{
    for (int only = 0; only < 2; only++) {
        mxtls_result *r = dane_eval(s, only ? MXTLS_LEVEL_DANE_ONLY : MXTLS_LEVEL_DANE);
        mxtls_verdict wv = only ? v_only : v;
        mxtls_security ws = only ? sec_only : sec;
        const char *wc = only ? code_only : code;
        const char *wst = only ? status_only : status;
        if (r->verdict != wv || r->security != ws || strcmp(r->reasons[0].code, wc) != 0) {
            char *t = mxtls_result_text(r, 0);
            fail_msg("%s: expected %s/%s %s, got:\n%s", only ? "dane-only" : "dane",
                     mxtls_verdict_name(wv), mxtls_security_name(ws), wc, t ? t : "?");
        }
        assert_string_equal(r->reasons[0].kind, "decisive");
        if (wst)
            assert_string_equal(r->reasons[0].status ? r->reasons[0].status : "(null)", wst);
        else
            assert_null(r->reasons[0].status);
        if (!only && info) {
            assert_true(r->nreasons >= 2);
            assert_string_equal(r->reasons[1].kind, "info");
            assert_string_equal(r->reasons[1].code, info);
        }
        mxtls_result_free(r);
    }
}

#define DS(...) (&(const struct dane_spec){__VA_ARGS__})

static void test_level_mx_insecure(void **state)
{
    (void)state;
    char good[128];
    snprintf(good, sizeof good, "%s", rr_text_of("mx1.crt", 3, 1, 1));
    /* RFC 7672 §2.2.1: DANE needs a secure MX RRset; dane behaves as may. */
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 0, .state = MXTLS_TLSA_SECURE, .rr = {good}),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL, "mx-insecure",
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "mx-insecure", "4.7.5");
    /* may: no STARTTLS means plaintext at dane, failure at dane-only */
    row(DS(.chain = NULL, .mx_secure = 0, .state = MXTLS_TLSA_SECURE, .rr = {good}),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_PLAINTEXT, "no-starttls", NULL, "mx-insecure",
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "mx-insecure", "4.7.5");
}

static void test_level_tlsa_lookup_error(void **state)
{
    (void)state;
    /* A failed TLSA lookup defers: never a downgrade (RFC 7672 §2.2). */
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_BOGUS),
        MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "tlsa-lookup-error", "4.7.5", NULL,
        MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "tlsa-lookup-error", "4.7.5");
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_ERROR),
        MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "tlsa-lookup-error", "4.7.5", NULL,
        MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "tlsa-lookup-error", "4.7.5");
}

static void test_level_no_dane(void **state)
{
    (void)state;
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_NONE),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL, "no-tlsa",
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "no-tlsa", "4.7.5");
    char good[128];
    snprintf(good, sizeof good, "%s", rr_text_of("mx1.crt", 3, 1, 1));
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_INSECURE, .rr = {good}),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL, "tlsa-insecure",
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tlsa-insecure", "4.7.5");
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_NOT_LOOKED_UP),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL, "dane-not-applicable",
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "dane-not-applicable", "4.7.5");
}

static void test_level_unusable(void **state)
{
    (void)state;
    char pkix[128];
    snprintf(pkix, sizeof pkix, "%s", rr_text_of("mx1.crt", 1, 1, 1));
    /* Secure but unusable: TLS mandatory, unauthenticated (encrypt). */
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {pkix}),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted", NULL, "tlsa-unusable",
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tlsa-unusable", "4.7.5");
    mxtls_result *r = dane_eval(DS(.chain = "mx1-chain.pem", .mx_secure = 1,
                                   .state = MXTLS_TLSA_SECURE, .rr = {pkix}),
                                MXTLS_LEVEL_DANE);
    assert_string_equal(r->reasons[0].message,
                        "TLS is established without authentication (level dane as encrypt)");
    mxtls_result_free(r);
    /* ... and then no STARTTLS is a failure even at dane. */
    row(DS(.chain = NULL, .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {pkix}),
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "no-starttls", "4.7.4", "tlsa-unusable",
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tlsa-unusable", "4.7.5");
}

static void test_level_usable(void **state)
{
    (void)state;
    char ee[128], ta[128], other[128];
    snprintf(ee, sizeof ee, "%s", rr_text_of("mx1.crt", 3, 1, 1));
    snprintf(ta, sizeof ta, "%s", rr_text_of("inter.crt", 2, 0, 1));
    snprintf(other, sizeof other, "%s", rr_text_of("helo.crt", 3, 1, 1));
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {ee}),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL, NULL,
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL);
    /* implicit MX: no MX RRset to be secure */
    row(DS(.chain = "mx1-chain.pem", .implicit_mx = 1, .state = MXTLS_TLSA_SECURE, .rr = {ee}),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL, NULL,
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL);
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {ta}),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL, NULL,
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL);
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {other}),
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tlsa-mismatch", "4.7.5", NULL,
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tlsa-mismatch", "4.7.5");
    row(DS(.chain = "helo-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {ta}),
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5", NULL,
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    row(DS(.chain = "expired-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {ta}),
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "expired", "4.7.5", NULL, MXTLS_VERDICT_FAIL,
        MXTLS_SECURITY_NONE, "expired", "4.7.5");
    /* a partial wildcard (mx*.example.com) does not name mx1.example.com for
     * DANE-TA (nor for PKIX: test_policy.c, test_verify_wildcard) */
    row(DS(.chain = "partial-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {ta}),
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5", NULL,
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch", "4.7.5");
    /* A secure CNAME target as base: the MX name is a reference name too. */
    row(DS(.chain = "mx1-chain.pem", .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {ta},
           .base = "target.example.net"),
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL, NULL,
        MXTLS_VERDICT_PASS, MXTLS_SECURITY_DANE, "dane-verified", NULL);
    /* TLS mandatory with usable records. */
    row(DS(.chain = NULL, .mx_secure = 1, .state = MXTLS_TLSA_SECURE, .rr = {ee}),
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "no-starttls", "4.7.4", NULL,
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "no-starttls", "4.7.4");
    row(DS(.tls_failed = "handshake failure", .mx_secure = 1, .state = MXTLS_TLSA_SECURE,
           .rr = {ee}),
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tls-failed", "4.7.5", NULL,
        MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "tls-failed", "4.7.5");

    /* The match is recorded in the result. */
    mxtls_result *r = dane_eval(DS(.chain = "mx1-chain.pem", .mx_secure = 1,
                                   .state = MXTLS_TLSA_SECURE, .rr = {other, ta, ee}),
                                MXTLS_LEVEL_DANE);
    assert_int_equal(r->dane_match_index, 2);
    assert_int_equal(r->dane_match_depth, 0);
    mxtls_result_free(r);
}

/* ---- tlsa_check: generation ------------------------------------------- */

/* material - load PEM text (or a test file when text is NULL) */
static int material(const char *file, const char *text, tlsa_material *m, err_rec *e)
{
    size_t len = 0;
    char *buf = text ? strdup(text) : tu_read_cert(file, &len);
    assert_non_null(buf);
    if (text)
        len = strlen(text);
    err_clear(e);
    int rc = tlsa_material_load(buf, len, file, m, e);
    free(buf);
    return rc;
}

/* cat - two test files in one string; caller frees */
static char *cat(const char *a, const char *b)
{
    size_t la, lb;
    char *x = tu_read_cert(a, &la), *y = tu_read_cert(b, &lb);
    char *s = malloc(la + lb + 1);
    assert_non_null(s);
    memcpy(s, x, la);
    memcpy(s + la, y, lb + 1);
    free(x);
    free(y);
    return s;
}

/* make_text - tlsa_make as "U S M hex"; caller frees; NULL with e set */
static char *make_text(const tlsa_material *m, uint8_t u, uint8_t s, uint8_t mt, int *index,
                       err_rec *e)
{
    dane_rr rr = {0};
    err_clear(e);
    if (tlsa_make(m, "f.pem", u, s, mt, &rr, index, e) != 0)
        return NULL;
    char *t = dane_rr_text(&rr);
    dane_rr_clear(&rr);
    return t;
}

static void test_gen_material(void **state)
{
    (void)state;
    tlsa_material m;
    err_rec e;
    int idx;
    char *t;

    /* Certificates only. */
    assert_int_equal(material("mx1-chain.pem", NULL, &m, &e), 0);
    assert_int_equal(sk_X509_num(m.chain), 2);
    assert_null(m.key);
    t = make_text(&m, 3, 1, 1, &idx, &e);
    assert_string_equal(t, rr_text_of("mx1.crt", 3, 1, 1));
    assert_int_equal(idx, 0);
    free(t);
    t = make_text(&m, 2, 0, 1, &idx, &e);
    assert_string_equal(t, rr_text_of("inter.crt", 2, 0, 1));
    assert_int_equal(idx, 1);
    free(t);
    tlsa_material_clear(&m);

    /* Key + chain in one file (Postfix): the key gives 3 1 x. */
    char *both = cat("mx1.key", "mx1-chain.pem");
    assert_int_equal(material("both.pem", both, &m, &e), 0);
    free(both);
    assert_non_null(m.key);
    assert_int_equal(sk_X509_num(m.chain), 2);
    assert_true(tlsa_key_matches(sk_X509_value(m.chain, 0), m.key));
    t = make_text(&m, 3, 1, 2, &idx, &e);
    assert_string_equal(t, rr_text_of("mx1.crt", 3, 1, 2));
    assert_int_equal(idx, -1);
    free(t);
    t = make_text(&m, 3, 0, 1, &idx, &e);
    assert_string_equal(t, rr_text_of("mx1.crt", 3, 0, 1));
    assert_int_equal(idx, 0);
    free(t);
    tlsa_material_clear(&m);

    /* A key alone: the next key of a 3 1 1 rollover. */
    assert_int_equal(material("helo.key", NULL, &m, &e), 0);
    assert_null(m.chain);
    assert_non_null(m.key);
    t = make_text(&m, 3, 1, 1, &idx, &e);
    assert_string_equal(t, rr_text_of("helo.crt", 3, 1, 1));
    free(t);
    assert_null(make_text(&m, 3, 0, 1, &idx, &e));
    assert_string_equal(e.message, "the file holds only a key: a \"3 0 x\" record needs the "
                                   "certificate");
    assert_null(make_text(&m, 2, 1, 1, &idx, &e));
    assert_string_equal(e.where, "f.pem");
    tlsa_material_clear(&m);

    /* A public key (PEM "PUBLIC KEY"). */
    EVP_PKEY *k = tu_load_key("mx1.key");
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *pub = xstrndup(data, (size_t)n);
    BIO_free(b);
    assert_int_equal(material("pub.pem", pub, &m, &e), 0);
    free(pub);
    t = make_text(&m, 3, 1, 1, &idx, &e);
    assert_string_equal(t, rr_text_of("mx1.crt", 3, 1, 1));
    free(t);
    tlsa_material_clear(&m);

    /* An encrypted key is refused, never prompted for. */
    b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_128_cbc(), "secret", 6, NULL,
                                                   NULL),
                     1);
    n = BIO_get_mem_data(b, &data);
    char *enc = xstrndup(data, (size_t)n);
    BIO_free(b);
    assert_int_equal(material("enc.pem", enc, &m, &e), -1);
    assert_string_equal(e.where, "enc.pem");
    assert_string_equal(e.message, "the private key is encrypted; decrypt a copy with \"openssl "
                                   "pkey -in FILE\" or give the certificate instead");
    free(enc);
    EVP_PKEY_free(k);

    /* Neither certificate nor key. */
    assert_int_equal(material("junk.pem", "hello\n", &m, &e), -1);
    assert_string_equal(e.message,
                        "no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")");
    assert_int_equal(material("empty.pem", "", &m, &e), -1);
    assert_string_equal(e.message, "empty file: expected PEM certificates");
}

static void test_gen_key_mismatch(void **state)
{
    (void)state;
    X509 *mx1 = tu_load_x509("mx1.crt");
    EVP_PKEY *own = tu_load_key("mx1.key"), *other = tu_load_key("helo.key");
    assert_int_equal(tlsa_key_matches(mx1, own), 1);
    assert_int_equal(tlsa_key_matches(mx1, other), 0);
    assert_int_equal(tlsa_key_matches(mx1, NULL), 0);
    EVP_PKEY_free(own);
    EVP_PKEY_free(other);
    X509_free(mx1);
}

static void test_gen_ta_index(void **state)
{
    (void)state;
    err_rec e;
    STACK_OF(X509) *c = load_chain("mx1-chain.pem");
    err_clear(&e);
    assert_int_equal(tlsa_ta_index(c, "x", &e), 1);
    chain_free(c);

    c = load_chain("mx1-leafonly.pem");
    assert_int_equal(tlsa_ta_index(c, "leaf.pem", &e), -1);
    assert_string_equal(e.where, "leaf.pem");
    assert_string_equal(e.message,
                        "a DANE-TA record (usage 2) needs the issuing CA certificate: the file "
                        "holds only the server certificate; append the intermediate as the "
                        "server sends it");
    chain_free(c);

    /* The CA certificate alone. */
    c = load_chain("inter.crt");
    err_clear(&e);
    assert_int_equal(tlsa_ta_index(c, "x", &e), 0);
    chain_free(c);

    /* A CA that did not issue the leaf. */
    char *pem = cat("mx1.crt", "otherinter.crt");
    err_clear(&e);
    c = chain_parse_pem(pem, strlen(pem), "mixed.pem", &e);
    free(pem);
    assert_non_null(c);
    assert_int_equal(tlsa_ta_index(c, "mixed.pem", &e), -1);
    assert_string_equal(e.message, "certificate 2 did not issue certificate 1: give the chain "
                                   "leaf first, in the order the server sends it");
    chain_free(c);

    /* Certificate 2 not a CA. */
    pem = cat("mx1.crt", "helo.crt");
    c = chain_parse_pem(pem, strlen(pem), "two-leaves.pem", &e);
    free(pem);
    assert_int_equal(tlsa_ta_index(c, "two-leaves.pem", &e), -1);
    assert_string_equal(e.message, "certificate 2 is not a CA certificate; a DANE-TA record "
                                   "(usage 2) is made for the CA that issued the server "
                                   "certificate");
    chain_free(c);

    /* tlsa_make refuses PKIX usages and unknown parameters. */
    tlsa_material m;
    assert_int_equal(material("mx1-chain.pem", NULL, &m, &e), 0);
    int idx;
    assert_null(make_text(&m, 1, 1, 1, &idx, &e));
    assert_string_equal(e.message, "usage 1 is not used by SMTP senders: only 2 (DANE-TA) and 3 "
                                   "(DANE-EE) are (RFC 7672 §3.1.3)");
    assert_null(make_text(&m, 3, 2, 1, &idx, &e));
    assert_string_equal(e.where, "selector");
    assert_null(make_text(&m, 3, 1, 3, &idx, &e));
    assert_string_equal(e.where, "mtype");
    tlsa_material_clear(&m);
}

static void test_match_depth(void **state)
{
    (void)state;
    STACK_OF(X509) *c = load_chain("mx1-chain.pem");
    dane_rr rr = rr_of("mx1.crt", 1, 1, 1); /* usage is ignored */
    assert_int_equal(tlsa_match_depth(c, &rr), 0);
    dane_rr_clear(&rr);
    rr = rr_of("inter.crt", 2, 0, 2);
    assert_int_equal(tlsa_match_depth(c, &rr), 1);
    dane_rr_clear(&rr);
    rr = rr_of("root.crt", 2, 0, 1);
    assert_int_equal(tlsa_match_depth(c, &rr), -1);
    dane_rr_clear(&rr);
    rr = rr_bytes(3, 2, 1, 32);
    assert_int_equal(tlsa_match_depth(c, &rr), -1);
    dane_rr_clear(&rr);
    chain_free(c);
}

/* ---- tlsa_check: analysis on hand-built reports ------------------------- */

enum addr_kind { A_CHAIN, A_REFUSED, A_NO_STARTTLS, A_NO_PROBE };

static check_report *mk_report(const char *domain, dns_security mx_sec)
{
    check_report *rep = calloc(1, sizeof *rep);
    assert_non_null(rep);
    rep->domain = strdup(domain);
    rep->port = 25;
    rep->mx_outcome = DNS_DATA;
    rep->mx_security = mx_sec;
    return rep;
}

static check_host *mk_host(check_report *rep, const char *name, int started,
                           mxtls_tlsa_state st)
{
    check_host *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->name = strdup(name);
    h->pref = 10;
    h->a_outcome = DNS_DATA;
    h->a_security = started ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
    h->aaaa_outcome = DNS_NODATA;
    h->tlsa_started = started;
    h->tlsa_state = st;
    if (started)
        h->tlsa_base = strdup(name);
    rep->hosts[rep->nhosts++] = h;
    return h;
}

static void host_rr(check_host *h, dane_rr rr)
{
    h->tlsa[h->ntlsa++] = rr;
}

static check_address *host_addr(check_host *h, const char *ip, enum addr_kind kind,
                                const char *chain)
{
    check_address *a = calloc(1, sizeof *a);
    assert_non_null(a);
    a->ip = strdup(ip);
    a->family = 4;
    if (kind != A_NO_PROBE) {
        probe_report *p = calloc(1, sizeof *p);
        assert_non_null(p);
        p->ip = strdup(ip);
        p->port = 25;
        if (kind == A_REFUSED) {
            p->connect_error = strdup("connection refused");
        } else {
            p->connected = 1;
            if (kind == A_CHAIN) {
                p->tls_attempted = p->tls_ok = 1;
                p->tls.chain = load_chain(chain);
                p->smtp.outcome = SMTP_OUTCOME_OK_TLS;
            } else {
                p->smtp.outcome = SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS;
            }
        }
        a->conns[0].probe = p;
        a->nconns = 1;
    }
    a->alt_conn = -1;
    h->addrs[h->naddrs++] = a;
    return a;
}

/* analyze - run the analysis; ttl for host 0 (TLSA_TTL_UNKNOWN: none) */
static tlsa_check_result *analyze(const check_report *rep, const tlsa_planned *plans, size_t n,
                                  long ttl0)
{
    long ttl[CHECK_MAX_HOSTS];
    for (size_t i = 0; i < CHECK_MAX_HOSTS; i++)
        ttl[i] = TLSA_TTL_UNKNOWN;
    ttl[0] = ttl0;
    tlsa_check_config cfg = {.planned = plans, .nplanned = n, .ttl = ttl, .window = 0,
                             .at = at_default()};
    err_rec e;
    err_clear(&e);
    tlsa_check_result *r = tlsa_check_analyze(rep, &cfg, &e);
    if (!r)
        fail_msg("analyze: %s: %s", e.where, e.message);
    return r;
}

/* warnings_are - exactly these warning codes, in order (NULL-terminated) */
static void warnings_are(const tlsa_check_result *r, ...)
{
    va_list ap;
    va_start(ap, r);
    size_t i = 0;
    for (const char *c = va_arg(ap, const char *); c; c = va_arg(ap, const char *), i++) {
        if (i >= r->nwarnings)
            fail_msg("missing warning #%zu %s", i, c);
        if (strcmp(r->warnings[i].code, c) != 0)
            fail_msg("warning #%zu is %s (%s), expected %s", i, r->warnings[i].code,
                     r->warnings[i].message, c);
    }
    va_end(ap);
    if (r->nwarnings != i)
        fail_msg("%zu warnings, expected %zu; #%zu: %s: %s", r->nwarnings, i, i,
                 r->warnings[i].code, r->warnings[i].message);
}

static void test_analyze_ok_single(void **state)
{
    (void)state;
    check_report *rep = mk_report("example.com", DNS_SEC_SECURE);
    check_host *h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_SECURE);
    host_rr(h, rr_of("mx1.crt", 3, 1, 1));
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    tlsa_check_result *r = analyze(rep, NULL, 0, 3600);
    assert_int_equal(r->status, TLSA_STATUS_OK);
    assert_string_equal(tlsa_status_name(r->status), "ok");
    assert_string_equal(r->summary, "the TLSA records authenticate every server checked");
    warnings_are(r, "single-record", NULL);
    assert_string_equal(r->warnings[0].host, "mx1.example.com");
    assert_string_equal(r->warnings[0].message,
                        "_25._tcp.mx1.example.com has one usable record: there is no headroom "
                        "for a key or certificate change; publish the next key's record next to "
                        "it before the change (mxtls tlsa gen --next)");
    const tlsa_host_result *hr = &r->hosts[0];
    assert_string_equal(hr->owner, "_25._tcp.mx1.example.com");
    assert_int_equal(hr->published, 1);
    assert_int_equal(hr->usable, 1);
    assert_int_equal(hr->ttl, 3600);
    assert_string_equal(hr->addrs[0].state, "authenticated");
    expect_dane(&hr->addrs[0].all, 1, "dane-ee", 0, 0, 1);
    expect_dane(&hr->addrs[0].per_rr[0], 1, "dane-ee", 0, 0, 1);
    assert_int_equal(hr->addrs[0].raw_depth[0], 0);
    tlsa_check_result_free(r);

    /* TTL: 2 x 43201 > 86400 (the default window) warns; 43200 does not. */
    r = analyze(rep, NULL, 0, 43200);
    warnings_are(r, "single-record", NULL);
    tlsa_check_result_free(r);
    r = analyze(rep, NULL, 0, 43201);
    warnings_are(r, "single-record", "ttl-long", NULL);
    assert_string_equal(r->warnings[1].message,
                        "the TTL of _25._tcp.mx1.example.com is 43201 s: a rollover must wait 2 "
                        "x TTL = 86402 s between publishing the next record and the switch, "
                        "longer than the rollover window of 86400 s; lower the TTL or plan "
                        "further ahead");
    assert_int_equal(r->status, TLSA_STATUS_OK);
    tlsa_check_result_free(r);
    check_report_free(rep);
}

static void test_analyze_fails_now(void **state)
{
    (void)state;
    check_report *rep = mk_report("example.com", DNS_SEC_SECURE);
    check_host *h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_SECURE);
    host_rr(h, rr_of("helo.crt", 3, 1, 1));
    host_rr(h, rr_of("othermx1.crt", 3, 1, 1));
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    host_addr(h, "192.0.2.2", A_NO_STARTTLS, NULL);
    host_addr(h, "192.0.2.3", A_REFUSED, NULL);
    tlsa_check_result *r = analyze(rep, NULL, 0, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_FAILS);
    assert_string_equal(r->summary, "the published TLSA records do not authenticate 2 servers: "
                                    "senders using DANE cannot deliver there");
    const tlsa_host_result *hr = &r->hosts[0];
    assert_string_equal(hr->addrs[0].state, "fails");
    expect_dane(&hr->addrs[0].all, 0, "tlsa-mismatch", -1, -1, 2);
    expect_dane(&hr->addrs[0].per_rr[1], 0, "tlsa-mismatch", -1, -1, 1);
    assert_int_equal(hr->addrs[0].raw_depth[0], -1);
    assert_string_equal(hr->addrs[1].state, "no-tls");
    assert_string_equal(hr->addrs[1].note, "the server does not offer STARTTLS");
    assert_null(hr->addrs[1].per_rr);
    assert_string_equal(hr->addrs[2].state, "unreachable");
    assert_string_equal(hr->addrs[2].note, "cannot connect: connection refused");
    warnings_are(r, "address-unchecked", NULL);
    assert_string_equal(r->warnings[0].message, "mx1.example.com [192.0.2.3] could not be "
                                                "checked: cannot connect: connection refused");
    tlsa_check_result_free(r);
    check_report_free(rep);
}

static void test_analyze_planned(void **state)
{
    (void)state;
    check_report *rep = mk_report("example.com", DNS_SEC_SECURE);
    check_host *h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_SECURE);
    host_rr(h, rr_of("mx1.crt", 3, 1, 1));
    host_rr(h, rr_of("helo.crt", 3, 1, 1));
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    tlsa_planned plans[3] = {
        {.option = "next", .file = "helo-chain.pem", .chain = load_chain("helo-chain.pem")},
        {.option = "cert", .file = "othermx1-chain.pem",
         .chain = load_chain("othermx1-chain.pem")},
        {.option = "next", .file = "mx1-chain.pem", .chain = load_chain("mx1-chain.pem")},
    };
    tlsa_check_result *r = analyze(rep, plans, 3, 3600);
    assert_int_equal(r->status, TLSA_STATUS_WILL_BREAK);
    assert_string_equal(r->summary, "the planned certificate change will break DANE: publish "
                                    "the records shown, wait 2 x TTL, then switch");
    warnings_are(r, NULL);
    const tlsa_host_result *hr = &r->hosts[0];
    assert_int_equal(hr->nplans, 3);
    assert_string_equal(hr->plans[0].verdict, "safe");
    expect_dane(&hr->plans[0].r, 1, "dane-ee", 1, 0, 2);
    assert_int_equal(hr->plans[0].publish.n, 0);
    assert_string_equal(hr->plans[1].verdict, "will-break");
    expect_dane(&hr->plans[1].r, 0, "tlsa-mismatch", -1, -1, 2);
    assert_string_equal(hr->plans[1].r.message, "no usable TLSA record of mx1.example.com "
                                                "matches the chain in othermx1-chain.pem");
    assert_int_equal(hr->plans[1].publish.n, 1);
    assert_string_equal(hr->plans[1].publish.v[0], rr_text_of("othermx1.crt", 3, 1, 1));
    assert_string_equal(hr->plans[2].verdict, "safe");
    tlsa_check_result_free(r);

    /* With a DANE-TA record published, the new CA's record is suggested too. */
    dane_rr_clear(&h->tlsa[1]);
    h->tlsa[1] = rr_of("inter.crt", 2, 1, 1);
    r = analyze(rep, plans + 1, 1, 3600);
    hr = &r->hosts[0];
    assert_string_equal(hr->plans[0].verdict, "will-break");
    assert_int_equal(hr->plans[0].publish.n, 2);
    assert_string_equal(hr->plans[0].publish.v[0], rr_text_of("othermx1.crt", 3, 1, 1));
    assert_string_equal(hr->plans[0].publish.v[1], rr_text_of("otherinter.crt", 2, 1, 1));
    tlsa_check_result_free(r);
    /* helo's chain has the same CA, but DANE-TA checks names: it does not
     * name mx1.example.com. Its 3 1 1 would do; 2 1 1 is already there. */
    r = analyze(rep, plans, 1, 3600);
    assert_string_equal(r->hosts[0].plans[0].verdict, "will-break");
    expect_dane(&r->hosts[0].plans[0].r, 0, "name-mismatch", -1, -1, 2);
    assert_int_equal(r->hosts[0].plans[0].publish.n, 1);
    assert_string_equal(r->hosts[0].plans[0].publish.v[0], rr_text_of("helo.crt", 3, 1, 1));
    tlsa_check_result_free(r);

    for (size_t i = 0; i < 3; i++)
        chain_free(plans[i].chain);
    check_report_free(rep);
}

static void test_analyze_record_warnings(void **state)
{
    (void)state;
    check_report *rep = mk_report("example.com", DNS_SEC_SECURE);
    check_host *h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_SECURE);
    host_rr(h, rr_of("mx1.crt", 1, 1, 1));
    host_rr(h, rr_of("mx1.crt", 3, 0, 1));
    host_rr(h, rr_of("root.crt", 2, 0, 1));
    host_rr(h, rr_bytes(3, 1, 1, 31));
    host_rr(h, rr_of("inter.crt", 2, 1, 1));
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    tlsa_check_result *r = analyze(rep, NULL, 0, 300);
    assert_int_equal(r->status, TLSA_STATUS_OK);
    warnings_are(r, "pkix-usage", "full-certificate", "full-certificate", "unusable-record",
                 "dane-ta-not-sent", NULL);
    assert_string_equal(r->warnings[0].message,
                        "record [1] \"1 1 1\" at _25._tcp.mx1.example.com has usage PKIX-EE, "
                        "which SMTP senders ignore (RFC 7672 §3.1.3); publish \"3 1 1\" "
                        "(DANE-EE) or \"2 1 1\" (DANE-TA) instead");
    assert_string_equal(r->warnings[1].message,
                        "record [2] \"3 0 1\" at _25._tcp.mx1.example.com matches the whole "
                        "certificate: it breaks on every renewal, even one that keeps the key; "
                        "prefer \"3 1 1\" (RFC 7671 §5.1)");
    assert_string_equal(r->warnings[2].message,
                        "record [3] \"2 0 1\" at _25._tcp.mx1.example.com matches the whole CA "
                        "certificate: it breaks on every reissue of the CA certificate, even one "
                        "that keeps the key; prefer \"2 1 1\" (RFC 7671 §5.1)");
    assert_string_equal(r->warnings[3].message,
                        "record [4] \"3 1 1\" at _25._tcp.mx1.example.com is unusable: a SHA-256 "
                        "digest (matching type 1) must be 32 bytes");
    assert_string_equal(r->warnings[4].message,
                        "the DANE-TA record [3] \"2 0 1\" at _25._tcp.mx1.example.com matches no "
                        "certificate mx1.example.com sends: the server must send the "
                        "trust-anchor certificate in its chain (RFC 7672 §3.1.2)");
    const tlsa_host_result *hr = &r->hosts[0];
    assert_int_equal(hr->usable, 3);
    expect_dane(&hr->addrs[0].all, 1, "dane-ee", 1, 0, 3);
    assert_string_equal(hr->addrs[0].per_rr[0].code, "tlsa-unusable");
    assert_int_equal(hr->addrs[0].raw_depth[0], 0); /* the PKIX-EE data is the leaf's */
    expect_dane(&hr->addrs[0].per_rr[2], 0, "tlsa-mismatch", -1, -1, 1);
    expect_dane(&hr->addrs[0].per_rr[4], 1, "dane-ta", 0, 1, 1);
    assert_int_equal(hr->addrs[0].raw_depth[4], 1);
    tlsa_check_result_free(r);
    check_report_free(rep);
}

static void test_analyze_dns_states(void **state)
{
    (void)state;
    tlsa_planned plan = {.option = "next", .file = "mx1-chain.pem",
                         .chain = load_chain("mx1-chain.pem")};
    /* Bogus TLSA: senders defer; nothing to judge the plan against. */
    check_report *rep = mk_report("example.com", DNS_SEC_SECURE);
    check_host *h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_BOGUS);
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    tlsa_check_result *r = analyze(rep, &plan, 1, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_DNS_FAILURE);
    assert_string_equal(r->hosts[0].plans[0].verdict, "not-applicable");
    assert_string_equal(r->hosts[0].plans[0].note,
                        "the TLSA lookup at _25._tcp.mx1.example.com failed: no judgement "
                        "possible");
    assert_string_equal(r->hosts[0].addrs[0].state, "not-checked");
    warnings_are(r, NULL);
    tlsa_check_result_free(r);
    check_report_free(rep);

    /* A TLSA lookup the deadline cut short. */
    rep = mk_report("example.com", DNS_SEC_SECURE);
    h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_NOT_LOOKED_UP);
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    r = analyze(rep, &plan, 1, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_DNS_FAILURE);
    assert_string_equal(r->hosts[0].plans[0].verdict, "not-applicable");
    tlsa_check_result_free(r);
    check_report_free(rep);

    /* Insecure MX, insecure TLSA records: warnings, nothing applies. */
    rep = mk_report("example.com", DNS_SEC_INSECURE);
    h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_INSECURE);
    host_rr(h, rr_of("helo.crt", 3, 1, 1));
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    r = analyze(rep, &plan, 1, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_OK);
    assert_string_equal(r->summary,
                        "no DNSSEC-secure TLSA records: DANE does not apply, so nothing can break");
    warnings_are(r, "mx-insecure", "tlsa-insecure", NULL);
    assert_null(r->warnings[0].host);
    assert_string_equal(r->warnings[0].message,
                        "the MX RRset of example.com is not DNSSEC-secure (insecure): senders do "
                        "not use DANE for mail to example.com, whatever the TLSA records say "
                        "(RFC 7672 §2.2.1)");
    assert_string_equal(r->hosts[0].plans[0].verdict, "not-applicable");
    /* the records are still matched, for the operator */
    expect_dane(&r->hosts[0].addrs[0].per_rr[0], 0, "tlsa-mismatch", -1, -1, 1);
    assert_string_equal(r->hosts[0].addrs[0].state, "not-checked");
    tlsa_check_result_free(r);
    check_report_free(rep);

    /* Addresses not secure: no TLSA lookup. */
    rep = mk_report("example.com", DNS_SEC_SECURE);
    h = mk_host(rep, "mx1.example.com", 0, MXTLS_TLSA_NOT_LOOKED_UP);
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    r = analyze(rep, NULL, 0, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_OK);
    warnings_are(r, "address-insecure", NULL);
    tlsa_check_result_free(r);
    check_report_free(rep);

    /* Secure, only unusable records: the RRset authenticates nobody. */
    rep = mk_report("example.com", DNS_SEC_SECURE);
    h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_SECURE);
    host_rr(h, rr_of("mx1.crt", 1, 1, 1));
    host_addr(h, "192.0.2.1", A_CHAIN, "mx1-chain.pem");
    r = analyze(rep, &plan, 1, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_FAILS);
    assert_string_equal(r->summary, "none of the published TLSA records is usable for SMTP: "
                                    "senders at level dane require TLS but cannot "
                                    "authenticate the server, and dane-only senders cannot "
                                    "deliver");
    assert_string_equal(r->hosts[0].addrs[0].state, "fails");
    expect_dane(&r->hosts[0].addrs[0].all, 0, "tlsa-unusable", -1, -1, 0);
    assert_string_equal(r->hosts[0].plans[0].verdict, "will-break");
    warnings_are(r, "pkix-usage", NULL);
    tlsa_check_result_free(r);
    check_report_free(rep);

    /* Nobody answers: unchecked. */
    rep = mk_report("example.com", DNS_SEC_SECURE);
    h = mk_host(rep, "mx1.example.com", 1, MXTLS_TLSA_SECURE);
    host_rr(h, rr_of("mx1.crt", 3, 1, 1));
    host_rr(h, rr_of("helo.crt", 3, 1, 1));
    host_addr(h, "192.0.2.1", A_NO_PROBE, NULL);
    r = analyze(rep, NULL, 0, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_UNCHECKED);
    assert_string_equal(r->hosts[0].addrs[0].note, "no answer before the check's deadline");
    warnings_are(r, "address-unchecked", NULL);
    tlsa_check_result_free(r);
    check_report_free(rep);

    /* No hosts: NXDOMAIN, null MX, SERVFAIL. */
    rep = mk_report("nowhere.example", DNS_SEC_SECURE);
    rep->mx_outcome = DNS_NXDOMAIN;
    r = analyze(rep, NULL, 0, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_NO_SERVER);
    assert_string_equal(r->summary, "the name does not exist (NXDOMAIN)");
    tlsa_check_result_free(r);
    rep->mx_outcome = DNS_DATA;
    rep->null_mx = 1;
    r = analyze(rep, NULL, 0, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_NO_SERVER);
    tlsa_check_result_free(r);
    rep->null_mx = 0;
    rep->timed_out = 1; /* the deadline: outcome never set */
    r = analyze(rep, NULL, 0, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_DNS_FAILURE);
    assert_string_equal(r->summary, "the MX lookup did not finish before the deadline");
    tlsa_check_result_free(r);
    rep->timed_out = 0;
    rep->mx_outcome = DNS_SERVFAIL;
    rep->mx_security = DNS_SEC_BOGUS;
    r = analyze(rep, NULL, 0, TLSA_TTL_UNKNOWN);
    assert_int_equal(r->status, TLSA_STATUS_DNS_FAILURE);
    assert_string_equal(tlsa_status_name(r->status), "dns-failure");
    tlsa_check_result_free(r);
    check_report_free(rep);
    chain_free(plan.chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_blanks_in_hex),
        cmocka_unit_test(test_parse_bad_fields),
        cmocka_unit_test(test_parse_over_255),
        cmocka_unit_test(test_parse_bad_hex),
        cmocka_unit_test(test_parse_too_long),
        cmocka_unit_test(test_unusable_why),
        cmocka_unit_test(test_association_independent),
        cmocka_unit_test(test_verify_dane_ee),
        cmocka_unit_test(test_verify_dane_ee_params),
        cmocka_unit_test(test_verify_dane_ta),
        cmocka_unit_test(test_verify_mismatch_unusable_mix),
        cmocka_unit_test(test_level_mx_insecure),
        cmocka_unit_test(test_level_tlsa_lookup_error),
        cmocka_unit_test(test_level_no_dane),
        cmocka_unit_test(test_level_unusable),
        cmocka_unit_test(test_level_usable),
        cmocka_unit_test(test_gen_material),
        cmocka_unit_test(test_gen_key_mismatch),
        cmocka_unit_test(test_gen_ta_index),
        cmocka_unit_test(test_match_depth),
        cmocka_unit_test(test_analyze_ok_single),
        cmocka_unit_test(test_analyze_fails_now),
        cmocka_unit_test(test_analyze_planned),
        cmocka_unit_test(test_analyze_record_warnings),
        cmocka_unit_test(test_analyze_dns_states),
    };
    return cmocka_run_group_tests(tests, NULL, tu_group_teardown);
}
