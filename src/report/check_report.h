/* check_report.h - reports of `mxtls check` and `mxtls probe` */
#ifndef MXTLS_REPORT_CHECK_REPORT_H
#define MXTLS_REPORT_CHECK_REPORT_H

#include "engine/check.h"
#include "report/jsonw.h"

/* check_report_selected - the domain verdict at `level`
 * (MXTLS_LEVEL_INVALID = the auto level) */
const check_domain_verdict *check_report_selected(const check_report *r, mxtls_level level);
/* check_report_json / check_report_text - the whole report (docs/json.md,
 * docs/cli.md); caller frees; NULL when out of memory */
char *check_report_json(const check_report *r, mxtls_level level);
/* check_report_survey_json - the same document without what the survey
 * figures never read (each address's per-level results, its connections
 * under "probes" and "sni_compare"): `mxtls scan` parses this for --stats
 * instead of its output line, a tenth of the size; every key the survey reads
 * (report/survey.c) is written by the same code as in the full line. */
char *check_report_survey_json(const check_report *r, mxtls_level level);
char *check_report_text(const check_report *r, mxtls_level level, int color);

#endif
