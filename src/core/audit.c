/* audit.c - findings about a mail server's TLS configuration, and the advice for each
 *
 * Two tables. The advice table (audit_rule_table) says, for each finding
 * id, how bad it is and which Postfix parameter fixes it. The check table
 * (audit_checks) says when the finding applies, one small predicate per id.
 * Both are in report order; docs/audit.md has one section per row. */
#include "core/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const cipher_class_names[AUDIT_NCIPHER_CLASSES] = {
    [AUDIT_CIPHERS_NULL] = "null",
    [AUDIT_CIPHERS_ANON] = "anonymous",
    [AUDIT_CIPHERS_3DES] = "3des",
    [AUDIT_CIPHERS_CBC] = "cbc",
    [AUDIT_CIPHERS_AEAD] = "aead",
};

static const char *const cipher_class_grades[AUDIT_NCIPHER_CLASSES] = {
    [AUDIT_CIPHERS_NULL] = "weak",
    [AUDIT_CIPHERS_ANON] = "anonymous",
    [AUDIT_CIPHERS_3DES] = "weak",
    [AUDIT_CIPHERS_CBC] = "acceptable",
    [AUDIT_CIPHERS_AEAD] = "strong",
};

/* testssl.sh 3.0.8 run_cipherlists: ossl_null_ciphers, ossl_anon_ciphers,
 * ossl_tdes_ciphers, ossl_average_ciphers, ossl_strong_ciphers. SECLEVEL=0:
 * the probe must be able to offer what it asks about. */
static const char *const cipher_class_lists[AUDIT_NCIPHER_CLASSES] = {
    [AUDIT_CIPHERS_NULL] = "NULL:eNULL:@SECLEVEL=0",
    [AUDIT_CIPHERS_ANON] = "aNULL:ADH:@SECLEVEL=0",
    [AUDIT_CIPHERS_3DES] = "3DES:IDEA:!aNULL:!ADH:@SECLEVEL=0",
    [AUDIT_CIPHERS_CBC] = "HIGH:MEDIUM:AES:CAMELLIA:ARIA:!IDEA:!CHACHA20:!3DES:!RC2:!RC4:"
                          "!AESCCM8:!AESCCM:!AESGCM:!ARIAGCM:!aNULL:@SECLEVEL=0",
    [AUDIT_CIPHERS_AEAD] = "AESGCM:CHACHA20:CamelliaGCM:AESCCM:ARIAGCM:!aNULL:@SECLEVEL=0",
};

static const struct {
    const char *name, *offer, *ciphers;
} group_table[AUDIT_NGROUPS] = {
    [AUDIT_GROUP_X25519] = {"X25519", "X25519", "kECDHE:@SECLEVEL=0"},
    [AUDIT_GROUP_P256] = {"prime256v1", "P-256", "kECDHE:@SECLEVEL=0"},
    [AUDIT_GROUP_P384] = {"secp384r1", "P-384", "kECDHE:@SECLEVEL=0"},
    [AUDIT_GROUP_FFDHE2048] = {"ffdhe2048", "ffdhe2048", NULL},
    [AUDIT_GROUP_DHE] = {"DHE", NULL, "kDHE:@SECLEVEL=0"},
};

const char *audit_group_name(audit_group g)
{
    return (unsigned)g < AUDIT_NGROUPS ? group_table[g].name : "?";
}

const char *audit_group_offer(audit_group g)
{
    return (unsigned)g < AUDIT_NGROUPS ? group_table[g].offer : NULL;
}

const char *audit_group_cipher_list(audit_group g)
{
    return (unsigned)g < AUDIT_NGROUPS ? group_table[g].ciphers : NULL;
}

int audit_group_of(const char *negotiated)
{
    if (!negotiated)
        return -1;
    if (!strncmp(negotiated, "DH-", 3))
        return AUDIT_GROUP_DHE;
    for (int i = 0; i < AUDIT_NGROUPS; i++)
        if (group_table[i].offer && !strcmp(negotiated, group_table[i].name))
            return i;
    return -1;
}

static const char *const proto_names[AUDIT_NPROTOS] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

