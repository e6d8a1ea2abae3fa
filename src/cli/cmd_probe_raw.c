/* cmd_probe_raw.c - mxtls probe (raw part): one SMTP connection, the observations only
 *
 * No verdict here: this prints what the server said and negotiated. The full
 * `mxtls probe` (DNS, verdicts) builds on the same adapter and the same report
 * printers (src/report/probe_report.h). Until the public API wraps the probe
 * adapter, this command uses the internal headers. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include "cli/cli.h"
#include "io/probe.h"
#include "report/probe_report.h"

#define PROBE_RAW_MAX_TIMEOUT_S 3600.0

/* Declared here until src/cli/cli.h (not this file's owner) lists it. */
int cmd_probe_raw(int argc, char **argv);

static const char probe_raw_help[] =
    "usage: mxtls probe HOST[:PORT] --ip ADDR [options]\n"
    "\n"
    "Connect to one SMTP server, run the dialogue a sending MTA runs (greeting, EHLO,\n"
    "STARTTLS, TLS handshake, EHLO again, QUIT) and print what was observed: banner,\n"
    "capabilities before and after TLS, the STARTTLS reply, injected plaintext, the\n"
    "TLS version, cipher, key exchange group and peer key, the SNI sent, the chain\n"
    "as sent, and how the dialogue ended. Nothing is verified here.\n"
    "\n"
    "  HOST[:PORT]            the server's name (for SNI and display); [v6addr]:PORT\n"
    "                         for an address. PORT defaults to 25 (465 with\n"
    "                         --tls-on-connect)\n"
    "  --ip ADDR              the address to connect to (required for now)\n"
    "  --sni auto|none|NAME   server name to send: auto (default) sends HOST unless\n"
    "                         it is an address; none sends nothing\n"
    "  --tls-on-connect       implicit TLS (RFC 8314, port 465): TLS before the greeting\n"
    "  --no-starttls          do not upgrade even when STARTTLS is offered\n"
    "  --ehlo NAME            name to announce in EHLO (default: this host's name if\n"
    "                         it has a dot, else mxtls.invalid)\n"
    "  --timeout SECONDS      limit for the connect and for each SMTP phase (default\n"
    "                         10 for the connect, 30 per phase); the whole probe gets\n"
    "                         twice that (default 60)\n"
    "  --ocsp                 ask for a stapled OCSP response\n"
    "  --json                 JSON (docs/probe.md)\n"
    "\n"
    "exit: 0 the dialogue completed (with or without TLS), 2 usage error, 3 it did\n"
    "not (connect failure, refusal, TLS failure, timeout, protocol error).\n";

enum {
    OPT_IP = 256, OPT_SNI, OPT_TLS_ON_CONNECT, OPT_NO_STARTTLS, OPT_EHLO, OPT_TIMEOUT,
    OPT_OCSP, OPT_JSON, OPT_HELP
};

static const struct option probe_raw_options[] = {
    {"ip", required_argument, NULL, OPT_IP},
    {"sni", required_argument, NULL, OPT_SNI},
    {"tls-on-connect", no_argument, NULL, OPT_TLS_ON_CONNECT},
    {"no-starttls", no_argument, NULL, OPT_NO_STARTTLS},
    {"ehlo", required_argument, NULL, OPT_EHLO},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"ocsp", no_argument, NULL, OPT_OCSP},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

struct probe_raw_args {
    const char *target, *ip, *sni, *ehlo;
    char host[256];
    unsigned port;
    int tls_on_connect, no_starttls, ocsp, json, timeout_ms;
};

