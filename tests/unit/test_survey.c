/* test_survey.c - survey figures (src/report/survey.c) from real check
 * reports: tests/data/report/world.jsonl, 13 lines of `mxtls check --json`
 * on world domains (tests/data/report/regen.sh), plus hand-made hostile and
 * malformed lines */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "report/survey.h"
#include "core/utctime.h"
#include "report/jsonw.h"
#include "report/survey_impl.h"
#include "testutil.h"

/* The fixture's times: made at 2026-12-05T19:25Z; expiring.test's leaf ends
 * 2026-12-25T19:25:15Z (20 days after the world's up), expired.test's
 * 2025-12-05T19:25:13Z, the others' 2027-12-05T19:25:13Z. */
#define FIXTURE_NOW "2026-12-05T20:00:00Z"

static char *fixture_text(size_t *len)
{
    char path[4096];
    const char *src = getenv("MXTLS_SOURCE_DIR");
    assert_non_null(src);
    snprintf(path, sizeof path, "%s/tests/data/report/world.jsonl", src);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static time_t t_of(const char *s)
{
    time_t t;
    assert_int_equal(utctime_parse(s, 0, &t), 0);
    return t;
}

/* fixture_survey - every line of the fixture added */
static survey *fixture_survey(void)
{
    size_t len;
    char *text = fixture_text(&len), err[256];
    survey *s = survey_new();
    assert_non_null(s);
    survey_set_now(s, t_of(FIXTURE_NOW));
    size_t lines = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (survey_add_json(s, p, n, err, sizeof err) != 0)
            fail_msg("line %zu: %s", lines + 1, err);
        lines++;
        p += n + (nl ? 1 : 0);
    }
    assert_int_equal(lines, 13);
    free(text);
    return s;
}

static const survey_level *level_of(const survey *s, const char *name)
{
    for (size_t i = 0; i < s->nlevels; i++)
        if (!strcmp(s->levels[i].name, name))
            return &s->levels[i];
    fail_msg("no level %s", name);
    return NULL;
}

