/* cmd_mtasts.c - mxtls mta-sts: an MTA-STS policy or _mta-sts TXT record,
 * checked offline (RFC 8461; docs/mta-sts.md)
 *
 * Uses the pure parser src/core/mtasts.c; output goes through the JSON writer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "cli/recout.h"
#include "cli/sts_live.h"
#include "core/mtasts.h"
#include "core/names.h"
#include "report/jsonw.h"

#define MTASTS_CMD "mta-sts"
#define MTASTS_MAX_HOSTS 64

static const char mtasts_forms[] =
    "  mxtls mta-sts DOMAIN [--sts-cache FILE] [check options] [--json]\n"
    "  mxtls mta-sts --policy-file FILE [--mx HOST]... [--json]\n"
    "  mxtls mta-sts --txt-file FILE | --txt RECORD ... [--json]";

static const char mtasts_help[] =
    "usage: mxtls mta-sts DOMAIN [--sts-cache FILE] [check options] [--json]\n"
    "       mxtls mta-sts --policy-file FILE [--mx HOST]... [--json]\n"
    "       mxtls mta-sts --txt-file FILE | --txt RECORD ... [--json]\n"
    "\n"
    "With DOMAIN: look up _mta-sts.DOMAIN, fetch the policy from\n"
    "https://mta-sts.DOMAIN/.well-known/mta-sts.txt (at the address mxtls's own\n"
    "validating resolver returns; no redirects; text/plain; 64 KiB), consult\n"
    "the cache (--sts-cache), and judge every MX address as an MTA-STS sender\n"
    "does (level mta-sts: covered by an mx pattern, certificate valid for the MX\n"
    "host; DANE first). The check options are those of mxtls check (--ca-file,\n"
    "--resolver, --root-hints, --trust-anchor, --timeout, ...).\n"
    "exit: 0 delivery proceeds, 1 the policy stops delivery, 3 temporary\n"
    "failure, 2 usage error.\n"
    "\n"
    "Without DOMAIN:\n"
    "Check an MTA-STS policy (the text served at\n"
    "https://mta-sts.DOMAIN/.well-known/mta-sts.txt) or the TXT record of\n"
    "_mta-sts.DOMAIN against RFC 8461, offline. Every error names its rule and\n"
    "its line (docs/mta-sts.md).\n"
    "\n"
    "  --policy-file FILE  the policy text ('-' = stdin)\n"
    "  --mx HOST           an MX host name: does a pattern of the policy cover it?\n"
    "                      (repeatable; \"*.example.com\" covers exactly one label)\n"
    "  --txt-file FILE     one TXT record's text (its strings joined; one final\n"
    "                      newline is ignored)\n"
    "  --txt RECORD        the same from the command line\n"
    "                      Several --txt/--txt-file form the TXT RRset: records not\n"
    "                      beginning with v=STSv1 are discarded and exactly one\n"
    "                      must remain.\n"
    "  --json              one JSON object (docs/json.md)\n"
    "\n"
    "exit: 0 valid (and every --mx host covered), 1 invalid or a host not\n"
    "covered, 2 usage error or unreadable file.\n";

/* mtasts_policy_cmd - --policy-file FILE [--mx HOST]... */
static int mtasts_policy_cmd(const char *file, char **hosts, char **norms, size_t nhosts, int json)
{
    size_t len = 0;
    char *buf = recout_read(MTASTS_CMD, file, MXTLS_MAX_INPUT_FILE, &len);
    if (!buf)
        return EXIT_USAGE;
    mtasts_policy pol;
    mxtls_status st = mtasts_policy_parse(buf, len, &pol);
    free(buf);
    if (st != MXTLS_OK) {
        mtasts_policy_free(&pol);
        return cli_nomem(MTASTS_CMD);
    }
    int all = 1;
    int matched[MTASTS_MAX_HOSTS];
    size_t which[MTASTS_MAX_HOSTS];
    for (size_t i = 0; i < nhosts; i++) {
        matched[i] = mtasts_mx_match(&pol.mx, norms[i], &which[i]);
        all = all && matched[i];
    }
    int rc = pol.valid && all ? EXIT_PASS : EXIT_POLICY;
    if (json) {
        jsonw w;
        jw_init(&w);
        jw_obj(&w);
        jw_kint(&w, "schema_version", 1);
        jw_kstr(&w, "file", file);
        jw_kbool(&w, "valid", pol.valid);
        jw_kstr(&w, "mode", mtasts_mode_name(pol.mode));
        jw_key(&w, "max_age");
        if (pol.max_age >= 0)
            jw_int(&w, pol.max_age);
        else
            jw_null(&w);
        jw_kstrlist(&w, "mx", &pol.mx);
        recout_errors_json(&w, &pol.errors);
        if (nhosts) {
            jw_key(&w, "hosts");
            jw_arr(&w);
            for (size_t i = 0; i < nhosts; i++) {
                jw_obj(&w);
                jw_kstr(&w, "host", hosts[i]);
                jw_kbool(&w, "matched", matched[i]);
                jw_kstr(&w, "pattern", matched[i] ? pol.mx.v[which[i]] : NULL);
                jw_end_obj(&w);
            }
            jw_end_arr(&w);
        }
        jw_end_obj(&w);
        int jrc = recout_print_json(MTASTS_CMD, &w);
        if (jrc)
            rc = jrc;
    } else {
        if (pol.valid) {
            printf("%s: valid MTA-STS policy\n", file);
            printf("mode     %s\n", mtasts_mode_name(pol.mode));
            printf("max_age  %lld\n", pol.max_age);
            for (size_t i = 0; i < pol.mx.n; i++)
                printf("mx       %s\n", pol.mx.v[i]);
        } else {
            printf("%s: invalid MTA-STS policy: senders treat the domain as having no policy\n",
                   file);
            recout_errors_text(&pol.errors, file);
        }
        for (size_t i = 0; i < nhosts; i++) {
            if (matched[i])
                printf("host %s: covered by mx %s\n", hosts[i], pol.mx.v[which[i]]);
            else
                printf("host %s: not covered by any mx pattern\n", hosts[i]);
        }
    }
    mtasts_policy_free(&pol);
    return rc;
}

