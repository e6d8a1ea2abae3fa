#!/usr/bin/env python3
"""check_cases.py - `mxtls check` against every domain of the test world.

Runs inside the world's network namespace (the world script's `exec`), with the
world's root hints, trust anchor and CA, and compares the verdict matrix with
tests/world/cases.tsv (every level, dane and dane-only included), the auto
level (dane where secure, usable TLSA records are published) and the exit code
that follows it (domains whose MX addresses listen on 465 only, in hosts.tsv,
are checked with --tls-on-connect), then the decisive reason codes of EXPECTED_CODES, the info
reasons, security and TLSA base of the DANE cases. Holds the world's swap lock
shared while it checks, so that no test swaps dane-rollover.test's certificate
meanwhile. Exit 0 when everything matches, 1 with a list of differences.
"""
import concurrent.futures
import fcntl
import json
import os
import subprocess
import sys

LEVELS = ["none", "may", "encrypt", "verify", "secure", "esa-preferred", "esa-required",
          "esa-preferred-verify", "esa-required-verify", "esa-required-verify-hosted",
          "dane", "dane-only", "mta-sts", "requiretls"]

# (domain, level) -> decisive reason code of the domain verdict
EXPECTED_CODES = {
    # MTA-STS (docs/policies.md "MTA-STS"; docs/mta-sts.md)
    ("sts.test", "mta-sts"): "sts-verified",
    ("sts-testing.test", "mta-sts"): "encrypted",
    ("sts-uncovered.test", "mta-sts"): "sts-mx-not-covered",
    ("sts-wild.test", "mta-sts"): "sts-verified",
    ("sts-none.test", "mta-sts"): "encrypted",
    ("sts-wrongname.test", "mta-sts"): "encrypted",
    ("sts-html.test", "mta-sts"): "encrypted",
    ("sts-redirect.test", "mta-sts"): "encrypted",
    ("sts-twotxt.test", "mta-sts"): "encrypted",
    ("stall.test", "mta-sts"): "encrypted",
    ("dane-ee.test", "mta-sts"): "dane-verified",
    ("good.test", "mta-sts"): "encrypted",
    # REQUIRETLS (RFC 8689 §4.2)
    ("requiretls.test", "requiretls"): "requiretls-ok",
    ("requiretls.test", "mta-sts"): "dane-verified",
    ("dane-ee.test", "requiretls"): "requiretls-not-advertised",
    ("sts.test", "requiretls"): "requiretls-not-advertised",
    ("good.test", "requiretls"): "requiretls-not-authenticated",
    ("sts-testing.test", "requiretls"): "requiretls-not-authenticated",
    ("good.test", "verify"): "verified",
    ("good.test", "may"): "encrypted",
    ("good.test", "none"): "tls-disabled",
    ("helo.test", "verify"): "name-mismatch",
    ("helo.test", "esa-required-verify"): "verified",
    ("mismatch.test", "verify"): "name-mismatch",
    ("expired.test", "verify"): "expired",
    ("notyet.test", "verify"): "not-yet-valid",
    ("selfsigned.test", "verify"): "self-signed",
    ("nointer.test", "verify"): "missing-intermediate",
    # no modelled sender checks revocation: verified, with a warning
    ("revoked.test", "verify"): "verified",
    # Postfix and Cisco ESA send no SNI: the shared host's default certificate
    ("sni.test", "verify"): "name-mismatch",
    ("sni.test", "esa-required-verify-hosted"): "name-mismatch",
    ("sni-dane.test", "verify"): "name-mismatch",
    ("sni-dane.test", "dane"): "dane-verified",
    ("sni-dane.test", "dane-only"): "dane-verified",
    ("revoked.test", "encrypt"): "encrypted",
    ("plain.test", "encrypt"): "no-starttls",
    ("plain.test", "may"): "no-starttls",
    ("wild2.test", "verify"): "name-mismatch",
    ("wild2.test", "secure"): "verified",
    ("bogus-expired.test", "may"): "dns-bogus",
    ("bogus-tampered.test", "verify"): "dns-bogus",
    ("nullmx.test", "may"): "null-mx",
    ("ptr-ok.test", "esa-required-verify"): "verified",
    ("ptr-bad.test", "esa-required-verify"): "name-mismatch",
    ("domaincert.test", "verify"): "name-mismatch",
    ("domaincert.test", "secure"): "verified",
    ("trickle.test", "none"): "timeout",
    ("garbage.test", "may"): "smtp-protocol-error",
    ("endless.test", "may"): "smtp-limit-exceeded",
    ("close-handshake.test", "encrypt"): "tls-failed",
    ("close-handshake.test", "may"): "tls-failed",
    # DANE (docs/policies.md "DANE: dane and dane-only")
    ("good.test", "dane"): "encrypted",
    ("good.test", "dane-only"): "no-tlsa",
    ("plain.test", "dane"): "no-starttls",
    ("plain.test", "dane-only"): "no-tlsa",
    ("implicit.test", "dane-only"): "no-tlsa",
    ("insecure.test", "dane-only"): "mx-insecure",
    ("bogus-expired.test", "dane"): "dns-bogus",
    ("bogus-tampered.test", "dane-only"): "dns-bogus",
    ("nullmx.test", "dane-only"): "null-mx",
    ("backup.test", "dane-only"): "connect-failed",
    ("trickle.test", "dane-only"): "timeout",
    ("close-handshake.test", "dane"): "tls-failed",
    ("close-handshake.test", "dane-only"): "no-tlsa",
    # hostile servers at every step (docs/policies.md "When the dialogue fails")
    ("banner-421.test", "none"): "banner-rejected",
    ("banner-554.test", "verify"): "banner-rejected",
    ("banner-close.test", "may"): "connection-closed",
    ("banner-reset.test", "may"): "connection-closed",
    ("ehlo-421.test", "may"): "ehlo-rejected",
    ("ehlo-554.test", "none"): "ehlo-rejected",
    ("ehlo-close.test", "may"): "connection-closed",
    ("ehlo-reset.test", "may"): "connection-closed",
    ("starttls-454.test", "may"): "tls-failed",
    ("starttls-454.test", "esa-preferred"): "tls-failed",
    ("starttls-554.test", "encrypt"): "tls-failed",
    ("starttls-close.test", "may"): "connection-closed",
    ("starttls-reset.test", "none"): "connection-closed",
    ("after-220-close.test", "may"): "tls-failed",
    ("after-220-close.test", "esa-preferred"): "tls-failed",
    ("after-220-reset.test", "encrypt"): "tls-failed",
    ("handshake-reset.test", "may"): "tls-failed",
    ("handshake-alert.test", "verify"): "tls-failed",
    ("handshake-silent.test", "may"): "timeout",
    ("tls-ehlo-421.test", "none"): "tls-disabled",
    ("tls-ehlo-421.test", "may"): "ehlo-rejected",
    ("tls-ehlo-554.test", "verify"): "ehlo-rejected",
    ("tls-ehlo-554.test", "esa-required-verify"): "name-mismatch",
    ("tls-ehlo-554.test", "dane-only"): "no-tlsa",
    ("tls-ehlo-close.test", "may"): "tls-failed",
    ("tls-ehlo-close.test", "verify"): "connection-closed",
    ("tls-ehlo-close.test", "esa-preferred"): "connection-closed",
    ("tls-ehlo-reset.test", "encrypt"): "connection-closed",
    ("renegotiate.test", "may"): "tls-failed",
    ("renegotiate.test", "verify"): "connection-closed",
    ("chain100.test", "verify"): "verified",
    ("implicit-554.test", "none"): "implicit-tls",
    ("implicit-554.test", "verify"): "banner-rejected",
    ("implicit-close.test", "may"): "connection-closed",
    ("implicit-garbage.test", "encrypt"): "smtp-protocol-error",
    ("implicit-silent.test", "verify"): "timeout",
    ("implicit-ehlo-554.test", "secure"): "ehlo-rejected",
    ("implicit-alert.test", "may"): "tls-failed",
    ("implicit-alert.test", "dane"): "tls-failed",
    ("dane-ee.test", "dane"): "dane-verified",
    ("dane-ee.test", "dane-only"): "dane-verified",
    ("dane-ee.test", "verify"): "self-signed",
    ("dane-ee.test", "secure"): "self-signed",
    ("dane-ta.test", "dane"): "dane-verified",
    ("dane-ta.test", "dane-only"): "dane-verified",
    ("dane-ta-badname.test", "dane"): "name-mismatch",
    ("dane-ta-badname.test", "dane-only"): "name-mismatch",
    ("dane-mismatch.test", "dane"): "tlsa-mismatch",
    ("dane-mismatch.test", "dane-only"): "tlsa-mismatch",
    ("dane-mismatch.test", "verify"): "verified",
    # the MX RRset is insecure too, and it is looked at first
    ("dane-insecure.test", "dane"): "encrypted",
    ("dane-insecure.test", "dane-only"): "mx-insecure",
    ("dane-bogus.test", "dane"): "tlsa-lookup-error",
    ("dane-bogus.test", "dane-only"): "tlsa-lookup-error",
    ("dane-unusable.test", "dane"): "encrypted",
    ("dane-unusable.test", "dane-only"): "tlsa-unusable",
    ("dane-cname.test", "dane"): "dane-verified",
    ("dane-cname.test", "dane-only"): "dane-verified",
    ("dane-cname.test", "verify"): "name-mismatch",
    ("dane-rollover.test", "dane"): "dane-verified",
    ("dane-rollover.test", "dane-only"): "dane-verified",
}
# (domain, level) -> a non-decisive ("info") reason of the address that
# decided: why dane behaved as may or encrypt
EXPECTED_INFO = {
    ("sts-testing.test", "mta-sts"): "sts-mx-not-covered",
    ("sts-none.test", "mta-sts"): "sts-mode-none",
    ("sts-wrongname.test", "mta-sts"): "sts-no-policy",
    ("dane-ee.test", "mta-sts"): "sts-dane-precedence",
    ("good.test", "mta-sts"): "sts-no-policy",
    ("good.test", "dane"): "no-tlsa",
    ("insecure.test", "dane"): "mx-insecure",
    ("dane-insecure.test", "dane"): "mx-insecure",
    ("dane-unusable.test", "dane"): "tlsa-unusable",
}
# domain -> the security the dane level obtains
EXPECTED_DANE_SECURITY = {
    "dane-ee.test": "dane",
    "dane-ta.test": "dane",
    "dane-cname.test": "dane",
    "dane-rollover.test": "dane",
    "dane-unusable.test": "encrypted",
    "dane-insecure.test": "encrypted",
    "good.test": "encrypted",
    "plain.test": "plaintext",
}
# The auto level (JSON effective_level): dane where the MX RRset is secure
# and DANE changes the outcome (secure TLSA records, usable or not, or a
# failed TLSA lookup), else may (no policy map).
AUTO_DANE = {"requiretls.test", "sni-dane.test", "dane-ee.test", "dane-ta.test", "dane-ta-badname.test", "dane-mismatch.test",
             "dane-cname.test", "dane-rollover.test", "dane-unusable.test", "dane-bogus.test"}