static void test_fixture_figures(void **state)
{
    (void)state;
    survey *s = fixture_survey();
    assert_int_equal(s->domains, 13);
    assert_int_equal(s->errors, 0);
    assert_int_equal(survey_counter_get(&s->verdicts, "pass"), 9);
    assert_int_equal(survey_counter_get(&s->verdicts, "fail"), 2);     /* nullmx, dane-mismatch */
    assert_int_equal(survey_counter_get(&s->verdicts, "tempfail"), 2); /* banner-421, bogus */
    assert_int_equal(survey_counter_get(&s->mx_security, "secure"), 11);
    assert_int_equal(survey_counter_get(&s->mx_security, "insecure"), 1);
    assert_int_equal(survey_counter_get(&s->mx_security, "bogus"), 1);
    assert_int_equal(survey_counter_get(&s->mx_outcome, "servfail"), 1);
    assert_int_equal(survey_counter_get(&s->mx_outcome, "nodata"), 1); /* implicit.test */
    assert_int_equal(s->null_mx, 1);
    assert_int_equal(s->implicit_mx, 1);
    assert_int_equal(survey_counter_get(&s->starttls, "all"), 9);
    assert_int_equal(survey_counter_get(&s->starttls, "none"), 2);       /* plain, banner-421 */
    assert_int_equal(survey_counter_get(&s->starttls, "no-address"), 2); /* nullmx, bogus */
    assert_int_equal(survey_counter_get(&s->starttls, "some"), 0);
    assert_int_equal(s->addresses, 11);
    assert_int_equal(s->addr_reachable, 11);
    assert_int_equal(s->addr_starttls, 9);
    assert_int_equal(s->addr_tls, 9);
    assert_int_equal(survey_counter_get(&s->tls_versions, "TLSv1.3"), 9);
    assert_int_equal(s->tls_versions.n, 1);
    const survey_level *v = level_of(s, "verify");
    assert_int_equal(v->pass, 8);
    assert_int_equal(v->fail, 3); /* expired, plain (no STARTTLS), nullmx */
    assert_int_equal(v->tempfail, 2);
    assert_int_equal(survey_counter_get(&v->reasons, "expired"), 1);
    assert_int_equal(survey_counter_get(&v->reasons, "no-starttls"), 1);
    const survey_level *d = level_of(s, "dane");
    assert_int_equal(d->pass, 9);
    assert_int_equal(d->fail, 2);
    assert_int_equal(survey_counter_get(&d->reasons, "tlsa-mismatch"), 1);
    const survey_level *m = level_of(s, "mta-sts");
    assert_int_equal(m->pass, 9);
    assert_int_equal(m->fail, 2);
    const survey_level *r = level_of(s, "requiretls");
    assert_int_equal(r->pass, 1); /* requiretls.test */
    assert_int_equal(r->fail, 10);
    assert_int_equal(r->tempfail, 2);
    assert_int_equal(s->nlevels, 15);
    assert_int_equal(survey_counter_get(&s->reasons, "null-mx"), 1);
    assert_int_equal(survey_counter_get(&s->reasons, "tlsa-mismatch"), 1);
    assert_int_equal(survey_counter_get(&s->reasons, "banner-rejected"), 1);
    assert_int_equal(survey_counter_get(&s->reasons, "dns-bogus"), 1);
    assert_int_equal(s->reasons.n, 4);
    /* certificates */
    assert_int_equal(s->certs_expiring, 1);
    assert_int_equal(s->certs_expired, 1);
    assert_int_equal(s->nexpiring, 2);
    assert_string_equal(s->expiring[0].domain, "expiring.test");
    assert_string_equal(s->expiring[0].ip, "127.0.7.1");
    assert_int_equal(s->expiring[0].days, 19);
    assert_string_equal(s->expiring[1].domain, "expired.test");
    assert_int_equal(s->expiring[1].days, -366);
    /* worst: headline fail first, then tempfail, by levels not passing, then
     * name; requiretls.test, whose only level not passing is fingerprint
     * without fingerprints to match, is not among them */
    assert_int_equal(s->nworst, 12);
    for (size_t i = 0; i < s->nworst; i++)
        assert_string_not_equal(s->worst[i].domain, "requiretls.test");
    assert_string_equal(s->worst[0].domain, "nullmx.test");
    assert_string_equal(s->worst[1].domain, "dane-mismatch.test");
    assert_string_equal(s->worst[2].domain, "banner-421.test");
    assert_string_equal(s->worst[3].domain, "bogus-expired.test");
    assert_string_equal(s->worst[1].code, "tlsa-mismatch");
    assert_true(s->worst[1].advice.n >= 1);
    survey_free(s);
}

static void test_fixture_window(void **state)
{
    (void)state;
    /* A window of 19 days leaves expiring.test's 19 days 23 h out. */
    survey *s = survey_new();
    survey_set_now(s, t_of(FIXTURE_NOW));
    survey_set_expiry_days(s, 19);
    size_t len;
    char *text = fixture_text(&len), err[256];
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        assert_int_equal(survey_add_json(s, p, n, err, sizeof err), 0);
        p += n + (nl ? 1 : 0);
    }
    free(text);
    assert_int_equal(s->certs_expiring, 0);
    assert_int_equal(s->certs_expired, 1);
    survey_free(s);
}

static void test_fixture_json(void **state)
{
    (void)state;
    survey *s = fixture_survey();
    char *doc = survey_stats_json(s);
    assert_non_null(doc);
    json_error_t je;
    json_t *o = json_loads(doc, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "domains")), 13);
    assert_string_equal(json_string_value(json_object_get(o, "now")), FIXTURE_NOW);
    json_t *v = json_object_get(o, "verdicts");
    assert_int_equal(json_integer_value(json_object_get(v, "pass")), 9);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "mx"), "dnssec_secure")), 11);
    json_t *l0 = json_array_get(json_object_get(o, "levels"), 0);
    assert_string_equal(json_string_value(json_object_get(l0, "level")), "verify");
    assert_int_equal(json_integer_value(json_object_get(l0, "fail")), 3);
    json_t *l3 = json_array_get(json_object_get(o, "levels"), 3);
    assert_string_equal(json_string_value(json_object_get(l3, "level")), "requiretls");
    json_t *c = json_object_get(o, "certificates");
    assert_int_equal(json_integer_value(json_object_get(c, "expiring")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(c, "listed"), 0), "days")), 19);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(o, "worst"), 0), "domain")), "nullmx.test");
    json_decref(o);
    free(doc);
    survey_free(s);
}

