/* test_dns - the DNS adapter without a network
 *
 * - dns_ptr_name and query-name normalisation;
 * - dnsmsg_answer, the reply-packet-to-answer mapping, on packets built here
 *   with ldns: outcomes, DNSSEC statuses, CNAME chains, every record type we
 *   read, limits at their edges, broken packets;
 * - the resolver on a real libevent loop where nothing leaves the host:
 *   answers libunbound gives from its built-in local zones (delivered after
 *   dns_resolve returns), the per-query timeout against a silent UDP
 *   forwarder on 127.0.0.1, cancellation by dns_resolver_free, configuration
 *   errors and the removal of the private config directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "core/dnsmsg.h"
#include "io/dns.h"

/* ---- packets built with ldns --------------------------------------------- */

/* pkt_build - a reply to (qname, qtype) with rcode and the given answer and
 * authority records (zone-file lines, NULL-terminated lists); *len gets the
 * size. Caller frees. */
static uint8_t *pkt_build(const char *qname, uint16_t qtype, uint8_t rcode,
                          const char *const *answer, const char *const *authority, size_t *len)
{
    ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), (ldns_rr_type)qtype,
                                     LDNS_RR_CLASS_IN, LDNS_RD);
    assert_non_null(p);
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_ra(p, true);
    ldns_pkt_set_rcode(p, rcode);
    const char *const *lists[2] = {answer, authority};
    const ldns_pkt_section sections[2] = {LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; lists[s] && lists[s][i]; i++) {
            ldns_rr *rr = NULL;
            ldns_status st = ldns_rr_new_frm_str(&rr, lists[s][i], 3600, NULL, NULL);
            if (st != LDNS_STATUS_OK)
                fail_msg("bad test record \"%s\": %s", lists[s][i], ldns_get_errorstr_by_id(st));
            assert_true(ldns_pkt_push_rr(p, sections[s], rr));
        }
    uint8_t *wire = NULL;
    assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
    ldns_pkt_free(p);
    return wire;
}

/* answer_of - dnsmsg_answer on a built packet */
static dns_answer *answer_of(const char *qname, uint16_t qtype, uint8_t rcode,
                             const char *const *an, const char *const *ns, int sec,
                             const char *why)
{
    size_t len;
    uint8_t *wire = pkt_build(qname, qtype, rcode, an, ns, &len);
    dns_answer *a = dnsmsg_answer(qname, qtype, 0, wire, len, sec, why);
    assert_non_null(a);
    free(wire);
    return a;
}

static const char *const soa_example[] = {
    "example. 300 IN SOA ns.example. host.example. 1 3600 600 86400 300", NULL};

/* ---- names ---------------------------------------------------------------- */

