/* test_advice.c - the operator's to-do list of a finished check
 * (engine/advice.c), one rule at a time
 *
 * Reports are built by hand: hosts, addresses, connections with the probe
 * report each one gave (certificates made in the test), per-level results.
 * Each test asserts the exact sentences of rep->advice, in order, and that
 * a report where the rule does not apply gets none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/policymap.h"
#include "core/result.h"
#include "engine/advice.h"
#include "engine/check.h"
#include "io/probe.h"
#include "mxtls.h"
#include "testutil.h"

/* report_new - example.com with the levels may and verify, auto level may */
static check_report *report_new(void)
{
    check_report *rep = calloc(1, sizeof *rep);
    assert_non_null(rep);
    rep->domain = strdup("example.com");
    rep->port = 25;
    rep->mx_outcome = DNS_DATA;
    rep->mx_security = DNS_SEC_SECURE;
    rep->levels[0] = MXTLS_LEVEL_MAY;
    rep->levels[1] = MXTLS_LEVEL_VERIFY;
    rep->nlevels = 2;
    rep->auto_level = MXTLS_LEVEL_MAY;
    return rep;
}

static check_host *add_host(check_report *rep, const char *name)
{
    check_host *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->name = strdup(name);
    h->tlsa_ttl = -1;
    rep->hosts[rep->nhosts++] = h;
    return h;
}

static check_address *add_addr(check_host *h, const char *ip)
{
    check_address *a = calloc(1, sizeof *a);
    assert_non_null(a);
    a->ip = strdup(ip);
    a->family = 4;
    a->alt_conn = -1;
    h->addrs[h->naddrs++] = a;
    return a;
}

/* add_conn - a connection of a with a finished TLS session (version,
 * cipher), the leaf `leaf` (NULL: none; the reference is taken) and SNI */
static check_conn *add_conn(check_address *a, const char *sni, const char *version,
                            const char *cipher, X509 *leaf)
{
    check_conn *c = &a->conns[a->nconns++];
    c->hello.sni = sni ? strdup(sni) : NULL;
    probe_report *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->ip = strdup(a->ip);
    p->connected = 1;
    p->tls_attempted = p->tls_ok = 1;
    p->tls.version = strdup(version);
    p->tls.cipher = strdup(cipher);
    p->smtp.outcome = SMTP_OUTCOME_OK_TLS;
    if (leaf) {
        p->tls.chain = sk_X509_new_null();
        assert_non_null(p->tls.chain);
        assert_true(sk_X509_push(p->tls.chain, leaf) > 0);
    }
    c->probe = p;
    return c;
}

/* advice_is - check_advice gives exactly these sentences (NULL-terminated) */
static void advice_is(check_report *rep, const char *const *want)
{
    assert_int_equal(check_advice(rep), MXTLS_OK);
    size_t n = 0;
    while (want[n])
        n++;
    for (size_t i = 0; i < rep->advice.n && i < n; i++)
        assert_string_equal(rep->advice.v[i], want[i]);
    assert_int_equal(rep->advice.n, n);
}

static const char *const none[] = {NULL};

static void test_clean_report_no_advice(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_address *a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    add_conn(a, NULL, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL);
    advice_is(rep, none);
    check_report_free(rep);
}

static void test_injection(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_address *a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    check_conn *c = add_conn(a, NULL, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL);
    c->probe->smtp.injected_bytes = 12;
    static const char *const want[] = {
        "mx.example.com [192.0.2.1] sent 12 bytes after its 220 reply to STARTTLS, before the "
        "TLS handshake: this is the STARTTLS injection flaw class (CVE-2011-0411); update the "
        "server software.",
        NULL};
    advice_is(rep, want);
    check_report_free(rep);
}

static void test_old_tls_version(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_address *a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    add_conn(a, NULL, "TLSv1.1", "ECDHE-RSA-AES128-SHA", NULL);
    static const char *const want[] = {
        "mx.example.com [192.0.2.1] negotiated TLSv1.1: enable TLS 1.2 and 1.3; many senders "
        "refuse older versions (RFC 8996).",
        NULL};
    advice_is(rep, want);
    check_report_free(rep);

    /* A version a policy entry's protocols= asked for says nothing of the server. */
    rep = report_new();
    a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    check_conn *c = add_conn(a, NULL, "TLSv1", "ECDHE-RSA-AES128-SHA", NULL);
    c->hello.protocols = strdup("TLSv1");
    advice_is(rep, none);
    check_report_free(rep);
}

static void test_weak_cipher(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_address *a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    add_conn(a, NULL, "TLSv1.2", "DES-CBC3-SHA", NULL);
    static const char *const want[] = {
        "mx.example.com [192.0.2.1] negotiated the weak cipher DES-CBC3-SHA: remove it from "
        "the server's cipher list (RFC 9325).",
        NULL};
    advice_is(rep, want);
    check_report_free(rep);

    /* Chosen by a policy entry's ciphers=: not the server's fault. */
    rep = report_new();
    a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    check_conn *c = add_conn(a, NULL, "TLSv1.2", "AECDH-AES256-SHA", NULL);
    c->hello.ciphers = strdup("low");
    advice_is(rep, none);
    check_report_free(rep);
}

