/* test_scanlist.c - the input lines, shards and output keys of mxtls scan */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/scanlist.h"

static scanlist_kind line(const char *s, char **out, err_rec *e)
{
    err_clear(e);
    return scanlist_line(s, strlen(s), out, e);
}

static void test_line_domains(void **state)
{
    (void)state;
    static const char *const in[][2] = {
        {"good.test", "good.test"},       {"  Good.TEST.  ", "good.test"},
        {"good.test\r", "good.test"},     {"good.test # a comment", "good.test"},
        {"\tgood.test\t#x", "good.test"}, {"münchen.test", "xn--mnchen-3ya.test"},
        {"a#b.test", NULL},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *out = NULL;
        err_rec e;
        scanlist_kind k = line(in[i][0], &out, &e);
        if (in[i][1]) {
            assert_int_equal(k, SCANLIST_DOMAIN);
            assert_string_equal(out, in[i][1]);
        } else {
            /* '#' inside a word is no comment: the word is not a name */
            assert_int_equal(k, SCANLIST_BAD);
            assert_string_equal(out, "a#b.test");
        }
        free(out);
    }
}

static void test_line_skipped(void **state)
{
    (void)state;
    static const char *const in[] = {"", "   ", "\t\r", "# comment", "   # indented comment",
                                     "#good.test"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *out = (char *)1;
        err_rec e;
        assert_int_equal(line(in[i], &out, &e), SCANLIST_SKIP);
        assert_null(out);
    }
}

static void test_line_bad(void **state)
{
    (void)state;
    static const char *const in[][3] = {
        {"two words.test", "two words.test", "more than one word: one domain per line"},
        {"127.0.0.1", "127.0.0.1", "an IP address, not a mail domain"},
        {"127.0.0.1.", "127.0.0.1.", "an IP address, not a mail domain"},
        {"-bad.test", "-bad.test", NULL},
        {"a..test", "a..test", NULL},
        {"\x01\x02.test", "??.test", NULL},
        {"\xff\xfe.test", "??.test", NULL},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *out = NULL;
        err_rec e;
        assert_int_equal(line(in[i][0], &out, &e), SCANLIST_BAD);
        assert_string_equal(out, in[i][1]);
        assert_int_equal(e.code, MXTLS_ERR_INVALID);
        assert_string_equal(e.where, "input");
        if (in[i][2])
            assert_string_equal(e.message, in[i][2]);
        else
            assert_true(e.message[0] != '\0');
        free(out);
    }
    /* too long: 1025 bytes */
    char big[1100];
    memset(big, 'a', 1025);
    big[1025] = '\0';
    char *out = NULL;
    err_rec e;
    err_clear(&e);
    assert_int_equal(scanlist_line(big, 1025, &out, &e), SCANLIST_BAD);
    assert_string_equal(e.message, "line longer than 1024 bytes");
    assert_int_equal(strlen(out), 256);
    free(out);
    /* a NUL inside */
    err_clear(&e);
    assert_int_equal(scanlist_line("a\0b.test", 8, &out, &e), SCANLIST_BAD);
    assert_string_equal(e.message, "NUL byte in the line");
    free(out);
}

static void test_hash_and_shards(void **state)
{
    (void)state;
    /* FNV-1a 64 reference values (the empty string: the offset basis) */
    assert_true(scanlist_hash("") == 14695981039346656037ULL);
    assert_true(scanlist_hash("a") == 0xaf63dc4c8601ec8cULL);
    assert_true(scanlist_hash("good.test") == scanlist_hash("good.test"));
    /* every key in exactly one shard */
    static const char *const keys[] = {"good.test", "a.test", "b.test", "xn--mnchen-3ya.test"};
    for (size_t k = 0; k < 4; k++) {
        int hits = 0;
        for (unsigned long i = 0; i < 7; i++)
            hits += scanlist_in_shard(keys[k], i, 7);
        assert_int_equal(hits, 1);
        assert_true(scanlist_in_shard(keys[k], (unsigned long)(scanlist_hash(keys[k]) % 7), 7));
    }
    unsigned long i, n;
    assert_int_equal(scanlist_shard_parse("0/1", &i, &n), 0);
    assert_int_equal(i, 0);
    assert_int_equal(n, 1);
    assert_int_equal(scanlist_shard_parse("3/4", &i, &n), 0);
    assert_int_equal(i, 3);
    assert_int_equal(n, 4);
    static const char *const bad[] = {"4/4", "1/0", "/4", "1/", "1", "-1/4", "1/4x", "a/b",
                                      "0/1000001", "12345678/99999999"};
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
        assert_int_equal(scanlist_shard_parse(bad[b], &i, &n), -1);
}

static void key_is(const char *json, const char *want)
{
    char *k = scanlist_output_key(json, strlen(json));
    if (want) {
        assert_non_null(k);
        assert_string_equal(k, want);
    } else {
        assert_null(k);
    }
    free(k);
}

static void test_output_key(void **state)
{
    (void)state;
    key_is("{\"schema_version\":1,\"domain\":\"good.test\",\"port\":25}", "good.test");
    key_is("{\"a\":{\"domain\":\"inner.test\"},\"domain\":\"outer.test\"}", "outer.test");
    key_is("{\"schema_version\":1,\"input\":\"two words\",\"error\":{\"where\":\"input\"}}",
           "two words");
    key_is("{\"input\":\"x\",\"domain\":\"d.test\"}", "d.test");
    key_is("{\"input\":\"\\u00fc\\\"\\\\\\ud83d\\ude00\"}", "\xc3\xbc\"\\\xf0\x9f\x98\x80");
    key_is("{\"l\":[1,2.5e3,true,false,null,\"s\"],\"domain\":\"a.test\"} ", "a.test");
    /* partial or not an object */
    key_is("{\"schema_version\":1,\"domain\":\"good.test\",\"port\":2", NULL);
    key_is("{\"schema_version\":1,\"domain\":\"good.te", NULL);
    key_is("[\"domain\"]", NULL);
    key_is("", NULL);
    key_is("{\"port\":25}", NULL);
    key_is("{\"domain\":\"a.test\"}x", NULL);
    key_is("{\"domain\":\"a\\ud800.test\"}", NULL);
    key_is("{\"domain\":\"a\x01.test\"}", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_domains),      cmocka_unit_test(test_line_skipped),
        cmocka_unit_test(test_line_bad),          cmocka_unit_test(test_hash_and_shards),
        cmocka_unit_test(test_output_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
