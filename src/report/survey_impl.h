/* survey_impl.h - the inside of a survey (survey.h), shared by its writers
 * (survey.c: text and JSON; survey_html.c: the page) and its unit tests */
#ifndef MXTLS_REPORT_SURVEY_IMPL_H
#define MXTLS_REPORT_SURVEY_IMPL_H

#include <time.h>

#include "core/base.h"
#include "report/survey.h"

#define SURVEY_OTHER "(other)"

typedef struct survey_count {
    char *key;
    unsigned long n;
} survey_count;

/* At most SURVEY_MAX_KEYS keys, then one more: SURVEY_OTHER. */
typedef struct survey_counter {
    survey_count v[SURVEY_MAX_KEYS + 1];
    size_t n;
} survey_counter;

typedef struct survey_level {
    char *name;
    unsigned long pass, fail, tempfail;
    survey_counter reasons;    /* codes of the fail and tempfail verdicts */
} survey_level;

typedef struct survey_worst {
    long score;                /* headline fail 1000, tempfail 500; + 2 per level failing,
                                  + 1 per level tempfailing */
    char *domain, *verdict, *level, *code, *message;
    strlist failing;           /* levels not passing */
    strlist advice;            /* at most SURVEY_MAX_ADVICE */
} survey_worst;

typedef struct survey_cert {
    char *domain, *host, *ip, *subject, *not_after;
    long days;                 /* whole days from now to not_after (negative: expired) */
} survey_cert;

typedef struct survey_errline {
    unsigned long lineno;      /* 0: an error object of the input (a malformed domain) */
    char *input, *message;
} survey_errline;

struct survey {
    time_t now;
    int expiry_days;
    unsigned long domains, errors, rejected;
    survey_counter verdicts;   /* headline verdicts */
    survey_counter mx_security, mx_outcome;
    unsigned long null_mx, implicit_mx;
    survey_counter starttls;   /* all, some, none, unreachable, no-address */
    unsigned long addresses, addr_reachable, addr_starttls, addr_tls;
    survey_counter tls_versions;
    survey_level levels[SURVEY_MAX_KEYS + 1];
    size_t nlevels;
    survey_counter reasons;    /* headline reason codes of domains not passing */
    unsigned long certs_expiring, certs_expired, expiring_dropped;
    survey_cert expiring[SURVEY_MAX_EXPIRING];
    size_t nexpiring;
    survey_worst worst[SURVEY_MAX_WORST];   /* worst first */
    size_t nworst;
    unsigned long not_all_pass;  /* domains with a level not passing (score > 0) */
    survey_errline errlist[SURVEY_MAX_LISTED_ERRORS];
    size_t nerrlist;
    unsigned long errlist_dropped;
};

unsigned long survey_counter_get(const survey_counter *c, const char *key);
/* survey_counter_sorted - out (room for SURVEY_MAX_KEYS + 1) gets the
 * entries, highest count first, then by key; returns how many */
size_t survey_counter_sorted(const survey_counter *c, const survey_count **out);
size_t survey_levels_ordered(const survey *s, const survey_level **out);
void survey_time_text(time_t t, char *buf, size_t n);
double survey_pct(unsigned long n, unsigned long of);

#endif
