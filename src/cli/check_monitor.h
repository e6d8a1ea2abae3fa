/* check_monitor.h - `mxtls check --monitoring-plugin`: the thin CLI part
 *
 * The options, and the run after the check: the --next-cert chains judged
 * against the published TLSA records (tlsa_check_analyze, as `mxtls tlsa
 * check --next` does), the report as JSON, the decision by
 * monitor_evaluate() (src/report/monitor.c), one status line, the exit code
 * of the state. */
#ifndef MXTLS_CLI_CHECK_MONITOR_H
#define MXTLS_CLI_CHECK_MONITOR_H

#include <time.h>

#include "engine/tlsa_check.h"
#include "mxtls.h"

enum {
    CLI_MONITOR_OPT_ON = 600, CLI_MONITOR_OPT_WARN, CLI_MONITOR_OPT_CRIT, CLI_MONITOR_OPT_EXPECT,
    CLI_MONITOR_OPT_NEXT
};

#define CLI_MONITOR_LONG_OPTIONS                                                                   \
    {"monitoring-plugin", no_argument, NULL, CLI_MONITOR_OPT_ON},                                  \
    {"warn-days", required_argument, NULL, CLI_MONITOR_OPT_WARN},                                  \
    {"crit-days", required_argument, NULL, CLI_MONITOR_OPT_CRIT},                                  \
    {"expect", required_argument, NULL, CLI_MONITOR_OPT_EXPECT},                                   \
    {"next-cert", required_argument, NULL, CLI_MONITOR_OPT_NEXT}

typedef struct cli_monitor {
    int on;                 /* --monitoring-plugin */
    int ran;                /* the status line was printed */
    long warn_days, crit_days; /* -1: not given */
    const char *expect;
    const char *next[TLSA_MAX_PLANNED];
    size_t nnext;
} cli_monitor;

/* cli_monitor_init - nothing asked */
void cli_monitor_init(cli_monitor *m);
/* cli_monitor_option - take getopt's C if it is a monitoring option:
 * CLI_CHECK_OPT_OTHER if it is not, EXIT_PASS if taken, EXIT_USAGE (printed) */
int cli_monitor_option(const char *cmd, int c, const char *arg, cli_monitor *m);
/* cli_monitor_check - after parsing: the options fit together (EXIT_PASS or
 * EXIT_USAGE, printed) */
int cli_monitor_check(const char *cmd, cli_monitor *m, int json, int is_probe);
/* cli_monitor_run - judge the finished report rep at the headline level
 * LEVEL (MXTLS_LEVEL_INVALID: auto), print the status line; returns the
 * plugin's exit code (0..3) */
int cli_monitor_run(const char *cmd, cli_monitor *m, mxtls_report *rep, mxtls_level level,
                    time_t at);
/* cli_monitor_unknown - the check could not run (usage or local error,
 * already explained on standard error): "MXTLS UNKNOWN - ..." and 3 */
int cli_monitor_unknown(int rc);
/* cli_monitor_requested - --monitoring-plugin is among the arguments */
int cli_monitor_requested(int argc, char **argv);

#endif
