/* test_policymap.c - Postfix TLS policy map parsing and lookup */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/policymap.h"
#include "mxtls.h"

/* parse_ok - parse text that must be valid; fails the test with the error otherwise */
static mxtls_policymap *parse_ok(mxtls_ctx *ctx, const char *text, size_t len)
{
    mxtls_policymap *map = mxtls_policymap_parse(ctx, text, len, "policy.map");
    if (!map)
        fail_msg("unexpected error: %s: %s", mxtls_ctx_error_where(ctx), mxtls_ctx_error(ctx));
    return map;
}

/* parse_s - parse_ok for a C string */
static mxtls_policymap *parse_s(mxtls_ctx *ctx, const char *text)
{
    return parse_ok(ctx, text, strlen(text));
}

/* expect_error_n - parsing must fail with exactly this code, where and message */
static void expect_error_n(const char *text, size_t len, mxtls_status code, const char *where,
                           const char *message)
{
    mxtls_ctx *ctx = mxtls_ctx_new();
    assert_non_null(ctx);
    mxtls_policymap *map = mxtls_policymap_parse(ctx, text, len, "policy.map");
    if (map) {
        mxtls_policymap_free(map);
        mxtls_ctx_free(ctx);
        fail_msg("expected \"%s: %s\", but the map parsed", where, message);
    }
    assert_string_equal(mxtls_ctx_error_where(ctx), where);
    assert_string_equal(mxtls_ctx_error(ctx), message);
    assert_int_equal(mxtls_ctx_error_code(ctx), code);
    mxtls_ctx_free(ctx);
}

/* expect_error - expect_error_n for a C string, as a parse error */
static void expect_error(const char *text, const char *where, const char *message)
{
    expect_error_n(text, strlen(text), MXTLS_ERR_PARSE, where, message);
}

/* lookup_key - key of the entry a destination gets, or NULL */
static const char *lookup_key(const mxtls_policymap *map, const char *dest)
{
    return mxtls_policy_entry_key(mxtls_policymap_lookup(map, dest));
}

/* fp_entry - "[h.example] fingerprint match=" and `bytes` bytes "A0:A1:..." */
static char *fp_entry(size_t bytes)
{
    char *s = malloc(64 + 3 * bytes);
    assert_non_null(s);
    size_t o = (size_t)sprintf(s, "[h.example] fingerprint match=");
    for (size_t i = 0; i < bytes; i++)
        o += (size_t)sprintf(s + o, "%s%02X", i ? ":" : "", (unsigned)(0xa0 + i % 16));
    sprintf(s + o, "\n");
    return s;
}

/* ---- valid maps ------------------------------------------------------- */

/* The example table of postconf(5) smtp_tls_policy_maps, fingerprints shortened. */
static void test_postconf_example(void **state)
{
    (void)state;
    const char *text =
        "example.edu                 none\n"
        "example.mil                 may\n"
        "example.gov                 encrypt protocols=TLSv1\n"
        "example.com                 verify ciphers=high\n"
        "example.net                 secure\n"
        ".example.net                secure match=.example.net:example.net\n"
        "[mail.example.org]:587      secure match=nexthop\n"
        "# Postfix 2.5 and later\n"
        "[thumb.example.org]          fingerprint\n"
        "    match=b6:b4:72:34:e2:59:cd:c2:ca:63:0d:4d:cc:2c:7d:84:de:e6:2f\n"
        "    match=51:e9:af:2e:1e:40:1f:64:0a:30:35:2d:09:16:31:5a:eb:82:76\n";
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, text);
    assert_int_equal(mxtls_policymap_count(map), 8);

    const mxtls_policy_entry *e = mxtls_policymap_lookup(map, "example.gov");
    assert_non_null(e);
    assert_string_equal(mxtls_policy_entry_key(e), "example.gov");
    assert_int_equal(mxtls_policy_entry_line(e), 3);
    assert_int_equal(mxtls_policy_entry_level(e), MXTLS_LEVEL_ENCRYPT);
    assert_string_equal(mxtls_policy_entry_attr(e, "protocols"), "TLSv1");
    assert_null(mxtls_policy_entry_attr(e, "ciphers"));
    assert_null(mxtls_policy_entry_attr(e, "nonsense"));

    e = mxtls_policymap_lookup(map, "mx.example.net");
    assert_string_equal(mxtls_policy_entry_key(e), ".example.net");
    assert_string_equal(mxtls_policy_entry_attr(e, "match"), ".example.net:example.net");
    assert_int_equal(e->match.n, 2);
    assert_string_equal(e->match.v[0], ".example.net");
    assert_string_equal(e->match.v[1], "example.net");
    assert_int_equal(e->kind, POLICYMAP_DEST_SUBDOMAINS);

    e = mxtls_policymap_lookup(map, "[mail.example.org]:587");
    assert_int_equal(mxtls_policy_entry_level(e), MXTLS_LEVEL_SECURE);
    assert_string_equal(mxtls_policy_entry_attr(e, "match"), "nexthop");
    assert_int_equal(e->kind, POLICYMAP_DEST_NEXTHOP);

    /* Two match attributes on continuation lines accumulate, joined by '|'. */
    e = mxtls_policymap_lookup(map, "[thumb.example.org]");
    assert_int_equal(mxtls_policy_entry_level(e), MXTLS_LEVEL_FINGERPRINT);
    assert_int_equal(mxtls_policy_entry_line(e), 9);
    assert_int_equal(e->match.n, 2);
    assert_string_equal(e->match.v[1],
                        "51:e9:af:2e:1e:40:1f:64:0a:30:35:2d:09:16:31:5a:eb:82:76");
    assert_string_equal(mxtls_policy_entry_attr(e, "match"),
                        "b6:b4:72:34:e2:59:cd:c2:ca:63:0d:4d:cc:2c:7d:84:de:e6:2f|"
                        "51:e9:af:2e:1e:40:1f:64:0a:30:35:2d:09:16:31:5a:eb:82:76");

    /* Entries in file order. */
    assert_string_equal(policymap_entry_at(map, 0)->key, "example.edu");
    assert_string_equal(policymap_entry_at(map, 7)->key, "[thumb.example.org]");
    assert_null(policymap_entry_at(map, 8));

    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

