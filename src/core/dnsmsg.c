/* dnsmsg.c - dns_answer records from a validating resolver's reply packet
 *
 * Pure: parses with ldns (ldns_wire2pkt), never trusts counts or lengths of
 * the packet beyond what ldns checked, and bounds what it keeps
 * (DNS_MAX_RECORDS records, DNS_MAX_CNAME_HOPS aliases). */
#include "core/dnsmsg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

/* dns_answer_free - free an answer and everything it owns; NULL is a no-op */
void dns_answer_free(dns_answer *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->rr[i].text);
        free(a->rr[i].data);
    }
    free(a->rr);
    free(a->qname);
    free(a->why);
    free(a->canonname);
    free(a);
}

/* dns_security_name - the stable name of a DNSSEC status (docs/dns.md) */
const char *dns_security_name(dns_security s)
{
    switch (s) {
    case DNS_SEC_SECURE: return "secure";
    case DNS_SEC_INSECURE: return "insecure";
    case DNS_SEC_BOGUS: return "bogus";
    case DNS_SEC_INDETERMINATE: return "indeterminate";
    }
    return "unknown";
}

/* dns_outcome_name - the stable name of how a query ended (docs/dns.md) */
const char *dns_outcome_name(dns_outcome o)
{
    switch (o) {
    case DNS_DATA: return "data";
    case DNS_NODATA: return "nodata";
    case DNS_NXDOMAIN: return "nxdomain";
    case DNS_SERVFAIL: return "servfail";
    case DNS_TIMEOUT: return "timeout";
    case DNS_ERROR: return "error";
    }
    return "unknown";
}

/* dns_type_name - mnemonic of the types mxtls asks for, RFC 3597 "TYPEn" otherwise */
const char *dns_type_name(uint16_t type, char *buf, size_t buflen)
{
    switch (type) {
    case DNS_T_A: return "A";
    case DNS_T_CNAME: return "CNAME";
    case DNS_T_PTR: return "PTR";
    case DNS_T_MX: return "MX";
    case DNS_T_TXT: return "TXT";
    case DNS_T_AAAA: return "AAAA";
    case DNS_T_TLSA: return "TLSA";
    }
    if (!buf || !buflen)
        return "TYPE?";
    snprintf(buf, buflen, "TYPE%u", (unsigned)type);
    return buf;
}

/* dnsmsg_name_normalize - see dnsmsg.h; the limits are RFC 1035 §2.3.4's */
int dnsmsg_name_normalize(const char *in, char *out, size_t outlen)
{
    if (!in || !out || outlen < 2)
        return -1;
    size_t n = strnlen(in, MXTLS_MAX_NAME + 2);
    if (n == 0 || n > MXTLS_MAX_NAME + 1)
        return -1;
    if (n == 1 && in[0] == '.') {
        memcpy(out, ".", 2);
        return 0;
    }
    if (in[n - 1] == '.')
        n--; /* one trailing dot: the absolute form of the same name */
    if (n > MXTLS_MAX_NAME || n + 1 > outlen)
        return -1;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '.') {
            if (label == 0)
                return -1; /* empty label: "a..b", ".a" */
            label = 0;
        } else {
            /* Presentation-form escapes are not accepted: no caller needs them,
             * and one spelling per name keeps comparisons simple. */
            if (c <= 0x20 || c >= 0x7f || c == '\\')
                return -1;
            if (++label > 63)
                return -1;
        }
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
    }
    if (label == 0)
        return -1;
    out[n] = '\0';
    return 0;
}

/* dnsmsg_answer_new - see dnsmsg.h */
dns_answer *dnsmsg_answer_new(const char *qname, uint16_t qtype, dns_outcome outcome,
                              const char *why)
{
    dns_answer *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->qname = strdup(qname ? qname : "");
    a->qtype = qtype;
    a->outcome = outcome;
    a->rcode = outcome == DNS_NXDOMAIN ? LDNS_RCODE_NXDOMAIN
               : outcome == DNS_SERVFAIL ? LDNS_RCODE_SERVFAIL
                                         : LDNS_RCODE_NOERROR;
    a->security = DNS_SEC_INDETERMINATE;
    if (why)
        a->why = strdup(why);
    if (!a->qname || (why && !a->why)) {
        dns_answer_free(a);
        return NULL;
    }
    return a;
}

