/* cmd_report.c - mxtls report FILE.jsonl|-: survey figures over check reports
 *
 * Reads JSON Lines (each line the object `mxtls check --json` prints, as
 * `mxtls scan` writes them) and prints the survey's figures (src/report/
 * survey.c) as text, JSON, or a self-contained HTML page. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/names.h"
#include "report/survey.h"

#define REPORT_MAX_LINE (16u * 1024u * 1024u) /* longer lines are rejected, not read whole */

static const char report_help[] =
    "usage: mxtls report FILE.jsonl|- [--json] [--html OUT.html] [--now TIME]\n"
    "                    [--expiry-days N]\n"
    "\n"
    "Survey figures over check reports: one JSON object per line, as\n"
    "'mxtls check DOMAIN --json' prints it and 'mxtls scan' writes it. Domains,\n"
    "STARTTLS support, TLS versions, pass rates per level, top failure reasons,\n"
    "certificates expiring soon, DNSSEC share, null MX, input errors\n"
    "(docs/report.md). Lines that are not check reports are skipped and listed\n"
    "with their line numbers.\n"
    "\n"
    "  --json             the figures as JSON (docs/json.md)\n"
    "  --html OUT.html    also write a self-contained page: charts, the worst\n"
    "                     domains with reasons and advice, a search filter\n"
    "  --now TIME         measure certificate expiry from TIME (RFC 3339 UTC,\n"
    "                     default: now)\n"
    "  --expiry-days N    'expiring soon' = within N days (default 30)\n"
    "\n"
    "exit: 0 report written (rejected lines are listed in it), 2 usage error or\n"
    "unreadable input, 4 local failure (out of memory, output not written).\n";

enum { OPT_JSON = 256, OPT_HTML, OPT_NOW, OPT_EXPIRY_DAYS, OPT_HELP };

static const struct option report_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"html", required_argument, NULL, OPT_HTML},
    {"now", required_argument, NULL, OPT_NOW},
    {"expiry-days", required_argument, NULL, OPT_EXPIRY_DAYS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* report_read - feed every line of f to the survey; 0, or EXIT_LOCAL (no
 * memory) / EXIT_USAGE (read error) after printing why */
static int report_read(FILE *f, const char *name, survey *s)
{
    size_t cap = 4096, len = 0;
    char *line = malloc(cap);
    unsigned long lineno = 0;
    int c, too_long = 0, rc = 0;
    char err[512];
    if (!line)
        return cli_nomem("report");
    for (;;) {
        c = getc(f);
        if (c != EOF && c != '\n') {
            if (len + 1 >= REPORT_MAX_LINE) {
                too_long = 1;
                continue;
            }
            if (len + 1 >= cap) {
                char *n = realloc(line, cap * 2);
                if (!n) {
                    rc = cli_nomem("report");
                    break;
                }
                line = n;
                cap *= 2;
            }
            line[len++] = (char)c;
            continue;
        }
        if (c == EOF && len == 0 && !too_long)
            break;
        lineno++;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
            k++;
        if (too_long) {
            snprintf(err, sizeof err, "line longer than %u bytes", REPORT_MAX_LINE);
            survey_note_rejected(s, lineno, err);
        } else if (k < len && survey_add_json(s, line, len, err, sizeof err) != 0) {
            if (!strcmp(err, "out of memory")) {
                rc = cli_nomem("report");
                break;
            }
            survey_note_rejected(s, lineno, err);
        }
        len = 0;
        too_long = 0;
        if (c == EOF)
            break;
    }
    if (!rc && ferror(f)) {
        fprintf(stderr, "mxtls report: %s: %s\n", name, strerror(errno));
        rc = EXIT_USAGE;
    }
    free(line);
    return rc;
}

/* report_write_file - doc to path; 0 or EXIT_LOCAL after printing why */
static int report_write_file(const char *path, const char *doc)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "mxtls report: %s: %s\n", path, strerror(errno));
        return EXIT_LOCAL;
    }
    size_t n = strlen(doc);
    int bad = fwrite(doc, 1, n, f) != n;
    if (fclose(f) != 0)
        bad = 1;
    if (bad) {
        fprintf(stderr, "mxtls report: %s: could not write the page\n", path);
        return EXIT_LOCAL;
    }
    return 0;
}

int cmd_report(int argc, char **argv)
{
    const char *html = NULL, *now = NULL;
    int json = 0, c;
    long days = SURVEY_DEFAULT_EXPIRY_DAYS;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", report_options, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = 1; break;
        case OPT_HTML: html = optarg; break;
        case OPT_NOW: now = optarg; break;
        case OPT_EXPIRY_DAYS:
            if ((days = decimal_parse(optarg, 1, 3650)) < 0)
                return cli_usage_error("report", "--expiry-days needs a number of days, 1 to 3650");
            break;
        case OPT_HELP: fputs(report_help, stdout); return EXIT_PASS;
        case ':': return cli_usage_error("report", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("report", optind == argc ? "FILE.jsonl (or - for standard "
                                                          "input) is required"
                                                        : "exactly one FILE expected");
    time_t when = 0;
    if (now && cli_parse_time(now, &when) != 0)
        return cli_usage_error("report", "--now needs an RFC 3339 UTC time such as "
                                         "2026-06-01T00:00:00Z");
    const char *name = argv[optind];
    FILE *in = strcmp(name, "-") ? fopen(name, "r") : stdin;
    if (!in) {
        fprintf(stderr, "mxtls report: %s: %s\n", name, strerror(errno));
        return EXIT_USAGE;
    }
    survey *s = survey_new();
    if (!s) {
        if (in != stdin)
            fclose(in);
        return cli_nomem("report");
    }
    if (now)
        survey_set_now(s, when);
    survey_set_expiry_days(s, (int)days);
    int rc = report_read(in, name, s);
    if (in != stdin)
        fclose(in);
    if (rc) {
        survey_free(s);
        return rc;
    }
    char *doc = NULL;
    if (html) {
        if (!(doc = survey_stats_html(s))) {
            survey_free(s);
            return cli_nomem("report");
        }
        rc = report_write_file(html, doc);
        free(doc);
        if (rc) {
            survey_free(s);
            return rc;
        }
    }
    doc = json ? survey_stats_json(s) : survey_stats_text(s);
    survey_free(s);
    if (!doc)
        return cli_nomem("report");
    fputs(doc, stdout);
    if (json)
        fputc('\n', stdout);
    free(doc);
    return EXIT_PASS; /* main() checks that standard output was written */
}