static void test_every_level(void **state)
{
    (void)state;
    const char *text = "a.example none\n"
                       "b.example may\n"
                       "c.example encrypt\n"
                       "d.example fingerprint match=AB:CD\n"
                       "e.example verify\n"
                       "f.example secure\n"
                       "g.example dane\n"
                       "h.example dane-only\n";
    static const mxtls_level want[] = {
        MXTLS_LEVEL_NONE,   MXTLS_LEVEL_MAY,    MXTLS_LEVEL_ENCRYPT, MXTLS_LEVEL_FINGERPRINT,
        MXTLS_LEVEL_VERIFY, MXTLS_LEVEL_SECURE, MXTLS_LEVEL_DANE,    MXTLS_LEVEL_DANE_ONLY,
    };
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, text);
    assert_int_equal(mxtls_policymap_count(map), 8);
    for (size_t i = 0; i < 8; i++) {
        char dest[16];
        snprintf(dest, sizeof dest, "%c.example", (char)('a' + i));
        assert_int_equal(mxtls_policy_entry_level(mxtls_policymap_lookup(map, dest)), want[i]);
    }
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

static void test_destination_forms(void **state)
{
    (void)state;
    const char *text = "example.com none\n"
                       ".example.org may\n"
                       "[mx.example.com] encrypt\n"
                       "[mx.example.com]:587 verify\n"
                       "[192.0.2.1]:25 encrypt\n"
                       "[192.0.2.2] encrypt\n"
                       "[2001:db8::1]:25 encrypt\n"
                       "[IPv6:2001:DB8::2] encrypt\n"
                       "relay.example.com:2525 secure\n"
                       "[relay.example.net]:submission secure\n"
                       "_tcp.example.com may\n"
                       "*  may\n";
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, text);
    assert_int_equal(mxtls_policymap_count(map), 12);
    assert_string_equal(lookup_key(map, "example.com"), "example.com");
    assert_int_equal(mxtls_policymap_lookup(map, "example.com")->kind, POLICYMAP_DEST_DOMAIN);
    assert_string_equal(lookup_key(map, "a.example.org"), ".example.org");
    assert_string_equal(lookup_key(map, "[mx.example.com]"), "[mx.example.com]");
    assert_string_equal(lookup_key(map, "[mx.example.com]:587"), "[mx.example.com]:587");
    assert_string_equal(lookup_key(map, "[192.0.2.1]:25"), "[192.0.2.1]:25");
    assert_string_equal(lookup_key(map, "[192.0.2.2]"), "[192.0.2.2]");
    assert_string_equal(lookup_key(map, "[2001:DB8::1]:25"), "[2001:db8::1]:25");
    assert_string_equal(lookup_key(map, "[ipv6:2001:db8::2]"), "[IPv6:2001:DB8::2]");
    assert_string_equal(lookup_key(map, "relay.example.com:2525"), "relay.example.com:2525");
    assert_string_equal(lookup_key(map, "[relay.example.net]:SUBMISSION"),
                        "[relay.example.net]:submission");
    assert_string_equal(lookup_key(map, "_tcp.example.com"), "_tcp.example.com");
    /* "*" parses, but only the destination "*" (no next hop) finds it. */
    const mxtls_policy_entry *star = mxtls_policymap_lookup(map, "*");
    assert_int_equal(star->kind, POLICYMAP_DEST_DEFAULT);
    /* A bracketed or ported next-hop matches only its own form. */
    assert_null(lookup_key(map, "[mx.example.com]:25"));
    assert_null(lookup_key(map, "[192.0.2.1]"));
    assert_null(lookup_key(map, "[example.com]"));
    assert_null(lookup_key(map, "example.com:25"));
    /* ...and never walks up the parent domains. */
    assert_null(lookup_key(map, "[a.example.org]"));
    assert_null(lookup_key(map, "a.example.org:25"));
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