/* dnsmsg_dname_text - a domain name in mxtls's form: presentation format as
 * ldns writes it (RFC 1035 §5.1 escapes for unusual bytes), ASCII lower case,
 * no trailing dot, "." for the root. Caller frees; NULL when out of memory. */
static char *dnsmsg_dname_text(const ldns_rdf *rdf)
{
    char *s = ldns_rdf2str(rdf);
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    size_t n = strlen(s);
    /* ldns writes names from the wire absolute, always ending in the root's
     * dot (an escaped dot inside the last label comes before it: "a\.."). */
    if (n > 1 && s[n - 1] == '.')
        s[n - 1] = '\0';
    return s;
}

/* dnsmsg_rdf_is - the rdata field exists with this ldns type */
static int dnsmsg_rdf_is(const ldns_rr *rr, size_t i, ldns_rdf_type t)
{
    const ldns_rdf *f = ldns_rr_rdf(rr, i);
    return f && ldns_rdf_get_type(f) == t;
}

/* dnsmsg_fill_txt - TXT: the character-strings concatenated (RFC 7208 §3.3,
 * RFC 8461 §3.1 read TXT records that way). An embedded NUL ends the text. */
static int dnsmsg_fill_txt(const ldns_rr *rr, dns_record *out)
{
    strbuf b;
    sb_init(&b, 65536);
    if (sb_append(&b, "", 0) != MXTLS_OK)
        return -1;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *f = ldns_rr_rdf(rr, i);
        if (ldns_rdf_get_type(f) != LDNS_RDF_TYPE_STR || ldns_rdf_size(f) < 1)
            continue;
        const uint8_t *d = ldns_rdf_data(f);
        size_t len = d[0];
        if (len > ldns_rdf_size(f) - 1)
            len = ldns_rdf_size(f) - 1;
        if (sb_append(&b, (const char *)d + 1, len) != MXTLS_OK) {
            sb_free(&b);
            return -1;
        }
    }
    out->text = sb_take(&b);
    return out->text ? 0 : -1;
}

/* dnsmsg_fill_generic - other types: the rdata fields in presentation form.
 * Returns 1, 0 when ldns cannot write a field (the record is skipped: ldns
 * reads some fields it then refuses to print, e.g. an NSEC3 salt whose length
 * byte disagrees), -1 out of memory. */
static int dnsmsg_fill_generic(const ldns_rr *rr, dns_record *out)
{
    strbuf b;
    sb_init(&b, 1u << 18);
    if (sb_append(&b, "", 0) != MXTLS_OK)
        return -1;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        char *s = ldns_rdf2str(ldns_rr_rdf(rr, i));
        if (!s) {
            sb_free(&b);
            return 0;
        }
        mxtls_status st = sb_printf(&b, "%s%s", i ? " " : "", s);
        free(s);
        if (st != MXTLS_OK) {
            sb_free(&b);
            return -1;
        }
    }
    out->text = sb_take(&b);
    return out->text ? 1 : -1;
}

/* dnsmsg_fill - one record of the answer. Returns 1 filled, 0 skipped (rdata
 * not in the shape its type requires), -1 out of memory. */
