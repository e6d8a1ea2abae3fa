/* test_names.c - name normalisation, presented identities and matching
 *
 * Matching is OpenSSL's X509_check_host with NO_PARTIAL_WILDCARDS (names.c);
 * these tables pin what that gives for the names mail servers really present
 * and for hostile ones (NUL bytes, partial and multi-label wildcards, IDN).
 * Certificates are built here, so any byte string can be a dNSName or CN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/names.h"
#include "mxtls.h"
#include "testutil.h"

enum match_fn { DEF, SAN, CN, IP };
static const char *const fn_names[] = {"default", "san", "cn", "ip"};

/* A name of 300 'a's as one label, and labels of exactly 63 and 64. */
#define L10 "aaaaaaaaaa"
#define L60 L10 L10 L10 L10 L10 L10
#define L63 L60 "bbb"
#define L64 L60 "cccc"
#define L300 L60 L60 L60 L60 L60

#define D(s) {'D', s, 0}
#define DN(s) {'D', s, sizeof(s) - 1} /* with embedded NUL bytes */
#define C(s) {'C', s, 0}
#define CNUL(s) {'C', s, sizeof(s) - 1}
#define I(s) {'I', s, 0}

/* One row: the certificate's identities, the reference, which matcher, whether
 * the reference goes through names_normalize first, and the expected result
 * with the presented name that matched. */
struct match_case {
    const char *what;
    tu_id ids[TU_MAX_IDS];
    const char *ref;
    enum match_fn fn;
    int normalize;
    int want;
    const char *matched;
};

