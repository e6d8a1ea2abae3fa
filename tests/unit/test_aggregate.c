/* test_aggregate.c - the domain verdict from its MX hosts (engine/aggregate)
 *
 * Check reports are built by hand: hosts in MX preference order, addresses,
 * and per-level results that the real core produced from real evidence
 * (mxtls_evaluate on test certificates from tests/pki/gen-unit-certs.sh, and
 * policy_unreachable for an address that gave no TLS decision). Each test
 * asserts the exact domain verdict, security, reason code, message and VIA
 * for every level of the report. Validation time: 2026-06-01T00:00:00Z. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/result.h"
#include "engine/aggregate.h"
#include "engine/check.h"
#include "engine/sts.h"
#include "mxtls.h"
#include "report/check_report.h"
#include "testutil.h"

/* Two levels per report: at may any certificate passes, at verify the name
 * must match, so one address can pass at one and fail at the other. */
#define LI_MAY 0
#define LI_VERIFY 1

/* How an address answered. */
typedef enum addr_kind {
    A_GOOD,    /* a chain naming the host: pass at may and verify */
    A_NAME,    /* foo.example.com's chain: pass at may, name-mismatch at verify */
    A_EXPIRED, /* mx1's expired chain: pass at may, expired at verify */
    A_CONNECT, /* no connection: tempfail connect-failed at every level */
    A_NOEVAL   /* the evidence could not be evaluated: no results */
} addr_kind;

static time_t at_default(void)
{
    struct tm tm = {0};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 5;
    tm.tm_mday = 1;
    return timegm(&tm);
}

/* report_new - an empty report for example.com with the levels may, verify */
static check_report *report_new(void)
{
    check_report *rep = calloc(1, sizeof *rep);
    assert_non_null(rep);
    rep->domain = strdup("example.com");
    rep->port = 25;
    rep->mx_outcome = DNS_DATA;
    rep->mx_security = DNS_SEC_INSECURE;
    rep->levels[LI_MAY] = MXTLS_LEVEL_MAY;
    rep->levels[LI_VERIFY] = MXTLS_LEVEL_VERIFY;
    rep->nlevels = 2;
    return rep;
}

/* add_host - an MX host (hosts are added in preference order) whose A lookup
 * gave `a` and AAAA lookup gave `aaaa` */
static check_host *add_host(check_report *rep, const char *name, int pref, dns_outcome a,
                            dns_outcome aaaa)
{
    assert_true(rep->nhosts < CHECK_MAX_HOSTS);
    check_host *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->name = strdup(name);
    h->pref = pref;
    h->a_queried = h->aaaa_queried = 1;
    h->a_outcome = a;
    h->aaaa_outcome = aaaa;
    h->a_security = h->aaaa_security = DNS_SEC_INSECURE;
    h->tlsa_ttl = -1;
    rep->hosts[rep->nhosts++] = h;
    return h;
}

/* chain_for - the chain a well-configured host presents */
static const char *chain_for(const char *host)
{
    if (strcmp(host, "mx1.example.com") == 0)
        return "mx1-chain.pem";
    return "wild-chain.pem"; /* *.example.com */
}

/* add_addr - an address of h and the results of every level of the report,
 * evaluated by the core from the evidence `kind` describes */