static X509 *cert_named(const char *name)
{
    tu_id id = {'D', name, 0};
    return tu_cert_make(&id, 1);
}

static void test_sni_dependent_certificate(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_address *a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    add_conn(a, NULL, "TLSv1.3", "TLS_AES_256_GCM_SHA384", cert_named("default.hosting.test"));
    add_conn(a, "mx.example.com", "TLSv1.3", "TLS_AES_256_GCM_SHA384",
             cert_named("mx.example.com"));
    static const char *const want[] = {
        "mx.example.com [192.0.2.1] presents a certificate for default.hosting.test to clients "
        "that send no SNI and one for mx.example.com to clients that send SNI mx.example.com. "
        "Postfix (unless smtp_tls_servername is set) and Cisco ESA send no SNI, so they are "
        "shown the default certificate. Fix either side: make the server's default "
        "certificate carry the MX hostname mx.example.com (the receiving server), or set "
        "smtp_tls_servername = hostname on the sending Postfix (Postfix 3.4 and later).",
        NULL};
    advice_is(rep, want);
    check_report_free(rep);

    /* The same certificate with and without SNI: nothing to say. */
    rep = report_new();
    a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    X509 *x = cert_named("mx.example.com");
    assert_int_equal(X509_up_ref(x), 1);
    add_conn(a, NULL, "TLSv1.3", "TLS_AES_256_GCM_SHA384", x);
    add_conn(a, "mx.example.com", "TLSv1.3", "TLS_AES_256_GCM_SHA384", x);
    advice_is(rep, none);
    check_report_free(rep);
}

#define BOGUS_WHY                                                                            \
    "validation failure <example.com. MX IN>: signature expired from 192.0.2.53 for key "   \
    "example.com. while building chain of trust"
#define EXPIRED_ADVICE                                                                       \
    "The zone's DNSSEC signatures (RRSIG) have expired: re-sign the zone now, and check the " \
    "job that re-signs it before they expire (the signer's cron job, or the DNS server's "   \
    "automatic re-signing)."

static void test_mx_bogus(void **state)
{
    (void)state;
    check_report *rep = report_new();
    rep->mx_security = DNS_SEC_BOGUS;
    rep->mx_outcome = DNS_SERVFAIL;
    rep->mx_why = strdup(BOGUS_WHY);
    static const char *const want[] = {
        "The MX records of example.com fail DNSSEC validation (" BOGUS_WHY "). " EXPIRED_ADVICE,
        NULL};
    advice_is(rep, want);
    check_report_free(rep);
}

static void test_tlsa_bogus(void **state)
{
    (void)state;
    check_report *rep = report_new();
    check_host *h = add_host(rep, "mx.example.com");
    h->tlsa_started = h->tlsa_done = 1;
    h->tlsa_state = MXTLS_TLSA_BOGUS;
    h->tlsa_base = strdup("mx.example.com");
    h->tlsa_why = strdup("servfail: " BOGUS_WHY);
    static const char *const want[] = {
        "The TLSA records at _25._tcp.mx.example.com fail DNSSEC validation (servfail: " BOGUS_WHY
        "). " EXPIRED_ADVICE,
        NULL};
    advice_is(rep, want);
    check_report_free(rep);
}

static void test_tlsa_ignored(void **state)
{
    (void)state;
    /* An insecure TLSA answer to the lookup DANE senders make. */
    check_report *rep = report_new();
    check_host *h = add_host(rep, "mx.example.com");
    h->tlsa_started = h->tlsa_done = 1;
    h->tlsa_state = MXTLS_TLSA_INSECURE;
    h->tlsa_base = strdup("smtp.example.net");
    h->ntlsa = 2;
    static const char *const want[] = {
        "The TLSA records at _25._tcp.smtp.example.net are ignored: they are not DNSSEC-signed "
        "(no DS record leads to them: the zone is not signed, or its delegation is insecure), "
        "so DANE senders do not use them (RFC 7672 §2.2). Sign the zone and publish its DS "
        "record at the parent zone.",
        NULL};
    advice_is(rep, want);
    h->ntlsa = 0; /* the records were never kept: nothing for check_report_free */
    check_report_free(rep);

    /* Insecure address records: the informational lookup counted one. */
    rep = report_new();
    h = add_host(rep, "mx.example.com");
    h->tlsa_ignored = 1;
    static const char *const want1[] = {
        "The TLSA record at _25._tcp.mx.example.com is ignored: it is not DNSSEC-signed (no DS "
        "record leads to it: the zone is not signed, or its delegation is insecure), so DANE "
        "senders do not use it (RFC 7672 §2.2). Sign the zone and publish its DS record at "
        "the parent zone.",
        NULL};
    advice_is(rep, want1);
    check_report_free(rep);
}

