/* test_base.c - decimal_parse, the one number parser (CLI options, route and
 * resolver ports) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/base.h"

static void test_decimal_parse(void **state)
{
    (void)state;
    assert_int_equal(decimal_parse("25", 1, 65535), 25);
    assert_int_equal(decimal_parse("1", 1, 65535), 1);
    assert_int_equal(decimal_parse("65535", 1, 65535), 65535);
    assert_int_equal(decimal_parse("00025", 1, 65535), 25);
    assert_int_equal(decimal_parse("0", 0, 2147483647L), 0);
    assert_int_equal(decimal_parse("2147483647", 0, 2147483647L), 2147483647L);
    static const char *const bad[] = {"",   "0",   "65536", "-1",  "+25",  " 25",
                                      "25 ", "2 5", "25x",   "0x19", "1e3",
                                      "99999999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(decimal_parse(bad[i], 1, 65535), -1);
    assert_int_equal(decimal_parse(NULL, 0, 1), -1);
    assert_int_equal(decimal_parse("2147483648", 0, 2147483647L), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