static void test_ptr_name(void **state)
{
    char buf[128];
    assert_int_equal(dns_ptr_name("127.0.2.1", buf, sizeof buf), 0);
    assert_string_equal(buf, "1.2.0.127.in-addr.arpa");
    assert_int_equal(dns_ptr_name("192.0.2.255", buf, sizeof buf), 0);
    assert_string_equal(buf, "255.2.0.192.in-addr.arpa");
    /* RFC 3596 §2.5's example, 4321:0:1:2:3:4:567:89ab */
    assert_int_equal(dns_ptr_name("4321:0:1:2:3:4:567:89ab", buf, sizeof buf), 0);
    assert_string_equal(buf, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa");
    assert_int_equal(dns_ptr_name("::1", buf, sizeof buf), 0);
    assert_string_equal(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
    assert_int_equal(dns_ptr_name("::ffff:192.0.2.1", buf, sizeof buf), 0);
    assert_string_equal(buf, "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
    /* not addresses */
    assert_int_equal(dns_ptr_name("mx.good.test", buf, sizeof buf), -1);
    assert_int_equal(dns_ptr_name("127.0.2", buf, sizeof buf), -1);
    assert_int_equal(dns_ptr_name("127.0.2.256", buf, sizeof buf), -1);
    assert_int_equal(dns_ptr_name("[::1]", buf, sizeof buf), -1);
    assert_int_equal(dns_ptr_name("", buf, sizeof buf), -1);
    assert_int_equal(dns_ptr_name(NULL, buf, sizeof buf), -1);
    /* the buffer limit, at its edge: "1.2.0.127.in-addr.arpa" is 22 bytes */
    assert_int_equal(dns_ptr_name("127.0.2.1", buf, 23), 0);
    assert_int_equal(dns_ptr_name("127.0.2.1", buf, 22), -1);
    assert_int_equal(dns_ptr_name("::1", buf, 73), 0); /* 64 + "ip6.arpa" + NUL */
    assert_int_equal(dns_ptr_name("::1", buf, 72), -1);
}

static void test_name_normalize(void **state)
{
    char out[MXTLS_MAX_NAME + 2];
    assert_int_equal(dnsmsg_name_normalize("MX.Good.TEST.", out, sizeof out), 0);
    assert_string_equal(out, "mx.good.test");
    assert_int_equal(dnsmsg_name_normalize("_25._tcp.mx.good.test", out, sizeof out), 0);
    assert_string_equal(out, "_25._tcp.mx.good.test");
    assert_int_equal(dnsmsg_name_normalize(".", out, sizeof out), 0);
    assert_string_equal(out, ".");
    assert_int_equal(dnsmsg_name_normalize("xn--mnchen-3ya.test", out, sizeof out), 0);
    assert_string_equal(out, "xn--mnchen-3ya.test");
    static const char *const bad[] = {"", "..", "a..b", ".a", "a.b..", "a b.test",
                                      "m\xc3\xbcnchen.test", "a\\.b.test", "tab\t.test"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dnsmsg_name_normalize(bad[i], out, sizeof out) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
    /* a label of 63 bytes is fine, 64 is not (RFC 1035 §2.3.4) */
    char name[400];
    memset(name, 'a', 63);
    strcpy(name + 63, ".test");
    assert_int_equal(dnsmsg_name_normalize(name, out, sizeof out), 0);
    memset(name, 'a', 64);
    strcpy(name + 64, ".test");
    assert_int_equal(dnsmsg_name_normalize(name, out, sizeof out), -1);
    /* 253 bytes in all is fine (with or without the trailing dot), 254 is not */
    size_t o = 0;
    while (o < 253) {
        size_t l = 253 - o <= 63 ? 253 - o : 61;
        memset(name + o, 'b', l);
        o += l;
        if (o < 253)
            name[o++] = '.';
    }
    name[o] = '\0';
    assert_int_equal(strlen(name), 253);
    assert_int_equal(dnsmsg_name_normalize(name, out, sizeof out), 0);
    strcat(name, ".");
    assert_int_equal(dnsmsg_name_normalize(name, out, sizeof out), 0);
    assert_int_equal(strlen(out), 253);
    name[253] = 'c';
    name[254] = '\0';
    assert_int_equal(dnsmsg_name_normalize(name, out, sizeof out), -1);
    /* output buffer too small */
    assert_int_equal(dnsmsg_name_normalize("good.test", out, 9), -1);
    assert_int_equal(dnsmsg_name_normalize("good.test", out, 10), 0);
}

static void test_names_of_enums(void **state)
{
    char buf[16];
    assert_string_equal(dns_outcome_name(DNS_DATA), "data");
    assert_string_equal(dns_outcome_name(DNS_NODATA), "nodata");
    assert_string_equal(dns_outcome_name(DNS_NXDOMAIN), "nxdomain");
    assert_string_equal(dns_outcome_name(DNS_SERVFAIL), "servfail");
    assert_string_equal(dns_outcome_name(DNS_TIMEOUT), "timeout");
    assert_string_equal(dns_outcome_name(DNS_ERROR), "error");
    assert_string_equal(dns_security_name(DNS_SEC_SECURE), "secure");
    assert_string_equal(dns_security_name(DNS_SEC_INSECURE), "insecure");
    assert_string_equal(dns_security_name(DNS_SEC_BOGUS), "bogus");
    assert_string_equal(dns_security_name(DNS_SEC_INDETERMINATE), "indeterminate");
    assert_string_equal(dns_type_name(DNS_T_TLSA, buf, sizeof buf), "TLSA");
    assert_string_equal(dns_type_name(DNS_T_MX, NULL, 0), "MX");
    assert_string_equal(dns_type_name(2, buf, sizeof buf), "TYPE2");
}

/* ---- answers ---------------------------------------------------------------- */

static void test_mx_secure(void **state)
{
    static const char *const an[] = {
        "Good.Test. 3600 IN MX 20 MX2.Good.Test.",
        "good.test. 3600 IN MX 10 mx1.good.test.",
        /* an RRSIG and a record of another owner are not records of the answer */
        "good.test. 3600 IN RRSIG MX 13 2 3600 20300101000000 20200101000000 1234 good.test. "
        "AAAA",
        "other.test. 3600 IN MX 5 mx.other.test.",
        NULL};
    dns_answer *a = answer_of("good.test", DNS_T_MX, LDNS_RCODE_NOERROR, an, NULL, 2, NULL);
    assert_string_equal(a->qname, "good.test");
    assert_int_equal(a->qtype, DNS_T_MX);
    assert_int_equal(a->outcome, DNS_DATA);
    assert_int_equal(a->security, DNS_SEC_SECURE);
    assert_int_equal(a->rcode, 0);
    assert_null(a->why);
    assert_null(a->canonname);
    assert_int_equal(a->truncated, 0);
    assert_int_equal(a->n, 2);
    assert_int_equal(a->rr[0].type, DNS_T_MX);
    assert_int_equal(a->rr[0].pref, 20);
    assert_string_equal(a->rr[0].text, "mx2.good.test");
    assert_int_equal(a->rr[0].ttl, 3600);
    assert_int_equal(a->rr[1].pref, 10);
    assert_string_equal(a->rr[1].text, "mx1.good.test");
    dns_answer_free(a);
}

static void test_null_mx(void **state)
{
    static const char *const an[] = {"nullmx.test. 300 IN MX 0 .", NULL};
    dns_answer *a = answer_of("nullmx.test", DNS_T_MX, LDNS_RCODE_NOERROR, an, NULL, 2, NULL);
    assert_int_equal(a->outcome, DNS_DATA);
    assert_int_equal(a->n, 1);
    assert_int_equal(a->rr[0].pref, 0);
    assert_string_equal(a->rr[0].text, ".");
    assert_int_equal(a->rr[0].ttl, 300);
    dns_answer_free(a);
}

static void test_nodata_and_nxdomain(void **state)
{
    dns_answer *a = answer_of("implicit.test", DNS_T_MX, LDNS_RCODE_NOERROR, NULL, soa_example,
                              0, NULL);
    assert_int_equal(a->outcome, DNS_NODATA);
    assert_int_equal(a->security, DNS_SEC_INSECURE);
    assert_int_equal(a->rcode, 0);
    assert_int_equal(a->n, 0);
    dns_answer_free(a);

    a = answer_of("nope.test", DNS_T_MX, LDNS_RCODE_NXDOMAIN, NULL, soa_example, 2, NULL);
    assert_int_equal(a->outcome, DNS_NXDOMAIN);
    assert_int_equal(a->security, DNS_SEC_SECURE); /* a validated denial */
    assert_int_equal(a->rcode, LDNS_RCODE_NXDOMAIN);
    assert_int_equal(a->n, 0);
    dns_answer_free(a);

    /* records of the type with NXDOMAIN contradict each other: none are kept */
    static const char *const an[] = {"nope.test. 300 IN A 192.0.2.1", NULL};
    a = answer_of("nope.test", DNS_T_A, LDNS_RCODE_NXDOMAIN, an, NULL, 0, NULL);
    assert_int_equal(a->outcome, DNS_NXDOMAIN);
    assert_int_equal(a->n, 0);
    dns_answer_free(a);
}

static void test_bogus(void **state)
{
    static const char *const an[] = {"bogus-tampered.test. 300 IN MX 99 mx.evil.test.", NULL};
    dns_answer *a = answer_of("bogus-tampered.test", DNS_T_MX, LDNS_RCODE_NOERROR, an, NULL, 1,
                              "validation failure <bogus-tampered.test. MX IN>: signature "
                              "crypto failed");
    assert_int_equal(a->outcome, DNS_SERVFAIL);
    assert_int_equal(a->security, DNS_SEC_BOGUS);
    assert_int_equal(a->rcode, LDNS_RCODE_SERVFAIL);
    assert_non_null(a->why);
    assert_non_null(strstr(a->why, "signature crypto failed"));
    assert_int_equal(a->n, 0); /* never hand out bogus data */
    assert_null(a->rr);
    dns_answer_free(a);

    /* bogus without a reason still says something */
    a = dnsmsg_answer("bogus.test", DNS_T_A, 0, NULL, 0, 1, NULL);
    assert_non_null(a);
    assert_int_equal(a->security, DNS_SEC_BOGUS);
    assert_int_equal(a->outcome, DNS_SERVFAIL);
    assert_non_null(a->why);
    assert_true(strlen(a->why) > 0);
    dns_answer_free(a);
}

static void test_rcode_from_libunbound(void **state)
{
    /* libunbound's callback rcode != 0: the packet is not looked at */
    uint8_t junk[3] = {1, 2, 3};
    dns_answer *a = dnsmsg_answer("good.test", DNS_T_MX, LDNS_RCODE_SERVFAIL, junk, sizeof junk,
                                  0, NULL);
    assert_non_null(a);
    assert_int_equal(a->outcome, DNS_SERVFAIL);
    assert_int_equal(a->security, DNS_SEC_INDETERMINATE);
    assert_int_equal(a->rcode, LDNS_RCODE_SERVFAIL);
    assert_int_equal(a->n, 0);
    dns_answer_free(a);

    /* a reply packet with REFUSED: no answer to judge */
    a = answer_of("good.test", DNS_T_MX, LDNS_RCODE_REFUSED, NULL, NULL, 0, NULL);
    assert_int_equal(a->outcome, DNS_SERVFAIL);
    assert_int_equal(a->security, DNS_SEC_INDETERMINATE);
    assert_int_equal(a->rcode, LDNS_RCODE_REFUSED);
    dns_answer_free(a);
}

static void test_cname_chain(void **state)
{
    static const char *const an[] = {
        "www.example. 300 IN CNAME Alias1.Example.",
        "b.example. 300 IN A 192.0.2.9", /* not on the chain */
        "alias2.example. 300 IN A 192.0.2.2",
        "alias1.example. 300 IN CNAME alias2.example.",
        "alias2.example. 300 IN A 192.0.2.1",
        NULL};
    dns_answer *a = answer_of("www.example", DNS_T_A, LDNS_RCODE_NOERROR, an, NULL, 2, NULL);
    assert_int_equal(a->outcome, DNS_DATA);
    assert_int_equal(a->security, DNS_SEC_SECURE);
    assert_string_equal(a->canonname, "alias2.example");
    assert_int_equal(a->n, 2);
    assert_string_equal(a->rr[0].text, "192.0.2.2");
    assert_string_equal(a->rr[1].text, "192.0.2.1");
    dns_answer_free(a);

    /* asking for the CNAME itself: no expansion */
    a = answer_of("www.example", DNS_T_CNAME, LDNS_RCODE_NOERROR, an, NULL, 2, NULL);
    assert_int_equal(a->outcome, DNS_DATA);
    assert_null(a->canonname);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "alias1.example");
    dns_answer_free(a);

    /* a chain whose target has no data of the type: NODATA at the target */
    static const char *const an2[] = {"www.example. 300 IN CNAME host.example.", NULL};
    a = answer_of("www.example", DNS_T_AAAA, LDNS_RCODE_NOERROR, an2, soa_example, 0, NULL);
    assert_int_equal(a->outcome, DNS_NODATA);
    assert_string_equal(a->canonname, "host.example");
    dns_answer_free(a);

    /* RFC 6604: NXDOMAIN after a CNAME is about the target */
    a = answer_of("www.example", DNS_T_A, LDNS_RCODE_NXDOMAIN, an2, soa_example, 0, NULL);
    assert_int_equal(a->outcome, DNS_NXDOMAIN);
    assert_string_equal(a->canonname, "host.example");
    dns_answer_free(a);
}

static void test_cname_loop_and_limit(void **state)
{
    static const char *const loop[] = {"a.example. 300 IN CNAME b.example.",
                                       "b.example. 300 IN CNAME a.example.", NULL};
    dns_answer *a = answer_of("a.example", DNS_T_A, LDNS_RCODE_NOERROR, loop, NULL, 0, NULL);
    assert_int_equal(a->outcome, DNS_NODATA);
    assert_int_equal(a->n, 0);
    dns_answer_free(a);

    /* a chain of exactly DNS_MAX_CNAME_HOPS aliases is followed to its end;
     * one more and the data is out of reach */
    for (int extra = 0; extra <= 1; extra++) {
        int hops = DNS_MAX_CNAME_HOPS + extra;
        char **lines = calloc((size_t)hops + 2, sizeof *lines);
        assert_non_null(lines);
        for (int i = 0; i < hops; i++) {
            lines[i] = malloc(80);
            snprintf(lines[i], 80, "c%d.example. 60 IN CNAME c%d.example.", i, i + 1);
        }
        lines[hops] = malloc(80);
        snprintf(lines[hops], 80, "c%d.example. 60 IN A 192.0.2.7", hops);
        a = answer_of("c0.example", DNS_T_A, LDNS_RCODE_NOERROR, (const char *const *)lines,
                      NULL, 2, NULL);
        if (extra == 0) {
            assert_int_equal(a->outcome, DNS_DATA);
            assert_int_equal(a->n, 1);
        } else {
            assert_int_equal(a->outcome, DNS_NODATA);
        }
        dns_answer_free(a);
        for (int i = 0; i <= hops; i++)
            free(lines[i]);
        free(lines);
    }
}

static void test_tlsa(void **state)
{
    static const char *const an[] = {
        "_25._tcp.mx.good.test. 300 IN TLSA 3 1 1 "
        "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
        "_25._tcp.mx.good.test. 300 IN TLSA 2 0 2 "
        "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
        "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF",
        NULL};
    dns_answer *a = answer_of("_25._tcp.mx.good.test", DNS_T_TLSA, LDNS_RCODE_NOERROR, an,
                              NULL, 2, NULL);
    assert_int_equal(a->outcome, DNS_DATA);
    assert_int_equal(a->n, 2);
    assert_int_equal(a->rr[0].usage, 3);
    assert_int_equal(a->rr[0].selector, 1);
    assert_int_equal(a->rr[0].mtype, 1);
    assert_int_equal(a->rr[0].data_len, 32);
    assert_int_equal(a->rr[0].data[0], 0x01);
    assert_int_equal(a->rr[0].data[31], 0xef);
    assert_string_equal(a->rr[0].text,
                        "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_int_equal(a->rr[1].usage, 2);
    assert_int_equal(a->rr[1].selector, 0);
    assert_int_equal(a->rr[1].mtype, 2);
    assert_int_equal(a->rr[1].data_len, 64);
    dns_answer_free(a);
}

static void test_txt_a_aaaa_ptr(void **state)
{
    static const char *const txt[] = {
        "_mta-sts.sts.test. 300 IN TXT \"v=STSv1; \" \"id=20250101T000000;\"", NULL};
    dns_answer *a = answer_of("_mta-sts.sts.test", DNS_T_TXT, 0, txt, NULL, 2, NULL);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "v=STSv1; id=20250101T000000;");
    dns_answer_free(a);

    static const char *const empty_txt[] = {"e.test. 300 IN TXT \"\"", NULL};
    a = answer_of("e.test", DNS_T_TXT, 0, empty_txt, NULL, 0, NULL);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "");
    dns_answer_free(a);

    static const char *const aaaa[] = {"mx.good.test. 300 IN AAAA 2001:DB8::0:1", NULL};
    a = answer_of("mx.good.test", DNS_T_AAAA, 0, aaaa, NULL, 2, NULL);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "2001:db8::1");
    dns_answer_free(a);

    static const char *const ptr[] = {"1.2.0.127.in-addr.arpa. 300 IN PTR MX.Good.Test.", NULL};
    a = answer_of("1.2.0.127.in-addr.arpa", DNS_T_PTR, 0, ptr, NULL, 2, NULL);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "mx.good.test");
    dns_answer_free(a);

    /* a name with a dot inside a label keeps its escape */
    static const char *const odd[] = {"odd.test. 300 IN PTR a\\.b.test.", NULL};
    a = answer_of("odd.test", DNS_T_PTR, 0, odd, NULL, 0, NULL);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->rr[0].text, "a\\.b.test");
    dns_answer_free(a);

    /* other types: the rdata in presentation form */
    static const char *const ns[] = {"test. 300 IN NS A.Nic.Test.", NULL};
    a = answer_of("test", 2, 0, ns, NULL, 2, NULL);
    assert_int_equal(a->outcome, DNS_DATA);
    assert_int_equal(a->n, 1);
    assert_int_equal(a->rr[0].type, 2);
    /* as ldns writes it: case from the packet (compression may mix it), absolute */
    assert_true(strcasecmp(a->rr[0].text, "a.nic.test.") == 0);
    dns_answer_free(a);

    /* records of another class are not ours */
    static const char *const chaos[] = {"mx.good.test. 300 CH A 192.0.2.1", NULL};
    a = answer_of("mx.good.test", DNS_T_A, 0, chaos, NULL, 0, NULL);
    assert_int_equal(a->outcome, DNS_NODATA);
    dns_answer_free(a);
}

