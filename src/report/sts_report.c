/* sts_report.c - the MTA-STS and TLSRPT sections of reports */
#include "report/sts_report.h"

#include <stdio.h>

static void sr_json_errors(jsonw *w, const char *key, const recerr_list *l)
{
    jw_key(w, key);
    jw_arr(w);
    for (size_t i = 0; i < l->n; i++) {
        jw_obj(w);
        jw_kstr(w, "rule", l->v[i].rule);
        jw_kint(w, "line", (long long)l->v[i].line);
        jw_kstr(w, "message", l->v[i].message);
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

void sts_report_json_keys(jsonw *w, const sts_report *s)
{
    jw_key(w, "mta_sts");
    if (!s) {
        jw_null(w);
        jw_key(w, "tlsrpt");
        jw_null(w);
        return;
    }
    jw_obj(w);
    jw_key(w, "txt");
    jw_obj(w);
    jw_kstr(w, "outcome", dns_outcome_name(s->txt_outcome));
    jw_kstr(w, "security", dns_security_name(s->txt_security));
    jw_kstrlist(w, "records", &s->txt_records);
    jw_kbool(w, "valid", s->txt.valid);
    jw_kstr(w, "id", s->txt.valid ? s->txt.id : NULL);
    sr_json_errors(w, "errors", &s->txt.errors);
    jw_end_obj(w);
    jw_key(w, "fetch");
    jw_obj(w);
    jw_kbool(w, "tried", s->fetch_tried);
    jw_kstr(w, "url", s->url);
    jw_kstr(w, "address", s->address);
    jw_key(w, "http_status");
    if (s->http_status)
        jw_int(w, s->http_status);
    else
        jw_null(w);
    jw_kstr(w, "media_type", s->media_type);
    jw_kstr(w, "certificate", s->cert);
    jw_kint(w, "body_bytes", (long long)s->body_len);
    jw_kbool(w, "ok", s->fetch_ok);
    jw_kstr(w, "error", s->fetch_tried ? s->fetch_error : NULL);
    if (s->body)
        sr_json_errors(w, "policy_errors", &s->policy.errors);
    jw_end_obj(w);
    jw_key(w, "cache");
    if (!s->cache_path) {
        jw_null(w);
    } else {
        jw_obj(w);
        jw_kstr(w, "file", s->cache_path);
        jw_kstr(w, "error", s->cache_error);
        jw_kstr(w, "state", !s->cache_open ? NULL
                            : s->cache_state == STSCACHE_FRESH   ? "fresh"
                            : s->cache_state == STSCACHE_EXPIRED ? "expired"
                                                                 : "miss");
        jw_kstr(w, "cached_id", s->cache_open && s->cache_state != STSCACHE_MISS
                                    ? s->cached.txt_id : NULL);
        jw_kstr(w, "refetch", sts_refetch_name(s->refetch));
        jw_kbool(w, "stored", s->cache_stored);
        jw_end_obj(w);
    }
    jw_key(w, "policy");
    if (s->apply == STS_APPLY_NONE) {
        jw_null(w);
    } else {
        jw_obj(w);
        jw_kstr(w, "source", sts_apply_name(s->apply));
        jw_kstr(w, "mode", mtasts_mode_name(s->mode));
        jw_kint(w, "max_age", s->max_age);
        jw_kstrlist(w, "mx", s->apply == STS_APPLY_FETCHED ? &s->policy.mx : &s->cached.mx);
        jw_end_obj(w);
    }
    jw_end_obj(w);

    jw_key(w, "tlsrpt");
    jw_obj(w);
    jw_kstr(w, "outcome", dns_outcome_name(s->rpt_outcome));
    jw_kstr(w, "security", dns_security_name(s->rpt_security));
    jw_kstrlist(w, "records", &s->rpt_records);
    jw_kbool(w, "valid", s->rpt.valid);
    jw_kstrlist(w, "rua", &s->rpt.rua);
    sr_json_errors(w, "errors", &s->rpt.errors);
    jw_end_obj(w);
}

void sts_report_text(textout *b, const sts_report *s)
{
    if (!s)
        return;
    const recerr *te = s->txt.errors.n ? &s->txt.errors.v[0] : NULL;
    to_printf(b, "MTA-STS: TXT _mta-sts: %s (%s)", dns_outcome_name(s->txt_outcome),
              dns_security_name(s->txt_security));
    if (s->txt.valid)
        to_printf(b, ", id %s\n", s->txt.id);
    else
        to_printf(b, ", no record%s%s\n", te ? ": " : "", te ? te->message : "");
    if (s->fetch_tried) {
        to_printf(b, "  fetch %s", s->url);
        if (s->address)
            to_printf(b, " [%s]", s->address);
        if (s->http_status)
            to_printf(b, ": HTTP %ld, %s, %zu bytes", s->http_status,
                      s->media_type ? s->media_type : "no media type", s->body_len);
        to_printf(b, "%s%s\n", s->fetch_ok ? ": valid policy" : ": ",
                  s->fetch_ok ? "" : (s->fetch_error ? s->fetch_error : "?"));
        if (s->cert)
            to_printf(b, "  https certificate: %s\n", s->cert);
    }
    if (s->cache_path)
        to_printf(b, "  cache %s: %s%s%s, refetch %s%s\n", s->cache_path,
                  !s->cache_open                     ? "not usable"
                  : s->cache_state == STSCACHE_FRESH ? "fresh"
                  : s->cache_state == STSCACHE_EXPIRED ? "expired"
                                                       : "miss",
                  s->cache_error ? ": " : "", s->cache_error ? s->cache_error : "",
                  sts_refetch_name(s->refetch), s->cache_stored ? ", stored" : "");
    if (s->apply == STS_APPLY_NONE) {
        to_puts(b, "  policy in force: none\n");
    } else {
        const strlist *mx = s->apply == STS_APPLY_FETCHED ? &s->policy.mx : &s->cached.mx;
        to_printf(b, "  policy in force (%s): mode %s, max_age %lld, mx", sts_apply_name(s->apply),
                  mtasts_mode_name(s->mode), s->max_age);
        for (size_t i = 0; i < mx->n; i++)
            to_printf(b, " %s", mx->v[i]);
        to_puts(b, "\n");
    }
    const recerr *re = s->rpt.errors.n ? &s->rpt.errors.v[0] : NULL;
    to_printf(b, "TLSRPT: TXT _smtp._tls: %s (%s)", dns_outcome_name(s->rpt_outcome),
              dns_security_name(s->rpt_security));
    if (s->rpt.valid) {
        to_puts(b, ", rua");
        for (size_t i = 0; i < s->rpt.rua.n; i++)
            to_printf(b, " %s", s->rpt.rua.v[i]);
        to_puts(b, "\n");
    } else {
        to_printf(b, ", no valid record%s%s\n", re ? ": " : "", re ? re->message : "");
    }
}
