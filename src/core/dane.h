/* dane.h - DANE TLSA records and their verification with OpenSSL's DANE code
 *
 * Pure: a chain and TLSA records in, a verdict out. The same function judges a
 * chain recorded by a live probe and one given as a file, because OpenSSL's
 * DANE verifier runs on an X509_STORE_CTX (X509_STORE_CTX_set0_dane) without
 * a handshake. SMTP rules: RFC 7672 (usages 2 and 3 only, DANE-EE without
 * name or validity checks, DANE-TA with name checks). */
#ifndef MXTLS_CORE_DANE_H
#define MXTLS_CORE_DANE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "core/base.h"

#define DANE_MAX_RECORDS 64        /* TLSA records per RRset that are considered */
#define DANE_MAX_DATA 8192         /* association data bytes (a full certificate fits) */
#define DANE_MAX_NAMES 8           /* reference names for DANE-TA name checks */

typedef struct dane_rr {
    uint8_t usage, selector, mtype;
    unsigned char *data;
    size_t len;
} dane_rr;

/* dane_rr_parse - "3 1 1 0A1B..." (zone-file presentation: three numbers and hex,
 * blanks inside the hex allowed) into rr; 0, or -1 with where/why in e */
int dane_rr_parse(const char *text, dane_rr *rr, err_rec *e);
/* dane_rr_set - copy binary fields; 0 or -1 (NOMEM / too long) */
int dane_rr_set(dane_rr *rr, uint8_t usage, uint8_t selector, uint8_t mtype,
                const unsigned char *data, size_t len);
void dane_rr_clear(dane_rr *rr);
/* dane_rr_usable - can an SMTP client use it? (RFC 7672 §3.1.3: usages 2 and 3,
 * selector 0/1, matching type 0/1/2 with the right digest length). NULL when
 * usable, else why not. */
const char *dane_rr_unusable_why(const dane_rr *rr);
/* dane_rr_text - presentation form "3 1 1 hex" (lower-case hex); caller frees */
char *dane_rr_text(const dane_rr *rr);
/* dane_usage_name - "DANE-EE", "DANE-TA", "PKIX-EE", "PKIX-TA", "unknown" */
const char *dane_usage_name(uint8_t usage);

typedef struct dane_result {
    size_t usable;        /* usable records among those given */
    int authenticated;    /* a usable record matched and every check passed */
    int match_index;      /* index of the record that matched, -1 */
    int match_depth;      /* chain depth of the certificate it matched, -1 */
    const char *code;     /* "dane-ee", "dane-ta" when authenticated; else
                             "tlsa-unusable", "tlsa-mismatch", "name-mismatch", "expired",
                             "not-yet-valid", "dane-error" */
    char message[768];
} dane_result;

/* dane_verify - authenticate chain (leaf first, as presented) with the usable
 * records among rrs. base: the TLSA base domain (also the first reference
 * name for DANE-TA); names: further reference names (RFC 7672 §3.2.3: the MX
 * hostname / next-hop domain). at: validation time, 0 = now. Errors (out of
 * memory, OpenSSL failures) return -1 with e set; a failed authentication is
 * a result, not an error. */
int dane_verify(STACK_OF(X509) *chain, const dane_rr *rrs, size_t n, const char *base,
                const char *const *names, size_t nnames, time_t at, dane_result *out,
                err_rec *e);

/* dane_association - the association data a record (selector, mtype) would
 * carry for cert: DER of the certificate (0) or its SubjectPublicKeyInfo (1),
 * as is (mtype 0) or hashed with SHA-256 (1) / SHA-512 (2). Caller frees. */
unsigned char *dane_association(X509 *cert, uint8_t selector, uint8_t mtype, size_t *len);

#endif