# then mta-sts where an enforce policy is in force (docs/policies.md)
AUTO_STS = {"sts.test", "sts-uncovered.test", "sts-wild.test"}
# domain -> (TLSA base domain, records the dane level was judged on): the
# CNAME target's TLSA RRset, not the decoy record at the original name
EXPECTED_DANE_BASE = {
    "dane-cname.test": ("smtp.dane-cname.test", ["2 0 1"]),
    "dane-ee.test": ("mx.dane-ee.test", ["3 1 1"]),
    "sni-dane.test": ("mx.sni-dane.test", ["3 1 1"]),
}
# (domain, level) -> (SNI the deciding connection sent, the warning it carries)
# docs/policies.md "What each sender sends"
EXPECTED_SNI = {
    ("sni.test", "verify"): None,
    ("sni.test", "esa-required-verify"): None,
    ("sni-dane.test", "dane"): "mx.sni-dane.test",
    ("sni-dane.test", "verify"): None,
    ("dane-cname.test", "dane"): "smtp.dane-cname.test",
    ("dane-ee.test", "dane"): "mx.dane-ee.test",
    ("good.test", "dane"): None,
    ("good.test", "verify"): None,
}
# (domain, level) -> a warning of the deciding address
EXPECTED_WARNING = {
    ("revoked.test", "verify"): "revoked",
    ("revoked.test", "esa-required-verify"): "revoked",
}
# domain -> the MX address that decided the verify verdict ("via")
EXPECTED_VIA = {
    "backup.test": "mx3.backup.test [127.0.2.19]",
    "implicit.test": "implicit.test [127.0.2.16]",
}


