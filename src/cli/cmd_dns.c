/* cmd_dns.c - mxtls dns: what mxtls resolves for a mail domain, and how it was secured
 *
 * Runs the DNS adapter (src/io/dns.h) on a libevent loop: the domain's MX
 * RRset (null MX, RFC 7505; no MX: implicit MX, RFC 5321 §5.1), then for
 * every mail host its A, AAAA and TLSA (_25._tcp.HOST, RFC 7672 §2.2.3)
 * lookups, all at once. Every lookup is reported with its outcome and DNSSEC
 * status; src/report/dns_report.h renders the report. The DNS adapter is not
 * part of the public API yet, so this command uses the internal header;
 * docs/dns.md describes both. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "cli/cli.h"
#include "core/mx.h"
#include "core/names.h"
#include "io/dns.h"
#include "report/dns_report.h"

static const char dns_help[] =
    "usage: mxtls dns DOMAIN [--type mx|a|aaaa|ptr|tlsa|txt|all]\n"
    "                 [--resolver ADDR[@PORT]] [--trust-anchor FILE] [--root-hints FILE]\n"
    "                 [--timeout SECONDS] [--json]\n"
    "\n"
    "Show what mxtls resolves for a mail domain and how each answer was secured\n"
    "(DNSSEC: secure, insecure, bogus, indeterminate).\n"
    "\n"
    "  --type all        (default) the MX RRset of DOMAIN (null MX, or the domain\n"
    "                    itself when it has none), then A, AAAA and TLSA\n"
    "                    (_25._tcp.HOST) of every mail host\n"
    "  --type mx|a|aaaa|txt  that one lookup of DOMAIN\n"
    "  --type ptr        the PTR of DOMAIN, an IPv4 or IPv6 address (or a\n"
    "                    reverse name)\n"
    "  --type tlsa       the TLSA RRset of the SMTP service of host DOMAIN\n"
    "                    (_25._tcp.DOMAIN; a DOMAIN starting with '_' is used as is)\n"
    "  --resolver ADDR[@PORT]  forward to this resolver (answers are still\n"
    "                    validated here); default: embedded recursive resolver\n"
    "  --trust-anchor FILE  DS/DNSKEY records of the root (default\n"
    "                    " DNS_DEFAULT_TRUST_ANCHOR ")\n"
    "  --root-hints FILE  a private root (tests); also lets special-use names\n"
    "                    such as test. and servers on 127.0.0.0/8 be used\n"
    "  --timeout SECONDS  per lookup (default 10)\n"
    "  --json            one JSON object on standard output\n"
    "\n"
    "exit: 0 every lookup was answered (data, no data or NXDOMAIN), 2 usage or\n"
    "input error, 3 some lookup failed (SERVFAIL, bogus, timeout).\n";

#define DNS_CLI_MAX_HOSTS 32 /* mail hosts followed up (an MX RRset can be larger) */

typedef struct lookup {
    char *name;
    uint16_t type;
    dns_answer *a;
} lookup;

typedef struct dns_run {
    const char *cmd;
    dns_resolver *res;
    lookup **v;       /* in report order */
    size_t n, cap;
    int pending;
    int all;          /* --type all */
    const char *mail; /* all: "mx", "null-mx", "implicit-mx", "none", "unknown" */
    int failed;       /* a lookup could not be started (out of memory) */
} dns_run;

/* dns_cli_started - a lookup slot appended in report order, or NULL */
static lookup *dns_cli_add(dns_run *run, const char *name, uint16_t type)
{
    if (run->n == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 16;
        lookup **v = realloc(run->v, cap * sizeof *v);
        if (!v)
            return NULL;
        run->v = v;
        run->cap = cap;
    }
    lookup *l = calloc(1, sizeof *l);
    if (!l || !(l->name = strdup(name))) {
        free(l);
        return NULL;
    }
    l->type = type;
    run->v[run->n++] = l;
    return l;
}

static void dns_cli_host_done(void *arg, dns_answer *a);
static void dns_cli_mx_done(void *arg, dns_answer *a);

typedef struct cb_arg {
    dns_run *run;
    lookup *l;
} cb_arg;

