/* probe_report.h - one probe's observations as text (people) and JSON (programs)
 *
 * Pure formatting of a probe_report (src/io/probe.h): no I/O, no verdict.
 * `mxtls probe --raw`-style output and the full `mxtls probe` share these, so
 * the observation part of both looks the same. Peer-controlled text (banner,
 * EHLO lines, replies, injected bytes) is escaped with reply_escape() in text
 * and JSON-escaped in JSON: a hostile server cannot move the cursor of the
 * terminal that reads the report. docs/probe.md describes the fields. */
#ifndef MXTLS_REPORT_PROBE_REPORT_H
#define MXTLS_REPORT_PROBE_REPORT_H

#include "io/probe.h"
#include "report/jsonw.h"

/* probe_report_outcome - "connect-failed" when TCP did not connect, else the
 * machine's outcome name ("ok-tls", "timeout", ...; smtp_outcome_name) */
const char *probe_report_outcome(const probe_report *r);
/* probe_report_phase - "connect" when TCP did not connect, else the phase the
 * outcome was decided in ("banner", "tls-handshake", ...) */
const char *probe_report_phase(const probe_report *r);

/* probe_report_text - a block of "  label  value" lines ending in '\n';
 * color adds ANSI colours to the outcome and to alarming findings. Caller
 * frees; NULL when memory is short. */
char *probe_report_text(const probe_report *r, int color);

/* probe_report_json - write the report as one JSON object value at the
 * writer's current position (after jw_key, inside an array, or as the
 * document); failures are sticky in w (jw_finish returns NULL). The first
 * call keeps the object's text in r->json, the one field it changes: r must
 * be complete, and later calls write that text again. */
void probe_report_json(jsonw *w, probe_report *r);

#endif
