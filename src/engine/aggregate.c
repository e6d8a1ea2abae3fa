/* aggregate.c - the domain's verdict at one level from the verdicts of its
 * addresses (pure: no I/O, no clock) */
#include "engine/aggregate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"
#include "engine/sts.h"

static void check_set_verdict(check_domain_verdict *v, mxtls_verdict verdict,
                              mxtls_security sec, const char *code, const char *message,
                              const char *via)
{
    v->verdict = verdict;
    v->security = sec;
    v->code = strdup(code);
    v->message = strdup(message);
    v->via = via ? strdup(via) : NULL;
    if (!v->code || !v->message || (via && !v->via)) { /* out of memory: no verdict */
        free(v->code);
        free(v->message);
        free(v->via);
        v->code = v->message = v->via = NULL;
    }
}

static void check_aggregate_level(check_report *rep, size_t li);

/* check_aggregate - see aggregate.h */
mxtls_status check_aggregate(check_report *rep, size_t li)
{
    check_aggregate_level(rep, li);
    return rep->verdicts[li].code ? MXTLS_OK : MXTLS_ERR_NOMEM;
}

/* check_aggregate_level - the domain's verdict at a level: a sender tries the MX
 * hosts in preference order and delivers over the first address that passes;
 * without one it defers when any address gave a temporary failure. */
static void check_aggregate_level(check_report *rep, size_t li)
{
    check_domain_verdict *v = &rep->verdicts[li];
    v->level = rep->levels[li];
    if (rep->null_mx) {
        check_set_verdict(v, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "null-mx",
                          "the domain publishes a null MX (RFC 7505): it accepts no mail", NULL);
        return;
    }
    if (rep->nhosts == 0) {
        if (rep->timed_out)
            check_set_verdict(v, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "timeout",
                              "the MX lookup did not finish before the deadline", NULL);
        else if (rep->mx_outcome == DNS_NXDOMAIN)
            check_set_verdict(v, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "nxdomain",
                              "the domain does not exist (NXDOMAIN)", NULL);
        else if (rep->mx_security == DNS_SEC_BOGUS)
            check_set_verdict(v, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "dns-bogus",
                              rep->mx_why ? rep->mx_why : "the MX answer failed DNSSEC validation",
                              NULL);
        else
            check_set_verdict(v, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "dns-error",
                              "the MX lookup failed", NULL);
        return;
    }
    const mxtls_result *first_temp = NULL, *first_fail = NULL;
    const check_host *temp_h = NULL, *fail_h = NULL, *dns_h = NULL;
    const check_address *temp_a = NULL, *fail_a = NULL;
    int any_addr = 0, dns_timeout = 0, eval_failed = 0;
    char via[600];
    for (size_t i = 0; i < rep->nhosts; i++) {
        const check_host *h = rep->hosts[i];
        /* A host whose address lookup failed temporarily (SERVFAIL, bogus,
         * timeout) is one a sender would retry: it defers rather than give
         * up, so this outranks policy failures elsewhere. */
        int a_temp = h->a_queried && h->a_outcome >= DNS_SERVFAIL;
        int aaaa_temp = h->aaaa_queried && h->aaaa_outcome >= DNS_SERVFAIL;
        if (h->naddrs == 0 && !h->invalid && (a_temp || aaaa_temp) && !dns_h) {
            dns_h = h;
            dns_timeout = (a_temp && h->a_outcome == DNS_TIMEOUT) ||
                          (aaaa_temp && h->aaaa_outcome == DNS_TIMEOUT);
        }
        for (size_t j = 0; j < h->naddrs; j++) {
            const check_address *a = h->addrs[j];
            const mxtls_result *r = a->results[li];
            any_addr = 1;
            if (!r || !r->nreasons) { /* no result, or one without a reason */
                eval_failed = 1;
                continue;
            }
            if (r->verdict == MXTLS_VERDICT_PASS) {
                snprintf(via, sizeof via, "%s [%s]", h->name, a->ip);
                check_set_verdict(v, MXTLS_VERDICT_PASS, r->security, r->reasons[0].code,
                                  r->reasons[0].message, via);
                return;
            }
            if (r->verdict == MXTLS_VERDICT_TEMPFAIL && !first_temp) {
                first_temp = r;
                temp_h = h;
                temp_a = a;
            }
            if (r->verdict == MXTLS_VERDICT_FAIL && !first_fail) {
                first_fail = r;
                fail_h = h;
                fail_a = a;
            }
        }
    }
    if (first_temp) {
        snprintf(via, sizeof via, "%s [%s]", temp_h->name, temp_a->ip);
        check_set_verdict(v, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE,
                          first_temp->reasons[0].code, first_temp->reasons[0].message, via);
    } else if (dns_h) {
        char msg[600];
        snprintf(msg, sizeof msg, "the address lookup of %s %s", dns_h->name,
                 dns_timeout ? "did not finish in time" : "failed (SERVFAIL or bogus)");
        check_set_verdict(v, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE,
                          dns_timeout ? "timeout" : "dns-error", msg, dns_h->name);
    } else if (eval_failed) {
        check_set_verdict(v, MXTLS_VERDICT_TEMPFAIL, MXTLS_SECURITY_NONE, "internal-error",
                          "the evidence of an address could not be evaluated (out of memory?)",
                          NULL);
    } else if (first_fail) {
        snprintf(via, sizeof via, "%s [%s]", fail_h->name, fail_a->ip);
        check_set_verdict(v, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE,
                          first_fail->reasons[0].code, first_fail->reasons[0].message, via);
    } else {
        (void)any_addr;
        check_set_verdict(v, MXTLS_VERDICT_FAIL, MXTLS_SECURITY_NONE, "no-address",
                          "no MX host has a usable address", NULL);
    }
}

