/* result_text.c - results for people at a terminal
 *
 * Every string that can carry bytes from a certificate, a server or DNS
 * (names, reason messages, advice, subjects) goes through sb_put_display():
 * control characters never reach the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"
#include "report/textout.h"

#define TEXT_MAX_OUTPUT (16u * 1024u * 1024u)

static const char *text_color(mxtls_verdict v, int color)
{
    if (!color)
        return "";
    return v == MXTLS_VERDICT_PASS ? "\033[32m" : v == MXTLS_VERDICT_FAIL ? "\033[31m" : "\033[33m";
}

static const char *text_reset(int color) { return color ? "\033[0m" : ""; }

/* text_upper - "PASS" */
static void text_upper(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    out[i] = '\0';
}

static void text_list(textout *b, const char *label, const strlist *l)
{
    if (!l->n)
        return;
    to_printf(b, "  %-12s", label);
    for (size_t i = 0; i < l->n; i++) {
        to_puts(b, i ? ", " : "");
        to_put_display(b, l->v[i]);
    }
    to_puts(b, "\n");
}

/* text_evidence - what the verdict rests on (shared by both reports) */
static void text_evidence(textout *b, const mxtls_result *r)
{
    to_printf(b, "  %-12s%s\n", "domain", r->domain);
    if (r->mx.n) {
        to_printf(b, "  %-12s", "mx");
        for (size_t i = 0; i < r->mx.n; i++)
            to_printf(b, "%s%s", i ? ", " : "", r->mx.v[i]);
        to_printf(b, " (MX lookup %s)\n", r->mx_secure ? "DNSSEC-secure" : "not DNSSEC-secure");
    }
    if (r->ip)
        to_printf(b, "  %-12s%s\n", "ip", r->ip);
    for (size_t i = 0; i < r->ptr.n; i++)
        to_printf(b, "  %-12s%s (%s)\n", "ptr", r->ptr.v[i],
                  r->ptr_confirmed[i] ? "forward-confirmed" : "not forward-confirmed");
    text_list(b, "routes", &r->routes);
    if (r->no_tls) {
        to_printf(b, "  %-12s", "tls");
        to_put_display(b, r->tls_failed ? r->tls_failed : "not established (no STARTTLS)");
        to_puts(b, "\n");
        return;
    }
    if (r->tlsa_state != MXTLS_TLSA_NOT_LOOKED_UP) {
        to_printf(b, "  %-12s%s at %s\n", "tlsa", mxtls_tlsa_state_name(r->tlsa_state),
                  r->tlsa_base ? r->tlsa_base : "?");
        for (size_t i = 0; i < r->tlsa.n; i++)
            to_printf(b, "  %-12s%.60s%s%s%s\n", "", r->tlsa.v[i],
                      r->tlsa_unusable.v[i][0] ? " (unusable: " : "",
                      r->tlsa_unusable.v[i][0] ? r->tlsa_unusable.v[i] : "",
                      r->tlsa_unusable.v[i][0] ? ")"
                      : (int)i == r->dane_match_index ? " <- matched" : "");
    }
    if (r->revocation != MXTLS_REVOCATION_NOT_CHECKED) {
        to_printf(b, "  %-12s%s%s", "revocation", mxtls_revocation_status_name(r->revocation),
                  r->revocation_detail ? ": " : "");
        to_put_display(b, r->revocation_detail ? r->revocation_detail : "");
        to_puts(b, "\n");
    }
    text_list(b, "cert dns", &r->presented.dns);
    text_list(b, "cert ip", &r->presented.ip);
    text_list(b, "cert cn", &r->presented.cn);
    for (size_t i = 0; i < r->nchain; i++) {
        to_printf(b, "  %-12s[%zu] ", i == 0 ? "chain" : "", i);
        to_put_display(b, r->chain[i].subject);
        to_printf(b, "\n  %-12s    issuer ", "");
        to_put_display(b, r->chain[i].issuer);
        to_printf(b, "\n  %-12s    valid %s .. %s\n", "", r->chain[i].not_before,
                  r->chain[i].not_after);
    }
    if (r->fp_cert)
        to_printf(b, "  %-12s%s %s\n  %-12s%s %s (public key)\n", "fingerprint", r->fp_digest,
                  r->fp_cert, "", r->fp_digest, r->fp_pubkey);
}

