/* cmd_verify.c - mxtls verify: verdicts for a chain given as files (offline) */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ctx.h"
#include "core/evidence.h"
#include "core/mtasts.h"

#define VERIFY_MAX_REPEAT 64 /* --mx, --ptr, --route given more often is a usage error */

static const char verify_help[] =
    "usage: mxtls verify --chain FILE --domain DOMAIN [options]\n"
    "\n"
    "Evaluate a PEM certificate chain (leaf first) as if the MX host had presented it,\n"
    "and print what a sender at each policy level would do, and why.\n"
    "\n"
    "evidence:\n"
    "  --chain FILE           PEM chain the server presented, leaf first ('-' = stdin)\n"
    "  --no-starttls          the server offers no STARTTLS (no chain)\n"
    "  --domain DOMAIN        recipient domain (the next-hop)\n"
    "  --mx HOST              MX host that presented the chain; repeat for the\n"
    "                         domain's other MX hosts (default: the domain itself)\n"
    "  --mx-secure            the MX lookup was DNSSEC-validated\n"
    "  --ip ADDR              address the sender connected to\n"
    "  --ptr NAME             a PTR name of ADDR; follow with --ptr-confirmed when\n"
    "                         NAME's A/AAAA records contain ADDR\n"
    "  --route HOST           explicitly configured next hop (transport table, ESA\n"
    "                         SMTP route): HOST, [HOST], [HOST]:PORT, or an address\n"
    "                         (192.0.2.1, [192.0.2.1], [2001:db8::1]); repeatable.\n"
    "                         Without --mx the first route presented the chain\n"
    "  --tlsa \"U S M HEX\"     a TLSA record of the host (repeatable); with one of:\n"
    "  --tlsa-secure          the TLSA RRset was DNSSEC-validated (without --tlsa:\n"
    "                         securely denied, no records)\n"
    "  --tlsa-insecure        the TLSA RRset came from an unsigned zone\n"
    "  --tlsa-bogus           the TLSA lookup failed DNSSEC validation\n"
    "  --tlsa-base NAME       TLSA base domain when it is not the MX host (CNAME)\n"
    "  --sts-policy FILE      the domain's MTA-STS policy (the text served at\n"
    "                         https://mta-sts.DOMAIN/.well-known/mta-sts.txt) for\n"
    "                         level mta-sts; without it that level acts as may\n"
    "  --requiretls           the server lists REQUIRETLS in its EHLO reply after\n"
    "                         STARTTLS (level requiretls, RFC 8689)\n"
    "policy:\n"
    "  --level LEVEL          none may encrypt fingerprint verify secure dane dane-only\n"
    "                         esa-preferred\n"
    "                         esa-required esa-preferred-verify esa-required-verify\n"
    "                         esa-required-verify-hosted mta-sts requiretls (default:\n"
    "                         all, as a table)\n"
    "  --match LIST           Postfix match= list: for verify/secure names or\n"
    "                         strategies (hostname:nexthop:dot-nexthop:.example.com);\n"
    "                         for fingerprint digests separated by '|'\n"
    "  --fingerprint-digest D sha256 (default), sha1 or md5\n"
    "trust:\n"
    "  --ca-file FILE         trust these CA certificates instead of the system store\n"
    "  --ca-path DIR          trust this hashed CA directory instead of the system store\n"
    "  --at TIME              validate at TIME (2026-06-01T00:00:00Z) instead of now\n"
    "  --revocation MODE      report (default: a revoked certificate is a warning;\n"
    "                         Postfix and Cisco ESA check none), soft (revoked fails),\n"
    "                         hard (no answer is a temporary failure too) or off\n"
    "  --revocation-status S  what a revocation check found: good, revoked, unknown,\n"
    "                         unavailable (default: not checked)\n"
    "output:\n"
    "  --json                 JSON (docs/json.md)\n"
    "\n"
    "exit: 0 pass (or table printed), 1 the sender would not deliver, 2 usage or\n"
    "input error, 3 temporary failure (the sender would defer), 4 local failure.\n";

