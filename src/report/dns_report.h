/* dns_report.h - what `mxtls dns` prints: every lookup with its outcome,
 * DNSSEC status, records and advice, as text and JSON (docs/dns.md)
 *
 * Pure formatting of dns_answer records (src/core/dnsmsg.h): no I/O. Text
 * shows untrusted strings (TXT, names, validator reasons) through
 * names_escape(); JSON writes them through the JSON writer (valid UTF-8 as
 * is, other bytes as \ufffd, docs/json.md). */
#ifndef MXTLS_REPORT_DNS_REPORT_H
#define MXTLS_REPORT_DNS_REPORT_H

#include <stddef.h>

#include "io/dns.h"

typedef struct dns_report {
    const char *domain;        /* the name asked about (normalised), for JSON */
    const dns_config *cfg;     /* the resolver's configuration */
    int all;                   /* --type all: the first answer is the MX lookup */
    const char *mail;          /* all: "mx", "null-mx", "implicit-mx", "none",
                                  "unknown"; NULL when not known */
    const dns_answer *const *answers; /* in report order; NULL entries (lookups
                                         without an answer) are skipped */
    size_t n;
} dns_report;

/* dns_report_advice - what the zone's operator should do about this answer
 * (a DNSSEC failure, TLSA records DANE senders ignore); NULL when nothing */
const char *dns_report_advice(const dns_answer *a);

/* dns_report_text - a "resolver:" line, then a header line per lookup and its
 * records; color adds ANSI colours. Caller frees; NULL when out of memory. */
char *dns_report_text(const dns_report *r, int color);
/* dns_report_json - the whole report as one JSON object (no trailing
 * newline). Caller frees; NULL when out of memory. */
char *dns_report_json(const dns_report *r);

#endif
