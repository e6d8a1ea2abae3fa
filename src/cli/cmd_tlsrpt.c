/* cmd_tlsrpt.c - mxtls tlsrpt: the _smtp._tls TXT record of SMTP TLS
 * Reporting (RFC 8460), checked offline (docs/mta-sts.md) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/recout.h"
#include "core/tlsrpt.h"
#include "report/jsonw.h"

#define TLSRPT_CMD "tlsrpt"

static const char tlsrpt_forms[] = "  mxtls tlsrpt --txt-file FILE | --txt RECORD ... [--json]";

static const char tlsrpt_help[] =
    "usage: mxtls tlsrpt --txt-file FILE | --txt RECORD ... [--json]\n"
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
        {NULL, 0, NULL, 0},
    };
    int json = 0, c, rc = EXIT_PASS;
    recout_records recs = {0};
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
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
    if (optind < argc) {
        rc = cli_usage_error(TLSRPT_CMD, "unexpected argument '%s'; the accepted form is:\n%s",
                             argv[optind], tlsrpt_forms);
        goto out;
    }
    if (recs.n == 0) {
        rc = cli_usage_error(TLSRPT_CMD, "nothing to check; the accepted form is:\n%s",
                             tlsrpt_forms);
        goto out;
    }
    tlsrpt_record rec;
    mxtls_status st = recs.n == 1 ? tlsrpt_parse(recs.v[0], recs.len[0], &rec)
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
        jw_kint(&w, "records", (long long)recs.n);
        jw_kbool(&w, "valid", rec.valid);
        jw_kstrlist(&w, "rua", &rec.rua);
        recout_errors_json(&w, &rec.errors);
        jw_end_obj(&w);
        int jrc = recout_print_json(TLSRPT_CMD, &w);
        if (jrc)
            rc = jrc;
    } else if (rec.valid) {
        printf("valid TLSRPT record\n");
        for (size_t i = 0; i < rec.rua.n; i++)
            printf("rua  %s\n", rec.rua.v[i]);
    } else {
        printf("invalid TLSRPT record: senders send no TLS reports for the domain\n");
        recout_errors_text(&rec.errors, NULL);
    }
    tlsrpt_free(&rec);
out:
    recout_records_free(&recs);
    return rc;
}
