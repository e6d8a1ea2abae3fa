/* test_monitor.c - the monitoring plugin's decision (src/report/monitor.c)
 * over real check reports of the test world (tests/data/report/world.jsonl):
 * exact status lines, perfdata and states */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "report/monitor.h"
#include "core/utctime.h"
#include "testutil.h"

#define FIXTURE_NOW "2026-12-05T20:00:00Z" /* see test_survey.c for the fixture's dates */

/* line_of - the fixture's line for domain (caller frees) */
static char *line_of(const char *domain)
{
    char path[4096], key[300];
    const char *src = getenv("MXTLS_SOURCE_DIR");
    assert_non_null(src);
    snprintf(path, sizeof path, "%s/tests/data/report/world.jsonl", src);
    snprintf(key, sizeof key, "{\"schema_version\":1,\"domain\":\"%s\",", domain);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&buf, &cap, f)) > 0) {
        if (!strncmp(buf, key, strlen(key))) {
            fclose(f);
            return buf;
        }
    }
    fclose(f);
    fail_msg("no line for %s", domain);
    return NULL;
}

static monitor_config cfg_default(void)
{
    monitor_config c = {.warn_days = MONITOR_DEFAULT_WARN_DAYS,
                        .crit_days = MONITOR_DEFAULT_CRIT_DAYS};
    assert_int_equal(utctime_parse(FIXTURE_NOW, 0, &c.now), 0);
    return c;
}

static void expect_line(const char *domain, const monitor_config *c, monitor_state st,
                        const char *want)
{
    char *line = line_of(domain), *out = NULL;
    assert_int_equal(monitor_evaluate(line, strlen(line), c, &out), st);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
    free(line);
}

static void test_states(void **state)
{
    (void)state;
    monitor_config c = cfg_default();
    expect_line("good.test", &c, MONITOR_OK,
                "MXTLS OK - good.test: level may passes (encrypted); 1 certificate, valid 364 "
                "days or more | 'cert_days_mx.good.test[127.0.2.1]'=364;30:;14: "
                "time=0.019s;;;0\n");
    expect_line("expiring.test", &c, MONITOR_WARNING,
                "MXTLS WARNING - expiring.test: certificate of mx.expiring.test [127.0.7.1] "
                "expires in 19 days (2026-12-25T19:25:15Z) | "
                "'cert_days_mx.expiring.test[127.0.7.1]'=19;30:;14: time=0.043s;;;0\n");
    expect_line("expired.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - expired.test: certificate of mx.expired.test [127.0.2.3] "
                "expired 366 days ago (2025-12-05T19:25:13Z) | "
                "'cert_days_mx.expired.test[127.0.2.3]'=-366;30:;14: time=0.014s;;;0\n");
    expect_line("nullmx.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - nullmx.test: level may fails: null-mx: the domain publishes a "
                "null MX (RFC 7505): it accepts no mail | time=0.003s;;;0\n");
    /* DNS failures and 4xx replies: CRITICAL, not UNKNOWN (senders defer) */
    expect_line("bogus-expired.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - bogus-expired.test: level may tempfails (senders defer): "
                "dns-bogus: validation failure <bogus-expired.test. MX IN>: signature expired "
                "from 127.0.1.3 for key bogus-expired.test. while building chain of trust | "
                "time=0.005s;;;0\n");
    expect_line("banner-421.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - banner-421.test: level may tempfails (senders defer): "
                "banner-rejected: the greeting refused the session: 421 4.3.2 "
                "mx.banner-421.test hostile: service not available | time=0.011s;;;0\n");
    expect_line("dane-mismatch.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - dane-mismatch.test: level dane fails: tlsa-mismatch: no usable "
                "TLSA record of mx.dane-mismatch.test matches the certificate chain the server "
                "presented | 'cert_days_mx.dane-mismatch.test[127.0.2.32]'=364;30:;14: "
                "time=0.030s;;;0\n");
}

static void test_thresholds(void **state)
{
    (void)state;
    monitor_config c = cfg_default();
    c.crit_days = 20;
    expect_line("expiring.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - expiring.test: certificate of mx.expiring.test [127.0.7.1] "
                "expires in 19 days (2026-12-25T19:25:15Z) | "
                "'cert_days_mx.expiring.test[127.0.7.1]'=19;30:;20: time=0.043s;;;0\n");
    /* "fewer than N days": 19 days left is not below 19 */
    c.crit_days = 19;
    expect_line("expiring.test", &c, MONITOR_WARNING,
                "MXTLS WARNING - expiring.test: certificate of mx.expiring.test [127.0.7.1] "
                "expires in 19 days (2026-12-25T19:25:15Z) | "
                "'cert_days_mx.expiring.test[127.0.7.1]'=19;30:;19: time=0.043s;;;0\n");
    c.warn_days = 19;
    c.crit_days = 10;
    expect_line("expiring.test", &c, MONITOR_OK,
                "MXTLS OK - expiring.test: level may passes (encrypted); 1 certificate, valid 19 "
                "days or more | 'cert_days_mx.expiring.test[127.0.7.1]'=19;19:;10: "
                "time=0.043s;;;0\n");
}

