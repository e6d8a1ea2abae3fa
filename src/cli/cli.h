/* cli.h - shared pieces of the mxtls command-line tool
 *
 * The CLI uses only the public API (include/mxtls.h). Each command lives in
 * its own file and returns an exit code from the table in docs/cli.md. */
#ifndef MXTLS_CLI_H
#define MXTLS_CLI_H

#include <stdio.h>

#include "mxtls.h"

/* Exit codes (docs/cli.md). */
#define EXIT_PASS 0     /* the sender would deliver */
#define EXIT_POLICY 1   /* policy failure: the sender would not deliver */
#define EXIT_USAGE 2    /* usage or input error */
#define EXIT_TEMP 3     /* temporary failure: no verdict possible now */
#define EXIT_LOCAL 4    /* local failure: out of memory, file descriptors or other local
                           resources, or standard output could not be written */

/* cli_usage_error - print "mxtls CMD: message" and a pointer to --help; returns EXIT_USAGE */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cli_ctx_error - print the context's error as "mxtls CMD: where: message"; returns
 * cli_exit_for_status() of its code */
int cli_ctx_error(const char *cmd, const mxtls_ctx *ctx);
/* cli_exit_for_status - EXIT_LOCAL for a local resource failure (out of memory,
 * out of file descriptors), else EXIT_USAGE (the input or an option is wrong) */
int cli_exit_for_status(mxtls_status st);
/* cli_nomem - print "mxtls CMD: out of memory"; returns EXIT_LOCAL */
int cli_nomem(const char *cmd);
/* cli_finish_output - flush and close standard output; on a write error print
 * "mxtls: error writing standard output: REASON" and return EXIT_LOCAL, else RC */
int cli_finish_output(int rc);
/* cli_use_color - colour only on a terminal and only without NO_COLOR */
int cli_use_color(FILE *f);
/* cli_parse_time - RFC 3339 UTC time ("2026-06-01T00:00:00Z") or a date
 * ("2026-06-01"), 1970 or later, to time_t; -1 if invalid (utctime_parse) */
int cli_parse_time(const char *s, time_t *out);
/* cli_exit_for_verdict - map a verdict to the exit code */
int cli_exit_for_verdict(mxtls_verdict v);

int cmd_verify(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_dns(int argc, char **argv);
int cmd_tlsa(int argc, char **argv);
int cmd_mtasts(int argc, char **argv);
int cmd_tlsrpt(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_policyd(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_scan(int argc, char **argv);

#endif