static const struct match_case match_cases[] = {
    /* ---- exact names ---- */
    {"exact", {D("mx1.example.com")}, "mx1.example.com", DEF, 0, 1, "mx1.example.com"},
    {"exact via san", {D("mx1.example.com")}, "mx1.example.com", SAN, 0, 1, "mx1.example.com"},
    {"other host", {D("mx1.example.com")}, "mx2.example.com", DEF, 0, 0, NULL},
    {"presented upper case", {D("MX1.EXAMPLE.COM")}, "mx1.example.com", DEF, 0, 1,
     "MX1.EXAMPLE.COM"},
    {"reference upper case, raw", {D("mx1.example.com")}, "MX1.Example.COM", DEF, 0, 1,
     "mx1.example.com"},
    {"reference upper case, normalised", {D("mx1.example.com")}, "MX1.EXAMPLE.COM", DEF, 1, 1,
     "mx1.example.com"},
    {"second SAN", {D("a.example.com"), D("b.example.com")}, "b.example.com", DEF, 0, 1,
     "b.example.com"},
    {"parent of the SAN", {D("mx1.example.com")}, "example.com", DEF, 0, 0, NULL},
    {"child of the SAN", {D("example.com")}, "mx1.example.com", DEF, 0, 0, NULL},
    {"reference is a prefix", {D("mx1.example.com")}, "mx1.example.co", DEF, 0, 0, NULL},
    {"reference is a suffix", {D("mx1.example.com")}, "x1.example.com", DEF, 0, 0, NULL},
    {"reference extends the SAN", {D("mx1.example.com")}, "mx1.example.com.evil", DEF, 0, 0,
     NULL},
    {"no names at all", {{0, NULL, 0}}, "example.com", DEF, 0, 0, NULL},
    {"CN with a trailing blank", {C("mx1.example.com ")}, "mx1.example.com", DEF, 0, 0, NULL},
    {"IP literal as a dNSName", {D("192.0.2.25")}, "192.0.2.25", DEF, 0, 1, "192.0.2.25"},
    {"IP SAN is not a host name", {I("192.0.2.25"), D("mx1.example.com")}, "192.0.2.25", DEF,
     0, 0, NULL},

    /* ---- wildcards (RFC 6125 §6.4.3, OpenSSL with NO_PARTIAL_WILDCARDS) ---- */
    {"wildcard, one label", {D("*.example.com")}, "mx.example.com", DEF, 0, 1,
     "*.example.com"},
    {"wildcard vs bare parent", {D("*.example.com")}, "example.com", DEF, 0, 0, NULL},
    {"wildcard vs two labels", {D("*.example.com")}, "a.b.example.com", DEF, 0, 0, NULL},
    {"wildcard, mixed case", {D("*.EXAMPLE.com")}, "MX.example.COM", DEF, 0, 1,
     "*.EXAMPLE.com"},
    {"wildcard covers an A-label", {D("*.example.com")}, "xn--mnchen-3ya.example.com", DEF, 0,
     1, "*.example.com"},
    {"wildcard over an IDN parent", {D("*.xn--mnchen-3ya.example")},
     "mx.xn--mnchen-3ya.example", DEF, 0, 1, "*.xn--mnchen-3ya.example"},
    {"wildcard over an IDN parent, U-label reference", {D("*.xn--mnchen-3ya.example")},
     "mx.münchen.example", DEF, 1, 1, "*.xn--mnchen-3ya.example"},
    {"wildcard over an IDN parent vs the parent", {D("*.xn--mnchen-3ya.example")},
     "xn--mnchen-3ya.example", DEF, 0, 0, NULL},
    {"wildcard inside an A-label", {D("xn--*.example")}, "xn--mnchen-3ya.example", DEF, 0, 0,
     NULL},
    {"wildcard inside an A-label, deeper", {D("xn--*.example.com")},
     "xn--mnchen-3ya.example.com", DEF, 0, 0, NULL},
    {"partial wildcard f*", {D("f*.example.com")}, "foo.example.com", DEF, 0, 0, NULL},
    {"partial wildcard f* vs f", {D("f*.example.com")}, "f.example.com", DEF, 0, 0, NULL},
    {"partial wildcard *o", {D("*o.example.com")}, "foo.example.com", DEF, 0, 0, NULL},
    {"partial wildcard f*o", {D("f*o.example.com")}, "foo.example.com", DEF, 0, 0, NULL},
    {"RFC 6125 baz*", {D("baz*.example.net")}, "baz1.example.net", DEF, 0, 0, NULL},
    {"RFC 6125 *baz", {D("*baz.example.net")}, "foobaz.example.net", DEF, 0, 0, NULL},
    {"RFC 6125 b*z", {D("b*z.example.net")}, "buzz.example.net", DEF, 0, 0, NULL},
    {"RFC 6125 *.example.com vs foo", {D("*.example.com")}, "foo.example.com", DEF, 0, 1,
     "*.example.com"},
    {"RFC 6125 *.example.com vs bar.foo", {D("*.example.com")}, "bar.foo.example.com", DEF, 0,
     0, NULL},
    {"RFC 6125 wildcard not leftmost", {D("bar.*.example.net")}, "bar.foo.example.net", DEF, 0,
     0, NULL},
    {"two wildcards", {D("*.*.example")}, "a.b.example", DEF, 0, 0, NULL},
    {"two wildcards vs one label", {D("*.*.example")}, "a.x.example", DEF, 0, 0, NULL},
    {"double star", {D("**.example.com")}, "ab.example.com", DEF, 0, 0, NULL},
    {"lone star vs a TLD", {D("*")}, "com", DEF, 0, 0, NULL},
    {"lone star vs a name", {D("*")}, "example", DEF, 0, 0, NULL},
    {"*.com", {D("*.com")}, "example.com", DEF, 0, 0, NULL},
    {"*.example (one dot after the star)", {D("*.example")}, "mx.example", DEF, 0, 0, NULL},
    /* OpenSSL knows no public suffixes: two dots after the star suffice. */
    {"*.co.uk", {D("*.co.uk")}, "example.co.uk", DEF, 0, 1, "*.co.uk"},
    {"wildcard with a trailing dot", {D("*.example.com.")}, "mx.example.com", DEF, 0, 0, NULL},
    {"wildcard CN, CN matcher", {C("*.example.com")}, "mx.example.com", CN, 0, 1,
     "*.example.com"},
    {"wildcard CN vs two labels", {C("*.example.com")}, "a.b.example.com", CN, 0, 0, NULL},
    {"partial wildcard CN", {C("f*.example.com")}, "foo.example.com", CN, 0, 0, NULL},
    {"wildcard CN-only cert, default", {C("*.example.com")}, "mx.example.com", DEF, 0, 1,
     "*.example.com"},

    /* ---- references starting with '.' (Postfix dot-nexthop) ---- */
    {"dot reference, one label below", {D("a.example.com")}, ".example.com", DEF, 0, 1,
     "a.example.com"},
    {"dot reference, two labels below", {D("a.b.example.com")}, ".example.com", DEF, 0, 1,
     "a.b.example.com"},
    {"dot reference vs the name itself", {D("example.com")}, ".example.com", DEF, 0, 0, NULL},
    {"dot reference vs a longer label", {D("aexample.com")}, ".example.com", DEF, 0, 0, NULL},
    {"dot reference vs a different tail", {D("a.example.com.evil")}, ".example.com", DEF, 0, 0,
     NULL},
    {"dot reference, upper case", {D("a.example.com")}, ".EXAMPLE.com", DEF, 0, 1,
     "a.example.com"},
    {"dot reference, normalised", {D("a.example.com")}, ".EXAMPLE.COM.", DEF, 1, 1,
     "a.example.com"},
    /* A one-label wildcard below the name counts as "a name below it". */
    {"dot reference vs a wildcard", {D("*.example.com")}, ".example.com", DEF, 0, 1,
     "*.example.com"},
    {"dot reference vs a deeper wildcard", {D("*.sub.example.com")}, ".example.com", DEF, 0, 1,
     "*.sub.example.com"},
    {"dot reference vs a CN-only cert", {C("a.example.com")}, ".example.com", DEF, 0, 1,
     "a.example.com"},
    /* Not a valid dNSName, but OpenSSL compares it literally and it equals
     * the reference: a CA would have to issue ".example.com" for this. */
    {"dot reference vs a presented dot name", {D(".example.com")}, ".example.com", DEF, 0, 1,
     ".example.com"},
    {"presented dot name vs a host", {D(".example.com")}, "mx.example.com", DEF, 0, 0, NULL},

    /* ---- NUL bytes never match ---- */
    {"NUL in dNSName", {DN("mx1.example.com\0.evil.com")}, "mx1.example.com", DEF, 0, 0, NULL},
    {"NUL in dNSName vs its tail", {DN("mx1.example.com\0.evil.com")}, "evil.com", DEF, 0, 0,
     NULL},
    {"NUL in dNSName vs a dot reference", {DN("mx1.example.com\0.evil.com")}, ".evil.com", DEF,
     0, 0, NULL},
    {"NUL before the reference's suffix", {DN("evil\0.example.com")}, ".example.com", DEF, 0,
     0, NULL},
    {"leading NUL in dNSName", {DN("\0mx1.example.com")}, "mx1.example.com", DEF, 0, 0, NULL},
    {"trailing NUL in dNSName", {DN("mx1.example.com\0")}, "mx1.example.com", DEF, 0, 0, NULL},
    {"NUL in a wildcard dNSName", {DN("*.example.com\0.evil")}, "a.example.com", DEF, 0, 0,
     NULL},
    {"NUL in CN, CN-only cert", {CNUL("mx1.example.com\0.evil.com")}, "mx1.example.com", DEF,
     0, 0, NULL},
    {"NUL in CN, CN matcher", {CNUL("mx1.example.com\0.evil.com")}, "mx1.example.com", CN, 0,
     0, NULL},
    {"trailing NUL in CN", {CNUL("mx1.example.com\0")}, "mx1.example.com", CN, 0, 0, NULL},
    {"NUL SAN does not hide a good SAN", {DN("x\0y"), D("mx1.example.com")}, "mx1.example.com",
     DEF, 0, 1, "mx1.example.com"},

    /* ---- internationalised names ---- */
    {"A-label SAN, U-label reference", {D("mx.xn--mnchen-3ya.example")}, "mx.münchen.example",
     DEF, 1, 1, "mx.xn--mnchen-3ya.example"},
    {"A-label SAN, upper-case U-label reference", {D("mx.xn--mnchen-3ya.example")},
     "MX.MÜNCHEN.EXAMPLE", DEF, 1, 1, "mx.xn--mnchen-3ya.example"},
    {"A-label CN-only, U-label reference", {C("mx.xn--mnchen-3ya.example")},
     "mx.münchen.example", DEF, 1, 1, "mx.xn--mnchen-3ya.example"},
    /* OpenSSL compares bytes: a CN in U-label form never equals the A-label
     * form every reference is normalised to. */
    {"U-label CN, normalised reference", {C("mx.münchen.example")}, "mx.münchen.example", CN, 1,
     0, NULL},
    {"U-label bytes in a dNSName", {D("mx.münchen.example")}, "mx.münchen.example", DEF, 1, 0,
     NULL},
    {"non-ASCII CN vs an ASCII look-alike", {C("mx1.exаmple.com")}, "mx1.example.com", CN, 0, 0,
     NULL},

    /* ---- long names ---- */
    /* OpenSSL does not check label lengths of presented names; only
     * names_normalize keeps such a reference out (see test_normalize_*). */
    {"300-character label, same raw reference", {D(L300 ".example.com")}, L300 ".example.com",
     DEF, 0, 1, L300 ".example.com"},
    {"300-character label vs another name", {D(L300 ".example.com")}, "a.example.com", DEF, 0,
     0, NULL},
    {"300-character label under a wildcard", {D("*.example.com")}, L300 ".example.com", DEF, 0,
     1, "*.example.com"},
    {"63-character label", {D(L63 ".example.com")}, L63 ".EXAMPLE.COM", DEF, 1, 1,
     L63 ".example.com"},

    /* ---- trailing dots ---- */
    {"reference trailing dot, raw", {D("mx1.example.com")}, "mx1.example.com.", DEF, 0, 0, NULL},
    {"reference trailing dot, normalised", {D("mx1.example.com")}, "mx1.example.com.", DEF, 1,
     1, "mx1.example.com"},
    {"reference upper case and trailing dot", {D("mx1.example.com")}, "MX1.EXAMPLE.COM.", DEF,
     1, 1, "mx1.example.com"},
    {"presented trailing dot", {D("mx1.example.com.")}, "mx1.example.com", DEF, 0, 0, NULL},

    /* ---- which identities each matcher consults ---- */
    {"SAN present: CN ignored (default)", {D("mx2.example.com"), C("mx1.example.com")},
     "mx1.example.com", DEF, 0, 0, NULL},
    {"SAN present: SAN still used (default)", {D("mx2.example.com"), C("mx1.example.com")},
     "mx2.example.com", DEF, 0, 1, "mx2.example.com"},
    {"SAN present: san matcher ignores CN", {D("mx2.example.com"), C("mx1.example.com")},
     "mx1.example.com", SAN, 0, 0, NULL},
    {"SAN present: cn matcher uses CN", {D("mx2.example.com"), C("mx1.example.com")},
     "mx1.example.com", CN, 0, 1, "mx1.example.com"},
    {"cn matcher ignores SANs", {D("mx2.example.com"), C("mx1.example.com")},
     "mx2.example.com", CN, 0, 0, NULL},
    {"CN-only: CN used (default)", {C("mx1.example.com")}, "mx1.example.com", DEF, 0, 1,
     "mx1.example.com"},
    {"CN-only: san matcher finds nothing", {C("mx1.example.com")}, "mx1.example.com", SAN, 0,
     0, NULL},
    {"IP SAN only: CN used (default)", {I("192.0.2.25"), C("mx1.example.com")},
     "mx1.example.com", DEF, 0, 1, "mx1.example.com"},
    {"two CNs, second matches (cn)", {C("a.example.com"), C("mx1.example.com")},
     "mx1.example.com", CN, 0, 1, "mx1.example.com"},
    {"two CNs, second matches (default)", {C("a.example.com"), C("mx1.example.com")},
     "mx1.example.com", DEF, 0, 1, "mx1.example.com"},
    {"two CNs, neither matches", {C("a.example.com"), C("b.example.com")}, "mx1.example.com",
     CN, 0, 0, NULL},
    {"CN upper case", {C("MX1.EXAMPLE.COM")}, "mx1.example.com", CN, 0, 1, "MX1.EXAMPLE.COM"},
    {"cn matcher, no CN at all", {D("mx1.example.com")}, "mx1.example.com", CN, 0, 0, NULL},

    /* ---- iPAddress SANs (names_match_ip) ---- */
    {"IPv4 SAN", {I("192.0.2.25")}, "192.0.2.25", IP, 0, 1, "192.0.2.25"},
    {"IPv6 SAN", {I("2001:db8::25")}, "2001:db8::25", IP, 0, 1, "2001:db8::25"},
    {"IPv6 SAN, other spelling", {I("2001:db8::25")}, "2001:DB8:0:0::25", IP, 0, 1,
     "2001:DB8:0:0::25"},
    {"IPv4 SAN, other address", {I("192.0.2.25")}, "192.0.2.26", IP, 0, 0, NULL},
    {"IPv4 SAN vs IPv4-mapped IPv6", {I("192.0.2.25")}, "::ffff:192.0.2.25", IP, 0, 0, NULL},
    {"IP only in the CN", {C("192.0.2.25")}, "192.0.2.25", IP, 0, 0, NULL},
    {"IP only as a dNSName", {D("192.0.2.25")}, "192.0.2.25", IP, 0, 0, NULL},
    {"not an address", {I("192.0.2.25")}, "mx1.example.com", IP, 0, 0, NULL},
    {"second IP SAN", {I("192.0.2.25"), I("2001:db8::25")}, "2001:db8::25", IP, 0, 1,
     "2001:db8::25"},
};

