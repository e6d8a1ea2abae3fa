#!/usr/bin/env python3
"""report_html.py - render `mxtls report --html` in headless Chromium and check
the figures the page shows against the JSON Lines, computed here on their own
(not by mxtls).

    report_html.py MXTLS JSONL NOW [--hostile]

NOW is the --now time (RFC 3339 UTC). With --hostile a check object whose
domain, reason, advice, level name and certificate subject carry HTML and
script is appended to a copy of the input: the page must show it as text,
run no script of it and load nothing. Prints one line per failed check and a
summary; exit 0 when everything matches, 1 otherwise, 77 when Chromium is
missing.
"""
import datetime
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

FAILS = []
COUNT = [0]


def check(cond, what):
    COUNT[0] += 1
    if not cond:
        FAILS.append(what)


def eq(got, want, what):
    check(got == want, f"{what}: page shows {got!r}, the JSONL gives {want!r}")


HOSTILE = {
    "schema_version": 1,
    "domain": "<img src=x onerror=\"document.title='pwned'\">.test",
    "verdict": "fail", "effective_level": "verify",
    "reason": {"code": "x\"><script>document.title='pwned'</script>",
               "message": "</td></tr></table><iframe src=\"http://127.0.0.1/\"></iframe>",
               "via": None},
    "mx": {"routed": False, "outcome": "data", "security": "secure", "null_mx": False,
           "implicit_mx": False},
    "addresses": [{"host": "mx.<b>bold</b>.test", "ip": "127.0.0.1", "probe": {
        "connected": True, "starttls": {"offered": True},
        "tls": {"ok": True, "version": "<svg onload=\"document.title='pwned'\">",
                "chain": [{"subject": "CN=<style>body{display:none}</style>",
                           "not_after": "2000-01-01T00:00:00Z"}]}}}],
    "matrix": {"verify": {"verdict": "fail", "code": "<x>"},
               "<script>document.title='pwned'</script>": {"verdict": "fail", "code": "y"}},
    "advice": ["<a href=\"javascript:document.title='pwned'\">click</a>"],
}


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def expected(lines, now):
    """the figures of the JSON Lines, by the rules of docs/report.md"""
    e = {"domains": 0, "errors": 0, "rejected": 0, "pass": 0, "fail": 0, "tempfail": 0,
         "dnssec": 0, "null-mx": 0, "implicit-mx": 0, "starttls-all": 0, "addresses": 0,
         "addresses-tls": 0, "expiring": 0, "expired": 0, "levels": {}, "tls": {},
         "worst": []}
    for raw in lines:
        if not raw.strip():
            continue
        try:
            o = json.loads(raw)
        except ValueError:
            e["rejected"] += 1
            continue
        if not isinstance(o, dict):
            e["rejected"] += 1
            continue
        if "error" in o and "verdict" not in o:
            e["errors"] += 1
            continue
        if (o.get("schema_version") != 1 or not isinstance(o.get("domain"), str)
                or o.get("verdict") not in ("pass", "fail", "tempfail")
                or not isinstance(o.get("matrix"), dict) or not isinstance(o.get("mx"), dict)
                or not isinstance(o.get("addresses"), list)):
            e["rejected"] += 1
            continue
        e["domains"] += 1
        e[o["verdict"]] += 1
        mx = o["mx"]
        e["dnssec"] += mx.get("security") == "secure" and not mx.get("routed")
        e["null-mx"] += mx.get("null_mx") is True
        e["implicit-mx"] += mx.get("implicit_mx") is True
        reach = tls_ok = 0
        for a in o["addresses"]:
            e["addresses"] += 1
            p = a.get("probe")
            if not isinstance(p, dict) or p.get("connected") is not True:
                continue
            reach += 1
            if (p.get("starttls") or {}).get("offered") is True or p.get("implicit_tls") is True:
                tls_ok += 1
            t = p.get("tls")
            if not isinstance(t, dict):
                continue
            if t.get("ok") is True:
                e["addresses-tls"] += 1
                v = t.get("version") or "(unknown)"
                e["tls"][v] = e["tls"].get(v, 0) + 1
            chain = t.get("chain") or []
            if chain and isinstance(chain[0], dict) and chain[0].get("not_after"):
                left = (parse_time(chain[0]["not_after"]) - now).total_seconds()
                if left <= 0:
                    e["expired"] += 1
                elif left <= 30 * 86400:
                    e["expiring"] += 1
        if o["addresses"] and reach and tls_ok == reach:
            e["starttls-all"] += 1
        fails = temps = 0
        for name, r in o["matrix"].items():
            lv = e["levels"].setdefault(name, {"pass": 0, "fail": 0, "tempfail": 0})
            lv[r["verdict"]] += 1
            fails += r["verdict"] == "fail"
            temps += r["verdict"] == "tempfail"
        score = {"fail": 1000, "tempfail": 500, "pass": 0}[o["verdict"]] + 2 * fails + temps
        if score:
            e["worst"].append((-score, o["domain"]))
    e["worst"] = [d for _, d in sorted(e["worst"])[:200]]
    return e


