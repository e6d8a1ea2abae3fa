/* test_sockmap.c - the socketmap request parser, the reply format, the key
 * check and the MTA-STS/DANE to Postfix policy translation (core/sockmap.h) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/sockmap.h"

static sockmap_parse_result parse(const char *s, sockmap_request *rq)
{
    return sockmap_parse(s, strlen(s), SOCKMAP_MAX_REQUEST, rq);
}

static void test_parse_ok(void **state)
{
    (void)state;
    sockmap_request rq;
    const char *s = "17:mxtls example.com,";
    assert_int_equal(parse(s, &rq), SOCKMAP_PARSE_OK);
    assert_int_equal(rq.consumed, strlen(s));
    assert_int_equal(rq.name_len, 5);
    assert_memory_equal(rq.name, "mxtls", 5);
    assert_int_equal(rq.key_len, 11);
    assert_memory_equal(rq.key, "example.com", 11);
    /* two pipelined requests: the first one only */
    assert_int_equal(parse("7:a b.com,7:a c.com,", &rq), SOCKMAP_PARSE_OK);
    assert_int_equal(rq.consumed, 10);
    /* an empty key is a request (answered NOTFOUND) */
    assert_int_equal(parse("2:a ,", &rq), SOCKMAP_PARSE_OK);
    assert_int_equal(rq.key_len, 0);
}

static void test_parse_more(void **state)
{
    (void)state;
    sockmap_request rq;
    const char *s = "17:mxtls example.com,";
    for (size_t i = 0; i < strlen(s); i++)
        assert_int_equal(sockmap_parse(s, i, SOCKMAP_MAX_REQUEST, &rq), SOCKMAP_PARSE_MORE);
}

static void test_parse_bad(void **state)
{
    (void)state;
    sockmap_request rq;
    static const struct {
        const char *in;
        const char *error;
        size_t at;
    } bad[] = {
        {":x,", "a netstring begins with its length", 0},
        {"x", "a netstring begins with its length", 0},
        {"05:a b.c,", "netstring length with a leading zero", 0},
        {"3;abc,", "netstring length not followed by ':'", 1},
        {"3:a b;", "netstring not terminated by ','", 5},
        {"3:abc,", "no space between map name and key", 2},
        {"3: ab,", "empty map name", 2},
        {"0:,", "no space between map name and key", 2},
        {"99999999999999999999999:", "request longer than the limit", 0},
        {"10241:", "request longer than the limit", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i].in, &rq), SOCKMAP_PARSE_BAD);
        assert_string_equal(rq.error, bad[i].error);
        assert_int_equal(rq.error_at, bad[i].at);
    }
    assert_int_equal(sockmap_parse("3:a\0b,", 6, SOCKMAP_MAX_REQUEST, &rq), SOCKMAP_PARSE_BAD);
    assert_string_equal(rq.error, "NUL byte in the request");
    char name[100];
    memset(name, 'n', sizeof name);
    char buf[200];
    snprintf(buf, sizeof buf, "%zu:%.*s k,", (size_t)67, 65, name);
    assert_int_equal(parse(buf, &rq), SOCKMAP_PARSE_BAD);
    assert_string_equal(rq.error, "map name too long");
    snprintf(buf, sizeof buf, "%zu:%.*s k,", (size_t)66, 64, name);
    assert_int_equal(parse(buf, &rq), SOCKMAP_PARSE_OK);
    /* the limit is the payload's: exactly max is fine */
    assert_int_equal(sockmap_parse("5:a b.c,", 8, 5, &rq), SOCKMAP_PARSE_OK);
    assert_int_equal(sockmap_parse("6:a b.cd,", 9, 5, &rq), SOCKMAP_PARSE_BAD);
}