mxtls_status check_auto_dane(check_report *rep)
{
    for (size_t i = 0; i < rep->nhosts && rep->auto_level != MXTLS_LEVEL_DANE; i++) {
        const check_host *h = rep->hosts[i];
        int mx_ok = rep->routed || rep->implicit_mx || rep->mx_security == DNS_SEC_SECURE;
        const char *why = NULL;
        if (!h->tlsa_started || !mx_ok)
            continue;
        if (h->tlsa_state == MXTLS_TLSA_SECURE && h->ntlsa)
            why = "DNSSEC-secure TLSA records";
        else if (h->tlsa_state == MXTLS_TLSA_BOGUS || h->tlsa_state == MXTLS_TLSA_ERROR)
            why = "a failed TLSA lookup (a DANE sender defers)";
        if (why && !rep->policy_entry) {
            char buf[512];
            snprintf(buf, sizeof buf, "%s at %s: dane", why,
                     h->tlsa_base ? h->tlsa_base : h->name);
            char *why_text = strdup(buf);
            if (!why_text)
                return MXTLS_ERR_NOMEM;
            rep->auto_level = MXTLS_LEVEL_DANE;
            free(rep->auto_reason);
            rep->auto_reason = why_text;
        }
    }
    return MXTLS_OK;
}

mxtls_status check_auto_sts(check_report *rep)
{
    /* RFC 8461 §5: an enforce policy in force, where neither a policy-map
     * entry nor DANE decided. */
    if (rep->auto_level != MXTLS_LEVEL_MAY || rep->policy_entry || !rep->sts ||
        !sts_enforced(rep->sts))
        return MXTLS_OK;
    char *why = strdup("an MTA-STS policy in mode enforce: mta-sts");
    if (!why)
        return MXTLS_ERR_NOMEM;
    rep->auto_level = MXTLS_LEVEL_MTA_STS;
    free(rep->auto_reason);
    rep->auto_reason = why;
    return MXTLS_OK;
}