static void test_fixture_text(void **state)
{
    (void)state;
    survey *s = fixture_survey();
    char *t = survey_stats_text(s);
    assert_non_null(t);
    assert_non_null(strstr(t, "domains: 13 checked, 0 input errors, 0 lines rejected\n"));
    assert_non_null(strstr(t, "verdicts: pass 9 (69.2%), fail 2 (15.4%), tempfail 2 (15.4%)\n"));
    assert_non_null(strstr(t, "DNSSEC: MX secure for 11 domains (84.6%)"));
    assert_non_null(strstr(t, "STARTTLS (domains): on every server 9 (69.2%), some 0, none 2, "
                              "unreachable 0, no address 2\n"));
    assert_non_null(strstr(t, "TLS versions (addresses): TLSv1.3 9 (100.0%)\n"));
    assert_non_null(strstr(t, "  verify                              8        3        2   61.5%\n"));
    assert_non_null(strstr(t, "certificates: 1 expiring within 30 days of " FIXTURE_NOW
                              ", 1 expired\n"));
    assert_non_null(strstr(t, "  expiring.test mx.expiring.test [127.0.7.1] not after "
                              "2026-12-25T19:25:15Z (19 days)\n"));
    free(t);
    survey_free(s);
}

/* bad lines: each rejected with its reason, the survey unchanged */
static void test_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *line, *err;
    } cases[] = {
        {"garbage", "not JSON: '[' or '{' expected near 'garbage' (column 7)"},
        {"[1,2]", "not a JSON object"},
        {"{\"schema_version\":2,\"domain\":\"a.test\"}", "not a check object: 'schema_version' is not 1"},
        {"{\"schema_version\":1}", "not a check object: 'domain' is missing or not a string"},
        {"{\"schema_version\":1,\"domain\":\"a\",\"verdict\":\"maybe\"}",
         "not a check object: 'verdict' is not pass, fail or tempfail"},
        {"{\"schema_version\":1,\"domain\":\"a\",\"verdict\":\"pass\",\"mx\":{},\"addresses\":[],"
         "\"matrix\":{\"may\":{\"verdict\":1}}}",
         "not a check object: a 'matrix' entry has no verdict pass, fail or tempfail (level 'may')"},
        {"{\"schema_version\":1,\"domain\":\"a\",\"domain\":\"b\"}",
         "not JSON: duplicate object key near '\"domain\"' (column 41)"},
        {"{\"error\":42}", "'error' is neither a string nor an object with a message"},
    };
    survey *s = survey_new();
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(survey_add_json(s, cases[i].line, strlen(cases[i].line), err, sizeof err), -1);
        assert_string_equal(err, cases[i].err);
    }
    assert_int_equal(s->domains, 0);
    assert_int_equal(s->errors, 0);
    /* an input error line of mxtls scan */
    const char *el = "{\"domain\":\"bad..test\",\"error\":{\"message\":\"empty label\"}}";
    assert_int_equal(survey_add_json(s, el, strlen(el), err, sizeof err), 0);
    const char *el2 = "{\"input\":\"x y\",\"error\":\"not a domain\"}";
    assert_int_equal(survey_add_json(s, el2, strlen(el2), err, sizeof err), 0);
    survey_note_rejected(s, 7, "not JSON");
    assert_int_equal(s->errors, 2);
    assert_int_equal(s->rejected, 1);
    assert_int_equal(s->nerrlist, 3);
    assert_string_equal(s->errlist[0].input, "bad..test");
    assert_string_equal(s->errlist[1].message, "not a domain");
    assert_int_equal(s->errlist[2].lineno, 7);
    char *t = survey_stats_text(s);
    assert_non_null(strstr(t, "  bad..test: empty label\n  x y: not a domain\n  line 7: not JSON\n"));
    free(t);
    survey_free(s);
}

