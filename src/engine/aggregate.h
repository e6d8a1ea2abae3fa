/* aggregate.h - the domain-level verdict of a check
 *
 * Pure: it reads the hosts, addresses and per-address results of a
 * check_report and fills rep->verdicts[li]. A sender tries the MX hosts in
 * preference order (rep->hosts is sorted), delivers over the first address
 * that passes, and defers when none passes but one failed temporarily. */
#ifndef MXTLS_ENGINE_AGGREGATE_H
#define MXTLS_ENGINE_AGGREGATE_H

#include <stddef.h>

#include "engine/check.h"

/* check_aggregate - set rep->verdicts[li] (level rep->levels[li]) from the
 * report; the strings it sets are freed by check_report_free */
void check_aggregate(check_report *rep, size_t li);

#endif
