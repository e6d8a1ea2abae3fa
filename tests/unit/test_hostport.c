/* test_hostport.c - one parser for HOST, HOST:PORT, [HOST]:PORT and
 * addresses (core/hostport.c): every accepted form with its exact result,
 * and every kind of refusal (brackets, ports, empty, overlong, bad names) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hostport.h"

static void ok(const char *in, const char *host, unsigned port, int is_ip, int bracketed)
{
    hostport hp;
    err_rec e;
    err_clear(&e);
    if (hostport_parse(in, &hp, &e) != MXTLS_OK)
        fail_msg("\"%s\" refused: %s", in, e.message);
    assert_string_equal(hp.host, host);
    assert_int_equal(hp.port, port);
    assert_int_equal(hp.is_ip, is_ip);
    assert_int_equal(hp.bracketed, bracketed);
}

static void bad(const char *in, const char *message)
{
    hostport hp;
    err_rec e;
    err_clear(&e);
    if (hostport_parse(in, &hp, &e) == MXTLS_OK)
        fail_msg("\"%s\" accepted as %s port %u", in ? in : "(null)", hp.host, hp.port);
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
    assert_string_equal(e.where, "host");
    if (message)
        assert_string_equal(e.message, message);
}

static void test_names(void **state)
{
    (void)state;
    ok("mx.example.com", "mx.example.com", 0, 0, 0);
    ok("MX.Example.COM.", "mx.example.com", 0, 0, 0);
    ok("mx.example.com:587", "mx.example.com", 587, 0, 0);
    ok("[mx.example.com]", "mx.example.com", 0, 0, 1);
    ok("[mx.example.com]:25", "mx.example.com", 25, 0, 1);
    ok("localhost:65535", "localhost", 65535, 0, 0);
    ok("mx.example.com:00025", "mx.example.com", 25, 0, 0);
    ok("b\xc3\xbc" "cher.example:25", "xn--bcher-kva.example", 25, 0, 0); /* IDN: A-label */
}

static void test_addresses(void **state)
{
    (void)state;
    ok("192.0.2.1", "192.0.2.1", 0, 4, 0);
    ok("192.0.2.1:2525", "192.0.2.1", 2525, 4, 0);
    ok("[192.0.2.1]", "192.0.2.1", 0, 4, 1);
    ok("[192.0.2.1]:25", "192.0.2.1", 25, 4, 1);
    /* IPv6: bare (no port possible), bracketed, the SMTP address literal */
    ok("2001:DB8:0::1", "2001:db8::1", 0, 6, 0);
    ok("::1", "::1", 0, 6, 0);
    ok("[2001:db8::1]", "2001:db8::1", 0, 6, 1);
    ok("[2001:db8::1]:465", "2001:db8::1", 465, 6, 1);
    ok("[IPv6:2001:db8::1]:25", "2001:db8::1", 25, 6, 1);
    ok("[ipv6:::1]", "::1", 0, 6, 1);
    ok("[::ffff:192.0.2.1]:25", "::ffff:192.0.2.1", 25, 6, 1);
    /* a trailing dot (found by fuzz_hostport): still the address */
    ok("192.0.2.1.:25", "192.0.2.1", 25, 4, 0);
    ok("[192.0.2.1.]", "192.0.2.1", 0, 4, 1);
}

static void test_brackets(void **state)
{
    (void)state;
    bad("[192.0.2.1", "\"[192.0.2.1\" has no closing bracket");
    bad("[]", "\"[]\" has nothing between the brackets");
    bad("[]:25", "\"[]:25\" has nothing between the brackets");
    bad("[a.example]x", "\"[a.example]x\" has something other than :PORT after the bracket");
    bad("[2001:db8::1]25", NULL);
    bad("[IPv6:]", NULL);
    bad("[IPv6:mx.example.com]", NULL);
    bad("[2001:db8::zz]", "\"[2001:db8::zz]\" is not an IPv6 address (a port goes after [ADDR])");
}

static void test_ports(void **state)
{
    (void)state;
    const char *why = "has a port that is not a number from 1 to 65535";
    char want[128];
    static const char *const in[] = {"mx.example.com:", "mx.example.com:0",
                                     "mx.example.com:65536", "mx.example.com:-1",
                                     "mx.example.com:+25", "mx.example.com: 25",
                                     "mx.example.com:25 ", "mx.example.com:0x19",
                                     "[192.0.2.1]:", "[192.0.2.1]:99999999999999999999",
                                     "192.0.2.1:smtp"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        snprintf(want, sizeof want, "\"%s\" %s", in[i], why);
        bad(in[i], want);
    }
    /* Two colons without brackets: an IPv6 address or nothing. */
    bad("mx.example.com:25:26", NULL);
    bad("2001:db8::1:25x", NULL);
}

static void test_empty_and_overlong(void **state)
{
    (void)state;
    bad(NULL, "empty host");
    bad("", "empty host");
    bad(":25", "\":25\" has no host before the port");
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    bad(longname, "host longer than 269 bytes");
    /* 4 labels of 63: 255 bytes, over the 253 a name may have */
    char name[300] = "";
    for (int i = 0; i < 4; i++) {
        strcat(name, i ? "." : "");
        size_t n = strlen(name);
        memset(name + n, 'b', 63);
        name[n + 63] = '\0';
    }
    bad(name, NULL);
    bad("a..example", NULL);
    bad("bad name.example", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_brackets),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_empty_and_overlong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
