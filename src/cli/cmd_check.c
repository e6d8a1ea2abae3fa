/* cmd_check.c - mxtls check DOMAIN and mxtls probe HOST: live checks
 *
 * Both run the same engine (src/engine/check.c): `probe` is a check whose
 * next hop is given instead of looked up. Exit code: the verdict at the
 * requested level, or at the auto level. */
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check_monitor.h"
#include "cli/check_options.h"
#include "cli/cli.h"
#include "core/ctx.h"
#include "core/evidence.h"
#include "core/hostport.h"
#include "core/names.h"
#include "engine/check.h"
#include "report/check_report.h"
#include "report/probe_report.h"

static const char check_help[] =
    "usage: mxtls check DOMAIN [options]\n"
    "       mxtls probe HOST[:PORT] [--ip ADDR] [--domain DOMAIN] [options]\n"
    "\n"
    "check: resolve DOMAIN's MX hosts (DNSSEC-validated), probe every address once\n"
    "over SMTP with STARTTLS, and say what a sender at every level would do.\n"
    "probe: the same for one server, without the MX lookup.\n"
    "\n"
    "policy:\n"
    "  --level LEVEL          the level whose verdict sets the exit code (default: auto =\n"
    "                         the --policy-map entry's level, else dane where DNSSEC-secure\n"
    "                         TLSA records exist or their lookup fails, else mta-sts\n"
    "                         where an MTA-STS policy in mode enforce is in force,\n"
    "                         else may)\n"
    "  --policy-map FILE      Postfix smtp_tls_policy_maps file (docs/policymap.md)\n"
    "  --sts-cache FILE       MTA-STS policy cache (SQLite, docs/mta-sts.md): read first,\n"
    "                         refetched when the id changes or it nears expiry\n"
    "  --route HOST           next hop instead of the MX lookup: HOST, [HOST] or an\n"
    "                         address (check; repeatable)\n"
    "  --revocation MODE      report (default: checked and shown; no modelled sender\n"
    "                         refuses a revoked certificate), soft or hard (model a\n"
    "                         sender that checks revocation), off (docs/revocation.md)\n"
    "connection:\n"
    "  -4, -6                 IPv4 or IPv6 addresses only\n"
    "  --port N               SMTP port (default 25; 465 with --tls-on-connect)\n"
    "  --tls-on-connect       implicit TLS (port 465)\n"
    "  --sni auto|none|NAME   send this SNI at every level (auto: the MX hostname);\n"
    "                         default: each level's sender's own choice (Postfix and\n"
    "                         Cisco ESA: none; DANE: the TLSA base domain)\n"
    "  --servername hostname|nexthop|NAME\n"
    "                         the sending Postfix's smtp_tls_servername (default unset)\n"
    "  --sni-compare          also connect with the other SNI choice and compare\n"
    "  --ehlo NAME            name to announce (default: this host's FQDN)\n"
    "  --client-cert FILE     client certificate chain (PEM) for servers that ask\n"
    "  --client-key FILE      its private key (default: in --client-cert)\n"
    "  --timeout SECONDS      deadline for the whole check (default 120)\n"
    "  --ip ADDR              (probe) connect to ADDR instead of resolving HOST\n"
    "  --domain DOMAIN        (probe) recipient domain (default: HOST)\n"
    "trust:\n"
    "  --ca-file FILE, --ca-path DIR, --at TIME   as for mxtls verify\n"
    "dns:\n"
    "  --resolver ADDR[@PORT] forward queries to ADDR (still validated locally)\n"
    "  --trust-anchor FILE    DNSSEC trust anchor (default /usr/share/dns/root.key)\n"
    "  --root-hints FILE      root servers (private roots, as in the test world)\n"
    "output:\n"
    "  --json                 JSON (docs/json.md)\n"
    "  --monitoring-plugin    one Nagios/Icinga status line with perfdata; exit 0 OK,\n"
    "                         1 WARNING, 2 CRITICAL, 3 UNKNOWN (docs/cli.md, Monitoring)\n"
    "  --warn-days N, --crit-days M   certificate days left for WARNING (30) and\n"
    "                         CRITICAL (14)\n"
    "  --expect LEVEL         the level that must pass (default: the headline level)\n"
    "  --next-cert FILE       the certificate chain (PEM) to be deployed next: WARNING\n"
    "                         when the published TLSA records would not match it\n"
    "\n"
    "exit: 0 pass, 1 the sender would not deliver, 2 usage or input error,\n"
    "3 temporary failure (the sender would defer), 4 local failure (out of memory or\n"
    "file descriptors, standard output not written).\n";

