/* test_audit - findings and advice of `mxtls audit` from observations (pure) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"

/* good - a well-configured server on PORT: STARTTLS (or TLS on connect),
 * TLS 1.2 and 1.3 only, AEAD and CBC suites, a valid certificate, AUTH
 * only over TLS on the submission ports, REQUIRETLS and a staple */
static audit_port_obs good(uint16_t port)
{
    audit_port_obs o;
    memset(&o, 0, sizeof o);
    o.port = port;
    o.role = audit_role_for_port(port);
    o.reachable = 1;
    o.starttls_offered = port == 465 ? AUDIT_NOT_TESTED : AUDIT_YES;
    o.tls_ok = 1;
    o.auth_before_tls = port == 465 ? AUDIT_NOT_TESTED : AUDIT_NO;
    o.auth_after_tls = port == 25 ? AUDIT_NO : AUDIT_YES;
    o.requiretls = AUDIT_YES;
    o.mail_without_tls = port == 587 ? AUDIT_NO : AUDIT_NOT_TESTED;
    o.mail_code = port == 587 ? 530 : 0;
    o.proto[AUDIT_TLS1_0] = AUDIT_NO;
    o.proto[AUDIT_TLS1_1] = AUDIT_NO;
    o.proto[AUDIT_TLS1_2] = AUDIT_YES;
    o.proto[AUDIT_TLS1_3] = AUDIT_YES;
    o.ciphers[AUDIT_CIPHERS_NULL] = AUDIT_NO;
    o.ciphers[AUDIT_CIPHERS_ANON] = AUDIT_NO;
    o.ciphers[AUDIT_CIPHERS_3DES] = AUDIT_NO;
    o.ciphers[AUDIT_CIPHERS_CBC] = AUDIT_NO;
    o.ciphers[AUDIT_CIPHERS_AEAD] = AUDIT_YES;
    o.groups[AUDIT_GROUP_X25519] = AUDIT_YES;
    o.groups[AUDIT_GROUP_P256] = AUDIT_YES;
    o.groups[AUDIT_GROUP_P384] = AUDIT_YES;
    o.groups[AUDIT_GROUP_FFDHE2048] = AUDIT_NO;
    o.groups[AUDIT_GROUP_DHE] = AUDIT_NO;
    snprintf(o.version, sizeof o.version, "TLSv1.3");
    snprintf(o.cipher, sizeof o.cipher, "TLS_AES_256_GCM_SHA384");
    snprintf(o.key_type, sizeof o.key_type, "EC");
    o.key_bits = 256;
    o.ocsp_stapled = AUDIT_YES;
    o.client_cert_requested = AUDIT_NO;
    o.cert_checked = 1;
    o.cert_ok = 1;
    return o;
}

/* only - exactly one finding, with this id, severity and detail */
static void only(const audit_port_obs *o, const char *id, audit_severity sev, const char *detail)
{
    audit_finding f[AUDIT_MAX_FINDINGS];
    size_t n = audit_findings(o, f, AUDIT_MAX_FINDINGS);
    if (n != 1) {
        for (size_t i = 0; i < n && i < AUDIT_MAX_FINDINGS; i++)
            fprintf(stderr, "finding %zu: %s\n", i, f[i].rule->id);
    }
    assert_int_equal(n, 1);
    assert_string_equal(f[0].rule->id, id);
    assert_int_equal(f[0].severity, sev);
    assert_string_equal(f[0].detail, detail);
}

static void test_good_has_no_findings(void **state)
{
    (void)state;
    audit_finding f[AUDIT_MAX_FINDINGS];
    const uint16_t ports[] = {25, 465, 587};
    for (size_t i = 0; i < 3; i++) {
        audit_port_obs o = good(ports[i]);
        assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 0);
        assert_int_equal(audit_worst(f, 0), -1);
    }
}

static void test_closed_port_says_only_that(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.reachable = 0;
    o.tls_ok = 0;
    snprintf(o.unreachable_why, sizeof o.unreachable_why, "connection refused");
    only(&o, "port-closed", AUDIT_ERROR, "port 25: connection refused");
    o = good(587);
    o.reachable = 0;
    only(&o, "port-closed", AUDIT_INFO, "port 587: no answer");
}