enum {
    OPT_CHAIN = 256, OPT_NO_STARTTLS, OPT_DOMAIN, OPT_MX, OPT_MX_SECURE, OPT_IP, OPT_PTR,
    OPT_PTR_CONFIRMED, OPT_ROUTE, OPT_LEVEL, OPT_MATCH, OPT_FPDIGEST, OPT_CA_FILE,
    OPT_CA_PATH, OPT_AT, OPT_JSON, OPT_HELP, OPT_REVOCATION, OPT_REVSTATUS, OPT_TLSA,
    OPT_TLSA_SECURE, OPT_TLSA_INSECURE, OPT_TLSA_BOGUS, OPT_TLSA_BASE, OPT_STS_POLICY, OPT_REQUIRETLS
};

static const struct option verify_options[] = {
    {"chain", required_argument, NULL, OPT_CHAIN},
    {"no-starttls", no_argument, NULL, OPT_NO_STARTTLS},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"mx", required_argument, NULL, OPT_MX},
    {"mx-secure", no_argument, NULL, OPT_MX_SECURE},
    {"ip", required_argument, NULL, OPT_IP},
    {"ptr", required_argument, NULL, OPT_PTR},
    {"ptr-confirmed", no_argument, NULL, OPT_PTR_CONFIRMED},
    {"route", required_argument, NULL, OPT_ROUTE},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"match", required_argument, NULL, OPT_MATCH},
    {"fingerprint-digest", required_argument, NULL, OPT_FPDIGEST},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"ca-path", required_argument, NULL, OPT_CA_PATH},
    {"at", required_argument, NULL, OPT_AT},
    {"json", no_argument, NULL, OPT_JSON},
    {"revocation", required_argument, NULL, OPT_REVOCATION},
    {"revocation-status", required_argument, NULL, OPT_REVSTATUS},
    {"tlsa", required_argument, NULL, OPT_TLSA},
    {"tlsa-secure", no_argument, NULL, OPT_TLSA_SECURE},
    {"tlsa-insecure", no_argument, NULL, OPT_TLSA_INSECURE},
    {"tlsa-bogus", no_argument, NULL, OPT_TLSA_BOGUS},
    {"tlsa-base", required_argument, NULL, OPT_TLSA_BASE},
    {"sts-policy", required_argument, NULL, OPT_STS_POLICY},
    {"requiretls", no_argument, NULL, OPT_REQUIRETLS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

struct verify_args {
    const char *chain, *domain, *ip, *level, *match, *fpdigest, *ca_file, *ca_path, *at;
    const char *revocation, *revstatus, *tlsa_base, *sts_policy;
    const char *tlsa[VERIFY_MAX_REPEAT];
    int ntlsa, tlsa_state; /* tlsa_state: 0 none given, else mxtls_tlsa_state */
    const char *mx[VERIFY_MAX_REPEAT], *ptr[VERIFY_MAX_REPEAT], *route[VERIFY_MAX_REPEAT];
    int ptr_confirmed[VERIFY_MAX_REPEAT];
    int nmx, nptr, nroute, mx_secure, no_starttls, json, requiretls;
};

/* verify_parse - options into args; returns -1 after printing a usage error */
static int verify_parse(int argc, char **argv, struct verify_args *a, int *help)
{
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", verify_options, NULL)) != -1) {
        switch (c) {
        case OPT_CHAIN: a->chain = optarg; break;
        case OPT_STS_POLICY: a->sts_policy = optarg; break;
        case OPT_REQUIRETLS: a->requiretls = 1; break;
        case OPT_NO_STARTTLS: a->no_starttls = 1; break;
        case OPT_DOMAIN: a->domain = optarg; break;
        case OPT_MX_SECURE: a->mx_secure = 1; break;
        case OPT_IP: a->ip = optarg; break;
        case OPT_LEVEL: a->level = optarg; break;
        case OPT_MATCH: a->match = optarg; break;
        case OPT_FPDIGEST: a->fpdigest = optarg; break;
        case OPT_CA_FILE: a->ca_file = optarg; break;
        case OPT_CA_PATH: a->ca_path = optarg; break;
        case OPT_AT: a->at = optarg; break;
        case OPT_JSON: a->json = 1; break;
        case OPT_REVOCATION: a->revocation = optarg; break;
        case OPT_REVSTATUS: a->revstatus = optarg; break;
        case OPT_TLSA_BASE: a->tlsa_base = optarg; break;
        case OPT_TLSA:
            if (a->ntlsa >= VERIFY_MAX_REPEAT)
                return cli_usage_error("verify", "at most %d --tlsa options", VERIFY_MAX_REPEAT),
                       -1;
            a->tlsa[a->ntlsa++] = optarg;
            break;
        case OPT_TLSA_SECURE:
        case OPT_TLSA_INSECURE:
        case OPT_TLSA_BOGUS:
            if (a->tlsa_state)
                return cli_usage_error("verify", "give one of --tlsa-secure, --tlsa-insecure, "
                                                 "--tlsa-bogus"),
                       -1;
            a->tlsa_state = c == OPT_TLSA_SECURE ? MXTLS_TLSA_SECURE
                            : c == OPT_TLSA_INSECURE ? MXTLS_TLSA_INSECURE
                                                     : MXTLS_TLSA_BOGUS;
            break;
        case OPT_HELP: *help = 1; return 0;
        case OPT_MX:
        case OPT_PTR:
        case OPT_ROUTE: {
            const char **v = c == OPT_MX ? a->mx : c == OPT_PTR ? a->ptr : a->route;
            int *n = c == OPT_MX ? &a->nmx : c == OPT_PTR ? &a->nptr : &a->nroute;
            if (*n >= VERIFY_MAX_REPEAT)
                return cli_usage_error("verify", "at most %d --mx, --ptr or --route options",
                                       VERIFY_MAX_REPEAT),
                       -1;
            v[(*n)++] = optarg;
            break;
        }
        case OPT_PTR_CONFIRMED:
            if (a->nptr == 0)
                return cli_usage_error("verify", "--ptr-confirmed must follow a --ptr NAME"),
                       -1;
            a->ptr_confirmed[a->nptr - 1] = 1;
            break;
        case ':':
            return cli_usage_error("verify", "option '%s' needs a value", argv[optind - 1]), -1;
        default:
            return cli_usage_error("verify", "unknown option '%s'", argv[optind - 1]), -1;
        }
    }
    if (optind < argc)
        return cli_usage_error("verify", "unexpected argument '%s'", argv[optind]), -1;
    if (!a->domain)
        return cli_usage_error("verify", "--domain is required"), -1;
    if (!a->chain && !a->no_starttls)
        return cli_usage_error("verify", "--chain FILE is required (or --no-starttls)"), -1;
    if (a->chain && a->no_starttls)
        return cli_usage_error("verify", "--chain and --no-starttls exclude each other"), -1;
    if (a->ca_file && a->ca_path)
        return cli_usage_error("verify", "give --ca-file or --ca-path, not both"), -1;
    if (a->match && !a->level)
        return cli_usage_error("verify", "--match belongs to one level (names for verify and "
                                         "secure, digests for fingerprint): give --level"), -1;
    if (a->ntlsa && !a->tlsa_state)
        return cli_usage_error("verify", "say how the TLSA records were obtained: "
                                         "--tlsa-secure, --tlsa-insecure or --tlsa-bogus"), -1;
    if (a->tlsa_base && !a->tlsa_state)
        return cli_usage_error("verify", "--tlsa-base needs --tlsa-secure, --tlsa-insecure "
                                         "or --tlsa-bogus"), -1;
    if (a->revocation && mxtls_revocation_mode_from_name(a->revocation) < 0)
        return cli_usage_error("verify", "--revocation must be report, soft, hard or off"), -1;
    if (a->revstatus && mxtls_revocation_status_from_name(a->revstatus) < 0)
        return cli_usage_error("verify", "--revocation-status must be good, revoked, unknown "
                                         "or unavailable"), -1;
    return 0;
}