static int run_match(X509 *x, const char *ref, enum match_fn fn, char **matched)
{
    switch (fn) {
    case DEF: return names_match_default(x, ref, matched);
    case SAN: return names_match_san(x, ref, matched);
    case CN: return names_match_cn(x, ref, matched);
    case IP: return names_match_ip(x, ref, matched);
    }
    return -1;
}

static void test_match_table(void **state)
{
    (void)state;
    size_t n = sizeof match_cases / sizeof match_cases[0];
    assert_true(n >= 80);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const struct match_case *c = &match_cases[i];
        X509 *x = tu_cert_make(c->ids, TU_MAX_IDS);
        char *ref = NULL;
        if (c->normalize) {
            err_rec e;
            err_clear(&e);
            ref = names_normalize(c->ref, 1, &e);
            if (!ref)
                fail_msg("case %zu (%s): cannot normalise \"%s\": %s", i, c->what, c->ref,
                         e.message);
        } else {
            ref = strdup(c->ref);
        }
        char *matched = NULL;
        int got = run_match(x, ref, c->fn, &matched);
        if (got != c->want) {
            print_error("case %zu (%s): %s match of \"%s\" gave %d, expected %d\n", i, c->what,
                        fn_names[c->fn], ref, got, c->want);
            failures++;
        } else if (c->want && (!matched || strcmp(matched, c->matched) != 0)) {
            print_error("case %zu (%s): matched \"%s\", expected \"%s\"\n", i, c->what,
                        matched ? matched : "(null)", c->matched);
            failures++;
        } else if (!c->want && matched) {
            print_error("case %zu (%s): no match but matched = \"%s\"\n", i, c->what, matched);
            failures++;
        }
        /* The matched pointer is optional. */
        if (run_match(x, ref, c->fn, NULL) != c->want) {
            print_error("case %zu (%s): result differs without a matched pointer\n", i, c->what);
            failures++;
        }
        free(matched);
        free(ref);
        X509_free(x);
    }
    if (failures)
        fail_msg("%d of %zu name-matching cases failed", failures, n);
}