static void test_starttls_missing_by_role(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.starttls_offered = AUDIT_NO;
    o.tls_ok = 0;
    o.proto[AUDIT_TLS1_2] = o.proto[AUDIT_TLS1_3] = AUDIT_NOT_TESTED;
    o.ciphers[AUDIT_CIPHERS_AEAD] = AUDIT_NOT_TESTED;
    o.cert_checked = 0;
    only(&o, "starttls-missing", AUDIT_ERROR, "the EHLO reply on port 25 has no STARTTLS");
    o.port = 587;
    o.role = AUDIT_ROLE_SUBMISSION;
    only(&o, "submission-starttls-missing", AUDIT_ERROR,
         "the EHLO reply on port 587 has no STARTTLS");
}

static void test_auth_before_tls(void **state)
{
    (void)state;
    audit_port_obs o = good(587);
    o.auth_before_tls = AUDIT_YES;
    only(&o, "auth-before-tls", AUDIT_ERROR,
         "the EHLO reply before STARTTLS on port 587 offers AUTH");
    const audit_rule *r = audit_rule_find("auth-before-tls");
    assert_non_null(r);
    assert_string_equal(r->postfix_param, "smtpd_tls_auth_only");
    assert_string_equal(r->postfix_fix, "# main.cf\nsmtpd_tls_auth_only = yes");
}

static void test_plaintext_mail(void **state)
{
    (void)state;
    audit_port_obs o = good(587);
    o.mail_without_tls = AUDIT_YES;
    o.mail_code = 250;
    snprintf(o.mail_reply, sizeof o.mail_reply, "250 2.1.0 Ok");
    only(&o, "submission-plaintext-mail", AUDIT_ERROR,
         "MAIL FROM:<> without TLS was answered \"250 2.1.0 Ok\"");
    /* port 25 must take mail without TLS: accepted is no finding ... */
    o = good(25);
    o.mail_without_tls = AUDIT_YES;
    o.mail_code = 250;
    audit_finding f[AUDIT_MAX_FINDINGS];
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 0);
    /* ... and 530 is (RFC 3207 §4); another refusal is not read as "TLS required" */
    o.mail_without_tls = AUDIT_NO;
    o.mail_code = 530;
    snprintf(o.mail_reply, sizeof o.mail_reply, "530 5.7.0 Must issue a STARTTLS command first");
    only(&o, "mx-tls-required", AUDIT_WARNING,
         "MAIL FROM:<> without TLS was answered \"530 5.7.0 Must issue a STARTTLS command "
         "first\"");
    o.mail_code = 554;
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 0);
}

static void test_old_protocols(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.proto[AUDIT_TLS1_0] = AUDIT_YES;
    only(&o, "tls1.0-accepted", AUDIT_WARNING, "a handshake limited to TLSv1 succeeded");
    o = good(465);
    o.proto[AUDIT_TLS1_1] = AUDIT_YES;
    only(&o, "tls1.1-accepted", AUDIT_ERROR, "a handshake limited to TLSv1.1 succeeded");
    const audit_rule *r = audit_rule_find("tls1.0-accepted");
    assert_string_equal(r->postfix_fix, "# main.cf\nsmtpd_tls_protocols = >=TLSv1.2\n"
                                        "smtpd_tls_mandatory_protocols = >=TLSv1.2");
    /* not tested is not "accepted" */
    o = good(25);
    o.proto[AUDIT_TLS1_0] = AUDIT_NOT_TESTED;
    audit_finding f[AUDIT_MAX_FINDINGS];
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 0);
}

static void test_tls13(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.proto[AUDIT_TLS1_3] = AUDIT_NO;
    snprintf(o.version, sizeof o.version, "TLSv1.2");
    only(&o, "tls1.3-missing", AUDIT_INFO, "offered TLS 1.3, the server chose TLSv1.2");
    o = good(25);
    o.proto[AUDIT_TLS1_2] = AUDIT_NO;
    only(&o, "tls1.2-missing", AUDIT_WARNING, "only TLS 1.3 handshakes succeeded");
}

