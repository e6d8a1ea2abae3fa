/* mtasts.h - MTA-STS (RFC 8461): the _mta-sts TXT record, the policy text and
 * MX pattern matching
 *
 * Internal to the library; pure (sans-I/O): bytes in, a parsed record or a list
 * of errors out, each naming a rule and a position (core/recerr.h). The rules,
 * rule codes and the decisions where the RFC is silent are in docs/mta-sts.md.
 *
 * Typical use by a fetcher:
 *
 *   mtasts_txt txt;                       TXT RRset of _mta-sts.DOMAIN
 *   mtasts_txt_select(recs, lens, n, &txt, NULL);
 *   if (!txt.valid) -> no MTA-STS (errors say why)
 *   ... fetch https://mta-sts.DOMAIN/.well-known/mta-sts.txt, at most
 *       MTASTS_POLICY_MAX bytes ...
 *   mtasts_policy pol;
 *   mtasts_policy_parse(body, len, &pol);
 *   if (pol.valid) mtasts_mx_match(&pol.mx, "mx1.example.com", &which);
 *   mtasts_policy_free(&pol); mtasts_txt_free(&txt);
 */
#ifndef MXTLS_CORE_MTASTS_H
#define MXTLS_CORE_MTASTS_H

#include <stddef.h>

#include "core/base.h"
#include "core/recerr.h"

/* The policy body cap. The fetcher stops reading at this size (a larger
 * response is no policy); the parser rejects a longer buffer as a whole
 * (rule policy-too-large) and is safe for any length. RFC 8461 sets no limit;
 * 64 KiB is over a hundred times any real policy. */
#define MTASTS_POLICY_MAX (64u * 1024u)
/* A policy line longer than this (terminator not counted) is an error
 * (policy-line-too-long): the longest meaningful line, "mx: *." and a
 * 253-byte name, is far shorter. */
#define MTASTS_POLICY_MAX_LINE 1024u
/* Largest max_age (RFC 8461 §3.2: "maximum value of 31557600"). */
#define MTASTS_MAX_AGE_LIMIT 31557600LL
/* id: 1*32(ALPHA / DIGIT) (RFC 8461 §3.1). */
#define MTASTS_ID_MAX 32u

typedef enum mtasts_mode {
    MTASTS_MODE_UNSET = 0, /* absent or invalid */
    MTASTS_MODE_ENFORCE,
    MTASTS_MODE_TESTING,
    MTASTS_MODE_NONE
} mtasts_mode;

/* mtasts_mode_name - "enforce", "testing", "none"; NULL for UNSET */
const char *mtasts_mode_name(mtasts_mode m);
/* mtasts_mode_parse - the mode named exactly (case-sensitive); UNSET if none */
mtasts_mode mtasts_mode_parse(const char *s);

/* ---- the TXT record (RFC 8461 §3.1) ----------------------------------- */

typedef struct mtasts_txt {
    int valid;                    /* 1: a usable record; 0: no policy (errors say why) */
    char id[MTASTS_ID_MAX + 1];   /* the id when valid, else "" */
    size_t extensions;            /* number of extension fields (ignored) */
    recerr_list errors;
} mtasts_txt;

/* mtasts_txt_parse - one TXT record's bytes (its character-strings already
 * joined, RFC 7208 §3.3 style); errors are on line 1. Returns MXTLS_OK (see
 * out->valid) or MXTLS_ERR_NOMEM. out is overwritten; free with mtasts_txt_free. */
mxtls_status mtasts_txt_parse(const char *buf, size_t len, mtasts_txt *out);

/* mtasts_txt_select - the TXT RRset of _mta-sts.DOMAIN: records that do not
 * begin with "v=STSv1" (followed by ';', white space or the end) are
 * discarded; exactly one must remain (rule txt-none / txt-multiple otherwise,
 * RFC 8461 §3.1), and it is parsed. Errors carry the record's 1-based index
 * in the RRset as their line. *which (may be NULL) receives the index (0-based)
 * of the record used, or (size_t)-1. */
mxtls_status mtasts_txt_select(const char *const *recs, const size_t *lens, size_t n,
                               mtasts_txt *out, size_t *which);

/* mtasts_txt_is_sts - does this record begin with "v=STSv1" (then ';', WSP or end)? */
int mtasts_txt_is_sts(const char *buf, size_t len);

void mtasts_txt_free(mtasts_txt *t);

/* ---- the policy (RFC 8461 §3.2) -------------------------------------- */

typedef struct mtasts_policy {
    int valid;            /* 1: every rule holds; 0: no policy (errors say why) */
    int has_version;      /* a valid "version: STSv1" was seen */
    mtasts_mode mode;     /* UNSET when absent or invalid */
    long long max_age;    /* -1 when absent or invalid */
    strlist mx;           /* valid mx patterns as written, in order (owned) */
    size_t lines;         /* lines seen */
    recerr_list errors;
} mtasts_policy;

/* mtasts_policy_parse - the policy text as fetched. Returns MXTLS_OK (see
 * out->valid) or MXTLS_ERR_NOMEM. out is overwritten; free with
 * mtasts_policy_free. Valid policies have a mode, a max_age and, unless the
 * mode is none, at least one mx pattern. */
mxtls_status mtasts_policy_parse(const char *buf, size_t len, mtasts_policy *out);
void mtasts_policy_free(mtasts_policy *p);

/* ---- MX matching (RFC 8461 §4.1) ------------------------------------- */

/* mtasts_mx_pattern_valid - ["*."] Domain (RFC 5321 LDH labels of 1-63
 * bytes, at most 253 bytes, one trailing dot allowed); 0 if valid, else a
 * short reason is written to why (size whysz) */
int mtasts_mx_pattern_valid(const char *p, size_t n, char *why, size_t whysz);

/* mtasts_mx_pattern_match - does the pattern cover host? "*.example.com"
 * covers exactly one label ("a.example.com", never "example.com" or
 * "a.b.example.com"); comparison is case-insensitive and one trailing dot is
 * removed from each side. 1 match, 0 not. */
int mtasts_mx_pattern_match(const char *pattern, const char *host);

/* mtasts_mx_match - the first pattern of the list that covers host: its index
 * in *which (may be NULL) and 1; 0 if none does. */
int mtasts_mx_match(const strlist *patterns, const char *host, size_t *which);

#endif