static void test_expect(void **state)
{
    (void)state;
    monitor_config c = cfg_default();
    c.expect = "verify";
    expect_line("expired.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - expired.test: level verify fails: expired: the server "
                "certificate \"O=mxtls test,CN=mx.expired.test\" has expired; certificate of "
                "mx.expired.test [127.0.2.3] expired 366 days ago (2025-12-05T19:25:13Z) | "
                "'cert_days_mx.expired.test[127.0.2.3]'=-366;30:;14: time=0.014s;;;0\n");
    c.expect = "encrypt";
    expect_line("plain.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - plain.test: level encrypt fails: no-starttls: TLS is required "
                "at level encrypt, but the server does not offer STARTTLS | time=0.013s;;;0\n");
    c.expect = "nosuch";
    expect_line("good.test", &c, MONITOR_UNKNOWN,
                "MXTLS UNKNOWN - good.test: level nosuch is not in the check report\n");
}

static void test_sts(void **state)
{
    (void)state;
    monitor_config c = cfg_default();
    expect_line("sts.test", &c, MONITOR_OK,
                "MXTLS OK - sts.test: level mta-sts passes (verified); 2 certificates, valid 364 "
                "days or more | 'cert_days_mx.sts.test[127.0.2.21]'=364;30:;14: "
                "'sts_cert_days'=364;30:;14: 'sts_max_age'=86400s;;;0 time=0.035s;;;0\n");
    expect_line("sts-404.test", &c, MONITOR_WARNING,
                "MXTLS WARNING - sts-404.test: the MTA-STS policy could not be fetched (HTTP "
                "status 404 (a policy needs 200)): senders' cached copies expire and MTA-STS "
                "then lapses | 'cert_days_mx.sts.test[127.0.2.21]'=364;30:;14: "
                "'sts_cert_days'=364;30:;14: time=0.030s;;;0\n");
    /* the policy host's certificate expires sooner than the thresholds */
    c.warn_days = 400;
    c.crit_days = 365;
    expect_line("sts.test", &c, MONITOR_CRITICAL,
                "MXTLS CRITICAL - sts.test: certificate of mx.sts.test [127.0.2.21] expires in "
                "364 days (2027-12-05T19:25:13Z); certificate of mta-sts.sts.test (the policy "
                "host) expires in 364 days (2027-12-05T19:25:13Z) | "
                "'cert_days_mx.sts.test[127.0.2.21]'=364;400:;365: "
                "'sts_cert_days'=364;400:;365: 'sts_max_age'=86400s;;;0 time=0.035s;;;0\n");
}

static void test_plans(void **state)
{
    (void)state;
    monitor_config c = cfg_default();
    monitor_plan p = {.host = "mx.good.test", .file = "next.pem", .verdict = "will-break",
                      .publish = "3 1 1 ABCD"};
    c.plans = &p;
    c.nplans = 1;
    expect_line("good.test", &c, MONITOR_WARNING,
                "MXTLS WARNING - good.test: the TLSA records of mx.good.test do not match the "
                "next certificate next.pem: publish first 3 1 1 ABCD | "
                "'cert_days_mx.good.test[127.0.2.1]'=364;30:;14: time=0.019s;;;0\n");
    p.verdict = "safe";
    expect_line("good.test", &c, MONITOR_OK,
                "MXTLS OK - good.test: level may passes (encrypted); 1 certificate, valid 364 "
                "days or more; the TLSA records of mx.good.test match next.pem | "
                "'cert_days_mx.good.test[127.0.2.1]'=364;30:;14: time=0.019s;;;0\n");
    p.verdict = "not-applicable";
    expect_line("good.test", &c, MONITOR_OK,
                "MXTLS OK - good.test: level may passes (encrypted); 1 certificate, valid 364 "
                "days or more | 'cert_days_mx.good.test[127.0.2.1]'=364;30:;14: "
                "time=0.019s;;;0\n");
}

/* what is not a check report is UNKNOWN; what a report holds cannot break
 * the status line or the perfdata */
static void test_bad_input(void **state)
{
    (void)state;
    monitor_config c = cfg_default();
    char *out = NULL;
    assert_int_equal(monitor_evaluate("nope", 4, &c, &out), MONITOR_UNKNOWN);
    assert_string_equal(out, "MXTLS UNKNOWN - the check report could not be read ('[' or '{' "
                             "expected near 'nope')\n");
    free(out);
    assert_int_equal(monitor_evaluate("[]", 2, &c, &out), MONITOR_UNKNOWN);
    assert_string_equal(out, "MXTLS UNKNOWN - the check report could not be read (not a check "
                             "report)\n");
    free(out);
    const char *h = "{\"domain\":\"a|b\\nc\",\"effective_level\":\"may\",\"matrix\":{\"may\":"
                    "{\"verdict\":\"fail\",\"code\":\"x\",\"message\":\"m|1\\r\\nMXTLS OK\"}},"
                    "\"addresses\":[{\"host\":\"h'=|x\",\"ip\":\"1\",\"probe\":{\"tls\":{\"chain\":"
                    "[{\"not_after\":\"2027-01-01T00:00:00Z\"}]}}}]}";
    assert_int_equal(monitor_evaluate(h, strlen(h), &c, &out), MONITOR_CRITICAL);
    assert_string_equal(out, "MXTLS CRITICAL - a/b?c: level may fails: x: m/1??MXTLS OK; "
                             "certificate of h'=/x [1] expires in 26 days "
                             "(2027-01-01T00:00:00Z) | 'cert_days_h___x[1]'=26;30:;14:\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states), cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_expect), cmocka_unit_test(test_sts),
        cmocka_unit_test(test_plans),  cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
