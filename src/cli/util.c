/* util.c - helpers shared by the commands */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/utctime.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mxtls %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'mxtls %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_ctx_error(const char *cmd, const mxtls_ctx *ctx)
{
    const char *where = mxtls_ctx_error_where(ctx);
    if (where && *where)
        fprintf(stderr, "mxtls %s: %s: %s\n", cmd, where, mxtls_ctx_error(ctx));
    else
        fprintf(stderr, "mxtls %s: %s\n", cmd, mxtls_ctx_error(ctx));
    return cli_exit_for_status(mxtls_ctx_error_code(ctx));
}

int cli_exit_for_status(mxtls_status st)
{
    return st == MXTLS_ERR_NOMEM || st == MXTLS_ERR_RESOURCE ? EXIT_LOCAL : EXIT_USAGE;
}

int cli_nomem(const char *cmd)
{
    fprintf(stderr, "mxtls %s: out of memory\n", cmd);
    return EXIT_LOCAL;
}

int cli_finish_output(int rc)
{
    /* A script keeps what mxtls prints: output that did not reach its file
     * (disk full, closed descriptor, broken pipe) is a failure, not a pass. */
    int bad = ferror(stdout);
    errno = 0;
    if (fflush(stdout) != 0)
        bad = 1;
    int err = errno;
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (!bad)
        return rc;
    if (err)
        fprintf(stderr, "mxtls: error writing standard output: %s\n", strerror(err));
    else
        fprintf(stderr, "mxtls: error writing standard output\n");
    return EXIT_LOCAL;
}

int cli_use_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return 0;
    return isatty(fileno(f));
}

int cli_parse_time(const char *s, time_t *out)
{
    return utctime_parse(s, UTCTIME_DATE | UTCTIME_FROM_1970, out);
}

int cli_exit_for_verdict(mxtls_verdict v)
{
    switch (v) {
    case MXTLS_VERDICT_PASS: return EXIT_PASS;
    case MXTLS_VERDICT_FAIL: return EXIT_POLICY;
    case MXTLS_VERDICT_TEMPFAIL: return EXIT_TEMP;
    }
    return EXIT_TEMP;
}
