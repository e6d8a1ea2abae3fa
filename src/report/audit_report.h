/* audit_report.h - `mxtls audit` reports: text for terminals, JSON (docs/json.md) */
#ifndef MXTLS_REPORT_AUDIT_REPORT_H
#define MXTLS_REPORT_AUDIT_REPORT_H

#include "engine/audit.h"

/* audit_report_text - the report for a terminal (color: ANSI colours);
 * caller frees; NULL when out of memory */
char *audit_report_text(const audit_report *rep, int color);
/* audit_report_json - one JSON object, schema in docs/json.md; caller frees;
 * NULL when out of memory */
char *audit_report_json(const audit_report *rep);

#endif
