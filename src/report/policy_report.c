/* policy_report.c - policy-map lookups and checks as text and JSON */
#include "report/policy_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/jsonw.h"
#include "report/textout.h"

/* The attributes printed, in this order (mxtls_policy_entry_attr names). */
static const char *const policy_attrs[] = {
    "match", "protocols", "ciphers", "exclude", "tafile", "servername", "connection_reuse",
    "enable_rpk",
};
#define POLICY_NATTRS (sizeof policy_attrs / sizeof policy_attrs[0])

/* policy_matched_by - how the entry was found: "exact" or "subdomain" */
static const char *policy_matched_by(const char *dest, const mxtls_policy_entry *e)
{
    const char *key = mxtls_policy_entry_key(e);
    if (key[0] == '.' && dest[0] != '.')
        return "subdomain";
    return "exact";
}

char *policy_report_lookup_text(const char *file, const char *dest, const mxtls_policy_entry *e)
{
    textout t;
    to_init(&t, JSONW_MAX_OUTPUT);
    if (!e) {
        to_printf(&t, "no entry applies to %s\n", dest);
        return to_take(&t);
    }
    to_printf(&t, "destination  %s\n", dest);
    to_printf(&t, "entry        %s\n", mxtls_policy_entry_key(e));
    to_printf(&t, "where        %s:%zu\n", file, mxtls_policy_entry_line(e));
    to_printf(&t, "matched-by   %s\n", policy_matched_by(dest, e));
    to_printf(&t, "level        %s\n", mxtls_level_name(mxtls_policy_entry_level(e)));
    for (size_t i = 0; i < POLICY_NATTRS; i++) {
        const char *v = mxtls_policy_entry_attr(e, policy_attrs[i]);
        if (v)
            to_printf(&t, "%-12s %s\n", policy_attrs[i], v);
    }
    return to_take(&t);
}

char *policy_report_lookup_json(const char *file, const char *dest, const mxtls_policy_entry *e)
{
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "destination", dest);
    jw_kbool(&w, "found", e != NULL);
    if (e) {
        jw_key(&w, "entry");
        jw_obj(&w);
        jw_kstr(&w, "key", mxtls_policy_entry_key(e));
        jw_kstr(&w, "file", file);
        jw_kint(&w, "line", (long long)mxtls_policy_entry_line(e));
        jw_kstr(&w, "matched_by", policy_matched_by(dest, e));
        jw_kstr(&w, "level", mxtls_level_name(mxtls_policy_entry_level(e)));
        jw_key(&w, "attributes");
        jw_obj(&w);
        for (size_t i = 0; i < POLICY_NATTRS; i++) {
            const char *v = mxtls_policy_entry_attr(e, policy_attrs[i]);
            if (v)
                jw_kstr(&w, policy_attrs[i], v);
        }
        jw_end_obj(&w);
        jw_end_obj(&w);
    }
    jw_end_obj(&w);
    return jw_finish(&w);
}

/* policy_warning_next - split the next "LINE\tKEY\tsentence\n" line of the
 * writable copy at *p into its fields (in place); 1 found, 0 at the end.
 * Lines without the three fields are skipped. */
static int policy_warning_next(char **p, const char **line, const char **key, const char **msg)
{
    while (*p && **p) {
        char *l = *p, *nl = strchr(l, '\n');
        if (nl) {
            *nl = '\0';
            *p = nl + 1;
        } else {
            *p = l + strlen(l);
        }
        char *k = strchr(l, '\t');
        char *m = k ? strchr(k + 1, '\t') : NULL;
        if (!m)
            continue;
        *k++ = '\0';
        *m++ = '\0';
        *line = l;
        *key = k;
        *msg = m;
        return 1;
    }
    return 0;
}

char *policy_report_check_text(const char *file, size_t entries, const char *warnings)
{
    textout t;
    to_init(&t, JSONW_MAX_OUTPUT);
    char *copy = warnings ? strdup(warnings) : NULL;
    if (warnings && !copy)
        to_fail(&t);
    to_printf(&t, "%s: %zu %s\n", file, entries, entries == 1 ? "entry" : "entries");
    char *p = copy;
    const char *line, *key, *msg;
    while (policy_warning_next(&p, &line, &key, &msg))
        to_printf(&t, "%s:%s: warning: %s: %s\n", file, line, key, msg);
    free(copy);
    return to_take(&t);
}

char *policy_report_check_json(const char *file, size_t entries, const char *warnings)
{
    char *copy = warnings ? strdup(warnings) : NULL;
    if (warnings && !copy)
        return NULL;
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "file", file);
    jw_kbool(&w, "valid", 1);
    jw_kint(&w, "entries", (long long)entries);
    jw_key(&w, "warnings");
    jw_arr(&w);
    char *p = copy;
    const char *line, *key, *msg;
    while (policy_warning_next(&p, &line, &key, &msg)) {
        /* "FILE:LINE", as the text form starts its lines */
        char where[600];
        snprintf(where, sizeof where, "%s:%s", file, line);
        jw_obj(&w);
        jw_kstr(&w, "where", where);
        jw_kstr(&w, "key", key);
        jw_kstr(&w, "message", msg);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_end_obj(&w);
    free(copy);
    return jw_finish(&w);
}

char *policy_report_check_error_json(const char *file, const char *where, const char *message)
{
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "file", file);
    jw_kbool(&w, "valid", 0);
    jw_key(&w, "error");
    jw_obj(&w);
    jw_kstr(&w, "where", where);
    jw_kstr(&w, "message", message);
    jw_end_obj(&w);
    jw_end_obj(&w);
    return jw_finish(&w);
}
