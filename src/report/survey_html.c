/* survey_html.c - the survey as one self-contained HTML page (survey.h)
 *
 * No external assets: inline CSS, charts as inline SVG, one inline script
 * (the client-side filter of the worst domains). Every string from the
 * input (domains, reasons, messages, advice, certificate names) is
 * attacker-controlled: it is written only through html_text(), only into
 * element text or double-quoted attributes, never into the script or the
 * style. The Content-Security-Policy allows no source at all except the one
 * script, by its SHA-256, and inline style: markup that slipped through
 * could neither run a script nor load anything. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "report/survey_impl.h"

#define HTML_MAX (64u * 1024u * 1024u)
#define HTML_LABEL_MAX 48 /* bytes of a chart label shown (the whole one is its tooltip) */

/* The filter: rows of #worst whose text contains the search box's text stay
 * visible; "#q=TEXT" in the URL fills the box (a link to a filtered view).
 * It reads the table, so no data is ever written into the script. */
static const char html_script[] =
    "(function(){"
    "var f=document.getElementById('filter'),"
    "rows=document.querySelectorAll('#worst tbody tr'),"
    "out=document.getElementById('shown');"
    "function apply(){var q=f.value.toLowerCase(),n=0;"
    "for(var i=0;i<rows.length;i++){"
    "var m=rows[i].textContent.toLowerCase().indexOf(q)>=0;"
    "rows[i].hidden=!m;if(m)n++;}"
    "out.textContent=n+' of '+rows.length+' domains shown';}"
    "f.addEventListener('input',apply);"
    "var h=location.hash.match(/^#q=(.*)$/);"
    "if(h){try{f.value=decodeURIComponent(h[1]);}catch(e){f.value=h[1];}}"
    "apply();"
    "})();";

static const char html_style[] =
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:90em}"
    "#worst,#levels,#expiring,#errors{width:100%}td{overflow-wrap:break-word}td.v,td.domain{white-space:nowrap}"
    "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left;"
    "vertical-align:top;border-bottom:1px solid #eee}td.n{text-align:right}"
    "svg text{font-size:12px;font-family:system-ui,sans-serif}"
    ".pass{fill:#2e7d32}.fail{fill:#c62828}.tempfail{fill:#f9a825}.bar{fill:#1565c0}"
    "tr.fail td.v{color:#c62828}tr.tempfail td.v{color:#b28704}"
    "#filter{font-size:1em;padding:.3em;width:30em}ul{margin:0;padding-left:1.2em}"
    ".legend span{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;"
    "vertical-align:middle}";

/* html_text - s as HTML text, safe in element content and in double-quoted
 * attributes; control characters become U+FFFD */
static void html_text(strbuf *b, const char *s)
{
    if (!s) {
        sb_puts(b, "-");
        return;
    }
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&#39;"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                sb_puts(b, "\xef\xbf\xbd");
            else
                sb_append(b, p, 1);
        }
    }
}

/* html_label - at most HTML_LABEL_MAX bytes of s (cut at a UTF-8 boundary, "…" appended) */
static void html_label(strbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (n <= HTML_LABEL_MAX) {
        html_text(b, s);
        return;
    }
    n = HTML_LABEL_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    char cut[HTML_LABEL_MAX + 1];
    memcpy(cut, s, n);
    cut[n] = '\0';
    html_text(b, cut);
    sb_puts(b, "\xe2\x80\xa6");
}

typedef struct html_bar {
    const char *label;
    unsigned long value;
    const char *cls;   /* the bar's CSS class; NULL: "bar" */
} html_bar;

/* html_bars - a horizontal bar chart: one bar per item, its value after it;
 * data-key/data-value carry the figures for readers and tests */
static void html_bars(strbuf *b, const char *id, const html_bar *items, size_t n)
{
    unsigned long max = 1;
    for (size_t i = 0; i < n; i++)
        if (items[i].value > max)
            max = items[i].value;
    const int row = 22, label_w = 260, bar_w = 360;
    sb_printf(b, "<svg id=\"%s\" role=\"img\" width=\"%d\" height=\"%zu\" "
                 "xmlns=\"http://www.w3.org/2000/svg\">",
              id, label_w + bar_w + 80, n * (size_t)row + 4);
    for (size_t i = 0; i < n; i++) {
        int y = (int)i * row;
        int w = (int)((double)bar_w * (double)items[i].value / (double)max);
        sb_puts(b, "<g class=\"item\" data-key=\"");
        html_text(b, items[i].label);
        sb_printf(b, "\" data-value=\"%lu\"><title>", items[i].value);
        html_text(b, items[i].label);
        sb_printf(b, ": %lu</title><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", items[i].value,
                  label_w - 6, y + 15);
        html_label(b, items[i].label);
        sb_printf(b, "</text><rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
                     "<text x=\"%d\" y=\"%d\">%lu</text></g>",
                  items[i].cls ? items[i].cls : "bar", label_w, y + 3, w, row - 6,
                  label_w + w + 6, y + 15, items[i].value);
    }
    sb_puts(b, "</svg>\n");
}

