/* test_tlsparams.c - Postfix protocols=/ciphers=/exclude= as OpenSSL settings */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/tlsparams.h"

static unsigned enabled(const char *list)
{
    unsigned off, lo, hi;
    err_rec e;
    err_clear(&e);
    assert_int_equal(tlsparams_protocols(list, &off, &lo, &hi, &e), 0);
    return tlsparams_enabled(off, lo, hi);
}

static void test_protocols(void **state)
{
    (void)state;
    /* exclusions only */
    assert_int_equal(enabled("!SSLv2, !SSLv3"),
                     TLSP_TLSv1 | TLSP_TLSv1_1 | TLSP_TLSv1_2 | TLSP_TLSv1_3);
    assert_int_equal(enabled("!SSLv2:!SSLv3:!TLSv1:!TLSv1.1"), TLSP_TLSv1_2 | TLSP_TLSv1_3);
    /* a bare name is an include list: everything else is excluded (seed 003) */
    assert_int_equal(enabled("TLSv1"), TLSP_TLSv1);
    assert_int_equal(enabled("TLSv1.2 TLSv1.3"), TLSP_TLSv1_2 | TLSP_TLSv1_3);
    /* bounds (Postfix 3.6+) */
    assert_int_equal(enabled(">=TLSv1.2"), TLSP_TLSv1_2 | TLSP_TLSv1_3);
    assert_int_equal(enabled("<=TLSv1.1"), TLSP_SSLv2 | TLSP_SSLv3 | TLSP_TLSv1 | TLSP_TLSv1_1);
    assert_int_equal(enabled(">=TLSv1, <=TLSv1.2"), TLSP_TLSv1 | TLSP_TLSv1_1 | TLSP_TLSv1_2);
    /* empty: no restriction */
    assert_int_equal(enabled(""), TLSP_ALL);
    /* names are case-sensitive, unknown ones refused */
    unsigned off, lo, hi;
    err_rec e;
    err_clear(&e);
    assert_int_equal(tlsparams_protocols("tlsv1.2", &off, &lo, &hi, &e), -1);
    assert_string_equal(e.message, "unknown TLS protocol \"tlsv1.2\" (Postfix knows SSLv2, SSLv3, "
                                   "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)");
    err_clear(&e);
    assert_int_equal(tlsparams_protocols(">=", &off, &lo, &hi, &e), -1);
    assert_string_equal(tlsparams_protocol_name(TLSP_TLSv1_1), "TLSv1.1");
}

static void test_ciphers(void **state)
{
    (void)state;
    char out[512];
    err_rec e;
    err_clear(&e);
    assert_int_equal(tlsparams_cipherlist("high", NULL, 1, 1, out, sizeof out, &e), 0);
    assert_string_equal(out, "aNULL:-aNULL:HIGH:@STRENGTH:!eNULL:!aNULL");
    assert_int_equal(tlsparams_cipherlist(NULL, "RC4, 3DES", 0, 0, out, sizeof out, &e), 0);
    assert_string_equal(out, "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!RC4:!3DES");
    assert_int_equal(tlsparams_cipherlist("null", NULL, 0, 0, out, sizeof out, &e), 0);
    assert_string_equal(out, "eNULL:!aNULL");
    assert_int_equal(tlsparams_cipherlist("strong", NULL, 0, 0, out, sizeof out, &e), -1);
    assert_string_equal(e.message, "unknown cipher grade \"strong\" (Postfix knows high, medium, "
                                   "low, export, null)");
    err_clear(&e);
    assert_int_equal(tlsparams_cipherlist("high", "!RC4", 0, 0, out, sizeof out, &e), -1);
    assert_string_equal(e.message, "invalid exclude= token \"!RC4\" (a cipher or cipher class "
                                   "name, no operator)");
    err_clear(&e);
    char small[16];
    assert_int_equal(tlsparams_cipherlist("high", NULL, 1, 1, small, sizeof small, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_ciphers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
