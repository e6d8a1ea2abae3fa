/* policy_report.h - what `mxtls policy lookup|check` prints: a policy-map
 * entry and a map's check (entries, warnings or the first error) as text and
 * JSON (docs/policymap.md, docs/json.md)
 *
 * Pure formatting of public-API objects: no I/O. Every function returns a
 * string the caller frees, or NULL when memory runs out (or the output would
 * exceed JSONW_MAX_OUTPUT). Text ends in '\n' (may be empty); a JSON
 * document has no trailing newline. */
#ifndef MXTLS_REPORT_POLICY_REPORT_H
#define MXTLS_REPORT_POLICY_REPORT_H

#include <stddef.h>

#include "mxtls.h"

/* policy_report_lookup_text - "name  value" lines for the entry, or "no
 * entry applies to DEST" when e is NULL */
char *policy_report_lookup_text(const char *file, const char *dest, const mxtls_policy_entry *e);
/* policy_report_lookup_json - {"schema_version", "destination", "found",
 * "entry"}; e may be NULL (found: false) */
char *policy_report_lookup_json(const char *file, const char *dest, const mxtls_policy_entry *e);

/* policy_report_check_text - "FILE: N entries" and a line per warning;
 * warnings are mxtls_policymap_warnings' lines ("LINE\tKEY\tsentence\n"),
 * may be NULL */
char *policy_report_check_text(const char *file, size_t entries, const char *warnings);
/* policy_report_check_json - a valid map: {"schema_version", "file",
 * "valid": true, "entries", "warnings"} */
char *policy_report_check_json(const char *file, size_t entries, const char *warnings);
/* policy_report_check_error_json - an invalid map: {"schema_version",
 * "file", "valid": false, "error": {"where", "message"}} */
char *policy_report_check_error_json(const char *file, const char *where, const char *message);

#endif