/* ---- names_normalize ---------------------------------------------------- */

struct norm_case {
    const char *in;
    int allow_dot;
    const char *want;  /* NULL: an error is expected */
    const char *error; /* fragment of the error message */
};

static const struct norm_case norm_cases[] = {
    {"mx1.example.com", 0, "mx1.example.com", NULL},
    {"MX1.Example.COM", 0, "mx1.example.com", NULL},
    {"mx1.example.com.", 0, "mx1.example.com", NULL},
    {"MX1.EXAMPLE.COM.", 0, "mx1.example.com", NULL},
    {".example.com", 1, ".example.com", NULL},
    {".EXAMPLE.COM.", 1, ".example.com", NULL},
    {"münchen.example", 0, "xn--mnchen-3ya.example", NULL},
    {"MÜNCHEN.example", 0, "xn--mnchen-3ya.example", NULL},
    {"mx.münchen.example.", 0, "mx.xn--mnchen-3ya.example", NULL},
    {".münchen.example", 1, ".xn--mnchen-3ya.example", NULL},
    /* IDNA2008 (non-transitional): ß is kept, not mapped to "ss". */
    {"faß.de", 0, "xn--fa-hia.de", NULL},
    {"xn--mnchen-3ya.example", 0, "xn--mnchen-3ya.example", NULL},
    {"XN--MNCHEN-3YA.EXAMPLE", 0, "xn--mnchen-3ya.example", NULL},
    {"_dmarc.example.com", 0, "_dmarc.example.com", NULL},
    {"192.0.2.1", 0, "192.0.2.1", NULL},
    {"a-b.example.com", 0, "a-b.example.com", NULL},
    {"localhost", 0, "localhost", NULL},
    {L63 ".example.com", 0, L63 ".example.com", NULL},

    {"", 0, NULL, "empty name"},
    {"", 1, NULL, "empty name"},
    {".", 0, NULL, "empty name"},
    {".", 1, NULL, "empty name"},
    {"..", 1, NULL, "empty name"},
    {"a..b", 0, NULL, "has an empty label"},
    {"a..b", 1, NULL, "has an empty label"},
    {"mx1.example.com..", 0, NULL, "has an empty label"},
    {".example.com", 0, NULL, "has an empty label"},
    {"..example.com", 1, NULL, "has an empty label"},
    {L64 ".example.com", 0, NULL, "has a label longer than 63 characters"},
    {L60 L60 ".example.com", 0, NULL, "has a label longer than 63 characters"},
    {"." L60 L60 ".example.com", 1, NULL, "has a label longer than 63 characters"},
    /* A 300-character label makes the name too long before labels are looked at. */
    {L300 ".example.com", 0, NULL, "is longer than 253 characters"},
    {L300, 1, NULL, "is longer than 253 characters"},
    {"-mx.example.com", 0, NULL, "a label may not start or end with '-'"},
    {"mx-.example.com", 0, NULL, "a label may not start or end with '-'"},
    {"mx.example.com-", 0, NULL, "a label may not start or end with '-'"},
    {"mx.-.com", 0, NULL, "a label may not start or end with '-'"},
    {"mx example.com", 0, NULL, "contains ' ', which is not allowed in a host name"},
    {"mx@example.com", 0, NULL, "contains '@', which is not allowed in a host name"},
    {"*.example.com", 0, NULL, "contains '*', which is not allowed in a host name"},
    {"*.example.com", 1, NULL, "contains '*', which is not allowed in a host name"},
    {"f*.example.com", 0, NULL, "contains '*'"},
    {"mx1.example.com:25", 0, NULL, "contains ':'"},
    {"[mx1.example.com]", 0, NULL, "contains '['"},
    {"mx1/example.com", 0, NULL, "contains '/'"},
    {"a\xff" "b.example", 0, NULL, "is not a valid internationalised name"},
    {"a\xc3(.example", 0, NULL, "is not a valid internationalised name"},
};