const char *audit_cipher_class_name(audit_cipher_class c)
{
    return (unsigned)c < AUDIT_NCIPHER_CLASSES ? cipher_class_names[c] : "?";
}

const char *audit_cipher_class_grade(audit_cipher_class c)
{
    return (unsigned)c < AUDIT_NCIPHER_CLASSES ? cipher_class_grades[c] : "?";
}

const char *audit_cipher_class_list(audit_cipher_class c)
{
    return (unsigned)c < AUDIT_NCIPHER_CLASSES ? cipher_class_lists[c] : NULL;
}

const char *audit_proto_name(audit_proto p)
{
    return (unsigned)p < AUDIT_NPROTOS ? proto_names[p] : "?";
}

const char *audit_role_name(audit_role r)
{
    switch (r) {
    case AUDIT_ROLE_MX: return "mx";
    case AUDIT_ROLE_SUBMISSION: return "submission";
    case AUDIT_ROLE_SUBMISSIONS: return "submissions";
    }
    return "?";
}

audit_role audit_role_for_port(uint16_t port)
{
    return port == 465 ? AUDIT_ROLE_SUBMISSIONS
                       : port == 587 ? AUDIT_ROLE_SUBMISSION : AUDIT_ROLE_MX;
}

const char *audit_severity_name(audit_severity s)
{
    switch (s) {
    case AUDIT_INFO: return "info";
    case AUDIT_WARNING: return "warning";
    case AUDIT_ERROR: return "error";
    }
    return "?";
}

/* ---- the advice table --------------------------------------------------- */

#define I AUDIT_INFO
#define W AUDIT_WARNING
#define E AUDIT_ERROR