static void test_lookup_precedence(void **state)
{
    (void)state;
    const char *text = "* may\n"
                       ".com encrypt\n"
                       ".example.com verify\n"
                       "sub.example.com secure\n"
                       ".deep.sub.example.com dane\n";
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, text);
    /* exact beats .parent; "*" is no default (Postfix never looks it up) */
    assert_string_equal(lookup_key(map, "sub.example.com"), "sub.example.com");
    assert_string_equal(lookup_key(map, "other.example.com"), ".example.com");
    assert_null(lookup_key(map, "example.org"));
    /* the longest parent first */
    assert_string_equal(lookup_key(map, "a.b.example.com"), ".example.com");
    assert_string_equal(lookup_key(map, "x.deep.sub.example.com"), ".deep.sub.example.com");
    /* ".deep.sub.example.com" covers only names below deep.sub.example.com. */
    assert_string_equal(lookup_key(map, "deep.sub.example.com"), ".example.com");
    /* ".example.com" does not cover example.com itself (Postfix: only
     * sub-domains); the walk goes on to ".com". */
    assert_string_equal(lookup_key(map, "example.com"), ".com");
    assert_null(lookup_key(map, "com"));
    /* A ".domain" destination is looked up verbatim only. */
    assert_string_equal(lookup_key(map, ".example.com"), ".example.com");
    assert_null(lookup_key(map, ".x.example.com"));
    /* Garbage can equal no key. */
    assert_null(lookup_key(map, "bad name!"));
    assert_null(lookup_key(map, ""));
    /* policy check says why "*" applies to nothing */
    char *w = mxtls_policymap_warnings(ctx, map, "sha256");
    assert_non_null(w);
    assert_string_equal(w, "1\t*\t\"*\" is not a default key in a Postfix TLS policy table: "
                           "Postfix looks up the next-hop destination and its parent domains "
                           "(\".parent\") only, so this entry applies to nothing; set the "
                           "default with smtp_tls_security_level in main.cf\n");
    free(w);
    assert_null(mxtls_policymap_lookup(map, NULL));
    assert_null(mxtls_policymap_lookup(NULL, "example.com"));
    mxtls_policymap_free(map);

    /* protocols= that leave no current TLS version, or that Postfix cannot
     * parse, are findings; a sound list and level none are not */
    map = parse_s(ctx, "a.example encrypt protocols=TLSv1\n"
                       "b.example encrypt protocols=<=TLSv1.1\n"
                       "c.example encrypt protocols=!SSLv2:!SSLv3\n"
                       "d.example encrypt protocols=>=TLSv1.2\n"
                       "e.example encrypt protocols=TLSv1.4\n"
                       "f.example none protocols=TLSv1\n");
    assert_non_null(map);
    w = mxtls_policymap_warnings(ctx, map, "sha256");
    assert_non_null(w);
    assert_string_equal(
        w, "1\ta.example\tprotocols=TLSv1 leaves neither TLS 1.2 nor TLS 1.3: TLS 1.0 and 1.1 are obsolete "
           "(RFC 8996) and refused by current servers and OpenSSL builds, so handshakes with "
           "this destination fail; remove protocols= or use protocols=>=TLSv1.2\n"
           "2\tb.example\tprotocols=<=TLSv1.1 leaves neither TLS 1.2 nor TLS 1.3: TLS 1.0 and 1.1 are "
           "obsolete (RFC 8996) and refused by current servers and OpenSSL builds, so "
           "handshakes with this destination fail; remove protocols= or use "
           "protocols=>=TLSv1.2\n"
           "5\te.example\tprotocols=TLSv1.4: unknown TLS protocol \"TLSv1.4\" (Postfix knows SSLv2, SSLv3, "
           "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3); Postfix cannot start TLS with it and defers the "
           "mail\n");
    free(w);
    mxtls_policymap_free(map);

    /* Without "*" nothing applies. */
    map = parse_s(ctx, ".example.com verify\n");
    assert_null(mxtls_policymap_warnings(ctx, map, "sha256"));
    assert_null(mxtls_policymap_lookup(map, "example.org"));
    assert_null(mxtls_policymap_lookup(map, "example.com"));
    assert_non_null(mxtls_policymap_lookup(map, "mx.example.com"));
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

static void test_case_and_trailing_dot(void **state)
{
    (void)state;
    const char *text = "Example.COM VERIFY MATCH=NextHop\n"
                       ".Example.NET. Secure Ciphers=HIGH\n"
                       "[MX.Example.ORG.]:25 Encrypt\n";
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, text);
    const mxtls_policy_entry *e = mxtls_policymap_lookup(map, "example.com");
    assert_non_null(e);
    assert_string_equal(mxtls_policy_entry_key(e), "Example.COM");
    assert_int_equal(mxtls_policy_entry_level(e), MXTLS_LEVEL_VERIFY);
    assert_string_equal(mxtls_policy_entry_attr(e, "match"), "NextHop");
    assert_string_equal(mxtls_policy_entry_attr(e, "MATCH"), "NextHop");
    assert_ptr_equal(mxtls_policymap_lookup(map, "EXAMPLE.com."), e);
    e = mxtls_policymap_lookup(map, "MX.example.net.");
    assert_string_equal(mxtls_policy_entry_key(e), ".Example.NET.");
    assert_string_equal(mxtls_policy_entry_attr(e, "ciphers"), "HIGH");
    assert_string_equal(e->norm, ".example.net");
    assert_string_equal(lookup_key(map, "[mx.example.org]:25"), "[MX.Example.ORG.]:25");
    assert_string_equal(lookup_key(map, "[mx.example.org.]:25"), "[MX.Example.ORG.]:25");
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

static void test_idn(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, "b\xc3\xbc" "cher.example verify\n"
                                        ".xn--mnchen-3ya.example secure\n");
    const mxtls_policy_entry *e = mxtls_policymap_lookup(map, "xn--bcher-kva.example");
    assert_non_null(e);
    assert_string_equal(mxtls_policy_entry_key(e), "b\xc3\xbc" "cher.example");
    assert_string_equal(e->norm, "xn--bcher-kva.example");
    assert_ptr_equal(mxtls_policymap_lookup(map, "B\xc3\x9c" "CHER.example"), e);
    assert_string_equal(lookup_key(map, "mx.m\xc3\xbcnchen.example"), ".xn--mnchen-3ya.example");
    mxtls_policymap_free(map);
    /* IDNA2008 (non-transitional): sharp s stays, it is not mapped to "ss". */
    map = parse_s(ctx, "stra\xc3\x9f" "e.example verify\n");
    assert_string_equal(policymap_entry_at(map, 0)->norm, "xn--strae-oqa.example");
    assert_null(mxtls_policymap_lookup(map, "strasse.example"));
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);

    /* A ZWJ outside a CONTEXTJ context fails IDNA2008; the UTS#46
     * transitional fallback drops it. */
    ctx = mxtls_ctx_new();
    map = parse_s(ctx, "a\xe2\x80\x8d" "b.example verify\n");
    assert_string_equal(policymap_entry_at(map, 0)->norm, "ab.example");
    assert_string_equal(lookup_key(map, "AB.example"), "a\xe2\x80\x8d" "b.example");
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);

    expect_error("b\xc3\xbc" "cher.example verify\nxn--bcher-kva.example may\n", "policy.map:2:1",
                 "duplicate destination \"xn--bcher-kva.example\" (first defined at line 1)");
    expect_error("caf\xff.example none\n", "policy.map:1:1",
                 "invalid internationalised name in destination \"caf\\xff.example\": "
                 "string encoding error");
}

