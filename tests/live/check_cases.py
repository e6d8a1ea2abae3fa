#!/usr/bin/env python3
"""check_cases.py - `mxtls check` against every domain of the test world.

Runs inside the world's network namespace (the world script's `exec`), with the
world's root hints, trust anchor and CA, and compares the verdict matrix with
tests/world/cases.tsv, then the decisive reason codes of EXPECTED_CODES.
Exit 0 when everything matches, 1 with a list of differences.
"""
import concurrent.futures
import json
import os
import subprocess
import sys

LEVELS = ["none", "may", "encrypt", "verify", "secure", "esa-preferred", "esa-required",
          "esa-preferred-verify", "esa-required-verify", "esa-required-verify-hosted"]

# (domain, level) -> decisive reason code of the domain verdict
EXPECTED_CODES = {
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
    ("revoked.test", "verify"): "revoked",
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


def run_check(w, domain):
    cmd = [os.environ["MXTLS_WORLD"], "exec", os.environ["MXTLS_BIN"], "check", domain,
           "--json", "--root-hints", w["MXTLS_WORLD_ROOT_HINTS"],
           "--trust-anchor", w["MXTLS_WORLD_TRUST_ANCHOR"], "--ca-file", w["MXTLS_WORLD_CA"],
           "--timeout", "15"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    try:
        return p.returncode, json.loads(p.stdout), p.stderr
    except json.JSONDecodeError:
        return p.returncode, None, p.stderr + p.stdout[:500]


def main():
    w = world_env()
    rows = read_cases(w["MXTLS_WORLD_CASES"])
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as ex:
        results = dict(zip([r["domain"] for r in rows],
                           ex.map(lambda r: run_check(w, r["domain"]), rows)))
    checked = 0
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
        # exit code follows the auto level (may without a policy map)
        want_rc = {"pass": 0, "fail": 1, "tempfail": 3}[row["may"]]
        if rc != want_rc:
            failures.append(f"{d}: exit {rc}, expected {want_rc} (verdict at may: {row['may']})")
    for (d, lv), code in EXPECTED_CODES.items():
        doc = results[d][1]
        checked += 1
        if doc and doc["matrix"][lv]["code"] != code:
            failures.append(f"{d} {lv}: reason {doc['matrix'][lv]['code']}, expected {code}")
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