enum {
    OPT_LEVEL = 256, OPT_POLICY_MAP, OPT_ROUTE, OPT_REVOCATION, OPT_TLS_ON_CONNECT, OPT_SNI,
    OPT_SNI_COMPARE, OPT_IP, OPT_DOMAIN, OPT_JSON, OPT_HELP, OPT_CLIENT_CERT, OPT_CLIENT_KEY,
    OPT_SERVERNAME, OPT_STS_CACHE
};

static const struct option check_options_long[] = {
    {"level", required_argument, NULL, OPT_LEVEL},
    {"policy-map", required_argument, NULL, OPT_POLICY_MAP},
    {"sts-cache", required_argument, NULL, OPT_STS_CACHE},
    {"route", required_argument, NULL, OPT_ROUTE},
    {"revocation", required_argument, NULL, OPT_REVOCATION},
    {"tls-on-connect", no_argument, NULL, OPT_TLS_ON_CONNECT},
    {"sni", required_argument, NULL, OPT_SNI},
    {"sni-compare", no_argument, NULL, OPT_SNI_COMPARE},
    {"servername", required_argument, NULL, OPT_SERVERNAME},
    {"ip", required_argument, NULL, OPT_IP},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"json", no_argument, NULL, OPT_JSON},
    CLI_CHECK_LONG_OPTIONS,
    CLI_MONITOR_LONG_OPTIONS,
    {"client-cert", required_argument, NULL, OPT_CLIENT_CERT},
    {"client-key", required_argument, NULL, OPT_CLIENT_KEY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* check_cli_result - what the check's callback hands back */
typedef struct check_cli_result {
    mxtls_report *rep;
    mxtls_error err;
    struct event_base *base;
} check_cli_result;

static void check_cli_done(void *arg, mxtls_report *rep, const mxtls_error *err)
{
    check_cli_result *res = arg;
    res->rep = rep;
    if (err)
        res->err = *err;
    event_base_loopbreak(res->base); /* one check: done */
}

/* check_cli_error - "mxtls CMD: where: message", and the exit code of its status */
static int check_cli_error(const char *cmd, const mxtls_error *e)
{
    if (e->where[0])
        fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e->where,
                e->message[0] ? e->message : "out of memory");
    else
        fprintf(stderr, "mxtls %s: %s\n", cmd, e->message[0] ? e->message : "out of memory");
    return cli_exit_for_status(e->code ? e->code : MXTLS_ERR_NOMEM);
}

/* check_is_sni_name - RFC 6066 §3: a DNS host name, not an address */
static int check_is_sni_name(const char *s)
{
    err_rec se;
    err_clear(&se);
    char *n = names_sni(s, &se);
    int ok = n != NULL;
    free(n);
    return ok;
}

