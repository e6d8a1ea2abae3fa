/* test_summary.c - the headline of a check (report/summary.c) on hand-built
 * reports: the exact first line and rows for every kind of domain, the
 * forms the first line takes to stay within 80 columns, the JSON object */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/summary.h"

/* The levels of a live check, in report order (engine/check.c). */
static const mxtls_level all_levels[] = {
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
#define NLEVELS (sizeof all_levels / sizeof all_levels[0])

/* fx - a report as the engine leaves it: every level's domain verdict, the
 * MTA-STS lookups, and (for REQUIRETLS) one address with one connection */
typedef struct fx {
    check_report rep;
    sts_report sts;
    char domain[300];
    char codes[NLEVELS][64];
    check_host host;
    check_address addr;
    probe_report probe;
} fx;

/* fx_set - the domain verdict at a level */
static void fx_set(fx *f, mxtls_level level, mxtls_verdict v, const char *code)
{
    for (size_t i = 0; i < NLEVELS; i++)
        if (f->rep.levels[i] == level) {
            f->rep.verdicts[i].verdict = v;
            snprintf(f->codes[i], sizeof f->codes[i], "%s", code);
            return;
        }
    fail_msg("level %d not in the report", (int)level);
}

/* fx_init - a clean domain: TLS with a verified certificate everywhere,
 * no TLSA records, no MTA-STS record, no REQUIRETLS; auto level may */
static void fx_init(fx *f, const char *domain)
{
    memset(f, 0, sizeof *f);
    snprintf(f->domain, sizeof f->domain, "%s", domain);
    f->rep.domain = f->domain;
    for (size_t i = 0; i < NLEVELS; i++) {
        f->rep.levels[i] = all_levels[i];
        f->rep.verdicts[i].level = all_levels[i];
        f->rep.verdicts[i].code = f->codes[i];
    }
    f->rep.nlevels = NLEVELS;
    f->rep.auto_level = MXTLS_LEVEL_MAY;
    fx_set(f, MXTLS_LEVEL_NONE, MXTLS_VERDICT_PASS, "tls-disabled");
    fx_set(f, MXTLS_LEVEL_MAY, MXTLS_VERDICT_PASS, "encrypted");
    fx_set(f, MXTLS_LEVEL_ENCRYPT, MXTLS_VERDICT_PASS, "encrypted");
    fx_set(f, MXTLS_LEVEL_FINGERPRINT, MXTLS_VERDICT_TEMPFAIL, "no-fingerprints");
    fx_set(f, MXTLS_LEVEL_VERIFY, MXTLS_VERDICT_PASS, "verified");
    fx_set(f, MXTLS_LEVEL_SECURE, MXTLS_VERDICT_PASS, "verified");
    fx_set(f, MXTLS_LEVEL_DANE, MXTLS_VERDICT_PASS, "encrypted");
    fx_set(f, MXTLS_LEVEL_DANE_ONLY, MXTLS_VERDICT_FAIL, "no-tlsa");
    fx_set(f, MXTLS_LEVEL_ESA_PREFERRED, MXTLS_VERDICT_PASS, "encrypted");
    fx_set(f, MXTLS_LEVEL_ESA_REQUIRED, MXTLS_VERDICT_PASS, "encrypted");
    fx_set(f, MXTLS_LEVEL_ESA_PREFERRED_VERIFY, MXTLS_VERDICT_PASS, "verified");
    fx_set(f, MXTLS_LEVEL_ESA_REQUIRED_VERIFY, MXTLS_VERDICT_PASS, "verified");
    fx_set(f, MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED, MXTLS_VERDICT_PASS, "verified");
    fx_set(f, MXTLS_LEVEL_MTA_STS, MXTLS_VERDICT_PASS, "encrypted");
    fx_set(f, MXTLS_LEVEL_REQUIRETLS, MXTLS_VERDICT_FAIL, "requiretls-not-authenticated");
    f->rep.sts = &f->sts;
    f->sts.looked_up = 1;
    f->sts.concluded = 1;
    f->sts.txt_outcome = DNS_NXDOMAIN;
    f->sts.txt_security = DNS_SEC_SECURE;
    /* one MX address, every level judged on its one connection */
    f->rep.hosts[0] = &f->host;
    f->rep.nhosts = 1;
    f->host.addrs[0] = &f->addr;
    f->host.naddrs = 1;
    f->addr.nconns = 1;
    f->addr.conns[0].probe = &f->probe;
    f->probe.tls_ok = 1;
}

/* fx_sts - an MTA-STS policy in force with this mode */
static void fx_sts(fx *f, mtasts_mode mode)
{
    f->sts.txt_outcome = DNS_DATA;
    f->sts.txt.valid = 1;
    f->sts.apply = STS_APPLY_FETCHED;
    f->sts.mode = mode;
}

/* fx_sts_txt - one v=STSv1 TXT record, valid or not */
static void fx_sts_txt(fx *f, const char *record, int valid)
{
    f->sts.txt_outcome = DNS_DATA;
    assert_int_equal(strlist_add(&f->sts.txt_records, record), MXTLS_OK);
    f->sts.txt.valid = valid;
}

static void fx_free(fx *f)
{
    strlist_free(&f->sts.txt_records);
    strlist_free(&f->probe.smtp.post_tls.caps.keywords);
    recerr_free(&f->sts.txt.errors);
}

/* text_is - the headline block of f at `level` is exactly `want` */
static void text_is(const fx *f, mxtls_level level, const char *want)
{
    check_summary s;
    summary_of(&f->rep, level, &s);
    textout t;
    to_init(&t, 1u << 16);
    summary_text(&t, &s, 0);
    char *got = to_take(&t);
    assert_non_null(got);
    /* every line fits one 80-column row */
    for (const char *p = got; *p;) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_in_range(nl - p, 1, 80);
        p = nl + 1;
    }
    assert_string_equal(got, want);
    free(got);
}

