/* check_options.c - the connection, trust and DNS options of check, probe
 * and tlsa check (check_options.h) */
#include <stdlib.h>
#include <string.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "core/smtp.h"

int cli_check_option(const char *cmd, int c, const char *arg, check_options *opt,
                     cli_trust *trust)
{
    long v;
    switch (c) {
    case '4':
    case '6':
        if (opt->family && opt->family != (c == '4' ? 4 : 6))
            return cli_usage_error(cmd, "give -4 or -6, not both (without either: both "
                                        "address families)");
        opt->family = c == '4' ? 4 : 6;
        break;
    case CLI_CHECK_OPT_PORT:
        if ((v = decimal_parse(arg, 1, 65535)) < 0)
            return cli_usage_error(cmd, "--port '%s' is not a port number (1-65535)", arg);
        opt->port = (uint16_t)v;
        break;
    case CLI_CHECK_OPT_EHLO:
        /* It goes on the wire verbatim: one printable ASCII word. */
        if (smtp_ehlo_name_check(arg, NULL) != 0)
            return cli_usage_error(cmd, "--ehlo needs a host name (1-255 printable characters, "
                                        "no spaces)");
        opt->ehlo_name = arg;
        break;
    case CLI_CHECK_OPT_TIMEOUT:
        if ((v = decimal_parse(arg, 1, 3600)) < 0)
            return cli_usage_error(cmd, "--timeout '%s' is not a number of seconds (1-3600)",
                                   arg);
        opt->total_timeout_ms = (int)v * 1000;
        break;
    case CLI_CHECK_OPT_CA_FILE: trust->ca_file = arg; break;
    case CLI_CHECK_OPT_CA_PATH: trust->ca_path = arg; break;
    case CLI_CHECK_OPT_AT: trust->at = arg; break;
    case CLI_CHECK_OPT_RESOLVER: opt->dns.resolver = arg; break;
    case CLI_CHECK_OPT_TRUST_ANCHOR: opt->dns.trust_anchor = arg; break;
    case CLI_CHECK_OPT_ROOT_HINTS: opt->dns.root_hints = arg; break;
    default: return CLI_CHECK_OPT_OTHER;
    }
    return EXIT_PASS;
}

int cli_trust_check(const char *cmd, cli_trust *trust)
{
    if (trust->ca_file && trust->ca_path)
        return cli_usage_error(cmd, "give --ca-file or --ca-path, not both");
    trust->when = 0;
    if (trust->at && cli_parse_time(trust->at, &trust->when) != 0)
        return cli_usage_error(cmd, "--at '%s' is not a UTC time like 2026-06-01T00:00:00Z",
                               trust->at);
    return EXIT_PASS;
}

int cli_trust_apply(const char *cmd, mxtls_ctx *ctx, const cli_trust *trust)
{
    if ((trust->ca_file && mxtls_ctx_set_ca_file(ctx, trust->ca_file)) ||
        (trust->ca_path && mxtls_ctx_set_ca_path(ctx, trust->ca_path)))
        return cli_ctx_error(cmd, ctx);
    if (trust->when)
        mxtls_ctx_set_time(ctx, trust->when);
    return EXIT_PASS;
}