/* verify_build - context and evidence from the arguments */
static int verify_build(const struct verify_args *a, mxtls_ctx *ctx, mxtls_evidence *ev)
{
    if (a->ca_file && mxtls_ctx_set_ca_file(ctx, a->ca_file))
        return -1;
    if (a->ca_path && mxtls_ctx_set_ca_path(ctx, a->ca_path))
        return -1;
    if (mxtls_evidence_set_domain(ctx, ev, a->domain))
        return -1;
    for (int i = 0; i < a->nmx; i++)
        if (mxtls_evidence_add_mx(ctx, ev, a->mx[i]))
            return -1;
    mxtls_evidence_set_mx_secure(ev, a->mx_secure);
    if (a->ip && mxtls_evidence_set_ip(ctx, ev, a->ip))
        return -1;
    for (int i = 0; i < a->nptr; i++)
        if (mxtls_evidence_add_ptr(ctx, ev, a->ptr[i], a->ptr_confirmed[i]))
            return -1;
    for (int i = 0; i < a->nroute; i++)
        if (mxtls_evidence_add_route(ctx, ev, a->route[i]))
            return -1;
    /* Without --mx the first route is the next hop that presented the chain
     * (Postfix "hostname"), as with check --route. */
    if (a->nroute && !a->nmx && evidence_set_host(ev, ev->routes.v[0], &ctx->err) != MXTLS_OK)
        return -1;
    /* A route given as an address is the address connected to. */
    if (a->nroute && !a->ip && evidence_is_ip(ev->routes.v[0]) &&
        mxtls_evidence_set_ip(ctx, ev, ev->routes.v[0]))
        return -1;
    if (a->match && mxtls_evidence_set_match(ctx, ev, a->match))
        return -1;
    if (a->fpdigest && mxtls_evidence_set_fingerprint_digest(ctx, ev, a->fpdigest))
        return -1;
    mxtls_evidence_set_no_tls(ev, a->no_starttls);
    for (int i = 0; i < a->ntlsa; i++)
        if (mxtls_evidence_add_tlsa(ctx, ev, a->tlsa[i]))
            return -1;
    if (a->tlsa_state) {
        mxtls_tlsa_state st = (mxtls_tlsa_state)a->tlsa_state;
        if (st == MXTLS_TLSA_SECURE && a->ntlsa == 0)
            st = MXTLS_TLSA_NONE;
        if (mxtls_evidence_set_tlsa_state(ctx, ev, st, a->tlsa_base, "given on the command line"))
            return -1;
    }
    if (a->revocation)
        mxtls_ctx_set_revocation(ctx, (mxtls_revocation_mode)mxtls_revocation_mode_from_name(a->revocation));
    if (a->revstatus &&
        mxtls_evidence_set_revocation(ctx, ev,
                                      (mxtls_revocation_status)mxtls_revocation_status_from_name(a->revstatus),
                                      "given with --revocation-status"))
        return -1;
    mxtls_evidence_set_requiretls(ev, a->requiretls);
    if (a->sts_policy) {
        size_t len = 0;
        /* one byte over the cap, so that a larger file is a policy error */
        char *text = mxtls_read_file(ctx, a->sts_policy, MTASTS_POLICY_MAX + 1, &len);
        if (!text)
            return -1;
        mxtls_status st = mxtls_evidence_set_sts_policy(ctx, ev, text, len, a->sts_policy);
        free(text);
        if (st)
            return -1;
    }
    if (a->chain) {
        size_t len = 0;
        const char *path = strcmp(a->chain, "-") == 0 ? "/dev/stdin" : a->chain;
        char *pem = mxtls_read_file(ctx, path, MXTLS_MAX_INPUT_FILE, &len);
        if (!pem)
            return -1;
        mxtls_status st = mxtls_evidence_set_chain_pem(ctx, ev, pem, len, a->chain);
        free(pem);
        if (st)
            return -1;
    }
    return 0;
}

