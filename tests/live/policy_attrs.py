#!/usr/bin/env python3
"""policy_attrs.py - a Postfix TLS policy entry's attributes as mxtls applies them.

The probe makes the handshake the entry makes (protocols=, ciphers=, exclude=,
servername=), as Postfix does (docs/policymap.md, docs/policies.md), and "*" is
no default key. Runs the mxtls binary inside the world's namespace; every
assertion is on an exact value.
"""
import os
import subprocess
import tempfile

from worldlib import check, finish, js, mxtls



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
# a server that still accepts TLS 1.0 gets TLS 1.0 from such an entry: at
# encrypt Postfix offers its "medium" grade, anonymous suites first, at
# OpenSSL security level 0, and the server picks one; at verify Postfix runs
# at security level 1, which refuses TLS 1.0's SHA-1 signatures. The advice
# blames the entry, not the server.
rc, d, _ = with_map("good.test encrypt protocols=TLSv1\n", "check", "good.test")
if d:
    limited = [p for p in d["addresses"][0]["probes"] if p["protocols"] == "TLSv1"]
    tls = limited[0]["probe"]["tls"] if limited else {}
    check(rc == 0 and tls.get("version") == "TLSv1" and tls.get("cipher") == "AECDH-AES256-SHA",
          f"protocols=TLSv1 to good.test at encrypt: {rc} {tls}")
    check(d["reason"]["message"].startswith("TLS is established with an anonymous cipher suite"),
          f"anonymous suite reason {d['reason']}")
    check(not any("negotiated TLSv1" in x for x in d["advice"]),
          f"no server advice for the entry's TLS 1.0: {d['advice']}")
rc, d, _ = with_map("good.test verify protocols=TLSv1\n", "check", "good.test")
if d:
    check(rc == 1 and d["reason"]["code"] == "tls-failed" and
          "legacy sigalg disallowed or unsupported" in d["reason"]["message"],
          f"protocols=TLSv1 to good.test at verify: {rc} {d['reason']}")


# The real sending Postfix with the same entries: mxtls's verdict at the
# entry's level is what Postfix does (pass <-> sent).
def postfix_send(domain, level, attrs):
    p = subprocess.run([os.environ["MXTLS_WORLD"], "send", domain, "--level", level, "--policy",
                        attrs], capture_output=True, text=True, timeout=120)
    kv = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    return p.returncode, kv


for domain, level, attrs, want in [("good.test", "encrypt", "protocols=TLSv1", "pass"),
                                   ("good.test", "verify", "protocols=TLSv1", "fail"),
                                   ("modern.test", "encrypt", "protocols=TLSv1", "fail"),
                                   ("good.test", "verify", "protocols=TLSv1.2", "pass"),
                                   ("sni.test", "verify", "servername=hostname", "pass"),
                                   ("sni.test", "verify", "servername=mx.sni.test", "pass")]:
    rc, d, _ = with_map(f"{domain} {level} {attrs}\n", "check", domain)
    prc, kv = postfix_send(domain, level, attrs)
    says = d["verdict"] if d else None
    sent = kv.get("status")
    check(prc == 0 and says == want and (sent == "sent") == (want == "pass"),
          f"{domain} {level} {attrs}: mxtls {says}, Postfix {sent} ({kv.get('reason')}), "
          f"expected {want}")

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

finish()
