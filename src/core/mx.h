/* mx.h - following an MX RRset: the order senders try its hosts in
 * (RFC 5321 §5.1) and which targets are hosts at all (RFC 7505 null MX).
 * Pure functions over the records of an answer (core/dnsmsg.h). */
#ifndef MXTLS_CORE_MX_H
#define MXTLS_CORE_MX_H

#include <stddef.h>

#include "core/dnsmsg.h"

/* mx_sort - MX records by preference, then target name: the order in which
 * they are reported and followed */
void mx_sort(dns_record *rr, size_t n);

/* mx_is_null_target - the target is "." (RFC 7505: no mail, no host) */
int mx_is_null_target(const char *target);

/* mx_null_count - how many records have the null target "." */
size_t mx_null_count(const dns_record *rr, size_t n);

/* mx_next - the index of the next record at or after `from` whose target is
 * a host to follow: null targets are skipped, a target seen in an earlier
 * record is followed once; n when none is left. Iterate with
 * for (i = mx_next(rr, n, 0); i < n; i = mx_next(rr, n, i + 1)). Target names
 * are compared as the answer gives them (lower case, core/dnsmsg.h). */
size_t mx_next(const dns_record *rr, size_t n, size_t from);

#endif
