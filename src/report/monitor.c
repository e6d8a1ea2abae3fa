/* monitor.c - a check report as a monitoring plugin's result (monitor.h) */
#include "report/monitor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/base.h"
#include "core/utctime.h"

#define MONITOR_MAX_ITEMS 64
#define MONITOR_OUT_MAX (64u * 1024u)

typedef struct monitor_item {
    monitor_state state;
    char text[512];
} monitor_item;

typedef struct monitor_run {
    monitor_item items[MONITOR_MAX_ITEMS];
    size_t n, dropped;
    strbuf perf;
    long min_days;   /* fewest days left of any certificate; -1: none seen */
    size_t certs;
} monitor_run;

const char *monitor_state_name(monitor_state s)
{
    switch (s) {
    case MONITOR_OK: return "OK";
    case MONITOR_WARNING: return "WARNING";
    case MONITOR_CRITICAL: return "CRITICAL";
    case MONITOR_UNKNOWN: return "UNKNOWN";
    }
    return "UNKNOWN";
}

/* mon_clean - s fit for the status line: no line breaks, no '|' (it starts
 * the performance data), no control characters */
static void mon_clean(char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '|')
            *s = '/';
        else if (c < 0x20 || c == 0x7f)
            *s = '?';
    }
}

static void mon_add(monitor_run *r, monitor_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void mon_add(monitor_run *r, monitor_state st, const char *fmt, ...)
{
    if (r->n >= MONITOR_MAX_ITEMS) {
        r->dropped++;
        return;
    }
    monitor_item *it = &r->items[r->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->text, sizeof it->text, fmt, ap);
    va_end(ap);
    mon_clean(it->text);
    it->state = st;
}

/* mon_perf_label - a quoted performance data label: the guidelines forbid
 * "=" and "'" in labels; anything else unusual becomes "_" too */
static void mon_perf_label(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mon_perf_label(strbuf *b, const char *fmt, ...)
{
    char raw[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    for (char *p = raw; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '=' || ch == '\'' || ch == '|' || ch < 0x21 || ch >= 0x7f)
            *p = '_';
    }
    sb_printf(b, "%s'%s'", b->len ? " " : "", raw);
}

static const char *j_str(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* mon_days - whole days from now to t, rounded down */
static long mon_days(time_t t, time_t now)
{
    double secs = difftime(t, now);
    long d = (long)(secs / 86400.0);
    if (secs < 0 && (double)d * 86400.0 != secs)
        d--;
    return d;
}

/* mon_cert - one certificate's days left against the thresholds */
static void mon_cert(monitor_run *r, const monitor_config *cfg, const char *what,
                     const char *not_after, long days)
{
    monitor_state st = days < cfg->crit_days ? MONITOR_CRITICAL
                       : days < cfg->warn_days ? MONITOR_WARNING
                                               : MONITOR_OK;
    if (r->min_days < 0 || days < r->min_days)
        r->min_days = days;
    r->certs++;
    if (st == MONITOR_OK)
        return;
    if (days < 0)
        mon_add(r, st, "certificate of %s expired %ld days ago (%s)", what, -days, not_after);
    else
        mon_add(r, st, "certificate of %s expires in %ld days (%s)", what, days, not_after);
}

/* mon_leaf_days - days left of the leaf of a probe object; 0 when there is
 * none (*days set otherwise) */
static int mon_leaf(const json_t *probe, const monitor_config *cfg, long *days,
                    const char **not_after, const char **sha)
{
    json_t *tls = json_object_get(probe, "tls");
    json_t *leaf = json_array_get(json_object_get(tls, "chain"), 0);
    time_t t;
    if (!json_is_object(leaf) || utctime_parse(j_str(leaf, "not_after"), 0, &t) != 0)
        return 0;
    *days = mon_days(t, cfg->now);
    *not_after = j_str(leaf, "not_after");
    *sha = j_str(leaf, "sha256");
    return 1;
}

/* mon_addresses - every address's leaf: from its first connection, and from
 * the other connections (another SNI may show another certificate) */
static void mon_addresses(monitor_run *r, const monitor_config *cfg, const json_t *doc)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "addresses"), i, a) {
        const char *host = j_str(a, "host"), *ip = j_str(a, "ip");
        char what[600];
        snprintf(what, sizeof what, "%s [%s]", host ? host : "?", ip ? ip : "?");
        long days, low = 0;
        const char *na, *sha;
        const char *seen[8];
        size_t nseen = 0;
        int any = 0;
        if (mon_leaf(json_object_get(a, "probe"), cfg, &days, &na, &sha)) {
            mon_cert(r, cfg, what, na, days);
            low = days;
            any = 1;
            if (sha)
                seen[nseen++] = sha;
        }
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(a, "probes"), k, p) {
            if (!mon_leaf(json_object_get(p, "probe"), cfg, &days, &na, &sha))
                continue;
            int dup = 0;
            for (size_t s = 0; s < nseen && sha; s++)
                dup |= !strcmp(seen[s], sha);
            if (dup)
                continue;
            if (sha && nseen < sizeof seen / sizeof seen[0])
                seen[nseen++] = sha;
            const char *sni = j_str(p, "sni");
            char w2[700];
            snprintf(w2, sizeof w2, "%s (SNI %s)", what, sni ? sni : "none");
            mon_cert(r, cfg, w2, na, days);
            if (!any || days < low)
                low = days;
            any = 1;
        }
        if (any) {
            mon_perf_label(&r->perf, "cert_days_%s[%s]", host ? host : "?", ip ? ip : "?");
            sb_printf(&r->perf, "=%ld;%ld:;%ld:", low, cfg->warn_days, cfg->crit_days);
        }
    }
}

