/* recout.h - what mxtls mta-sts and mxtls tlsrpt share: reading records and
 * policies from files or arguments, and printing parser errors (text, JSON) */
#ifndef MXTLS_CLI_RECOUT_H
#define MXTLS_CLI_RECOUT_H

#include <stddef.h>

#include "cli/cli.h"
#include "core/recerr.h"
#include "report/jsonw.h"

/* A TXT RRset given on the command line: one record per --txt or --txt-file. */
#define RECOUT_MAX_RECORDS 64

typedef struct recout_records {
    char *v[RECOUT_MAX_RECORDS]; /* owned */
    size_t len[RECOUT_MAX_RECORDS];
    size_t n;
} recout_records;

/* recout_add_text - one record from the command line; 0 or an exit code (printed) */
int recout_add_text(const char *cmd, recout_records *r, const char *text);
/* recout_add_file - one record from FILE ('-' = stdin): its bytes, without one
 * final LF or CRLF (files end with a newline; a TXT record does not); 0 or an
 * exit code (printed) */
int recout_add_file(const char *cmd, recout_records *r, const char *file);
void recout_records_free(recout_records *r);

/* recout_read - a whole file ('-' = stdin) of at most max bytes; NULL after
 * printing the error */
char *recout_read(const char *cmd, const char *file, size_t max, size_t *len);

/* recout_errors_text - one line per error: "PREFIX:LINE:COLUMN: rule: message"
 * for files (prefix = the file name), "record N, column C: rule: message" for
 * TXT records (prefix NULL) */
void recout_errors_text(const recerr_list *l, const char *prefix);
/* recout_errors_json - "errors": [{line, column, rule, message}], "errors_dropped": N */
void recout_errors_json(jsonw *w, const recerr_list *l);
/* recout_print_json - finish the document and print it with a newline; 0, or
 * EXIT_TEMP when it could not be built (out of memory, over the output cap) */
int recout_print_json(const char *cmd, jsonw *w);

#endif