/* verify_check_fingerprints - --match at level fingerprint: '|'-separated
 * (commas and blanks too) digests in hex, optionally with ':' after each
 * byte, as a policy map's match= (docs/policymap.md); 0 or EXIT_USAGE */
static int verify_check_fingerprints(const char *list)
{
    const char *seps = "|, \t";
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, seps);
        size_t i = 0, bytes = 0;
        int ok = n > 0;
        while (ok && i < n) {
            ok = i + 1 < n && isxdigit((unsigned char)p[i]) && isxdigit((unsigned char)p[i + 1]);
            i += 2;
            bytes++;
            if (ok && i < n && p[i] == ':')
                i++;
        }
        if (n > 0 && (!ok || bytes > 64))
            return cli_usage_error("verify", "--match: \"%.*s\" is not a fingerprint (hex "
                                             "digits, optionally with \":\" after each byte, "
                                             "such as AB:CD:...; several separated by \"|\")",
                                   n > 80 ? 80 : (int)n, p);
        p += n;
        while (*p && strchr(seps, *p))
            p++;
    }
    return 0;
}

/* verify_print - write a document and a final newline */
static int verify_print(char *doc)
{
    if (!doc)
        return cli_nomem("verify");
    fputs(doc, stdout);
    if (*doc && doc[strlen(doc) - 1] != '\n')
        fputc('\n', stdout);
    free(doc);
    return EXIT_PASS;
}