static check_address *add_addr(check_report *rep, check_host *h, const char *ip, addr_kind kind)
{
    assert_true(h->naddrs < 2 * CHECK_MAX_ADDRS);
    check_address *a = calloc(1, sizeof *a);
    assert_non_null(a);
    a->ip = strdup(ip);
    a->family = strchr(ip, ':') ? 6 : 4;
    a->security = DNS_SEC_INSECURE;
    h->addrs[h->naddrs++] = a;
    if (kind == A_NOEVAL)
        return a;

    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    assert_non_null(ctx);
    assert_non_null(ev);
    assert_int_equal(mxtls_ctx_set_ca_file(ctx, tu_certs_path("ca.pem")), MXTLS_OK);
    mxtls_ctx_set_time(ctx, at_default());
    assert_int_equal(mxtls_evidence_set_domain(ctx, ev, rep->domain), MXTLS_OK);
    assert_int_equal(mxtls_evidence_add_mx(ctx, ev, h->name), MXTLS_OK);
    for (size_t i = 0; i < rep->nhosts; i++)
        assert_int_equal(mxtls_evidence_add_mx(ctx, ev, rep->hosts[i]->name), MXTLS_OK);
    assert_int_equal(mxtls_evidence_set_ip(ctx, ev, ip), MXTLS_OK);
    const char *chain = kind == A_GOOD      ? chain_for(h->name)
                        : kind == A_NAME    ? "helo-chain.pem"
                        : kind == A_EXPIRED ? "expired-chain.pem"
                                            : NULL;
    if (chain) {
        size_t len;
        char *pem = tu_read_cert(chain, &len);
        assert_int_equal(mxtls_evidence_set_chain_pem(ctx, ev, pem, len, chain), MXTLS_OK);
        free(pem);
    } else {
        mxtls_evidence_set_no_tls(ev, 1);
    }
    for (size_t li = 0; li < rep->nlevels; li++) {
        char msg[128];
        snprintf(msg, sizeof msg, "cannot connect to %s port 25: Connection refused", ip);
        a->results[li] = kind == A_CONNECT
                             ? policy_unreachable(ctx, ev, rep->levels[li], "connect-failed", msg)
                             : mxtls_evaluate(ctx, ev, rep->levels[li]);
        if (!a->results[li])
            fail_msg("evaluate: %s: %s", mxtls_ctx_error_where(ctx), mxtls_ctx_error(ctx));
    }
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    return a;
}

/* aggregate - every level's domain verdict */
static void aggregate(check_report *rep)
{
    for (size_t li = 0; li < rep->nlevels; li++)
        check_aggregate(rep, li);
}

/* expect - the domain verdict at level index li */
static void expect(const check_report *rep, size_t li, mxtls_verdict verdict, mxtls_security sec,
                   const char *code, const char *via)
{
    const check_domain_verdict *v = &rep->verdicts[li];
    assert_int_equal(v->level, rep->levels[li]);
    if (v->verdict != verdict || v->security != sec || !v->code || strcmp(v->code, code) != 0)
        fail_msg("%s: expected %s/%s %s, got %s/%s %s (%s) via %s",
                 mxtls_level_name(rep->levels[li]), mxtls_verdict_name(verdict),
                 mxtls_security_name(sec), code, mxtls_verdict_name(v->verdict),
                 mxtls_security_name(v->security), v->code ? v->code : "(null)",
                 v->message ? v->message : "(null)", v->via ? v->via : "(null)");
    assert_non_null(v->message);
    if (via) {
        assert_non_null(v->via);
        assert_string_equal(v->via, via);
    } else if (v->via) {
        fail_msg("expected no VIA, got %s", v->via);
    }
}

/* expect_from - the verdict's code and message are the decisive reason of
 * this address's result at that level */
static void expect_from(const check_report *rep, size_t li, const check_address *a)
{
    const mxtls_result *r = a->results[li];
    assert_non_null(r);
    assert_string_equal(rep->verdicts[li].code, r->reasons[0].code);
    assert_string_equal(rep->verdicts[li].message, r->reasons[0].message);
}

/* ---- a usable host ------------------------------------------------------ */

/* All three hosts would pass: the most preferred one decides. */
static void test_pass_on_preferred_host(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_host *h1 = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
    check_address *a1 = add_addr(rep, h1, "192.0.2.1", A_GOOD);
    check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    add_addr(rep, h2, "192.0.2.2", A_GOOD);
    check_host *h3 = add_host(rep, "mx3.example.com", 30, DNS_DATA, DNS_NODATA);
    add_addr(rep, h3, "192.0.2.3", A_GOOD);
    aggregate(rep);
    expect(rep, LI_MAY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted",
           "mx1.example.com [192.0.2.1]");
    expect_from(rep, LI_MAY, a1);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified",
           "mx1.example.com [192.0.2.1]");
    expect_from(rep, LI_VERIFY, a1);
    check_report_free(rep);
}

/* Three hosts, each different at verify: the first usable one in preference
 * order decides, so the order of the hosts shows in verdict and VIA. */
static void test_preference_order(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_host *h1 = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
    check_address *a1 = add_addr(rep, h1, "192.0.2.1", A_NAME);
    check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    check_address *a2 = add_addr(rep, h2, "192.0.2.2", A_GOOD);
    check_host *h3 = add_host(rep, "mx3.example.com", 30, DNS_DATA, DNS_NODATA);
    add_addr(rep, h3, "192.0.2.3", A_GOOD);
    aggregate(rep);
    /* may: mx1 passes (any certificate) */
    expect(rep, LI_MAY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted",
           "mx1.example.com [192.0.2.1]");
    expect_from(rep, LI_MAY, a1);
    /* verify: mx1 names foo.example.com, the backup mx2 passes */
    assert_int_equal(a1->results[LI_VERIFY]->verdict, MXTLS_VERDICT_FAIL);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified",
           "mx2.example.com [192.0.2.2]");
    expect_from(rep, LI_VERIFY, a2);
    check_report_free(rep);
}