/* dns_cli_start - add a lookup and start it */
static void dns_cli_start(dns_run *run, const char *name, uint16_t type, dns_cb cb)
{
    lookup *l = dns_cli_add(run, name, type);
    cb_arg *ca = l ? malloc(sizeof *ca) : NULL;
    if (!ca) {
        run->failed = 1;
        return;
    }
    ca->run = run;
    ca->l = l;
    err_rec e;
    if (dns_resolve(run->res, name, type, cb, ca, &e) != 0) {
        /* The name came from DNS or was checked already: only a local failure
         * gets here; report it as that lookup's error. */
        l->a = dnsmsg_answer_new(name, type, DNS_ERROR, e.message);
        free(ca);
        if (!l->a)
            run->failed = 1;
        return;
    }
    run->pending++;
}

/* dns_cli_host_done - an A, AAAA or TLSA answer */
static void dns_cli_host_done(void *arg, dns_answer *a)
{
    cb_arg *ca = arg;
    ca->l->a = a;
    ca->run->pending--;
    free(ca);
}

/* dns_cli_follow_host - A, AAAA and TLSA lookups of one mail host */
static void dns_cli_follow_host(dns_run *run, const char *host)
{
    char tlsa[MXTLS_MAX_NAME + 16];
    dns_cli_start(run, host, DNS_T_A, dns_cli_host_done);
    dns_cli_start(run, host, DNS_T_AAAA, dns_cli_host_done);
    /* RFC 7672 §2.2.3: the TLSA base domain is the MX host name. */
    snprintf(tlsa, sizeof tlsa, "_25._tcp.%s", host);
    dns_cli_start(run, tlsa, DNS_T_TLSA, dns_cli_host_done);
}

/* dns_cli_mx_done - the MX answer decides which hosts are looked up next */
static void dns_cli_mx_done(void *arg, dns_answer *a)
{
    cb_arg *ca = arg;
    dns_run *run = ca->run;
    ca->l->a = a;
    run->pending--;
    free(ca);
    if (a->qtype == DNS_T_MX) /* report and follow in preference order */
        mx_sort(a->rr, a->n);
    if (!run->all)
        return;
    switch (a->outcome) {
    case DNS_DATA:
        break;
    case DNS_NODATA:
        /* RFC 5321 §5.1: no MX records, the domain itself is the mail host. */
        run->mail = "implicit-mx";
        dns_cli_follow_host(run, a->qname);
        return;
    case DNS_NXDOMAIN:
        run->mail = "none";
        return;
    default:
        run->mail = "unknown";
        return;
    }
    if (a->n == 1 && mx_is_null_target(a->rr[0].text)) {
        run->mail = "null-mx"; /* RFC 7505: the domain accepts no mail */
        return;
    }
    run->mail = "mx";
    size_t followed = 0; /* "." is no host (RFC 7505 §3); each host once */
    for (size_t i = mx_next(a->rr, a->n, 0); i < a->n && followed < DNS_CLI_MAX_HOSTS;
         i = mx_next(a->rr, a->n, i + 1)) {
        dns_cli_follow_host(run, a->rr[i].text);
        followed++;
    }
}

/* ---- command ------------------------------------------------------------------ */

/* dns_cli_type - --type argument: a DNS type, 0 for all, -1 unknown */
static int dns_cli_type(const char *s)
{
    static const struct {
        const char *name;
        int type;
    } types[] = {{"all", 0},          {"mx", DNS_T_MX},     {"a", DNS_T_A},
                 {"aaaa", DNS_T_AAAA}, {"ptr", DNS_T_PTR},   {"tlsa", DNS_T_TLSA},
                 {"txt", DNS_T_TXT}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(s, types[i].name) == 0)
            return types[i].type;
    return -1;
}

/* dns_cli_free - everything a run holds */
static void dns_cli_free(dns_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        dns_answer_free(run->v[i]->a);
        free(run->v[i]->name);
        free(run->v[i]);
    }
    free(run->v);
}

