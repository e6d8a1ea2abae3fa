/* test_chain.c - the PEM chain loader on good and bad input
 *
 * Every error must say exactly where (name or name:line of the offending
 * BEGIN line) and what; these tests assert both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/chain.h"
#include "core/fingerprint.h"
#include "mxtls.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

/* parse_ok - must load exactly `want` certificates */
static STACK_OF(X509) *parse_ok(const char *buf, size_t len, int want)
{
    err_rec e;
    err_clear(&e);
    STACK_OF(X509) *c = chain_parse_pem(buf, len, "chain.pem", &e);
    if (!c)
        fail_msg("unexpected error: %s: %s", e.where, e.message);
    assert_int_equal(sk_X509_num(c), want);
    return c;
}

/* expect_err - must fail with this code, exactly this where, a message
 * starting with `msg` */
static void expect_err(const char *buf, size_t len, mxtls_status code, const char *where,
                       const char *msg)
{
    err_rec e;
    err_clear(&e);
    STACK_OF(X509) *c = chain_parse_pem(buf, len, "chain.pem", &e);
    if (c) {
        chain_free(c);
        fail_msg("expected \"%s: %s\", but the chain loaded", where, msg);
    }
    assert_string_equal(e.where, where);
    if (strncmp(e.message, msg, strlen(msg)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", e.message, msg);
    assert_int_equal(e.code, code);
}

static void expect_err_s(const char *buf, mxtls_status code, const char *where, const char *msg)
{
    expect_err(buf, strlen(buf), code, where, msg);
}

/* subject_cn - the subject of a loaded certificate, RFC 2253 */
static void assert_subject(STACK_OF(X509) *c, int i, const char *want)
{
    char *s = fp_name_text(X509_get_subject_name(sk_X509_value(c, i)));
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

#define LEAF_SUBJECT "O=mxtls test,CN=mx1.example.com" /* RFC 2253: last RDN first */
#define INTER_SUBJECT "O=mxtls test,CN=mxtls Test Intermediate CA"

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* cat - concatenation of NULL-terminated strings; caller frees */
static char *cat(const char *first, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        n += strlen(s);
    va_end(ap);
    char *out = malloc(n + 1);
    assert_non_null(out);
    out[0] = '\0';
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        strcat(out, s);
    va_end(ap);
    return out;
}

/* ---- valid input --------------------------------------------------------- */

static void test_chain_order(void **state)
{
    (void)state;
    size_t len;
    char *pem = tu_read_cert("mx1-chain.pem", &len);
    STACK_OF(X509) *c = parse_ok(pem, len, 2);
    assert_subject(c, 0, LEAF_SUBJECT);
    assert_subject(c, 1, INTER_SUBJECT);
    chain_free(c);
    /* Without the final newline. */
    assert_true(pem[len - 1] == '\n');
    c = parse_ok(pem, len - 1, 2);
    chain_free(c);
    free(pem);
    chain_free(NULL); /* accepted */
}

static void test_key_block_first(void **state)
{
    (void)state;
    char *key = tu_read_cert("mx1.key", NULL);
    char *chain = tu_read_cert("mx1-chain.pem", NULL);
    char *all = cat(key, chain, NULL);
    STACK_OF(X509) *c = parse_ok(all, strlen(all), 2);
    assert_subject(c, 0, LEAF_SUBJECT);
    chain_free(c);
    /* a key alone is no chain */
    expect_err_s(key, MXTLS_ERR_PARSE, "chain.pem",
                 "no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")");
    /* key between the certificates (Postfix files hold them in any order) */
    char *leaf = tu_read_cert("mx1.crt", NULL);
    char *inter = tu_read_cert("inter.crt", NULL);
    char *mixed = cat(leaf, key, inter, NULL);
    c = parse_ok(mixed, strlen(mixed), 2);
    assert_subject(c, 1, INTER_SUBJECT);
    chain_free(c);
    free(mixed);
    free(leaf);
    free(inter);
    free(all);
    free(key);
    free(chain);
}

static void test_crlf(void **state)
{
    (void)state;
    size_t len;
    char *pem = tu_read_cert("mx1-chain.pem", &len);
    char *crlf = malloc(len * 2 + 1);
    assert_non_null(crlf);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (pem[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = pem[i];
    }
    crlf[o] = '\0';
    STACK_OF(X509) *c = parse_ok(crlf, o, 2);
    assert_subject(c, 1, INTER_SUBJECT);
    chain_free(c);
    free(pem);
    free(crlf);
}

/* A CRLF file truncated inside the second certificate: line numbers count
 * lines, not CRs. */
static void test_crlf_truncated_line(void **state)
{
    (void)state;
    char *leaf = tu_read_cert("mx1.crt", NULL);
    char *inter = tu_read_cert("inter.crt", NULL);
    size_t leaf_lines = count_lines(leaf);
    /* CRLF version of leaf + the first 3 lines of the intermediate */
    char *mix = cat("junk line\r\n", leaf, NULL);
    size_t cap = strlen(mix) * 2 + strlen(inter) * 2 + 1;
    char *crlf = malloc(cap);
    assert_non_null(crlf);
    size_t o = 0;
    for (const char *p = mix; *p; p++) {
        if (*p == '\n' && (p == mix || p[-1] != '\r'))
            crlf[o++] = '\r';
        crlf[o++] = *p;
    }
    int lines = 0;
    for (const char *p = inter; *p && lines < 3; p++) {
        if (*p == '\n') {
            crlf[o++] = '\r';
            lines++;
        }
        crlf[o++] = *p;
    }
    crlf[o] = '\0';
    char where[64];
    snprintf(where, sizeof where, "chain.pem:%zu", leaf_lines + 2);
    expect_err(crlf, o, MXTLS_ERR_PARSE, where, "PEM block has no END line (truncated file?)");
    free(crlf);
    free(mix);
    free(leaf);
    free(inter);
}

static void test_garbage_between_blocks(void **state)
{
    (void)state;
    char *leaf = tu_read_cert("mx1.crt", NULL);
    char *inter = tu_read_cert("inter.crt", NULL);
    char *all = cat("Subject: this is what openssl x509 -text prints\n\n", leaf,
                    "garbage between\n  blocks\n-----not a begin line\n", inter,
                    "trailing text without newline", NULL);
    STACK_OF(X509) *c = parse_ok(all, strlen(all), 2);
    assert_subject(c, 0, LEAF_SUBJECT);
    assert_subject(c, 1, INTER_SUBJECT);
    chain_free(c);
    free(all);

    /* A damaged third block is reported at its own BEGIN line. */
    size_t ll = count_lines(leaf), il = count_lines(inter);
    char *bad_inter = strdup(inter);
    assert_non_null(bad_inter);
    char *body = strchr(bad_inter, '\n') + 1;
    body[5] = '!';
    body[6] = '!';
    all = cat("x\n", leaf, "y\n", inter, "z\nz\n", bad_inter, NULL);
    char where[64];
    snprintf(where, sizeof where, "chain.pem:%zu", 1 + ll + 1 + il + 2 + 1);
    expect_err_s(all, MXTLS_ERR_PARSE, where, "certificate block cannot be decoded");
    free(all);
    free(bad_inter);
    free(leaf);
    free(inter);
}

static void test_begin_line_trailing_blanks(void **state)
{
    (void)state;
    char *leaf = tu_read_cert("mx1.crt", NULL);
    /* "-----BEGIN CERTIFICATE-----" followed by blanks */
    const char *nl = strchr(leaf, '\n');
    char *all = cat("-----BEGIN CERTIFICATE----- \t", nl, NULL);
    STACK_OF(X509) *c = parse_ok(all, strlen(all), 1);
    chain_free(c);
    free(all);
    free(leaf);
}

/* ---- bad input ----------------------------------------------------------- */

static void test_empty(void **state)
{
    (void)state;
    expect_err("", 0, MXTLS_ERR_PARSE, "chain.pem", "empty file: expected PEM certificates");
    expect_err_s(" \t\r\n\n  \n", MXTLS_ERR_PARSE, "chain.pem",
                 "empty file: expected PEM certificates");
    /* no name: errors name "chain" */
    err_rec e;
    err_clear(&e);
    assert_null(chain_parse_pem("", 0, NULL, &e));
    assert_string_equal(e.where, "chain");
}

static void test_not_pem(void **state)
{
    (void)state;
    expect_err_s("hello world\nthis is not a certificate\n", MXTLS_ERR_PARSE, "chain.pem",
                 "no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")");
    expect_err("\0\0\0binary", 9, MXTLS_ERR_PARSE, "chain.pem", "no PEM certificate found");
    /* the old "X509 CERTIFICATE" and "TRUSTED CERTIFICATE" labels are not taken */
    char *leaf = tu_read_cert("mx1.crt", NULL);
    const char *nl = strchr(leaf, '\n');
    char *trusted = cat("-----BEGIN TRUSTED CERTIFICATE-----", nl, NULL);
    expect_err_s(trusted, MXTLS_ERR_PARSE, "chain.pem", "no PEM certificate found");
    free(trusted);
    free(leaf);
}

static void test_der(void **state)
{
    (void)state;
    X509 *x = tu_load_x509("mx1.crt");
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    assert_int_equal(der[0], 0x30);
    expect_err((const char *)der, (size_t)n, MXTLS_ERR_PARSE, "chain.pem",
               "binary (DER) data where PEM is expected; convert it with \"openssl x509 "
               "-inform DER -in FILE\"");
    /* after leading blank lines it is still DER */
    unsigned char *padded = malloc((size_t)n + 2);
    assert_non_null(padded);
    padded[0] = '\n';
    padded[1] = ' ';
    memcpy(padded + 2, der, (size_t)n);
    expect_err((const char *)padded, (size_t)n + 2, MXTLS_ERR_PARSE, "chain.pem",
               "binary (DER) data");
    free(padded);
    OPENSSL_free(der);
    X509_free(x);
}

static void test_truncated(void **state)
{
    (void)state;
    size_t len;
    char *pem = tu_read_cert("mx1-chain.pem", &len);
    char *leaf = tu_read_cert("mx1.crt", NULL);
    size_t leaf_len = strlen(leaf), leaf_lines = count_lines(leaf);

    /* cut inside the first certificate */
    expect_err(pem, 200, MXTLS_ERR_PARSE, "chain.pem:1",
               "PEM block has no END line (truncated file?)");
    /* BEGIN line only */
    expect_err_s("-----BEGIN CERTIFICATE-----\n", MXTLS_ERR_PARSE, "chain.pem:1",
                 "PEM block has no END line (truncated file?)");
    expect_err_s("-----BEGIN CERTIFICATE-----", MXTLS_ERR_PARSE, "chain.pem:1",
                 "PEM block has no END line");
    /* cut inside the second: the error names the second BEGIN line */
    char where[64];
    snprintf(where, sizeof where, "chain.pem:%zu", leaf_lines + 1);
    expect_err(pem, leaf_len + 100, MXTLS_ERR_PARSE, where, "PEM block has no END line");
    /* cut just before the last END line */
    char *end = strstr(pem + leaf_len, "-----END");
    assert_non_null(end);
    expect_err(pem, (size_t)(end - pem), MXTLS_ERR_PARSE, where, "PEM block has no END line");
    /* a partial END line is no END line */
    expect_err(pem, (size_t)(end - pem) + 4, MXTLS_ERR_PARSE, where,
               "PEM block has no END line");
    /* a BEGIN inside a block ends it without an END */
    char *nested = cat("-----BEGIN CERTIFICATE-----\nMIIB\n", leaf, NULL);
    expect_err_s(nested, MXTLS_ERR_PARSE, "chain.pem:1", "PEM block has no END line");
    free(nested);
    /* a truncated key block before good certificates also stops the load */
    char *key = cat("-----BEGIN PRIVATE KEY-----\nMIGH\n", pem, NULL);
    expect_err_s(key, MXTLS_ERR_PARSE, "chain.pem:1", "PEM block has no END line");
    free(key);
    free(leaf);
    free(pem);
}

static void test_bad_base64(void **state)
{
    (void)state;
    char *leaf = tu_read_cert("mx1.crt", NULL);
    char *inter = tu_read_cert("inter.crt", NULL);

    /* characters outside the base64 alphabet */
    char *bad = strdup(leaf);
    assert_non_null(bad);
    char *body = strchr(bad, '\n') + 1;
    memcpy(body + 10, "!@#$", 4);
    expect_err_s(bad, MXTLS_ERR_PARSE, "chain.pem:1",
                 "certificate block cannot be decoded (damaged base64 or not a certificate)");
    /* the damaged block second: named by its line */
    char *two = cat(inter, bad, NULL);
    char where[64];
    snprintf(where, sizeof where, "chain.pem:%zu", count_lines(inter) + 1);
    expect_err_s(two, MXTLS_ERR_PARSE, where, "certificate block cannot be decoded");
    free(two);
    free(bad);

    /* valid base64 of a truncated DER: lines removed from the middle */
    char *cut = strdup(leaf);
    assert_non_null(cut);
    char *l2 = strchr(strchr(cut, '\n') + 1, '\n') + 1; /* third line */
    char *l5 = l2;
    for (int i = 0; i < 3; i++)
        l5 = strchr(l5, '\n') + 1;
    memmove(l2, l5, strlen(l5) + 1);
    expect_err_s(cut, MXTLS_ERR_PARSE, "chain.pem:1", "certificate block cannot be decoded");
    free(cut);

    /* a base64 body that is not a certificate (a key under a certificate label) */
    char *key = tu_read_cert("mx1.key", NULL);
    const char *kbody = strchr(key, '\n') + 1;
    const char *kend = strstr(key, "-----END");
    char *fake = malloc(strlen(key) + 64);
    assert_non_null(fake);
    snprintf(fake, strlen(key) + 64, "-----BEGIN CERTIFICATE-----\n%.*s-----END CERTIFICATE-----\n",
             (int)(kend - kbody), kbody);
    expect_err_s(fake, MXTLS_ERR_PARSE, "chain.pem:1", "certificate block cannot be decoded");
    free(fake);

    /* a certificate block closed by another label's END line */
    char *mism = strdup(leaf);
    assert_non_null(mism);
    char *e = strstr(mism, "-----END CERTIFICATE-----");
    char *mism2 = malloc(strlen(leaf) + 32);
    assert_non_null(mism2);
    snprintf(mism2, strlen(leaf) + 32, "%.*s-----END PRIVATE KEY-----\n", (int)(e - mism), mism);
    expect_err_s(mism2, MXTLS_ERR_PARSE, "chain.pem:1", "certificate block cannot be decoded");
    free(mism2);
    free(mism);
    free(key);
    free(leaf);
    free(inter);
}

static void test_chain_length_limit(void **state)
{
    (void)state;
    char *leaf = tu_read_cert("mx1.crt", NULL);
    size_t ll = strlen(leaf), lines = count_lines(leaf);
    char *buf = malloc(ll * (MXTLS_MAX_CHAIN + 2) + 1);
    assert_non_null(buf);
    buf[0] = '\0';
    for (int i = 0; i < MXTLS_MAX_CHAIN; i++)
        memcpy(buf + ll * (size_t)i, leaf, ll + 1);
    /* exactly MXTLS_MAX_CHAIN (16): fine */
    assert_int_equal(MXTLS_MAX_CHAIN, 16);
    STACK_OF(X509) *c = parse_ok(buf, ll * MXTLS_MAX_CHAIN, MXTLS_MAX_CHAIN);
    chain_free(c);
    /* 17: refused at the 17th BEGIN line */
    memcpy(buf + ll * MXTLS_MAX_CHAIN, leaf, ll + 1);
    char where[64];
    snprintf(where, sizeof where, "chain.pem:%zu", lines * MXTLS_MAX_CHAIN + 1);
    expect_err(buf, ll * (MXTLS_MAX_CHAIN + 1), MXTLS_ERR_LIMIT, where,
               "more than 16 certificates: a presented chain is not that long");
    /* 16 certificates and key blocks between them: keys do not count */
    char *key = tu_read_cert("mx1.key", NULL);
    size_t kl = strlen(key);
    char *mixed = malloc((ll + kl) * MXTLS_MAX_CHAIN + 1);
    assert_non_null(mixed);
    size_t o = 0;
    for (int i = 0; i < MXTLS_MAX_CHAIN; i++) {
        memcpy(mixed + o, key, kl);
        o += kl;
        memcpy(mixed + o, leaf, ll);
        o += ll;
    }
    c = parse_ok(mixed, o, MXTLS_MAX_CHAIN);
    chain_free(c);
    free(mixed);
    free(key);
    free(buf);
    free(leaf);
}

static void test_input_size_limit(void **state)
{
    (void)state;
    size_t len;
    char *pem = tu_read_cert("mx1-chain.pem", &len);
    char *buf = malloc(MXTLS_MAX_INPUT_FILE + 2);
    assert_non_null(buf);
    memcpy(buf, pem, len);
    memset(buf + len, '\n', MXTLS_MAX_INPUT_FILE + 1 - len);
    /* exactly 1 MiB: loads */
    STACK_OF(X509) *c = parse_ok(buf, MXTLS_MAX_INPUT_FILE, 2);
    chain_free(c);
    /* one byte more: refused before parsing */
    expect_err(buf, MXTLS_MAX_INPUT_FILE + 1, MXTLS_ERR_LIMIT, "chain.pem",
               "input is larger than the limit of 1048576 bytes");
    free(buf);
    free(pem);
}

/* ---- through the public API --------------------------------------------- */

static void test_public_api_errors(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    assert_non_null(ctx);
    assert_non_null(ev);
    const char *trunc = "junk\n-----BEGIN CERTIFICATE-----\nMIIB\n";
    assert_int_equal(mxtls_evidence_set_chain_pem(ctx, ev, trunc, strlen(trunc), "srv.pem"),
                     MXTLS_ERR_PARSE);
    assert_int_equal(mxtls_ctx_error_code(ctx), MXTLS_ERR_PARSE);
    assert_string_equal(mxtls_ctx_error_where(ctx), "srv.pem:2");
    assert_string_equal(mxtls_ctx_error(ctx), "PEM block has no END line (truncated file?)");

    /* a failed load keeps the previous chain */
    size_t len;
    char *pem = tu_read_cert("mx1-chain.pem", &len);
    assert_int_equal(mxtls_evidence_set_chain_pem(ctx, ev, pem, len, "good.pem"), MXTLS_OK);
    assert_int_equal(mxtls_evidence_set_chain_pem(ctx, ev, "", 0, "empty.pem"),
                     MXTLS_ERR_PARSE);
    assert_string_equal(mxtls_ctx_error_where(ctx), "empty.pem");
    assert_int_equal(mxtls_evidence_set_domain(ctx, ev, "example.com"), MXTLS_OK);
    mxtls_result *r = mxtls_evaluate(ctx, ev, MXTLS_LEVEL_MAY);
    assert_non_null(r);
    assert_int_equal(mxtls_result_verdict(r), MXTLS_VERDICT_PASS);
    mxtls_result_free(r);

    /* fingerprints use the same loader */
    assert_null(mxtls_fingerprint_pem(ctx, "hello\n", 6, "fp.pem", "sha256", 0));
    assert_string_equal(mxtls_ctx_error_where(ctx), "fp.pem");
    assert_int_equal(mxtls_ctx_error_code(ctx), MXTLS_ERR_PARSE);
    char *fp = mxtls_fingerprint_pem(ctx, pem, len, "fp.pem", "sha256", 0);
    assert_non_null(fp);
    assert_int_equal(strlen(fp), 32 * 3 - 1);
    free(fp);
    assert_null(mxtls_fingerprint_pem(ctx, pem, len, "fp.pem", "sha512", 0));
    assert_string_equal(mxtls_ctx_error_where(ctx), "digest");

    free(pem);
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_order),
        cmocka_unit_test(test_key_block_first),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_crlf_truncated_line),
        cmocka_unit_test(test_garbage_between_blocks),
        cmocka_unit_test(test_begin_line_trailing_blanks),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_not_pem),
        cmocka_unit_test(test_der),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_base64),
        cmocka_unit_test(test_chain_length_limit),
        cmocka_unit_test(test_input_size_limit),
        cmocka_unit_test(test_public_api_errors),
    };
    return cmocka_run_group_tests(tests, NULL, tu_group_teardown);
}