static void test_continuation_lines(void **state)
{
    (void)state;
    /* Comment and blank lines inside an entry do not end it (readlline(3)). */
    const char *text = "example.com secure\n"
                       "\tmatch=nexthop\n"
                       "# a comment in the middle\n"
                       "\n"
                       "   \t \n"
                       "    # an indented comment\n"
                       "    match=dot-nexthop,ciphers=high\n"
                       "example.net\n"
                       "  verify\n";
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, text);
    assert_int_equal(mxtls_policymap_count(map), 2);
    const mxtls_policy_entry *e = mxtls_policymap_lookup(map, "example.com");
    assert_string_equal(mxtls_policy_entry_attr(e, "match"), "nexthop:dot-nexthop");
    assert_string_equal(mxtls_policy_entry_attr(e, "ciphers"), "high");
    e = mxtls_policymap_lookup(map, "example.net");
    assert_int_equal(mxtls_policy_entry_level(e), MXTLS_LEVEL_VERIFY);
    assert_int_equal(mxtls_policy_entry_line(e), 8);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);

    /* Errors on a continuation line name that line and its column. */
    expect_error("example.com secure\n"
                 "# note\n"
                 "    match=nexthop\n"
                 "\tciphers=strong\n",
                 "policy.map:4:10",
                 "attribute \"ciphers\" must be a cipher grade (null, export, low, medium, high), "
                 "not \"strong\"");
    expect_error("  match=nexthop\n", "policy.map:1:3",
                 "continuation line (starting with whitespace) without a destination before it");
    expect_error("# only comments before\n\n\t verify\n", "policy.map:3:3",
                 "continuation line (starting with whitespace) without a destination before it");
}

static void test_separators_and_braces(void **state)
{
    (void)state;
    const char *text = "example.com secure,match=nexthop:dot-nexthop, ciphers=high\n"
                       "example.net encrypt { protocols = >=TLSv1.2 } {exclude=aNULL  eNULL}\n"
                       "example.org may protocols= exclude=\n"
                       "example.edu verify connection_reuse=yes connection_reuse=NO enable_rpk=yes\n"
                       "example.int verify tafile=/etc/a.pem tafile=/etc/b.pem servername=mx.example\n"
                       "example.gov none ciphers=high match=whatever\n";
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, text);
    const mxtls_policy_entry *e = mxtls_policymap_lookup(map, "example.com");
    assert_string_equal(mxtls_policy_entry_attr(e, "match"), "nexthop:dot-nexthop");
    assert_string_equal(mxtls_policy_entry_attr(e, "ciphers"), "high");
    e = mxtls_policymap_lookup(map, "example.net");
    assert_string_equal(mxtls_policy_entry_attr(e, "protocols"), ">=TLSv1.2");
    assert_string_equal(mxtls_policy_entry_attr(e, "exclude"), "aNULL  eNULL");
    e = mxtls_policymap_lookup(map, "example.org");
    assert_string_equal(mxtls_policy_entry_attr(e, "protocols"), "");
    assert_string_equal(mxtls_policy_entry_attr(e, "exclude"), "");
    e = mxtls_policymap_lookup(map, "example.edu");
    assert_string_equal(mxtls_policy_entry_attr(e, "connection_reuse"), "NO");
    assert_string_equal(mxtls_policy_entry_attr(e, "enable_rpk"), "yes");
    e = mxtls_policymap_lookup(map, "example.int");
    assert_string_equal(mxtls_policy_entry_attr(e, "tafile"), "/etc/a.pem /etc/b.pem");
    assert_int_equal(e->tafile.n, 2);
    assert_string_equal(e->tafile.v[1], "/etc/b.pem");
    assert_string_equal(mxtls_policy_entry_attr(e, "servername"), "mx.example");
    /* Postfix ignores attributes at level none; so does mxtls, once checked. */
    e = mxtls_policymap_lookup(map, "example.gov");
    assert_null(mxtls_policy_entry_attr(e, "ciphers"));
    assert_null(mxtls_policy_entry_attr(e, "match"));
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

static void test_crlf(void **state)
{
    (void)state;
    const char *text = "example.com verify\r\n"
                       "\tmatch=nexthop\r\n"
                       "# comment\r\n"
                       "\r\n"
                       "example.net may\r\n";
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, text);
    assert_int_equal(mxtls_policymap_count(map), 2);
    assert_string_equal(mxtls_policy_entry_attr(mxtls_policymap_lookup(map, "example.com"), "match"),
                        "nexthop");
    assert_int_equal(mxtls_policy_entry_line(mxtls_policymap_lookup(map, "example.net")), 5);
    mxtls_policymap_free(map);
    /* No final newline, CR or not. */
    map = parse_s(ctx, "example.com may\r");
    assert_int_equal(mxtls_policymap_count(map), 1);
    mxtls_policymap_free(map);
    map = parse_s(ctx, "example.com may");
    assert_int_equal(mxtls_policymap_count(map), 1);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    expect_error("example.com verfy\r\n", "policy.map:1:13", "unknown level \"verfy\"");
}

