/* test_utctime.c - RFC 3339 UTC times to time_t (src/core/utctime.c): the
 * form each caller reads (--at/--now with UTCTIME_DATE | UTCTIME_FROM_1970;
 * a check report's not_after with no flag), dates and times that do not
 * exist, the leap second, and text around a valid time */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/utctime.h"

#define CLI_FLAGS (UTCTIME_DATE | UTCTIME_FROM_1970)

/* ok - s parses with flags; its time_t */
static long long ok(const char *s, unsigned flags)
{
    time_t t = 12345;
    int rc = utctime_parse(s, flags, &t);
    if (rc != 0)
        fail_msg("\"%s\" (flags %u) refused", s, flags);
    return (long long)t;
}

/* refused - s does not parse with flags, and *out is left alone */
static void refused(const char *s, unsigned flags)
{
    time_t t = 12345;
    if (utctime_parse(s, flags, &t) != -1)
        fail_msg("\"%s\" (flags %u) accepted", s, flags);
    assert_int_equal((long long)t, 12345);
}

static void test_full_form(void **state)
{
    (void)state;
    assert_int_equal(ok("2026-12-15T19:22:11Z", 0), 1797362531LL);
    assert_int_equal(ok("2026-12-15T19:22:11Z", CLI_FLAGS), 1797362531LL);
    assert_int_equal(ok("1970-01-01T00:00:00Z", CLI_FLAGS), 0);
    assert_int_equal(ok("9999-12-31T23:59:59Z", 0), 253402300799LL);
}

static void test_leap_day(void **state)
{
    (void)state;
    assert_int_equal(ok("2028-02-29T12:34:56Z", 0), 1835440496LL);
    assert_int_equal(ok("2028-02-29", CLI_FLAGS), 1835395200LL);
    refused("2026-02-29T00:00:00Z", 0);
    refused("2026-02-29", CLI_FLAGS);
    refused("2100-02-29T00:00:00Z", 0); /* not a leap year: divisible by 100 */
    assert_int_equal(ok("2000-02-29T00:00:00Z", 0), 951782400LL);
}

static void test_no_such_date(void **state)
{
    (void)state;
    refused("2026-02-31T00:00:00Z", 0);
    refused("2026-02-31", CLI_FLAGS);
    refused("2026-04-31T00:00:00Z", 0);
    refused("2026-13-15T19:22:11Z", 0);
    refused("2026-00-15T19:22:11Z", 0);
    refused("2026-12-00T19:22:11Z", 0);
    refused("2026-12-32T19:22:11Z", 0);
    refused("2026-12-15T24:00:00Z", 0);
    refused("2026-12-15T19:60:00Z", 0);
    refused("2026-12-15T19:22:61Z", 0);
}

static void test_leap_second(void **state)
{
    (void)state;
    /* 2016-12-31T23:59:60Z was a leap second; time_t has none, so it is the
     * first second of 2017 */
    assert_int_equal(ok("2016-12-31T23:59:60Z", 0), 1483228800LL);
    assert_int_equal(ok("2016-12-31T23:59:60Z", CLI_FLAGS), 1483228800LL);
    assert_int_equal(ok("2016-12-31T23:59:59Z", 0), 1483228799LL);
    /* second 60 elsewhere is not a leap second */
    refused("2016-12-31T12:00:60Z", 0);
    refused("2016-12-31T23:58:60Z", 0);
    refused("2016-12-31T22:59:60Z", CLI_FLAGS);
}

static void test_around_the_time(void **state)
{
    (void)state;
    refused("2026-12-15T19:22:11Zx", 0);
    refused("2026-12-15T19:22:11Z ", 0);
    refused("2026-12-15T19:22:11Z\n", 0);
    refused(" 2026-12-15T19:22:11Z", 0);
    refused("2026-12-15T19:22:11", 0); /* no Z */
    refused("2026-12-15T19:22:11z", 0);
    refused("2026-12-15t19:22:11Z", 0);
    refused("2026-12-15 19:22:11Z", 0);
    refused("2026-12-15T19:22:11+00:00", 0);
    refused("2026-12-15T19:22:11.5Z", 0);
    refused("2026-12-15T19:22Z", 0);
    refused("2026-12-15T", CLI_FLAGS);
    refused("2026-12-15x", CLI_FLAGS);
    refused("2026-1-15T19:22:11Z", 0);
    refused("2026-12-5T19:22:11Z", 0);
    refused("2026-12-15T9:22:11Z", 0);
    refused("2026-+1-15T19:22:11Z", 0);
    refused("+026-12-15T19:22:11Z", 0);
    refused("12026-12-15T19:22:11Z", 0);
    refused("2026", CLI_FLAGS);
    refused("2026-12", CLI_FLAGS);
    refused("", CLI_FLAGS);
    refused(NULL, CLI_FLAGS);
}

static void test_date_only(void **state)
{
    (void)state;
    assert_int_equal(ok("2026-12-15", CLI_FLAGS), 1797292800LL);
    assert_int_equal(ok("2026-12-15", UTCTIME_DATE), 1797292800LL);
    /* a report's not_after is always the full form */
    refused("2026-12-15", 0);
    refused("2026-12-15", UTCTIME_FROM_1970);
}

static void test_years(void **state)
{
    (void)state;
    /* certificates' UTCTime starts in 1950: such a not_after is read */
    assert_int_equal(ok("1950-01-01T00:00:00Z", 0), -631152000LL);
    assert_int_equal(ok("1969-12-31T23:59:59Z", 0), -1); /* timegm's error value, but valid */
    refused("1949-12-31T23:59:59Z", 0);
    refused("0000-01-01T00:00:00Z", 0);
    /* where time 0 means "now", nothing before the epoch */
    refused("1969-12-31T23:59:59Z", CLI_FLAGS);
    refused("1969-12-31", CLI_FLAGS);
    refused("1950-01-01T00:00:00Z", UTCTIME_FROM_1970);
    assert_int_equal(ok("1970-01-01", CLI_FLAGS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_form),   cmocka_unit_test(test_leap_day),
        cmocka_unit_test(test_no_such_date), cmocka_unit_test(test_leap_second),
        cmocka_unit_test(test_around_the_time), cmocka_unit_test(test_date_only),
        cmocka_unit_test(test_years),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