static void test_all_good(void **state)
{
    fx f;
    fx_init(&f, "good.test");
    text_is(&f, MXTLS_LEVEL_INVALID,
            "good.test: OK: TLS, PKIX senders\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) ok            verified\n"
            "  DANE (dane, dane-only)              not published no-tlsa\n"
            "  MTA-STS (mta-sts)                   not published no-policy\n"
            "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised\n");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.level, MXTLS_LEVEL_MAY);
    assert_int_equal(s.verdict, MXTLS_VERDICT_PASS);
    assert_int_equal(s.exit_code, 0);
    assert_int_equal(s.rows[SUMMARY_DANE].nfailing, 0);
    fx_free(&f);
}

/* The case: the certificate names the HELO host, not the MX. The
 * auto level (may) passes; the headline says what fails. */
static void test_name_mismatch(void **state)
{
    fx f;
    fx_init(&f, "helo.test");
    fx_set(&f, MXTLS_LEVEL_VERIFY, MXTLS_VERDICT_FAIL, "name-mismatch");
    fx_set(&f, MXTLS_LEVEL_SECURE, MXTLS_VERDICT_FAIL, "name-mismatch");
    fx_set(&f, MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED, MXTLS_VERDICT_FAIL, "name-mismatch");
    text_is(&f, MXTLS_LEVEL_INVALID,
            "helo.test: FAIL name-mismatch: PKIX senders; OK: TLS\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) FAIL          name-mismatch (3 of 4)\n"
            "  DANE (dane, dane-only)              not published no-tlsa\n"
            "  MTA-STS (mta-sts)                   not published no-policy\n"
            "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised\n");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.exit_code, 0);
    assert_int_equal(s.rows[SUMMARY_PKIX].nfailing, 3);
    assert_int_equal(s.rows[SUMMARY_PKIX].failing[2], MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED);
    /* one failing level of four: named, the line has room */
    fx_set(&f, MXTLS_LEVEL_VERIFY, MXTLS_VERDICT_PASS, "verified");
    fx_set(&f, MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED, MXTLS_VERDICT_PASS, "verified");
    text_is(&f, MXTLS_LEVEL_VERIFY,
            "helo.test: FAIL name-mismatch: PKIX senders; OK: TLS\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) FAIL          name-mismatch (secure)\n"
            "  DANE (dane, dane-only)              not published no-tlsa\n"
            "  MTA-STS (mta-sts)                   not published no-policy\n"
            "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised\n");
    /* --level secure: that level's verdict sets the exit code */
    summary_of(&f.rep, MXTLS_LEVEL_SECURE, &s);
    assert_int_equal(s.level, MXTLS_LEVEL_SECURE);
    assert_int_equal(s.verdict, MXTLS_VERDICT_FAIL);
    assert_int_equal(s.exit_code, 1);
    fx_free(&f);
}