def world_env():
    out = subprocess.run([os.environ["MXTLS_WORLD"], "env"], capture_output=True, text=True,
                         check=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = v.strip("'")
    return env


def read_cases(path):
    rows = []
    header = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                continue
            rows.append(dict(zip(header, cols)))
    return rows


def implicit_tls_domains(w, rows):
    """domains whose every MX address listens on 465 only (hosts.tsv): they
    are checked with --tls-on-connect"""
    ports = {}
    with open(w["MXTLS_WORLD_HOSTS"], encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if line.startswith("#") or len(cols) < 3 or cols[0] == "address":
                continue
            ports.setdefault(cols[0], set()).add(cols[1])
    out = set()
    for r in rows:
        if r["addresses"] == "-":
            continue
        ips = [a.split("=", 1)[1] for a in r["addresses"].split(",")]
        if all(ports.get(ip) == {"465"} for ip in ips):
            out.add(r["domain"])
    return out


def run_check(w, domain, implicit=False):
    cmd = [os.environ["MXTLS_WORLD"], "exec", os.environ["MXTLS_BIN"], "check", domain,
           "--json", "--root-hints", w["MXTLS_WORLD_ROOT_HINTS"],
           "--trust-anchor", w["MXTLS_WORLD_TRUST_ANCHOR"], "--ca-file", w["MXTLS_WORLD_CA"],
           "--timeout", "15"] + (["--tls-on-connect"] if implicit else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    try:
        return p.returncode, json.loads(p.stdout), p.stderr
    except json.JSONDecodeError:
        return p.returncode, None, p.stderr + p.stdout[:500]


def deciding_address(doc, level):
    """the address object named by the matrix entry's via ("host [ip]")"""
    via = doc["matrix"][level]["via"]
    for a in doc["addresses"]:
        if via == f"{a['host']} [{a['ip']}]":
            return a
    return None


def main():
    w = world_env()
    rows = read_cases(w["MXTLS_WORLD_CASES"])
    implicit = implicit_tls_domains(w, rows)
    failures = []
    # dane-rollover.test must present its own certificate while we look: a
    # test that swaps it (tlsa_rollover.sh) holds this lock exclusively
    with open(w["MXTLS_WORLD_SWAP_LOCK"], "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as ex:
            results = dict(zip([r["domain"] for r in rows],
                               ex.map(lambda r: run_check(w, r["domain"], r["domain"] in implicit),
                                      rows)))
    checked = 1
    if len(implicit) < 6:
        failures.append(f"only {sorted(implicit)} are implicit-TLS cases (hosts.tsv)")
    for row in rows:
        d = row["domain"]
        rc, doc, err = results[d]
        if doc is None:
            failures.append(f"{d}: no JSON (exit {rc}): {err.strip()}")
            continue
        for lv in LEVELS:
            want = row[lv]
            got = doc["matrix"][lv]["verdict"]
            checked += 1
            if got != want:
                failures.append(f"{d} {lv}: expected {want}, got {got} "
                                f"({doc['matrix'][lv]['code']}: {doc['matrix'][lv]['message']})")
        # the auto level: dane with secure usable TLSA, else may (no policy
        # map); the exit code follows it
        auto = "dane" if d in AUTO_DANE else "mta-sts" if d in AUTO_STS else "may"
        checked += 1
        if doc["effective_level"] != auto:
            failures.append(f"{d}: effective_level {doc['effective_level']}, expected {auto} "
                            f"({doc.get('auto_reason')})")
        want_rc = {"pass": 0, "fail": 1, "tempfail": 3}[row[auto]]
        if rc != want_rc:
            failures.append(f"{d}: exit {rc}, expected {want_rc} (verdict at {auto}: {row[auto]})")
    for (d, lv), code in EXPECTED_CODES.items():
        doc = results[d][1]
        checked += 1
        if doc and doc["matrix"][lv]["code"] != code:
            failures.append(f"{d} {lv}: reason {doc['matrix'][lv]['code']}, expected {code}")
    for (d, lv), code in EXPECTED_INFO.items():
        doc = results[d][1]
        checked += 1
        if not doc:
            continue
        addr = deciding_address(doc, lv)
        infos = [r["code"] for r in addr["levels"][lv]["reasons"]] if addr else []
        if code not in infos[1:]:
            failures.append(f"{d} {lv}: reasons {infos}, expected info {code}")
    for d, sec in EXPECTED_DANE_SECURITY.items():
        doc = results[d][1]
        checked += 1
        if doc and doc["matrix"]["dane"]["security"] != sec:
            failures.append(f"{d} dane: security {doc['matrix']['dane']['security']}, "
                            f"expected {sec}")
    for d, (base, recs) in EXPECTED_DANE_BASE.items():
        doc = results[d][1]
        checked += 1
        addr = deciding_address(doc, "dane") if doc else None
        got = addr["levels"]["dane"]["dane"] if addr else {}
        got_recs = [r["record"].rsplit(" ", 1)[0] for r in got.get("records", [])]
        if got.get("base") != base or got_recs != recs:
            failures.append(f"{d} dane: TLSA base {got.get('base')} records {got_recs}, "
                            f"expected {base} {recs}")
    for (d, lv), sni in EXPECTED_SNI.items():
        doc = results[d][1]
        checked += 1
        addr = deciding_address(doc, lv) if doc else None
        conn = [p for p in addr["probes"] if lv in p["levels"]] if addr else []
        got = conn[0]["sni"] if conn else "(no connection)"
        sent = conn[0]["probe"]["tls"]["sni"] if conn and conn[0]["probe"] else None
        if got != sni or sent != sni:
            failures.append(f"{d} {lv}: SNI planned {got} sent {sent}, expected {sni}")
    for (d, lv), code in EXPECTED_WARNING.items():
        doc = results[d][1]
        checked += 1
        addr = deciding_address(doc, lv) if doc else None
        warns = [r["code"] for r in addr["levels"][lv]["reasons"]
                 if r["kind"] == "warning"] if addr else []
        if code not in warns:
            failures.append(f"{d} {lv}: warnings {warns}, expected {code}")
    # DANE-EE: the key alone is authenticated; PKIX fails the same server
    doc = results["dane-ee.test"][1]
    checked += 1
    if doc and not (doc["matrix"]["verify"]["verdict"] == "fail"
                    and doc["matrix"]["dane"]["verdict"] == "pass"):
        failures.append("dane-ee.test: expected verify fail and dane pass, got "
                        f"{doc['matrix']['verify']['verdict']} and "
                        f"{doc['matrix']['dane']['verdict']}")
    for d, via in EXPECTED_VIA.items():
        doc = results[d][1]
        checked += 1
        if doc and doc["matrix"]["verify"]["via"] != via:
            failures.append(f"{d}: verify decided via {doc['matrix']['verify']['via']}, "
                            f"expected {via}")
    for f in failures:
        print("FAIL", f)
    print(f"{checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