/* a minimal check object with the given domain, verdict and matrix */
static char *mini(const char *domain, const char *verdict, const char *matrix, const char *extra)
{
    char *b = malloc(8192);
    snprintf(b, 8192,
             "{\"schema_version\":1,\"domain\":\"%s\",\"verdict\":\"%s\",\"effective_level\":\"may\","
             "\"reason\":{\"code\":\"c-%s\",\"message\":\"m\",\"via\":null},\"mx\":{},"
             "\"addresses\":[],\"matrix\":{%s}%s}",
             domain, verdict, verdict, matrix, extra ? extra : "");
    return b;
}

/* STARTTLS per domain over its connected addresses */
static void test_starttls_classes(void **state)
{
    (void)state;
    static const char *const addrs[] = {
        /* all: one offers, the other is unreachable (not counted) */
        "[{\"probe\":{\"connected\":true,\"starttls\":{\"offered\":true}}},{\"probe\":{\"connected\":false}}]",
        /* some */
        "[{\"probe\":{\"connected\":true,\"starttls\":{\"offered\":true}}},{\"probe\":{\"connected\":true,\"starttls\":{\"offered\":false}}}]",
        /* none */
        "[{\"probe\":{\"connected\":true,\"starttls\":{\"offered\":false}}}]",
        /* unreachable */
        "[{\"probe\":null},{\"probe\":{\"connected\":false}}]",
        /* no address */
        "[]",
        /* all: implicit TLS */
        "[{\"probe\":{\"connected\":true,\"implicit_tls\":true}}]",
    };
    survey *s = survey_new();
    char err[256], extra[1024];
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        char dom[32];
        snprintf(dom, sizeof dom, "s%zu.test", i);
        snprintf(extra, sizeof extra, ",\"addresses\":%s", addrs[i]);
        char *line = mini(dom, "pass", "", NULL);
        /* replace the empty address list of mini() */
        char *at = strstr(line, "\"addresses\":[]");
        assert_non_null(at);
        char buf[8192];
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - line - 1), line, extra,
                 at + strlen("\"addresses\":[]"));
        free(line);
        if (survey_add_json(s, buf, strlen(buf), err, sizeof err) != 0)
            fail_msg("%s: %s", buf, err);
    }
    assert_int_equal(survey_counter_get(&s->starttls, "all"), 2);
    assert_int_equal(survey_counter_get(&s->starttls, "some"), 1);
    assert_int_equal(survey_counter_get(&s->starttls, "none"), 1);
    assert_int_equal(survey_counter_get(&s->starttls, "unreachable"), 1);
    assert_int_equal(survey_counter_get(&s->starttls, "no-address"), 1);
    assert_int_equal(s->addresses, 8);
    assert_int_equal(s->addr_reachable, 5);
    assert_int_equal(s->addr_starttls, 3);
    survey_free(s);
}

