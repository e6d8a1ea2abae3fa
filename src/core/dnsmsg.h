/* dnsmsg.h - DNS answers as mxtls keeps them, built from a validating
 * resolver's reply packet (pure: no I/O)
 *
 * The resolver adapter (io/dns.h) hands every query's result to its caller as
 * a dns_answer. Turning libunbound's report (rcode, reply packet, DNSSEC
 * status, why_bogus) into that record is a pure function, dnsmsg_answer(), so
 * that unit tests and the fuzzer can drive it with packets of their own. The
 * packet is parsed with ldns; nothing here trusts its contents. */
#ifndef MXTLS_CORE_DNSMSG_H
#define MXTLS_CORE_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

#define DNS_MAX_RECORDS 256           /* records kept per answer (more: truncated, flagged) */
#define DNS_MAX_CNAME_HOPS 16         /* CNAMEs followed inside one answer */

/* Record types we ask for. */
enum { DNS_T_A = 1, DNS_T_CNAME = 5, DNS_T_PTR = 12, DNS_T_MX = 15, DNS_T_TXT = 16,
       DNS_T_AAAA = 28, DNS_T_TLSA = 52 };

typedef enum dns_security {
    DNS_SEC_SECURE = 0,        /* the whole chain validated */
    DNS_SEC_INSECURE = 1,      /* provably unsigned (insecure delegation) */
    DNS_SEC_BOGUS = 2,         /* signed but failed validation (why_bogus says why) */
    DNS_SEC_INDETERMINATE = 3  /* no answer to judge (SERVFAIL, timeout, error) */
} dns_security;

typedef enum dns_outcome {
    DNS_DATA = 0,       /* records of the type asked for (possibly via CNAME) */
    DNS_NODATA = 1,     /* name exists, no records of that type */
    DNS_NXDOMAIN = 2,   /* name does not exist */
    DNS_SERVFAIL = 3,   /* server failure (includes bogus answers, which unbound turns
                           into SERVFAIL: security says BOGUS then) */
    DNS_TIMEOUT = 4,
    DNS_ERROR = 5       /* local failure (message in why) */
} dns_outcome;

typedef struct dns_record {
    uint16_t type;
    uint32_t ttl;
    /* A, AAAA: address text; MX, PTR, CNAME: target name (lower case, no trailing
       dot; "." for the root, e.g. null MX); TXT: the character-strings joined */
    char *text;
    uint16_t pref;              /* MX preference */
    uint8_t usage, selector, mtype; /* TLSA */
    unsigned char *data;        /* TLSA certificate association data */
    size_t data_len;
} dns_record;

typedef struct dns_answer {
    char *qname;        /* as asked, normalised */
    uint16_t qtype;
    dns_outcome outcome;
    int rcode;          /* DNS rcode of the final answer */
    dns_security security;
    char *why;          /* why_bogus / error text, or NULL */
    char *canonname;    /* owner name after CNAME expansion, NULL if none */
    dns_record *rr;     /* records of qtype in the answer (after CNAMEs) */
    size_t n;
    int truncated;      /* more than DNS_MAX_RECORDS */
    int nomem;          /* the answer could not be built (out of memory): outcome
                           DNS_ERROR says nothing of the zone */
} dns_answer;

void dns_answer_free(dns_answer *a);
/* dns_security_name, dns_outcome_name - "secure", "nxdomain", ... */
const char *dns_security_name(dns_security s);
const char *dns_outcome_name(dns_outcome o);
/* dns_type_name - "MX", "TLSA", ... ("TYPE65" style for others); static or buf */
const char *dns_type_name(uint16_t type, char *buf, size_t buflen);

/* dnsmsg_name_normalize - a query name in mxtls's form: ASCII letters folded
 * to lower case, one trailing dot removed ("." stays the root), labels 1..63
 * bytes, at most MXTLS_MAX_NAME bytes. Only printable ASCII other than
 * space and backslash is accepted (callers pass A-labels). Returns 0, or -1
 * when the name is not acceptable (out is then undefined). */
int dnsmsg_name_normalize(const char *in, char *out, size_t outlen);

/* dnsmsg_answer - the dns_answer for (qname, qtype) from what libunbound reported
 *
 *   qname    the normalised name asked for (dnsmsg_name_normalize)
 *   rcode    the rcode libunbound's callback gave: 0 when `wire` is its reply;
 *            non-zero (SERVFAIL, ...) when there is no usable reply
 *   wire     the reply packet (not inspected when rcode != 0; may be NULL)
 *   sec      libunbound's status: 2 secure, 1 bogus, 0 insecure / unchecked
 *   why      libunbound's why_bogus, or NULL
 *
 * A bogus reply yields SERVFAIL + BOGUS without records: a validating resolver
 * answers SERVFAIL to bogus data (RFC 4035 §5.5) and callers must never act on
 * it. A packet ldns cannot parse yields DNS_ERROR with the reason in why.
 * Returns a new answer (caller frees with dns_answer_free), NULL only when
 * memory runs out. */
dns_answer *dnsmsg_answer(const char *qname, uint16_t qtype, int rcode, const uint8_t *wire,
                          size_t len, int sec, const char *why);

/* dnsmsg_answer_new - an answer without records (outcome as given, security
 * INDETERMINATE, why copied when given); NULL when memory runs out */
dns_answer *dnsmsg_answer_new(const char *qname, uint16_t qtype, dns_outcome outcome,
                              const char *why);

#endif
