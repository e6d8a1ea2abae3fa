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
 * report; the strings it sets are freed by check_report_free. MXTLS_ERR_NOMEM
 * (and no verdict) when out of memory. */
mxtls_status check_aggregate(check_report *rep, size_t li);

/* check_auto_dane - the auto level becomes dane, as a DANE-enabled MTA
 * (Postfix smtp_tls_security_level = dane) decides, wherever DANE changes the
 * outcome for a host reached through a secure MX RRset (or a configured
 * route, or an implicit MX): DNSSEC-secure TLSA records (usable:
 * authentication is mandatory; unusable: TLS is mandatory) and failed TLSA
 * lookups (a DANE sender defers rather than downgrade, RFC 7672 §2.2). An
 * explicit policy-map entry stays in force (it overrides
 * smtp_tls_security_level in Postfix). Sets rep->auto_level and
 * rep->auto_reason; MXTLS_ERR_NOMEM (both unchanged) when out of memory. */
mxtls_status check_auto_dane(check_report *rep);

/* check_auto_sts - after check_auto_dane (and sts_conclude): the auto level
 * becomes mta-sts where an MTA-STS policy in mode enforce is in force (RFC
 * 8461 §5) and neither a policy-map entry nor DANE decided (the auto level is
 * still may). MXTLS_ERR_NOMEM (nothing changed) when out of memory. */
mxtls_status check_auto_sts(check_report *rep);

#endif
