/* sts_report.h - the MTA-STS and TLSRPT sections of reports (check, mta-sts) */
#ifndef MXTLS_REPORT_STS_REPORT_H
#define MXTLS_REPORT_STS_REPORT_H

#include "core/base.h"
#include "engine/sts.h"
#include "report/textout.h"
#include "report/jsonw.h"

/* sts_report_json_keys - the keys "mta_sts" and "tlsrpt" (docs/json.md) */
void sts_report_json_keys(jsonw *w, const sts_report *s);
/* sts_report_text - the "MTA-STS" and "TLSRPT" lines of the text report */
void sts_report_text(textout *b, const sts_report *s);

#endif