/* The same hosts in the opposite preference order give other verdicts. */
static void test_preference_order_reversed(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_host *h3 = add_host(rep, "mx3.example.com", 10, DNS_DATA, DNS_NODATA);
    check_address *a3 = add_addr(rep, h3, "192.0.2.3", A_EXPIRED);
    check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    check_address *a2 = add_addr(rep, h2, "192.0.2.2", A_GOOD);
    check_host *h1 = add_host(rep, "mx1.example.com", 30, DNS_DATA, DNS_NODATA);
    add_addr(rep, h1, "192.0.2.1", A_GOOD);
    aggregate(rep);
    expect(rep, LI_MAY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted",
           "mx3.example.com [192.0.2.3]");
    expect_from(rep, LI_MAY, a3);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified",
           "mx2.example.com [192.0.2.2]");
    expect_from(rep, LI_VERIFY, a2);
    check_report_free(rep);
}

/* Within a host, addresses are tried in order too; a host without addresses
 * (its names do not resolve) is skipped without a verdict of its own. */
static void test_addresses_in_order(void **state)
{
    (void)state;
    check_report *rep = report_new();
    add_host(rep, "mx0.example.com", 5, DNS_NXDOMAIN, DNS_NXDOMAIN);
    check_host *h1 = add_host(rep, "mx2.example.com", 10, DNS_DATA, DNS_DATA);
    check_address *first = add_addr(rep, h1, "192.0.2.20", A_NAME);
    check_address *second = add_addr(rep, h1, "2001:db8::20", A_GOOD);
    add_addr(rep, h1, "192.0.2.21", A_GOOD);
    aggregate(rep);
    expect(rep, LI_MAY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted",
           "mx2.example.com [192.0.2.20]");
    expect_from(rep, LI_MAY, first);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified",
           "mx2.example.com [2001:db8::20]");
    expect_from(rep, LI_VERIFY, second);
    check_report_free(rep);
}

/* ---- no usable host ----------------------------------------------------- */

/* One host fails permanently, the other temporarily: a sender defers and
 * retries, so the domain's verdict is the temporary failure, whatever the
 * order of the two. */
static void test_perm_and_temp_is_tempfail(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        check_report *rep = report_new();
        check_host *hf = NULL, *ht = NULL;
        check_address *at = NULL;
        if (order == 0) {
            hf = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
            add_addr(rep, hf, "192.0.2.1", A_NAME);
            ht = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
            at = add_addr(rep, ht, "192.0.2.2", A_CONNECT);
        } else {
            ht = add_host(rep, "mx2.example.com", 10, DNS_DATA, DNS_NODATA);
            at = add_addr(rep, ht, "192.0.2.2", A_CONNECT);
            hf = add_host(rep, "mx1.example.com", 20, DNS_DATA, DNS_NODATA);
            add_addr(rep, hf, "192.0.2.1", A_NAME);
        }
        aggregate(rep);
        /* at may the certificate of mx1 is fine */
        expect(rep, LI_MAY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted",
               "mx1.example.com [192.0.2.1]");
        expect(rep, LI_VERIFY, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "connect-failed",
               "mx2.example.com [192.0.2.2]");
        expect_from(rep, LI_VERIFY, at);
        assert_string_equal(rep->verdicts[LI_VERIFY].message,
                            "cannot connect to 192.0.2.2 port 25: Connection refused");
        check_report_free(rep);
    }
}

/* Several temporary failures: the first in preference order is shown. */
static void test_first_tempfail_in_order(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_host *h1 = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
    add_addr(rep, h1, "192.0.2.1", A_CONNECT);
    check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    add_addr(rep, h2, "192.0.2.2", A_CONNECT);
    aggregate(rep);
    for (size_t li = 0; li < 2; li++)
        expect(rep, li, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "connect-failed",
               "mx1.example.com [192.0.2.1]");
    check_report_free(rep);
}

/* Every address fails permanently: the first failure in preference order
 * decides (mx1's name mismatch, not mx2's expired certificate). */
