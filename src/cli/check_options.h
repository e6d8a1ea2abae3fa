/* check_options.h - the options `mxtls check`, `mxtls probe` and `mxtls tlsa
 * check` share: where to connect (-4, -6, --port, --ehlo, --timeout), what to
 * trust (--ca-file, --ca-path, --at) and how to resolve (--resolver,
 * --trust-anchor, --root-hints).
 *
 * A command puts CLI_CHECK_SHORT_OPTIONS into its getopt string and
 * CLI_CHECK_LONG_OPTIONS into its option table, offers every option getopt
 * returns to cli_check_option first, then checks the trust options with
 * cli_trust_check and applies them to its context with cli_trust_apply. Its
 * own option codes must stay below CLI_CHECK_OPT_BASE. */
#ifndef MXTLS_CLI_CHECK_OPTIONS_H
#define MXTLS_CLI_CHECK_OPTIONS_H

#include <getopt.h>
#include <time.h>

#include "engine/check.h"
#include "mxtls.h"

enum {
    CLI_CHECK_OPT_BASE = 1024,
    CLI_CHECK_OPT_PORT = CLI_CHECK_OPT_BASE,
    CLI_CHECK_OPT_EHLO,
    CLI_CHECK_OPT_TIMEOUT,
    CLI_CHECK_OPT_CA_FILE,
    CLI_CHECK_OPT_CA_PATH,
    CLI_CHECK_OPT_AT,
    CLI_CHECK_OPT_RESOLVER,
    CLI_CHECK_OPT_TRUST_ANCHOR,
    CLI_CHECK_OPT_ROOT_HINTS,
};

#define CLI_CHECK_SHORT_OPTIONS "46"

#define CLI_CHECK_LONG_OPTIONS                                                                     \
    {"port", required_argument, NULL, CLI_CHECK_OPT_PORT},                                         \
    {"ehlo", required_argument, NULL, CLI_CHECK_OPT_EHLO},                                         \
    {"timeout", required_argument, NULL, CLI_CHECK_OPT_TIMEOUT},                                   \
    {"ca-file", required_argument, NULL, CLI_CHECK_OPT_CA_FILE},                                   \
    {"ca-path", required_argument, NULL, CLI_CHECK_OPT_CA_PATH},                                   \
    {"at", required_argument, NULL, CLI_CHECK_OPT_AT},                                             \
    {"resolver", required_argument, NULL, CLI_CHECK_OPT_RESOLVER},                                 \
    {"trust-anchor", required_argument, NULL, CLI_CHECK_OPT_TRUST_ANCHOR},                         \
    {"root-hints", required_argument, NULL, CLI_CHECK_OPT_ROOT_HINTS}

/* The trust options: applied to the context, not to check_options. */
typedef struct cli_trust {
    const char *ca_file, *ca_path, *at; /* as given (borrowed from argv), or NULL */
    time_t when;                        /* --at after cli_trust_check; 0: now */
} cli_trust;

/* cli_check_option returns this when C is not one of the shared options. */
#define CLI_CHECK_OPT_OTHER (-1)

/* cli_check_option - take getopt's C (and its ARG) if it is a shared option:
 * fill OPT or TRUST. Returns CLI_CHECK_OPT_OTHER if C is not a shared option,
 * EXIT_PASS if it took it, EXIT_USAGE if the value is wrong (message printed
 * as "mxtls CMD: ..."). */
int cli_check_option(const char *cmd, int c, const char *arg, check_options *opt,
                     cli_trust *trust);

/* cli_trust_check - after parsing: --ca-file and --ca-path exclude each
 * other, --at must be a UTC time (sets TRUST->when). EXIT_PASS or EXIT_USAGE
 * (message printed). */
int cli_trust_check(const char *cmd, cli_trust *trust);

/* cli_trust_apply - give CTX the trust store and the validation time.
 * EXIT_PASS, or the exit code of the context's error (printed). */
int cli_trust_apply(const char *cmd, mxtls_ctx *ctx, const cli_trust *trust);


#endif