static int dnsmsg_fill(const ldns_rr *rr, dns_record *out)
{
    memset(out, 0, sizeof *out);
    out->type = (uint16_t)ldns_rr_get_type(rr);
    out->ttl = ldns_rr_ttl(rr);
    char addr[INET6_ADDRSTRLEN];
    switch (out->type) {
    case DNS_T_A:
    case DNS_T_AAAA: {
        const ldns_rdf *f = ldns_rr_rdf(rr, 0);
        int af = out->type == DNS_T_A ? AF_INET : AF_INET6;
        size_t want = out->type == DNS_T_A ? 4 : 16;
        if (!f || ldns_rdf_size(f) != want ||
            !inet_ntop(af, ldns_rdf_data(f), addr, sizeof addr))
            return 0;
        out->text = strdup(addr);
        break;
    }
    case DNS_T_MX:
        if (!dnsmsg_rdf_is(rr, 0, LDNS_RDF_TYPE_INT16) ||
            !dnsmsg_rdf_is(rr, 1, LDNS_RDF_TYPE_DNAME))
            return 0;
        out->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
        out->text = dnsmsg_dname_text(ldns_rr_rdf(rr, 1));
        break;
    case DNS_T_PTR:
    case DNS_T_CNAME:
        if (!dnsmsg_rdf_is(rr, 0, LDNS_RDF_TYPE_DNAME))
            return 0;
        out->text = dnsmsg_dname_text(ldns_rr_rdf(rr, 0));
        break;
    case DNS_T_TXT:
        return dnsmsg_fill_txt(rr, out) ? -1 : 1;
    case DNS_T_TLSA: {
        /* RFC 6698 §2.1: three one-octet fields, then the association data. */
        if (ldns_rr_rd_count(rr) < 3)
            return 0;
        for (size_t i = 0; i < 3; i++)
            if (ldns_rdf_size(ldns_rr_rdf(rr, i)) != 1)
                return 0;
        out->usage = ldns_rdf_data(ldns_rr_rdf(rr, 0))[0];
        out->selector = ldns_rdf_data(ldns_rr_rdf(rr, 1))[0];
        out->mtype = ldns_rdf_data(ldns_rr_rdf(rr, 2))[0];
        const ldns_rdf *d = ldns_rr_rd_count(rr) > 3 ? ldns_rr_rdf(rr, 3) : NULL;
        size_t dlen = d ? ldns_rdf_size(d) : 0;
        out->data = xmemdup(d ? ldns_rdf_data(d) : NULL, dlen);
        if (!out->data)
            return -1;
        out->data_len = dlen;
        /* The text is the RFC 6698 §2.2 presentation form, for reports. */
        strbuf b;
        sb_init(&b, 2 * dlen + 32);
        if (sb_printf(&b, "%u %u %u ", out->usage, out->selector, out->mtype) != MXTLS_OK) {
            sb_free(&b);
            return -1;
        }
        for (size_t i = 0; i < dlen; i++)
            if (sb_printf(&b, "%02x", out->data[i]) != MXTLS_OK) {
                sb_free(&b);
                return -1;
            }
        out->text = sb_take(&b);
        break;
    }
    default:
        return dnsmsg_fill_generic(rr, out);
    }
    return out->text ? 1 : -1;
}

/* dnsmsg_collect - follow CNAMEs from qname inside the answer section, then
 * keep the records of qtype at the final owner. RFC 1034 §3.6.2 / §4.3.2: a
 * resolver returns the chain and the data at its end in one answer; libunbound
 * validated the whole expansion, so one DNSSEC status covers it. Returns 0 or
 * -1 (out of memory). */
static int dnsmsg_collect(dns_answer *a, const ldns_rr_list *an, const ldns_rdf *qname)
{
    const ldns_rdf *cur = qname;
    size_t count = ldns_rr_list_rr_count(an);
    if (a->qtype != DNS_T_CNAME) {
        for (int hop = 0; hop < DNS_MAX_CNAME_HOPS; hop++) {
            const ldns_rdf *next = NULL;
            for (size_t i = 0; i < count; i++) {
                const ldns_rr *rr = ldns_rr_list_rr(an, i);
                if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
                    ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
                    ldns_dname_compare(ldns_rr_owner(rr), cur) == 0 &&
                    dnsmsg_rdf_is(rr, 0, LDNS_RDF_TYPE_DNAME)) {
                    next = ldns_rr_rdf(rr, 0);
                    break;
                }
            }
            if (!next)
                break;
            cur = next;
        }
        if (cur != qname) {
            a->canonname = dnsmsg_dname_text(cur);
            if (!a->canonname)
                return -1;
        }
    }
    for (size_t i = 0; i < count; i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if ((uint16_t)ldns_rr_get_type(rr) != a->qtype ||
            ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
            ldns_dname_compare(ldns_rr_owner(rr), cur) != 0)
            continue;
        if (a->n == DNS_MAX_RECORDS) {
            a->truncated = 1;
            break;
        }
        if (!a->rr) {
            a->rr = calloc(count < DNS_MAX_RECORDS ? count : DNS_MAX_RECORDS, sizeof *a->rr);
            if (!a->rr)
                return -1;
        }
        int got = dnsmsg_fill(rr, &a->rr[a->n]);
        if (got < 0) {
            free(a->rr[a->n].text);
            free(a->rr[a->n].data);
            return -1;
        }
        if (got > 0)
            a->n++;
    }
    return 0;
}