static void test_record_limit(void **state)
{
    for (int total = DNS_MAX_RECORDS; total <= DNS_MAX_RECORDS + 1; total++) {
        char **lines = calloc((size_t)total + 1, sizeof *lines);
        assert_non_null(lines);
        for (int i = 0; i < total; i++) {
            lines[i] = malloc(64);
            snprintf(lines[i], 64, "many.test. 60 IN A 10.0.%d.%d", i / 256, i % 256);
        }
        dns_answer *a = answer_of("many.test", DNS_T_A, 0, (const char *const *)lines, NULL, 2,
                                  NULL);
        assert_int_equal(a->n, DNS_MAX_RECORDS);
        assert_int_equal(a->truncated, total > DNS_MAX_RECORDS);
        assert_string_equal(a->rr[DNS_MAX_RECORDS - 1].text, "10.0.0.255");
        dns_answer_free(a);
        for (int i = 0; i < total; i++)
            free(lines[i]);
        free(lines);
    }
}

static void test_broken_packets(void **state)
{
    static const char *const an[] = {"good.test. 3600 IN MX 10 mx.good.test.", NULL};
    size_t len;
    uint8_t *wire = pkt_build("good.test", DNS_T_MX, 0, an, NULL, &len);
    /* every truncation of a good packet is an error, never a crash */
    for (size_t cut = 0; cut < len; cut++) {
        dns_answer *a = dnsmsg_answer("good.test", DNS_T_MX, 0, wire, cut, 2, NULL);
        assert_non_null(a);
        assert_int_equal(a->outcome, DNS_ERROR);
        assert_int_equal(a->security, DNS_SEC_INDETERMINATE);
        assert_non_null(a->why);
        assert_non_null(strstr(a->why, "malformed"));
        assert_int_equal(a->n, 0);
        dns_answer_free(a);
    }
    dns_answer *a = dnsmsg_answer("good.test", DNS_T_MX, 0, wire, len, 2, NULL);
    assert_int_equal(a->outcome, DNS_DATA);
    dns_answer_free(a);
    free(wire);

    static const uint8_t garbage[] = "\xde\xad\xbe\xef garbage that is not a DNS message";
    a = dnsmsg_answer("good.test", DNS_T_MX, 0, garbage, sizeof garbage, 0, NULL);
    assert_int_equal(a->outcome, DNS_ERROR);
    dns_answer_free(a);

    a = dnsmsg_answer("good.test", DNS_T_MX, 0, NULL, 0, 0, NULL);
    assert_int_equal(a->outcome, DNS_ERROR);
    dns_answer_free(a);
}

