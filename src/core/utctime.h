/* utctime.h - RFC 3339 UTC times as text to time_t
 *
 * One parser for every time mxtls reads as text: the CLI's --at and --now,
 * and the not_after of check reports read back by the survey and the
 * monitor (fp_time_text writes them). */
#ifndef MXTLS_CORE_UTCTIME_H
#define MXTLS_CORE_UTCTIME_H

#include <time.h>

/* Also "YYYY-MM-DD" (midnight UTC): what a person types for --at; a report
 * never writes it. */
#define UTCTIME_DATE 1u
/* Years before 1970 refused: where time 0 means "now" (--at, --now), a time
 * before the epoch would be a negative time_t nothing downstream expects.
 * Without it years from 1950 are read, the first of an X.509 UTCTime, so an
 * old certificate's not_after still counts as expired. */
#define UTCTIME_FROM_1970 2u

/* utctime_parse - "YYYY-MM-DDTHH:MM:SSZ" (digits exactly so, upper-case T
 * and Z, no fraction, no offset; years up to 9999) to *out; 0 on success,
 * -1 (and *out untouched) for NULL, another form, or a date or time that
 * does not exist (2026-02-29, 24:00:00). Second 60 is read only as a leap
 * second, at 23:59:60, and is the first second of the next day (time_t
 * counts no leap seconds). */
int utctime_parse(const char *s, unsigned flags, time_t *out);

#endif