static void test_empty_maps(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_ok(ctx, NULL, 0);
    assert_int_equal(mxtls_policymap_count(map), 0);
    assert_null(mxtls_policymap_lookup(map, "example.com"));
    mxtls_policymap_free(map);
    map = parse_s(ctx, "# nothing\n\n   \n");
    assert_int_equal(mxtls_policymap_count(map), 0);
    mxtls_policymap_free(map);
    mxtls_policymap_free(NULL);
    assert_int_equal(mxtls_policymap_count(NULL), 0);
    assert_null(mxtls_policy_entry_key(NULL));
    assert_int_equal(mxtls_policy_entry_line(NULL), 0);
    assert_int_equal(mxtls_policy_entry_level(NULL), MXTLS_LEVEL_INVALID);
    assert_null(mxtls_policy_entry_attr(NULL, "match"));
    assert_null(mxtls_policymap_parse(NULL, "x may\n", 6, "p"));
    mxtls_ctx_free(ctx);
}

/* ---- errors ----------------------------------------------------------- */

static void test_error_level(void **state)
{
    (void)state;
    expect_error("example.com verfy\n", "policy.map:1:13", "unknown level \"verfy\"");
    expect_error("example.com none\n\n\n  \t\n# x\n[mx.example.com]:25\t\tverfy\n", "policy.map:6:22",
                 "unknown level \"verfy\"");
    expect_error("example.com dane_only\n", "policy.map:1:13",
                 "unknown level \"dane_only\" (Postfix spells it \"dane-only\")");
    expect_error("example.com esa-required\n", "policy.map:1:13",
                 "unknown level \"esa-required\" (Cisco ESA modes are not Postfix levels)");
    expect_error("example.com {verify}\n", "policy.map:1:13", "unknown level \"{verify}\"");
    expect_error("example.com\n", "policy.map:1:12",
                 "destination \"example.com\" has no security level");
    expect_error("example.com   ,\t\n", "policy.map:1:12",
                 "destination \"example.com\" has no security level");
    expect_error("example.com\n  # comment\n\n", "policy.map:1:12",
                 "destination \"example.com\" has no security level");
}

static void test_error_attributes(void **state)
{
    (void)state;
    expect_error("example.com verify macth=hostname\n", "policy.map:1:20",
                 "unknown attribute \"macth\"");
    expect_error("example.com none foo=bar\n", "policy.map:1:18", "unknown attribute \"foo\"");
    expect_error("example.com verify ciphers\n", "policy.map:1:20",
                 "missing \"=\" in attribute \"ciphers\" (expected name=value)");
    expect_error("example.com verify =high\n", "policy.map:1:20",
                 "missing attribute name before \"=\"");
    expect_error("example.com verify # strict\n", "policy.map:1:20",
                 "\"#\" starts a comment only at the beginning of a line");
    expect_error("example.com verify ciphers=\n", "policy.map:1:20",
                 "attribute \"ciphers\" has an empty value");
    expect_error("example.com verify match=\n", "policy.map:1:20",
                 "attribute \"match\" has an empty value");
    expect_error("example.com verify servername=\n", "policy.map:1:20",
                 "attribute \"servername\" has an empty value");
    expect_error("example.com verify tafile=\n", "policy.map:1:20",
                 "attribute \"tafile\" has an empty value");
    expect_error("example.com verify connection_reuse=\n", "policy.map:1:20",
                 "attribute \"connection_reuse\" has an empty value");
    expect_error("example.com verify ciphers=high ciphers=medium\n", "policy.map:1:33",
                 "attribute \"ciphers\" is specified more than once");
    expect_error("example.com verify protocols=TLSv1.2\n  protocols=TLSv1.3\n", "policy.map:2:3",
                 "attribute \"protocols\" is specified more than once");
    expect_error("example.com may exclude=aNULL exclude=eNULL\n", "policy.map:1:31",
                 "attribute \"exclude\" is specified more than once");
    expect_error("example.com verify servername=a.example servername=b.example\n",
                 "policy.map:1:41", "attribute \"servername\" is specified more than once");
    expect_error("example.com verify ciphers=strong\n", "policy.map:1:28",
                 "attribute \"ciphers\" must be a cipher grade (null, export, low, medium, high), "
                 "not \"strong\"");
    expect_error("example.com verify connection_reuse=maybe\n", "policy.map:1:37",
                 "attribute \"connection_reuse\" must be \"yes\" or \"no\", not \"maybe\"");
    /* exactly "yes" or "no": not words that start like them */
    expect_error("example.com verify connection_reuse=nope\n", "policy.map:1:37",
                 "attribute \"connection_reuse\" must be \"yes\" or \"no\", not \"nope\"");
    expect_error("example.com verify enable_rpk=yesss\n", "policy.map:1:31",
                 "attribute \"enable_rpk\" must be \"yes\" or \"no\", not \"yesss\"");
    expect_error("example.com verify enable_rpk=1\n", "policy.map:1:31",
                 "attribute \"enable_rpk\" must be \"yes\" or \"no\", not \"1\"");
    expect_error("example.com verify servername=bad!name\n", "policy.map:1:31",
                 "attribute \"servername\" is not a valid host name: \"bad!name\"");
    expect_error("example.com verify servername=mx.example.\n", "policy.map:1:31",
                 "attribute \"servername\" is not a valid host name: \"mx.example.\"");
    expect_error("example.com verify match=:::\n", "policy.map:1:26",
                 "attribute \"match\" lists no names");
    expect_error("[h.example] fingerprint match=||\n", "policy.map:1:31",
                 "attribute \"match\" lists no fingerprints");
    expect_error("[h.example] fingerprint match=AB:CD|zz:11\n", "policy.map:1:37",
                 "invalid fingerprint \"zz:11\" in attribute \"match\" (expected hex digits, "
                 "optionally separated by \":\")");
    expect_error("[h.example] fingerprint match=ABC\n", "policy.map:1:31",
                 "invalid fingerprint \"ABC\" in attribute \"match\" (expected hex digits, "
                 "optionally separated by \":\")");
    expect_error("example.com verify {ciphers=high\n", "policy.map:1:20", "missing \"}\"");
    expect_error("example.com {verify\n", "policy.map:1:13", "missing \"}\"");
    expect_error("example.com verify {ciphers=high}x\n", "policy.map:1:34",
                 "unexpected text after \"}\"");
    expect_error("example.com verify { ciphers }\n", "policy.map:1:20",
                 "missing \"=\" in attribute \"{ ciphers }\" (expected name=value)");
}