/* ---- the resolver, on a loop, without leaving the host -------------------- */

typedef struct got {
    int calls;
    int in_resolve;      /* set while dns_resolve runs: the callback must not see it */
    int called_inside;
    dns_answer *a;
    struct timespec at;
    dns_resolver *free_me; /* the callback frees this resolver */
} got;

/* got_cb - record the answer */
static void got_cb(void *arg, dns_answer *a)
{
    got *g = arg;
    g->calls++;
    if (g->in_resolve)
        g->called_inside = 1;
    clock_gettime(CLOCK_MONOTONIC, &g->at);
    dns_answer_free(g->a);
    g->a = a;
    if (g->free_me) {
        dns_resolver_free(g->free_me);
        g->free_me = NULL;
    }
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    *(int *)arg = 1;
}

/* run_until - run the loop until *calls reaches want or ms pass */
static void run_until(struct event_base *base, const int *calls, int want, int ms)
{
    int expired = 0;
    struct event *wd = evtimer_new(base, watchdog_cb, &expired);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(wd, &tv);
    while (*calls < want && !expired)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(wd);
}

static double ms_since(const struct timespec *t0, const struct timespec *t1)
{
    return (double)(t1->tv_sec - t0->tv_sec) * 1000.0 + (double)(t1->tv_nsec - t0->tv_nsec) / 1e6;
}

