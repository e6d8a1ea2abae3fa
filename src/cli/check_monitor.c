/* check_monitor.c - `mxtls check --monitoring-plugin` (check_monitor.h) */
#include "cli/check_monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check_options.h"
#include "cli/cli.h"
#include "core/chain.h"
#include "core/names.h"
#include "engine/check.h"
#include "report/monitor.h"

void cli_monitor_init(cli_monitor *m)
{
    memset(m, 0, sizeof *m);
    m->warn_days = m->crit_days = -1;
}

int cli_monitor_option(const char *cmd, int c, const char *arg, cli_monitor *m)
{
    switch (c) {
    case CLI_MONITOR_OPT_ON: m->on = 1; return EXIT_PASS;
    case CLI_MONITOR_OPT_WARN:
    case CLI_MONITOR_OPT_CRIT: {
        long v = decimal_parse(arg, 0, 3650);
        if (v < 0)
            return cli_usage_error(cmd, "--%s-days needs a number of days, 0 to 3650",
                                   c == CLI_MONITOR_OPT_WARN ? "warn" : "crit");
        *(c == CLI_MONITOR_OPT_WARN ? &m->warn_days : &m->crit_days) = v;
        return EXIT_PASS;
    }
    case CLI_MONITOR_OPT_EXPECT:
        if (mxtls_level_from_name(arg) == MXTLS_LEVEL_INVALID)
            return cli_usage_error(cmd, "--expect: unknown level '%s'", arg);
        m->expect = arg;
        return EXIT_PASS;
    case CLI_MONITOR_OPT_NEXT:
        if (m->nnext >= TLSA_MAX_PLANNED)
            return cli_usage_error(cmd, "at most %d --next-cert options", TLSA_MAX_PLANNED);
        m->next[m->nnext++] = arg;
        return EXIT_PASS;
    }
    return CLI_CHECK_OPT_OTHER;
}

int cli_monitor_check(const char *cmd, cli_monitor *m, int json, int is_probe)
{
    if (!m->on) {
        if (m->warn_days >= 0 || m->crit_days >= 0 || m->expect || m->nnext)
            return cli_usage_error(cmd, "--warn-days, --crit-days, --expect and --next-cert "
                                        "need --monitoring-plugin");
        return EXIT_PASS;
    }
    if (json)
        return cli_usage_error(cmd, "--monitoring-plugin prints a status line: not with --json");
    if (is_probe)
        return cli_usage_error(cmd, "--monitoring-plugin is for check");
    if (m->warn_days < 0)
        m->warn_days = m->crit_days >= 0 && m->crit_days > MONITOR_DEFAULT_WARN_DAYS
                           ? m->crit_days
                           : MONITOR_DEFAULT_WARN_DAYS;
    if (m->crit_days < 0)
        m->crit_days = m->warn_days < MONITOR_DEFAULT_CRIT_DAYS ? m->warn_days
                                                                : MONITOR_DEFAULT_CRIT_DAYS;
    if (m->crit_days > m->warn_days)
        return cli_usage_error(cmd, "--crit-days (%ld) must not exceed --warn-days (%ld)",
                               m->crit_days, m->warn_days);
    return EXIT_PASS;
}

int cli_monitor_requested(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--monitoring-plugin"))
            return 1;
    }
    return 0;
}

int cli_monitor_unknown(int rc)
{
    printf("MXTLS UNKNOWN - mxtls check could not run (exit %d: %s; the reason is on standard "
           "error)\n",
           rc, rc == EXIT_USAGE ? "usage or input error" : "local failure");
    return MONITOR_UNKNOWN;
}

/* cli_monitor_plans - tlsa_check_analyze() of the --next-cert chains: one
 * monitor_plan per (MX host with TLSA records, chain); 0, or -1 (printed) */
static int cli_monitor_plans(const char *cmd, cli_monitor *m, mxtls_report *rep,
                             tlsa_planned *planned, tlsa_check_result **res, monitor_plan **plans,
                             size_t *nplans, time_t at)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < m->nnext; i++) {
        size_t len = 0;
        char *buf = mxtls_read_file(ctx, m->next[i], MXTLS_MAX_INPUT_FILE, &len);
        if (!buf) {
            fprintf(stderr, "mxtls %s: --next-cert %s: %s\n", cmd, m->next[i], mxtls_ctx_error(ctx));
            goto out;
        }
        err_rec e;
        err_clear(&e);
        planned[i] = (tlsa_planned){.option = "next", .file = m->next[i]};
        planned[i].chain = chain_parse_pem(buf, len, m->next[i], &e);
        free(buf);
        if (!planned[i].chain) {
            fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e.where, e.message);
            goto out;
        }
    }
    long ttl[CHECK_MAX_HOSTS];
    for (size_t i = 0; i < rep->nhosts && i < CHECK_MAX_HOSTS; i++)
        ttl[i] = rep->hosts[i]->tlsa_ttl >= 0 ? rep->hosts[i]->tlsa_ttl : TLSA_TTL_UNKNOWN;
    tlsa_check_config cfg = {.planned = planned, .nplanned = m->nnext, .ttl = ttl, .at = at};
    err_rec e;
    err_clear(&e);
    if (!(*res = tlsa_check_analyze(rep, &cfg, &e))) {
        fprintf(stderr, "mxtls %s: %s: %s\n", cmd, e.where, e.message);
        goto out;
    }
    *plans = calloc((*res)->nhosts * m->nnext + 1, sizeof **plans);
    if (!*plans)
        goto out;
    for (size_t h = 0; h < (*res)->nhosts; h++) {
        const tlsa_host_result *hr = &(*res)->hosts[h];
        for (size_t p = 0; p < hr->nplans; p++)
            (*plans)[(*nplans)++] = (monitor_plan){
                .host = hr->host->name,
                .file = hr->plans[p].plan->file,
                .verdict = hr->plans[p].verdict,
                .publish = hr->plans[p].publish.n ? hr->plans[p].publish.v[0] : NULL,
            };
    }
    rc = 0;
out:
    mxtls_ctx_free(ctx);
    return rc;
}

int cli_monitor_run(const char *cmd, cli_monitor *m, mxtls_report *rep, mxtls_level level,
                    time_t at)
{
    tlsa_planned planned[TLSA_MAX_PLANNED];
    memset(planned, 0, sizeof planned);
    tlsa_check_result *res = NULL;
    monitor_plan *plans = NULL;
    size_t nplans = 0;
    char *line = NULL, *doc = NULL;
    int rc = MONITOR_UNKNOWN;
    m->ran = 1;
    if (m->nnext && cli_monitor_plans(cmd, m, rep, planned, &res, &plans, &nplans, at) != 0) {
        printf("MXTLS UNKNOWN - %s: --next-cert could not be judged (the reason is on "
               "standard error)\n", rep->domain);
        goto out;
    }
    if (!(doc = mxtls_report_json(rep, level))) {
        printf("MXTLS UNKNOWN - out of memory\n");
        goto out;
    }
    monitor_config cfg = {.warn_days = m->warn_days, .crit_days = m->crit_days,
                          .expect = m->expect, .now = at ? at : time(NULL),
                          .plans = plans, .nplans = nplans};
    rc = (int)monitor_evaluate(doc, strlen(doc), &cfg, &line);
    if (!line) {
        printf("MXTLS UNKNOWN - out of memory\n");
        rc = MONITOR_UNKNOWN;
        goto out;
    }
    fputs(line, stdout);
out:
    free(line);
    free(doc);
    free(plans);
    tlsa_check_result_free(res);
    for (size_t i = 0; i < m->nnext; i++)
        chain_free(planned[i].chain);
    return rc;
}
