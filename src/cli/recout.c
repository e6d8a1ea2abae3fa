/* recout.c - records and parser errors for mxtls mta-sts and mxtls tlsrpt */
#include "cli/recout.h"

#include <stdlib.h>
#include <string.h>

char *recout_read(const char *cmd, const char *file, size_t max, size_t *len)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    if (!ctx) {
        fprintf(stderr, "mxtls %s: out of memory\n", cmd);
        return NULL;
    }
    char *buf = mxtls_read_file(ctx, strcmp(file, "-") ? file : "/dev/stdin", max, len);
    if (!buf)
        cli_ctx_error(cmd, ctx);
    mxtls_ctx_free(ctx);
    return buf;
}

static int recout_push(const char *cmd, recout_records *r, char *buf, size_t len)
{
    if (r->n >= RECOUT_MAX_RECORDS) {
        free(buf);
        return cli_usage_error(cmd, "at most %d TXT records", RECOUT_MAX_RECORDS);
    }
    r->v[r->n] = buf;
    r->len[r->n] = len;
    r->n++;
    return 0;
}

int recout_add_text(const char *cmd, recout_records *r, const char *text)
{
    char *buf = strdup(text);
    if (!buf) {
        fprintf(stderr, "mxtls %s: out of memory\n", cmd);
        return EXIT_TEMP;
    }
    return recout_push(cmd, r, buf, strlen(text));
}

int recout_add_file(const char *cmd, recout_records *r, const char *file)
{
    size_t len = 0;
    char *buf = recout_read(cmd, file, MXTLS_MAX_INPUT_FILE, &len);
    if (!buf)
        return EXIT_USAGE;
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r')
            len--;
    }
    return recout_push(cmd, r, buf, len);
}

void recout_records_free(recout_records *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    r->n = 0;
}

void recout_errors_text(const recerr_list *l, const char *prefix)
{
    for (size_t i = 0; i < l->n; i++) {
        const recerr *e = &l->v[i];
        if (prefix) {
            if (e->line && e->column)
                printf("%s:%zu:%zu: %s: %s\n", prefix, e->line, e->column, e->rule, e->message);
            else if (e->line)
                printf("%s:%zu: %s: %s\n", prefix, e->line, e->rule, e->message);
            else
                printf("%s: %s: %s\n", prefix, e->rule, e->message);
        } else {
            if (e->line && e->column)
                printf("record %zu, column %zu: %s: %s\n", e->line, e->column, e->rule, e->message);
            else if (e->line)
                printf("record %zu: %s: %s\n", e->line, e->rule, e->message);
            else
                printf("%s: %s\n", e->rule, e->message);
        }
    }
    if (l->dropped)
        printf("(%zu more errors not shown)\n", l->dropped);
}

void recout_errors_json(jsonw *w, const recerr_list *l)
{
    jw_key(w, "errors");
    jw_arr(w);
    for (size_t i = 0; i < l->n; i++) {
        const recerr *e = &l->v[i];
        jw_obj(w);
        jw_kint(w, "line", (long long)e->line);
        jw_kint(w, "column", (long long)e->column);
        jw_kstr(w, "rule", e->rule);
        jw_kstr(w, "message", e->message);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_kint(w, "errors_dropped", (long long)l->dropped);
}

int recout_print_json(const char *cmd, jsonw *w)
{
    char *doc = jw_finish(w);
    if (!doc) {
        fprintf(stderr, "mxtls %s: the JSON report could not be built\n", cmd);
        return EXIT_TEMP;
    }
    printf("%s\n", doc);
    free(doc);
    return 0;
}
