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


/* ---- what a check checks: check's own options, shared with scan --------
 *
 * --level, --policy-map, --sts-cache, --route, --revocation, --tls-on-connect,
 * --sni, --sni-compare, --servername, --client-cert, --client-key: `mxtls
 * scan` applies them to every domain. Same use as above: put
 * CLI_LIVE_LONG_OPTIONS in the option table, offer every option to
 * cli_live_option, then call cli_live_check. */
enum {
    CLI_LIVE_OPT_LEVEL = 1100,
    CLI_LIVE_OPT_POLICY_MAP,
    CLI_LIVE_OPT_STS_CACHE,
    CLI_LIVE_OPT_ROUTE,
    CLI_LIVE_OPT_REVOCATION,
    CLI_LIVE_OPT_TLS_ON_CONNECT,
    CLI_LIVE_OPT_SNI,
    CLI_LIVE_OPT_SNI_COMPARE,
    CLI_LIVE_OPT_SERVERNAME,
    CLI_LIVE_OPT_CLIENT_CERT,
    CLI_LIVE_OPT_CLIENT_KEY,
};

#define CLI_LIVE_LONG_OPTIONS                                                                      \
    {"level", required_argument, NULL, CLI_LIVE_OPT_LEVEL},                                        \
    {"policy-map", required_argument, NULL, CLI_LIVE_OPT_POLICY_MAP},                              \
    {"sts-cache", required_argument, NULL, CLI_LIVE_OPT_STS_CACHE},                                \
    {"route", required_argument, NULL, CLI_LIVE_OPT_ROUTE},                                        \
    {"revocation", required_argument, NULL, CLI_LIVE_OPT_REVOCATION},                              \
    {"tls-on-connect", no_argument, NULL, CLI_LIVE_OPT_TLS_ON_CONNECT},                            \
    {"sni", required_argument, NULL, CLI_LIVE_OPT_SNI},                                            \
    {"sni-compare", no_argument, NULL, CLI_LIVE_OPT_SNI_COMPARE},                                  \
    {"servername", required_argument, NULL, CLI_LIVE_OPT_SERVERNAME},                              \
    {"client-cert", required_argument, NULL, CLI_LIVE_OPT_CLIENT_CERT},                            \
    {"client-key", required_argument, NULL, CLI_LIVE_OPT_CLIENT_KEY}

/* The values of those options that check_options does not hold (borrowed
 * from argv). */
typedef struct cli_live {
    const char *level, *policy_map, *revocation, *sni;
} cli_live;

/* cli_live_option - like cli_check_option, for the options above */
int cli_live_option(const char *cmd, int c, const char *arg, check_options *opt, cli_live *lv);

/* cli_live_check - after parsing: *level from --level (MXTLS_LEVEL_INVALID
 * for auto), --sni into OPT, and the combinations check refuses (--sni with
 * --servername, --client-key without --client-cert, ...). EXIT_PASS or
 * EXIT_USAGE (message printed). */
int cli_live_check(const char *cmd, const cli_live *lv, check_options *opt, mxtls_level *level);

/* cli_live_config - a configuration of the trust, revocation, DNS, timeout
 * (connect_ms, phase_ms: 0 for the defaults; the total from OPT), EHLO,
 * client certificate and family settings; NULL with the error in me */
mxtls_config *cli_live_config(const check_options *opt, const cli_trust *trust,
                              const char *revocation, int connect_ms, int phase_ms,
                              mxtls_error *me);

/* cli_live_check_options - the public options of a check from OPT and MAP
 * (the domain left NULL) */
void cli_live_check_options(const check_options *opt, const mxtls_policymap *map,
                            mxtls_check_options *po);

#endif