/* silent_udp - a UDP socket on 127.0.0.1 that never answers; *port gets its port */
static int silent_udp(int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void test_local_zone_answer_is_deferred(void **state)
{
    /* libunbound answers localhost from its built-in local zone inside
     * ub_resolve_event(); the callback still comes from the loop. */
    struct event_base *base = event_base_new();
    err_rec e;
    dns_resolver *r = dns_resolver_new(base, NULL, &e);
    if (!r)
        fail_msg("dns_resolver_new: %s: %s", e.where, e.message);
    got g = {0};
    g.in_resolve = 1;
    assert_int_equal(dns_resolve(r, "LocalHost.", DNS_T_A, got_cb, &g, &e), 0);
    g.in_resolve = 0;
    assert_int_equal(g.calls, 0);
    run_until(base, &g.calls, 1, 5000);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.called_inside, 0);
    assert_string_equal(g.a->qname, "localhost");
    assert_int_equal(g.a->outcome, DNS_DATA);
    assert_int_equal(g.a->n, 1);
    assert_string_equal(g.a->rr[0].text, "127.0.0.1");
    assert_int_equal(g.a->security, DNS_SEC_INSECURE);

    /* without root hints test. is one of the built-in special-use zones */
    got g2 = {0};
    assert_int_equal(dns_resolve(r, "good.test", DNS_T_MX, got_cb, &g2, &e), 0);
    run_until(base, &g2.calls, 1, 5000);
    assert_int_equal(g2.calls, 1);
    assert_int_equal(g2.a->outcome, DNS_NXDOMAIN);

    /* a callback may free the resolver */
    got g3 = {0};
    g3.free_me = r;
    assert_int_equal(dns_resolve(r, "localhost", DNS_T_AAAA, got_cb, &g3, &e), 0);
    run_until(base, &g3.calls, 1, 5000);
    assert_int_equal(g3.calls, 1);
    assert_null(g3.free_me);
    assert_int_equal(g3.a->outcome, DNS_DATA);
    assert_string_equal(g3.a->rr[0].text, "::1");

    dns_answer_free(g.a);
    dns_answer_free(g2.a);
    dns_answer_free(g3.a);
    event_base_free(base);
}

