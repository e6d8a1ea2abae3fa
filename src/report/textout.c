/* textout.c - text output with sticky failures */
#include "report/textout.h"

#include <stdlib.h>

void to_init(textout *t, size_t max)
{
    sb_init(&t->b, max);
    t->failed = 0;
}

void to_printf(textout *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (sb_vprintf(&t->b, fmt, ap) != MXTLS_OK)
        t->failed = 1;
    va_end(ap);
}

void to_puts(textout *t, const char *s)
{
    if (!t->failed && sb_puts(&t->b, s) != MXTLS_OK)
        t->failed = 1;
}

void to_put_display(textout *t, const char *s)
{
    if (!t->failed && sb_put_display(&t->b, s) != MXTLS_OK)
        t->failed = 1;
}

void to_fail(textout *t) { t->failed = 1; }

char *to_take(textout *t)
{
    if (t->failed) {
        sb_free(&t->b);
        return NULL;
    }
    return sb_take(&t->b);
}
