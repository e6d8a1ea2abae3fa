/* cmd_tlsrpt.c - mxtls tlsrpt: the _smtp._tls TXT record of SMTP TLS
 * Reporting (RFC 8460), checked offline (docs/mta-sts.md) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "cli/recout.h"
#include "cli/sts_live.h"
#include "core/names.h"
#include "core/tlsrpt.h"
#include "report/jsonw.h"

#define TLSRPT_CMD "tlsrpt"

static const char tlsrpt_forms[] = "  mxtls tlsrpt DOMAIN [--resolver ADDR] [--json]\n"
                                   "  mxtls tlsrpt --txt-file FILE | --txt RECORD ... [--json]";

static const char tlsrpt_help[] =
    "usage: mxtls tlsrpt DOMAIN [--resolver ADDR] [--root-hints FILE]\n"
    "                    [--trust-anchor FILE] [--json]\n"
    "       mxtls tlsrpt --txt-file FILE | --txt RECORD ... [--json]\n"
    "\n"
    "With DOMAIN the TXT RRset of _smtp._tls.DOMAIN is looked up through mxtls's\n"
    "validating resolver (a failed lookup: exit 3) and checked as below.\n"
    "\n"
    "Check the TXT record of _smtp._tls.DOMAIN (where senders send TLS reports)\n"
    "against RFC 8460, offline: v=TLSRPTv1 first, rua= with one or more\n"
    "mailto: or https: URIs. Every error names its rule and column\n"
    "(docs/mta-sts.md).\n"
    "\n"
    "  --txt-file FILE  one TXT record's text (its strings joined; one final\n"
    "                   newline is ignored; '-' = stdin)\n"
    "  --txt RECORD     the same from the command line\n"
    "                   Several --txt/--txt-file form the TXT RRset: records not\n"
    "                   beginning with v=TLSRPTv1 are discarded and exactly one\n"
    "                   must remain.\n"
    "  --json           one JSON object (docs/json.md)\n"
    "\n"
    "exit: 0 valid, 1 invalid, 2 usage error or unreadable file.\n";

int cmd_tlsrpt(int argc, char **argv)
{
    static const struct option opts[] = {
        {"txt-file", required_argument, NULL, 'f'},
        {"txt", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        CLI_CHECK_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int json = 0, c, rc = EXIT_PASS, r, live_opts = 0;
    recout_records recs = {0};
    check_options copt = {0};
    cli_trust trust = {0};
    char status[128] = "", qname[MXTLS_MAX_NAME + 16] = "";
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h" CLI_CHECK_SHORT_OPTIONS, opts, NULL)) != -1) {
        if ((r = cli_check_option(TLSRPT_CMD, c, optarg, &copt, &trust)) != CLI_CHECK_OPT_OTHER) {
            if (r != EXIT_PASS) {
                rc = r;
                goto out;
            }
            live_opts = 1;
            continue;
        }
        switch (c) {
        case 'f':
            if ((rc = recout_add_file(TLSRPT_CMD, &recs, optarg)) != 0)
                goto out;
            break;
        case 't':
            if ((rc = recout_add_text(TLSRPT_CMD, &recs, optarg)) != 0)
                goto out;
            break;
        case 'j': json = 1; break;
        case 'h': fputs(tlsrpt_help, stdout); rc = EXIT_PASS; goto out;
        case ':':
            rc = cli_usage_error(TLSRPT_CMD, "option '%s' needs a value", argv[optind - 1]);
            goto out;
        default:
            rc = cli_usage_error(TLSRPT_CMD, "unknown option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind + 1 == argc && recs.n == 0) {
        err_rec e;
        err_clear(&e);
        char *d = names_normalize(argv[optind], 0, &e);
        if (!d) {
            rc = cli_usage_error(TLSRPT_CMD, "%s: %s", argv[optind], e.message);
            goto out;
        }
        snprintf(qname, sizeof qname, "_smtp._tls.%s", d);
        free(d);
        if ((rc = sts_live_txt(TLSRPT_CMD, &copt, qname, &recs, status, sizeof status)) != 0)
            goto out;
        if (recs.n == 0) {
            /* no TXT records: the selection says so (tlsrpt-none) */
            rc = EXIT_POLICY;
            tlsrpt_record none;
            tlsrpt_select(NULL, NULL, 0, &none, NULL);
            if (json) {
                jsonw w;
                jw_init(&w);
                jw_obj(&w);
                jw_kint(&w, "schema_version", 1);
                jw_kstr(&w, "name", qname);
                jw_kstr(&w, "lookup", status);
                jw_kint(&w, "records", 0);
                jw_kbool(&w, "valid", 0);
                jw_kstrlist(&w, "rua", &none.rua);
                recout_errors_json(&w, &none.errors);
                jw_end_obj(&w);
                int jrc = recout_print_json(TLSRPT_CMD, &w);
                if (jrc)
                    rc = jrc;
            } else {
                printf("%s: TXT %s\n", qname, status);
                printf("invalid TLSRPT record: senders send no TLS reports for the domain\n");
                recout_errors_text(&none.errors, NULL);
            }
            tlsrpt_free(&none);
            goto out;
        }
    } else if (optind < argc) {
        rc = cli_usage_error(TLSRPT_CMD, "unexpected argument '%s'; the accepted forms are:\n%s",
                             argv[optind], tlsrpt_forms);
        goto out;
    } else if (live_opts) {
        rc = cli_usage_error(TLSRPT_CMD, "the DNS options need DOMAIN");
        goto out;
    }
    if (recs.n == 0) {
        rc = cli_usage_error(TLSRPT_CMD, "nothing to check; the accepted forms are:\n%s",
                             tlsrpt_forms);
        goto out;
    }
    tlsrpt_record rec;
    mxtls_status st = recs.n == 1 && !qname[0] ? tlsrpt_parse(recs.v[0], recs.len[0], &rec)
                                  : tlsrpt_select((const char *const *)recs.v, recs.len, recs.n,
                                                  &rec, NULL);
    if (st != MXTLS_OK) {
        tlsrpt_free(&rec);
        fprintf(stderr, "mxtls %s: out of memory\n", TLSRPT_CMD);
        rc = EXIT_TEMP;
        goto out;
    }
    rc = rec.valid ? EXIT_PASS : EXIT_POLICY;
    if (json) {
        jsonw w;
        jw_init(&w);
        jw_obj(&w);
        jw_kint(&w, "schema_version", 1);
        if (qname[0]) {
            jw_kstr(&w, "name", qname);
            jw_kstr(&w, "lookup", status);
        }
        jw_kint(&w, "records", (long long)recs.n);
        jw_kbool(&w, "valid", rec.valid);
        jw_kstrlist(&w, "rua", &rec.rua);
        recout_errors_json(&w, &rec.errors);
        jw_end_obj(&w);
        int jrc = recout_print_json(TLSRPT_CMD, &w);
        if (jrc)
            rc = jrc;
    } else if (rec.valid) {
        if (qname[0])
            printf("%s: TXT %s\n", qname, status);
        printf("valid TLSRPT record\n");
        for (size_t i = 0; i < rec.rua.n; i++)
            printf("rua  %s\n", rec.rua.v[i]);
    } else {
        if (qname[0])
            printf("%s: TXT %s\n", qname, status);
        printf("invalid TLSRPT record: senders send no TLS reports for the domain\n");
        recout_errors_text(&rec.errors, NULL);
    }
    tlsrpt_free(&rec);
out:
    recout_records_free(&recs);
    return rc;
}