/* Counters stop at SURVEY_MAX_KEYS keys: the rest is "(other)". */
static void test_caps(void **state)
{
    (void)state;
    survey *s = survey_new();
    char err[256], matrix[8192] = "";
    size_t o = 0;
    for (int i = 0; i < SURVEY_MAX_KEYS + 6; i++)
        o += (size_t)snprintf(matrix + o, sizeof matrix - o, "%s\"lv%d\":{\"verdict\":\"fail\",\"code\":\"r%d\"}",
                              i ? "," : "", i, i);
    char *line = mini("caps.test", "fail", matrix, NULL);
    assert_int_equal(survey_add_json(s, line, strlen(line), err, sizeof err), 0);
    free(line);
    assert_int_equal(s->nlevels, SURVEY_MAX_KEYS + 1);
    assert_string_equal(s->levels[SURVEY_MAX_KEYS].name, SURVEY_OTHER);
    assert_int_equal(s->levels[SURVEY_MAX_KEYS].fail, 6);
    /* worst: capped, best kept, ordered */
    for (int i = 0; i < SURVEY_MAX_WORST + 50; i++) {
        char dom[64];
        snprintf(dom, sizeof dom, "d%03d.test", i);
        line = mini(dom, i % 2 ? "tempfail" : "pass", "\"may\":{\"verdict\":\"fail\",\"code\":\"x\"}", NULL);
        assert_int_equal(survey_add_json(s, line, strlen(line), err, sizeof err), 0);
        free(line);
    }
    assert_int_equal(s->nworst, SURVEY_MAX_WORST);
    assert_string_equal(s->worst[0].domain, "caps.test"); /* fail, 70 levels failing */
    assert_string_equal(s->worst[1].domain, "d001.test"); /* tempfail, by name */
    assert_string_equal(s->worst[2].domain, "d003.test");
    assert_int_equal(s->worst[1].score, 502);
    /* 125 tempfail domains, then the pass ones by name */
    assert_string_equal(s->worst[125].domain, "d249.test");
    assert_string_equal(s->worst[126].domain, "d000.test");
    assert_string_equal(s->worst[SURVEY_MAX_WORST - 1].domain, "d146.test");
    assert_int_equal(s->not_all_pass, SURVEY_MAX_WORST + 51);
    survey_free(s);
}

/* Hostile strings: the text shows control characters escaped, the JSON is
 * valid, the HTML carries no markup from the data. */
