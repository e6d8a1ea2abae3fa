/* cmd_audit.c - mxtls audit HOST|DOMAIN: the receiving server's own TLS configuration
 *
 * Exit: 1 when a finding is rated error, 3 when nothing answered (or the
 * target's DNS failed temporarily), 0 otherwise (docs/cli.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "core/ctx.h"
#include "core/names.h"
#include "engine/audit.h"
#include "report/audit_report.h"

static const char audit_help[] =
    "usage: mxtls audit HOST|DOMAIN|ADDRESS [options]\n"
    "\n"
    "How well is this mail server configured? For each MX host of DOMAIN (or HOST,\n"
    "or ADDRESS) and each port: STARTTLS or TLS on connect, AUTH before TLS, mail\n"
    "accepted without TLS (MAIL FROM:<> then QUIT; nothing is ever submitted),\n"
    "TLS versions, cipher classes (weak / acceptable / strong), key exchange group,\n"
    "certificate key and chain, the certificate as senders check it, OCSP stapling,\n"
    "client certificates, REQUIRETLS. Each finding names the Postfix parameter that\n"
    "controls it and a main.cf / master.cf fix (docs/audit.md).\n"
    "\n"
    "  --ports LIST           ports, comma-separated (default 25,465,587; 465 is TLS on\n"
    "                         connect, 587 submission, any other port is audited as 25)\n"
    "  --max-handshakes N     TLS handshakes per address and port, 1..24 (default 13)\n"
    "  --pace MS              pause between connections to one address (default 200)\n"
    "  -4, -6                 IPv4 or IPv6 addresses only\n"
    "  --ehlo NAME            name to announce (default: this host's FQDN)\n"
    "  --timeout SECONDS      deadline for the whole audit (default 300)\n"
    "trust:\n"
    "  --ca-file FILE, --ca-path DIR, --at TIME   as for mxtls verify\n"
    "dns:\n"
    "  --resolver ADDR[@PORT], --trust-anchor FILE, --root-hints FILE   as for check\n"
    "output:\n"
    "  --json                 JSON (docs/json.md)\n"
    "\n"
    "exit: 0 no finding rated error, 1 at least one error, 2 usage or input error,\n"
    "3 nothing answered or the DNS lookup failed temporarily, 4 local failure.\n";

enum { OPT_PORTS = 256, OPT_MAX_HANDSHAKES, OPT_PACE, OPT_JSON, OPT_HELP };

static const struct option audit_long[] = {
    {"ports", required_argument, NULL, OPT_PORTS},
    {"max-handshakes", required_argument, NULL, OPT_MAX_HANDSHAKES},
    {"pace", required_argument, NULL, OPT_PACE},
    {"json", no_argument, NULL, OPT_JSON},
    CLI_CHECK_LONG_OPTIONS,
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* audit_parse_ports - "25,465,587": 1..AUDIT_MAX_PORTS distinct ports */
static int audit_parse_ports(const char *s, audit_options *ao)
{
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", s);
    ao->nports = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        long p = decimal_parse(t, 1, 65535);
        if (p < 0 || ao->nports >= AUDIT_MAX_PORTS)
            return -1;
        for (size_t i = 0; i < ao->nports; i++)
            if (ao->ports[i] == p)
                return -1;
        ao->ports[ao->nports++] = (uint16_t)p;
    }
    return ao->nports ? 0 : -1;
}

int cmd_audit(int argc, char **argv)
{
    const char *cmd = "audit";
    check_options net = {0};
    cli_trust trust = {0};
    audit_options ao = {.net = &net};
    int json = 0, c, r;
    long v;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":" CLI_CHECK_SHORT_OPTIONS, audit_long, NULL)) != -1) {
        if ((r = cli_check_option(cmd, c, optarg, &net, &trust)) != CLI_CHECK_OPT_OTHER) {
            if (r != EXIT_PASS)
                return r;
            if (c == CLI_CHECK_OPT_PORT)
                return cli_usage_error(cmd, "use --ports LIST (audit asks several ports)");
            continue;
        }
        switch (c) {
        case OPT_PORTS:
            if (audit_parse_ports(optarg, &ao) != 0)
                return cli_usage_error(cmd, "--ports needs 1 to %d distinct ports, "
                                            "comma-separated (e.g. 25,465,587)",
                                       AUDIT_MAX_PORTS);
            break;
        case OPT_MAX_HANDSHAKES:
            if ((v = decimal_parse(optarg, 1, AUDIT_MAX_MAX_HANDSHAKES)) < 0)
                return cli_usage_error(cmd, "--max-handshakes needs a number from 1 to %d",
                                       AUDIT_MAX_MAX_HANDSHAKES);
            ao.max_handshakes = (int)v;
            break;
        case OPT_PACE:
            if ((v = decimal_parse(optarg, 0, 10000)) < 0)
                return cli_usage_error(cmd, "--pace needs milliseconds from 0 to 10000");
            ao.pace_ms = v == 0 ? -1 : (int)v;
            break;
        case OPT_JSON: json = 1; break;
        case OPT_HELP: fputs(audit_help, stdout); return EXIT_PASS;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(cmd, optind == argc ? "HOST or DOMAIN is required"
                                                   : "exactly one HOST or DOMAIN expected");
    ao.target = argv[optind];
    if ((r = cli_trust_check(cmd, &trust)) != EXIT_PASS)
        return r;
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return cli_nomem(cmd);
    if ((r = cli_trust_apply(cmd, ctx, &trust)) != EXIT_PASS) {
        mxtls_ctx_free(ctx);
        return r;
    }
    err_rec e;
    err_clear(&e);
    audit_report *rep = audit_run(ctx, &ao, &e);
    mxtls_ctx_free(ctx);
    if (!rep) {
        if (e.where[0])
            fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e.where, e.message);
        else
            fprintf(stderr, "mxtls %s: %s\n", cmd, e.message);
        return cli_exit_for_status(e.code ? e.code : MXTLS_ERR_NOMEM);
    }
    char *out = json ? audit_report_json(rep) : audit_report_text(rep, cli_use_color(stdout));
    int rc;
    if (!rep->reachable)
        rc = EXIT_TEMP;
    else if (rep->counts[AUDIT_ERROR] > 0)
        rc = EXIT_POLICY;
    else
        rc = EXIT_PASS;
    free(rep);
    if (!out)
        return cli_nomem(cmd);
    fputs(out, stdout);
    if (json)
        fputs("\n", stdout);
    free(out);
    return rc;
}