/* html_counter_bars - a counter as a bar chart, largest first */
static void html_counter_bars(strbuf *b, const char *id, const survey_counter *c, size_t limit)
{
    const survey_count *sorted[SURVEY_MAX_KEYS + 1];
    html_bar items[SURVEY_MAX_KEYS + 1];
    size_t n = survey_counter_sorted(c, sorted);
    if (n > limit)
        n = limit;
    for (size_t i = 0; i < n; i++)
        items[i] = (html_bar){sorted[i]->key, sorted[i]->n, NULL};
    if (n == 0) {
        sb_puts(b, "<p>none</p>\n");
        return;
    }
    html_bars(b, id, items, n);
}

/* html_levels - stacked pass/fail/tempfail bars per level, and the numbers */
static void html_levels(strbuf *b, const survey *s)
{
    const survey_level *lv[SURVEY_MAX_KEYS + 1];
    size_t n = survey_levels_ordered(s, lv);
    const int row = 22, label_w = 200, bar_w = 420;
    sb_printf(b, "<p class=\"legend\"><span class=\"pass\" style=\"background:#2e7d32\"></span>pass"
                 "<span style=\"background:#c62828\"></span>fail"
                 "<span style=\"background:#f9a825\"></span>tempfail</p>\n"
                 "<svg id=\"chart-levels\" role=\"img\" width=\"%d\" height=\"%zu\" "
                 "xmlns=\"http://www.w3.org/2000/svg\">",
              label_w + bar_w + 80, n * (size_t)row + 4);
    for (size_t i = 0; i < n; i++) {
        unsigned long tot = lv[i]->pass + lv[i]->fail + lv[i]->tempfail;
        int y = (int)i * row, x = label_w;
        sb_puts(b, "<g class=\"item\" data-key=\"");
        html_text(b, lv[i]->name);
        sb_printf(b, "\" data-pass=\"%lu\" data-fail=\"%lu\" data-tempfail=\"%lu\"><title>",
                  lv[i]->pass, lv[i]->fail, lv[i]->tempfail);
        html_text(b, lv[i]->name);
        sb_printf(b, ": pass %lu, fail %lu, tempfail %lu</title>"
                     "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
                  lv[i]->pass, lv[i]->fail, lv[i]->tempfail, label_w - 6, y + 15);
        html_label(b, lv[i]->name);
        sb_puts(b, "</text>");
        const unsigned long parts[3] = {lv[i]->pass, lv[i]->fail, lv[i]->tempfail};
        static const char *const cls[3] = {"pass", "fail", "tempfail"};
        for (int k = 0; k < 3; k++) {
            int w = tot ? (int)((double)bar_w * (double)parts[k] / (double)tot) : 0;
            sb_printf(b, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
                      cls[k], x, y + 3, w, row - 6);
            x += w;
        }
        sb_printf(b, "<text x=\"%d\" y=\"%d\">%.1f%%</text></g>", label_w + bar_w + 6, y + 15,
                  survey_pct(lv[i]->pass, tot));
    }
    sb_puts(b, "</svg>\n<table id=\"levels\"><thead><tr><th>level</th><th>pass</th><th>fail"
               "</th><th>tempfail</th><th>pass %</th><th>top reasons (not passing)</th></tr>"
               "</thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        unsigned long tot = lv[i]->pass + lv[i]->fail + lv[i]->tempfail;
        sb_puts(b, "<tr data-level=\"");
        html_text(b, lv[i]->name);
        sb_puts(b, "\"><td>");
        html_text(b, lv[i]->name);
        sb_printf(b, "</td><td class=\"n pass\">%lu</td><td class=\"n fail\">%lu</td>"
                     "<td class=\"n tempfail\">%lu</td><td class=\"n\">%.1f</td><td>",
                  lv[i]->pass, lv[i]->fail, lv[i]->tempfail, survey_pct(lv[i]->pass, tot));
        const survey_count *sorted[SURVEY_MAX_KEYS + 1];
        size_t nr = survey_counter_sorted(&lv[i]->reasons, sorted);
        for (size_t k = 0; k < nr && k < 3; k++) {
            sb_puts(b, k ? ", " : "");
            html_text(b, sorted[k]->key);
            sb_printf(b, " %lu", sorted[k]->n);
        }
        sb_puts(b, "</td></tr>\n");
    }
    sb_puts(b, "</tbody></table>\n");
}