static void test_timeout_and_cancel(void **state)
{
    int port;
    int fd = silent_udp(&port);
    char fwd[64];
    snprintf(fwd, sizeof fwd, "127.0.0.1@%d", port);
    struct event_base *base = event_base_new();
    dns_config cfg = {.resolver = fwd, .timeout_ms = 300};
    err_rec e;
    dns_resolver *r = dns_resolver_new(base, &cfg, &e);
    if (!r)
        fail_msg("dns_resolver_new: %s: %s", e.where, e.message);
    got g = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(dns_resolve(r, "mx.good.test", DNS_T_A, got_cb, &g, &e), 0);
    run_until(base, &g.calls, 1, 5000);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.a->outcome, DNS_TIMEOUT);
    assert_int_equal(g.a->security, DNS_SEC_INDETERMINATE);
    assert_string_equal(g.a->qname, "mx.good.test");
    assert_non_null(g.a->why);
    double took = ms_since(&t0, &g.at);
    assert_true(took >= 290.0);
    assert_true(took < 1500.0);

    /* more queries in flight, then the resolver goes: no callback, no leak
     * (the timed-out query above is still owed a libunbound callback too) */
    got g2 = {0};
    assert_int_equal(dns_resolve(r, "good.test", DNS_T_MX, got_cb, &g2, &e), 0);
    assert_int_equal(dns_resolve(r, "good.test", DNS_T_TLSA, got_cb, &g2, &e), 0);
    run_until(base, &g2.calls, 1, 100);
    dns_resolver_free(r);
    run_until(base, &g2.calls, 1, 400);
    assert_int_equal(g2.calls, 0);
    assert_int_equal(g.calls, 1);

    dns_answer_free(g.a);
    event_base_free(base);
    close(fd);
}