static void test_no_tls(void **state)
{
    fx f;
    fx_init(&f, "plain.test");
    fx_set(&f, MXTLS_LEVEL_MAY, MXTLS_VERDICT_PASS, "no-starttls");
    fx_set(&f, MXTLS_LEVEL_DANE, MXTLS_VERDICT_PASS, "no-starttls");
    fx_set(&f, MXTLS_LEVEL_MTA_STS, MXTLS_VERDICT_PASS, "no-starttls");
    fx_set(&f, MXTLS_LEVEL_ESA_PREFERRED_VERIFY, MXTLS_VERDICT_PASS, "no-starttls");
    static const mxtls_level need_tls[] = {
        MXTLS_LEVEL_ENCRYPT, MXTLS_LEVEL_FINGERPRINT, MXTLS_LEVEL_VERIFY, MXTLS_LEVEL_SECURE,
        MXTLS_LEVEL_ESA_REQUIRED, MXTLS_LEVEL_ESA_REQUIRED_VERIFY,
        MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED};
    for (size_t i = 0; i < sizeof need_tls / sizeof need_tls[0]; i++)
        fx_set(&f, need_tls[i], MXTLS_VERDICT_FAIL, "no-starttls");
    f.probe.tls_ok = 0;
    text_is(&f, MXTLS_LEVEL_INVALID,
            "plain.test: TLS not offered; FAIL no-starttls: PKIX senders\n"
            "  TLS (may, encrypt)                  not offered   no-starttls\n"
            "  PKIX (verify, secure, Cisco Verify) FAIL          no-starttls\n"
            "  DANE (dane, dane-only)              not published no-tlsa\n"
            "  MTA-STS (mta-sts)                   not published no-policy\n"
            "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised\n");
    fx_free(&f);
}

/* Authenticated only by DANE (a self-signed DANE-EE certificate), with an
 * MTA-STS policy in force; the server lists REQUIRETLS after STARTTLS. */
static void test_dane_only(void **state)
{
    fx f;
    fx_init(&f, "dane-ee.test");
    f.rep.auto_level = MXTLS_LEVEL_DANE;
    static const mxtls_level pkix[] = {MXTLS_LEVEL_VERIFY, MXTLS_LEVEL_SECURE,
                                       MXTLS_LEVEL_ESA_REQUIRED_VERIFY,
                                       MXTLS_LEVEL_ESA_REQUIRED_VERIFY_HOSTED};
    for (size_t i = 0; i < 4; i++)
        fx_set(&f, pkix[i], MXTLS_VERDICT_FAIL, "self-signed");
    fx_set(&f, MXTLS_LEVEL_DANE, MXTLS_VERDICT_PASS, "dane-verified");
    fx_set(&f, MXTLS_LEVEL_DANE_ONLY, MXTLS_VERDICT_PASS, "dane-verified");
    fx_set(&f, MXTLS_LEVEL_MTA_STS, MXTLS_VERDICT_PASS, "dane-verified");
    fx_set(&f, MXTLS_LEVEL_REQUIRETLS, MXTLS_VERDICT_FAIL, "requiretls-not-advertised");
    fx_sts(&f, MTASTS_MODE_ENFORCE);
    text_is(&f, MXTLS_LEVEL_INVALID,
            "dane-ee.test: FAIL self-signed: PKIX senders; OK: TLS, DANE, MTA-STS\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) FAIL          self-signed\n"
            "  DANE (dane, dane-only)              ok            dane-verified\n"
            "  MTA-STS (mta-sts)                   ok            enforce\n"
            "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised\n");
    /* The server lists REQUIRETLS: the extension works over DANE. */
    assert_int_equal(strlist_add(&f.probe.smtp.post_tls.caps.keywords, "REQUIRETLS"), MXTLS_OK);
    fx_set(&f, MXTLS_LEVEL_REQUIRETLS, MXTLS_VERDICT_PASS, "requiretls-ok");
    text_is(&f, MXTLS_LEVEL_INVALID,
            "dane-ee.test: FAIL self-signed: PKIX senders; OK: TLS, DANE, MTA-STS, REQUIRETLS\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) FAIL          self-signed\n"
            "  DANE (dane, dane-only)              ok            dane-verified\n"
            "  MTA-STS (mta-sts)                   ok            enforce\n"
            "  REQUIRETLS (requiretls)             ok            requiretls-ok\n");
    /* Listed, but without DANE or MTA-STS enforce nothing authenticates it:
     * offered, and failing. */
    fx_set(&f, MXTLS_LEVEL_REQUIRETLS, MXTLS_VERDICT_FAIL, "requiretls-not-authenticated");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_REQUIRETLS].state, SUMMARY_FAIL);
    assert_string_equal(s.rows[SUMMARY_REQUIRETLS].reason, "requiretls-not-authenticated");
    fx_free(&f);
}