static void test_normalize_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof norm_cases / sizeof norm_cases[0]; i++) {
        const struct norm_case *c = &norm_cases[i];
        err_rec e;
        err_clear(&e);
        char *got = names_normalize(c->in, c->allow_dot, &e);
        if (c->want) {
            if (!got || strcmp(got, c->want) != 0) {
                print_error("normalize case %zu \"%s\": got \"%s\" (%s), expected \"%s\"\n", i,
                            c->in, got ? got : "(null)", e.message, c->want);
                failures++;
            } else if (e.code != MXTLS_OK) {
                print_error("normalize case %zu: success left an error code %d\n", i, e.code);
                failures++;
            }
        } else {
            if (got) {
                print_error("normalize case %zu \"%s\": got \"%s\", expected an error\n", i,
                            c->in, got);
                failures++;
            } else if (e.code != MXTLS_ERR_INVALID || strcmp(e.where, "name") != 0 ||
                       !strstr(e.message, c->error)) {
                print_error("normalize case %zu \"%s\": error %d \"%s: %s\", expected "
                            "\"name: ...%s...\"\n",
                            i, c->in, e.code, e.where, e.message, c->error);
                failures++;
            }
        }
        free(got);
    }
    if (failures)
        fail_msg("%d normalisation cases failed", failures);
}

