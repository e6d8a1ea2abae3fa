/* fuzz_monitor.c - libFuzzer target: a check report as a monitoring plugin's status line
 *
 * Evaluates the input as a check JSON document, with and without --expect and
 * a next-certificate plan. Invariants: a state 0..3; exactly one line,
 * "MXTLS STATE - ...", whose text holds no '|' but the one before the
 * performance data and no control character. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_one(const char *in, size_t size, const monitor_config *cfg)
{
    char *out = NULL;
    monitor_state st = monitor_evaluate(in, size, cfg, &out);
    if (st > MONITOR_UNKNOWN || !out)
        abort();
    static const char *const names[] = {"MXTLS OK - ", "MXTLS WARNING - ", "MXTLS CRITICAL - ",
                                        "MXTLS UNKNOWN - "};
    if (strncmp(out, names[st], strlen(names[st])) != 0)
        abort();
    size_t n = strlen(out);
    if (n == 0 || out[n - 1] != '\n' || strchr(out, '\n') != out + n - 1)
        abort();
    int bars = 0;
    for (const char *p = out; *p; p++) {
        if ((unsigned char)*p < 0x20 && *p != '\n')
            abort();
        bars += *p == '|';
    }
    if (bars > 1)
        abort();
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    monitor_config cfg = {.warn_days = 30, .crit_days = 14, .now = 1780000000};
    fuzz_one(in, size, &cfg);
    monitor_plan plan = {.host = "mx.example.test", .file = "next.pem",
                         .verdict = "will-break", .publish = "3 1 1 00"};
    cfg.expect = "verify";
    cfg.plans = &plan;
    cfg.nplans = 1;
    fuzz_one(in, size, &cfg);
    return 0;
}