/* An MTA-STS policy in mode enforce that does not cover the MX: the auto
 * level mta-sts fails, exit 1; secure fails on the name too. The detailed
 * first line is too long: it names the failing rows without reasons. */
static void test_sts_enforce_failing(void **state)
{
    fx f;
    fx_init(&f, "sts-uncovered.test");
    f.rep.auto_level = MXTLS_LEVEL_MTA_STS;
    fx_sts(&f, MTASTS_MODE_ENFORCE);
    fx_set(&f, MXTLS_LEVEL_SECURE, MXTLS_VERDICT_FAIL, "name-mismatch");
    fx_set(&f, MXTLS_LEVEL_MTA_STS, MXTLS_VERDICT_FAIL, "sts-mx-not-covered");
    text_is(&f, MXTLS_LEVEL_INVALID,
            "sts-uncovered.test: FAIL: PKIX senders, MTA-STS; OK: TLS\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) FAIL          name-mismatch (secure)\n"
            "  DANE (dane, dane-only)              not published no-tlsa\n"
            "  MTA-STS (mta-sts)                   FAIL          sts-mx-not-covered\n"
            "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised\n");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.level, MXTLS_LEVEL_MTA_STS);
    assert_int_equal(s.exit_code, 1);
    /* with a shorter domain the detailed form fits */
    snprintf(f.domain, sizeof f.domain, "sts.test");
    fx_set(&f, MXTLS_LEVEL_SECURE, MXTLS_VERDICT_PASS, "verified");
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_string_equal(s.headline,
                        "sts.test: FAIL sts-mx-not-covered: MTA-STS; OK: TLS, PKIX senders");
    fx_free(&f);
}

/* MTA-STS in testing and none mode, a record whose policy cannot be had,
 * a broken record, a failed TXT lookup, and no lookup at all (routes) */
static void test_sts_states(void **state)
{
    fx f;
    check_summary s;
    fx_init(&f, "sts-testing.test");
    fx_sts(&f, MTASTS_MODE_TESTING);
    text_is(&f, MXTLS_LEVEL_INVALID,
            "sts-testing.test: OK: TLS, PKIX senders\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) ok            verified\n"
            "  DANE (dane, dane-only)              not published no-tlsa\n"
            "  MTA-STS (mta-sts)                   not enforced  testing\n"
            "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised\n");
    fx_sts(&f, MTASTS_MODE_NONE);
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_MTA_STS].state, SUMMARY_NOT_ENFORCED);
    assert_string_equal(s.rows[SUMMARY_MTA_STS].reason, "none");
    fx_free(&f);

    /* a valid record, the policy URL answers 404: senders go on without */
    fx_init(&f, "sts-404.test");
    fx_sts_txt(&f, "v=STSv1; id=1", 1);
    f.sts.fetch_tried = 1;
    f.sts.http_status = 404;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_MTA_STS].state, SUMMARY_FAIL);
    assert_string_equal(s.rows[SUMMARY_MTA_STS].reason, "policy-http-404");
    assert_string_equal(s.headline, "sts-404.test: FAIL policy-http-404: MTA-STS; OK: TLS, "
                                    "PKIX senders");
    f.sts.http_status = 200; /* served, but not as text/plain */
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_string_equal(s.rows[SUMMARY_MTA_STS].reason, "policy-media-type");
    f.sts.http_status = 0; /* no HTTP answer */
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_string_equal(s.rows[SUMMARY_MTA_STS].reason, "policy-fetch-failed");
    /* two records: the TXT selection's rule */
    assert_int_equal(strlist_add(&f.sts.txt_records, "v=STSv1; id=2"), MXTLS_OK);
    f.sts.txt.valid = 0;
    recerr_add(&f.sts.txt.errors, 0, 0, "txt-multiple", "two records");
    assert_int_equal(f.sts.txt.errors.n, 1);
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_MTA_STS].state, SUMMARY_FAIL);
    assert_string_equal(s.rows[SUMMARY_MTA_STS].reason, "txt-multiple");
    fx_free(&f);

    /* a TXT record of another kind is no MTA-STS record */
    fx_init(&f, "spf.test");
    fx_sts_txt(&f, "v=spf1 -all", 0);
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_MTA_STS].state, SUMMARY_NOT_PUBLISHED);
    assert_string_equal(s.rows[SUMMARY_MTA_STS].reason, "no-policy");
    fx_free(&f);

    /* the TXT lookup timed out: nobody can tell */
    fx_init(&f, "slow.test");
    f.sts.txt_outcome = DNS_TIMEOUT;
    f.sts.txt_security = DNS_SEC_INDETERMINATE;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_MTA_STS].state, SUMMARY_TEMPFAIL);
    assert_string_equal(s.rows[SUMMARY_MTA_STS].reason, "sts-txt-lookup-error");
    /* probe, or check with --route: MTA-STS is not looked up */
    f.rep.sts = NULL;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_MTA_STS].state, SUMMARY_NOT_CHECKED);
    assert_string_equal(s.rows[SUMMARY_MTA_STS].reason, "not-looked-up");
    fx_free(&f);
}