static void test_all_fail_first_in_order(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_host *h1 = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
    check_address *a1 = add_addr(rep, h1, "192.0.2.1", A_NAME);
    check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    check_address *a2 = add_addr(rep, h2, "192.0.2.2", A_EXPIRED);
    aggregate(rep);
    assert_string_equal(a2->results[LI_VERIFY]->reasons[0].code, "expired");
    expect(rep, LI_VERIFY, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch",
           "mx1.example.com [192.0.2.1]");
    expect_from(rep, LI_VERIFY, a1);
    check_report_free(rep);

    /* the other way round */
    rep = report_new();
    h2 = add_host(rep, "mx2.example.com", 10, DNS_DATA, DNS_NODATA);
    a2 = add_addr(rep, h2, "192.0.2.2", A_EXPIRED);
    h1 = add_host(rep, "mx1.example.com", 20, DNS_DATA, DNS_NODATA);
    add_addr(rep, h1, "192.0.2.1", A_NAME);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "expired",
           "mx2.example.com [192.0.2.2]");
    expect_from(rep, LI_VERIFY, a2);
    check_report_free(rep);
}

/* ---- DNS ---------------------------------------------------------------- */

/* A host whose address lookup failed temporarily is one a sender retries: it
 * outranks a policy failure elsewhere, and VIA names the host (no address). */
static void test_dns_tempfail_outranks_fail(void **state)
{
    (void)state;
    static const struct {
        dns_outcome a, aaaa;
        const char *code, *msg;
    } cases[] = {
        {DNS_SERVFAIL, DNS_NODATA, "dns-error",
         "the address lookup of mx1.example.com failed (SERVFAIL or bogus)"},
        {DNS_NODATA, DNS_ERROR, "dns-error",
         "the address lookup of mx1.example.com failed (SERVFAIL or bogus)"},
        {DNS_TIMEOUT, DNS_NODATA, "timeout",
         "the address lookup of mx1.example.com did not finish in time"},
        {DNS_NXDOMAIN, DNS_TIMEOUT, "timeout",
         "the address lookup of mx1.example.com did not finish in time"},
        {DNS_SERVFAIL, DNS_TIMEOUT, "timeout",
         "the address lookup of mx1.example.com did not finish in time"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_report *rep = report_new();
        add_host(rep, "mx1.example.com", 10, cases[i].a, cases[i].aaaa);
        check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
        add_addr(rep, h2, "192.0.2.2", A_EXPIRED);
        aggregate(rep);
        expect(rep, LI_MAY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted",
               "mx2.example.com [192.0.2.2]");
        expect(rep, LI_VERIFY, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, cases[i].code,
               "mx1.example.com");
        assert_string_equal(rep->verdicts[LI_VERIFY].message, cases[i].msg);
        check_report_free(rep);
    }
}

/* The DNS temporary failure is about the host's own lookups: an address
 * family that was not asked for, a host that has addresses anyway, and an
 * invalid MX target (never probed) do not count. A temporary failure of a
 * probed address still comes first. */
static void test_dns_tempfail_scope(void **state)
{
    (void)state;
    /* AAAA not queried (-4): its outcome does not matter */
    check_report *rep = report_new();
    check_host *h = add_host(rep, "mx1.example.com", 10, DNS_NXDOMAIN, DNS_SERVFAIL);
    h->aaaa_queried = 0;
    check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    check_address *a2 = add_addr(rep, h2, "192.0.2.2", A_NAME);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch",
           "mx2.example.com [192.0.2.2]");
    expect_from(rep, LI_VERIFY, a2);
    check_report_free(rep);

    /* A not queried (-6) */
    rep = report_new();
    h = add_host(rep, "mx1.example.com", 10, DNS_SERVFAIL, DNS_NODATA);
    h->a_queried = 0;
    h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    add_addr(rep, h2, "192.0.2.2", A_NAME);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch",
           "mx2.example.com [192.0.2.2]");
    check_report_free(rep);

    /* the IPv6 lookup timed out, but the host has an IPv4 address */
    rep = report_new();
    h = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_TIMEOUT);
    check_address *a1 = add_addr(rep, h, "192.0.2.1", A_NAME);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch",
           "mx1.example.com [192.0.2.1]");
    expect_from(rep, LI_VERIFY, a1);
    check_report_free(rep);

    /* an invalid MX target */
    rep = report_new();
    h = add_host(rep, "bad_name.example.com", 10, DNS_SERVFAIL, DNS_SERVFAIL);
    h->invalid = 1;
    h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    add_addr(rep, h2, "192.0.2.2", A_NAME);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "name-mismatch",
           "mx2.example.com [192.0.2.2]");
    check_report_free(rep);

    /* a probed address's temporary failure before the DNS one, in any order */
    rep = report_new();
    add_host(rep, "mx1.example.com", 10, DNS_SERVFAIL, DNS_SERVFAIL);
    h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    add_addr(rep, h2, "192.0.2.2", A_CONNECT);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "connect-failed",
           "mx2.example.com [192.0.2.2]");
    check_report_free(rep);

    /* the first host with a failed lookup is named */
    rep = report_new();
    add_host(rep, "mx1.example.com", 10, DNS_SERVFAIL, DNS_NODATA);
    add_host(rep, "mx2.example.com", 20, DNS_TIMEOUT, DNS_NODATA);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "dns-error",
           "mx1.example.com");
    check_report_free(rep);

    /* a pass elsewhere wins over a failed lookup */
    rep = report_new();
    add_host(rep, "mx1.example.com", 10, DNS_SERVFAIL, DNS_SERVFAIL);
    h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    add_addr(rep, h2, "192.0.2.2", A_GOOD);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_VERIFIED, "verified",
           "mx2.example.com [192.0.2.2]");
    check_report_free(rep);
}

