/* summary.h - the headline of a check: what works and what does not
 *
 * An operator reads the first line of `mxtls check` and stops. The matrix
 * answers "what does a sender at level X do"; the summary answers "what is
 * wrong with my domain": one row per mechanism a sender may rely on
 * (opportunistic TLS, PKIX authentication, DANE, MTA-STS, REQUIRETLS), each
 * with a state and its one-word reason, and a first line naming the
 * failures. Pure: it reads a finished check_report and nothing else.
 * docs/cli.md ("The headline") and docs/json.md ("summary") describe it. */
#ifndef MXTLS_REPORT_SUMMARY_H
#define MXTLS_REPORT_SUMMARY_H

#include "engine/check.h"
#include "engine/sts.h"
#include "report/jsonw.h"
#include "report/textout.h"

typedef enum summary_state {
    SUMMARY_OK,            /* the mechanism works for its senders */
    SUMMARY_FAIL,          /* published or offered, and it fails its senders */
    SUMMARY_TEMPFAIL,      /* its senders would defer: no answer now */
    SUMMARY_NOT_OFFERED,   /* the server does not offer it (STARTTLS, REQUIRETLS) */
    SUMMARY_NOT_PUBLISHED, /* the domain does not publish it (DANE, MTA-STS): no failure */
    SUMMARY_NOT_ENFORCED,  /* an MTA-STS policy in mode testing or none */
    SUMMARY_NOT_CHECKED    /* not looked at (MTA-STS with --route or probe) */
} summary_state;

typedef enum summary_row_id {
    SUMMARY_TLS,        /* may, encrypt */
    SUMMARY_PKIX,       /* verify, secure, esa-required-verify(-hosted) */
    SUMMARY_DANE,       /* dane, dane-only */
    SUMMARY_MTA_STS,    /* mta-sts */
    SUMMARY_REQUIRETLS, /* requiretls */
    SUMMARY_NROWS
} summary_row_id;

#define SUMMARY_MAX_LEVELS 4

typedef struct summary_row {
    summary_state state;
    /* the one-word reason: a reason code of the decisive level, or the
     * MTA-STS mode (a copy: the summary borrows nothing) */
    char reason[64];
    /* the levels the row speaks for, and how many of them fail (or
     * tempfail) when the state is FAIL or TEMPFAIL */
    mxtls_level levels[SUMMARY_MAX_LEVELS];
    size_t nlevels;
    mxtls_level failing[SUMMARY_MAX_LEVELS];
    size_t nfailing;
} summary_row;

typedef struct check_summary {
    summary_row rows[SUMMARY_NROWS];
    /* the first line: "DOMAIN: FAIL name-mismatch: PKIX senders; OK: TLS" */
    char headline[400];
    /* the verdict of the level that sets the exit code (--level, else auto) */
    mxtls_level level;
    mxtls_verdict verdict;
    int exit_code;      /* 0 pass, 1 fail, 3 tempfail (docs/cli.md) */
} check_summary;

/* summary_of - the summary of a finished report at `level`
 * (MXTLS_LEVEL_INVALID: the auto level); *out holds no pointers into rep */
void summary_of(const check_report *rep, mxtls_level level, check_summary *out);

/* summary_row_label - "PKIX (verify, secure, Cisco Verify)"; summary_row_name -
 * "PKIX senders"; summary_row_key - the JSON key, "pkix" */
const char *summary_row_label(summary_row_id id);
const char *summary_row_name(summary_row_id id);
const char *summary_row_key(summary_row_id id);
/* summary_state_text - "FAIL", "not published"; summary_state_name - the
 * JSON value, "fail", "not-published" */
const char *summary_state_text(summary_state s);
const char *summary_state_name(summary_state s);

/* summary_text - the headline block: the first line, then one line per row,
 * each within 80 columns (docs/cli.md) */
void summary_text(textout *t, const check_summary *s, int color);
/* summary_json - the "summary" object (docs/json.md) */
void summary_json(jsonw *w, const check_summary *s);

#endif