/* match= and tafile= where Postfix rejects them (smtp_tls_policy.c marks the
 * policy invalid: "client TLS configuration problem", mail is deferred). */
/* Fingerprints of every Postfix digest, up to SHA-512 (64 bytes, what
 * hex_decode reads into EVP_MAX_MD_SIZE); one byte more is refused. */
static void test_fingerprint_lengths(void **state)
{
    (void)state;
    static const size_t ok[] = {1, 16, 20, 32, 64};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        mxtls_ctx *ctx = mxtls_ctx_new();
        assert_non_null(ctx);
        char *text = fp_entry(ok[i]);
        mxtls_policymap *map = parse_s(ctx, text);
        const mxtls_policy_entry *e = mxtls_policymap_lookup(map, "[h.example]");
        assert_non_null(e);
        assert_int_equal(mxtls_policy_entry_level(e), MXTLS_LEVEL_FINGERPRINT);
        mxtls_policymap_free(map);
        mxtls_ctx_free(ctx);
        free(text);
    }
    char *text = fp_entry(65);
    mxtls_ctx *ctx = mxtls_ctx_new();
    assert_non_null(ctx);
    assert_null(mxtls_policymap_parse(ctx, text, strlen(text), "policy.map"));
    assert_string_equal(mxtls_ctx_error_where(ctx), "policy.map:1:31");
    if (strncmp(mxtls_ctx_error(ctx), "invalid fingerprint \"", 21) != 0)
        fail_msg("unexpected error: %s", mxtls_ctx_error(ctx));
    mxtls_ctx_free(ctx);
    free(text);
}

static void test_error_attribute_level(void **state)
{
    (void)state;
    expect_error("example.com may match=hostname\n", "policy.map:1:17",
                 "attribute \"match\" is not valid at security level \"may\"");
    expect_error("example.com encrypt match=nexthop\n", "policy.map:1:21",
                 "attribute \"match\" is not valid at security level \"encrypt\"");
    expect_error("example.com dane match=nexthop\n", "policy.map:1:18",
                 "attribute \"match\" is not valid at security level \"dane\"");
    expect_error("example.com dane-only match=nexthop\n", "policy.map:1:23",
                 "attribute \"match\" is not valid at security level \"dane-only\"");
    expect_error("example.com encrypt tafile=/etc/ta.pem\n", "policy.map:1:21",
                 "attribute \"tafile\" is not valid at security level \"encrypt\"");
    expect_error("example.com fingerprint match=AB tafile=/etc/ta.pem\n", "policy.map:1:34",
                 "attribute \"tafile\" is not valid at security level \"fingerprint\"");
    expect_error("example.com dane tafile=\n", "policy.map:1:18",
                 "attribute \"tafile\" is not valid at security level \"dane\"");
    expect_error("[h.example] fingerprint\n", "policy.map:1:13",
                 "security level \"fingerprint\" needs a match= attribute");
    expect_error("[h.example] fingerprint ciphers=high\n  protocols=TLSv1.3\n", "policy.map:1:13",
                 "security level \"fingerprint\" needs a match= attribute");
}