static void test_bad_config(void **state)
{
    struct event_base *base = event_base_new();
    err_rec e;
    dns_config cfg = {.trust_anchor = "/nonexistent/root.key"};
    assert_null(dns_resolver_new(base, &cfg, &e));
    assert_int_equal(e.code, MXTLS_ERR_IO);
    assert_string_equal(e.where, "/nonexistent/root.key");

    char path[] = "/tmp/mxtls-test-dns-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char junk[] = "this is not a trust anchor\n";
    assert_int_equal(write(fd, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
    close(fd);
    cfg.trust_anchor = path;
    assert_null(dns_resolver_new(base, &cfg, &e));
    assert_int_equal(e.code, MXTLS_ERR_PARSE);
    assert_non_null(strstr(e.where, path));

    /* a zone file without DS or DNSKEY */
    FILE *f = fopen(path, "w");
    fputs(". 3600 IN NS a.root-servers.test.\n", f);
    fclose(f);
    assert_null(dns_resolver_new(base, &cfg, &e));
    assert_int_equal(e.code, MXTLS_ERR_PARSE);
    assert_non_null(strstr(e.message, "no DS or DNSKEY"));
    unlink(path);

    dns_config c2 = {.root_hints = "/nonexistent/root.hints"};
    assert_null(dns_resolver_new(base, &c2, &e));
    assert_int_equal(e.code, MXTLS_ERR_IO);

    static const char *const bad_fwd[] = {"", "resolver.example", "127.0.0.1@", "127.0.0.1@0",
                                          "127.0.0.1@65536", "127.0.0.1@53x", "1.2.3@53",
                                          "@53"};
    for (size_t i = 0; i < sizeof bad_fwd / sizeof bad_fwd[0]; i++) {
        dns_config c3 = {.resolver = bad_fwd[i]};
        if (dns_resolver_new(base, &c3, &e))
            fail_msg("resolver \"%s\" accepted", bad_fwd[i]);
        assert_int_equal(e.code, MXTLS_ERR_INVALID);
    }
    static const char *const good_fwd[] = {"127.0.0.1", "127.0.0.1@5353", "::1@53", "::1"};
    for (size_t i = 0; i < sizeof good_fwd / sizeof good_fwd[0]; i++) {
        dns_config c3 = {.resolver = good_fwd[i]};
        dns_resolver *r = dns_resolver_new(base, &c3, &e);
        if (!r)
            fail_msg("resolver \"%s\": %s", good_fwd[i], e.message);
        dns_resolver_free(r);
    }

    dns_config c4 = {.timeout_ms = -1};
    assert_null(dns_resolver_new(base, &c4, &e));
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
    assert_null(dns_resolver_new(NULL, NULL, &e));

    /* bad query names and arguments: -1, no callback */
    dns_resolver *r = dns_resolver_new(base, NULL, &e);
    assert_non_null(r);
    got g = {0};
    assert_int_equal(dns_resolve(r, "a..b", DNS_T_A, got_cb, &g, &e), -1);
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
    assert_int_equal(dns_resolve(r, "m\xc3\xbcnchen.test", DNS_T_A, got_cb, &g, &e), -1);
    assert_int_equal(dns_resolve(r, "good.test", DNS_T_A, NULL, &g, &e), -1);
    assert_int_equal(dns_resolve(r, NULL, DNS_T_A, got_cb, &g, &e), -1);
    run_until(base, &g.calls, 1, 50);
    assert_int_equal(g.calls, 0);
    dns_resolver_free(r);
    dns_resolver_free(NULL);
    event_base_free(base);
}

/* count_entries - entries in a directory other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_private_dir_removed(void **state)
{
    char dir[] = "/tmp/mxtls-test-tmpdir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", dir, 1);
    struct event_base *base = event_base_new();
    err_rec e;
    dns_resolver *r = dns_resolver_new(base, NULL, &e);
    assert_non_null(r);
    assert_int_equal(count_entries(dir), 1);
    got g = {0};
    assert_int_equal(dns_resolve(r, "localhost", DNS_T_A, got_cb, &g, &e), 0);
    run_until(base, &g.calls, 1, 5000);
    dns_resolver_free(r);
    assert_int_equal(count_entries(dir), 0);
    dns_answer_free(g.a);
    event_base_free(base);
    if (saved) {
        setenv("TMPDIR", saved, 1);
        free(saved);
    } else {
        unsetenv("TMPDIR");
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ptr_name),
        cmocka_unit_test(test_name_normalize),
        cmocka_unit_test(test_names_of_enums),
        cmocka_unit_test(test_mx_secure),
        cmocka_unit_test(test_null_mx),
        cmocka_unit_test(test_nodata_and_nxdomain),
        cmocka_unit_test(test_bogus),
        cmocka_unit_test(test_rcode_from_libunbound),
        cmocka_unit_test(test_cname_chain),
        cmocka_unit_test(test_cname_loop_and_limit),
        cmocka_unit_test(test_tlsa),
        cmocka_unit_test(test_txt_a_aaaa_ptr),
        cmocka_unit_test(test_record_limit),
        cmocka_unit_test(test_broken_packets),
        cmocka_unit_test(test_local_zone_answer_is_deferred),
        cmocka_unit_test(test_timeout_and_cancel),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_private_dir_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