static void test_null_mx_mixed(void **state)
{
    (void)state;
    check_report *rep = report_new();
    rep->null_mx_mixed = 1;
    static const char *const want[] = {
        "The MX RRset mixes a null MX (\".\") with other MX records, which RFC 7505 §3 "
        "forbids: senders differ in what they do with it; publish either the null MX alone "
        "or only real MX hosts.",
        NULL};
    advice_is(rep, want);
    check_report_free(rep);
}

static void test_policy_entry_protocols(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    assert_non_null(ctx);
    static const char map_text[] = "example.com encrypt protocols=TLSv1\n"
                                   "example.net encrypt protocols=>=TLSv1.2\n";
    mxtls_policymap *map = mxtls_policymap_parse(ctx, map_text, strlen(map_text), "policy");
    assert_non_null(map);

    check_report *rep = report_new();
    rep->policy_entry = mxtls_policymap_lookup(map, "example.com");
    assert_non_null(rep->policy_entry);
    static const char *const want[] = {
        "The policy map entry \"example.com\" (line 1) sets protocols=TLSv1, which leaves "
        "neither TLS 1.2 nor TLS 1.3: the sender's handshakes with this destination fail. TLS "
        "1.0 and 1.1 are obsolete (RFC 8996); remove protocols= from the entry or use "
        "protocols=>=TLSv1.2.",
        NULL};
    advice_is(rep, want);
    check_report_free(rep);

    rep = report_new();
    rep->policy_entry = mxtls_policymap_lookup(map, "example.net");
    assert_non_null(rep->policy_entry);
    advice_is(rep, none);
    check_report_free(rep);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

/* test_result_advice - the advice of the auto level's and verify's results
 * (not of other levels), once each */
static void test_result_advice(void **state)
{
    (void)state;
    check_report *rep = report_new();
    rep->levels[2] = MXTLS_LEVEL_ENCRYPT;
    rep->nlevels = 3;
    check_address *a = add_addr(add_host(rep, "mx.example.com"), "192.0.2.1");
    check_address *b = add_addr(rep->hosts[0], "192.0.2.2");
    const char *texts[3] = {"advice of may", "advice of verify", "advice of encrypt"};
    for (size_t li = 0; li < 3; li++) {
        for (int k = 0; k < 2; k++) {
            mxtls_result *r = result_new(rep->levels[li]);
            assert_non_null(r);
            assert_int_equal(result_advice(r, "%s", texts[li]), MXTLS_OK);
            (k ? b : a)->results[li] = r;
        }
    }
    static const char *const want[] = {"advice of may", "advice of verify", NULL};
    advice_is(rep, want);
    check_report_free(rep);
}

/* test_order_and_uniqueness - rules in their order, each sentence once */
static void test_order_and_uniqueness(void **state)
{
    (void)state;
    /* Two addresses with the same finding give one sentence each (they name
     * the address); the same address twice over gives one. */
    check_report *rep = report_new();
    rep->null_mx_mixed = 1;
    check_host *h = add_host(rep, "mx.example.com");
    check_address *a = add_addr(h, "192.0.2.1");
    add_conn(a, NULL, "TLSv1", "ECDHE-RSA-AES128-SHA", NULL);
    add_conn(a, "mx.example.com", "TLSv1", "ECDHE-RSA-AES128-SHA", NULL);
    check_address *b = add_addr(h, "192.0.2.2");
    add_conn(b, NULL, "TLSv1", "ECDHE-RSA-AES128-SHA", NULL);
    static const char *const want[] = {
        "The MX RRset mixes a null MX (\".\") with other MX records, which RFC 7505 §3 "
        "forbids: senders differ in what they do with it; publish either the null MX alone "
        "or only real MX hosts.",
        "mx.example.com [192.0.2.1] negotiated TLSv1: enable TLS 1.2 and 1.3; many senders "
        "refuse older versions (RFC 8996).",
        "mx.example.com [192.0.2.2] negotiated TLSv1: enable TLS 1.2 and 1.3; many senders "
        "refuse older versions (RFC 8996).",
        NULL};
    advice_is(rep, want);
    check_report_free(rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_report_no_advice),
        cmocka_unit_test(test_injection),
        cmocka_unit_test(test_old_tls_version),
        cmocka_unit_test(test_weak_cipher),
        cmocka_unit_test(test_sni_dependent_certificate),
        cmocka_unit_test(test_mx_bogus),
        cmocka_unit_test(test_tlsa_bogus),
        cmocka_unit_test(test_tlsa_ignored),
        cmocka_unit_test(test_null_mx_mixed),
        cmocka_unit_test(test_policy_entry_protocols),
        cmocka_unit_test(test_result_advice),
        cmocka_unit_test(test_order_and_uniqueness),
    };
    return cmocka_run_group_tests(tests, NULL, tu_group_teardown);
}