/* html_figure - one row of the key figures table, value in data-figure */
static void html_figure(strbuf *b, const char *id, const char *label, unsigned long v,
                        unsigned long of)
{
    sb_printf(b, "<tr><th>%s</th><td class=\"n\" data-figure=\"%s\">%lu</td>", label, id, v);
    if (of)
        sb_printf(b, "<td class=\"n\">%.1f %%</td>", survey_pct(v, of));
    else
        sb_puts(b, "<td></td>");
    sb_puts(b, "</tr>\n");
}

/* html_script_hash - the CSP source of html_script: 'sha256-BASE64' */
static int html_script_hash(char *out, size_t n)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    unsigned char b64[64];
    if (!EVP_Digest(html_script, strlen(html_script), md, &mdlen, EVP_sha256(), NULL) ||
        mdlen != sizeof md)
        return -1;
    EVP_EncodeBlock(b64, md, (int)mdlen);
    snprintf(out, n, "'sha256-%s'", (const char *)b64);
    return 0;
}

char *survey_stats_html(const survey *s)
{
    char hash[96], t[32];
    if (html_script_hash(hash, sizeof hash) != 0)
        return NULL;
    strbuf b;
    sb_init(&b, HTML_MAX);
    unsigned long d = s->domains;
    survey_time_text(s->now, t, sizeof t);
    sb_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'; script-src %s\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width\">\n"
                  "<title>mxtls survey: %lu domains</title>\n<style>%s</style></head><body>\n"
                  "<h1>Mail TLS survey: %lu domains</h1>\n"
                  "<p>From <code>mxtls check --json</code> reports; certificates measured at "
                  "<time id=\"now\">%s</time>, expiring soon = within %d days.</p>\n",
              hash, d, html_style, d, t, s->expiry_days);

    sb_puts(&b, "<h2>Key figures</h2>\n<table id=\"figures\">\n");
    html_figure(&b, "domains", "domains checked", d, 0);
    html_figure(&b, "errors", "input errors (malformed domains)", s->errors, 0);
    html_figure(&b, "rejected", "lines rejected (not a check report)", s->rejected, 0);
    html_figure(&b, "pass", "verdict pass", survey_counter_get(&s->verdicts, "pass"), d);
    html_figure(&b, "fail", "verdict fail", survey_counter_get(&s->verdicts, "fail"), d);
    html_figure(&b, "tempfail", "verdict tempfail", survey_counter_get(&s->verdicts, "tempfail"), d);
    html_figure(&b, "dnssec", "MX DNSSEC-secure", survey_counter_get(&s->mx_security, "secure"), d);
    html_figure(&b, "null-mx", "null MX", s->null_mx, d);
    html_figure(&b, "implicit-mx", "no MX (implicit MX)", s->implicit_mx, d);
    html_figure(&b, "starttls-all", "STARTTLS on every server", survey_counter_get(&s->starttls, "all"), d);
    html_figure(&b, "addresses", "addresses probed", s->addresses, 0);
    html_figure(&b, "addresses-tls", "addresses with TLS", s->addr_tls, s->addresses);
    html_figure(&b, "expiring", "certificates expiring soon", s->certs_expiring, 0);
    html_figure(&b, "expired", "certificates expired", s->certs_expired, 0);
    sb_puts(&b, "</table>\n");

    sb_puts(&b, "<h2>Verdicts</h2>\n");
    const html_bar verdicts[] = {
        {"pass", survey_counter_get(&s->verdicts, "pass"), "pass"},
        {"fail", survey_counter_get(&s->verdicts, "fail"), "fail"},
        {"tempfail", survey_counter_get(&s->verdicts, "tempfail"), "tempfail"}};
    html_bars(&b, "chart-verdicts", verdicts, 3);
    sb_puts(&b, "<h2>Pass rates per level</h2>\n");
    html_levels(&b, s);
    sb_puts(&b, "<h2>STARTTLS (domains)</h2>\n");
    const html_bar st[] = {{"every server", survey_counter_get(&s->starttls, "all"), "pass"},
                           {"some servers", survey_counter_get(&s->starttls, "some"), "tempfail"},
                           {"no server", survey_counter_get(&s->starttls, "none"), "fail"},
                           {"unreachable", survey_counter_get(&s->starttls, "unreachable"), NULL},
                           {"no address", survey_counter_get(&s->starttls, "no-address"), NULL}};
    html_bars(&b, "chart-starttls", st, 5);
    sb_puts(&b, "<h2>TLS versions (addresses)</h2>\n");
    html_counter_bars(&b, "chart-tls", &s->tls_versions, SURVEY_MAX_KEYS + 1);
    sb_puts(&b, "<h2>DNSSEC of the MX lookup (domains)</h2>\n");
    html_counter_bars(&b, "chart-dnssec", &s->mx_security, SURVEY_MAX_KEYS + 1);
    sb_puts(&b, "<h2>Top failure reasons (domains not passing)</h2>\n");
    html_counter_bars(&b, "chart-reasons", &s->reasons, SURVEY_TOP_REASONS);

    sb_printf(&b, "<h2>Certificates expiring within %d days</h2>\n", s->expiry_days);
    if (s->nexpiring) {
        sb_puts(&b, "<table id=\"expiring\"><thead><tr><th>domain</th><th>host</th><th>address"
                    "</th><th>subject</th><th>not after</th><th>days</th></tr></thead><tbody>\n");
        for (size_t i = 0; i < s->nexpiring; i++) {
            const survey_cert *c = &s->expiring[i];
            sb_puts(&b, "<tr><td>");
            html_text(&b, c->domain);
            sb_puts(&b, "</td><td>");
            html_text(&b, c->host);
            sb_puts(&b, "</td><td>");
            html_text(&b, c->ip);
            sb_puts(&b, "</td><td>");
            html_text(&b, c->subject);
            sb_puts(&b, "</td><td>");
            html_text(&b, c->not_after);
            sb_printf(&b, "</td><td class=\"n\">%ld</td></tr>\n", c->days);
        }
        sb_puts(&b, "</tbody></table>\n");
        if (s->expiring_dropped)
            sb_printf(&b, "<p>%lu more not listed.</p>\n", s->expiring_dropped);
    } else {
        sb_puts(&b, "<p>none</p>\n");
    }

    sb_printf(&b, "<h2>Worst domains</h2>\n<p><input id=\"filter\" type=\"search\" "
                  "placeholder=\"filter: domain, level, reason, advice\" aria-label=\"filter\"> "
                  "<span id=\"shown\">%zu domains</span></p>\n"
                  "<table id=\"worst\"><thead><tr><th>domain</th><th>verdict</th><th>level</th>"
                  "<th>reason</th><th>levels not passing</th><th>advice</th></tr></thead><tbody>\n",
              s->nworst);
    for (size_t i = 0; i < s->nworst; i++) {
        const survey_worst *w = &s->worst[i];
        sb_puts(&b, "<tr class=\"");
        html_text(&b, w->verdict);
        sb_puts(&b, "\"><td class=\"domain\">");
        html_text(&b, w->domain);
        sb_puts(&b, "</td><td class=\"v\">");
        html_text(&b, w->verdict);
        sb_puts(&b, "</td><td>");
        html_text(&b, w->level);
        sb_puts(&b, "</td><td><code>");
        html_text(&b, w->code);
        sb_puts(&b, "</code> ");
        html_text(&b, w->message);
        sb_puts(&b, "</td><td>");
        for (size_t k = 0; k < w->failing.n; k++) {
            sb_puts(&b, k ? ", " : "");
            html_text(&b, w->failing.v[k]);
        }
        sb_puts(&b, "</td><td><ul>");
        for (size_t k = 0; k < w->advice.n; k++) {
            sb_puts(&b, "<li>");
            html_text(&b, w->advice.v[k]);
            sb_puts(&b, "</li>");
        }
        sb_puts(&b, "</ul></td></tr>\n");
    }
    sb_puts(&b, "</tbody></table>\n");

    if (s->nerrlist) {
        sb_puts(&b, "<h2>Input errors and rejected lines</h2>\n<table id=\"errors\"><tbody>\n");
        for (size_t i = 0; i < s->nerrlist; i++) {
            const survey_errline *e = &s->errlist[i];
            sb_puts(&b, "<tr><td>");
            if (e->lineno)
                sb_printf(&b, "line %lu", e->lineno);
            else
                html_text(&b, e->input);
            sb_puts(&b, "</td><td>");
            html_text(&b, e->message);
            sb_puts(&b, "</td></tr>\n");
        }
        sb_puts(&b, "</tbody></table>\n");
        if (s->errlist_dropped)
            sb_printf(&b, "<p>%lu more not listed.</p>\n", s->errlist_dropped);
    }
    sb_printf(&b, "<script>%s</script>\n</body></html>\n", html_script);
    if (!b.s || b.len == 0) {
        sb_free(&b);
        return NULL;
    }
    return sb_take(&b);
}