static void text_advice(textout *b, const strlist *advice)
{
    if (!advice->n)
        return;
    to_puts(b, "advice\n");
    for (size_t i = 0; i < advice->n; i++) {
        to_puts(b, "  - ");
        to_put_display(b, advice->v[i]);
        to_puts(b, "\n");
    }
}

char *mxtls_result_text(const mxtls_result *r, int color)
{
    textout b;
    to_init(&b, TEXT_MAX_OUTPUT);
    char up[16];
    text_upper(mxtls_verdict_name(r->verdict), up, sizeof up);
    to_printf(&b, "%s: %s%s%s (security: %s)\n", mxtls_level_name(r->level),
              text_color(r->verdict, color), up, text_reset(color),
              mxtls_security_name(r->security));
    for (size_t i = 0; i < r->nreasons; i++) {
        const reason *x = &r->reasons[i];
        const char *mark = !strcmp(x->kind, "warning") ? "!" : !strcmp(x->kind, "info") ? "i" : "*";
        to_printf(&b, "  %s %s%s%s%s: ", mark, x->code, x->status ? " [" : "",
                  x->status ? x->status : "", x->status ? "]" : "");
        to_put_display(&b, x->message);
        to_puts(&b, "\n");
    }
    if (r->nrefs) {
        to_puts(&b, "reference identities\n");
        for (size_t i = 0; i < r->nrefs; i++)
            to_printf(&b, "  %-30s against %-9s (from %s)%s\n", r->refs[i].name,
                      r->refs[i].against, r->refs[i].source,
                      r->matched_ref && !strcmp(r->matched_ref, r->refs[i].name)
                          ? "  <- matched"
                          : "");
        if (r->matched_ref) {
            to_printf(&b, "  matched: %s = ", r->matched_ref);
            to_put_display(&b, r->matched_pres);
            to_puts(&b, "\n");
        } else
            to_puts(&b, "  matched: none\n");
    }
    to_puts(&b, "evidence\n");
    text_evidence(&b, r);
    if (r->pkix_checked) {
        to_printf(&b, "  %-12s", "pkix");
        to_put_display(&b, r->pkix_valid ? "valid" : r->pkix_message);
        to_puts(&b, "\n");
    }
    text_advice(&b, &r->advice);
    return to_take(&b);
}

char *mxtls_results_table_text(mxtls_result *const *rs, size_t n, int color)
{
    textout b;
    to_init(&b, TEXT_MAX_OUTPUT);
    to_printf(&b, "%-28s %-9s %-10s %s\n", "LEVEL", "VERDICT", "SECURITY", "REASON");
    strlist advice = {0};
    const mxtls_result *pk = NULL;
    for (size_t i = 0; i < n; i++) {
        const mxtls_result *r = rs[i];
        to_printf(&b, "%-28s %s%-9s%s %-10s %s\n", mxtls_level_name(r->level),
                  text_color(r->verdict, color), mxtls_verdict_name(r->verdict),
                  text_reset(color), mxtls_security_name(r->security),
                  r->nreasons ? r->reasons[0].code : "");
        for (size_t j = 0; j < r->advice.n; j++)
            if (strlist_add_unique(&advice, r->advice.v[j]) != MXTLS_OK)
                to_fail(&b);
        if (r->pkix_checked && !pk)
            pk = r;
    }
    if (n) {
        to_puts(&b, "evidence\n");
        text_evidence(&b, rs[0]);
        if (pk) {
            to_printf(&b, "  %-12s", "pkix");
            to_put_display(&b, pk->pkix_valid ? "valid" : pk->pkix_message);
            to_puts(&b, "\n");
        }
    }
    text_advice(&b, &advice);
    strlist_free(&advice);
    return to_take(&b);
}
