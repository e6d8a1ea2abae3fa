/* fuzz_tlsa - TLSA records: presentation text, raw RDATA, and OpenSSL's DANE
 * verifier fed with records from the peer's DNS
 *
 * Byte 0 picks the mode (mod 3); the rest is the input:
 *   0  presentation text ("3 1 1 0a1b...", up to the first NUL): dane_rr_parse;
 *      when it parses, dane_rr_text and a reparse give identical fields and
 *      data, and the text is exactly "U S M " plus lower-case hex;
 *   1  raw RDATA (usage, selector, mtype, data as on the wire): dane_rr_set
 *      and dane_rr_unusable_why, which must agree with RFC 7672 §3.1.3's rules
 *      computed here independently; then text -> parse round trip;
 *   2  up to 4 records [usage selector mtype len_hi len_lo data...] verified
 *      with dane_verify against a fixed self-signed certificate: OpenSSL
 *      decodes "x 0 0" / "x 1 0" data as certificates / public keys, which
 *      is DNS-controlled input. The result must be consistent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/dane.h"

#define CHECK(c)                                                                             \
    do {                                                                                     \
        if (!(c)) {                                                                          \
            fprintf(stderr, "fuzz_tlsa: invariant failed: %s (line %d)\n", #c, __LINE__);    \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

#define FUZZ_MAX_TEXT (2 * DANE_MAX_DATA + 4096)
#define FUZZ_VERIFY_AT 1893456000 /* 2030-01-01: inside the certificate's validity */

/* A self-signed P-256 certificate for mx.fuzz.example (CA:TRUE, so it can
 * also be its own DANE-TA), valid 2026-11-23 .. 2054-04-10. */
static const char fuzz_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBpzCCAU2gAwIBAgIUNESlN4NjD581XO5H15m4XG2Kb58wCgYIKoZIzj0EAwIw\n"
    "GjEYMBYGA1UEAwwPbXguZnV6ei5leGFtcGxlMCAXDTI2MTEyMzE0NTM1M1oYDzIw\n"
    "NTQwNDEwMTQ1MzUzWjAaMRgwFgYDVQQDDA9teC5mdXp6LmV4YW1wbGUwWTATBgcq\n"
    "hkjOPQIBBggqhkjOPQMBBwNCAAQ38+AqkTQiHocOZOKBrRiaoa1aCZf/KazEZPTV\n"
    "2dS44sQs9dwgrZTJ9lryIcOtUv9JWuvxhgxCXnJwYWOCsCLzo28wbTAdBgNVHQ4E\n"
    "FgQUcwvF2v9Lmf6buyEH18DxheCN4xMwHwYDVR0jBBgwFoAUcwvF2v9Lmf6buyEH\n"
    "18DxheCN4xMwDwYDVR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgg9teC5mdXp6LmV4\n"
    "YW1wbGUwCgYIKoZIzj0EAwIDSAAwRQIgIpouS9kujobOgC865obwIqUxmQNxAxVr\n"
    "oN3ixedwj+gCIQCvLalxMXbTTDrR6hry7THC3QcZ6oNH52hZxhdF10ztmA==\n"
    "-----END CERTIFICATE-----\n";

static STACK_OF(X509) *fuzz_chain;

/* fuzz_get_chain - the fixed chain, built once per process */
static STACK_OF(X509) *fuzz_get_chain(void)
{
    if (fuzz_chain)
        return fuzz_chain;
    BIO *b = BIO_new_mem_buf(fuzz_cert_pem, (int)sizeof fuzz_cert_pem - 1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    CHECK(x != NULL);
    fuzz_chain = sk_X509_new_null();
    CHECK(fuzz_chain && sk_X509_push(fuzz_chain, x) == 1);
    return fuzz_chain;
}

/* fuzz_usable - RFC 7672 §3.1.3 and RFC 6698 §2.1, restated independently */
static int fuzz_usable(const dane_rr *rr)
{
    if (rr->usage != 2 && rr->usage != 3)
        return 0;
    if (rr->selector > 1 || rr->mtype > 2)
        return 0;
    if (rr->mtype == 1)
        return rr->len == 32;
    if (rr->mtype == 2)
        return rr->len == 64;
    if (rr->len == 0)
        return 0;
    /* full data: exactly one DER certificate (with a usable key) or SPKI */
    const unsigned char *p = rr->data;
    int ok;
    if (rr->selector == 0) {
        X509 *x = d2i_X509(NULL, &p, (long)rr->len);
        ok = x && p == rr->data + rr->len && X509_get0_pubkey(x);
        X509_free(x);
    } else {
        EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)rr->len);
        ok = k && p == rr->data + rr->len;
        EVP_PKEY_free(k);
    }
    ERR_clear_error();
    return ok;
}

