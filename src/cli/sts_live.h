/* sts_live.h - the live forms of `mxtls mta-sts DOMAIN` and `mxtls tlsrpt
 * DOMAIN` (the offline forms are in cmd_mtasts.c and cmd_tlsrpt.c) */
#ifndef MXTLS_CLI_STS_LIVE_H
#define MXTLS_CLI_STS_LIVE_H

#include "cli/check_options.h"

/* sts_live_mtasts - check DOMAIN as `mxtls check` does and print its MTA-STS
 * part: the TXT record, the fetch, the cache, the policy in force and, per
 * MX address, the mta-sts level's verdict (covered? certificate valid for
 * the MX host?). Exit: 0, 1 when the domain's mta-sts verdict is fail, 3
 * tempfail, 2 usage. */
int sts_live_mtasts(const char *cmd, const char *domain, check_options *opt,
                    const cli_trust *trust, int json);

/* sts_live_tlsrpt_lookup - the TXT RRset of _smtp._tls.DOMAIN through the
 * validating resolver of opt->dns; records are added to recs. Returns 0, or
 * EXIT_TEMP (lookup failed, message printed) */
struct recout_records;
int sts_live_txt(const char *cmd, const check_options *opt, const char *name,
                 struct recout_records *recs, char *status, size_t statuslen);

#endif