static void test_error_duplicates(void **state)
{
    (void)state;
    expect_error("# a\n\n\nexample.com verify\nb.example none\n\n\n\nexample.com. may\n",
                 "policy.map:9:1",
                 "duplicate destination \"example.com.\" (first defined at line 4)");
    expect_error("example.com verify\nEXAMPLE.COM verify\n", "policy.map:2:1",
                 "duplicate destination \"EXAMPLE.COM\" (first defined at line 1)");
    expect_error("[mx.example]:25 verify\n[MX.example.]:25 verify\n", "policy.map:2:1",
                 "duplicate destination \"[MX.example.]:25\" (first defined at line 1)");
    expect_error("* may\n* none\n", "policy.map:2:1",
                 "duplicate destination \"*\" (first defined at line 1)");
    /* Different forms are different keys. */
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_s(ctx, "example.com may\n.example.com may\n[example.com] may\n"
                                        "[example.com]:25 may\nexample.com:25 may\n");
    assert_int_equal(mxtls_policymap_count(map), 5);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

static void test_error_destinations(void **state)
{
    (void)state;
    expect_error("[mx.example.com verify\n", "policy.map:1:1",
                 "missing \"]\" in destination \"[mx.example.com\"");
    expect_error("[mx.example.com]:99999 verify\n", "policy.map:1:18",
                 "invalid port \"99999\" in destination \"[mx.example.com]:99999\"");
    expect_error("[mx.example.com]:0 verify\n", "policy.map:1:18",
                 "invalid port \"0\" in destination \"[mx.example.com]:0\"");
    expect_error("[mx.example.com]:2x5 verify\n", "policy.map:1:18",
                 "invalid port \"2x5\" in destination \"[mx.example.com]:2x5\"");
    expect_error("mx.example.com:-smtp verify\n", "policy.map:1:16",
                 "invalid port \"-smtp\" in destination \"mx.example.com:-smtp\"");
    expect_error("[mx.example.com]: verify\n", "policy.map:1:17",
                 "missing port after \":\" in destination \"[mx.example.com]:\"");
    expect_error("[mx.example.com]x verify\n", "policy.map:1:17",
                 "unexpected text after \"]\" in destination \"[mx.example.com]x\"");
    expect_error("ex!ample.com none\n", "policy.map:1:3",
                 "invalid character \"!\" in destination \"ex!ample.com\"");
    expect_error("[mx.ex\"ample.com] none\n", "policy.map:1:7",
                 "invalid character \"\\\"\" in destination \"[mx.ex\\\"ample.com]\"");
    expect_error("ex\x01" "ample.com none\n", "policy.map:1:3",
                 "invalid character \"\\x01\" in destination \"ex\\x01ample.com\"");
    expect_error(".example.com:25 none\n", "policy.map:1:13",
                 "invalid character \":\" in destination \".example.com:25\"");
    expect_error("a..example none\n", "policy.map:1:3",
                 "empty label in destination \"a..example\"");
    expect_error("-a.example none\n", "policy.map:1:1",
                 "label starting or ending with \"-\" in destination \"-a.example\"");
    expect_error("a.example- none\n", "policy.map:1:3",
                 "label starting or ending with \"-\" in destination \"a.example-\"");
    expect_error("[192.0.2.300] none\n", "policy.map:1:2",
                 "invalid IPv4 address in destination \"[192.0.2.300]\"");
    expect_error("[2001:db8::g]:25 none\n", "policy.map:1:2",
                 "invalid IPv6 address in destination \"[2001:db8::g]:25\"");
    expect_error("[ipv6:192.0.2.1] none\n", "policy.map:1:2",
                 "invalid IPv6 address in destination \"[ipv6:192.0.2.1]\"");
    expect_error("192.0.2.1 none\n", "policy.map:1:1",
                 "numeric host name in destination \"192.0.2.1\" (write an address as "
                 "\"[address]\")");
    expect_error("[] none\n", "policy.map:1:1", "empty host in destination \"[]\"");
    expect_error(". none\n", "policy.map:1:2", "empty host name in destination \".\"");
    expect_error(".. none\n", "policy.map:1:2", "empty host name in destination \"..\"");
    expect_error("*.example.com none\n", "policy.map:1:1",
                 "invalid character \"*\" in destination \"*.example.com\"");
    expect_error("unix:/var/run/lmtp none\n", "policy.map:1:6",
                 "invalid port \"/var/run/lmtp\" in destination \"unix:/var/run/lmtp\"");

    char label[80];
    memset(label, 'a', 64);
    snprintf(label + 64, sizeof label - 64, ".example none\n");
    expect_error(label, "policy.map:1:1",
                 "label longer than 63 bytes in destination "
                 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\"");
    /* 63-byte labels are fine; a 253-byte name is fine, a 254-byte one is not. */
    for (size_t total = 253; total <= 254; total++) {
        char name[300];
        memset(name, 'b', total);
        name[63] = name[127] = name[191] = '.';
        snprintf(name + total, sizeof name - total, " none\n");
        mxtls_ctx *ctx = mxtls_ctx_new();
        mxtls_policymap *map = mxtls_policymap_parse(ctx, name, strlen(name), "policy.map");
        if (total == 253) {
            assert_non_null(map);
        } else {
            assert_null(map);
            assert_string_equal(mxtls_ctx_error_where(ctx), "policy.map:1:1");
            name[total] = '\0';
            char want[400];
            snprintf(want, sizeof want, "host name longer than 253 bytes in destination \"%.100s...\"",
                     name);
            assert_string_equal(mxtls_ctx_error(ctx), want);
        }
        mxtls_policymap_free(map);
        mxtls_ctx_free(ctx);
    }
}

static void test_error_nul(void **state)
{
    (void)state;
    static const char text[] = "example.com none\nexa\0mple.com none\n";
    expect_error_n(text, sizeof text - 1, MXTLS_ERR_PARSE, "policy.map:2:4",
                   "NUL byte in policy map");
    static const char comment[] = "# \0 in a comment\n";
    expect_error_n(comment, sizeof comment - 1, MXTLS_ERR_PARSE, "policy.map:1:3",
                   "NUL byte in policy map");
}

/* make_line - a line of exactly n bytes (terminator not counted): an entry
 * whose protocols= value fills the rest */
static char *make_line(size_t n, const char *eol)
{
    const char *head = "example.com may protocols=";
    size_t h = strlen(head), e = strlen(eol);
    char *s = malloc(n + e + 1);
    assert_non_null(s);
    memcpy(s, head, h);
    memset(s + h, 'x', n - h);
    memcpy(s + n, eol, e + 1);
    return s;
}

static void test_limit_line(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    const char *eols[] = {"\n", "\r\n", ""};
    for (size_t i = 0; i < 3; i++) {
        char *ok = make_line(MXTLS_POLICYMAP_MAX_LINE, eols[i]);
        mxtls_policymap *map = parse_s(ctx, ok);
        const char *v = mxtls_policy_entry_attr(mxtls_policymap_lookup(map, "example.com"),
                                                "protocols");
        assert_int_equal(strlen(v), MXTLS_POLICYMAP_MAX_LINE - strlen("example.com may protocols="));
        mxtls_policymap_free(map);
        free(ok);
        char *bad = make_line(MXTLS_POLICYMAP_MAX_LINE + 1, eols[i]);
        expect_error_n(bad, strlen(bad), MXTLS_ERR_LIMIT, "policy.map:1:4097",
                       "line is longer than 4096 bytes");
        free(bad);
    }
    /* Comment lines count too; the line number is the long line's. */
    char *text = malloc(MXTLS_POLICYMAP_MAX_LINE + 64);
    strcpy(text, "a.example may\n"); /* 14 bytes, then 4097 bytes of comment */
    memset(text + 14, '#', MXTLS_POLICYMAP_MAX_LINE + 1);
    text[14 + MXTLS_POLICYMAP_MAX_LINE + 1] = '\0';
    expect_error_n(text, strlen(text), MXTLS_ERR_LIMIT, "policy.map:2:4097",
                   "line is longer than 4096 bytes");
    free(text);
    mxtls_ctx_free(ctx);
}

/* make_entries - n lines "kkkk none" with distinct 4-letter keys */
static char *make_entries(size_t n, size_t *len)
{
    char *s = malloc(n * 10 + 1);
    assert_non_null(s);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t v = i;
        for (int d = 3; d >= 0; d--) {
            s[o + (size_t)d] = (char)('a' + v % 26);
            v /= 26;
        }
        memcpy(s + o + 4, " none\n", 6);
        o += 10;
    }
    s[o] = '\0';
    *len = o;
    return s;
}

