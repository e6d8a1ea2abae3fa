/* cmd_policy.c - mxtls policy: look up or check a Postfix TLS policy map
 *
 * Uses the public API (mxtls_read_file, mxtls_policymap_*) and prints what
 * src/report/policy_report.h renders. The format, lookup order and errors
 * are described in docs/policymap.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/policymap.h"
#include "report/policy_report.h"

static const char policy_help[] =
    "usage: mxtls policy lookup --map FILE DESTINATION [--json]\n"
    "       mxtls policy check --map FILE [--fingerprint-digest D] [--json]\n"
    "\n"
    "Read a Postfix smtp_tls_policy_maps table in the text form postmap(1) reads\n"
    "and say which entry a next-hop destination gets (lookup), or whether the\n"
    "whole table is valid (check). 'mxtls policy lookup --help' and\n"
    "'mxtls policy check --help' describe each; docs/policymap.md the format.\n"
    "\n"
    "exit: 0 found / valid, 1 no entry applies, 2 usage or input error.\n";

static const char lookup_help[] =
    "usage: mxtls policy lookup --map FILE DESTINATION [--json]\n"
    "\n"
    "Print the entry of the policy map FILE ('-' = stdin) that Postfix would use\n"
    "for the next-hop DESTINATION: 'example.com' (then '.parent' entries, nearest\n"
    "first), '[host]', '[host]:port', 'host:port' (exactly that entry), and the\n"
    "mxtls default entry '*' when nothing else applies.\n"
    "\n"
    "  --map FILE   the policy map (required)\n"
    "  --json       one JSON object instead of text\n"
    "\n"
    "exit: 0 an entry applies, 1 no entry applies, 2 usage or input error\n"
    "(including any error in the map).\n";

static const char check_help[] =
    "usage: mxtls policy check --map FILE [--fingerprint-digest D] [--json]\n"
    "\n"
    "Parse the policy map FILE ('-' = stdin) and print the number of entries, or\n"
    "the first error as FILE:LINE:COLUMN: message. Fingerprints that cannot be\n"
    "digests of the sender's algorithm are warned about (FILE:LINE: warning: ...).\n"
    "\n"
    "  --map FILE   the policy map (required)\n"
    "  --fingerprint-digest D  the sender's smtp_tls_fingerprint_digest: sha256\n"
    "               (default, as in Postfix 3.6 and later), sha1 or md5\n"
    "  --json       {\"file\":..., \"valid\":..., \"entries\" and \"warnings\", or\n"
    "               \"error\"} on stdout\n"
    "\n"
    "exit: 0 valid, 2 usage or input error (an invalid map).\n";

/* policy_load - read and parse the map; NULL after printing the error (or
 * leaving it in ctx for the caller when quiet) */
static mxtls_policymap *policy_load(mxtls_ctx *ctx, const char *cmd, const char *file, int quiet)
{
    size_t len = 0;
    char *text = mxtls_read_file(ctx, strcmp(file, "-") ? file : "/dev/stdin",
                                 MXTLS_MAX_INPUT_FILE, &len);
    mxtls_policymap *map = text ? mxtls_policymap_parse(ctx, text, len, file) : NULL;
    free(text);
    if (!map && !quiet)
        cli_ctx_error(cmd, ctx);
    return map;
}

/* policy_print - a rendered report (and a newline after JSON); EXIT_TEMP when
 * it could not be made */
static int policy_print(const char *cmd, char *doc, int json)
{
    if (!doc) {
        fprintf(stderr, "mxtls %s: out of memory\n", cmd);
        return EXIT_TEMP;
    }
    fputs(doc, stdout);
    if (json)
        fputc('\n', stdout);
    free(doc);
    return EXIT_PASS;
}

