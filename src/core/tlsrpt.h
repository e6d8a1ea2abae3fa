/* tlsrpt.h - SMTP TLS Reporting (RFC 8460): the _smtp._tls TXT record
 *
 * Internal to the library; pure (sans-I/O). Bytes in, the reporting URIs or a
 * list of errors out, each naming a rule and a position (core/recerr.h). Rules
 * and rule codes: docs/mta-sts.md. */
#ifndef MXTLS_CORE_TLSRPT_H
#define MXTLS_CORE_TLSRPT_H

#include <stddef.h>

#include "core/base.h"
#include "core/recerr.h"

/* At most this many rua URIs are kept; more is an error (tlsrpt-rua-count).
 * A TXT record of 65535 bytes could hold thousands; no reporter sends to
 * more than a handful. */
#define TLSRPT_MAX_RUA 32u

typedef struct tlsrpt_record {
    int valid;          /* 1: usable; 0: the domain does not request reports */
    strlist rua;        /* the URIs in order, as written (owned) */
    size_t extensions;  /* extension fields (ignored) */
    recerr_list errors;
} tlsrpt_record;

/* tlsrpt_parse - one TXT record's bytes (character-strings joined); errors on
 * line 1. Returns MXTLS_OK (see out->valid) or MXTLS_ERR_NOMEM. out is
 * overwritten; free with tlsrpt_free. */
mxtls_status tlsrpt_parse(const char *buf, size_t len, tlsrpt_record *out);

/* tlsrpt_select - the TXT RRset of _smtp._tls.DOMAIN: records that do not
 * begin with "v=TLSRPTv1" (then ';', WSP or the end) are discarded, exactly
 * one must remain (RFC 8460 §3; rules tlsrpt-none / tlsrpt-multiple) and it
 * is parsed. Errors carry the record's 1-based index as line; *which (may be
 * NULL) the 0-based index used or (size_t)-1. */
mxtls_status tlsrpt_select(const char *const *recs, const size_t *lens, size_t n,
                           tlsrpt_record *out, size_t *which);

/* tlsrpt_is_tlsrpt - does the record begin with "v=TLSRPTv1" (then ';', WSP, end)? */
int tlsrpt_is_tlsrpt(const char *buf, size_t len);

/* tlsrpt_uri_check - one rua URI: "mailto:" addr-spec [ "?" hfields ] or
 * "https://" host [":" port] [path] [? query]; RFC 3986 characters only, with
 * valid %-escapes, no unencoded "," or "!" (RFC 8460 §3). 0 if acceptable,
 * else -1 with the rule in *rule, the 0-based offset of the fault in *at and a
 * reason in why. */
int tlsrpt_uri_check(const char *u, size_t n, const char **rule, size_t *at, char *why,
                     size_t whysz);

void tlsrpt_free(tlsrpt_record *r);

#endif
