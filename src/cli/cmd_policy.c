/* cmd_policy.c - mxtls policy: look up or check a Postfix TLS policy map
 *
 * Uses only the public API: mxtls_read_file, mxtls_policymap_*. The format,
 * lookup order and errors are described in docs/policymap.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char policy_help[] =
    "usage: mxtls policy lookup --map FILE DESTINATION [--json]\n"
    "       mxtls policy check --map FILE [--json]\n"
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
    "usage: mxtls policy check --map FILE [--json]\n"
    "\n"
    "Parse the policy map FILE ('-' = stdin) and print the number of entries, or\n"
    "the first error as FILE:LINE:COLUMN: message.\n"
    "\n"
    "  --map FILE   the policy map (required)\n"
    "  --json       {\"file\":..., \"valid\":..., \"entries\" or \"error\"} on stdout\n"
    "\n"
    "exit: 0 valid, 2 usage or input error (an invalid map).\n";

/* The attributes printed, in this order (mxtls_policy_entry_attr names). */
static const char *const policy_attrs[] = {
    "match", "protocols", "ciphers", "exclude", "tafile", "servername", "connection_reuse",
    "enable_rpk",
};

/* policy_utf8_len - length of the well-formed UTF-8 sequence at p, 0 if none
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) */
static size_t policy_utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* policy_json_string - a JSON string literal (docs/json.md: UTF-8 passes,
 * bytes that are not valid UTF-8 become U+FFFD, control characters escaped) */
static void policy_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p++);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\u%04x", *p++);
        } else if (*p < 0x80) {
            fputc(*p++, f);
        } else {
            size_t n = policy_utf8_len(p);
            if (n) {
                fwrite(p, 1, n, f);
                p += n;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

/* policy_matched_by - how the entry was found: "exact", "subdomain" or "default" */
static const char *policy_matched_by(const char *dest, const mxtls_policy_entry *e)
{
    const char *key = mxtls_policy_entry_key(e);
    if (strcmp(key, "*") == 0 && strcmp(dest, "*") != 0)
        return "default";
    if (key[0] == '.' && dest[0] != '.')
        return "subdomain";
    return "exact";
}

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

/* policy_print_text - the lookup result, one "name  value" line each */
static void policy_print_text(const char *file, const char *dest, const mxtls_policy_entry *e)
{
    printf("destination  %s\n", dest);
    printf("entry        %s\n", mxtls_policy_entry_key(e));
    printf("where        %s:%zu\n", file, mxtls_policy_entry_line(e));
    printf("matched-by   %s\n", policy_matched_by(dest, e));
    printf("level        %s\n", mxtls_level_name(mxtls_policy_entry_level(e)));
    for (size_t i = 0; i < sizeof policy_attrs / sizeof policy_attrs[0]; i++) {
        const char *v = mxtls_policy_entry_attr(e, policy_attrs[i]);
        if (v)
            printf("%-12s %s\n", policy_attrs[i], v);
    }
}

/* policy_print_json - the lookup result as one JSON object */
static void policy_print_json(const char *file, const char *dest, const mxtls_policy_entry *e)
{
    printf("{\"schema_version\":1,\"destination\":");
    policy_json_string(stdout, dest);
    if (!e) {
        printf(",\"found\":false}\n");
        return;
    }
    printf(",\"found\":true,\"entry\":{\"key\":");
    policy_json_string(stdout, mxtls_policy_entry_key(e));
    printf(",\"file\":");
    policy_json_string(stdout, file);
    printf(",\"line\":%zu,\"matched_by\":\"%s\",\"level\":\"%s\",\"attributes\":{",
           mxtls_policy_entry_line(e), policy_matched_by(dest, e),
           mxtls_level_name(mxtls_policy_entry_level(e)));
    int first = 1;
    for (size_t i = 0; i < sizeof policy_attrs / sizeof policy_attrs[0]; i++) {
        const char *v = mxtls_policy_entry_attr(e, policy_attrs[i]);
        if (!v)
            continue;
        printf("%s\"%s\":", first ? "" : ",", policy_attrs[i]);
        policy_json_string(stdout, v);
        first = 0;
    }
    printf("}}}\n");
}

/* policy_options - parse --map/--json/--help; returns -1 to go on, else an exit code */
static int policy_options(int argc, char **argv, const char *cmd, const char *help,
                          const char **map, int *json)
{
    static const struct option opts[] = {
        {"map", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
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
    int rc = policy_options(argc, argv, cmd, lookup_help, &file, &json);
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
    const mxtls_policy_entry *e = mxtls_policymap_lookup(map, dest);
    if (json)
        policy_print_json(file, dest, e);
    else if (e)
        policy_print_text(file, dest, e);
    else
        printf("no entry applies to %s\n", dest);
    rc = e ? EXIT_PASS : EXIT_POLICY;
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    return rc;
}

/* policy_check - mxtls policy check --map FILE [--json] */
static int policy_check(int argc, char **argv)
{
    const char *cmd = "policy check", *file = NULL;
    int json = 0;
    int rc = policy_options(argc, argv, cmd, check_help, &file, &json);
    if (rc >= 0)
        return rc;
    if (optind != argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return cli_nomem(cmd);
    mxtls_policymap *map = policy_load(ctx, cmd, file, json);
    size_t n = mxtls_policymap_count(map);
    if (json) {
        printf("{\"schema_version\":1,\"file\":");
        policy_json_string(stdout, file);
        if (map) {
            printf(",\"valid\":true,\"entries\":%zu,\"warnings\":[", n);
            for (size_t i = 0; i < mxtls_policymap_warning_count(map); i++) {
                if (i)
                    putchar(',');
                policy_json_string(stdout, mxtls_policymap_warning(map, i));
            }
            printf("]}\n");
        } else {
            printf(",\"valid\":false,\"error\":{\"where\":");
            policy_json_string(stdout, mxtls_ctx_error_where(ctx));
            printf(",\"message\":");
            policy_json_string(stdout, mxtls_ctx_error(ctx));
            printf("}}\n");
        }
    } else if (map) {
        printf("%s: %zu %s\n", file, n, n == 1 ? "entry" : "entries");
    }
    /* Warnings: the map is valid (exit 0), but some line does not do what
     * it seems to. On standard error, "FILE:LINE: warning: ...". */
    for (size_t i = 0; !json && i < mxtls_policymap_warning_count(map); i++) {
        const char *w = mxtls_policymap_warning(map, i);
        const char *sep = strstr(w, ": ");
        fprintf(stderr, "mxtls %s: %s:%.*s: warning: %s\n", cmd, file,
                sep ? (int)(sep - w) : 0, w, sep ? sep + 2 : w);
    }
    rc = map ? EXIT_PASS : cli_exit_for_status(mxtls_ctx_error_code(ctx));
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