static void test_cipher_classes(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.ciphers[AUDIT_CIPHERS_3DES] = AUDIT_YES;
    only(&o, "cipher-3des", AUDIT_WARNING,
         "a handshake offering only 3des suites (3DES:IDEA:!aNULL:!ADH:@SECLEVEL=0) succeeded");
    o = good(25);
    o.ciphers[AUDIT_CIPHERS_NULL] = AUDIT_YES;
    only(&o, "cipher-null", AUDIT_ERROR,
         "a handshake offering only null suites (NULL:eNULL:@SECLEVEL=0) succeeded");
    o = good(25);
    o.ciphers[AUDIT_CIPHERS_ANON] = AUDIT_YES;
    only(&o, "cipher-anonymous", AUDIT_INFO,
         "a handshake offering only anonymous suites (aNULL:ADH:@SECLEVEL=0) succeeded");
    o.port = 587;
    o.role = AUDIT_ROLE_SUBMISSION;
    o.auth_after_tls = AUDIT_YES;
    only(&o, "cipher-anonymous", AUDIT_WARNING,
         "a handshake offering only anonymous suites (aNULL:ADH:@SECLEVEL=0) succeeded");
    o = good(25);
    o.ciphers[AUDIT_CIPHERS_CBC] = AUDIT_YES;
    audit_finding f[AUDIT_MAX_FINDINGS];
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 1);
    assert_string_equal(f[0].rule->id, "cipher-cbc");
    assert_int_equal(f[0].severity, AUDIT_INFO);
    o = good(25);
    o.ciphers[AUDIT_CIPHERS_AEAD] = AUDIT_NO;
    snprintf(o.cipher, sizeof o.cipher, "ECDHE-RSA-AES128-SHA");
    only(&o, "cipher-aead-missing", AUDIT_WARNING,
         "no handshake with an AEAD suite succeeded (first handshake: ECDHE-RSA-AES128-SHA)");
    assert_string_equal(audit_cipher_class_grade(AUDIT_CIPHERS_3DES), "weak");
    assert_string_equal(audit_cipher_class_grade(AUDIT_CIPHERS_CBC), "acceptable");
    assert_string_equal(audit_cipher_class_grade(AUDIT_CIPHERS_AEAD), "strong");
}

static void test_key_sizes(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    snprintf(o.key_type, sizeof o.key_type, "RSA");
    o.key_bits = 1024;
    only(&o, "cert-key-weak", AUDIT_ERROR, "RSA key of 1024 bits");
    o.key_bits = 2048;
    audit_finding f[AUDIT_MAX_FINDINGS];
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 0);
    snprintf(o.key_type, sizeof o.key_type, "EC");
    o.key_bits = 224;
    only(&o, "cert-key-weak", AUDIT_ERROR, "EC key of 224 bits");
    snprintf(o.key_type, sizeof o.key_type, "ED25519");
    o.key_bits = 253;
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 0);
}

static void test_certificate_codes(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.cert_ok = 0;
    snprintf(o.cert_code, sizeof o.cert_code, "missing-intermediate");
    snprintf(o.cert_message, sizeof o.cert_message, "the chain lacks an intermediate");
    snprintf(o.cert_names, sizeof o.cert_names, "mx.example.com");
    only(&o, "cert-chain-incomplete", AUDIT_WARNING,
         "the chain lacks an intermediate (missing-intermediate; names checked: mx.example.com)");
    o.port = 465;
    o.role = AUDIT_ROLE_SUBMISSIONS;
    o.auth_after_tls = AUDIT_YES;
    only(&o, "cert-chain-incomplete", AUDIT_ERROR,
         "the chain lacks an intermediate (missing-intermediate; names checked: mx.example.com)");
    snprintf(o.cert_code, sizeof o.cert_code, "name-mismatch");
    snprintf(o.cert_message, sizeof o.cert_message, "no name matches");
    only(&o, "cert-name-mismatch", AUDIT_ERROR,
         "no name matches (name-mismatch; names checked: mx.example.com)");
    snprintf(o.cert_code, sizeof o.cert_code, "expired");
    snprintf(o.cert_message, sizeof o.cert_message, "expired");
    only(&o, "cert-untrusted", AUDIT_ERROR,
         "expired (expired; names checked: mx.example.com)");
}