/* policy_options - parse --map/--json/--help; returns -1 to go on, else an exit code */
static int policy_options(int argc, char **argv, const char *cmd, const char *help,
                          const char **map, int *json, const char **digest)
{
    static const struct option opts[] = {
        {"map", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {"fingerprint-digest", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': *map = optarg; break;
        case 'j': *json = 1; break;
        case 'd':
            if (!digest)
                return cli_usage_error(cmd, "--fingerprint-digest is for policy check");
            if (strcmp(optarg, "sha256") && strcmp(optarg, "sha1") && strcmp(optarg, "md5"))
                return cli_usage_error(cmd, "--fingerprint-digest must be sha256, sha1 or md5");
            *digest = optarg;
            break;
        case 'h': fputs(help, stdout); return EXIT_PASS;
        case ':': return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!*map)
        return cli_usage_error(cmd, "--map FILE is required");
    return -1;
}

/* policy_lookup - mxtls policy lookup --map FILE DESTINATION [--json] */
static int policy_lookup(int argc, char **argv)
{
    const char *cmd = "policy lookup", *file = NULL;
    int json = 0;
    int rc = policy_options(argc, argv, cmd, lookup_help, &file, &json, NULL);
    if (rc >= 0)
        return rc;
    if (optind + 1 != argc)
        return cli_usage_error(cmd, optind == argc ? "a DESTINATION is required"
                                                   : "exactly one DESTINATION is expected");
    const char *dest = argv[optind];
    if (!*dest)
        return cli_usage_error(cmd, "the DESTINATION is empty");
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return cli_nomem(cmd);
    mxtls_policymap *map = policy_load(ctx, cmd, file, 0);
    if (!map) {
        rc = cli_exit_for_status(mxtls_ctx_error_code(ctx));
        mxtls_ctx_free(ctx);
        return rc;
    }
    /* policymap_find, not mxtls_policymap_lookup: out of memory is not "no entry" */
    const mxtls_policy_entry *e = NULL;
    if (policymap_find(map, dest, &e) != MXTLS_OK) {
        fprintf(stderr, "mxtls %s: out of memory\n", cmd);
        mxtls_policymap_free(map);
        mxtls_ctx_free(ctx);
        return EXIT_TEMP;
    }
    rc = policy_print(cmd, json ? policy_report_lookup_json(file, dest, e)
                                : policy_report_lookup_text(file, dest, e),
                      json);
    if (rc == EXIT_PASS && !e)
        rc = EXIT_POLICY;
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    return rc;
}

/* policy_check - mxtls policy check --map FILE [--json] */
static int policy_check(int argc, char **argv)
{
    const char *cmd = "policy check", *file = NULL;
    int json = 0;
    const char *digest = "sha256";
    int rc = policy_options(argc, argv, cmd, check_help, &file, &json, &digest);
    if (rc >= 0)
        return rc;
    if (optind != argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return cli_nomem(cmd);
    mxtls_policymap *map = policy_load(ctx, cmd, file, json);
    size_t n = mxtls_policymap_count(map);
    char *warn = map ? mxtls_policymap_warnings(ctx, map, digest) : NULL;
    if (map && !warn && mxtls_ctx_error_code(ctx) == MXTLS_ERR_NOMEM) {
        fprintf(stderr, "mxtls %s: out of memory\n", cmd);
        mxtls_policymap_free(map);
        mxtls_ctx_free(ctx);
        return EXIT_TEMP;
    }
    rc = EXIT_PASS;
    if (json && map)
        rc = policy_print(cmd, policy_report_check_json(file, n, warn), 1);
    else if (json)
        rc = policy_print(cmd,
                          policy_report_check_error_json(file, mxtls_ctx_error_where(ctx),
                                                         mxtls_ctx_error(ctx)),
                          1);
    else if (map)
        rc = policy_print(cmd, policy_report_check_text(file, n, warn), 0);
    if (rc == EXIT_PASS && !map)
        rc = EXIT_USAGE;
    free(warn);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    return rc;
}

/* cmd_policy - dispatch "mxtls policy SUBCOMMAND" (argv[0] is "policy") */
int cmd_policy(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("policy", "a subcommand is required: lookup or check");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(policy_help, stdout);
        return EXIT_PASS;
    }
    if (!strcmp(sub, "lookup"))
        return policy_lookup(argc - 1, argv + 1);
    if (!strcmp(sub, "check"))
        return policy_check(argc - 1, argv + 1);
    return cli_usage_error("policy", "unknown subcommand '%s' (lookup or check)", sub);
}
