/* mx.c - following an MX RRset (RFC 5321 §5.1, RFC 7505) */
#include "core/mx.h"

#include <stdlib.h>
#include <string.h>

static int mx_cmp(const void *a, const void *b)
{
    const dns_record *x = a, *y = b;
    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return strcmp(x->text, y->text);
}

void mx_sort(dns_record *rr, size_t n)
{
    if (rr && n > 1)
        qsort(rr, n, sizeof *rr, mx_cmp);
}

int mx_is_null_target(const char *target)
{
    return target && strcmp(target, ".") == 0;
}

size_t mx_null_count(const dns_record *rr, size_t n)
{
    size_t dots = 0;
    for (size_t i = 0; i < n; i++)
        dots += mx_is_null_target(rr[i].text) != 0;
    return dots;
}

size_t mx_next(const dns_record *rr, size_t n, size_t from)
{
    for (size_t i = from; i < n; i++) {
        if (!rr[i].text || mx_is_null_target(rr[i].text))
            continue;
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = rr[k].text && strcmp(rr[k].text, rr[i].text) == 0;
        if (!seen)
            return i;
    }
    return n;
}