/* No host has an address, and no lookup failed temporarily. */
static void test_no_address(void **state)
{
    (void)state;
    check_report *rep = report_new();
    add_host(rep, "mx1.example.com", 10, DNS_NXDOMAIN, DNS_NXDOMAIN);
    add_host(rep, "mx2.example.com", 20, DNS_NODATA, DNS_NODATA);
    aggregate(rep);
    for (size_t li = 0; li < 2; li++) {
        expect(rep, li, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "no-address", NULL);
        assert_string_equal(rep->verdicts[li].message, "no MX host has a usable address");
    }
    check_report_free(rep);
}

/* An address whose evidence could not be evaluated: never a pass, and a
 * temporary failure ahead of the policy failures of other addresses. */
static void test_evaluation_failed(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_host *h1 = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
    add_addr(rep, h1, "192.0.2.1", A_NOEVAL);
    check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    add_addr(rep, h2, "192.0.2.2", A_EXPIRED);
    aggregate(rep);
    expect(rep, LI_MAY, MXTLS_VERDICT_PASS, MXTLS_SECURITY_ENCRYPTED, "encrypted",
           "mx2.example.com [192.0.2.2]");
    expect(rep, LI_VERIFY, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "internal-error", NULL);
    check_report_free(rep);

    /* ... but after a DNS temporary failure */
    rep = report_new();
    add_host(rep, "mx0.example.com", 5, DNS_SERVFAIL, DNS_NODATA);
    h1 = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
    add_addr(rep, h1, "192.0.2.1", A_NOEVAL);
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "dns-error",
           "mx0.example.com");
    check_report_free(rep);
}

/* ---- the MX lookup ------------------------------------------------------ */

static void test_null_mx(void **state)
{
    (void)state;
    check_report *rep = report_new();
    rep->null_mx = 1;
    aggregate(rep);
    for (size_t li = 0; li < 2; li++) {
        expect(rep, li, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "null-mx", NULL);
        assert_string_equal(rep->verdicts[li].message,
                            "the domain publishes a null MX (RFC 7505): it accepts no mail");
    }
    check_report_free(rep);
}

static void test_nxdomain(void **state)
{
    (void)state;
    check_report *rep = report_new();
    rep->mx_outcome = DNS_NXDOMAIN;
    rep->mx_security = DNS_SEC_SECURE;
    aggregate(rep);
    for (size_t li = 0; li < 2; li++) {
        expect(rep, li, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "nxdomain", NULL);
        assert_string_equal(rep->verdicts[li].message, "the domain does not exist (NXDOMAIN)");
    }
    check_report_free(rep);
}