/* mon_curl_date - "Expire date:Dec  5 19:17:26 2027 GMT" (libcurl's
 * certificate info, as fetch.certificate carries it) */
static int mon_curl_date(const char *cert, time_t *out, char *iso, size_t isolen)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *p = cert ? strstr(cert, "Expire date:") : NULL;
    char mon[4];
    int d, h, mi, s, y, n = 0;
    if (!p || sscanf(p + 12, "%3s %d %d:%d:%d %d GMT%n", mon, &d, &h, &mi, &s, &y, &n) != 6 ||
        n == 0)
        return -1;
    const char *m = strstr(months, mon);
    if (strlen(mon) != 3 || !m || (m - months) % 3)
        return -1;
    snprintf(iso, isolen, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, (int)((m - months) / 3) + 1, d, h,
             mi, s);
    return utctime_parse(iso, 0, out);
}

/* mon_sts - MTA-STS: the policy host's certificate, a policy that cannot
 * be refreshed */
static void mon_sts(monitor_run *r, const monitor_config *cfg, const json_t *doc)
{
    json_t *sts = json_object_get(doc, "mta_sts");
    if (!json_is_object(sts))
        return;
    json_t *txt = json_object_get(sts, "txt"), *fetch = json_object_get(sts, "fetch"),
           *pol = json_object_get(sts, "policy");
    const char *domain = j_str(doc, "domain");
    json_t *maxage = json_object_get(pol, "max_age");
    if (json_is_true(json_object_get(txt, "valid")) && json_is_true(json_object_get(fetch, "tried")) &&
        !json_is_true(json_object_get(fetch, "ok"))) {
        const char *err = j_str(fetch, "error");
        if (json_is_integer(maxage))
            mon_add(r, MONITOR_WARNING,
                    "the MTA-STS policy could not be fetched (%s): senders' cached copies expire "
                    "within max_age %lld s",
                    err ? err : "no valid policy", (long long)json_integer_value(maxage));
        else
            mon_add(r, MONITOR_WARNING,
                    "the MTA-STS policy could not be fetched (%s): senders' cached copies expire "
                    "and MTA-STS then lapses",
                    err ? err : "no valid policy");
    }
    time_t t;
    char iso[32];
    if (mon_curl_date(j_str(fetch, "certificate"), &t, iso, sizeof iso) == 0) {
        long days = mon_days(t, cfg->now);
        char what[300];
        snprintf(what, sizeof what, "mta-sts.%s (the policy host)", domain ? domain : "?");
        mon_cert(r, cfg, what, iso, days);
        mon_perf_label(&r->perf, "sts_cert_days");
        sb_printf(&r->perf, "=%ld;%ld:;%ld:", days, cfg->warn_days, cfg->crit_days);
    }
    if (json_is_integer(maxage)) {
        mon_perf_label(&r->perf, "sts_max_age");
        sb_printf(&r->perf, "=%llds;;;0", (long long)json_integer_value(maxage));
    }
}

static char *mon_finish(monitor_state st, const char *domain, const char *text, strbuf *perf)
{
    strbuf b;
    sb_init(&b, MONITOR_OUT_MAX);
    char t[MONITOR_MAX_LINE];
    snprintf(t, sizeof t, "%s", text);
    mon_clean(t);
    char d[300];
    snprintf(d, sizeof d, "%s", domain ? domain : "");
    mon_clean(d);
    sb_printf(&b, "MXTLS %s - %s%s%s", monitor_state_name(st), d, d[0] ? ": " : "", t);
    if (perf && perf->len)
        sb_printf(&b, " | %s", perf->s);
    sb_puts(&b, "\n");
    return b.s ? sb_take(&b) : NULL;
}