static void test_limit_entries(void **state)
{
    (void)state;
    size_t len;
    mxtls_ctx *ctx = mxtls_ctx_new();
    char *text = make_entries(MXTLS_POLICYMAP_MAX_ENTRIES, &len);
    mxtls_policymap *map = parse_ok(ctx, text, len);
    assert_int_equal(mxtls_policymap_count(map), MXTLS_POLICYMAP_MAX_ENTRIES);
    assert_string_equal(lookup_key(map, "aaaa"), "aaaa");
    assert_string_equal(lookup_key(map, "fryd"), "fryd"); /* entry 99999 */
    assert_int_equal(mxtls_policy_entry_line(mxtls_policymap_lookup(map, "fryd")), 100000);
    assert_null(mxtls_policymap_lookup(map, "zzzz"));
    mxtls_policymap_free(map);
    free(text);
    mxtls_ctx_free(ctx);

    text = make_entries(MXTLS_POLICYMAP_MAX_ENTRIES + 1, &len);
    expect_error_n(text, len, MXTLS_ERR_LIMIT, "policy.map:100001:1", "more than 100000 entries");
    free(text);
}

static void test_limit_input(void **state)
{
    (void)state;
    size_t max = MXTLS_MAX_INPUT_FILE;
    char *text = malloc(max + 2);
    assert_non_null(text);
    /* Comment lines of 1024 bytes each ("#...\n"), then one entry. */
    memset(text, '#', max + 1);
    for (size_t i = 1023; i < max + 1; i += 1024)
        text[i] = '\n';
    memcpy(text + max - 16, "\nexample.com may", 16);
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_ok(ctx, text, max);
    assert_int_equal(mxtls_policymap_count(map), 1);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    expect_error_n(text, max + 1, MXTLS_ERR_LIMIT, "policy.map",
                   "policy map is larger than the limit of 1048576 bytes");
    free(text);
}

/* One entry continued over a whole 1 MiB file: values accumulate in linear time. */
static void test_limit_one_huge_entry(void **state)
{
    (void)state;
    size_t max = MXTLS_MAX_INPUT_FILE, o = 0, items = 0;
    char *text = malloc(max);
    assert_non_null(text);
    o += (size_t)snprintf(text, max, "example.com verify\n");
    while (o + 9 <= max) {
        memcpy(text + o, " match=a\n", 9);
        o += 9;
        items++;
    }
    mxtls_ctx *ctx = mxtls_ctx_new();
    mxtls_policymap *map = parse_ok(ctx, text, o);
    const mxtls_policy_entry *e = mxtls_policymap_lookup(map, "example.com");
    assert_int_equal(e->match.n, items);
    assert_int_equal(strlen(mxtls_policy_entry_attr(e, "match")), 2 * items - 1);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
    free(text);
}

static void test_error_name_default(void **state)
{
    (void)state;
    mxtls_ctx *ctx = mxtls_ctx_new();
    assert_null(mxtls_policymap_parse(ctx, "x.example verfy\n", 16, NULL));
    assert_string_equal(mxtls_ctx_error_where(ctx), "policy map:1:11");
    /* A later success clears the error. */
    mxtls_policymap *map = mxtls_policymap_parse(ctx, "x.example may\n", 14, "p");
    assert_non_null(map);
    assert_int_equal(mxtls_ctx_error_code(ctx), MXTLS_OK);
    mxtls_policymap_free(map);
    mxtls_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postconf_example),
        cmocka_unit_test(test_every_level),
        cmocka_unit_test(test_destination_forms),
        cmocka_unit_test(test_lookup_precedence),
        cmocka_unit_test(test_case_and_trailing_dot),
        cmocka_unit_test(test_idn),
        cmocka_unit_test(test_continuation_lines),
        cmocka_unit_test(test_separators_and_braces),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_empty_maps),
        cmocka_unit_test(test_error_level),
        cmocka_unit_test(test_error_attributes),
        cmocka_unit_test(test_fingerprint_lengths),
        cmocka_unit_test(test_error_attribute_level),
        cmocka_unit_test(test_error_duplicates),
        cmocka_unit_test(test_error_destinations),
        cmocka_unit_test(test_error_nul),
        cmocka_unit_test(test_limit_line),
        cmocka_unit_test(test_limit_entries),
        cmocka_unit_test(test_limit_input),
        cmocka_unit_test(test_limit_one_huge_entry),
        cmocka_unit_test(test_error_name_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