/* mtasts_txt_cmd - one record (parsed as it is) or an RRset (selection first) */
static int mtasts_txt_cmd(recout_records *r, int json)
{
    mtasts_txt txt;
    mxtls_status st = r->n == 1 ? mtasts_txt_parse(r->v[0], r->len[0], &txt)
                                : mtasts_txt_select((const char *const *)r->v, r->len, r->n, &txt,
                                                    NULL);
    if (st != MXTLS_OK) {
        mtasts_txt_free(&txt);
        return cli_nomem(MTASTS_CMD);
    }
    int rc = txt.valid ? EXIT_PASS : EXIT_POLICY;
    if (json) {
        jsonw w;
        jw_init(&w);
        jw_obj(&w);
        jw_kint(&w, "schema_version", 1);
        jw_kint(&w, "records", (long long)r->n);
        jw_kbool(&w, "valid", txt.valid);
        jw_kstr(&w, "id", txt.valid ? txt.id : NULL);
        recout_errors_json(&w, &txt.errors);
        jw_end_obj(&w);
        int jrc = recout_print_json(MTASTS_CMD, &w);
        if (jrc)
            rc = jrc;
    } else if (txt.valid) {
        printf("valid MTA-STS record: id %s\n", txt.id);
    } else {
        printf("invalid MTA-STS record: senders treat the domain as having no policy\n");
        recout_errors_text(&txt.errors, NULL);
    }
    mtasts_txt_free(&txt);
    return rc;
}