/* build a name of exactly n characters out of 50-character labels */
static char *long_name(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (i % 51 == 50) ? '.' : 'a';
    s[n] = '\0';
    if (s[n - 1] == '.')
        s[n - 1] = 'b';
    return s;
}

static void test_normalize_total_length(void **state)
{
    (void)state;
    err_rec e;
    /* 253 characters: the longest name (RFC 1035 §2.3.4 in presentation form). */
    char *s253 = long_name(253);
    err_clear(&e);
    char *n = names_normalize(s253, 0, &e);
    assert_non_null(n);
    assert_string_equal(n, s253);
    free(n);

    /* 253 characters plus the trailing dot of the absolute form is the same name. */
    char *abs = malloc(255);
    assert_non_null(abs);
    snprintf(abs, 255, "%s.", s253);
    n = names_normalize(abs, 0, &e);
    assert_non_null(n);
    assert_string_equal(n, s253);
    free(n);
    free(abs);

    /* With a leading dot the reference is 254 characters: allowed. */
    char *dot = malloc(255);
    assert_non_null(dot);
    snprintf(dot, 255, ".%s", s253);
    n = names_normalize(dot, 1, &e);
    assert_non_null(n);
    assert_string_equal(n, dot);
    free(n);
    free(dot);
    free(s253);

    char *s254 = long_name(254);
    err_clear(&e);
    assert_null(names_normalize(s254, 0, &e));
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
    assert_string_equal(e.where, "name");
    assert_non_null(strstr(e.message, "is longer than 253 characters"));
    free(s254);

    /* Far beyond any limit: refused without looking at the content. */
    char *huge = long_name(5000);
    err_clear(&e);
    assert_null(names_normalize(huge, 0, &e));
    assert_string_equal(e.message, "name is far too long");
    free(huge);

    err_clear(&e);
    assert_null(names_normalize(NULL, 0, &e));
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
    assert_string_equal(e.message, "no name given");
}