/* Bogus DNSSEC on the MX lookup: every level defers, exit 3. */
static void test_dns_bogus(void **state)
{
    fx f;
    fx_init(&f, "bogus-expired.test");
    for (size_t i = 0; i < NLEVELS; i++)
        fx_set(&f, all_levels[i], MXTLS_VERDICT_TEMPFAIL, "dns-bogus");
    f.sts.txt_outcome = DNS_SERVFAIL;
    f.sts.txt_security = DNS_SEC_BOGUS;
    f.probe.tls_ok = 0;
    text_is(&f, MXTLS_LEVEL_INVALID,
            "bogus-expired.test: TEMPFAIL dns-bogus: every sender\n"
            "  TLS (may, encrypt)                  TEMPFAIL      dns-bogus\n"
            "  PKIX (verify, secure, Cisco Verify) TEMPFAIL      dns-bogus\n"
            "  DANE (dane, dane-only)              TEMPFAIL      dns-bogus\n"
            "  MTA-STS (mta-sts)                   TEMPFAIL      dns-bogus\n"
            "  REQUIRETLS (requiretls)             TEMPFAIL      dns-bogus\n");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.verdict, MXTLS_VERDICT_TEMPFAIL);
    assert_int_equal(s.exit_code, 3);
    fx_free(&f);
}

/* A bogus TLSA RRset: DANE senders defer (never downgrade); the rest works. */
static void test_tempfail(void **state)
{
    fx f;
    fx_init(&f, "dane-bogus.test");
    f.rep.auto_level = MXTLS_LEVEL_DANE;
    fx_set(&f, MXTLS_LEVEL_DANE, MXTLS_VERDICT_TEMPFAIL, "tlsa-lookup-error");
    fx_set(&f, MXTLS_LEVEL_DANE_ONLY, MXTLS_VERDICT_TEMPFAIL, "tlsa-lookup-error");
    fx_set(&f, MXTLS_LEVEL_MTA_STS, MXTLS_VERDICT_TEMPFAIL, "tlsa-lookup-error");
    fx_set(&f, MXTLS_LEVEL_REQUIRETLS, MXTLS_VERDICT_TEMPFAIL, "tlsa-lookup-error");
    text_is(&f, MXTLS_LEVEL_INVALID,
            "dane-bogus.test: TEMPFAIL tlsa-lookup-error: DANE, REQUIRETLS\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) ok            verified\n"
            "  DANE (dane, dane-only)              TEMPFAIL      tlsa-lookup-error\n"
            "  MTA-STS (mta-sts)                   not published no-policy\n"
            "  REQUIRETLS (requiretls)             TEMPFAIL      tlsa-lookup-error\n");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.exit_code, 3);
    fx_free(&f);

    /* A server that never completes its greeting: nothing decides; the
     * failures come first, then the deferrals (by reason when it fits). */
    fx_init(&f, "trickle.test");
    for (size_t i = 0; i < NLEVELS; i++)
        fx_set(&f, all_levels[i], MXTLS_VERDICT_TEMPFAIL, "timeout");
    fx_set(&f, MXTLS_LEVEL_DANE_ONLY, MXTLS_VERDICT_FAIL, "no-tlsa");
    fx_set(&f, MXTLS_LEVEL_ESA_REQUIRED_VERIFY, MXTLS_VERDICT_FAIL, "name-mismatch");
    f.probe.tls_ok = 0;
    text_is(&f, MXTLS_LEVEL_INVALID,
            "trickle.test: FAIL: PKIX senders; TEMPFAIL: TLS, REQUIRETLS\n"
            "  TLS (may, encrypt)                  TEMPFAIL      timeout\n"
            "  PKIX (verify, secure, Cisco Verify) FAIL          name-mismatch\n"
            "  DANE (dane, dane-only)              not published no-tlsa\n"
            "  MTA-STS (mta-sts)                   not published no-policy\n"
            "  REQUIRETLS (requiretls)             TEMPFAIL      timeout\n");
    fx_free(&f);
}

