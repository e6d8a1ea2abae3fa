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
char *check_report_text(const check_report *r, mxtls_level level, int color);
/* check_report_survey_line - what the survey reads of the report's JSON
 * (report/survey.h), made from the report itself with the values cr_json
 * writes: `mxtls scan --stats` counts each report without writing and
 * parsing a JSON view of it. NULL when memory is short. */
struct survey_line;
struct survey_line *check_report_survey_line(const check_report *r, mxtls_level level);

#endif