static void test_hostile(void **state)
{
    (void)state;
    survey *s = survey_new();
    survey_set_now(s, t_of("2026-01-01T00:00:00Z"));
    char err[256];
    const char *line =
        "{\"schema_version\":1,\"domain\":\"<script>alert(1)</script>.test\",\"verdict\":\"fail\","
        "\"effective_level\":\"verify\\u001b[31m\",\"reason\":{\"code\":\"x\\\"><img src=x onerror=alert(2)>\","
        "\"message\":\"</td></tr></table><script>alert(3)</script>\"},\"mx\":{\"security\":\"secure\"},"
        "\"advice\":[\"<a href='javascript:alert(4)'>fix</a>\"],"
        "\"addresses\":[{\"host\":\"h<b>\",\"ip\":\"1\",\"probe\":{\"connected\":true,\"starttls\":"
        "{\"offered\":true},\"tls\":{\"ok\":true,\"version\":\"<svg onload=alert(5)>\",\"chain\":[{"
        "\"subject\":\"CN=<iframe>\",\"not_after\":\"2026-01-02T00:00:00Z\"}]}}}],"
        "\"matrix\":{\"<style>*{x}</style>\":{\"verdict\":\"fail\",\"code\":\"&amp;\"}}}";
    assert_int_equal(survey_add_json(s, line, strlen(line), err, sizeof err), 0);
    assert_int_equal(s->certs_expiring, 1);
    char *t = survey_stats_text(s);
    assert_non_null(t);
    assert_non_null(strstr(t, "at verify\\x1b[31m ("));
    assert_null(strchr(t, 0x1b));
    free(t);
    char *j = survey_stats_json(s);
    json_error_t je;
    json_t *o = json_loads(j, 0, &je);
    assert_non_null(o);
    json_decref(o);
    free(j);
    char *h = survey_stats_html(s);
    assert_non_null(h);
    assert_null(strstr(h, "<script>alert"));
    assert_null(strstr(h, "<img"));
    assert_null(strstr(h, "<a href"));
    assert_null(strstr(h, "<svg onload"));
    assert_null(strstr(h, "<iframe"));
    assert_null(strstr(h, "<style>*"));
    assert_null(strstr(h, "<b>"));
    assert_non_null(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;.test"));
    assert_non_null(strstr(h, "x&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert_non_null(strstr(h, "&amp;amp;"));
    assert_non_null(strstr(h, "verify\xef\xbf\xbd[31m"));
    /* exactly one script element, the page's own */
    const char *p = strstr(h, "<script");
    assert_non_null(p);
    assert_null(strstr(p + 1, "<script"));
    free(h);
    survey_free(s);
}

/* check_json - c's line as the check report's JSON writer puts it (the keys
 * the survey reads, written with jsonw.c) */
static char *check_json(const survey_check *c)
{
    jsonw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "schema_version", 1);
    jw_kstr(&w, "domain", c->domain);
    jw_kstr(&w, "effective_level", c->effective_level);
    jw_kstr(&w, "verdict", c->verdict);
    jw_key(&w, "reason");
    jw_obj(&w);
    jw_kstr(&w, "code", c->reason_code);
    jw_kstr(&w, "message", c->reason_message);
    jw_end_obj(&w);
    jw_key(&w, "mx");
    jw_obj(&w);
    jw_kbool(&w, "routed", c->mx_routed);
    if (!c->mx_routed) {
        jw_kstr(&w, "outcome", c->mx_outcome);
        jw_kstr(&w, "security", c->mx_security);
    }
    jw_kbool(&w, "null_mx", c->null_mx);
    jw_kbool(&w, "implicit_mx", c->implicit_mx);
    jw_end_obj(&w);
    jw_key(&w, "addresses");
    jw_arr(&w);
    for (size_t i = 0; i < c->naddrs; i++) {
        const survey_addr *a = &c->addrs[i];
        jw_obj(&w);
        jw_kstr(&w, "host", a->host);
        jw_kstr(&w, "ip", a->ip);
        jw_key(&w, "probe");
        jw_obj(&w);
        jw_kbool(&w, "connected", a->connected);
        jw_kbool(&w, "implicit_tls", 0);
        jw_key(&w, "starttls");
        jw_obj(&w);
        jw_kbool(&w, "offered", a->starttls);
        jw_end_obj(&w);
        jw_key(&w, "tls");
        if (a->tls) {
            jw_obj(&w);
            jw_kbool(&w, "ok", a->tls_ok);
            jw_kstr(&w, "version", a->tls_version);
            jw_key(&w, "chain");
            jw_arr(&w);
            if (a->leaf) {
                jw_obj(&w);
                jw_kstr(&w, "subject", a->leaf_subject);
                jw_kstr(&w, "not_after", a->leaf_not_after);
                jw_end_obj(&w);
            }
            jw_end_arr(&w);
            jw_end_obj(&w);
        } else {
            jw_null(&w);
        }
        jw_end_obj(&w);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_key(&w, "matrix");
    jw_obj(&w);
    for (size_t i = 0; i < c->nmatrix; i++) {
        jw_key(&w, c->matrix[i].level);
        jw_obj(&w);
        jw_kstr(&w, "verdict", c->matrix[i].verdict);
        jw_kstr(&w, "code", c->matrix[i].code);
        jw_end_obj(&w);
    }
    jw_end_obj(&w);
    jw_key(&w, "advice");
    jw_arr(&w);
    for (size_t i = 0; i < c->nadvice; i++)
        jw_str(&w, c->advice[i]);
    jw_end_arr(&w);
    jw_end_obj(&w);
    char *doc = jw_finish(&w);
    assert_non_null(doc);
    return doc;
}

/* A check handed over as a survey_check (mxtls scan) counts exactly as its
 * JSON line does (mxtls report): the same figures, byte for byte, including
 * strings that are not UTF-8 (U+FFFD, as JSON carries them), strings over
 * SURVEY_MAX_STRING, advice beyond SURVEY_MAX_ADVICE, expiring leaves,
 * routed and unreachable domains. */
static void test_line_of_check(void **state)
{
    (void)state;
    static char longmsg[SURVEY_MAX_STRING + 200];
    memset(longmsg, 'x', sizeof longmsg - 1);
    memcpy(longmsg + SURVEY_MAX_STRING - 1, "\xc3\xa9", 2); /* cut inside: kept whole or not at all */
    static const survey_addr a1[] = {
        {"mx1.a.test", "192.0.2.1", 1, 1, 1, 1, "TLSv1.3", 1, "CN=mx1.a.test", "2026-12-15T00:00:00Z"},
        {"mx2.a.test", "192.0.2.2", 1, 1, 1, 0, NULL, 1, "CN=bad\xff name", "2025-01-01T00:00:00Z"},
    };
    static const survey_addr a2[] = {
        {"mx.b.test", "192.0.2.3", 1, 0, 0, 0, NULL, 0, NULL, NULL},
        {"mx.b.test", "2001:db8::3", 0, 0, 0, 0, NULL, 0, NULL, NULL},
    };
    static const survey_matrix_entry m1[] = {
        {"verify", "pass", NULL}, {"dane", "fail", "no-tlsa"}, {"mta-sts", "pass", NULL}};
    static const survey_matrix_entry m2[] = {{"verify", "fail", "no-starttls"},
                                             {"fingerprint", "fail", "no-fingerprints"},
                                             {"may", "tempfail", "timeout"},
                                             {"esa-preferred", "pass", NULL}};
    static const char *const adv[] = {"one", "two \xff\xfe", "three", "four", "five",
                                      "six", "seven", "eight", "nine", "ten"};
    const survey_check checks[] = {
        {"a.test", "pass", "verify", NULL, NULL, 0, 0, 0, "secure", "data", 2, a1, 3, m1, 1,
         adv},
        {"b.test", "fail", "verify", "no-starttls", "the server said \xc0\xaf no", 0, 0, 1,
         "insecure", "nodata", 2, a2, 4, m2, 10, adv},
        {"c.test", "tempfail", "may", "timeout", longmsg, 1, 0, 0, NULL, NULL, 0, NULL, 4, m2,
         0, NULL},
    };
    survey *direct = survey_new(), *parsed = survey_new();
    assert_non_null(direct);
    assert_non_null(parsed);
    survey_set_now(direct, t_of(FIXTURE_NOW));
    survey_set_now(parsed, t_of(FIXTURE_NOW));
    char err[256];
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        survey_line *l = survey_line_of_check(&checks[i]);
        assert_non_null(l);
        if (survey_add_line(direct, l, err, sizeof err) != 0)
            fail_msg("%s as a survey_check: %s", checks[i].domain, err);
        char *line = check_json(&checks[i]);
        if (survey_add_json(parsed, line, strlen(line), err, sizeof err) != 0)
            fail_msg("%s as JSON: %s", checks[i].domain, err);
        free(line);
    }
    char *jd = survey_stats_json(direct), *jp = survey_stats_json(parsed);
    assert_non_null(jd);
    assert_non_null(jp);
    assert_string_equal(jd, jp);
    char *td = survey_stats_text(direct), *tp = survey_stats_text(parsed);
    assert_string_equal(td, tp);
    /* and the figures are the ones meant */
    assert_int_equal(direct->domains, 3);
    assert_int_equal(direct->certs_expiring, 1);
    assert_int_equal(direct->certs_expired, 1);
    assert_int_equal(direct->nworst, 3); /* a.test fails dane: score 2 */
    assert_string_equal(direct->worst[0].domain, "b.test");
    assert_string_equal(direct->worst[0].message, "the server said \xef\xbf\xbd\xef\xbf\xbd no");
    assert_int_equal(direct->worst[0].advice.n, SURVEY_MAX_ADVICE);
    assert_string_equal(direct->worst[0].advice.v[1], "two \xef\xbf\xbd\xef\xbf\xbd");
    assert_int_equal(strlen(direct->worst[1].message), SURVEY_MAX_STRING - 1);
    assert_string_equal(direct->expiring[1].subject, "CN=bad\xef\xbf\xbd name");
    free(jd);
    free(jp);
    free(td);
    free(tp);
    survey_free(direct);
    survey_free(parsed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_figures), cmocka_unit_test(test_fixture_window),
        cmocka_unit_test(test_fixture_json),    cmocka_unit_test(test_fixture_text),
        cmocka_unit_test(test_rejects),         cmocka_unit_test(test_caps),
        cmocka_unit_test(test_starttls_classes),
        cmocka_unit_test(test_hostile),         cmocka_unit_test(test_line_of_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