/* cmd_dns - the command; its prototype belongs in cli.h with the others */
int cmd_dns(int argc, char **argv);
int cmd_dns(int argc, char **argv)
{
    static const char *cmd = "dns";
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {"resolver", required_argument, NULL, 'r'},
        {"trust-anchor", required_argument, NULL, 'T'},
        {"root-hints", required_argument, NULL, 'R'},
        {"timeout", required_argument, NULL, 'w'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    dns_config cfg = {0};
    int type = 0, json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            type = dns_cli_type(optarg);
            if (type < 0)
                return cli_usage_error(cmd, "unknown --type '%s' (mx, a, aaaa, ptr, tlsa, txt "
                                            "or all)", optarg);
            break;
        case 'r': cfg.resolver = optarg; break;
        case 'T': cfg.trust_anchor = optarg; break;
        case 'R': cfg.root_hints = optarg; break;
        case 'w': {
            char *end;
            double s = strtod(optarg, &end);
            if (end == optarg || *end || !(s > 0) || s > 600)
                return cli_usage_error(cmd, "--timeout wants a number of seconds above 0 and "
                                            "at most 600 (fractions allowed), not '%s'",
                                       optarg);
            cfg.timeout_ms = (int)(s * 1000 + 0.5);
            if (cfg.timeout_ms < 1)
                cfg.timeout_ms = 1;
            break;
        }
        case 'j': json = 1; break;
        case 'h': fputs(dns_help, stdout); return EXIT_PASS;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(cmd, optind == argc ? "a DOMAIN is required"
                                                   : "exactly one DOMAIN is expected");
    const char *arg = argv[optind];

    /* The name to ask for. */
    char qname[MXTLS_MAX_NAME + 32];
    char *domain = NULL;
    if (type == DNS_T_PTR && dns_ptr_name(arg, qname, sizeof qname) == 0) {
        domain = strdup(arg);
    } else {
        err_rec e;
        err_clear(&e);
        /* Reverse and service names ("_25._tcp.host") are not host names;
         * names_normalize allows '_' and converts U-labels (IDNA2008). */
        domain = names_normalize(arg, 0, &e);
        if (!domain)
            return cli_usage_error(cmd, "'%s' is not a domain name: %s", arg, e.message);
        if (type == DNS_T_TLSA && domain[0] != '_')
            snprintf(qname, sizeof qname, "_25._tcp.%s", domain);
        else
            snprintf(qname, sizeof qname, "%s", domain);
        char norm[MXTLS_MAX_NAME + 2];
        if (dnsmsg_name_normalize(qname, norm, sizeof norm) != 0) {
            free(domain);
            return cli_usage_error(cmd, "'%s' is too long for a DNS name", qname);
        }
    }
    if (!domain)
        return cli_nomem(cmd);

    struct event_base *base = event_base_new();
    if (!base) {
        free(domain);
        fprintf(stderr, "mxtls %s: cannot create an event loop (out of memory or file "
                        "descriptors)\n", cmd);
        return EXIT_LOCAL;
    }
    err_rec e;
    err_clear(&e);
    dns_run run = {.cmd = cmd, .all = type == 0};
    run.res = dns_resolver_new(base, &cfg, &e);
    if (!run.res) {
        if (*e.where)
            fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e.where, e.message);
        else
            fprintf(stderr, "mxtls %s: %s\n", cmd, e.message);
        event_base_free(base);
        free(domain);
        return cli_exit_for_status(e.code);
    }
    dns_cli_start(&run, qname, type == 0 ? DNS_T_MX : (uint16_t)type, dns_cli_mx_done);
    /* Run until our lookups are answered: libunbound may keep timers of its
     * own on the loop (outstanding probes), which need not delay the report. */
    while (run.pending > 0)
        if (event_base_loop(base, EVLOOP_ONCE) < 0)
            break;

    int rc = run.failed ? EXIT_LOCAL : EXIT_PASS;
    for (size_t i = 0; i < run.n; i++) {
        const dns_answer *a = run.v[i]->a;
        if (!a || a->outcome == DNS_SERVFAIL || a->outcome == DNS_TIMEOUT ||
            a->outcome == DNS_ERROR)
            rc = run.failed ? EXIT_LOCAL : EXIT_TEMP;
    }
    const dns_answer **answers = calloc(run.n ? run.n : 1, sizeof *answers);
    char *doc = NULL;
    if (answers) {
        for (size_t i = 0; i < run.n; i++)
            answers[i] = run.v[i]->a;
        dns_report rep = {.domain = domain, .cfg = &cfg, .all = run.all, .mail = run.mail,
                          .answers = answers, .n = run.n};
        doc = json ? dns_report_json(&rep) : dns_report_text(&rep, cli_use_color(stdout));
        free(answers);
    }
    if (doc) {
        fputs(doc, stdout);
        if (json)
            fputc('\n', stdout);
        free(doc);
    } else {
        fprintf(stderr, "mxtls %s: out of memory: no report\n", cmd);
        rc = EXIT_TEMP;
    }
    if (run.failed)
        fprintf(stderr, "mxtls %s: out of memory: some lookups were not made\n", cmd);
    dns_resolver_free(run.res);
    dns_cli_free(&run);
    event_base_free(base);
    free(domain);
    return rc;
}