static int check_main(const char *cmd, int argc, char **argv, cli_monitor *mon)
{
    check_options opt = {0};
    cli_trust trust = {0};
    const char *level_name = NULL, *map_file = NULL, *revocation = NULL, *domain = NULL,
               *sni = NULL;
    int json = 0, c, r;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":" CLI_CHECK_SHORT_OPTIONS, check_options_long,
                            NULL)) != -1) {
        if ((r = cli_check_option(cmd, c, optarg, &opt, &trust)) != CLI_CHECK_OPT_OTHER) {
            if (r != EXIT_PASS)
                return r;
            continue;
        }
        if ((r = cli_monitor_option(cmd, c, optarg, mon)) != CLI_CHECK_OPT_OTHER) {
            if (r != EXIT_PASS)
                return r;
            continue;
        }
        switch (c) {
        case OPT_LEVEL: level_name = optarg; break;
        case OPT_POLICY_MAP: map_file = optarg; break;
        case OPT_STS_CACHE: opt.sts_cache = optarg; break;
        case OPT_ROUTE:
            if (opt.nroutes >= CHECK_MAX_ROUTES)
                return cli_usage_error(cmd, "at most %d --route options", CHECK_MAX_ROUTES);
            opt.routes[opt.nroutes++] = optarg;
            break;
        case OPT_REVOCATION: revocation = optarg; break;
        case OPT_TLS_ON_CONNECT: opt.implicit_tls = 1; break;
        case OPT_SNI: sni = optarg; break;
        case OPT_SNI_COMPARE: opt.sni_compare = 1; break;
        case OPT_SERVERNAME: opt.servername = optarg; break;
        case OPT_IP: opt.ip_override = optarg; break;
        case OPT_DOMAIN: domain = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_CLIENT_CERT: opt.client_cert = optarg; break;
        case OPT_CLIENT_KEY: opt.client_key = optarg; break;
        case OPT_HELP: fputs(check_help, stdout); return EXIT_PASS;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(cmd, optind == argc ? "%s is required" : "exactly one %s expected",
                               strcmp(cmd, "probe") ? "DOMAIN" : "HOST");
    int is_probe = strcmp(cmd, "probe") == 0;
    hostport hp;
    const char *host = hp.host;
    if (is_probe) {
        err_rec he;
        err_clear(&he);
        if (hostport_parse(argv[optind], &hp, &he) != MXTLS_OK)
            return cli_usage_error(cmd, "'%s' is not HOST, HOST:PORT or [ADDR]:PORT",
                                   argv[optind]);
        if (hp.port)
            opt.port = (uint16_t)hp.port;
        if (opt.nroutes)
            return cli_usage_error(cmd, "--route is for check; probe takes the HOST itself");
        if (evidence_is_ip(host)) {
            /* An address: connect to it; the name to verify must be given. */
            if (!domain)
                return cli_usage_error(cmd, "'%s' is an address: give --domain NAME, the name "
                                            "the server's certificate is checked against",
                                       host);
            if (opt.ip_override && strcmp(opt.ip_override, host) != 0)
                return cli_usage_error(cmd, "give the address once: as HOST or with --ip");
            opt.ip_override = host;
            opt.routes[opt.nroutes++] = domain;
        } else {
            opt.routes[opt.nroutes++] = host;
        }
        opt.domain = domain ? domain : host;
    } else {
        if (opt.ip_override || domain)
            return cli_usage_error(cmd, "--ip and --domain are for probe");
        opt.domain = argv[optind];
        if (evidence_is_ip(opt.domain))
            return cli_usage_error(cmd, "'%s' is an IP address, not a mail domain; to check one "
                                        "server use: mxtls probe HOST --ip %s",
                                   opt.domain, opt.domain);
    }
    mxtls_level level = MXTLS_LEVEL_INVALID;
    if (level_name && strcmp(level_name, "auto") != 0) {
        level = mxtls_level_from_name(level_name);
        if (level == MXTLS_LEVEL_INVALID)
            return cli_usage_error(cmd, "unknown level '%s'", level_name);
    }
    if (sni) {
        if (!strcmp(sni, "auto"))
            opt.sni = CHECK_SNI_HOSTNAME;
        else if (!strcmp(sni, "none"))
            opt.sni = CHECK_SNI_NONE;
        else if (!check_is_sni_name(sni))
            return cli_usage_error(cmd, "--sni needs auto, none or a host name");
        else {
            opt.sni = CHECK_SNI_NAME;
            opt.sni_name = sni;
        }
    }
    /* Postfix refuses an smtp_tls_servername that is no valid host name. */
    if (opt.servername && strcmp(opt.servername, "hostname") && strcmp(opt.servername, "nexthop") &&
        !check_is_sni_name(opt.servername))
        return cli_usage_error(cmd, "--servername needs hostname, nexthop or a host name");
    if (opt.servername && sni)
        return cli_usage_error(cmd, "--sni sets the SNI of every level; --servername models "
                                    "the sending Postfix's smtp_tls_servername: give one");
    if ((r = cli_trust_check(cmd, &trust)) != EXIT_PASS)
        return r;
    if ((r = cli_monitor_check(cmd, mon, json, is_probe)) != EXIT_PASS)
        return r;
    if (opt.client_key && !opt.client_cert)
        return cli_usage_error(cmd, "--client-key needs --client-cert");
    if (revocation && mxtls_revocation_mode_from_name(revocation) < 0)
        return cli_usage_error(cmd, "--revocation must be report, soft, hard or off");

    int rc = EXIT_USAGE;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = NULL;
    mxtls_report *rep = NULL;
    mxtls_config *cfg = NULL;
    mxtls_engine *eng = NULL;
    struct event_base *base = NULL;
    if (!ctx)
        return cli_nomem(cmd);
    if ((r = cli_trust_apply(cmd, ctx, &trust)) != EXIT_PASS) {
        rc = r;
        goto out;
    }
    if (revocation)
        mxtls_ctx_set_revocation(ctx, (mxtls_revocation_mode)mxtls_revocation_mode_from_name(revocation));
    if (map_file) {
        size_t len = 0;
        char *text = mxtls_read_file(ctx, map_file, MXTLS_MAX_INPUT_FILE, &len);
        map = text ? mxtls_policymap_parse(ctx, text, len, map_file) : NULL;
        free(text);
        if (!map) {
            rc = cli_ctx_error(cmd, ctx);
            goto out;
        }
        opt.policy_map = map;
    }
    /* One check through the public engine API: a configuration, an engine
     * on a loop of our own, one asynchronous check, its report. */
    mxtls_error me;
    memset(&me, 0, sizeof me);
    if (!(cfg = mxtls_config_new())) {
        rc = cli_nomem(cmd);
        goto out;
    }
    if (mxtls_config_set_ca_file(cfg, trust.ca_file, &me) ||
        mxtls_config_set_ca_path(cfg, trust.ca_path, &me) ||
        mxtls_config_set_time(cfg, trust.when, &me) ||
        (revocation && mxtls_config_set_revocation(
                           cfg, (mxtls_revocation_mode)mxtls_revocation_mode_from_name(revocation),
                           &me)) ||
        mxtls_config_set_dns(cfg, opt.dns.resolver, opt.dns.trust_anchor, opt.dns.root_hints,
                             &me) ||
        mxtls_config_set_timeouts(cfg, opt.connect_timeout_ms, opt.phase_timeout_ms,
                                  opt.total_timeout_ms, &me) ||
        mxtls_config_set_ehlo_name(cfg, opt.ehlo_name, &me) ||
        mxtls_config_set_client_cert(cfg, opt.client_cert, opt.client_key, &me) ||
        mxtls_config_set_family(cfg, opt.family, &me) ||
        !(base = event_base_new()) || !(eng = mxtls_engine_new(base, cfg, &me))) {
        if (!base && !me.code)
            me = (mxtls_error){MXTLS_ERR_NOMEM, "check", "out of memory (the event loop)"};
        rc = check_cli_error(cmd, &me);
        goto out;
    }
    mxtls_check_options po;
    memset(&po, 0, sizeof po);
    po.domain = opt.domain;
    for (size_t i = 0; i < opt.nroutes; i++)
        po.routes[i] = opt.routes[i];
    po.nroutes = opt.nroutes;
    po.port = opt.port;
    po.implicit_tls = opt.implicit_tls;
    po.sni = (mxtls_sni)opt.sni;
    po.sni_name = opt.sni_name;
    po.servername = opt.servername;
    po.sni_compare = opt.sni_compare;
    po.policy_map = map;
    po.ip = opt.ip_override;
    po.sts_cache = opt.sts_cache;
    check_cli_result res = {.base = base};
    if (!mxtls_check_start(eng, &po, check_cli_done, &res, &me)) {
        rc = check_cli_error(cmd, &me);
        goto out;
    }
    event_base_dispatch(base);
    if (!(rep = res.rep)) {
        rc = check_cli_error(cmd, &res.err);
        goto out;
    }
    if (mon->on) {
        rc = cli_monitor_run(cmd, mon, rep, level, trust.when);
        goto out;
    }
    char *doc = json ? mxtls_report_json(rep, level)
                     : mxtls_report_text(rep, level, cli_use_color(stdout));
    if (!doc) {
        rc = cli_nomem(cmd);
        goto out;
    }
    fputs(doc, stdout);
    if (json)
        fputc('\n', stdout);
    free(doc);
    if (is_probe && !json) {
        /* One server: show the whole dialogue too (banner, capabilities
         * before and after TLS, STARTTLS reply, findings, TLS details). */
        char *t = mxtls_report_dialogues_text(rep, cli_use_color(stdout));
        if (!t) {
            rc = cli_nomem(cmd);
            goto out;
        }
        fputs(t, stdout);
        free(t);
    }
    rc = cli_exit_for_verdict(mxtls_report_verdict(rep, level)->verdict);
out:
    mxtls_report_free(rep);
    mxtls_engine_free(eng);
    if (base)
        event_base_free(base);
    mxtls_config_unref(cfg);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    cli_monitor mon;
    cli_monitor_init(&mon);
    int rc = check_main("check", argc, argv, &mon);
    /* A plugin exits 0..3 with a status line, whatever stopped it. */
    if (cli_monitor_requested(argc, argv) && !mon.ran && rc != EXIT_PASS)
        return cli_monitor_unknown(rc);
    return rc;
}

int cmd_probe(int argc, char **argv)
{
    cli_monitor mon;
    cli_monitor_init(&mon);
    return check_main("probe", argc, argv, &mon);
}
