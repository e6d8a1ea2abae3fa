#!/usr/bin/env python3
"""policy_attrs.py - a Postfix TLS policy entry's attributes as mxtls applies them.

The probe makes the handshake the entry makes (protocols=, ciphers=, exclude=,
servername=), as Postfix does (docs/policymap.md, docs/policies.md), and "*" is
no default key. Runs the mxtls binary inside the world's namespace; every
assertion is on an exact value.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

FAILS = []
COUNT = [0]


def world_env():
    out = subprocess.run([os.environ["MXTLS_WORLD"], "env"], capture_output=True, text=True,
                         check=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[len("export "):].partition("=")
            env[k] = v.strip("'")
    return env


W = world_env()
BASE = ["--root-hints", W["MXTLS_WORLD_ROOT_HINTS"], "--trust-anchor",
        W["MXTLS_WORLD_TRUST_ANCHOR"], "--ca-file", W["MXTLS_WORLD_CA"]]


def mxtls(*args, dns=True):
    cmd = [os.environ["MXTLS_WORLD"], "exec", os.environ["MXTLS_BIN"], *args]
    if dns:
        cmd += BASE
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def check(cond, what):
    COUNT[0] += 1
    if not cond:
        FAILS.append(what)


def js(*args):
    rc, out, err, secs = mxtls(*args, "--json")
    try:
        return rc, json.loads(out), secs
    except json.JSONDecodeError:
        FAILS.append(f"{args}: no JSON (exit {rc}): {err.strip()[:300]}")
        return rc, None, secs




def with_map(text, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".map", delete=False, dir="/tmp") as m:
        m.write(text)
        name = m.name
    try:
        return js(*args, "--policy-map", name)
    finally:
        os.unlink(name)


# protocols=TLSv1 (seed 003): only TLS 1.0 is offered; a server that speaks
# TLS 1.2 and 1.3 only refuses it, so the entry's level fails the handshake
# as Postfix's does. Postfix's default (>=TLSv1) still gets TLS 1.3 there.
rc, d, _ = with_map("modern.test encrypt protocols=TLSv1\n", "check", "modern.test")
if d:
    check(rc == 1 and d["effective_level"] == "encrypt" and d["reason"]["code"] == "tls-failed",
          f"protocols=TLSv1: {rc} {d['effective_level']} {d['reason']}")
    probes = d["addresses"][0]["probes"]
    limited = [p for p in probes if p["protocols"] == "TLSv1"]
    # the default (no SNI), the entry's, and the MTA-STS senders' (SNI = MX host)
    check(len(probes) == 3 and len(limited) == 1 and limited[0]["levels"] == ["encrypt"],
          f"protocols=TLSv1 probes: {[(p['protocols'], p['levels']) for p in probes]}")
    check(limited and limited[0]["probe"]["outcome"] == "tls-failed",
          f"limited probe outcome {limited and limited[0]['probe']['outcome']}")
    # the other levels keep the default handshake
    check(d["matrix"]["verify"]["verdict"] == "pass", f"verify {d['matrix']['verify']}")
    check(d["matrix"]["may"]["verdict"] == "pass", f"may {d['matrix']['may']}")
    want = ("The policy map entry \"modern.test\" (line 1) sets protocols=TLSv1, which leaves "
            "neither TLS 1.2 nor TLS 1.3: the sender's handshakes with this destination fail. "
            "TLS 1.0 and 1.1 are obsolete (RFC 8996); remove protocols= from the entry or use "
            "protocols=>=TLSv1.2.")
    check(want in d["advice"], f"protocols advice: {d['advice']}")
# a server that still accepts TLS 1.0 gets TLS 1.0 from such an entry; the
# advice blames the entry, not the server
rc, d, _ = with_map("good.test encrypt protocols=TLSv1\n", "check", "good.test")
if d:
    limited = [p for p in d["addresses"][0]["probes"] if p["protocols"] == "TLSv1"]
    check(rc == 0 and limited and limited[0]["probe"]["tls"]["version"] == "TLSv1",
          f"protocols=TLSv1 to good.test: {rc} {limited and limited[0]['probe']['tls']}")
    check(not any("negotiated TLSv1" in x for x in d["advice"]),
          f"no server advice for the entry's TLS 1.0: {d['advice']}")

# protocols=TLSv1.2: the handshake is TLS 1.2, where the default one is TLS 1.3
rc, d, _ = with_map("good.test verify protocols=TLSv1.2\n", "check", "good.test")
if d:
    probes = {p["protocols"]: p for p in d["addresses"][0]["probes"]}
    check(rc == 0 and probes.get("TLSv1.2", {}).get("probe", {}).get("tls", {}).get("version")
          == "TLSv1.2", f"protocols=TLSv1.2: {rc} {list(probes)}")
    check(probes.get(None, {}).get("probe", {}).get("tls", {}).get("version") == "TLSv1.3",
          "the default handshake stays TLS 1.3")

# ciphers=high with exclude= of every cipher the server has over TLS 1.2:
# nothing is left, the handshake fails
rc, d, _ = with_map("good.test encrypt protocols=TLSv1.2 ciphers=high "
                    "exclude=AES:CHACHA20:CAMELLIA:ARIA\n", "check", "good.test")
if d:
    check(rc == 1 and d["reason"]["code"] == "tls-failed",
          f"exclude= every cipher: {rc} {d['reason']}")

# servername= overrides smtp_tls_servername for the entry's level: the shared
# host then shows the MX's own certificate to verify, not to the others
rc, d, _ = with_map("sni.test verify servername=hostname\n", "check", "sni.test")
if d:
    check(rc == 0 and d["effective_level"] == "verify" and d["reason"]["code"] == "verified",
          f"servername=hostname: {rc} {d['reason']}")
    check(d["matrix"]["secure"]["code"] == "name-mismatch",
          f"secure keeps no SNI: {d['matrix']['secure']}")
rc, d, _ = with_map("sni.test verify servername=mx.sni.test\n", "check", "sni.test")
if d:
    check(rc == 0 and d["reason"]["code"] == "verified", f"servername=NAME: {rc} {d['reason']}")

# "*" is no default key: the auto level is not taken from it
rc, d, _ = with_map("* verify\n", "check", "helo.test")
if d:
    check(rc == 0 and d["effective_level"] == "may" and
          d["auto_reason"] == "no policy map entry: opportunistic TLS (may)",
          f"'*' must not apply: {rc} {d['effective_level']} {d['auto_reason']}")

for f in FAILS:
    print("FAIL", f)
print(f"{COUNT[0] - len(FAILS)} passed, {len(FAILS)} failed")
sys.exit(1 if FAILS else 0)
