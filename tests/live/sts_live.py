#!/usr/bin/env python3
"""sts_live.py - MTA-STS (RFC 8461) and TLSRPT (RFC 8460) in `mxtls check`.

Against the world's policy hosts (nginx, the hostile https-stall and
https-endless servers): the exact HTTP status, media type, certificate and
error each fetch reports, the per-host mta-sts reasons of a domain with two
MX hosts, the TLSRPT findings, and the policy cache (--sts-cache) over
several runs: a miss is fetched and stored, a fresh entry is used without a
fetch, a changed id refetches, an expired entry is replaced only by a
successful fetch, and an unexpired entry stays in force when the refetch
fails. Exit 0 when everything matches, 1 with a list of differences.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)


def world_env():
    out = subprocess.run([os.environ["MXTLS_WORLD"], "env"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, v = line[7:].split("=", 1)
            env[k] = v.strip("'")
    return env


W = world_env()


def run(domain, *extra, trust=None):
    """trust: the trust options (default: --ca-file with the world's CA)"""
    trust = trust or ["--ca-file", W["MXTLS_WORLD_CA"]]
    cmd = [os.environ["MXTLS_WORLD"], "exec", os.environ["MXTLS_BIN"], "check", domain, "--json",
           "--root-hints", W["MXTLS_WORLD_ROOT_HINTS"], "--trust-anchor",
           W["MXTLS_WORLD_TRUST_ANCHOR"], *trust, "--timeout", "15", *extra]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    try:
        return p.returncode, json.loads(p.stdout), time.monotonic() - t0
    except json.JSONDecodeError:
        failures.append(f"{domain}: no JSON (exit {p.returncode}): {p.stderr.strip()}")
        return p.returncode, None, 0


def reasons(doc, host):
    for a in doc["addresses"]:
        if a["host"] == host:
            return [(r["kind"], r["code"]) for r in a["levels"]["mta-sts"]["reasons"]]
    return None


# ---- fetches ------------------------------------------------------------
rc, d, _ = run("sts.test")
if d:
    s, f = d["mta_sts"], d["mta_sts"]["fetch"]
    check(s["txt"]["valid"] and s["txt"]["id"] == "20250101T000000", f"sts.test txt {s['txt']}")
    check(f["url"] == "https://mta-sts.sts.test/.well-known/mta-sts.txt", f"sts.test url {f['url']}")
    check(f["address"] == "127.0.3.1", f"sts.test address {f['address']}")
    check(f["http_status"] == 200 and f["media_type"] == "text/plain" and f["ok"],
          f"sts.test fetch {f}")
    check(f["certificate"] and "CN = mta-sts.sts.test" in f["certificate"],
          f"sts.test certificate {f['certificate']}")
    check(s["policy"] == {"source": "fetched", "mode": "enforce", "max_age": 86400,
                          "mx": ["mx.sts.test"]}, f"sts.test policy {s['policy']}")
    check(d["tlsrpt"]["valid"] and d["tlsrpt"]["rua"] == ["mailto:tlsrpt@sts.test"],
          f"sts.test tlsrpt {d['tlsrpt']}")
    check(not any("TLSRPT" in a for a in d["advice"]), f"sts.test advice {d['advice']}")
    check(d["matrix"]["mta-sts"]["verdict"] == "pass" and
          d["matrix"]["mta-sts"]["security"] == "verified", f"sts.test {d['matrix']['mta-sts']}")
    check(rc == 0, f"sts.test exit {rc}")

# The policy host is verified against the same trust as everything else,
# loaded once per engine: a hashed directory (--ca-path, looked up as the
# chain is built) holding the world's CA, and a CA file without it (Debian's
# roots: the policy host is not trusted, and the fetch says so)
capath = tempfile.mkdtemp(prefix="mxtls-sts-capath.")
shutil.copy(W["MXTLS_WORLD_CA"], os.path.join(capath, "world.pem"))
subprocess.run(["openssl", "rehash", capath], check=True, timeout=30)
rc, d, _ = run("sts.test", trust=["--ca-path", capath])
if d:
    f = d["mta_sts"]["fetch"]
    check(f["ok"] and f["http_status"] == 200 and d["mta_sts"]["policy"]["mode"] == "enforce",
          f"sts.test with --ca-path: fetch {f}")
    check(d["matrix"]["mta-sts"]["code"] == "sts-verified", f"sts.test with --ca-path: "
          f"{d['matrix']['mta-sts']}")
shutil.rmtree(capath)
if os.path.exists("/etc/ssl/certs/ca-certificates.crt"):
    rc, d, _ = run("sts.test", trust=["--ca-file", "/etc/ssl/certs/ca-certificates.crt"])
    if d:
        f = d["mta_sts"]["fetch"]
        check(f["tried"] and not f["ok"] and f["error"] == "the policy fetch failed: SSL "
              "certificate problem: unable to get local issuer certificate",
              f"sts.test with Debian's roots: fetch {f}")
        check(d["mta_sts"]["policy"] is None, f"sts.test with Debian's roots: policy "
              f"{d['mta_sts']['policy']}")

# One engine, a CA file that changes between two policy fetches (as
# update-ca-certificates rewrites the system's bundle): the second fetch
# trusts what the file says then. A scan with --concurrency 1 reads its next
# domain from the pipe only when the one in flight is done.
cadir = tempfile.mkdtemp(prefix="mxtls-sts-cafile.")
cafile = os.path.join(cadir, "roots.pem")
shutil.copy(W["MXTLS_WORLD_CA"], cafile)
scan = subprocess.Popen(
    [os.environ["MXTLS_WORLD"], "exec", os.environ["MXTLS_BIN"], "scan", "-", "--concurrency", "1",
     "--root-hints", W["MXTLS_WORLD_ROOT_HINTS"], "--trust-anchor", W["MXTLS_WORLD_TRUST_ANCHOR"],
     "--ca-file", cafile, "--timeout", "15"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
fetches = []
try:
    for dom, roots in (("sts.test", None), ("sts-wild.test", "/etc/ssl/certs/ca-certificates.crt"),
                       ("sts-testing.test", W["MXTLS_WORLD_CA"])):
        if roots:
            tmp = cafile + ".new"
            shutil.copy(roots, tmp)
            os.replace(tmp, cafile)
        scan.stdin.write(dom + "\n")
        scan.stdin.flush()
        line = scan.stdout.readline()
        fetches.append(json.loads(line)["mta_sts"]["fetch"] if line else None)
    scan.stdin.close()
    scan.wait(timeout=60)
finally:
    if scan.poll() is None:
        scan.kill()
        scan.wait()
    shutil.rmtree(cadir)
check(len(fetches) == 3 and all(fetches) and scan.returncode == 0,
      f"scan with a changing CA file: exit {scan.returncode}, {fetches}")
if len(fetches) == 3 and all(fetches):
    check(fetches[0]["ok"], f"CA file with the world's CA: {fetches[0]}")
    check(not fetches[1]["ok"] and fetches[1]["error"] == "the policy fetch failed: SSL "
          "certificate problem: unable to get local issuer certificate",
          f"the CA file replaced by Debian's roots: {fetches[1]}")
    check(fetches[2]["ok"], f"the world's CA back in the file: {fetches[2]}")

ERRORS = {
    "sts-html.test": (200, 'media type "text/html": a policy must be served as text/plain '
                           '(RFC 8461 §3.2)'),
    "sts-redirect.test": (301, "HTTP status 301, a redirect (a policy needs 200; redirects are "
                               "not followed, RFC 8461 §3.3)"),
    "sts-404.test": (404, "HTTP status 404 (a policy needs 200)"),
    "sts-wrongname.test": (None, "the policy fetch failed: SSL: no alternative certificate "
                                 "subject name matches target host name "
                                 "'mta-sts.sts-wrongname.test'"),
    "endless.test": (200, "the policy fetch failed: body larger than 65536 bytes"),
    "stall.test": (None, "the policy fetch failed: timed out after 10000 ms"),
}
for dom, (status, err) in ERRORS.items():
    rc, d, secs = run(dom)
    if not d:
        continue
    f = d["mta_sts"]["fetch"]
    check(f["tried"] and not f["ok"], f"{dom}: fetch {f}")
    check(f["http_status"] == status, f"{dom}: http_status {f['http_status']}, expected {status}")
    check(f["error"] == err, f"{dom}: error {f['error']!r}, expected {err!r}")
    check(d["mta_sts"]["policy"] is None, f"{dom}: policy {d['mta_sts']['policy']}")
    check(any(a.startswith(f"{dom} publishes an MTA-STS TXT record") for a in d["advice"]),
          f"{dom}: advice {d['advice']}")
    if dom == "stall.test":
        check(secs < 14, f"stall.test took {secs:.1f} s")

rc, d, _ = run("sts-twotxt.test")
if d:
    t = d["mta_sts"]["txt"]
    check(not t["valid"] and t["errors"][0]["rule"] == "txt-multiple", f"sts-twotxt txt {t}")
    check(not d["mta_sts"]["fetch"]["tried"], f"sts-twotxt fetch {d['mta_sts']['fetch']}")

# two MX hosts: *.wild2.test does not cover mx01.subd.wild2.test
rc, d, _ = run("sts-wild.test")
if d:
    check(reasons(d, "mx.sts.test")[0] == ("decisive", "sts-verified"),
          f"sts-wild mx.sts.test {reasons(d, 'mx.sts.test')}")
    check(reasons(d, "mx01.subd.wild2.test")[:2] == [("decisive", "sts-mx-not-covered"),
                                                      ("decisive", "sts-name-mismatch")],
          f"sts-wild mx01 {reasons(d, 'mx01.subd.wild2.test')}")

# TLSRPT: MTA-STS without a TLSRPT record, and DANE without one
for dom, what in (("sts-testing.test", "MTA-STS"), ("dane-ee.test", "MTA-STS and DANE")):
    rc, d, _ = run(dom)
    if d:
        want = (f"{dom} publishes {what} but no TLSRPT record at _smtp._tls.{dom}: publish one "
                f'(e.g. "v=TLSRPTv1; rua=mailto:tlsrpt@{dom}")')
        check(any(a.startswith(want) for a in d["advice"]), f"{dom}: advice {d['advice']}")
        check(d["tlsrpt"]["outcome"] == "nxdomain" and not d["tlsrpt"]["valid"],
              f"{dom}: tlsrpt {d['tlsrpt']}")

# ---- mxtls mta-sts DOMAIN, mxtls tlsrpt DOMAIN ----------------------------------


def cmd(*args):
    c = [os.environ["MXTLS_WORLD"], "exec", os.environ["MXTLS_BIN"], *args,
         "--root-hints", W["MXTLS_WORLD_ROOT_HINTS"], "--trust-anchor", W["MXTLS_WORLD_TRUST_ANCHOR"]]
    p = subprocess.run(c, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


rc, out, err = cmd("mta-sts", "sts-uncovered.test", "--ca-file", W["MXTLS_WORLD_CA"], "--json")
d = json.loads(out) if out else {}
check(rc == 1 and d.get("verdict") == "fail" and d.get("code") == "sts-mx-not-covered",
      f"mta-sts sts-uncovered.test: exit {rc} {d.get('verdict')} {d.get('code')} {err}")
check([h["covered_by"] for h in d.get("hosts", [])] == [None], f"mta-sts hosts {d.get('hosts')}")
rc, out, err = cmd("mta-sts", "sts-wild.test", "--ca-file", W["MXTLS_WORLD_CA"])
check(rc == 0 and "MX mx.sts.test: covered by mx *.sts.test" in out.splitlines() and
      "MX mx01.subd.wild2.test: not covered by the policy" in out.splitlines(),
      f"mta-sts sts-wild.test: exit {rc}: {out[:400]}")
rc, out, err = cmd("tlsrpt", "sts.test")
check(rc == 0 and out.splitlines() == ["_smtp._tls.sts.test: TXT data (secure)",
                                       "valid TLSRPT record", "rua  mailto:tlsrpt@sts.test"],
      f"tlsrpt sts.test: exit {rc}: {out} {err}")
rc, out, err = cmd("tlsrpt", "sts-testing.test", "--json")
d = json.loads(out) if out else {}
check(rc == 1 and d.get("lookup") == "nxdomain (secure)" and
      [e["rule"] for e in d.get("errors", [])] == ["tlsrpt-none"],
      f"tlsrpt sts-testing.test: exit {rc}: {out} {err}")
rc, out, err = cmd("tlsrpt", "bogus-expired.test")
check(rc == 3, f"tlsrpt bogus-expired.test: exit {rc}, expected 3: {out} {err}")

# ---- the cache ------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "sts.db")

    def cache_of(doc):
        return doc["mta_sts"]["cache"] if doc else {}

    rc, d, _ = run("sts.test", "--sts-cache", db)
    c = cache_of(d)
    check(c.get("state") == "miss" and c.get("refetch") == "not-cached" and c.get("stored"),
          f"cache 1: {c}")
    check(d and d["mta_sts"]["policy"]["source"] == "fetched", "cache 1: policy not fetched")

    rc, d, _ = run("sts.test", "--sts-cache", db)
    c = cache_of(d)
    check(c.get("state") == "fresh" and c.get("refetch") == "no" and not c.get("stored"),
          f"cache 2: {c}")
    check(d and not d["mta_sts"]["fetch"]["tried"], "cache 2: fetched although fresh")
    check(d and d["mta_sts"]["policy"]["source"] == "cached", "cache 2: not the cached policy")
    check(d and d["matrix"]["mta-sts"]["code"] == "sts-verified", "cache 2: verdict")

    con = sqlite3.connect(db)
    # the TXT id changed: refetch, store under the new id
    con.execute("UPDATE policy SET txt_id = 'old' WHERE domain = 'sts.test'")
    con.commit()
    rc, d, _ = run("sts.test", "--sts-cache", db)
    c = cache_of(d)
    check(c.get("refetch") == "id-changed" and c.get("cached_id") == "old" and c.get("stored"),
          f"cache 3: {c}")
    row = con.execute("SELECT txt_id FROM policy WHERE domain = 'sts.test'").fetchone()
    check(row == ("20250101T000000",), f"cache 3: stored id {row}")

    # expired: refetched and replaced by the successful fetch
    con.execute("UPDATE policy SET fetched_at = 1000, expires_at = 2000 WHERE domain = 'sts.test'")
    con.commit()
    rc, d, _ = run("sts.test", "--sts-cache", db)
    c = cache_of(d)
    check(c.get("state") == "expired" and c.get("refetch") == "expired" and c.get("stored"),
          f"cache 4: {c}")
    row = con.execute("SELECT expires_at FROM policy WHERE domain = 'sts.test'").fetchone()
    check(row and row[0] > time.time(), f"cache 4: expires_at {row}")

    # stall.test with a cached enforce policy under another id: the refetch
    # fails; an unexpired policy stays in force, an expired one does not and
    # is not replaced
    now = int(time.time())
    pol = "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n"
    con.execute("INSERT OR REPLACE INTO policy VALUES ('stall.test', ?, 'old', 'enforce', 86400,"
                " 'mx.sts.test', ?, ?)", (pol, now - 100, now - 100 + 86400))
    con.commit()
    rc, d, _ = run("stall.test", "--sts-cache", db)
    c = cache_of(d)
    check(c.get("state") == "fresh" and c.get("refetch") == "id-changed" and not c.get("stored"),
          f"cache 5: {c}")
    check(d and d["mta_sts"]["fetch"]["tried"] and not d["mta_sts"]["fetch"]["ok"],
          "cache 5: fetch")
    check(d and d["mta_sts"]["policy"] and d["mta_sts"]["policy"]["source"] == "cached",
          f"cache 5: policy {d and d['mta_sts']['policy']}")
    check(d and d["matrix"]["mta-sts"]["code"] == "sts-verified", "cache 5: verdict")
    con.execute("UPDATE policy SET fetched_at = 1000, expires_at = 2000 WHERE domain = 'stall.test'")
    con.commit()
    rc, d, _ = run("stall.test", "--sts-cache", db)
    c = cache_of(d)
    check(c.get("state") == "expired" and not c.get("stored"), f"cache 6: {c}")
    check(d and d["mta_sts"]["policy"] is None, "cache 6: an expired policy applied")
    check(d and d["matrix"]["mta-sts"]["code"] == "encrypted", "cache 6: verdict")
    row = con.execute("SELECT expires_at FROM policy WHERE domain = 'stall.test'").fetchone()
    check(row == (2000,), f"cache 6: the expired entry changed: {row}")
    con.close()

for f in failures:
    print("FAIL:", f)
print(f"sts_live: {checks} checks, {len(failures)} failed")
sys.exit(1 if failures else 0)