static const audit_rule audit_rule_table[] = {
    {"port-closed", E, I, "nothing answers SMTP on this port",
     "master.cf service (smtp / submission / smtps)",
     "# master.cf: one line per port\n"
     "smtp       inet n - y - - smtpd\n"
     "submission inet n - y - - smtpd\n"
     "smtps      inet n - y - - smtpd",
     "Exim: daemon_smtp_ports = 25 : 465 : 587 (and tls_on_connect_ports = 465)",
     "OpenSMTPD: listen on IFACE port 25 / port 587 / port 465 lines in smtpd.conf"},
    {"starttls-missing", E, E, "port 25 does not offer STARTTLS: every sender delivers in clear",
     "smtpd_tls_security_level",
     "# main.cf\n"
     "smtpd_tls_security_level = may\n"
     "smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/fullchain.pem",
     "Exim: tls_advertise_hosts = * with tls_certificate and tls_privatekey",
     "OpenSMTPD: listen on IFACE tls pki NAME"},
    {"submission-starttls-missing", E, E,
     "port 587 does not offer STARTTLS: mail clients send passwords and mail in clear",
     "smtpd_tls_security_level (master.cf submission)",
     "# master.cf\n"
     "submission inet n - y - - smtpd\n"
     "  -o smtpd_tls_security_level=encrypt\n"
     "  -o smtpd_sasl_auth_enable=yes",
     "Exim: tls_advertise_hosts = * and, in the MAIL ACL, deny !encrypted = *",
     "OpenSMTPD: listen on IFACE port submission tls-require pki NAME auth"},
    {"tls-handshake-failed", E, E, "STARTTLS is offered but the TLS handshake fails",
     "smtpd_tls_chain_files, smtpd_tls_protocols, smtpd_tls_ciphers",
     "# main.cf: a readable key and chain, protocols and ciphers left at their defaults\n"
     "smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/fullchain.pem\n"
     "smtpd_tls_protocols = >=TLSv1\n"
     "smtpd_tls_ciphers = medium",
     NULL, NULL},
    {"implicit-tls-failed", E, E, "port 465 does not speak TLS on connect",
     "smtpd_tls_wrappermode (master.cf smtps)",
     "# master.cf\n"
     "smtps inet n - y - - smtpd\n"
     "  -o smtpd_tls_wrappermode=yes\n"
     "  -o smtpd_sasl_auth_enable=yes",
     "Exim: tls_on_connect_ports = 465",
     "OpenSMTPD: listen on IFACE port 465 smtps pki NAME auth"},
    {"client-cert-required", E, E,
     "the server demands a client certificate: senders without one cannot deliver",
     "smtpd_tls_req_ccert",
     "# main.cf (port 25 must not require one; RFC 3207 §4)\n"
     "smtpd_tls_req_ccert = no\n"
     "smtpd_tls_ask_ccert = no",
     "Exim: tls_verify_hosts = (empty); use tls_try_verify_hosts to ask only",
     "OpenSMTPD: drop \"verify\" from the listen on line"},
    {"auth-before-tls", E, E, "AUTH is offered before STARTTLS: passwords can travel in clear",
     "smtpd_tls_auth_only",
     "# main.cf\n"
     "smtpd_tls_auth_only = yes",
     "Exim: auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}}",
     "OpenSMTPD: offers AUTH only after STARTTLS (listen on ... tls auth); nothing to set"},
    {"submission-plaintext-mail", E, E,
     "port 587 accepts MAIL FROM without TLS: mail clients can submit in clear",
     "smtpd_tls_security_level (master.cf submission)",
     "# master.cf\n"
     "submission inet n - y - - smtpd\n"
     "  -o smtpd_tls_security_level=encrypt",
     "Exim: in acl_smtp_mail for port 587: deny !encrypted = *",
     "OpenSMTPD: listen on IFACE port submission tls-require pki NAME auth"},
    {"mx-tls-required", W, I,
     "port 25 refuses mail without TLS: senders that cannot do TLS bounce or defer",
     "smtpd_tls_security_level",
     "# main.cf (RFC 3207 §4: a publicly referenced server must not require TLS)\n"
     "smtpd_tls_security_level = may",
     "Exim: remove the \"deny !encrypted\" condition from the port 25 ACLs",
     "OpenSMTPD: listen on IFACE tls (not tls-require) for port 25"},
    {"tls1.0-accepted", W, E, "TLS 1.0 is accepted (obsolete, RFC 8996)",
     "smtpd_tls_protocols, smtpd_tls_mandatory_protocols",
     "# main.cf\n"
     "smtpd_tls_protocols = >=TLSv1.2\n"
     "smtpd_tls_mandatory_protocols = >=TLSv1.2",
     "Exim (OpenSSL): openssl_options = +no_sslv3 +no_tlsv1 +no_tlsv1_1",
     "OpenSMTPD: listen on IFACE tls pki NAME protocols \"tlsv1.2,tlsv1.3\""},
    {"tls1.1-accepted", W, E, "TLS 1.1 is accepted (obsolete, RFC 8996)",
     "smtpd_tls_protocols, smtpd_tls_mandatory_protocols",
     "# main.cf\n"
     "smtpd_tls_protocols = >=TLSv1.2\n"
     "smtpd_tls_mandatory_protocols = >=TLSv1.2",
     "Exim (OpenSSL): openssl_options = +no_sslv3 +no_tlsv1 +no_tlsv1_1",
     "OpenSMTPD: listen on IFACE tls pki NAME protocols \"tlsv1.2,tlsv1.3\""},
    {"tls1.2-missing", W, W, "TLS 1.2 is not accepted: senders without TLS 1.3 deliver in clear",
     "smtpd_tls_protocols, smtpd_tls_mandatory_protocols",
     "# main.cf\n"
     "smtpd_tls_protocols = >=TLSv1.2\n"
     "smtpd_tls_mandatory_protocols = >=TLSv1.2",
     "Exim (OpenSSL): remove +no_tlsv1_2 from openssl_options",
     "OpenSMTPD: listen on IFACE tls pki NAME protocols \"tlsv1.2,tlsv1.3\""},
    {"tls1.3-missing", I, I, "TLS 1.3 is not accepted",
     "smtpd_tls_protocols (Postfix >= 3.4 with OpenSSL >= 1.1.1)",
     "# main.cf: do not exclude TLSv1.3\n"
     "smtpd_tls_protocols = >=TLSv1.2",
     "Exim: build with OpenSSL >= 1.1.1 or GnuTLS >= 3.6.5; no option needed",
     "OpenSMTPD: protocols \"tlsv1.2,tlsv1.3\" (libtls default)"},
    {"cipher-null", E, E, "cipher suites without encryption (NULL) are accepted",
     "smtpd_tls_exclude_ciphers, tls_*_cipherlist",
     "# main.cf: back to the built-in lists, and never NULL\n"
     "smtpd_tls_ciphers = medium\n"
     "smtpd_tls_mandatory_ciphers = medium\n"
     "smtpd_tls_exclude_ciphers = eNULL",
     "Exim (OpenSSL): tls_require_ciphers = DEFAULT:!eNULL",
     "OpenSMTPD: listen on IFACE tls pki NAME ciphers \"secure\""},
    {"cipher-3des", W, W, "3DES or IDEA cipher suites (64-bit blocks, Sweet32) are accepted",
     "smtpd_tls_exclude_ciphers",
     "# main.cf\n"
     "smtpd_tls_exclude_ciphers = 3DES, IDEA",
     "Exim (OpenSSL): tls_require_ciphers = DEFAULT:!3DES:!IDEA",
     "OpenSMTPD: listen on IFACE tls pki NAME ciphers \"secure\""},
    {"cipher-anonymous", I, W,
     "anonymous cipher suites are accepted (no server certificate in that handshake)",
     "smtpd_tls_exclude_ciphers, smtpd_tls_mandatory_exclude_ciphers",
     "# port 25: Postfix offers them on purpose to opportunistic senders; senders that\n"
     "# authenticate never ask for them. On 465/587 (master.cf):\n"
     "  -o smtpd_tls_mandatory_exclude_ciphers=aNULL\n"
     "  -o smtpd_tls_exclude_ciphers=aNULL",
     "Exim (OpenSSL): tls_require_ciphers = DEFAULT:!aNULL",
     "OpenSMTPD: never offers anonymous suites (libtls); nothing to set"},
    {"cipher-cbc", I, I, "obsolete CBC cipher suites are accepted (acceptable, not strong)",
     "smtpd_tls_ciphers, smtpd_tls_mandatory_ciphers",
     "# port 25: keep them (older senders would fall back to plaintext).\n"
     "# 465/587 with modern clients only (master.cf):\n"
     "  -o smtpd_tls_mandatory_ciphers=high\n"
     "  -o tls_high_cipherlist=ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM",
     NULL, "OpenSMTPD: listen on IFACE tls pki NAME ciphers \"secure\""},
    {"cipher-aead-missing", W, W,
     "no AEAD cipher suite (AES-GCM, CHACHA20-POLY1305) is accepted",
     "smtpd_tls_ciphers, tls_medium_cipherlist",
     "# main.cf: the built-in lists include AEAD suites\n"
     "smtpd_tls_ciphers = medium\n"
     "tls_medium_cipherlist = aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
     "Exim (OpenSSL): tls_require_ciphers = DEFAULT",
     "OpenSMTPD: listen on IFACE tls pki NAME ciphers \"secure\""},
    {"group-modern-missing", W, W,
     "no modern ECDHE group (X25519 or P-256) is accepted for the key exchange",
     "tls_eecdh_auto_curves (Postfix >= 3.8 also tls_ffdhe_auto_groups)",
     "# main.cf: back to the built-in list (Postfix 3.6 and later)\n"
     "tls_eecdh_auto_curves = X25519 X448 prime256v1 secp521r1 secp384r1\n"
     "# Postfix >= 3.8: tls_ffdhe_auto_groups = ffdhe2048 ffdhe3072",
     "Exim (OpenSSL): tls_eccurve = auto", NULL},
    {"cert-key-weak", E, E, "the certificate's key is too small (RSA < 2048, EC < 256 bits)",
     "smtpd_tls_chain_files",
     "# new key and certificate, e.g. openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256\n"
     "smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/fullchain.pem",
     "Exim: tls_certificate / tls_privatekey with the new files",
     "OpenSMTPD: pki NAME cert / pki NAME key with the new files"},
    {"cert-name-mismatch", W, E,
     "the certificate does not name the host senders connect to",
     "smtpd_tls_chain_files (or tls_server_sni_maps)",
     "# a certificate whose subjectAltName holds the MX host name (and myhostname)\n"
     "smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/fullchain.pem",
     "Exim: tls_certificate with the MX name (per SNI: ${if eq{$tls_in_sni}...})",
     "OpenSMTPD: pki MX-NAME cert ... and listen on ... pki MX-NAME"},
    {"cert-chain-incomplete", W, E,
     "the server does not send the intermediate CA certificate(s)",
     "smtpd_tls_chain_files",
     "# key first, then the leaf, then each intermediate (the \"fullchain\" file)\n"
     "smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/fullchain.pem",
     "Exim: tls_certificate = the fullchain file (leaf then intermediates)",
     "OpenSMTPD: pki NAME cert = the fullchain file"},
    {"cert-untrusted", W, E, "the certificate does not validate for senders that authenticate",
     "smtpd_tls_chain_files",
     "# a current certificate from a public CA, with its chain\n"
     "smtpd_tls_chain_files = /etc/postfix/key.pem, /etc/postfix/fullchain.pem",
     NULL, NULL},
    {"client-cert-requested", I, I,
     "the server asks for a client certificate (most senders have none and send none)",
     "smtpd_tls_ask_ccert",
     "# main.cf: ask only where certificates are used (permit_tls_clientcerts)\n"
     "smtpd_tls_ask_ccert = no",
     "Exim: tls_try_verify_hosts", "OpenSMTPD: listen on ... verify (asks and requires)"},
    {"submission-auth-missing", W, W,
     "no AUTH offered over TLS on a submission port: mail clients cannot log in",
     "smtpd_sasl_auth_enable (master.cf submission / smtps)",
     "# master.cf, submission and smtps\n"
     "  -o smtpd_sasl_auth_enable=yes\n"
     "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject",
     "Exim: an authenticator (e.g. plaintext with server_condition) and auth_advertise_hosts",
     "OpenSMTPD: listen on IFACE port submission tls-require pki NAME auth"},
    {"ocsp-not-stapled", I, I, "no OCSP response is stapled to the handshake",
     "(none: Postfix's smtpd does not staple OCSP responses)",
     "# nothing to set in Postfix; SMTP senders do not require stapling",
     "Exim: tls_ocsp_file = /etc/exim4/ocsp.der (refreshed by cron)",
     "OpenSMTPD: no stapling option"},
    {"requiretls-missing", I, I, "REQUIRETLS (RFC 8689) is not advertised after STARTTLS",
     "(none: Postfix 3.7 does not implement REQUIRETLS)",
     "# not available in Postfix; senders that require it cannot use this server",
     "Exim: not implemented", "OpenSMTPD: not implemented"},
};

