/* test_mx.c - following an MX RRset (core/mx): preference order, null MX
 * targets, each host once */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/mx.h"

/* rrset - n MX records "pref target" from parallel arrays (texts borrowed) */
static void rrset(dns_record *rr, const uint16_t *pref, const char *const *text, size_t n)
{
    memset(rr, 0, n * sizeof *rr);
    for (size_t i = 0; i < n; i++) {
        rr[i].type = DNS_T_MX;
        rr[i].pref = pref[i];
        rr[i].text = (char *)text[i];
    }
}

/* followed - the targets mx_next visits, joined with ' ' into buf */
static const char *followed(const dns_record *rr, size_t n, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t steps = 0;
    for (size_t i = mx_next(rr, n, 0); i < n; i = mx_next(rr, n, i + 1)) {
        assert_true(++steps <= n); /* each record at most once */
        if (buf[0])
            strncat(buf, " ", len - strlen(buf) - 1);
        strncat(buf, rr[i].text, len - strlen(buf) - 1);
    }
    return buf;
}

static void test_preference_then_name(void **state)
{
    (void)state;
    static const uint16_t pref[] = {20, 10, 10, 5, 20};
    static const char *const text[] = {"b.example", "z.example", "a.example", "c.example",
                                       "a.example"};
    dns_record rr[5];
    rrset(rr, pref, text, 5);
    mx_sort(rr, 5);
    static const uint16_t want_pref[] = {5, 10, 10, 20, 20};
    static const char *const want[] = {"c.example", "a.example", "z.example", "a.example",
                                       "b.example"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(rr[i].pref, want_pref[i]);
        assert_string_equal(rr[i].text, want[i]);
    }
    char buf[128];
    /* a.example at 20 repeats a.example at 10: followed once, at 10 */
    assert_string_equal(followed(rr, 5, buf, sizeof buf),
                        "c.example a.example z.example b.example");
}

static void test_null_mx(void **state)
{
    (void)state;
    static const uint16_t pref[] = {0};
    static const char *const text[] = {"."};
    dns_record rr[1];
    rrset(rr, pref, text, 1);
    assert_true(mx_is_null_target(rr[0].text));
    assert_int_equal(mx_null_count(rr, 1), 1);
    assert_int_equal(mx_next(rr, 1, 0), 1); /* nothing to follow */
    assert_false(mx_is_null_target("example.com"));
    assert_false(mx_is_null_target(""));
    assert_false(mx_is_null_target(NULL));
}

static void test_null_mx_mixed(void **state)
{
    (void)state;
    static const uint16_t pref[] = {10, 0, 20, 0};
    static const char *const text[] = {"mx.example", ".", "mx2.example", "."};
    dns_record rr[4];
    rrset(rr, pref, text, 4);
    mx_sort(rr, 4);
    assert_string_equal(rr[0].text, ".");
    assert_string_equal(rr[1].text, ".");
    assert_int_equal(mx_null_count(rr, 4), 2);
    char buf[128];
    assert_string_equal(followed(rr, 4, buf, sizeof buf), "mx.example mx2.example");
    assert_int_equal(mx_next(rr, 4, 0), 2);
    assert_int_equal(mx_next(rr, 4, 3), 3);
    assert_int_equal(mx_next(rr, 4, 4), 4);
}

static void test_empty(void **state)
{
    (void)state;
    mx_sort(NULL, 0);
    assert_int_equal(mx_null_count(NULL, 0), 0);
    assert_int_equal(mx_next(NULL, 0, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preference_then_name),
        cmocka_unit_test(test_null_mx),
        cmocka_unit_test(test_null_mx_mixed),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
