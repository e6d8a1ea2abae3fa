/* test_oom_check - out of memory over whole checks of world domains through
 * the public asynchronous API (tests/unit/failmalloc.h)
 *
 * Runs inside the world's network namespace (CTest starts it through
 * `world exec`). One engine per lookup order (mxtls_config_set_lookup_order;
 * one validating resolver each, its cache warm after the first check) checks
 * each domain below once without failures (the
 * reference: every level's verdict, security, reason code, message and VIA,
 * and the auto level), then again with allocation N failing, for N over the
 * allocations such a check makes: our own code's (engine, probe, DNS and
 * HTTPS adapters, revocation, MTA-STS, core, reports); OpenSSL's, libevent's,
 * libunbound's and libcurl's own allocations are not failed. Each run must
 * end with the reference verdicts or with the callback's clean local
 * failure (NULL report, MXTLS_ERR_NOMEM); never a different verdict, a
 * crash, a hang (the check's deadline would change the verdicts) or a leak
 * (LeakSanitizer in the ASan build, scripts/test.sh --sanitize).
 *
 * Time bound: a check takes tens of milliseconds and makes a few thousand
 * allocations, so every one of the first FIRST_ALL allocations fails in
 * turn, then every STEP-th (each run shifts the start, so different sites
 * are hit), and the last one. MXTLS_OOM_STEP=1 in the environment fails
 * every allocation (minutes under ASan); MXTLS_OOM_FROM=N starts at
 * allocation N, MXTLS_OOM_DOMAIN=D checks only domain D (to reproduce one
 * failure). Without a world the program exits 77 (skipped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>

#include "mxtls.h"
#include "liveworld.h"
#include "../unit/failmalloc.h"

#define SKIP 77
#define FIRST_ALL 400 /* every one of the first allocations fails in turn */
#define STEP 7        /* then every STEP-th */
#define TOTAL_MS 30000

/* Domains that exercise every step of a check: MX, A/AAAA, PTR and forward
 * confirmation, TLSA (records at dane-ta.test, none at sts.test), the
 * probes (one per distinct ClientHello), MTA-STS (TXT, policy fetch over
 * HTTPS) and TLSRPT. Revocation is off: a fetch cut short by a failed
 * allocation leaves the world's `openssl ocsp` responder spinning on the
 * half-read request (it serves one connection at a time), which would stall
 * every later OCSP query of the run, this test's and the other tests'. */
/* sts.test again on an engine whose checks ask for the TXT records from the
 * MX answer's callback (MXTLS_LOOKUP_MX_FIRST, as `mxtls scan` does). */
typedef struct oom_case {
    const char *name, *domain;
    mxtls_lookup_order order;
} oom_case;
static const oom_case cases[] = {{"sts.test", "sts.test", MXTLS_LOOKUP_PARALLEL},
                                 {"dane-ta.test", "dane-ta.test", MXTLS_LOOKUP_PARALLEL},
                                 {"sts.test (mx-first)", "sts.test", MXTLS_LOOKUP_MX_FIRST}};

static struct event_base *base;
static mxtls_engine *engines[2]; /* by mxtls_lookup_order */
static mxtls_engine *eng;        /* the current case's */

/* The verdict set of one check: every level's verdict and the auto level. */
typedef struct verdicts {
    char text[8192];
} verdicts;

typedef struct run {
    int done;
    int nomem;        /* the callback got NULL with MXTLS_ERR_NOMEM */
    mxtls_error err;  /* the callback's error, when not NOMEM */
    verdicts got;
} run;

static void verdicts_of(const mxtls_report *rep, verdicts *out)
{
    size_t n = 0, off = 0;
    const mxtls_level *levels = mxtls_levels(&n);
    off += (size_t)snprintf(out->text + off, sizeof out->text - off, "auto %s\n",
                            mxtls_level_name(mxtls_report_auto_level(rep)));
    for (size_t i = 0; i < n && off < sizeof out->text; i++) {
        const mxtls_domain_verdict *v = mxtls_report_verdict(rep, levels[i]);
        if (!v)
            continue;
        off += (size_t)snprintf(out->text + off, sizeof out->text - off, "%s %d %d %s %s %s\n",
                                mxtls_level_name(v->level), (int)v->verdict, (int)v->security,
                                v->code ? v->code : "-", v->message ? v->message : "-",
                                v->via ? v->via : "-");
    }
}

static void check_done(void *arg, mxtls_report *rep, const mxtls_error *err)
{
    run *r = arg;
    r->done = 1;
    if (rep) {
        verdicts_of(rep, &r->got);
        mxtls_report_free(rep);
    } else if (err && err->code == MXTLS_ERR_NOMEM) {
        r->nomem = 1;
    } else if (err) {
        r->err = *err;
    }
    event_base_loopbreak(base);
}

/* check_once - one check of domain on the shared engine, allocation
 * `fail_at` failing (0: none) */
static void check_once(const char *domain, long fail_at, run *r)
{
    memset(r, 0, sizeof *r);
    mxtls_check_options o = {.domain = domain};
    mxtls_error err;
    fm_.fail_at = fail_at;
    fm_start();
    mxtls_check *c = mxtls_check_start(eng, &o, check_done, r, &err);
    if (!c) {
        fm_stop();
        r->done = 1;
        if (err.code == MXTLS_ERR_NOMEM)
            r->nomem = 1;
        else
            r->err = err;
        return;
    }
    while (!r->done)
        if (event_base_loop(base, EVLOOP_ONCE) != 0)
            break;
    fm_stop();
}

