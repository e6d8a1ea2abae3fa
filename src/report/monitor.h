/* monitor.h - a check report as a monitoring plugin's result (Nagios/Icinga)
 *
 * `mxtls check DOMAIN --monitoring-plugin` follows the Monitoring Plugins
 * Development Guidelines: one status line "MXTLS STATE - text | perfdata"
 * and the exit code of the state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
 * The decision is this pure function over the check's JSON document (the
 * object `mxtls check --json` prints, docs/json.md), so that any saved
 * report can be judged again, and the unit tests judge real reports of the
 * test world. docs/cli.md, "Monitoring", states every rule.
 *
 *     monitor_config cfg = {.warn_days = 30, .crit_days = 14, .now = time(NULL)};
 *     char *line = NULL;
 *     monitor_state st = monitor_evaluate(json, len, &cfg, &line);
 *     fputs(line, stdout); exit(st);
 */
#ifndef MXTLS_REPORT_MONITOR_H
#define MXTLS_REPORT_MONITOR_H

#include <stddef.h>
#include <time.h>

#define MONITOR_DEFAULT_WARN_DAYS 30
#define MONITOR_DEFAULT_CRIT_DAYS 14
#define MONITOR_MAX_LINE 4096 /* the status text is cut here (perfdata is not) */

typedef enum monitor_state {
    MONITOR_OK = 0,
    MONITOR_WARNING = 1,
    MONITOR_CRITICAL = 2,
    MONITOR_UNKNOWN = 3
} monitor_state;

/* A certificate to be deployed (--next-cert), judged against one MX host's
 * published TLSA records by tlsa_check_analyze() (src/engine/tlsa_check.c). */
typedef struct monitor_plan {
    const char *host;      /* the MX host */
    const char *file;      /* the file it came from */
    const char *verdict;   /* "safe", "will-break", "not-applicable" */
    const char *publish;   /* will-break: the first record to publish before, or NULL */
} monitor_plan;

typedef struct monitor_config {
    long warn_days, crit_days;  /* certificate thresholds: WARNING below warn_days days
                                   left, CRITICAL below crit_days (crit_days <= warn_days) */
    const char *expect;         /* the level that must pass; NULL: the report's
                                   effective level (--level, else auto) */
    time_t now;                 /* certificate expiry is measured from here */
    const monitor_plan *plans;  /* borrowed */
    size_t nplans;
} monitor_config;

/* monitor_state_name - "OK", "WARNING", "CRITICAL", "UNKNOWN" */
const char *monitor_state_name(monitor_state s);

/* monitor_evaluate - the state for the check report json (len bytes) and,
 * in *out (caller frees), the plugin's output: "MXTLS STATE - DOMAIN: text
 * | perfdata\n". A document that is not a check report is UNKNOWN. *out is
 * NULL only when memory is short (the state is then UNKNOWN). */
monitor_state monitor_evaluate(const char *json, size_t len, const monitor_config *cfg,
                               char **out);

#endif