/* Published DANE that fails (a TLSA record of another key) is the domain's
 * failure, unlike DANE not published. */
static void test_dane_failing(void **state)
{
    fx f;
    fx_init(&f, "dane-mismatch.test");
    f.rep.auto_level = MXTLS_LEVEL_DANE;
    fx_set(&f, MXTLS_LEVEL_DANE, MXTLS_VERDICT_FAIL, "tlsa-mismatch");
    fx_set(&f, MXTLS_LEVEL_DANE_ONLY, MXTLS_VERDICT_FAIL, "tlsa-mismatch");
    text_is(&f, MXTLS_LEVEL_INVALID,
            "dane-mismatch.test: FAIL tlsa-mismatch: DANE; OK: TLS, PKIX senders\n"
            "  TLS (may, encrypt)                  ok            encrypted\n"
            "  PKIX (verify, secure, Cisco Verify) ok            verified\n"
            "  DANE (dane, dane-only)              FAIL          tlsa-mismatch\n"
            "  MTA-STS (mta-sts)                   not published no-policy\n"
            "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised\n");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.exit_code, 1);
    /* an insecure MX RRset: DANE does not apply, which is no failure */
    fx_set(&f, MXTLS_LEVEL_DANE, MXTLS_VERDICT_PASS, "encrypted");
    fx_set(&f, MXTLS_LEVEL_DANE_ONLY, MXTLS_VERDICT_FAIL, "mx-insecure");
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_DANE].state, SUMMARY_NOT_PUBLISHED);
    assert_string_equal(s.rows[SUMMARY_DANE].reason, "mx-insecure");
    fx_free(&f);
}

/* A null MX: the domain accepts no mail; every row that has a sender says
 * so, REQUIRETLS included (nothing was offered because nothing was asked). */
static void test_null_mx(void **state)
{
    fx f;
    fx_init(&f, "nullmx.test");
    for (size_t i = 0; i < NLEVELS; i++)
        fx_set(&f, all_levels[i], MXTLS_VERDICT_FAIL, "null-mx");
    f.rep.nhosts = 0;
    text_is(&f, MXTLS_LEVEL_INVALID,
            "nullmx.test: FAIL null-mx: TLS, PKIX senders, DANE, REQUIRETLS\n"
            "  TLS (may, encrypt)                  FAIL          null-mx\n"
            "  PKIX (verify, secure, Cisco Verify) FAIL          null-mx\n"
            "  DANE (dane, dane-only)              FAIL          null-mx\n"
            "  MTA-STS (mta-sts)                   not published no-policy\n"
            "  REQUIRETLS (requiretls)             FAIL          null-mx\n");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.exit_code, 1);
    fx_free(&f);
}

/* The first line stays within 80 columns: the OK part goes first, then the
 * reasons; a domain too long for any form keeps the shortest. */