/* fuzz_roundtrip - text form of rr, reparsed, is rr again */
static void fuzz_roundtrip(const dane_rr *rr)
{
    char *t = dane_rr_text(rr);
    CHECK(t != NULL);
    char head[16];
    int hl = snprintf(head, sizeof head, "%u %u %u ", rr->usage, rr->selector, rr->mtype);
    CHECK(strncmp(t, head, (size_t)hl) == 0);
    CHECK(strlen(t) == (size_t)hl + 2 * rr->len);
    for (size_t i = (size_t)hl; t[i]; i++)
        CHECK((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f'));
    dane_rr back;
    err_rec e;
    err_clear(&e);
    int rc = dane_rr_parse(t, &back, &e);
    if (rr->len == 0) {
        /* "3 1 1 " has no association data: not a valid presentation form */
        CHECK(rc == -1 && e.code == MXTLS_ERR_PARSE);
    } else {
        CHECK(rc == 0);
        CHECK(back.usage == rr->usage && back.selector == rr->selector &&
              back.mtype == rr->mtype && back.len == rr->len);
        CHECK(memcmp(back.data, rr->data, rr->len) == 0);
        CHECK((dane_rr_unusable_why(&back) == NULL) == (dane_rr_unusable_why(rr) == NULL));
        dane_rr_clear(&back);
    }
    free(t);
}

/* fuzz_text - mode 0 */
static void fuzz_text(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_TEXT)
        size = FUZZ_MAX_TEXT;
    char *s = malloc(size + 1);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    dane_rr rr;
    err_rec e;
    err_clear(&e);
    if (dane_rr_parse(s, &rr, &e) == 0) {
        CHECK(rr.data != NULL && rr.len >= 1 && rr.len <= DANE_MAX_DATA);
        CHECK(e.code == MXTLS_OK);
        CHECK((dane_rr_unusable_why(&rr) == NULL) == fuzz_usable(&rr));
        fuzz_roundtrip(&rr);
        dane_rr_clear(&rr);
    } else {
        CHECK(e.code == MXTLS_ERR_PARSE || e.code == MXTLS_ERR_LIMIT ||
              e.code == MXTLS_ERR_NOMEM);
        CHECK(e.message[0] != '\0');
        CHECK(strcmp(e.where, "TLSA") == 0);
        CHECK(rr.data == NULL);
    }
    free(s);
}

/* fuzz_rdata - mode 1 */
static void fuzz_rdata(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    dane_rr rr = {0};
    size_t len = size - 3;
    int rc = dane_rr_set(&rr, data[0], data[1], data[2], data + 3, len);
    if (len > DANE_MAX_DATA) {
        CHECK(rc == -1 && rr.data == NULL);
        return;
    }
    CHECK(rc == 0);
    CHECK(rr.usage == data[0] && rr.selector == data[1] && rr.mtype == data[2] && rr.len == len);
    CHECK(len == 0 || memcmp(rr.data, data + 3, len) == 0);
    const char *why = dane_rr_unusable_why(&rr);
    CHECK((why == NULL) == fuzz_usable(&rr));
    CHECK(why == NULL || why[0] != '\0');
    CHECK(dane_usage_name(rr.usage) != NULL);
    fuzz_roundtrip(&rr);
    /* dane_rr_set replaces: the old data is freed, not leaked */
    CHECK(dane_rr_set(&rr, 3, 1, 1, data, size < 32 ? size : 32) == 0);
    dane_rr_clear(&rr);
    CHECK(rr.data == NULL && rr.len == 0);
}

/* fuzz_verify - mode 2 */
static void fuzz_verify(const uint8_t *data, size_t size)
{
    dane_rr rrs[4];
    size_t n = 0, off = 0;
    memset(rrs, 0, sizeof rrs);
    while (n < 4 && off + 5 <= size) {
        size_t len = (size_t)data[off + 3] << 8 | data[off + 4];
        if (len > size - off - 5)
            len = size - off - 5;
        if (len > DANE_MAX_DATA)
            len = DANE_MAX_DATA;
        CHECK(dane_rr_set(&rrs[n], data[off], data[off + 1], data[off + 2], data + off + 5,
                          len) == 0);
        n++;
        off += 5 + len;
    }
    size_t usable = 0;
    for (size_t i = 0; i < n; i++)
        usable += fuzz_usable(&rrs[i]);
    dane_result r;
    err_rec e;
    err_clear(&e);
    const char *names[1] = {"other.fuzz.example"};
    int rc = dane_verify(fuzz_get_chain(), rrs, n, "mx.fuzz.example", names, 1,
                         (time_t)FUZZ_VERIFY_AT, &r, &e);
    if (rc != 0) {
        CHECK(e.code != MXTLS_OK && e.message[0]);
    } else {
        CHECK(r.usable == usable);
        CHECK(r.code != NULL && r.message[0] != '\0');
        if (r.authenticated) {
            CHECK(!strcmp(r.code, "dane-ee") || !strcmp(r.code, "dane-ta"));
            CHECK(r.match_depth == 0); /* a one-certificate chain */
            CHECK(r.match_index >= 0 && (size_t)r.match_index < n);
            CHECK(fuzz_usable(&rrs[r.match_index]));
            CHECK(rrs[r.match_index].usage == (!strcmp(r.code, "dane-ee") ? 3 : 2));
        } else {
            CHECK(r.match_index == -1);
            CHECK(usable > 0 || !strcmp(r.code, "tlsa-unusable"));
        }
    }
    for (size_t i = 0; i < n; i++)
        dane_rr_clear(&rrs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: fuzz_text(data + 1, size - 1); break;
    case 1: fuzz_rdata(data + 1, size - 1); break;
    default: fuzz_verify(data + 1, size - 1); break;
    }
    return 0;
}