static void test_reply_format(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(sockmap_reply_format(SOCKMAP_NOTFOUND, "ignored", out, sizeof out), 12);
    assert_string_equal(out, "9:NOTFOUND ,");
    sockmap_reply_format(SOCKMAP_OK, "dane", out, sizeof out);
    assert_string_equal(out, "7:OK dane,");
    sockmap_reply_format(SOCKMAP_PERM, "unknown map \"x\"\n", out, sizeof out);
    assert_string_equal(out, "21:PERM unknown map \"x\"?,");
    sockmap_reply_format(SOCKMAP_TEMP, "", out, sizeof out);
    assert_string_equal(out, "5:TEMP ,");
    assert_int_equal(sockmap_reply_format(SOCKMAP_OK, "dane", out, 10), 0);
    assert_int_equal(sockmap_reply_format(SOCKMAP_OK, "dane", out, 11), 10);
}

static void test_key_domain(void **state)
{
    (void)state;
    char out[MXTLS_MAX_NAME + 1];
    assert_int_equal(sockmap_key_domain("Example.COM.", 12, out, sizeof out), 0);
    assert_string_equal(out, "example.com");
    assert_int_equal(sockmap_key_domain("bücher.example", strlen("bücher.example"), out,
                                        sizeof out), 0);
    assert_string_equal(out, "xn--bcher-kva.example");
    static const char *const bad[] = {"[mx.example.com]", "[mx.example.com]:587",
                                      "example.com:25",   "127.0.0.1",
                                      "[127.0.0.1]",      "",
                                      "com",              "exa mple.com",
                                      "-bad-.example.com", "a..b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sockmap_key_domain(bad[i], strlen(bad[i]), out, sizeof out), -1);
    assert_int_equal(sockmap_key_domain("a\0b.com", 7, out, sizeof out), -1);
}

/* ---- translation ---- */

static strlist pats(const char *a, const char *b)
{
    strlist l = {0};
    if (a)
        strlist_add(&l, a);
    if (b)
        strlist_add(&l, b);
    return l;
}

static void translate(const char *domain, sockmap_mx_state mx, const sockmap_host *h, size_t n,
                      mtasts_mode mode, const strlist *p, sockmap_answer *a)
{
    sockmap_facts f = {.domain = domain, .mx = mx, .mx_why = "SERVFAIL", .hosts = h,
                       .nhosts = n, .has_policy = mode != MTASTS_MODE_UNSET, .mode = mode,
                       .patterns = p, .source = "fetched"};
    sockmap_translate(&f, a);
}

static void test_translate_not_enforce(void **state)
{
    (void)state;
    sockmap_answer a;
    sockmap_host h[] = {{"mx.example.com", 0}};
    strlist p = pats("other.example.com", NULL);
    translate("example.com", SOCKMAP_MX_HOSTS, h, 1, MTASTS_MODE_UNSET, NULL, &a);
    assert_int_equal(a.kind, SOCKMAP_NOTFOUND);
    assert_string_equal(a.why, "no MTA-STS policy");
    translate("example.com", SOCKMAP_MX_HOSTS, h, 1, MTASTS_MODE_TESTING, &p, &a);
    assert_int_equal(a.kind, SOCKMAP_NOTFOUND);
    assert_string_equal(a.text, "");
    translate("example.com", SOCKMAP_MX_FAILED, h, 0, MTASTS_MODE_NONE, &p, &a);
    assert_int_equal(a.kind, SOCKMAP_NOTFOUND);
    strlist_free(&p);
}

static void test_translate_enforce(void **state)
{
    (void)state;
    sockmap_answer a;
    strlist p = pats("mx1.example.com", "*.example.net");
    /* every host covered: the certificate must name the host dialled */
    sockmap_host all[] = {{"mx1.example.com", 0}, {"a.example.net", 0}};
    translate("example.com", SOCKMAP_MX_HOSTS, all, 2, MTASTS_MODE_ENFORCE, &p, &a);
    assert_int_equal(a.kind, SOCKMAP_OK);
    assert_string_equal(a.text, "secure match=hostname servername=hostname");
    /* *.example.net covers one label: b.c.example.net is left out */
    sockmap_host some[] = {{"b.c.example.net", 0}, {"mx1.example.com", 0}, {"x.example.net", 0}};
    translate("example.com", SOCKMAP_MX_HOSTS, some, 3, MTASTS_MODE_ENFORCE, &p, &a);
    assert_int_equal(a.kind, SOCKMAP_OK);
    assert_string_equal(a.text, "secure match=mx1.example.com:x.example.net servername=hostname");
    assert_string_equal(a.why, "MTA-STS enforce (fetched), 2 of 3 MX hosts allowed (2 covered, "
                               "0 under DANE)");
    /* none covered: defer */
    sockmap_host none[] = {{"mx.other.test", 0}, {"example.net", 0}};
    translate("example.com", SOCKMAP_MX_HOSTS, none, 2, MTASTS_MODE_ENFORCE, &p, &a);
    assert_int_equal(a.kind, SOCKMAP_TEMP);
    assert_string_equal(a.text, "4.7.5 MTA-STS policy of example.com (mode enforce) covers none "
                                "of its MX hosts: mx.other.test, example.net");
    /* MX lookup failed */
    translate("example.com", SOCKMAP_MX_FAILED, NULL, 0, MTASTS_MODE_ENFORCE, &p, &a);
    assert_int_equal(a.kind, SOCKMAP_TEMP);
    assert_string_equal(a.text, "4.4.3 MX lookup of example.com failed (SERVFAIL): the MTA-STS "
                                "policy (mode enforce) needs the MX hosts");
    /* no such domain / null MX */
    translate("example.com", SOCKMAP_MX_NONE, NULL, 0, MTASTS_MODE_ENFORCE, &p, &a);
    assert_int_equal(a.kind, SOCKMAP_NOTFOUND);
    strlist_free(&p);
}

static void test_translate_dane(void **state)
{
    (void)state;
    sockmap_answer a;
    strlist p = pats("other.example.com", NULL);
    /* DANE for every host: DANE decides, the policy's patterns do not matter */
    sockmap_host dane[] = {{"mx1.example.com", 1}, {"mx2.example.com", 1}};
    translate("example.com", SOCKMAP_MX_HOSTS, dane, 2, MTASTS_MODE_ENFORCE, &p, &a);
    assert_int_equal(a.kind, SOCKMAP_OK);
    assert_string_equal(a.text, "dane");
    /* mixed: the DANE host and the covered host listed, the rest left out */
    strlist q = pats("mx2.example.com", NULL);
    sockmap_host mixed[] = {{"mx1.example.com", 1}, {"mx2.example.com", 0}, {"mx3.example.com", 0}};
    translate("example.com", SOCKMAP_MX_HOSTS, mixed, 3, MTASTS_MODE_ENFORCE, &q, &a);
    assert_int_equal(a.kind, SOCKMAP_OK);
    assert_string_equal(a.text, "secure match=mx1.example.com:mx2.example.com servername=hostname");
    /* every host covered, one under DANE: still a list (PKIX for the DANE host too) */
    sockmap_host cov[] = {{"mx1.example.com", 1}, {"mx2.example.com", 0}};
    strlist r = pats("*.example.com", NULL);
    translate("example.com", SOCKMAP_MX_HOSTS, cov, 2, MTASTS_MODE_ENFORCE, &r, &a);
    assert_string_equal(a.text, "secure match=mx1.example.com:mx2.example.com servername=hostname");
    /* hosts beyond those looked at: never match=hostname, never dane alone */
    sockmap_facts f = {.domain = "example.com", .hosts = cov + 1, .nhosts = 1,
                       .hosts_dropped = 1, .has_policy = 1, .mode = MTASTS_MODE_ENFORCE,
                       .patterns = &r};
    sockmap_translate(&f, &a);
    assert_string_equal(a.text, "secure match=mx2.example.com servername=hostname");
    f.hosts = cov;
    sockmap_translate(&f, &a);
    assert_string_equal(a.text, "secure match=mx1.example.com servername=hostname");
    strlist_free(&p);
    strlist_free(&q);
    strlist_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_more),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_reply_format),
        cmocka_unit_test(test_key_domain),
        cmocka_unit_test(test_translate_not_enforce),
        cmocka_unit_test(test_translate_enforce),
        cmocka_unit_test(test_translate_dane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