static void test_tls_failures(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.tls_ok = 0;
    o.cert_checked = 0;
    o.ocsp_stapled = AUDIT_NOT_TESTED;
    o.proto[AUDIT_TLS1_2] = o.proto[AUDIT_TLS1_3] = AUDIT_NOT_TESTED;
    o.ciphers[AUDIT_CIPHERS_AEAD] = AUDIT_NOT_TESTED;
    snprintf(o.tls_error, sizeof o.tls_error, "sslv3 alert handshake failure");
    only(&o, "tls-handshake-failed", AUDIT_ERROR, "after STARTTLS: sslv3 alert handshake failure");
    o.client_cert_requested = AUDIT_YES;
    only(&o, "client-cert-required", AUDIT_ERROR,
         "the server asked for a client certificate, got none and ended the handshake: "
         "sslv3 alert handshake failure");
    o.client_cert_requested = AUDIT_NO;
    o.port = 465;
    o.role = AUDIT_ROLE_SUBMISSIONS;
    o.starttls_offered = AUDIT_NOT_TESTED;
    o.auth_after_tls = AUDIT_NOT_TESTED;
    snprintf(o.tls_error, sizeof o.tls_error, "wrong version number");
    only(&o, "implicit-tls-failed", AUDIT_ERROR, "TLS on connect to port 465: wrong version number");
    assert_string_equal(audit_rule_find("implicit-tls-failed")->postfix_param,
                        "smtpd_tls_wrappermode (master.cf smtps)");
}

static void test_info_findings(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.ocsp_stapled = AUDIT_NO;
    o.requiretls = AUDIT_NO;
    o.client_cert_requested = AUDIT_YES;
    snprintf(o.extensions, sizeof o.extensions, "PIPELINING SIZE 8BITMIME");
    audit_finding f[AUDIT_MAX_FINDINGS];
    size_t n = audit_findings(&o, f, AUDIT_MAX_FINDINGS);
    assert_int_equal(n, 3);
    assert_string_equal(f[0].rule->id, "client-cert-requested");
    assert_string_equal(f[1].rule->id, "ocsp-not-stapled");
    assert_string_equal(f[2].rule->id, "requiretls-missing");
    assert_string_equal(f[2].detail, "EHLO over TLS: PIPELINING SIZE 8BITMIME");
    assert_int_equal(audit_worst(f, n), AUDIT_INFO);
    /* REQUIRETLS is a question for MX hosts only */
    o.port = 587;
    o.role = AUDIT_ROLE_SUBMISSION;
    o.auth_after_tls = AUDIT_YES;
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 2);
    o.auth_after_tls = AUDIT_NO;
    n = audit_findings(&o, f, AUDIT_MAX_FINDINGS);
    assert_int_equal(n, 3);
    assert_string_equal(f[1].rule->id, "submission-auth-missing");
    assert_int_equal(audit_worst(f, n), AUDIT_WARNING);
}

static void test_count_beyond_max(void **state)
{
    (void)state;
    audit_port_obs o = good(587);
    o.auth_before_tls = AUDIT_YES;
    o.proto[AUDIT_TLS1_0] = o.proto[AUDIT_TLS1_1] = AUDIT_YES;
    audit_finding f[2];
    assert_int_equal(audit_findings(&o, f, 2), 3);
    assert_string_equal(f[0].rule->id, "auth-before-tls");
    assert_string_equal(f[1].rule->id, "tls1.0-accepted");
}