#undef I
#undef W
#undef E

#define NRULES (sizeof audit_rule_table / sizeof audit_rule_table[0])

const audit_rule *audit_rules(size_t *n)
{
    *n = NRULES;
    return audit_rule_table;
}

const audit_rule *audit_rule_find(const char *id)
{
    for (size_t i = 0; id && i < NRULES; i++)
        if (!strcmp(audit_rule_table[i].id, id))
            return &audit_rule_table[i];
    return NULL;
}

/* ---- the check table ---------------------------------------------------- */

/* A check writes its detail sentence and returns 1 when its finding applies. */
typedef int (*audit_check_fn)(const audit_port_obs *o, char *d, size_t dn);

static int is_mx(const audit_port_obs *o) { return o->role == AUDIT_ROLE_MX; }
static int is_587(const audit_port_obs *o) { return o->role == AUDIT_ROLE_SUBMISSION; }
static int is_465(const audit_port_obs *o) { return o->role == AUDIT_ROLE_SUBMISSIONS; }

static int chk_port_closed(const audit_port_obs *o, char *d, size_t dn)
{
    if (o->reachable)
        return 0;
    snprintf(d, dn, "port %u: %s", (unsigned)o->port,
             o->unreachable_why[0] ? o->unreachable_why : "no answer");
    return 1;
}