/* A U-label name whose A-label form exceeds 63 characters in one label is
 * refused after conversion (the limit applies to the wire form). */
static void test_normalize_idn_label_length(void **state)
{
    (void)state;
    err_rec e;
    err_clear(&e);
    /* 60 x 'ü' converts to far more than 63 octets of punycode. */
    char in[60 * 2 + 16];
    size_t o = 0;
    for (int i = 0; i < 60; i++) {
        in[o++] = '\xc3';
        in[o++] = '\xbc';
    }
    memcpy(in + o, ".example", 9);
    char *n = names_normalize(in, 0, &e);
    assert_null(n);
    assert_int_equal(e.code, MXTLS_ERR_INVALID);
}

/* ---- presented identities ---------------------------------------------- */

static void test_presented_escaping(void **state)
{
    (void)state;
    const tu_id ids[] = {DN("mx1.example.com\0.evil.com"), D("back\\slash.example"),
                         I("192.0.2.25"), I("2001:db8::25"), CNUL("cn\x01" "x.example"),
                         C("mx.münchen.example")};
    X509 *x = tu_cert_make(ids, 6);
    presented_ids p = {0};
    assert_int_equal(names_presented(x, &p), MXTLS_OK);
    assert_int_equal(p.dns.n, 2);
    /* Stored as UTF-8 for the reports: a NUL cannot be carried and becomes
     * U+FFFD; everything else is kept (text output escapes controls). */
    assert_string_equal(p.dns.v[0], "mx1.example.com\xef\xbf\xbd.evil.com");
    assert_string_equal(p.dns.v[1], "back\\slash.example");
    assert_int_equal(p.ip.n, 2);
    assert_string_equal(p.ip.v[0], "192.0.2.25");
    assert_string_equal(p.ip.v[1], "2001:db8::25");
    assert_int_equal(p.cn.n, 2);
    assert_string_equal(p.cn.v[0], "cn\x01x.example");
    /* Valid UTF-8 passes (docs/json.md); the terminal form escapes controls. */
    assert_string_equal(p.cn.v[1], "mx.m\xc3\xbcnchen.example");
    char *shown = text_display(p.cn.v[0]);
    assert_string_equal(shown, "cn\\x01x.example");
    free(shown);
    assert_int_equal(names_has_dns_san(x), 1);
    presented_ids_free(&p);
    X509_free(x);
}

static void test_presented_cn_only(void **state)
{
    (void)state;
    const tu_id ids[] = {C("mx1.example.com"), I("192.0.2.25")};
    X509 *x = tu_cert_make(ids, 2);
    assert_int_equal(names_has_dns_san(x), 0);
    presented_ids p = {0};
    assert_int_equal(names_presented(x, &p), MXTLS_OK);
    assert_int_equal(p.dns.n, 0);
    assert_int_equal(p.ip.n, 1);
    assert_int_equal(p.cn.n, 1);
    assert_string_equal(p.cn.v[0], "mx1.example.com");
    presented_ids_free(&p);
    X509_free(x);

    const tu_id none[] = {{0, NULL, 0}};
    x = tu_cert_make(none, 1);
    memset(&p, 0, sizeof p);
    assert_int_equal(names_presented(x, &p), MXTLS_OK);
    assert_int_equal(p.dns.n + p.ip.n + p.cn.n, 0);
    presented_ids_free(&p);
    X509_free(x);
}