int cmd_verify(int argc, char **argv)
{
    struct verify_args a = {0};
    int help = 0;
    if (verify_parse(argc, argv, &a, &help) != 0)
        return EXIT_USAGE;
    if (help) {
        fputs(verify_help, stdout);
        return EXIT_PASS;
    }
    mxtls_level level = MXTLS_LEVEL_INVALID;
    if (a.level) {
        level = mxtls_level_from_name(a.level);
        if (level == MXTLS_LEVEL_INVALID)
            return cli_usage_error("verify", "unknown level '%s'", a.level);
        if (level == MXTLS_LEVEL_FINGERPRINT && !a.match)
            return cli_usage_error("verify", "level fingerprint needs --match with the "
                                             "expected fingerprint(s)");
        if (level == MXTLS_LEVEL_FINGERPRINT && verify_check_fingerprints(a.match) != 0)
            return EXIT_USAGE;
    }
    time_t at = 0;
    if (a.at && cli_parse_time(a.at, &at) != 0)
        return cli_usage_error("verify", "--at '%s' is not a UTC time like "
                                         "2026-06-01T00:00:00Z", a.at);

    int rc = EXIT_USAGE;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_evidence *ev = mxtls_evidence_new();
    if (!ctx || !ev) {
        rc = cli_nomem("verify");
        goto out;
    }
    if (at)
        mxtls_ctx_set_time(ctx, at);
    if (verify_build(&a, ctx, ev) != 0) {
        rc = cli_ctx_error("verify", ctx);
        goto out;
    }
    if (a.level) {
        mxtls_result *r = mxtls_evaluate(ctx, ev, level);
        if (!r) {
            rc = cli_ctx_error("verify", ctx);
            goto out;
        }
        rc = verify_print(a.json ? mxtls_result_json(r) : mxtls_result_text(r, cli_use_color(stdout)));
        if (rc == EXIT_PASS)
            rc = cli_exit_for_verdict(mxtls_result_verdict(r));
        mxtls_result_free(r);
    } else {
        size_t n = 0;
        const mxtls_level *levels = mxtls_levels(&n);
        mxtls_result **rs = calloc(n, sizeof *rs);
        if (!rs) {
            rc = cli_nomem("verify");
            goto out;
        }
        size_t done = 0;
        for (; done < n; done++) {
            rs[done] = mxtls_evaluate(ctx, ev, levels[done]);
            if (!rs[done])
                break;
        }
        if (done < n)
            rc = cli_ctx_error("verify", ctx);
        else
            rc = verify_print(a.json ? mxtls_results_json(rs, n)
                                     : mxtls_results_table_text(rs, n, cli_use_color(stdout)));
        for (size_t i = 0; i < done; i++)
            mxtls_result_free(rs[i]);
        free(rs);
    }
out:
    mxtls_evidence_free(ev);
    mxtls_ctx_free(ctx);
    return rc;
}