static int chk_starttls_missing(const audit_port_obs *o, char *d, size_t dn)
{
    if (!o->reachable || !is_mx(o) || o->starttls_offered != AUDIT_NO)
        return 0;
    snprintf(d, dn, "the EHLO reply on port %u has no STARTTLS", (unsigned)o->port);
    return 1;
}

static int chk_sub_starttls_missing(const audit_port_obs *o, char *d, size_t dn)
{
    if (!o->reachable || !is_587(o) || o->starttls_offered != AUDIT_NO)
        return 0;
    snprintf(d, dn, "the EHLO reply on port %u has no STARTTLS", (unsigned)o->port);
    return 1;
}

/* The handshake failed and no other finding explains it better. */
static int tls_failed_plain(const audit_port_obs *o)
{
    return o->reachable && !o->tls_ok && o->client_cert_requested != AUDIT_YES;
}

static int chk_tls_failed(const audit_port_obs *o, char *d, size_t dn)
{
    if (is_465(o) || o->starttls_offered != AUDIT_YES || !tls_failed_plain(o))
        return 0;
    snprintf(d, dn, "after STARTTLS: %s", o->tls_error[0] ? o->tls_error : "handshake failed");
    return 1;
}

static int chk_implicit_failed(const audit_port_obs *o, char *d, size_t dn)
{
    if (!is_465(o) || !tls_failed_plain(o))
        return 0;
    snprintf(d, dn, "TLS on connect to port %u: %s", (unsigned)o->port,
             o->tls_error[0] ? o->tls_error : "handshake failed");
    return 1;
}