/* The generated test certificates present what gen-unit-certs.sh asked for. */
static void test_presented_test_pki(void **state)
{
    (void)state;
    X509 *x = tu_load_x509("esa.crt");
    presented_ids p = {0};
    assert_int_equal(names_presented(x, &p), MXTLS_OK);
    assert_int_equal(p.dns.n, 2);
    assert_string_equal(p.dns.v[0], "*.emailhosted.not");
    assert_string_equal(p.dns.v[1], "emailhosted.not");
    assert_int_equal(p.cn.n, 1);
    assert_string_equal(p.cn.v[0], "*.emailhosted.not");
    char *m = NULL;
    assert_true(names_match_cn(x, "mx0a.emailhosted.not", &m));
    assert_string_equal(m, "*.emailhosted.not");
    free(m);
    assert_false(names_match_default(x, "mx01.subd.emailhosted.not", NULL));
    assert_true(names_match_default(x, "emailhosted.not", NULL));
    presented_ids_free(&p);
    X509_free(x);

    x = tu_load_x509("cnonly.crt");
    assert_int_equal(names_has_dns_san(x), 0);
    assert_true(names_match_default(x, "mx1.example.com", NULL));
    assert_false(names_match_san(x, "mx1.example.com", NULL));
    X509_free(x);

    x = tu_load_x509("disagree.crt");
    assert_false(names_match_default(x, "mx1.example.com", NULL));
    assert_true(names_match_default(x, "mx2.example.com", NULL));
    assert_true(names_match_cn(x, "mx1.example.com", NULL));
    assert_false(names_match_cn(x, "mx2.example.com", NULL));
    X509_free(x);

    x = tu_load_x509("ipsan.crt");
    assert_true(names_match_ip(x, "192.0.2.25", NULL));
    assert_true(names_match_ip(x, "2001:db8::25", NULL));
    assert_false(names_match_ip(x, "192.0.2.26", NULL));
    X509_free(x);
}

static void test_escape(void **state)
{
    (void)state;
    char *s = names_escape((const unsigned char *)"a\0b\x7f\\\"z", 7);
    assert_string_equal(s, "a\\x00b\\x7f\\x5c\"z");
    free(s);
    s = names_escape((const unsigned char *)"", 0);
    assert_string_equal(s, "");
    free(s);
}

static void test_to_unicode(void **state)
{
    (void)state;
    char *u = names_to_unicode("mx.xn--mnchen-3ya.example");
    assert_non_null(u);
    assert_string_equal(u, "mx.münchen.example");
    free(u);
    assert_null(names_to_unicode("mx1.example.com"));
    assert_null(names_to_unicode(NULL));
}

/* names_sni - the one SNI name check (CLI, engine options, probe) */
static void test_sni(void **state)
{
    (void)state;
    err_rec e;
    err_clear(&e);
    char *n = names_sni("MX1.Example.COM.", &e);
    assert_non_null(n);
    assert_string_equal(n, "mx1.example.com");
    free(n);
    static const char *const addresses[] = {"192.0.2.1", "192.0.2.1."};
    for (size_t i = 0; i < sizeof addresses / sizeof addresses[0]; i++) {
        err_clear(&e);
        assert_null(names_sni(addresses[i], &e));
        assert_int_equal(e.code, MXTLS_ERR_INVALID);
        assert_non_null(strstr(e.message, "is an address: SNI carries host names only"));
    }
    static const char *const bad[] = {"", ".", "2001:db8::1", "bad name", "a..b", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        assert_null(names_sni(bad[i], &e));
        assert_int_equal(e.code, MXTLS_ERR_INVALID);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_normalize_table),
        cmocka_unit_test(test_normalize_total_length),
        cmocka_unit_test(test_normalize_idn_label_length),
        cmocka_unit_test(test_presented_escaping),
        cmocka_unit_test(test_presented_cn_only),
        cmocka_unit_test(test_presented_test_pki),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_to_unicode),
        cmocka_unit_test(test_sni),
    };
    return cmocka_run_group_tests(tests, NULL, tu_group_teardown);
}
