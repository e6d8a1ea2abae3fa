/* audit_report.c - `mxtls audit` as text and JSON (docs/json.md, "mxtls audit") */
#include "report/audit_report.h"

#include <stdio.h>
#include <string.h>

#include "report/jsonw.h"

static const char *tri_json(audit_tri t)
{
    return t == AUDIT_YES ? "yes" : t == AUDIT_NO ? "no" : "not-tested";
}

static const char *target_kind_name(audit_target_kind k)
{
    switch (k) {
    case AUDIT_TARGET_ADDRESS: return "address";
    case AUDIT_TARGET_HOST: return "host";
    case AUDIT_TARGET_DOMAIN: return "domain";
    }
    return "?";
}

/* ---- JSON ------------------------------------------------------------- */

static void json_tri(jsonw *w, const char *k, audit_tri t)
{
    jw_kstr(w, k, tri_json(t));
}

static void json_str_or_null(jsonw *w, const char *k, const char *s)
{
    jw_kstr(w, k, s && s[0] ? s : NULL);
}

static void json_port(jsonw *w, const audit_port_result *pr)
{
    const audit_port_obs *o = &pr->obs;
    jw_obj(w);
    jw_kint(w, "port", o->port);
    jw_kstr(w, "role", audit_role_name(o->role));
    jw_kbool(w, "reachable", o->reachable);
    json_str_or_null(w, "unreachable", o->reachable ? NULL : o->unreachable_why);
    json_tri(w, "starttls", o->starttls_offered);
    jw_kbool(w, "tls", o->tls_ok);
    json_str_or_null(w, "tls_error", o->tls_error);
    json_tri(w, "auth_before_tls", o->auth_before_tls);
    json_tri(w, "auth_after_tls", o->auth_after_tls);
    jw_key(w, "mail_without_tls");
    jw_obj(w);
    json_tri(w, "accepted", o->mail_without_tls);
    if (o->mail_code)
        jw_kint(w, "code", o->mail_code);
    else
        jw_kstr(w, "code", NULL);
    json_str_or_null(w, "reply", o->mail_reply);
    jw_end_obj(w);
    jw_key(w, "protocols");
    jw_obj(w);
    for (int i = 0; i < AUDIT_NPROTOS; i++)
        json_tri(w, audit_proto_name((audit_proto)i), o->proto[i]);
    jw_end_obj(w);
    jw_key(w, "ciphers");
    jw_obj(w);
    for (int i = 0; i < AUDIT_NCIPHER_CLASSES; i++)
        json_tri(w, audit_cipher_class_name((audit_cipher_class)i), o->ciphers[i]);
    jw_end_obj(w);
    jw_key(w, "groups");
    jw_obj(w);
    for (int i = 0; i < AUDIT_NGROUPS; i++)
        json_tri(w, audit_group_name((audit_group)i), o->groups[i]);
    jw_end_obj(w);
    json_str_or_null(w, "version", o->version);
    json_str_or_null(w, "cipher", o->cipher);
    json_str_or_null(w, "group", o->group);
    jw_key(w, "key");
    if (o->key_type[0]) {
        jw_obj(w);
        jw_kstr(w, "type", o->key_type);
        jw_kint(w, "bits", o->key_bits);
        jw_end_obj(w);
    } else {
        jw_null(w);
    }
    jw_key(w, "certificate");
    if (o->cert_checked) {
        jw_obj(w);
        jw_kstr(w, "level", "verify");
        jw_kstr(w, "verdict", o->cert_ok ? "pass" : "fail");
        json_str_or_null(w, "code", o->cert_code);
        json_str_or_null(w, "message", o->cert_message);
        json_str_or_null(w, "names", o->cert_names);
        jw_end_obj(w);
    } else {
        jw_null(w);
    }
    json_tri(w, "ocsp_stapled", o->ocsp_stapled);
    json_tri(w, "client_cert_requested", o->client_cert_requested);
    json_tri(w, "requiretls", o->requiretls);
    json_str_or_null(w, "extensions", o->extensions);
    jw_kint(w, "handshakes", o->handshakes);
    jw_kint(w, "handshakes_skipped", o->handshakes_skipped);
    jw_key(w, "findings");
    jw_arr(w);
    for (size_t i = 0; i < pr->nfindings; i++) {
        const audit_finding *f = &pr->findings[i];
        const audit_rule *r = f->rule;
        jw_obj(w);
        jw_kstr(w, "id", r->id);
        jw_kstr(w, "severity", audit_severity_name(f->severity));
        jw_kstr(w, "title", r->title);
        jw_kstr(w, "detail", f->detail);
        jw_kstr(w, "postfix_parameter", r->postfix_param);
        jw_kstr(w, "postfix_fix", r->postfix_fix);
        jw_kstr(w, "exim", r->exim);
        jw_kstr(w, "opensmtpd", r->opensmtpd);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    jw_end_obj(w);
}

char *audit_report_json(const audit_report *rep)
{
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "target", rep->target);
    jw_kstr(&w, "target_kind", target_kind_name(rep->kind));
    json_str_or_null(&w, "dns_problem", rep->dns_problem);
    jw_kint(&w, "max_handshakes", rep->max_handshakes);
    jw_kbool(&w, "timed_out", rep->timed_out);
    jw_kbool(&w, "reachable", rep->reachable);
    jw_key(&w, "counts");
    jw_obj(&w);
    jw_kint(&w, "error", (long long)rep->counts[AUDIT_ERROR]);
    jw_kint(&w, "warning", (long long)rep->counts[AUDIT_WARNING]);
    jw_kint(&w, "info", (long long)rep->counts[AUDIT_INFO]);
    jw_end_obj(&w);
    jw_key(&w, "hosts");
    jw_arr(&w);
    for (size_t i = 0; i < rep->nhosts; i++) {
        const audit_host *h = &rep->hosts[i];
        jw_obj(&w);
        json_str_or_null(&w, "name", h->name);
        if (h->pref >= 0)
            jw_kint(&w, "preference", h->pref);
        else
            jw_kstr(&w, "preference", NULL);
        json_str_or_null(&w, "problem", h->problem);
        jw_kint(&w, "addresses_dropped", (long long)h->addrs_dropped);
        jw_key(&w, "addresses");
        jw_arr(&w);
        for (size_t j = 0; j < h->naddrs; j++) {
            const audit_address *a = &h->addrs[j];
            jw_obj(&w);
            jw_kstr(&w, "ip", a->ip);
            jw_key(&w, "ports");
            jw_arr(&w);
            for (size_t k = 0; k < a->nports; k++)
                json_port(&w, &a->ports[k]);
            jw_end_arr(&w);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_kint(&w, "hosts_dropped", (long long)rep->hosts_dropped);
    jw_kint(&w, "elapsed_ms", rep->elapsed_ms);
    jw_end_obj(&w);
    return jw_finish(&w);
}

/* ---- text ------------------------------------------------------------- */

static const char *tri_text(audit_tri t)
{
    return t == AUDIT_YES ? "yes" : t == AUDIT_NO ? "no" : "-";
}

/* put_indented - each line of s after the indent */
static void put_indented(strbuf *b, const char *indent, const char *s)
{
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        sb_puts(b, indent);
        sb_append(b, s, n);
        sb_puts(b, "\n");
        s += n + (nl ? 1 : 0);
    }
}

static void text_port(strbuf *b, const audit_port_result *pr, int color)
{
    const audit_port_obs *o = &pr->obs;
    sb_printf(b, "  port %u (%s): ", (unsigned)o->port, audit_role_name(o->role));
    if (!o->reachable) {
        sb_put_display(b, o->unreachable_why[0] ? o->unreachable_why : "no answer");
        sb_puts(b, "\n");
    } else {
        if (o->role != AUDIT_ROLE_SUBMISSIONS)
            sb_printf(b, "STARTTLS %s", o->starttls_offered == AUDIT_YES ? "offered"
                                        : o->starttls_offered == AUDIT_NO ? "not offered"
                                                                          : "unknown");
        else
            sb_puts(b, "TLS on connect");
        if (o->tls_ok) {
            sb_printf(b, ", %s %s", o->version, o->cipher);
            if (o->group[0])
                sb_printf(b, ", group %s", o->group);
            if (o->key_type[0])
                sb_printf(b, ", %s %d-bit key", o->key_type, o->key_bits);
        } else if (o->tls_error[0]) {
            sb_puts(b, ", TLS failed: ");
            sb_put_display(b, o->tls_error);
        }
        sb_puts(b, "\n");
        if (o->tls_ok) {
            sb_puts(b, "    protocols:");
            for (int i = 0; i < AUDIT_NPROTOS; i++)
                sb_printf(b, " %s %s%s", audit_proto_name((audit_proto)i), tri_text(o->proto[i]),
                          i + 1 < AUDIT_NPROTOS ? "," : "\n");
            sb_puts(b, "    ciphers:");
            for (int i = 0; i < AUDIT_NCIPHER_CLASSES; i++)
                sb_printf(b, " %s (%s) %s%s", audit_cipher_class_name((audit_cipher_class)i),
                          audit_cipher_class_grade((audit_cipher_class)i), tri_text(o->ciphers[i]),
                          i + 1 < AUDIT_NCIPHER_CLASSES ? "," : "\n");
            sb_puts(b, "    groups:");
            for (int i = 0; i < AUDIT_NGROUPS; i++)
                sb_printf(b, " %s %s%s", audit_group_name((audit_group)i), tri_text(o->groups[i]),
                          i + 1 < AUDIT_NGROUPS ? "," : "\n");
        }
        sb_printf(b, "    AUTH before TLS: %s, AUTH over TLS: %s", tri_text(o->auth_before_tls),
                  tri_text(o->auth_after_tls));
        if (o->mail_code) {
            sb_printf(b, ", MAIL FROM without TLS: %s (",
                      o->mail_without_tls == AUDIT_YES ? "accepted" : "refused");
            sb_put_display(b, o->mail_reply);
            sb_puts(b, ")");
        }
        sb_puts(b, "\n");
        if (o->tls_ok) {
            if (o->cert_checked) {
                sb_printf(b, "    certificate: %s at level verify for ", o->cert_ok ? "pass" : "fail");
                sb_put_display(b, o->cert_names[0] ? o->cert_names : "-");
                if (!o->cert_ok) {
                    sb_printf(b, " (%s)", o->cert_code);
                }
                sb_puts(b, "\n");
            }
            sb_printf(b, "    OCSP staple: %s, client certificate requested: %s, REQUIRETLS: %s\n",
                      tri_text(o->ocsp_stapled), tri_text(o->client_cert_requested),
                      tri_text(o->requiretls));
            sb_puts(b, "    EHLO over TLS: ");
            sb_put_display(b, o->extensions[0] ? o->extensions : "-");
            sb_puts(b, "\n");
        }
        sb_printf(b, "    handshakes: %d", o->handshakes);
        if (o->handshakes_skipped)
            sb_printf(b, " (%d probe class%s left out by --max-handshakes or --timeout)",
                      o->handshakes_skipped, o->handshakes_skipped == 1 ? "" : "es");
        sb_puts(b, "\n");
    }
    for (size_t i = 0; i < pr->nfindings; i++) {
        const audit_finding *f = &pr->findings[i];
        const char *on = "", *off = "";
        if (color) {
            on = f->severity == AUDIT_ERROR ? "\033[31m"
                 : f->severity == AUDIT_WARNING ? "\033[33m" : "\033[36m";
            off = "\033[0m";
        }
        sb_printf(b, "    %s%s%s %s: %s\n", on, audit_severity_name(f->severity), off,
                  f->rule->id, f->rule->title);
        sb_puts(b, "      seen: ");
        sb_put_display(b, f->detail);
        sb_printf(b, "\n      Postfix: %s\n", f->rule->postfix_param);
        put_indented(b, "        ", f->rule->postfix_fix);
        if (f->rule->exim)
            sb_printf(b, "      %s\n", f->rule->exim);
        if (f->rule->opensmtpd)
            sb_printf(b, "      %s\n", f->rule->opensmtpd);
    }
}

char *audit_report_text(const audit_report *rep, int color)
{
    strbuf b;
    sb_init(&b, 4u << 20);
    sb_printf(&b, "%s: %zu error%s, %zu warning%s, %zu note%s\n", rep->target,
              rep->counts[AUDIT_ERROR], rep->counts[AUDIT_ERROR] == 1 ? "" : "s",
              rep->counts[AUDIT_WARNING], rep->counts[AUDIT_WARNING] == 1 ? "" : "s",
              rep->counts[AUDIT_INFO], rep->counts[AUDIT_INFO] == 1 ? "" : "s");
    if (rep->dns_problem[0]) {
        sb_puts(&b, "DNS: ");
        sb_put_display(&b, rep->dns_problem);
        sb_puts(&b, "\n");
    }
    if (rep->timed_out)
        sb_puts(&b, "the --timeout deadline cut the audit short: some questions were not asked\n");
    for (size_t i = 0; i < rep->nhosts; i++) {
        const audit_host *h = &rep->hosts[i];
        if (h->problem[0]) {
            sb_printf(&b, "%s: ", h->name);
            sb_put_display(&b, h->problem);
            sb_puts(&b, "\n");
        }
        for (size_t j = 0; j < h->naddrs; j++) {
            const audit_address *a = &h->addrs[j];
            if (h->name[0])
                sb_printf(&b, "%s [%s]", h->name, a->ip);
            else
                sb_printf(&b, "[%s]", a->ip);
            if (h->pref >= 0)
                sb_printf(&b, " (MX %d)", h->pref);
            sb_puts(&b, "\n");
            for (size_t k = 0; k < a->nports; k++)
                text_port(&b, &a->ports[k], color);
        }
        if (h->addrs_dropped)
            sb_printf(&b, "%s: %zu more address%s not audited (at most %d per host)\n", h->name,
                      h->addrs_dropped, h->addrs_dropped == 1 ? "" : "es", AUDIT_MAX_ADDRS);
    }
    if (rep->hosts_dropped)
        sb_printf(&b, "%zu more MX host%s not audited (at most %d)\n", rep->hosts_dropped,
                  rep->hosts_dropped == 1 ? "" : "s", AUDIT_MAX_HOSTS);
    return sb_take(&b);
}