static int chk_ccert_required(const audit_port_obs *o, char *d, size_t dn)
{
    if (!o->reachable || o->tls_ok || o->client_cert_requested != AUDIT_YES)
        return 0;
    snprintf(d, dn, "the server asked for a client certificate, got none and ended the "
                    "handshake: %s", o->tls_error[0] ? o->tls_error : "handshake failed");
    return 1;
}

static int chk_auth_before_tls(const audit_port_obs *o, char *d, size_t dn)
{
    if (o->auth_before_tls != AUDIT_YES)
        return 0;
    snprintf(d, dn, "the EHLO reply before STARTTLS on port %u offers AUTH", (unsigned)o->port);
    return 1;
}

static int chk_sub_plain_mail(const audit_port_obs *o, char *d, size_t dn)
{
    if (!is_587(o) || o->mail_without_tls != AUDIT_YES)
        return 0;
    snprintf(d, dn, "MAIL FROM:<> without TLS was answered \"%s\"", o->mail_reply);
    return 1;
}

static int chk_mx_tls_required(const audit_port_obs *o, char *d, size_t dn)
{
    /* 530: RFC 3207 §4's "Must issue a STARTTLS command first" */
    if (!is_mx(o) || o->mail_without_tls != AUDIT_NO || o->mail_code != 530)
        return 0;
    snprintf(d, dn, "MAIL FROM:<> without TLS was answered \"%s\"", o->mail_reply);
    return 1;
}

static int proto_accepted(const audit_port_obs *o, audit_proto p, char *d, size_t dn)
{
    if (o->proto[p] != AUDIT_YES)
        return 0;
    snprintf(d, dn, "a handshake limited to %s succeeded", audit_proto_name(p));
    return 1;
}

static int chk_tls10(const audit_port_obs *o, char *d, size_t dn)
{
    return proto_accepted(o, AUDIT_TLS1_0, d, dn);
}

static int chk_tls11(const audit_port_obs *o, char *d, size_t dn)
{
    return proto_accepted(o, AUDIT_TLS1_1, d, dn);
}

static int chk_tls12_missing(const audit_port_obs *o, char *d, size_t dn)
{
    if (o->proto[AUDIT_TLS1_2] != AUDIT_NO || o->proto[AUDIT_TLS1_3] != AUDIT_YES)
        return 0;
    snprintf(d, dn, "only TLS 1.3 handshakes succeeded");
    return 1;
}

static int chk_tls13_missing(const audit_port_obs *o, char *d, size_t dn)
{
    if (o->proto[AUDIT_TLS1_3] != AUDIT_NO)
        return 0;
    snprintf(d, dn, "offered TLS 1.3, the server chose %s", o->version[0] ? o->version : "less");
    return 1;
}