static void test_bogus_mx(void **state)
{
    (void)state;
    check_report *rep = report_new();
    rep->mx_outcome = DNS_SERVFAIL;
    rep->mx_security = DNS_SEC_BOGUS;
    rep->mx_why = strdup("validation failure <example.com. MX IN>: signature expired");
    aggregate(rep);
    for (size_t li = 0; li < 2; li++) {
        expect(rep, li, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "dns-bogus", NULL);
        assert_string_equal(rep->verdicts[li].message,
                            "validation failure <example.com. MX IN>: signature expired");
    }
    check_report_free(rep);

    rep = report_new();
    rep->mx_outcome = DNS_SERVFAIL;
    rep->mx_security = DNS_SEC_BOGUS;
    aggregate(rep);
    expect(rep, LI_VERIFY, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "dns-bogus", NULL);
    assert_string_equal(rep->verdicts[LI_VERIFY].message,
                        "the MX answer failed DNSSEC validation");
    check_report_free(rep);
}

static void test_mx_lookup_failed(void **state)
{
    (void)state;
    static const dns_outcome outcomes[] = {DNS_SERVFAIL, DNS_TIMEOUT, DNS_ERROR};
    for (size_t i = 0; i < 3; i++) {
        check_report *rep = report_new();
        rep->mx_outcome = outcomes[i];
        rep->mx_security = DNS_SEC_INDETERMINATE;
        aggregate(rep);
        expect(rep, LI_VERIFY, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "dns-error", NULL);
        assert_string_equal(rep->verdicts[LI_VERIFY].message, "the MX lookup failed");
        check_report_free(rep);
    }
}

/* The deadline passed before any host was known: a temporary failure, even
 * when an earlier answer said NXDOMAIN or bogus. */
static void test_timeout_no_hosts(void **state)
{
    (void)state;
    static const dns_outcome outcomes[] = {DNS_TIMEOUT, DNS_NXDOMAIN, DNS_SERVFAIL};
    for (size_t i = 0; i < 3; i++) {
        check_report *rep = report_new();
        rep->timed_out = 1;
        rep->mx_outcome = outcomes[i];
        rep->mx_security = i == 2 ? DNS_SEC_BOGUS : DNS_SEC_INDETERMINATE;
        aggregate(rep);
        for (size_t li = 0; li < 2; li++) {
            expect(rep, li, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "timeout", NULL);
            assert_string_equal(rep->verdicts[li].message,
                                "the MX lookup did not finish before the deadline");
        }
        check_report_free(rep);
    }
}


/* ---- the auto level --------------------------------------------------- */

static check_report *auto_report(dns_security mx_sec, mxtls_tlsa_state st, size_t ntlsa)
{
    check_report *rep = report_new();
    rep->mx_security = mx_sec;
    rep->auto_level = MXTLS_LEVEL_MAY;
    rep->auto_reason = strdup("no policy map entry: opportunistic TLS (may)");
    check_host *h = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
    h->tlsa_started = 1;
    h->tlsa_state = st;
    h->ntlsa = ntlsa;
    return rep;
}

static void test_auto_dane(void **state)
{
    (void)state;
    /* secure TLSA through a secure MX RRset: dane */
    check_report *rep = auto_report(DNS_SEC_SECURE, MXTLS_TLSA_SECURE, 1);
    check_auto_dane(rep);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_DANE);
    assert_string_equal(rep->auto_reason, "DNSSEC-secure TLSA records at mx1.example.com: dane");
    check_report_free(rep);
    /* a failed TLSA lookup: dane too (the sender defers) */
    rep = auto_report(DNS_SEC_SECURE, MXTLS_TLSA_BOGUS, 0);
    check_auto_dane(rep);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_DANE);
    assert_string_equal(rep->auto_reason,
                        "a failed TLSA lookup (a DANE sender defers) at mx1.example.com: dane");
    check_report_free(rep);
    /* an insecure MX RRset: DANE does not apply, may stays */
    rep = auto_report(DNS_SEC_INSECURE, MXTLS_TLSA_SECURE, 1);
    check_auto_dane(rep);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_MAY);
    check_report_free(rep);
    /* no TLSA records (secure denial): may */
    rep = auto_report(DNS_SEC_SECURE, MXTLS_TLSA_NONE, 0);
    check_auto_dane(rep);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_MAY);
    assert_string_equal(rep->auto_reason, "no policy map entry: opportunistic TLS (may)");
    check_report_free(rep);
    /* an implicit MX (no MX RRset to be secure) counts as reached securely */
    rep = auto_report(DNS_SEC_INSECURE, MXTLS_TLSA_SECURE, 1);
    rep->implicit_mx = 1;
    check_auto_dane(rep);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_DANE);
    check_report_free(rep);
}

