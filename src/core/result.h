/* result.h - a verdict with its reasons, advice and the evidence it rests on */
#ifndef MXTLS_CORE_RESULT_H
#define MXTLS_CORE_RESULT_H

#include "core/base.h"
#include "core/names.h"

/* Reason kinds: the first "decisive" reason explains the verdict; "warning"
 * is a risk that did not decide this verdict; "info" is context. */
typedef struct reason {
    char *code;     /* stable machine code, docs/json.md */
    char *message;  /* sentence */
    const char *kind;   /* "decisive", "warning", "info" */
    char *status;   /* RFC 3463 enhanced status a Postfix sender would log, or NULL */
} reason;

/* A reference identity: a name, which presented identities it is compared
 * with ("dns-or-cn": dNSNames, CN only without dNSNames; "dns"; "cn"), and
 * where the name came from ("hostname", "nexthop", "domain", "ptr", ...). */
typedef struct refid {
    char *name;
    const char *against;
    const char *source;
} refid;

typedef struct chain_cert {
    char *subject, *issuer, *not_before, *not_after, *sha256;
} chain_cert;

/* chain_cert_fill - x's texts as reports show them (RFC 2253 names, RFC 3339
 * times, SHA-256); MXTLS_ERR_NOMEM leaves what was made, for chain_cert_clear */
mxtls_status chain_cert_fill(chain_cert *c, X509 *x);
/* chain_cert_clear - free the texts; the struct is empty again */
void chain_cert_clear(chain_cert *c);

struct mxtls_result {
    mxtls_level level;
    mxtls_verdict verdict;
    mxtls_security security;
    reason *reasons;
    size_t nreasons;
    strlist advice;
    refid *refs;           /* reference identities of this level */
    size_t nrefs;
    char *matched_ref, *matched_pres;

    /* evidence snapshot, so a result is self-contained for reports */
    char *domain;
    char *host;            /* the host that presented the chain */
    strlist mx;
    int mx_secure;
    char *ip;
    strlist ptr;
    unsigned char *ptr_confirmed;
    strlist routes;
    int no_tls;            /* no TLS session: not offered, or failed */
    char *tls_failed;      /* why TLS failed, or NULL */
    mxtls_revocation_status revocation;
    char *revocation_detail;
    mxtls_tlsa_state tlsa_state;
    char *tlsa_base;
    strlist tlsa;          /* records, presentation form */
    strlist tlsa_unusable; /* parallel: why a record is unusable, "" when usable */
    int dane_match_index, dane_match_depth; /* -1 when nothing matched */
    presented_ids presented;
    chain_cert *chain;
    size_t nchain;
    int pkix_checked;
    int pkix_valid;
    char *pkix_code, *pkix_message;
    int pkix_depth;        /* in the chain OpenSSL built */
    char *pkix_bad_subject, *pkix_bad_not_before, *pkix_bad_not_after;
    int pkix_bad_presented; /* the certificate at fault was sent by the server */
    char *fp_digest, *fp_cert, *fp_pubkey;
    /* An allocation failed while the result was built (result_reason,
     * result_ref, result_advice, or a copy the builder made): the result is
     * incomplete, and mxtls_evaluate returns NULL with MXTLS_ERR_NOMEM
     * instead. Builders may therefore ignore those functions' status. */
    int nomem;
};

mxtls_result *result_new(mxtls_level level);
/* result_reason - append a reason; status may be NULL. Like result_ref and
 * result_advice, returns MXTLS_ERR_NOMEM and sets r->nomem when memory runs
 * out. */
mxtls_status result_reason(mxtls_result *r, const char *kind, const char *code,
                           const char *status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
mxtls_status result_ref(mxtls_result *r, const char *name, const char *against,
                        const char *source);
mxtls_status result_advice(mxtls_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* policy_unreachable - a result for an address whose SMTP session is not
 * usable (connection failed, SMTP refused, lost, malformed, timeout);
 * code/message say what happened. Without a TLS session (no chain in ev):
 * tempfail at every level, since a sender defers and retries. After a
 * completed handshake (ev holds the chain): the TLS evidence decides a level
 * that fails on it, level none passes after STARTTLS, level may retries in
 * plaintext after a lost session (connection-closed, timeout), and every
 * other level tempfails with code (docs/policies.md, "When the dialogue
 * fails"). NULL with the error in ctx. Defined in policy.c. */
mxtls_result *policy_unreachable(mxtls_ctx *ctx, const mxtls_evidence *ev, mxtls_level level,
                                 const char *code, const char *message);

#endif