/* dnsmsg_answer - see dnsmsg.h */
dns_answer *dnsmsg_answer(const char *qname, uint16_t qtype, int rcode, const uint8_t *wire,
                          size_t len, int sec, const char *why)
{
    if (rcode != 0) {
        /* libunbound: "do not inspect [the packet] if rcode != 0". */
        dns_answer *a = dnsmsg_answer_new(qname, qtype,
                                          rcode == LDNS_RCODE_NXDOMAIN ? DNS_NXDOMAIN
                                                                       : DNS_SERVFAIL,
                                          NULL);
        if (a)
            a->rcode = rcode;
        return a;
    }
    if (sec == 1) {
        /* Bogus: libunbound hands over the failed data with sec=1; a
         * validating resolver must not (RFC 4035 §5.5), so neither do we. */
        dns_answer *a = dnsmsg_answer_new(
            qname, qtype, DNS_SERVFAIL,
            why && *why ? why : "DNSSEC validation failed (no reason given)");
        if (a)
            a->security = DNS_SEC_BOGUS;
        return a;
    }
    ldns_pkt *pkt = NULL;
    ldns_status st = wire && len ? ldns_wire2pkt(&pkt, wire, len) : LDNS_STATUS_PACKET_OVERFLOW;
    if (st == LDNS_STATUS_MEM_ERR)
        return NULL; /* out of memory: not a malformed packet */
    if (st != LDNS_STATUS_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "malformed reply packet (%s)", ldns_get_errorstr_by_id(st));
        return dnsmsg_answer_new(qname, qtype, DNS_ERROR, msg);
    }
    dns_answer *a = dnsmsg_answer_new(qname, qtype, DNS_NODATA, NULL);
    ldns_rdf *qdname = NULL;
    if (!a)
        goto err;
    a->rcode = (int)ldns_pkt_get_rcode(pkt);
    a->security = sec == 2 ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
    if (a->rcode != LDNS_RCODE_NOERROR && a->rcode != LDNS_RCODE_NXDOMAIN) {
        /* REFUSED, FORMERR, ...: no answer to judge. */
        a->outcome = DNS_SERVFAIL;
        a->security = DNS_SEC_INDETERMINATE;
        ldns_pkt_free(pkt);
        return a;
    }
    qdname = ldns_dname_new_frm_str(qname);
    if (!qdname) {
        /* Only a name that dnsmsg_name_normalize() would refuse gets here. */
        free(a->why);
        a->why = strdup("query name is not a domain name");
        if (!a->why)
            goto err;
        a->outcome = DNS_ERROR;
        a->security = DNS_SEC_INDETERMINATE;
        ldns_pkt_free(pkt);
        return a;
    }
    if (dnsmsg_collect(a, ldns_pkt_answer(pkt), qdname) != 0)
        goto err;
    /* RFC 6604 §3: with CNAMEs the rcode describes the last name of the chain,
     * so NXDOMAIN after an alias means the target does not exist. */
    if (a->rcode == LDNS_RCODE_NXDOMAIN)
        a->outcome = DNS_NXDOMAIN;
    else
        a->outcome = a->n > 0 ? DNS_DATA : DNS_NODATA;
    if (a->outcome == DNS_NXDOMAIN && a->n > 0) {
        /* Records of qtype with NXDOMAIN: contradictory; keep the data out. */
        for (size_t i = 0; i < a->n; i++) {
            free(a->rr[i].text);
            free(a->rr[i].data);
        }
        a->n = 0;
    }
    ldns_rdf_deep_free(qdname);
    ldns_pkt_free(pkt);
    return a;
err:
    ldns_rdf_deep_free(qdname);
    ldns_pkt_free(pkt);
    dns_answer_free(a);
    return NULL;
}
