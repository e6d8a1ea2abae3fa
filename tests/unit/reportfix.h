/* reportfix.h - hand-built inputs for the report renderers (DNS answers, a
 * TLSA check result), shared by test_report.c and test_oom_report.c
 * (header-only; include after <cmocka.h>) */
#ifndef MXTLS_REPORTFIX_H
#define MXTLS_REPORTFIX_H

#include <stdlib.h>
#include <string.h>

#include "core/dane.h"
#include "core/dnsmsg.h"
#include "engine/check.h"
#include "engine/tlsa_check.h"

/* rf_rec - one record: text, MX preference, TLSA fields and hex data */
typedef struct rf_rec {
    uint16_t type;
    uint32_t ttl;
    const char *text;
    uint16_t pref;
    uint8_t usage, selector, mtype;
    const char *hex;
} rf_rec;

/* rf_answer - an answer as dnsmsg_answer would make it; caller
 * dns_answer_free()s */
static inline dns_answer *rf_answer(const char *qname, uint16_t qtype, dns_outcome outcome,
                                    dns_security sec, const char *why, const rf_rec *recs,
                                    size_t n)
{
    dns_answer *a = dnsmsg_answer_new(qname, qtype, outcome, why);
    assert_non_null(a);
    a->security = sec;
    a->rr = calloc(n ? n : 1, sizeof *a->rr);
    assert_non_null(a->rr);
    for (size_t i = 0; i < n; i++) {
        dns_record *r = &a->rr[i];
        r->type = recs[i].type;
        r->ttl = recs[i].ttl;
        r->text = strdup(recs[i].text);
        assert_non_null(r->text);
        r->pref = recs[i].pref;
        r->usage = recs[i].usage;
        r->selector = recs[i].selector;
        r->mtype = recs[i].mtype;
        if (recs[i].hex) {
            size_t hl = strlen(recs[i].hex);
            r->data = malloc(hl / 2 + 1);
            assert_non_null(r->data);
            for (size_t k = 0; k + 1 < hl; k += 2) {
                unsigned v;
                assert_int_equal(sscanf(recs[i].hex + k, "%2x", &v), 1);
                r->data[r->data_len++] = (unsigned char)v;
            }
        }
        a->n++;
    }
    return a;
}

/* ---- a TLSA check result ------------------------------------------------ */

typedef struct rf_tlsa {
    check_report rep;
    check_host host;
    check_address addr[2];
    tlsa_check_result res;
    tlsa_host_result hr;
    tlsa_addr_result ar[2];
    dane_result per_rr[2][2];
    int raw_depth[2][2];
    tlsa_planned plan;
    tlsa_plan_result pr;
    tlsa_warning warn;
} rf_tlsa;

/* rf_tlsa_build - mx.example.com with a usable "3 1 1" and an unusable
 * "1 1 1" record, two addresses (one authenticated, one failing), a planned
 * chain that will break, and a warning */
static inline void rf_tlsa_build(rf_tlsa *t)
{
    memset(t, 0, sizeof *t);
    t->rep.domain = strdup("example.com");
    t->rep.port = 25;
    t->rep.mx_outcome = DNS_DATA;
    t->rep.mx_security = DNS_SEC_SECURE;
    t->rep.nhosts = 1;
    t->rep.hosts[0] = &t->host;
    t->host.name = strdup("mx.example.com");
    t->host.tlsa_started = 1;
    t->host.tlsa_state = MXTLS_TLSA_SECURE;
    assert_int_equal(dane_rr_parse("3 1 1 00112233445566778899aabbccddeeff00112233445566778899"
                                   "aabbccddeeff", &t->host.tlsa[0], NULL), 0);
    assert_int_equal(dane_rr_parse("1 1 1 ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766"
                                   "554433221100", &t->host.tlsa[1], NULL), 0);
    t->host.ntlsa = 2;
    t->host.naddrs = 2;
    t->addr[0].ip = strdup("192.0.2.25");
    t->addr[1].ip = strdup("2001:db8::25");
    t->host.addrs[0] = &t->addr[0];
    t->host.addrs[1] = &t->addr[1];

    t->res.rep = &t->rep;
    t->res.hosts = &t->hr;
    t->res.nhosts = 1;
    t->res.status = TLSA_STATUS_WILL_BREAK;
    snprintf(t->res.summary, sizeof t->res.summary, "the next certificate will not match");
    t->hr.host = &t->host;
    t->hr.owner = strdup("_25._tcp.mx.example.com");
    t->hr.ttl = 3600;
    t->hr.usable = 1;
    t->hr.published = 1;
    t->hr.addrs = t->ar;
    for (int j = 0; j < 2; j++) {
        tlsa_addr_result *ar = &t->ar[j];
        ar->addr = &t->addr[j];
        ar->per_rr = t->per_rr[j];
        ar->raw_depth = t->raw_depth[j];
        for (int k = 0; k < 2; k++) {
            dane_result *d = &t->per_rr[j][k];
            d->match_index = d->match_depth = -1;
            d->code = "tlsa-mismatch";
            snprintf(d->message, sizeof d->message, "no record matches");
            t->raw_depth[j][k] = -1;
        }
        ar->all = t->per_rr[j][0];
    }
    t->ar[0].state = "authenticated";
    t->per_rr[0][0] = (dane_result){.usable = 1, .authenticated = 1, .match_index = 0,
                                    .match_depth = 0, .code = "dane-ee"};
    snprintf(t->per_rr[0][0].message, sizeof t->per_rr[0][0].message, "DANE-EE matches");
    t->ar[0].all = t->per_rr[0][0];
    t->ar[1].state = "fails";
    t->raw_depth[1][1] = 0;
    t->plan = (tlsa_planned){.option = "next", .file = "next.pem"};
    t->pr.plan = &t->plan;
    t->pr.verdict = "will-break";
    t->pr.r = t->per_rr[1][0];
    assert_int_equal(strlist_add(&t->pr.publish, "3 1 1 aabbccddeeff00112233445566778899aab"
                                                 "bccddeeff00112233445566778899"), MXTLS_OK);
    t->hr.plans = &t->pr;
    t->hr.nplans = 1;
    t->warn.code = "single-record";
    t->warn.host = strdup("mx.example.com");
    t->warn.message = strdup("publish a record for the next key before the change");
    t->res.warnings = &t->warn;
    t->res.nwarnings = 1;
}

static inline void rf_tlsa_free(rf_tlsa *t)
{
    free(t->rep.domain);
    free(t->host.name);
    dane_rr_clear(&t->host.tlsa[0]);
    dane_rr_clear(&t->host.tlsa[1]);
    free(t->addr[0].ip);
    free(t->addr[1].ip);
    free(t->hr.owner);
    strlist_free(&t->pr.publish);
    free(t->warn.host);
    free(t->warn.message);
}

#endif