static void test_auto_policy_entry_wins(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = mxtls_policymap_parse(ctx, "example.com verify\n", 19, "m");
    assert_non_null(map);
    check_report *rep = auto_report(DNS_SEC_SECURE, MXTLS_TLSA_SECURE, 1);
    rep->policy_entry = mxtls_policymap_lookup(map, "example.com");
    rep->auto_level = MXTLS_LEVEL_VERIFY;
    check_auto_dane(rep);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_VERIFY);
    check_report_free(rep);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

/* with_sts - rep gets an MTA-STS outcome: a policy in `mode` in force
 * (apply STS_APPLY_FETCHED), or none (STS_APPLY_NONE) */
static void with_sts(check_report *rep, sts_apply apply, mtasts_mode mode)
{
    rep->sts = calloc(1, sizeof *rep->sts);
    assert_non_null(rep->sts);
    rep->sts->looked_up = 1;
    rep->sts->concluded = 1;
    rep->sts->apply = apply;
    rep->sts->mode = mode;
}

/* The auto level's precedence: a policy-map entry, then DANE, then an
 * MTA-STS policy in mode enforce, else may (the order check_finish runs
 * check_auto_dane and check_auto_sts in). */
static void test_auto_sts(void **state)
{
    (void)state;
    /* enforce in force, no DANE: mta-sts */
    check_report *rep = auto_report(DNS_SEC_SECURE, MXTLS_TLSA_NONE, 0);
    with_sts(rep, STS_APPLY_FETCHED, MTASTS_MODE_ENFORCE);
    assert_int_equal(check_auto_dane(rep), MXTLS_OK);
    assert_int_equal(check_auto_sts(rep), MXTLS_OK);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_MTA_STS);
    assert_string_equal(rep->auto_reason, "an MTA-STS policy in mode enforce: mta-sts");
    check_report_free(rep);
    /* testing mode, or no policy in force: may */
    static const struct {
        sts_apply apply;
        mtasts_mode mode;
    } may[] = {{STS_APPLY_FETCHED, MTASTS_MODE_TESTING},
               {STS_APPLY_FETCHED, MTASTS_MODE_NONE},
               {STS_APPLY_NONE, MTASTS_MODE_ENFORCE}};
    for (size_t i = 0; i < sizeof may / sizeof may[0]; i++) {
        rep = auto_report(DNS_SEC_SECURE, MXTLS_TLSA_NONE, 0);
        with_sts(rep, may[i].apply, may[i].mode);
        assert_int_equal(check_auto_dane(rep), MXTLS_OK);
        assert_int_equal(check_auto_sts(rep), MXTLS_OK);
        assert_int_equal(rep->auto_level, MXTLS_LEVEL_MAY);
        assert_string_equal(rep->auto_reason, "no policy map entry: opportunistic TLS (may)");
        check_report_free(rep);
    }
    /* DANE first (RFC 8461 §2: a sender that does both uses DANE) */
    rep = auto_report(DNS_SEC_SECURE, MXTLS_TLSA_SECURE, 1);
    with_sts(rep, STS_APPLY_FETCHED, MTASTS_MODE_ENFORCE);
    assert_int_equal(check_auto_dane(rep), MXTLS_OK);
    assert_int_equal(check_auto_sts(rep), MXTLS_OK);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_DANE);
    check_report_free(rep);
    /* a policy-map entry wins over both */
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = mxtls_policymap_parse(ctx, "example.com encrypt\n", 20, "m");
    assert_non_null(map);
    rep = auto_report(DNS_SEC_SECURE, MXTLS_TLSA_NONE, 0);
    rep->policy_entry = mxtls_policymap_lookup(map, "example.com");
    assert_non_null(rep->policy_entry);
    rep->auto_level = MXTLS_LEVEL_ENCRYPT;
    with_sts(rep, STS_APPLY_FETCHED, MTASTS_MODE_ENFORCE);
    assert_int_equal(check_auto_dane(rep), MXTLS_OK);
    assert_int_equal(check_auto_sts(rep), MXTLS_OK);
    assert_int_equal(rep->auto_level, MXTLS_LEVEL_ENCRYPT);
    check_report_free(rep);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

/* STARTS_WITH - p begins with the string literal lit */
#define STARTS_WITH(p, lit) (strncmp((p), lit, sizeof lit - 1) == 0)

/* What a cap left out is in the report: hosts, addresses per host, TLSA
 * records per host, PTR records per address, in JSON and in the text. */