/* judge - the outcome of the run with allocation n failing */
static void judge(const char *domain, long n, long total, const run *r, const verdicts *want)
{
    if (!r->done)
        fail_msg("%s: allocation %ld of %ld failing: the check never finished", domain, n, total);
    if (r->nomem) {
        if (!fm_.failed)
            fail_msg("%s: allocation %ld of %ld failing: out of memory reported, but no "
                     "allocation failed", domain, n, total);
        return;
    }
    if (r->err.code)
        fail_msg("%s: allocation %ld of %ld failing: error %d (%s: %s), not out of memory",
                 domain, n, total, (int)r->err.code, r->err.where, r->err.message);
    if (strcmp(r->got.text, want->text) != 0) {
        fprintf(stderr, "want:\n%sgot:\n%s", want->text, r->got.text);
        fail_msg("%s: allocation %ld of %ld failing: different verdicts (above)", domain, n,
                 total);
    }
}

static void test_check_domain(void **state)
{
    const oom_case *tc = *state;
    const char *domain = tc->domain;
    const char *only = getenv("MXTLS_OOM_DOMAIN");
    if (only && strcmp(only, domain) != 0)
        skip();
    eng = engines[tc->order];
    const char *step_env = getenv("MXTLS_OOM_STEP");
    long step = step_env ? strtol(step_env, NULL, 10) : STEP;
    if (step < 1)
        step = 1;
    run r;
    verdicts want;
    /* The reference: the second run without failures (the first warms the
     * resolver's cache and the libraries' one-time initialisation). */
    check_once(domain, 0, &r);
    check_once(domain, 0, &r);
    if (!r.done || r.nomem || r.err.code)
        fail_msg("%s: the check without failures did not give a report (%s)", domain,
                 r.err.message);
    want = r.got;
    long total = fm_.count;
    assert_true(total > 0);
    /* The verdicts of the world (cases.tsv): sanity that the reference is
     * a real check, not a failed one. */
    assert_non_null(strstr(want.text, "verify 0 "));
    long runs = 0, nomem = 0;
    const char *from_env = getenv("MXTLS_OOM_FROM");
    long n = from_env ? strtol(from_env, NULL, 10) : 1;
    if (n < 1)
        n = 1;
    while (n <= total) {
        check_once(domain, n, &r);
        judge(domain, n, total, &r, &want);
        runs++;
        nomem += r.nomem;
        if (n < FIRST_ALL || step == 1)
            n++;
        else if (n + step > total && n < total)
            n = total; /* the last one too */
        else
            n += step;
    }
    /* A wrap that never took effect would pass vacuously. */
    if (nomem == 0)
        fail_msg("%s: %ld runs with an allocation failing, never out of memory", domain, runs);
    print_message("%s: %ld allocations per check; %ld runs with one failing (%ld ended out "
                  "of memory, the rest with the reference verdicts)\n",
                  tc->name, total, runs, nomem);
}

int main(void)
{
    fm_init();
    if (world_load_env("test_oom_check") != 0)
        return SKIP;
    const char *hints = getenv("MXTLS_WORLD_ROOT_HINTS");
    const char *anchor = getenv("MXTLS_WORLD_TRUST_ANCHOR");
    const char *ca = getenv("MXTLS_WORLD_CA");
    if (!hints || !anchor || !ca) {
        fprintf(stderr, "test_oom_check: the world gave no root hints, trust anchor or CA\n");
        return SKIP;
    }
    mxtls_error err;
    base = event_base_new();
    for (int order = 0; order < 2; order++) {
        mxtls_config *cfg = mxtls_config_new();
        if (!cfg || mxtls_config_set_ca_file(cfg, ca, &err) != MXTLS_OK ||
            mxtls_config_set_dns(cfg, NULL, anchor, hints, &err) != MXTLS_OK ||
            mxtls_config_set_ehlo_name(cfg, "client.mxtls.test", &err) != MXTLS_OK ||
            mxtls_config_set_timeouts(cfg, 0, 0, TOTAL_MS, &err) != MXTLS_OK ||
            mxtls_config_set_revocation(cfg, MXTLS_REVOCATION_OFF, &err) != MXTLS_OK ||
            mxtls_config_set_lookup_order(cfg, (mxtls_lookup_order)order, &err) != MXTLS_OK) {
            fprintf(stderr, "test_oom_check: configuration: %s\n", err.message);
            return 1;
        }
        engines[order] = base ? mxtls_engine_new(base, cfg, &err) : NULL;
        mxtls_config_unref(cfg);
        if (!engines[order]) {
            fprintf(stderr, "test_oom_check: engine: %s\n", base ? err.message : "no event base");
            return 1;
        }
    }
    struct CMUnitTest tests[sizeof cases / sizeof cases[0]];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tests[i] = (struct CMUnitTest){cases[i].name, test_check_domain, NULL, NULL,
                                       (void *)&cases[i]};
    int rc = _cmocka_run_group_tests("oom_check", tests, sizeof tests / sizeof tests[0], NULL,
                                     NULL);
    for (int order = 0; order < 2; order++)
        mxtls_engine_free(engines[order]);
    event_base_free(base);
    return rc;
}
