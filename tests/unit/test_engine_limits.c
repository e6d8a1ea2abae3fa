/* test_engine_limits - mxtls_engine_set_limits and mxtls_engine_get_stats
 * through the public API: values out of range, set once and only before the
 * first check, counters at zero. The resolver's root hints point at
 * 127.0.0.1 (nothing answers there): no network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "mxtls.h"

static char hints[64];

static mxtls_engine *engine(struct event_base *base)
{
    mxtls_error err;
    mxtls_config *cfg = mxtls_config_new();
    assert_non_null(cfg);
    assert_int_equal(mxtls_config_set_dns(cfg, NULL, NULL, hints, &err), MXTLS_OK);
    mxtls_engine *eng = mxtls_engine_new(base, cfg, &err);
    mxtls_config_unref(cfg);
    assert_non_null(eng);
    return eng;
}

static void never(void *arg, mxtls_report *rep, const mxtls_error *err)
{
    (void)arg;
    (void)err;
    mxtls_report_free(rep);
}

static void test_limits(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    mxtls_engine *eng = engine(base);
    mxtls_error err;
    mxtls_engine_limits bad = {.retries = 6};
    assert_int_equal(mxtls_engine_set_limits(eng, &bad, &err), MXTLS_ERR_INVALID);
    assert_string_equal(err.where, "engine");
    bad = (mxtls_engine_limits){.ip_rate = -1};
    assert_int_equal(mxtls_engine_set_limits(eng, &bad, &err), MXTLS_ERR_INVALID);
    bad = (mxtls_engine_limits){.retry_delay_ms = 60001};
    assert_int_equal(mxtls_engine_set_limits(eng, &bad, &err), MXTLS_ERR_INVALID);
    mxtls_engine_limits lim = {.share_probes = 1, .per_ip = 2, .ip_rate = 10, .retries = 5,
                               .retry_delay_ms = 60000, .max_dns = 4};
    assert_int_equal(mxtls_engine_set_limits(eng, &lim, &err), MXTLS_OK);
    /* once */
    assert_int_equal(mxtls_engine_set_limits(eng, &lim, &err), MXTLS_ERR_STATE);
    assert_string_equal(err.message, "limits are set once, before the first check");
    mxtls_engine_stats st;
    memset(&st, 0xff, sizeof st);
    mxtls_engine_get_stats(eng, &st);
    assert_int_equal(st.probes, 0);
    assert_int_equal(st.probes_reused, 0);
    assert_int_equal(st.revocation_checks, 0);
    assert_true(st.dns_queries <= 1); /* at most the resolver's own start-up query */
    mxtls_engine_free(eng);

    /* not after a check has started */
    eng = engine(base);
    mxtls_check_options o = {.domain = "example.test", .routes = {"127.0.0.1"}, .nroutes = 1,
                             .port = 9};
    mxtls_check *c = mxtls_check_start(eng, &o, never, NULL, &err);
    assert_non_null(c);
    assert_int_equal(mxtls_engine_set_limits(eng, &lim, &err), MXTLS_ERR_STATE);
    mxtls_check_cancel(c);
    mxtls_engine_free(eng);
    event_base_free(base);
}

static int setup(void **state)
{
    (void)state;
    snprintf(hints, sizeof hints, "/tmp/mxtls-test-hints.%ld", (long)getpid());
    FILE *f = fopen(hints, "w");
    if (!f)
        return 1;
    fputs(". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.1\n", f);
    return fclose(f) != 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(hints);
    return 0;
}

/* The resolver's room for upstream queries: bounds, and set before the
 * configuration is frozen only; an engine starts with it. */
static void test_dns_inflight(void **state)
{
    (void)state;
    mxtls_error err;
    mxtls_config *cfg = mxtls_config_new();
    assert_non_null(cfg);
    assert_int_equal(mxtls_config_set_dns_inflight(cfg, 15, &err), MXTLS_ERR_INVALID);
    assert_string_equal(err.where, "dns");
    assert_string_equal(err.message,
                        "DNS queries in flight must be 0 (the default) or 16 to 65536");
    assert_int_equal(mxtls_config_set_dns_inflight(cfg, 65537, &err), MXTLS_ERR_INVALID);
    assert_int_equal(mxtls_config_set_dns_inflight(cfg, 0, &err), MXTLS_OK);
    assert_int_equal(mxtls_config_set_dns_inflight(cfg, 4096, &err), MXTLS_OK);
    assert_int_equal(mxtls_config_set_dns(cfg, NULL, NULL, hints, &err), MXTLS_OK);
    struct event_base *base = event_base_new();
    mxtls_engine *eng = mxtls_engine_new(base, cfg, &err);
    assert_non_null(eng);
    /* frozen by the engine: no change any more */
    assert_int_not_equal(mxtls_config_set_dns_inflight(cfg, 64, &err), MXTLS_OK);
    mxtls_engine_free(eng);
    event_base_free(base);
    mxtls_config_unref(cfg);
}

/* The order of a check's lookups: the two values only, before the freeze. */
static void test_lookup_order(void **state)
{
    (void)state;
    mxtls_error err;
    mxtls_config *cfg = mxtls_config_new();
    assert_non_null(cfg);
    assert_int_equal(mxtls_config_set_lookup_order(cfg, (mxtls_lookup_order)2, &err),
                     MXTLS_ERR_INVALID);
    assert_string_equal(err.where, "lookup order");
    assert_string_equal(err.message, "the lookup order must be MXTLS_LOOKUP_PARALLEL or "
                                     "MXTLS_LOOKUP_MX_FIRST");
    assert_int_equal(mxtls_config_set_lookup_order(cfg, MXTLS_LOOKUP_MX_FIRST, &err), MXTLS_OK);
    assert_int_equal(mxtls_config_set_lookup_order(cfg, MXTLS_LOOKUP_PARALLEL, &err), MXTLS_OK);
    assert_int_equal(mxtls_config_freeze(cfg, &err), MXTLS_OK);
    assert_int_equal(mxtls_config_set_lookup_order(cfg, MXTLS_LOOKUP_MX_FIRST, &err),
                     MXTLS_ERR_STATE);
    mxtls_config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_limits),
                                       cmocka_unit_test(test_dns_inflight),
                                       cmocka_unit_test(test_lookup_order)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