static void test_caps_reported(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_host *h = add_host(rep, "mx1.example.com", 10, DNS_DATA, DNS_NODATA);
    check_host *h2 = add_host(rep, "mx2.example.com", 20, DNS_DATA, DNS_NODATA);
    rep->hosts_dropped = 1;
    h->addrs_dropped = 3;
    h->tlsa_started = 1;
    h->tlsa_state = MXTLS_TLSA_SECURE;
    h->tlsa_base = strdup("mx1.example.com");
    h->tlsa_dropped = 2;
    check_address *a = add_addr(rep, h, "192.0.2.1", A_GOOD);
    assert_int_equal(strlist_add(&a->ptr, "mx1.example.com"), MXTLS_OK);
    a->ptr_dropped = 5;
    check_address *a2 = add_addr(rep, h2, "192.0.2.2", A_GOOD);
    aggregate(rep);

    char *json = check_report_json(rep, MXTLS_LEVEL_MAY);
    assert_non_null(json);
    const char *h1 = strstr(json, "\"name\":\"mx1.example.com\"");
    const char *h2j = strstr(json, "\"name\":\"mx2.example.com\"");
    assert_non_null(h1);
    assert_non_null(h2j);
    assert_non_null(strstr(json, "\"hosts_dropped\":1,"));
    const char *k = strstr(h1, "\"addresses_dropped\":");
    assert_true(k && k < h2j);
    assert_true(STARTS_WITH(k, "\"addresses_dropped\":3,\"tlsa_dropped\":2,"));
    k = strstr(h2j, "\"addresses_dropped\":");
    assert_non_null(k);
    assert_true(STARTS_WITH(k, "\"addresses_dropped\":0,\"tlsa_dropped\":0,"));
    const char *ip1 = strstr(json, "\"ip\":\"192.0.2.1\"");
    const char *ip2 = strstr(json, "\"ip\":\"192.0.2.2\"");
    assert_true(ip1 && ip2 && ip1 < ip2);
    k = strstr(ip1, "\"ptr_dropped\":");
    assert_true(k && k < ip2);
    assert_true(STARTS_WITH(k, "\"ptr_dropped\":5,"));
    k = strstr(ip2, "\"ptr_dropped\":");
    assert_true(k && STARTS_WITH(k, "\"ptr_dropped\":0,"));
    free(json);

    char *text = check_report_text(rep, MXTLS_LEVEL_MAY, 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "      (2 more TLSA records not considered)\n"));
    assert_non_null(strstr(text, "    (3 more addresses not checked)\n"));
    assert_non_null(strstr(text, " (not forward-confirmed) (5 more PTR records not checked)\n"));
    assert_non_null(strstr(text, "  (1 more MX hosts not checked)\n"));
    /* mx2 cut nothing: one note of each kind */
    const char *first = strstr(text, "more addresses not checked");
    assert_null(strstr(first + 1, "more addresses not checked"));
    assert_null(strstr(strstr(text, "more PTR records") + 1, "more PTR records"));
    free(text);
    (void)a2;
    check_report_free(rep);
}

/* Every level a check evaluates fits the report's per-level arrays: the run
 * never cuts levels. */
static void test_levels_fit(void **state)
{
    (void)state;
    size_t n = 0;
    assert_non_null(mxtls_levels(&n));
    assert_true(n > 0);
    assert_true(n <= CHECK_NLEVELS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_on_preferred_host),
        cmocka_unit_test(test_caps_reported),
        cmocka_unit_test(test_levels_fit),
        cmocka_unit_test(test_preference_order),
        cmocka_unit_test(test_preference_order_reversed),
        cmocka_unit_test(test_addresses_in_order),
        cmocka_unit_test(test_perm_and_temp_is_tempfail),
        cmocka_unit_test(test_first_tempfail_in_order),
        cmocka_unit_test(test_all_fail_first_in_order),
        cmocka_unit_test(test_dns_tempfail_outranks_fail),
        cmocka_unit_test(test_dns_tempfail_scope),
        cmocka_unit_test(test_no_address),
        cmocka_unit_test(test_evaluation_failed),
        cmocka_unit_test(test_null_mx),
        cmocka_unit_test(test_nxdomain),
        cmocka_unit_test(test_bogus_mx),
        cmocka_unit_test(test_mx_lookup_failed),
        cmocka_unit_test(test_timeout_no_hosts),
        cmocka_unit_test(test_auto_dane),
        cmocka_unit_test(test_auto_policy_entry_wins),
        cmocka_unit_test(test_auto_sts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
