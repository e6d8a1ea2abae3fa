/* dns_report.c - DNS lookups as text and JSON (docs/dns.md) */
#include "report/dns_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnssec_advice.h"
#include "core/names.h"
#include "report/jsonw.h"
#include "report/textout.h"

#define DNS_REPORT_MAX (64u * 1024u * 1024u)

const char *dns_report_advice(const dns_answer *a)
{
    if (a->security == DNS_SEC_BOGUS)
        return dnssec_advice(a->why);
    if (a->qtype == DNS_T_TLSA && a->outcome == DNS_DATA && a->security == DNS_SEC_INSECURE &&
        a->n)
        return "These TLSA records are not DNSSEC-signed (no DS record leads to them: the zone "
               "is not signed, or its delegation is insecure), so DANE senders ignore them (RFC "
               "7672 section 2.2). Sign the zone and publish its DS record at the parent zone.";
    return NULL;
}

static const char *dns_report_color(int color, const dns_answer *a, int security)
{
    if (!color)
        return "";
    if (security) {
        switch (a->security) {
        case DNS_SEC_SECURE: return "\033[32m";
        case DNS_SEC_INSECURE: return "\033[33m";
        default: return "\033[31m";
        }
    }
    return a->outcome >= DNS_SERVFAIL ? "\033[31m" : "";
}

/* dns_report_line - "PREFIX" + untrusted text (TXT, names) made safe for a
 * terminal + "SUFFIX" */
static void dns_report_line(textout *t, const char *prefix, const char *s, const char *suffix)
{
    char *e = names_escape((const unsigned char *)s, strlen(s));
    if (!e) {
        to_fail(t);
        return;
    }
    to_printf(t, "%s%s%s", prefix, e, suffix);
    free(e);
}

char *dns_report_text(const dns_report *r, int color)
{
    const dns_config *cfg = r->cfg;
    const char *off = color ? "\033[0m" : "";
    const char *ta = cfg->trust_anchor ? cfg->trust_anchor : DNS_DEFAULT_TRUST_ANCHOR;
    textout t;
    to_init(&t, DNS_REPORT_MAX);
    if (cfg->resolver)
        to_printf(&t, "resolver: forward to %s, validating with %s\n", cfg->resolver, ta);
    else
        to_printf(&t, "resolver: recursive%s%s, validating with %s\n",
                  cfg->root_hints ? " from root hints " : "",
                  cfg->root_hints ? cfg->root_hints : "", ta);
    for (size_t i = 0; i < r->n; i++) {
        const dns_answer *a = r->answers[i];
        char tb[16];
        if (!a)
            continue;
        to_printf(&t, "%s %s: %s%s%s, %s%s%s", a->qname, dns_type_name(a->qtype, tb, sizeof tb),
                  dns_report_color(color, a, 0), dns_outcome_name(a->outcome),
                  color ? off : "", dns_report_color(color, a, 1),
                  dns_security_name(a->security), off);
        if (a->why)
            dns_report_line(&t, " (", a->why, ")");
        to_puts(&t, "\n");
        if (a->canonname)
            to_printf(&t, "  canonical name %s\n", a->canonname);
        for (size_t k = 0; k < a->n; k++) {
            const dns_record *rr = &a->rr[k];
            if (rr->type == DNS_T_MX) {
                char pref[16];
                snprintf(pref, sizeof pref, "  %u ", rr->pref);
                dns_report_line(&t, pref, rr->text, "\n");
            } else if (rr->type == DNS_T_TXT) {
                dns_report_line(&t, "  \"", rr->text, "\"\n");
            } else {
                dns_report_line(&t, "  ", rr->text, "\n");
            }
        }
        if (a->truncated)
            to_printf(&t, "  (more than %d records: the rest are not kept)\n", DNS_MAX_RECORDS);
        if (dns_report_advice(a))
            to_printf(&t, "  advice: %s\n", dns_report_advice(a));
        if (i == 0 && r->all && r->mail) {
            if (!strcmp(r->mail, "null-mx"))
                to_printf(&t, "  null MX (RFC 7505): %s accepts no mail\n", a->qname);
            else if (!strcmp(r->mail, "implicit-mx"))
                to_printf(&t, "  no MX records: %s itself is the mail host (RFC 5321 §5.1)\n",
                          a->qname);
            else if (!strcmp(r->mail, "none"))
                to_printf(&t, "  %s does not exist: no mail host\n", a->qname);
        }
    }
    return to_take(&t);
}

/* dns_report_record_json - one record's fields by type */
static void dns_report_record_json(jsonw *w, const dns_record *r)
{
    jw_obj(w);
    jw_kint(w, "ttl", r->ttl);
    switch (r->type) {
    case DNS_T_MX:
        jw_kint(w, "preference", r->pref);
        jw_kstr(w, "exchange", r->text);
        break;
    case DNS_T_A:
    case DNS_T_AAAA: jw_kstr(w, "address", r->text); break;
    case DNS_T_PTR:
    case DNS_T_CNAME: jw_kstr(w, "target", r->text); break;
    case DNS_T_TXT: jw_kstr(w, "text", r->text); break;
    case DNS_T_TLSA: {
        jw_kint(w, "usage", r->usage);
        jw_kint(w, "selector", r->selector);
        jw_kint(w, "mtype", r->mtype);
        strbuf hex;
        sb_init(&hex, 2 * r->data_len + 1);
        int bad = sb_append(&hex, "", 0) != MXTLS_OK;
        for (size_t i = 0; i < r->data_len && !bad; i++)
            bad = sb_printf(&hex, "%02x", r->data[i]) != MXTLS_OK;
        if (bad)
            w->failed = 1;
        else
            jw_kstr(w, "data", hex.s);
        sb_free(&hex);
        break;
    }
    default: jw_kstr(w, "rdata", r->text); break;
    }
    jw_end_obj(w);
}

char *dns_report_json(const dns_report *r)
{
    const dns_config *cfg = r->cfg;
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kstr(&w, "domain", r->domain);
    jw_key(&w, "resolver");
    jw_obj(&w);
    jw_kstr(&w, "mode", cfg->resolver ? "forward" : "recursive");
    jw_kstr(&w, "forwarder", cfg->resolver);
    jw_kstr(&w, "trust_anchor", cfg->trust_anchor ? cfg->trust_anchor : DNS_DEFAULT_TRUST_ANCHOR);
    jw_kstr(&w, "root_hints", cfg->root_hints);
    jw_end_obj(&w);
    jw_kstr(&w, "mail", r->all ? r->mail : NULL);
    jw_key(&w, "lookups");
    jw_arr(&w);
    for (size_t i = 0; i < r->n; i++) {
        const dns_answer *a = r->answers[i];
        char tb[16];
        if (!a)
            continue;
        jw_obj(&w);
        jw_kstr(&w, "name", a->qname);
        jw_kstr(&w, "type", dns_type_name(a->qtype, tb, sizeof tb));
        jw_kstr(&w, "outcome", dns_outcome_name(a->outcome));
        jw_kstr(&w, "security", dns_security_name(a->security));
        jw_kint(&w, "rcode", a->rcode);
        jw_kstr(&w, "why", a->why);
        jw_kstr(&w, "advice", dns_report_advice(a));
        jw_kstr(&w, "canonname", a->canonname);
        jw_kbool(&w, "truncated", a->truncated);
        jw_key(&w, "records");
        jw_arr(&w);
        for (size_t k = 0; k < a->n; k++)
            dns_report_record_json(&w, &a->rr[k]);
        jw_end_arr(&w);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_end_obj(&w);
    return jw_finish(&w);
}
