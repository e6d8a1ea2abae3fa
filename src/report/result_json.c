/* result_json.c - results as JSON (schema: docs/json.md) */
#include <stdlib.h>

#include "core/result.h"
#include "report/jsonw.h"

/* Bumped only for incompatible changes; fields are only ever added. */
#define MXTLS_JSON_SCHEMA_VERSION 1

/* result_json_write - one result object */
static void result_json_write(jsonw *w, const mxtls_result *r, int top)
{
    jw_obj(w);
    if (top)
        jw_kint(w, "schema_version", MXTLS_JSON_SCHEMA_VERSION);
    jw_kstr(w, "level", mxtls_level_name(r->level));
    jw_kstr(w, "verdict", mxtls_verdict_name(r->verdict));
    jw_kstr(w, "security", mxtls_security_name(r->security));

    jw_key(w, "reasons");
    jw_arr(w);
    for (size_t i = 0; i < r->nreasons; i++) {
        jw_obj(w);
        jw_kstr(w, "code", r->reasons[i].code);
        jw_kstr(w, "kind", r->reasons[i].kind);
        jw_kstr(w, "message", r->reasons[i].message);
        jw_kstr(w, "status", r->reasons[i].status);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_kstrlist(w, "advice", &r->advice);

    jw_kstr(w, "domain", r->domain);
    jw_kstr(w, "host", r->host);
    jw_kstrlist(w, "mx", &r->mx);
    jw_kbool(w, "mx_secure", r->mx_secure);
    jw_kstr(w, "ip", r->ip);
    jw_key(w, "ptr");
    jw_arr(w);
    for (size_t i = 0; i < r->ptr.n; i++) {
        jw_obj(w);
        jw_kstr(w, "name", r->ptr.v[i]);
        jw_kbool(w, "confirmed", r->ptr_confirmed[i]);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_kstrlist(w, "routes", &r->routes);
    jw_kbool(w, "tls", !r->no_tls);
    jw_kstr(w, "tls_failed", r->tls_failed);
    jw_key(w, "revocation");
    jw_obj(w);
    jw_kstr(w, "status", mxtls_revocation_status_name(r->revocation));
    jw_kstr(w, "detail", r->revocation_detail);
    jw_end_obj(w);

    jw_key(w, "dane");
    jw_obj(w);
    jw_kstr(w, "tlsa_state", mxtls_tlsa_state_name(r->tlsa_state));
    jw_kstr(w, "base", r->tlsa_base);
    jw_key(w, "records");
    jw_arr(w);
    for (size_t i = 0; i < r->tlsa.n; i++) {
        jw_obj(w);
        jw_kstr(w, "record", r->tlsa.v[i]);
        jw_kbool(w, "usable", r->tlsa_unusable.v[i][0] == '\0');
        jw_kstr(w, "unusable_why", r->tlsa_unusable.v[i][0] ? r->tlsa_unusable.v[i] : NULL);
        jw_kbool(w, "matched", (int)i == r->dane_match_index);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_key(w, "match_depth");
    if (r->dane_match_depth >= 0)
        jw_int(w, r->dane_match_depth);
    else
        jw_null(w);
    jw_end_obj(w);

    jw_key(w, "presented");
    if (r->no_tls) {
        jw_null(w);
    } else {
        jw_obj(w);
        jw_kstrlist(w, "dns", &r->presented.dns);
        jw_kstrlist(w, "ip", &r->presented.ip);
        jw_kstrlist(w, "cn", &r->presented.cn);
        jw_end_obj(w);
    }

    jw_key(w, "reference");
    jw_arr(w);
    for (size_t i = 0; i < r->nrefs; i++) {
        jw_obj(w);
        jw_kstr(w, "name", r->refs[i].name);
        jw_kstr(w, "against", r->refs[i].against);
        jw_kstr(w, "source", r->refs[i].source);
        jw_end_obj(w);
    }
    jw_end_arr(w);

    jw_key(w, "matched");
    if (r->matched_ref) {
        jw_obj(w);
        jw_kstr(w, "reference", r->matched_ref);
        jw_kstr(w, "presented", r->matched_pres);
        jw_end_obj(w);
    } else {
        jw_null(w);
    }

    jw_key(w, "chain");
    jw_arr(w);
    for (size_t i = 0; i < r->nchain; i++)
        jw_chain_cert(w, &r->chain[i]);
    jw_end_arr(w);

    jw_key(w, "pkix");
    if (r->pkix_checked) {
        jw_obj(w);
        jw_kbool(w, "valid", r->pkix_valid);
        jw_kstr(w, "error", r->pkix_code);
        jw_kstr(w, "message", r->pkix_message);
        jw_key(w, "depth");
        if (r->pkix_valid)
            jw_null(w);
        else
            jw_int(w, r->pkix_depth);
        jw_end_obj(w);
    } else {
        jw_null(w);
    }

    jw_key(w, "fingerprint");
    if (r->fp_cert) {
        jw_obj(w);
        jw_kstr(w, "digest", r->fp_digest);
        jw_kstr(w, "cert", r->fp_cert);
        jw_kstr(w, "pubkey", r->fp_pubkey);
        jw_end_obj(w);
    } else {
        jw_null(w);
    }
    jw_end_obj(w);
}

/* result_json_object - one result object inside another document (check) */
void result_json_object(jsonw *w, const mxtls_result *r);
void result_json_object(jsonw *w, const mxtls_result *r)
{
    result_json_write(w, r, 0);
}

char *mxtls_result_json(const mxtls_result *r)
{
    jsonw w;
    jw_init(&w);
    result_json_write(&w, r, 1);
    return jw_finish(&w);
}

char *mxtls_results_json(mxtls_result *const *rs, size_t n)
{
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", MXTLS_JSON_SCHEMA_VERSION);
    jw_key(&w, "levels");
    jw_arr(&w);
    for (size_t i = 0; i < n; i++)
        result_json_write(&w, rs[i], 0);
    jw_end_arr(&w);
    jw_end_obj(&w);
    return jw_finish(&w);
}
