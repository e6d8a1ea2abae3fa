/* names.h - DNS names: normalisation, presented identities, matching via OpenSSL */
#ifndef MXTLS_CORE_NAMES_H
#define MXTLS_CORE_NAMES_H

#include <openssl/x509.h>

#include "core/base.h"

/* names_normalize - reference-name form: A-labels (libidn2), lower case, one
 * trailing dot removed, LDH syntax checked (RFC 1123 §2.1; '_' is allowed since
 * it occurs in real MX names). A leading '.' is kept when allow_dot_prefix
 * (Postfix ".example.com" suffix references). Returns a new string or NULL
 * with the error in e. */
char *names_normalize(const char *in, int allow_dot_prefix, err_rec *e);

/* names_sni - RFC 6066 §3: the name a ClientHello's server_name carries, a
 * host name in names_normalize's form and never an IPv4 or IPv6 address.
 * Returns a new string or NULL with the error in e. */
char *names_sni(const char *in, err_rec *e);

/* names_to_unicode - U-label form of an A-label name, or NULL if it has no
 * xn-- labels or cannot be converted (display only). Caller frees. */
char *names_to_unicode(const char *alabel);

/* NAMES_MAX_PRESENTED - bytes of one presented name that are kept; a longer
 * one (no DNS name is longer than 253) is cut there and ends in
 * "...(N bytes)", in text and JSON alike (docs/json.md). */
#define NAMES_MAX_PRESENTED 255
/* NAMES_MAX_SHOWN - bytes of an invalid name quoted in an error message */
#define NAMES_MAX_SHOWN 64

/* presented_ids - the identities a certificate presents, for reports.
 * Each string is valid UTF-8: the certificate's bytes where they are UTF-8,
 * U+FFFD for each byte that is not (NUL included), cut at
 * NAMES_MAX_PRESENTED. Control characters are kept: text output escapes them
 * (sb_put_display), JSON output escapes them as JSON does. */
typedef struct presented_ids {
    strlist dns;  /* SAN dNSName */
    strlist ip;   /* SAN iPAddress, text form */
    strlist cn;   /* subject CN(s) */
} presented_ids;

mxtls_status names_presented(X509 *cert, presented_ids *out);
void presented_ids_free(presented_ids *p);
/* names_has_dns_san - 1 the certificate has a dNSName SAN, 0 not, -1 out of memory */
int names_has_dns_san(X509 *cert);

/* Name matching. Every function asks OpenSSL (X509_check_host) and never
 * allows partial wildcards ("f*.example.com"): a wildcard is the whole leftmost
 * label and matches exactly one label. A reference starting with '.' matches
 * any name below it (Postfix "dot-nexthop" / ".example.com"). On a match,
 * *matched receives the presented name that matched (caller frees; NULL if
 * that copy could not be made). They return 1 on a match, 0 without one, and
 * -1 when OpenSSL could not compare (out of memory). */

/* names_match_default - RFC 6125 / Postfix: dNSName SANs; the subject CN only
 * when the certificate has no dNSName (pinned here, not left to OpenSSL's
 * default, which changes in OpenSSL 4). */
int names_match_default(X509 *cert, const char *ref, char **matched);
/* names_match_san - dNSName SANs only */
int names_match_san(X509 *cert, const char *ref, char **matched);
/* names_match_cn - subject CN(s) only, whatever the SANs say (Cisco ESA) */
int names_match_cn(X509 *cert, const char *ref, char **matched);
/* names_match_ip - iPAddress SANs against an address */
int names_match_ip(X509 *cert, const char *ip, char **matched);

/* names_escape - display form of untrusted bytes (every byte outside
 * printable ASCII, and the backslash, as \xNN); caller frees */
char *names_escape(const unsigned char *s, size_t n);
/* names_presented_text - the stored form of a presented name (see
 * presented_ids); caller frees, NULL when memory is short */
char *names_presented_text(const unsigned char *s, size_t n);

#endif