monitor_state monitor_evaluate(const char *json, size_t len, const monitor_config *cfg,
                               char **out)
{
    json_error_t je;
    *out = NULL;
    json_t *doc = json_loadb(json, len, 0, &je);
    json_t *matrix = json_object_get(doc, "matrix");
    const char *domain = j_str(doc, "domain");
    if (!json_is_object(doc) || !json_is_object(matrix) || !domain) {
        char msg[300];
        snprintf(msg, sizeof msg, "the check report could not be read (%s)",
                 doc ? "not a check report" : je.text);
        json_decref(doc);
        *out = mon_finish(MONITOR_UNKNOWN, NULL, msg, NULL);
        return MONITOR_UNKNOWN;
    }
    const char *level = cfg->expect ? cfg->expect : j_str(doc, "effective_level");
    json_t *lv = json_object_get(matrix, level ? level : "");
    if (!json_is_object(lv) || !j_str(lv, "verdict")) {
        char msg[300];
        snprintf(msg, sizeof msg, "level %s is not in the check report", level ? level : "?");
        *out = mon_finish(MONITOR_UNKNOWN, domain, msg, NULL);
        json_decref(doc);
        return MONITOR_UNKNOWN;
    }
    monitor_run *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(doc);
        return MONITOR_UNKNOWN;
    }
    sb_init(&r->perf, MONITOR_OUT_MAX);
    r->min_days = -1;

    /* The level: fail and tempfail are both CRITICAL. A tempfail (DNS
     * SERVFAIL, timeouts, 4xx replies) is a higher-level failure that the
     * guidelines say is not UNKNOWN, and senders defer mail meanwhile. */
    const char *verdict = j_str(lv, "verdict"), *code = j_str(lv, "code"),
               *message = j_str(lv, "message"), *security = j_str(lv, "security");
    if (strcmp(verdict, "pass") != 0)
        mon_add(r, MONITOR_CRITICAL, "level %s %s%s: %s: %s", level,
                strcmp(verdict, "fail") ? "tempfails" : "fails",
                strcmp(verdict, "fail") ? " (senders defer)" : "", code ? code : "?",
                message ? message : "");
    mon_addresses(r, cfg, doc);
    for (size_t i = 0; i < cfg->nplans; i++) {
        const monitor_plan *p = &cfg->plans[i];
        if (p->verdict && !strcmp(p->verdict, "will-break"))
            mon_add(r, MONITOR_WARNING,
                    "the TLSA records of %s do not match the next certificate %s%s%s", p->host,
                    p->file, p->publish ? ": publish first " : "", p->publish ? p->publish : "");
    }
    mon_sts(r, cfg, doc);
    json_t *el = json_object_get(doc, "elapsed_ms");
    if (json_is_integer(el))
        sb_printf(&r->perf, "%stime=%.3fs;;;0", r->perf.len ? " " : "",
                  (double)json_integer_value(el) / 1000.0);

    monitor_state st = MONITOR_OK;
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].state > st)
            st = r->items[i].state;
    strbuf text;
    sb_init(&text, MONITOR_MAX_LINE);
    if (st == MONITOR_OK) {
        sb_printf(&text, "level %s passes (%s)", level, security ? security : "?");
        if (r->certs)
            sb_printf(&text, "; %zu certificate%s, valid %ld days or more", r->certs,
                      r->certs == 1 ? "" : "s", r->min_days);
        for (size_t i = 0; i < cfg->nplans; i++)
            if (cfg->plans[i].verdict && !strcmp(cfg->plans[i].verdict, "safe"))
                sb_printf(&text, "; the TLSA records of %s match %s", cfg->plans[i].host,
                          cfg->plans[i].file);
    } else {
        /* the worst first, each in the order found */
        size_t shown = 0;
        for (int s = MONITOR_CRITICAL; s >= MONITOR_WARNING; s--)
            for (size_t i = 0; i < r->n; i++)
                if ((int)r->items[i].state == s)
                    sb_printf(&text, "%s%s", shown++ ? "; " : "", r->items[i].text);
        if (r->dropped)
            sb_printf(&text, "; %zu more", r->dropped);
    }
    *out = mon_finish(st, domain, text.s ? text.s : "", &r->perf);
    sb_free(&text);
    sb_free(&r->perf);
    free(r);
    json_decref(doc);
    if (!*out)
        return MONITOR_UNKNOWN;
    return st;
}