int cmd_mtasts(int argc, char **argv)
{
    static const struct option opts[] = {
        {"policy-file", required_argument, NULL, 'p'},
        {"mx", required_argument, NULL, 'm'},
        {"txt-file", required_argument, NULL, 'f'},
        {"txt", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"sts-cache", required_argument, NULL, 'c'},
        CLI_CHECK_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    check_options copt = {0};
    cli_trust trust = {0};
    int live_opts = 0, r;
    const char *policy = NULL;
    char *hosts[MTASTS_MAX_HOSTS], *norms[MTASTS_MAX_HOSTS];
    size_t nhosts = 0;
    int json = 0, c, rc = EXIT_PASS;
    recout_records recs = {0};
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h" CLI_CHECK_SHORT_OPTIONS, opts, NULL)) != -1) {
        if ((r = cli_check_option(MTASTS_CMD, c, optarg, &copt, &trust)) != CLI_CHECK_OPT_OTHER) {
            if (r != EXIT_PASS) {
                rc = r;
                goto out;
            }
            live_opts = 1;
            continue;
        }
        switch (c) {
        case 'c':
            copt.sts_cache = optarg;
            live_opts = 1;
            break;
        case 'p':
            if (policy) {
                rc = cli_usage_error(MTASTS_CMD, "--policy-file is given twice");
                goto out;
            }
            policy = optarg;
            break;
        case 'm': {
            /* matched in A-label form, shown as given */
            err_rec e;
            if (nhosts >= MTASTS_MAX_HOSTS) {
                rc = cli_usage_error(MTASTS_CMD, "at most %d --mx hosts", MTASTS_MAX_HOSTS);
                goto out;
            }
            char *norm = names_normalize(optarg, 0, &e);
            if (!norm) {
                rc = cli_usage_error(MTASTS_CMD, "--mx %s: %s", optarg, e.message);
                goto out;
            }
            hosts[nhosts] = optarg;
            norms[nhosts++] = norm;
            break;
        }
        case 'f':
            if ((rc = recout_add_file(MTASTS_CMD, &recs, optarg)) != 0)
                goto out;
            break;
        case 't':
            if ((rc = recout_add_text(MTASTS_CMD, &recs, optarg)) != 0)
                goto out;
            break;
        case 'j': json = 1; break;
        case 'h': fputs(mtasts_help, stdout); rc = EXIT_PASS; goto out;
        case ':':
            rc = cli_usage_error(MTASTS_CMD, "option '%s' needs a value", argv[optind - 1]);
            goto out;
        default:
            rc = cli_usage_error(MTASTS_CMD, "unknown option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        if (optind + 1 == argc && !policy && recs.n == 0 && nhosts == 0) {
            if ((rc = cli_trust_check(MTASTS_CMD, &trust)) == EXIT_PASS)
                rc = sts_live_mtasts(MTASTS_CMD, argv[optind], &copt, &trust, json);
            goto out;
        }
        rc = cli_usage_error(MTASTS_CMD, "unexpected argument '%s'; the accepted forms are:\n%s",
                             argv[optind], mtasts_forms);
        goto out;
    }
    if (live_opts) {
        rc = cli_usage_error(MTASTS_CMD, "--sts-cache and the check options need DOMAIN");
        goto out;
    }
    if (!policy && recs.n == 0) {
        rc = cli_usage_error(MTASTS_CMD, "nothing to check; the accepted forms are:\n%s",
                             mtasts_forms);
        goto out;
    }
    if (policy && recs.n) {
        rc = cli_usage_error(MTASTS_CMD, "give --policy-file or --txt/--txt-file, not both");
        goto out;
    }
    if (nhosts && !policy) {
        rc = cli_usage_error(MTASTS_CMD, "--mx needs --policy-file");
        goto out;
    }
    rc = policy ? mtasts_policy_cmd(policy, hosts, norms, nhosts, json) : mtasts_txt_cmd(&recs, json);
out:
    for (size_t i = 0; i < nhosts; i++)
        free(norms[i]);
    recout_records_free(&recs);
    return rc;
}