static void test_headline_forms(void **state)
{
    fx f;
    check_summary s;
    fx_init(&f, "a-rather-long-name-for-a-mail-domain.example");
    fx_set(&f, MXTLS_LEVEL_VERIFY, MXTLS_VERDICT_FAIL, "name-mismatch");
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_string_equal(s.headline,
                        "a-rather-long-name-for-a-mail-domain.example: FAIL name-mismatch: PKIX "
                        "senders");
    fx_set(&f, MXTLS_LEVEL_DANE, MXTLS_VERDICT_FAIL, "tlsa-mismatch");
    fx_set(&f, MXTLS_LEVEL_DANE_ONLY, MXTLS_VERDICT_FAIL, "tlsa-mismatch");
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_string_equal(s.headline,
                        "a-rather-long-name-for-a-mail-domain.example: FAIL: PKIX senders, DANE; "
                        "OK: TLS");
    snprintf(f.domain, sizeof f.domain, "%s",
             "a-much-longer-name-for-a-mail-domain-than-anyone-would-type.example");
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_string_equal(s.headline, "a-much-longer-name-for-a-mail-domain-than-anyone-would-"
                                    "type.example: FAIL: PKIX senders, DANE");
    fx_free(&f);
}

/* The JSON object: stable keys, every row, the exit code. */
static void test_json(void **state)
{
    fx f;
    fx_init(&f, "helo.test");
    fx_set(&f, MXTLS_LEVEL_SECURE, MXTLS_VERDICT_FAIL, "name-mismatch");
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    jsonw w;
    jw_init(&w);
    summary_json(&w, &s);
    char *got = jw_finish(&w);
    assert_non_null(got);
    assert_string_equal(
        got,
        "{\"headline\":\"helo.test: FAIL name-mismatch: PKIX senders; OK: TLS\","
        "\"tls\":{\"state\":\"ok\",\"reason\":\"encrypted\",\"levels\":[\"may\",\"encrypt\"],"
        "\"failing\":[]},"
        "\"pkix\":{\"state\":\"fail\",\"reason\":\"name-mismatch\",\"levels\":[\"verify\","
        "\"secure\",\"esa-required-verify\",\"esa-required-verify-hosted\"],"
        "\"failing\":[\"secure\"]},"
        "\"dane\":{\"state\":\"not-published\",\"reason\":\"no-tlsa\",\"levels\":[\"dane\","
        "\"dane-only\"],\"failing\":[]},"
        "\"mta_sts\":{\"state\":\"not-published\",\"reason\":\"no-policy\",\"levels\":"
        "[\"mta-sts\"],\"failing\":[]},"
        "\"requiretls\":{\"state\":\"not-offered\",\"reason\":\"requiretls-not-advertised\","
        "\"levels\":[\"requiretls\"],\"failing\":[]},"
        "\"level\":\"may\",\"verdict\":\"pass\",\"exit_code\":0}");
    free(got);
    fx_free(&f);
}

/* A report without some levels (an older engine, a trimmed run): those
 * rows are not checked, never guessed. */
static void test_levels_missing(void **state)
{
    fx f;
    fx_init(&f, "partial.test");
    f.rep.nlevels = 3; /* none, may, encrypt */
    check_summary s;
    summary_of(&f.rep, MXTLS_LEVEL_INVALID, &s);
    assert_int_equal(s.rows[SUMMARY_TLS].state, SUMMARY_OK);
    assert_int_equal(s.rows[SUMMARY_PKIX].state, SUMMARY_NOT_CHECKED);
    assert_int_equal(s.rows[SUMMARY_DANE].state, SUMMARY_NOT_CHECKED);
    assert_int_equal(s.rows[SUMMARY_MTA_STS].state, SUMMARY_NOT_CHECKED);
    assert_int_equal(s.rows[SUMMARY_REQUIRETLS].state, SUMMARY_NOT_CHECKED);
    assert_string_equal(s.rows[SUMMARY_PKIX].reason, "not-evaluated");
    assert_string_equal(s.headline, "partial.test: OK: TLS");
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_good),
        cmocka_unit_test(test_name_mismatch),
        cmocka_unit_test(test_no_tls),
        cmocka_unit_test(test_dane_only),
        cmocka_unit_test(test_sts_enforce_failing),
        cmocka_unit_test(test_sts_states),
        cmocka_unit_test(test_dns_bogus),
        cmocka_unit_test(test_tempfail),
        cmocka_unit_test(test_dane_failing),
        cmocka_unit_test(test_null_mx),
        cmocka_unit_test(test_headline_forms),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_levels_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
