/* survey.h - survey figures over many check reports (issue 12)
 *
 * A survey takes the JSON objects `mxtls check DOMAIN --json` prints, one per
 * domain (the JSON Lines of `mxtls scan`), and counts what a survey of the
 * mail ecosystem reports: STARTTLS support, TLS versions, pass rates per
 * level, top failure reasons, certificates expiring soon, DNSSEC share, null
 * MX and implicit MX, input errors. It keeps counters and a few bounded lists
 * (the worst domains, expiring certificates, error lines), never the whole
 * input, so it surveys millions of lines in constant memory.
 *
 *     survey *s = survey_new();
 *     survey_set_now(s, now);                  // expiry is relative to this
 *     while (next line)
 *         if (survey_add_json(s, line, len, err, sizeof err) != 0)
 *             survey_note_rejected(s, lineno, err);
 *     char *text = survey_stats_text(s);       // or _json, _html
 *     survey_free(s);
 *
 * Pure: no I/O, no clock (survey_new() reads the clock once for the default
 * "now"). Parsing is jansson's; every string taken from a line is stored as
 * jansson validated it (UTF-8), or for a survey_check handed over directly
 * as jansson would have read it back (survey_line_of_check), and escaped by
 * each writer for its format.
 * docs/report.md describes every figure; docs/json.md the JSON. */
#ifndef MXTLS_REPORT_SURVEY_H
#define MXTLS_REPORT_SURVEY_H

#include <stddef.h>
#include <time.h>

#define SURVEY_MAX_KEYS 64          /* distinct keys per counter (levels, codes, versions);
                                       beyond: counted under "(other)" */
#define SURVEY_MAX_WORST 200        /* worst domains kept */
#define SURVEY_MAX_EXPIRING 200     /* expiring certificates listed */
#define SURVEY_MAX_LISTED_ERRORS 100 /* error lines and rejected lines listed */
#define SURVEY_MAX_ADVICE 8         /* advice lines kept per worst domain */
#define SURVEY_MAX_STRING 1024      /* bytes kept of any string from the input */
#define SURVEY_DEFAULT_EXPIRY_DAYS 30
#define SURVEY_TOP_REASONS 10       /* reasons shown in text and HTML (JSON has all kept) */
#define SURVEY_TEXT_WORST 20        /* worst domains shown in text (JSON and HTML: all kept) */

typedef struct survey survey;

/* survey_new - an empty survey, "now" = the current time, expiry window
 * SURVEY_DEFAULT_EXPIRY_DAYS; NULL when memory is short */
survey *survey_new(void);
/* survey_set_now - the time certificate expiry is measured from */
void survey_set_now(survey *s, time_t now);
/* survey_set_expiry_days - certificates expiring within this many days are
 * "expiring soon" (1..3650) */
void survey_set_expiry_days(survey *s, int days);

/* survey_add_json - one check JSON object (one JSONL line, len bytes, need
 * not be NUL-terminated). An object with an "error" member and no "verdict"
 * is an input error line of `mxtls scan` (a malformed domain) and is counted
 * as such. Returns 0, or -1 with err filled: the line is not JSON, or not an
 * object of the check schema (the survey is unchanged), or "out of memory"
 * (the line may then be partly counted). */
int survey_add_json(survey *s, const char *line, size_t len, char *err, size_t errlen);
/* The same in two steps, so that the parse (most of the cost) can run
 * outside a lock that guards the survey (mxtls scan --jobs):
 * survey_line_parse - the line parsed, or NULL with err filled (not JSON, or
 * out of memory); survey_add_line - as survey_add_json, and frees l;
 * survey_line_free - a parsed line not added (NULL: no-op). */
typedef struct survey_line survey_line;
survey_line *survey_line_parse(const char *line, size_t len, char *err, size_t errlen);
int survey_add_line(survey *s, survey_line *l, char *err, size_t errlen);
void survey_line_free(survey_line *l);
/* What the survey reads of one check object: survey_line_parse takes it
 * from the JSON; `mxtls scan` builds it from the report itself
 * (check_report_survey_line), with the values the JSON writer writes, and so
 * saves parsing a JSON view of each report. Strings may be NULL. */
typedef struct survey_addr {
    const char *host, *ip;
    int connected;           /* "probe" is an object, "connected": true */
    int starttls;            /* and "starttls"."offered" or "implicit_tls" */
    int tls;                 /* and "tls" is an object */
    int tls_ok;              /* "tls"."ok" */
    const char *tls_version; /* "tls"."version" */
    int leaf;                /* "tls"."chain"[0] is an object */
    const char *leaf_subject, *leaf_not_after;
} survey_addr;
typedef struct survey_matrix_entry {
    const char *level, *verdict, *code; /* one "matrix" member */
} survey_matrix_entry;
typedef struct survey_check {
    const char *domain, *verdict, *effective_level;
    const char *reason_code, *reason_message; /* of "reason", when an object */
    int mx_routed, null_mx, implicit_mx;
    const char *mx_security, *mx_outcome; /* not routed */
    size_t naddrs;
    const survey_addr *addrs;           /* the "addresses" that are objects */
    size_t nmatrix;
    const survey_matrix_entry *matrix;  /* in the object's order */
    size_t nadvice;                     /* the strings among the first */
    const char *const *advice;          /* SURVEY_MAX_ADVICE "advice" entries */
} survey_check;
/* survey_line_of_check - c as a line for survey_add_line: every string
 * copied as a JSON parser would read it back from the check's line (bytes
 * that are not UTF-8 as U+FFFD, jw_str_as_read). c must be a whole check:
 * domain and verdict (pass, fail or tempfail) set, every matrix entry's
 * level and verdict set. NULL when memory is short. */
survey_line *survey_line_of_check(const survey_check *c);
/* survey_note_rejected - count a line the caller could not add (its 1-based
 * number and why); the first SURVEY_MAX_LISTED_ERRORS are listed */
void survey_note_rejected(survey *s, unsigned long lineno, const char *why);

/* The figures, each as a new string (caller frees), NULL when memory is short. */
char *survey_stats_json(const survey *s);   /* docs/json.md, through jsonw.c */
char *survey_stats_text(const survey *s);   /* for a person; input text made displayable */
char *survey_stats_html(const survey *s);   /* a self-contained page (docs/report.md) */

void survey_free(survey *s);

#endif
