/* fuzz_survey_line.c - libFuzzer target: survey figures from check JSON lines
 *
 * Feeds the input to survey_add_json() whole and, split at LF, line by line,
 * then renders the figures. Invariants: each line is added (0) or rejected
 * (-1) with a reason; the JSON figures parse; the text has no control
 * character but LF; the HTML page has exactly its own one script element and
 * no markup from the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report/survey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_add(survey *s, const char *p, size_t n, unsigned long lineno)
{
    char err[256];
    err[0] = 'x';
    int rc = survey_add_json(s, p, n, err, sizeof err);
    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1) {
        if (!err[0])
            abort();
        survey_note_rejected(s, lineno, err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    survey *s = survey_new();
    if (!s)
        return 0;
    survey_set_now(s, 1780000000); /* 2026-05-28: before and after the seeds' dates */
    fuzz_add(s, in, size, 1);
    unsigned long lineno = 1;
    for (size_t i = 0; i < size;) {
        const char *nl = memchr(in + i, '\n', size - i);
        size_t n = nl ? (size_t)(nl - (in + i)) : size - i;
        fuzz_add(s, in + i, n, ++lineno);
        i += n + 1;
    }
    char *j = survey_stats_json(s), *t = survey_stats_text(s), *h = survey_stats_html(s);
    if (!j || !t || !h)
        abort();
    json_error_t je;
    json_t *o = json_loads(j, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        abort();
    json_decref(o);
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n')
            abort();
    const char *sc = strstr(h, "<script");
    if (!sc || strstr(sc + 1, "<script") || strstr(h, "<img") || strstr(h, "<iframe"))
        abort();
    free(j);
    free(t);
    free(h);
    survey_free(s);
    return 0;
}