/* Every row: an id, a parameter, a snippet; ids unique; every finding reachable */
/* groups: the warning needs both X25519 and P-256 refused, not merely untested */
static void test_groups(void **state)
{
    (void)state;
    audit_port_obs o = good(25);
    o.groups[AUDIT_GROUP_X25519] = AUDIT_NO;
    audit_finding f[AUDIT_MAX_FINDINGS];
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 0);
    o.groups[AUDIT_GROUP_P256] = AUDIT_NOT_TESTED;
    assert_int_equal(audit_findings(&o, f, AUDIT_MAX_FINDINGS), 0);
    o.groups[AUDIT_GROUP_P256] = AUDIT_NO;
    o.groups[AUDIT_GROUP_DHE] = AUDIT_YES;
    only(&o, "group-modern-missing", AUDIT_WARNING,
         "handshakes offering only X25519 or only P-256 did not use them "
         "(accepted: secp384r1 DHE)");
    o.port = 465;
    o.role = AUDIT_ROLE_SUBMISSIONS;
    o.auth_before_tls = AUDIT_NOT_TESTED;
    o.auth_after_tls = AUDIT_YES;
    o.groups[AUDIT_GROUP_P384] = AUDIT_NO;
    o.groups[AUDIT_GROUP_DHE] = AUDIT_NOT_TESTED;
    only(&o, "group-modern-missing", AUDIT_WARNING,
         "handshakes offering only X25519 or only P-256 did not use them "
         "(accepted: none of the groups asked)");
    const audit_rule *r = audit_rule_find("group-modern-missing");
    assert_non_null(r);
    assert_string_equal(r->postfix_param,
                        "tls_eecdh_auto_curves (Postfix >= 3.8 also tls_ffdhe_auto_groups)");

    /* names as the probe reports the negotiated group */
    assert_int_equal(audit_group_of("X25519"), AUDIT_GROUP_X25519);
    assert_int_equal(audit_group_of("prime256v1"), AUDIT_GROUP_P256);
    assert_int_equal(audit_group_of("secp384r1"), AUDIT_GROUP_P384);
    assert_int_equal(audit_group_of("ffdhe2048"), AUDIT_GROUP_FFDHE2048);
    assert_int_equal(audit_group_of("DH-2048"), AUDIT_GROUP_DHE);
    assert_int_equal(audit_group_of("DHE"), -1);
    assert_int_equal(audit_group_of("X448"), -1);
    assert_int_equal(audit_group_of("P-256"), -1);
    assert_int_equal(audit_group_of(NULL), -1);
    assert_string_equal(audit_group_name(AUDIT_GROUP_P256), "prime256v1");
    assert_string_equal(audit_group_offer(AUDIT_GROUP_P256), "P-256");
    assert_null(audit_group_offer(AUDIT_GROUP_DHE));
    assert_null(audit_group_cipher_list(AUDIT_GROUP_FFDHE2048));
    assert_string_equal(audit_group_cipher_list(AUDIT_GROUP_X25519), "kECDHE:@SECLEVEL=0");
    assert_string_equal(audit_group_cipher_list(AUDIT_GROUP_DHE), "kDHE:@SECLEVEL=0");
    assert_string_equal(audit_group_name(AUDIT_NGROUPS), "?");
}

static void test_table_is_complete(void **state)
{
    (void)state;
    size_t n;
    const audit_rule *t = audit_rules(&n);
    assert_int_equal(n, 27);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].id);
        assert_true(t[i].title && t[i].title[0]);
        assert_true(t[i].postfix_param && t[i].postfix_param[0]);
        assert_true(t[i].postfix_fix && t[i].postfix_fix[0]);
        assert_ptr_equal(audit_rule_find(t[i].id), &t[i]);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t[i].id, t[j].id);
    }
    assert_null(audit_rule_find("no-such-finding"));
    assert_null(audit_rule_find(NULL));
    assert_string_equal(audit_severity_name(AUDIT_ERROR), "error");
    assert_string_equal(audit_role_name(audit_role_for_port(465)), "submissions");
    assert_string_equal(audit_role_name(audit_role_for_port(2525)), "mx");
    assert_string_equal(audit_proto_name(AUDIT_TLS1_1), "TLSv1.1");
}

/* docs/audit.md has a section per finding with its snippet, exactly */
static void test_docs_list_every_finding(void **state)
{
    (void)state;
    const char *src = getenv("MXTLS_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/audit.md", src);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char doc[256 * 1024];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = '\0';
    size_t n;
    const audit_rule *t = audit_rules(&n);
    for (size_t i = 0; i < n; i++) {
        char want[2048];
        snprintf(want, sizeof want, "### `%s`\n\n%s.\n", t[i].id, t[i].title);
        if (!strstr(doc, want))
            fail_msg("docs/audit.md has no section \"%s\"", want);
        snprintf(want, sizeof want, "- Postfix: `%s`\n", t[i].postfix_param);
        if (!strstr(doc, want))
            fail_msg("docs/audit.md: %s: no line \"%s\"", t[i].id, want);
        snprintf(want, sizeof want, "```\n%s\n```\n", t[i].postfix_fix);
        if (!strstr(doc, want))
            fail_msg("docs/audit.md: %s: the snippet differs", t[i].id);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_has_no_findings),
        cmocka_unit_test(test_closed_port_says_only_that),
        cmocka_unit_test(test_starttls_missing_by_role),
        cmocka_unit_test(test_auth_before_tls),
        cmocka_unit_test(test_plaintext_mail),
        cmocka_unit_test(test_old_protocols),
        cmocka_unit_test(test_tls13),
        cmocka_unit_test(test_cipher_classes),
        cmocka_unit_test(test_key_sizes),
        cmocka_unit_test(test_certificate_codes),
        cmocka_unit_test(test_tls_failures),
        cmocka_unit_test(test_info_findings),
        cmocka_unit_test(test_count_beyond_max),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_table_is_complete),
        cmocka_unit_test(test_docs_list_every_finding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
