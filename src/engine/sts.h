/* sts.h - MTA-STS (RFC 8461) and TLSRPT (RFC 8460) lookups of a live check
 *
 * What `mxtls check` learns about the recipient domain's MTA-STS policy and
 * TLS reporting: the _mta-sts TXT record, the policy fetched over HTTPS from
 * mta-sts.DOMAIN (connected to at the address the check's own validating
 * resolver returned), the policy cache (--sts-cache) and the _smtp._tls TXT
 * record. The policy in force goes into every address's evidence
 * (mxtls_evidence_set_sts_policy); the level mta-sts judges it
 * (core/mtasts_eval.h). docs/mta-sts.md describes the rules. */
#ifndef MXTLS_ENGINE_STS_H
#define MXTLS_ENGINE_STS_H

#include "core/base.h"
#include "core/dnsmsg.h"
#include "core/mtasts.h"
#include "core/tlsrpt.h"
#include "io/stscache.h"

struct mxtls_check;
struct mxtls_report;

typedef struct sts_report {
    int looked_up;               /* 0: not asked (routes given) */
    /* _mta-sts.DOMAIN TXT */
    dns_outcome txt_outcome;
    dns_security txt_security;
    strlist txt_records;         /* the RRset as received (escaped for display) */
    mtasts_txt txt;              /* the selection (valid: one usable record) */
    /* mta-sts.DOMAIN and the fetch */
    char *policy_host;           /* mta-sts.DOMAIN */
    char *url;
    char *address;               /* the address fetched from, or NULL */
    int fetch_tried;
    int fetch_ok;                /* a valid policy came back */
    long http_status;            /* 0: no HTTP answer */
    char *media_type;
    char *cert;                  /* the HTTPS server certificate, summarised */
    char *fetch_error;           /* why the fetch gave no policy, or NULL */
    size_t body_len;
    char *body;                  /* the policy text fetched (NUL-terminated) */
    mtasts_policy policy;        /* the parse of body */
    /* the cache (--sts-cache) */
    char *cache_path;
    int cache_open;
    char *cache_error;
    stscache_state cache_state;
    stscache_entry cached;       /* the entry read before fetching */
    sts_refetch refetch;
    int cache_stored;            /* the fetched policy was written */
    long long now;
    /* the policy in force (sts_conclude) */
    int concluded;
    sts_apply apply;
    const char *applied_text;    /* body or cached.policy: borrowed */
    size_t applied_len;
    mtasts_mode mode;
    long long max_age;
    /* _smtp._tls.DOMAIN TXT */
    int rpt_done;
    dns_outcome rpt_outcome;
    dns_security rpt_security;
    strlist rpt_records;
    tlsrpt_record rpt;
    /* while the check runs */
    struct mxtls_check *check;
    int lookups_started;         /* sts_lookup ran */
    char *domain, *ca_file, *ca_path;
    int timeout_ms;
    int family;                  /* address family asked for mta-sts.DOMAIN */
} sts_report;

typedef struct sts_params {
    const char *domain;          /* normalised */
    const char *ca_file, *ca_path; /* the check's trust store */
    const char *cache_path;      /* --sts-cache, or NULL */
    int timeout_ms;              /* the fetch's bound (the phase timeout) */
    long long now;               /* seconds since the epoch */
} sts_params;

/* sts_new - the MTA-STS and TLSRPT state of check c, with the cached
 * policy read; nothing asked yet. NULL when out of memory. */
sts_report *sts_new(struct mxtls_check *c, const sts_params *p);
/* sts_lookup - ask for the _mta-sts and _smtp._tls records as steps of the
 * check (the policy fetch follows the first); the report is filled as
 * answers come. Once only: later calls do nothing. A record never asked for
 * (the check ended first) stays DNS_TIMEOUT. */
void sts_lookup(sts_report *s);
/* sts_conclude - which policy is in force, and the findings for the
 * report's advice; idempotent. rep may be NULL. MXTLS_ERR_NOMEM when an
 * advice could not be added. */
mxtls_status sts_conclude(sts_report *s, struct mxtls_report *rep);
/* sts_enforced - a policy in mode enforce is in force (after sts_conclude) */
int sts_enforced(const sts_report *s);
/* sts_evidence - give ev the policy in force (nothing when none) */
mxtls_status sts_evidence(sts_report *s, mxtls_ctx *ctx, mxtls_evidence *ev);
void sts_report_free(sts_report *s);

#endif
