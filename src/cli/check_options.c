/* check_options.c - the connection, trust and DNS options of check, probe
 * and tlsa check (check_options.h) */
#include <stdlib.h>
#include <string.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "core/names.h"
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

/* ---- check's own options, shared with scan ------------------------------ */

int cli_live_option(const char *cmd, int c, const char *arg, check_options *opt, cli_live *lv)
{
    switch (c) {
    case CLI_LIVE_OPT_LEVEL: lv->level = arg; break;
    case CLI_LIVE_OPT_POLICY_MAP: lv->policy_map = arg; break;
    case CLI_LIVE_OPT_STS_CACHE: opt->sts_cache = arg; break;
    case CLI_LIVE_OPT_ROUTE:
        if (opt->nroutes >= CHECK_MAX_ROUTES)
            return cli_usage_error(cmd, "at most %d --route options", CHECK_MAX_ROUTES);
        opt->routes[opt->nroutes++] = arg;
        break;
    case CLI_LIVE_OPT_REVOCATION: lv->revocation = arg; break;
    case CLI_LIVE_OPT_TLS_ON_CONNECT: opt->implicit_tls = 1; break;
    case CLI_LIVE_OPT_SNI: lv->sni = arg; break;
    case CLI_LIVE_OPT_SNI_COMPARE: opt->sni_compare = 1; break;
    case CLI_LIVE_OPT_SERVERNAME: opt->servername = arg; break;
    case CLI_LIVE_OPT_CLIENT_CERT: opt->client_cert = arg; break;
    case CLI_LIVE_OPT_CLIENT_KEY: opt->client_key = arg; break;
    default: return CLI_CHECK_OPT_OTHER;
    }
    return EXIT_PASS;
}

/* cli_live_is_sni_name - RFC 6066 §3: a DNS host name, not an address */
static int cli_live_is_sni_name(const char *s)
{
    err_rec se;
    err_clear(&se);
    char *n = names_sni(s, &se);
    int ok = n != NULL;
    free(n);
    return ok;
}

int cli_live_check(const char *cmd, const cli_live *lv, check_options *opt, mxtls_level *level)
{
    *level = MXTLS_LEVEL_INVALID;
    if (lv->level && strcmp(lv->level, "auto") != 0) {
        *level = mxtls_level_from_name(lv->level);
        if (*level == MXTLS_LEVEL_INVALID)
            return cli_usage_error(cmd, "unknown level '%s'", lv->level);
    }
    if (lv->sni) {
        if (!strcmp(lv->sni, "auto"))
            opt->sni = CHECK_SNI_HOSTNAME;
        else if (!strcmp(lv->sni, "none"))
            opt->sni = CHECK_SNI_NONE;
        else if (!cli_live_is_sni_name(lv->sni))
            return cli_usage_error(cmd, "--sni needs auto, none or a host name");
        else {
            opt->sni = CHECK_SNI_NAME;
            opt->sni_name = lv->sni;
        }
    }
    /* Postfix refuses an smtp_tls_servername that is no valid host name. */
    if (opt->servername && strcmp(opt->servername, "hostname") &&
        strcmp(opt->servername, "nexthop") && !cli_live_is_sni_name(opt->servername))
        return cli_usage_error(cmd, "--servername needs hostname, nexthop or a host name");
    if (opt->servername && lv->sni)
        return cli_usage_error(cmd, "--sni sets the SNI of every level; --servername models "
                                    "the sending Postfix's smtp_tls_servername: give one");
    if (opt->client_key && !opt->client_cert)
        return cli_usage_error(cmd, "--client-key needs --client-cert");
    if (lv->revocation && mxtls_revocation_mode_from_name(lv->revocation) < 0)
        return cli_usage_error(cmd, "--revocation must be report, soft, hard or off");
    return EXIT_PASS;
}

mxtls_config *cli_live_config(const check_options *opt, const cli_trust *trust,
                              const char *revocation, int connect_ms, int phase_ms,
                              mxtls_error *me)
{
    mxtls_config *cfg = mxtls_config_new();
    if (!cfg) {
        *me = (mxtls_error){MXTLS_ERR_NOMEM, "config", "out of memory"};
        return NULL;
    }
    if (mxtls_config_set_ca_file(cfg, trust->ca_file, me) ||
        mxtls_config_set_ca_path(cfg, trust->ca_path, me) ||
        mxtls_config_set_time(cfg, trust->when, me) ||
        (revocation && mxtls_config_set_revocation(
                           cfg, (mxtls_revocation_mode)mxtls_revocation_mode_from_name(revocation),
                           me)) ||
        mxtls_config_set_dns(cfg, opt->dns.resolver, opt->dns.trust_anchor, opt->dns.root_hints,
                             me) ||
        mxtls_config_set_timeouts(cfg, connect_ms, phase_ms, opt->total_timeout_ms, me) ||
        mxtls_config_set_ehlo_name(cfg, opt->ehlo_name, me) ||
        mxtls_config_set_client_cert(cfg, opt->client_cert, opt->client_key, me) ||
        mxtls_config_set_family(cfg, opt->family, me)) {
        mxtls_config_unref(cfg);
        return NULL;
    }
    return cfg;
}

void cli_live_check_options(const check_options *opt, const mxtls_policymap *map,
                            mxtls_check_options *po)
{
    memset(po, 0, sizeof *po);
    for (size_t i = 0; i < opt->nroutes && i < MXTLS_MAX_ROUTES; i++)
        po->routes[i] = opt->routes[i];
    po->nroutes = opt->nroutes;
    po->port = opt->port;
    po->implicit_tls = opt->implicit_tls;
    po->sni = (mxtls_sni)opt->sni;
    po->sni_name = opt->sni_name;
    po->servername = opt->servername;
    po->sni_compare = opt->sni_compare;
    po->policy_map = map;
    po->ip = opt->ip_override;
    po->sts_cache = opt->sts_cache;
}
