/* utctime.c - RFC 3339 UTC times as text to time_t (see utctime.h) */
#include "core/utctime.h"

#include <stddef.h>

/* digits - the n decimal digits at s as a number; -1 when one is not a digit */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int utctime_parse(const char *s, unsigned flags, time_t *out)
{
    if (!s)
        return -1;
    /* "YYYY-MM-DD" then, for the full form, "THH:MM:SSZ"; a NUL ends the
     * compare early, so a short string fails at its end. */
    int y = digits(s, 4), mo = -1, d = -1, h = 0, mi = 0, se = 0;
    if (y >= 0 && s[4] == '-')
        mo = digits(s + 5, 2);
    if (mo >= 0 && s[7] == '-')
        d = digits(s + 8, 2);
    if (d < 0)
        return -1;
    if (s[10] == '\0') {
        if (!(flags & UTCTIME_DATE))
            return -1;
    } else {
        if (s[10] != 'T' || (h = digits(s + 11, 2)) < 0 || s[13] != ':' ||
            (mi = digits(s + 14, 2)) < 0 || s[16] != ':' || (se = digits(s + 17, 2)) < 0 ||
            s[19] != 'Z' || s[20] != '\0')
            return -1;
    }
    int leap = se == 60;
    if (y < ((flags & UTCTIME_FROM_1970) ? 1970 : 1950) || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || se > 60 || (leap && (h != 23 || mi != 59)))
        return -1;
    if (leap)
        se = 59;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    /* timegm moves 2026-02-31 to March 3rd: that date does not exist. The
     * round trip also tells 1969-12-31T23:59:59Z (-1) from an error. */
    struct tm back;
    if (!gmtime_r(&t, &back) || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
        back.tm_mday != d || back.tm_hour != h || back.tm_min != mi || back.tm_sec != se)
        return -1;
    *out = t + leap;
    return 0;
}
