/* fuzz_dnsmsg.c - libFuzzer target: reply packet -> dns_answer (core/dnsmsg.c)
 *
 * Input: one flag byte, then a DNS message as libunbound would hand it over.
 *   flags bits 0-1  libunbound's sec (0 insecure, 1 bogus, 2 secure, 3 -> 0)
 *   flags bit 2     libunbound's rcode is SERVFAIL (the packet must be ignored)
 * The question asked is the packet's own question when ldns can read it (so
 * that seeds exercise CNAME chains and owner matching), else a fixed name.
 * Checks the invariants every answer keeps, whatever the packet holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "core/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_question - the packet's first question as a normalised name and type */
static void fuzz_question(const uint8_t *wire, size_t len, char *qname, size_t qlen,
                          uint16_t *qtype)
{
    strcpy(qname, "fuzz.test");
    *qtype = DNS_T_MX;
    ldns_pkt *pkt = NULL;
    if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
        return;
    ldns_rr_list *q = ldns_pkt_question(pkt);
    if (q && ldns_rr_list_rr_count(q) > 0) {
        const ldns_rr *rr = ldns_rr_list_rr(q, 0);
        char *s = ldns_rdf2str(ldns_rr_owner(rr));
        char norm[MXTLS_MAX_NAME + 2];
        if (s && dnsmsg_name_normalize(s, norm, sizeof norm) == 0 && strlen(norm) < qlen) {
            strcpy(qname, norm);
            *qtype = (uint16_t)ldns_rr_get_type(rr);
        }
        free(s);
    }
    ldns_pkt_free(pkt);
}

/* fuzz_is_name - a name as dns_answer holds it: no ASCII upper case, no
 * trailing dot except the root itself */
static int fuzz_is_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return 0;
    return n == 1 || s[n - 1] != '.' || (n >= 2 && s[n - 2] == '\\');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int sec = data[0] & 3;
    if (sec == 3)
        sec = 0;
    int rcode = (data[0] & 4) ? LDNS_RCODE_SERVFAIL : 0;
    const uint8_t *wire = data + 1;
    size_t len = size - 1;
    char qname[MXTLS_MAX_NAME + 2];
    uint16_t qtype;
    fuzz_question(wire, len, qname, sizeof qname, &qtype);

    dns_answer *a = dnsmsg_answer(qname, qtype, rcode, wire, len, sec, "fuzz says bogus");
    if (!a)
        abort(); /* only out of memory may give NULL */
    if (strcmp(a->qname, qname) != 0 || a->qtype != qtype)
        abort();
    if (a->n > DNS_MAX_RECORDS || (a->truncated && a->n != DNS_MAX_RECORDS))
        abort();
    if ((a->outcome == DNS_DATA) != (a->n > 0))
        abort();
    if (a->security == DNS_SEC_BOGUS &&
        (a->outcome != DNS_SERVFAIL || a->n != 0 || !a->why || !*a->why))
        abort();
    if (sec == 1 && rcode == 0 && a->security != DNS_SEC_BOGUS)
        abort();
    if ((a->outcome == DNS_SERVFAIL || a->outcome == DNS_ERROR) &&
        a->security != DNS_SEC_INDETERMINATE && a->security != DNS_SEC_BOGUS)
        abort();
    if (a->outcome == DNS_ERROR && !a->why)
        abort();
    if (a->canonname && !fuzz_is_name(a->canonname))
        abort();
    for (size_t i = 0; i < a->n; i++) {
        const dns_record *r = &a->rr[i];
        if (r->type != qtype || !r->text)
            abort();
        if ((r->type == DNS_T_MX || r->type == DNS_T_PTR || r->type == DNS_T_CNAME) &&
            !fuzz_is_name(r->text))
            abort();
        if (r->type == DNS_T_TLSA && !r->data)
            abort();
    }
    dns_answer_free(a);
    return 0;
}
