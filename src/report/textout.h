/* textout.h - text output for reports whose failures are sticky
 *
 * A report is a few dozen appends; checking each one would bury the
 * format. Like the JSON writer, a textout remembers the first failed append
 * (out of memory, or past its maximum), ignores everything after it, and
 * to_take() then returns NULL: a report is complete or absent, never cut. */
#ifndef MXTLS_REPORT_TEXTOUT_H
#define MXTLS_REPORT_TEXTOUT_H

#include <stdarg.h>
#include <stddef.h>

#include "core/base.h"

typedef struct textout {
    strbuf b;
    int failed;
} textout;

void to_init(textout *t, size_t max);
void to_printf(textout *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void to_puts(textout *t, const char *s);
/* to_put_display - untrusted text, escaped for a terminal (sb_put_display) */
void to_put_display(textout *t, const char *s);
/* to_fail - mark the output failed (a value it needed could not be made) */
void to_fail(textout *t);
/* to_take - the text (caller frees), or NULL if anything failed; t is emptied */
char *to_take(textout *t);

#endif