static int cipher_accepted(const audit_port_obs *o, audit_cipher_class c, char *d, size_t dn)
{
    if (o->ciphers[c] != AUDIT_YES)
        return 0;
    snprintf(d, dn, "a handshake offering only %s suites (%s) succeeded",
             audit_cipher_class_name(c), audit_cipher_class_list(c));
    return 1;
}

static int chk_null(const audit_port_obs *o, char *d, size_t dn)
{
    return cipher_accepted(o, AUDIT_CIPHERS_NULL, d, dn);
}

static int chk_3des(const audit_port_obs *o, char *d, size_t dn)
{
    return cipher_accepted(o, AUDIT_CIPHERS_3DES, d, dn);
}

static int chk_anon(const audit_port_obs *o, char *d, size_t dn)
{
    return cipher_accepted(o, AUDIT_CIPHERS_ANON, d, dn);
}

static int chk_cbc(const audit_port_obs *o, char *d, size_t dn)
{
    return cipher_accepted(o, AUDIT_CIPHERS_CBC, d, dn);
}

static int chk_aead_missing(const audit_port_obs *o, char *d, size_t dn)
{
    if (o->ciphers[AUDIT_CIPHERS_AEAD] != AUDIT_NO)
        return 0;
    snprintf(d, dn, "no handshake with an AEAD suite succeeded (first handshake: %s)",
             o->cipher[0] ? o->cipher : "none");
    return 1;
}

static int chk_group_modern_missing(const audit_port_obs *o, char *d, size_t dn)
{
    if (o->groups[AUDIT_GROUP_X25519] != AUDIT_NO || o->groups[AUDIT_GROUP_P256] != AUDIT_NO)
        return 0;
    size_t used = 0;
    char acc[96] = "";
    for (int i = 0; i < AUDIT_NGROUPS; i++) {
        if (o->groups[i] != AUDIT_YES)
            continue;
        int w = snprintf(acc + used, sizeof acc - used, "%s%s", used ? " " : "",
                         audit_group_name((audit_group)i));
        if (w < 0 || (size_t)w >= sizeof acc - used)
            break;
        used += (size_t)w;
    }
    snprintf(d, dn, "handshakes offering only X25519 or only P-256 did not use them "
                    "(accepted: %s)", acc[0] ? acc : "none of the groups asked");
    return 1;
}

static int chk_key_weak(const audit_port_obs *o, char *d, size_t dn)
{
    if (!o->tls_ok || !o->key_type[0] || o->key_bits <= 0)
        return 0;
    int weak = (!strcmp(o->key_type, "RSA") || !strcmp(o->key_type, "RSA-PSS") ||
                !strcmp(o->key_type, "DSA"))
                   ? o->key_bits < 2048
                   : !strcmp(o->key_type, "EC") ? o->key_bits < 256 : 0;
    if (!weak)
        return 0;
    snprintf(d, dn, "%s key of %d bits", o->key_type, o->key_bits);
    return 1;
}

static int cert_code_is(const audit_port_obs *o, const char *code)
{
    return o->cert_checked && !o->cert_ok && !strcmp(o->cert_code, code);
}

static int cert_detail(const audit_port_obs *o, char *d, size_t dn)
{
    snprintf(d, dn, "%s (%s; names checked: %s)", o->cert_message, o->cert_code,
             o->cert_names[0] ? o->cert_names : "none");
    return 1;
}

static int chk_name_mismatch(const audit_port_obs *o, char *d, size_t dn)
{
    return cert_code_is(o, "name-mismatch") ? cert_detail(o, d, dn) : 0;
}

static int chk_chain_incomplete(const audit_port_obs *o, char *d, size_t dn)
{
    return cert_code_is(o, "missing-intermediate") ? cert_detail(o, d, dn) : 0;
}

static int chk_untrusted(const audit_port_obs *o, char *d, size_t dn)
{
    if (!o->cert_checked || o->cert_ok || !strcmp(o->cert_code, "name-mismatch") ||
        !strcmp(o->cert_code, "missing-intermediate"))
        return 0;
    return cert_detail(o, d, dn);
}