/* probe_raw_is_address - HOST is an IPv4 or IPv6 literal (no SNI for those: RFC 6066 §3) */
static int probe_raw_is_address(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* probe_raw_target - split HOST[:PORT] / [V6]:PORT / bare V6 into host and port */
static int probe_raw_target(struct probe_raw_args *a)
{
    const char *t = a->target, *port = NULL;
    size_t hlen;
    if (t[0] == '[') {
        const char *end = strchr(t, ']');
        if (!end || (end[1] && end[1] != ':'))
            return cli_usage_error("probe", "malformed target '%s' (use [ADDR]:PORT)", t), -1;
        hlen = (size_t)(end - t - 1);
        t++;
        port = end[1] == ':' ? end + 2 : NULL;
    } else {
        const char *colon = strchr(t, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 address: no port */
        hlen = colon ? (size_t)(colon - t) : strlen(t);
        port = colon ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof a->host)
        return cli_usage_error("probe", "HOST must be 1 to %zu bytes", sizeof a->host - 1), -1;
    memcpy(a->host, t, hlen);
    a->host[hlen] = '\0';
    a->port = a->tls_on_connect ? 465 : 25;
    if (port) {
        char *end = NULL;
        unsigned long v = strtoul(port, &end, 10);
        if (!*port || *end || v == 0 || v > 65535)
            return cli_usage_error("probe", "PORT must be 1..65535, not '%s'", port), -1;
        a->port = (unsigned)v;
    }
    return 0;
}

/* probe_raw_parse - options into args; -1 after printing a usage error */
static int probe_raw_parse(int argc, char **argv, struct probe_raw_args *a, int *help)
{
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", probe_raw_options, NULL)) != -1) {
        switch (c) {
        case OPT_IP: a->ip = optarg; break;
        case OPT_SNI: a->sni = optarg; break;
        case OPT_TLS_ON_CONNECT: a->tls_on_connect = 1; break;
        case OPT_NO_STARTTLS: a->no_starttls = 1; break;
        case OPT_EHLO: a->ehlo = optarg; break;
        case OPT_OCSP: a->ocsp = 1; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_HELP: *help = 1; return 0;
        case OPT_TIMEOUT: {
            char *end = NULL;
            double s = strtod(optarg, &end);
            if (!*optarg || *end || !isfinite(s) || s <= 0 || s > PROBE_RAW_MAX_TIMEOUT_S)
                return cli_usage_error("probe", "--timeout must be 0 < SECONDS <= %.0f",
                                       PROBE_RAW_MAX_TIMEOUT_S),
                       -1;
            a->timeout_ms = (int)(s * 1000.0 + 0.5);
            if (a->timeout_ms < 1)
                a->timeout_ms = 1;
            break;
        }
        case ':':
            return cli_usage_error("probe", "option '%s' needs a value", argv[optind - 1]), -1;
        default:
            return cli_usage_error("probe", "unknown option '%s'", argv[optind - 1]), -1;
        }
    }
    if (optind >= argc)
        return cli_usage_error("probe", "HOST is required"), -1;
    if (optind + 1 < argc)
        return cli_usage_error("probe", "unexpected argument '%s'", argv[optind + 1]), -1;
    a->target = argv[optind];
    if (probe_raw_target(a) != 0)
        return -1;
    if (!a->ip) {
        if (!probe_raw_is_address(a->host))
            return cli_usage_error("probe", "--ip ADDR is required (name resolution is not "
                                            "part of this command yet)"),
                   -1;
        a->ip = a->host;
    }
    if (a->tls_on_connect && a->no_starttls)
        return cli_usage_error("probe", "--tls-on-connect and --no-starttls exclude each other"),
               -1;
    return 0;
}

/* probe_raw_done - the probe's callback: keep the report, stop the loop */
static void probe_raw_done(void *arg, probe_report *r)
{
    *(probe_report **)arg = r;
}

/* probe_raw_ehlo_default - this host's name when it looks qualified: a bare
 * "localhost" or container id in EHLO is refused by many servers */
static const char *probe_raw_ehlo_default(char *buf, size_t n)
{
    if (gethostname(buf, n) == 0 && buf[n - 1] == '\0' && strchr(buf, '.') &&
        !strchr(buf, ' '))
        return buf;
    return "mxtls.invalid";
}

/* cmd_probe_raw - parse, probe once on a private loop, print; exit code from the outcome */
int cmd_probe_raw(int argc, char **argv)
{
    struct probe_raw_args a = {0};
    int help = 0;
    if (probe_raw_parse(argc, argv, &a, &help) != 0)
        return EXIT_USAGE;
    if (help) {
        fputs(probe_raw_help, stdout);
        return EXIT_PASS;
    }
    char hostname[256] = {0};
    const char *sni = NULL;
    if (!a.sni || !strcmp(a.sni, "auto"))
        sni = probe_raw_is_address(a.host) ? NULL : a.host;
    else if (strcmp(a.sni, "none") != 0)
        sni = a.sni;

    probe_config cfg = {
        .ip = a.ip,
        .port = (uint16_t)a.port,
        .ehlo_name = a.ehlo ? a.ehlo : probe_raw_ehlo_default(hostname, sizeof hostname),
        .sni = sni,
        .implicit_tls = a.tls_on_connect,
        .no_starttls = a.no_starttls,
        .want_ocsp_staple = a.ocsp,
        .connect_timeout_ms = a.timeout_ms,
        .phase_timeout_ms = a.timeout_ms,
        .total_timeout_ms = a.timeout_ms > 0 && a.timeout_ms <= 1000000000 / 2 ? 2 * a.timeout_ms : 0,
    };
    err_rec err;
    err_clear(&err);
    SSL_CTX *ctx = probe_ssl_ctx_new(&err);
    struct event_base *base = event_base_new();
    probe_report *rep = NULL;
    int rc = EXIT_TEMP;
    if (!ctx || !base) {
        fprintf(stderr, "mxtls probe: %s\n", ctx ? "cannot create the event loop" : err.message);
        goto out;
    }
    if (!probe_start(base, ctx, &cfg, probe_raw_done, &rep, &err)) {
        rc = err.code == MXTLS_ERR_INVALID ? EXIT_USAGE : EXIT_TEMP;
        fprintf(stderr, "mxtls probe: %s%s%s\n", err.where, err.where[0] ? ": " : "", err.message);
        goto out;
    }
    event_base_dispatch(base);
    if (!rep) {
        fprintf(stderr, "mxtls probe: the probe ended without a report\n");
        goto out;
    }
    char *doc = NULL;
    if (a.json) {
        jsonw w;
        jw_init(&w);
        /* docs/json.md: every document carries schema_version */
        jw_obj(&w);
        jw_kint(&w, "schema_version", 1);
        jw_key(&w, "probe");
        probe_report_json(&w, rep);
        jw_end_obj(&w);
        doc = jw_finish(&w);
    } else {
        doc = probe_report_text(rep, cli_use_color(stdout));
    }
    if (!doc) {
        fprintf(stderr, "mxtls probe: out of memory\n");
        goto out;
    }
    fputs(doc, stdout);
    if (*doc && doc[strlen(doc) - 1] != '\n')
        fputc('\n', stdout);
    free(doc);
    switch (rep->connected ? rep->smtp.outcome : SMTP_OUTCOME_NONE) {
    case SMTP_OUTCOME_OK_TLS:
    case SMTP_OUTCOME_OK_PLAINTEXT_NO_STARTTLS:
    case SMTP_OUTCOME_OK_PLAINTEXT_STARTTLS_SKIPPED:
        rc = EXIT_PASS;
        break;
    default:
        rc = EXIT_TEMP;
        break;
    }
out:
    probe_report_free(rep);
    if (base)
        event_base_free(base);
    SSL_CTX_free(ctx);
    return rc;
}