class Page(html.parser.HTMLParser):
    """what the rendered DOM shows: figures, chart items, table rows, tags"""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.figures, self.charts, self.levels, self.rows = {}, {}, {}, []
        self.tags = {}
        self.loads = []
        self.title = ""
        self.shown = ""
        self._fig = self._row = self._cell = None
        self._svg = None
        self._in = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k in ("src", "href", "srcset", "action", "xlink:href", "background", "poster"):
            if k in a:
                self.loads.append(f"<{tag} {k}={a[k]!r}>")
        if "url(" in (a.get("style") or ""):
            self.loads.append(f"<{tag} style={a['style']!r}>")
        self._in.append(tag)
        if tag == "svg":
            self._svg = a.get("id")
            self.charts[self._svg] = {}
        if tag == "g" and self._svg and "data-key" in a:
            if "data-value" in a:
                self.charts[self._svg][a["data-key"]] = int(a["data-value"])
            else:
                self.charts[self._svg][a["data-key"]] = (
                    int(a["data-pass"]), int(a["data-fail"]), int(a["data-tempfail"]))
        if "data-figure" in a:
            self._fig = a["data-figure"]
            self.figures[self._fig] = ""
        if tag == "tr" and self._table == "worst" and self._section == "tbody":
            self._row = {"hidden": "hidden" in a, "cells": []}
            self.rows.append(self._row)
        if tag == "td" and self._row is not None:
            self._row["cells"].append("")
            self._cell = True
        if tag == "table":
            self._table = a.get("id")
        if tag in ("tbody", "thead"):
            self._section = tag
        if a.get("id") == "shown":
            self._shown = True

    _table = None
    _section = None
    _shown = False

    def handle_endtag(self, tag):
        if self._in:
            self._in.pop()
        if tag == "svg":
            self._svg = None
        if tag == "td":
            self._fig = None
            self._cell = None
        if tag == "tr":
            self._row = None
        if tag == "table":
            self._table = None
        if tag == "span":
            self._shown = False

    def handle_data(self, data):
        if self._fig:
            self.figures[self._fig] += data
        if self._cell and self._row is not None:
            self._row["cells"][-1] += data
        if self._in and self._in[-1] == "title" and not self._svg:
            self.title += data
        if self._shown:
            self.shown += data


def render(url, tmp):
    """the DOM after the page's script ran, as Chromium serialises it"""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("skipped: chromium is not installed (scripts/deps.sh installs it)")
        sys.exit(77)
    env = dict(os.environ, HOME=tmp)
    p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", f"--user-data-dir={tmp}/profile",
                        "--virtual-time-budget=5000", "--dump-dom", url],
                       capture_output=True, text=True, timeout=120, env=env)
    check(p.returncode == 0, f"chromium exited {p.returncode}: {p.stderr[-300:]}")
    page = Page()
    page.feed(p.stdout)
    return page


def main():
    mxtls, jsonl, now_s = sys.argv[1:4]
    hostile = "--hostile" in sys.argv[4:]
    now = parse_time(now_s)
    with open(jsonl, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().split("\n")
    tmp = tempfile.mkdtemp(prefix="mxtls-report-html.")
    try:
        src = jsonl
        if hostile:
            lines.append(json.dumps(HOSTILE))
            src = os.path.join(tmp, "input.jsonl")
            with open(src, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write("\n".join(lines) + "\n")
        out = os.path.join(tmp, "report.html")
        p = subprocess.run([mxtls, "report", src, "--html", out, "--now", now_s],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, f"mxtls report exited {p.returncode}: {p.stderr.strip()}")
        with open(out, encoding="utf-8") as f:
            doc = f.read()
        check("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
              "style-src 'unsafe-inline'; script-src 'sha256-" in doc,
              "the page has no Content-Security-Policy that forbids every source")
        e = expected(lines, now)
        page = render("file://" + out, tmp)
        for k in ("domains", "errors", "rejected", "pass", "fail", "tempfail", "dnssec",
                  "null-mx", "implicit-mx", "starttls-all", "addresses", "addresses-tls",
                  "expiring", "expired"):
            eq(int(page.figures.get(k, "-1")), e[k], f"figure {k}")
        eq(page.charts.get("chart-verdicts"),
           {"pass": e["pass"], "fail": e["fail"], "tempfail": e["tempfail"]}, "verdict chart")
        eq(page.charts.get("chart-tls"), e["tls"] or None, "TLS version chart")
        eq(page.charts.get("chart-levels"),
           {k: (v["pass"], v["fail"], v["tempfail"]) for k, v in e["levels"].items()},
           "level chart")
        eq([r["cells"][0] for r in page.rows], e["worst"], "worst domains, in order")
        n = len(e["worst"])
        eq(page.shown, f"{n} of {n} domains shown", "the filter's count (the script ran)")
        eq(page.title, f"mxtls survey: {e['domains']} domains", "title")
        for tag in ("img", "iframe", "a", "b", "style"):
            if tag == "style":
                eq(page.tags.get(tag, 0), 1, "style elements (the page's own only)")
            else:
                eq(page.tags.get(tag, 0), 0, f"<{tag}> elements")
        eq(page.tags.get("script", 0), 1, "script elements (the page's own only)")
        eq(page.loads, [], "elements that load something (the page must be self-contained)")
        if hostile:
            check(HOSTILE["domain"] in [r["cells"][0] for r in page.rows],
                  "the hostile domain is not shown as text in the worst domains")
        # the filter: a query shows exactly the rows whose text contains it
        q = "tempfail"
        page = render("file://" + out + "#q=" + q, tmp)
        want = sum(1 for r in page.rows if q in "".join(r["cells"]).lower())
        eq(sum(1 for r in page.rows if not r["hidden"]), want, f"rows shown for #q={q}")
        eq(page.shown, f"{want} of {n} domains shown", f"the filter's count for #q={q}")
        check(want > 0, f"#q={q} matches no row: the filter test would prove nothing")
        check(want < n, f"#q={q} matches every row: the filter test would prove nothing")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in FAILS:
        print("FAIL", f)
    print(f"report_html.py: {COUNT[0] - len(FAILS)} passed, {len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