static int chk_ccert_requested(const audit_port_obs *o, char *d, size_t dn)
{
    if (!o->tls_ok || o->client_cert_requested != AUDIT_YES)
        return 0;
    snprintf(d, dn, "the handshake carried a CertificateRequest");
    return 1;
}

static int chk_sub_auth_missing(const audit_port_obs *o, char *d, size_t dn)
{
    if (is_mx(o) || !o->tls_ok || o->auth_after_tls != AUDIT_NO)
        return 0;
    snprintf(d, dn, "the EHLO reply over TLS on port %u has no AUTH", (unsigned)o->port);
    return 1;
}

static int chk_ocsp(const audit_port_obs *o, char *d, size_t dn)
{
    if (!o->tls_ok || o->ocsp_stapled != AUDIT_NO)
        return 0;
    snprintf(d, dn, "asked for a staple (status_request), none came");
    return 1;
}

static int chk_requiretls(const audit_port_obs *o, char *d, size_t dn)
{
    if (!is_mx(o) || !o->tls_ok || o->requiretls != AUDIT_NO)
        return 0;
    snprintf(d, dn, "EHLO over TLS: %s", o->extensions[0] ? o->extensions : "(no extensions)");
    return 1;
}

/* Same order as audit_rule_table (the report order); paired by id. */
static const struct {
    const char *id;
    audit_check_fn fn;
} audit_checks[] = {
    {"port-closed", chk_port_closed},
    {"starttls-missing", chk_starttls_missing},
    {"submission-starttls-missing", chk_sub_starttls_missing},
    {"tls-handshake-failed", chk_tls_failed},
    {"implicit-tls-failed", chk_implicit_failed},
    {"client-cert-required", chk_ccert_required},
    {"auth-before-tls", chk_auth_before_tls},
    {"submission-plaintext-mail", chk_sub_plain_mail},
    {"mx-tls-required", chk_mx_tls_required},
    {"tls1.0-accepted", chk_tls10},
    {"tls1.1-accepted", chk_tls11},
    {"tls1.2-missing", chk_tls12_missing},
    {"tls1.3-missing", chk_tls13_missing},
    {"cipher-null", chk_null},
    {"cipher-3des", chk_3des},
    {"cipher-anonymous", chk_anon},
    {"cipher-cbc", chk_cbc},
    {"cipher-aead-missing", chk_aead_missing},
    {"group-modern-missing", chk_group_modern_missing},
    {"cert-key-weak", chk_key_weak},
    {"cert-name-mismatch", chk_name_mismatch},
    {"cert-chain-incomplete", chk_chain_incomplete},
    {"cert-untrusted", chk_untrusted},
    {"client-cert-requested", chk_ccert_requested},
    {"submission-auth-missing", chk_sub_auth_missing},
    {"ocsp-not-stapled", chk_ocsp},
    {"requiretls-missing", chk_requiretls},
};

_Static_assert(sizeof audit_checks / sizeof audit_checks[0] == NRULES,
               "one check per advice row");

size_t audit_findings(const audit_port_obs *o, audit_finding *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < NRULES; i++) {
        char detail[AUDIT_DETAIL_MAX] = "";
        if (!audit_checks[i].fn(o, detail, sizeof detail))
            continue;
        if (n < max) {
            /* by id, so that a row and its check cannot drift apart */
            const audit_rule *r = audit_rule_find(audit_checks[i].id);
            out[n].rule = r;
            out[n].severity = o->role == AUDIT_ROLE_MX ? r->severity_mx : r->severity_submission;
            snprintf(out[n].detail, sizeof out[n].detail, "%s", detail);
        }
        n++;
        /* A closed port has nothing else to say. */
        if (i == 0)
            break;
    }
    return n;
}

int audit_worst(const audit_finding *f, size_t n)
{
    int worst = -1;
    for (size_t i = 0; i < n; i++)
        if ((int)f[i].severity > worst)
            worst = (int)f[i].severity;
    return worst;
}
