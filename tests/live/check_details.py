#!/usr/bin/env python3
"""check_details.py - mxtls check/probe features the case table does not show.

SNI comparison, STARTTLS injection, probe of one server (port 25 and implicit
TLS on 465), policy-map driven auto level, revocation modes, bad input and
bounded time against hostile servers, the exact advice for DNSSEC failures,
ignored TLSA records and DANE-TA name mismatches, SMTP routes by name and by
address. Runs the mxtls binary inside the world's
namespace; every assertion is on an exact value.
"""
import os
import tempfile

from worldlib import BASE, W, check, finish, js, mxtls


# SNI: Postfix and Cisco ESA send none, so the shared host's default
# certificate decides their verdicts; --sni-compare shows the other choice.
rc, d, _ = js("check", "sni.test", "--sni-compare", "--level", "verify")
if d:
    a = d["addresses"][0]
    check(rc == 1 and d["reason"]["code"] == "name-mismatch",
          f"sni.test --sni-compare: exit {rc} {d['reason']}")
    check(a["probe"]["tls"]["sni"] is None, f"sni sent {a['probe']['tls']['sni']}")
    check("no-sni.invalid" in a["levels"]["verify"]["presented"]["dns"],
          "default certificate names no-sni.invalid")
    alt = a["sni_compare"]
    check(alt is not None and alt["probe"]["tls"]["sni"] == "mx.sni.test",
          f"alt probe SNI {alt and alt['probe']['tls']['sni']}")
    check(alt and alt["levels"]["verify"]["verdict"] == "pass",
          f"with SNI verify passes: {alt and alt['levels']['verify']['reasons'][0]}")
    check(a["same_certificate"] is False, "same_certificate must be false")
    want = ("mx.sni.test [127.0.2.12] presents a certificate for no-sni.invalid to clients "
            "that send no SNI and one for mx.sni.test to clients that send SNI mx.sni.test. "
            "Postfix (unless smtp_tls_servername is set) and Cisco ESA send no SNI, so they are "
            "shown the default certificate. Fix either side: make the server's default "
            "certificate carry the MX hostname mx.sni.test (the receiving server), or set "
            "smtp_tls_servername = hostname on the sending Postfix (Postfix 3.4 and later).")
    check(want in d["advice"], f"SNI advice missing: {d['advice']}")
rc, d, _ = js("check", "sni.test", "--sni", "auto", "--level", "verify")
if d:
    check(rc == 0 and d["reason"]["code"] == "verified" and
          d["addresses"][0]["probe"]["tls"]["sni"] == "mx.sni.test",
          f"sni.test --sni auto: exit {rc} {d['reason']}")
# --servername models smtp_tls_servername = hostname: Postfix levels send the
# MX hostname and pass; the ESA levels still send none.
rc, d, _ = js("check", "sni.test", "--servername", "hostname", "--level", "verify")
if d:
    check(rc == 0 and d["reason"]["code"] == "verified", f"--servername hostname: {rc} {d['reason']}")
    check(d["matrix"]["esa-required-verify"]["code"] == "name-mismatch",
          f"ESA sends no SNI: {d['matrix']['esa-required-verify']}")
    check(len(d["addresses"][0]["probes"]) == 2, "two ClientHellos: Postfix's and Cisco's")
# the cPanel case with DANE: dane passes on the SNI certificate, verify fails
# on the default one, from two connections (one per distinct ClientHello)
rc, d, _ = js("check", "sni-dane.test")
if d:
    a = d["addresses"][0]
    check(rc == 0 and d["effective_level"] == "dane" and d["reason"]["code"] == "dane-verified",
          f"sni-dane.test: {rc} {d['effective_level']} {d['reason']}")
    check(d["matrix"]["verify"]["code"] == "name-mismatch", f"sni-dane verify {d['matrix']['verify']}")
    snis = sorted((p["sni"] or "") for p in a["probes"])
    check(snis == ["", "mx.sni-dane.test"], f"sni-dane probes {snis}")
    check(a["same_certificate"] is False, "sni-dane: certificates differ")
    check(any("set smtp_tls_servername = hostname" in x for x in d["advice"]),
          f"sni-dane advice {d['advice']}")
# one ClientHello when every sender sends the same: good.test has no TLSA
rc, d, _ = js("check", "good.test")
if d:
    # Postfix's and Cisco's ClientHello (no SNI) and the MTA-STS senders' (SNI
    # = the MX hostname): two connections, the same certificate
    pr = d["addresses"][0]["probes"]
    check([p["sni"] for p in pr] == [None, "mx.good.test"] and pr[1]["levels"] == ["mta-sts", "requiretls"]
          and d["addresses"][0]["same_certificate"],
          f"good.test: two connections, {[(p['sni'], p['levels']) for p in pr]}")
rc, out, err, _ = mxtls("check", "sni-dane.test")
check("also  no SNI (none, may, encrypt, fingerprint, verify, secure, esa-preferred, "
      "esa-required, esa-preferred-verify, esa-required-verify, esa-required-verify-hosted): "
      in out and "a different certificate: O=mxtls test,CN=no-sni.invalid" in out,
      f"text output names the second connection: {out}")
rc, out, err, _ = mxtls("check", "dane-ee.test", "--level", "verify")
check("also  SNI mx.dane-ee.test (dane, dane-only, mta-sts, requiretls): " in out and "the same certificate" in out,
      f"text output says the same certificate: {out}")
rc, d, _ = js("check", "sni.test", "--sni", "none", "--level", "verify")
if d:
    check(rc == 1 and d["reason"]["code"] == "name-mismatch",
          f"sni.test --sni none: exit {rc} {d['reason']}")

# STARTTLS injection: found, reported, advice given; the session still passes.
rc, d, _ = js("check", "inject.test", "--level", "verify")
if d:
    f = [x["code"] for x in d["addresses"][0]["probe"]["findings"]]
    check("starttls-injection" in f, f"inject.test findings {f}")
    check(rc == 0 and d["verdict"] == "pass", f"inject.test verify: {rc} {d['verdict']}")
    check(any("CVE-2011-0411" in x for x in d["advice"]), f"inject advice {d['advice']}")

# probe: one server, no MX lookup; implicit TLS on 465.
rc, out, err, _ = mxtls("probe", "mx.good.test", "--domain", "good.test", "--level", "verify")
check(rc == 0, f"probe mx.good.test: exit {rc}: {err}")
check(out.splitlines()[0] == "good.test: OK: TLS, PKIX senders", "probe headline")
check(out.splitlines()[6] == "good.test: PASS at level verify", "probe verdict line")
check("dialogue with 127.0.2.1" in out, "probe shows the dialogue")
rc, d, _ = js("probe", "mx.good.test:465", "--tls-on-connect", "--domain", "good.test", "--level",
              "verify")
if d:
    check(rc == 0 and d["port"] == 465 and d["verdict"] == "pass", f"465: {rc} {d['port']} {d['verdict']}")
    check(d["addresses"][0]["probe"]["outcome"] == "ok-tls", "465 outcome")
rc, d, _ = js("probe", "mx.good.test", "--ip", "127.0.2.2", "--domain", "good.test", "--level",
              "verify")
if d:
    check(rc == 1 and d["reason"]["code"] == "name-mismatch",
          f"probe --ip to the helo listener must fail name-mismatch: {rc} {d['reason']}")

# client certificates: the ccert listener asks; we present one only when given.
PKI = W["MXTLS_WORLD_PKI"]
rc, d, _ = js("probe", "mx.ccert.test", "--domain", "ccert.test")
check(d and d["addresses"][0]["probe"]["tls"]["client_cert"] == {"requested": True, "sent": False},
      f"ccert without a client cert: {d and d['addresses'][0]['probe']['tls']['client_cert']}")
rc, d, _ = js("probe", "mx.ccert.test", "--domain", "ccert.test", "--client-cert",
              PKI + "/good-chain.pem", "--client-key", PKI + "/good.key")
check(d and rc == 0 and
      d["addresses"][0]["probe"]["tls"]["client_cert"] == {"requested": True, "sent": True},
      f"ccert with a client cert: {rc} {d and d['addresses'][0]['probe']['tls']['client_cert']}")
rc, d, _ = js("probe", "mx.good.test", "--client-cert", PKI + "/good-chain.pem", "--client-key",
              PKI + "/good.key")
check(d and d["addresses"][0]["probe"]["tls"]["client_cert"] == {"requested": False, "sent": False},
      "good.test asks for no client certificate")
rc, out, err, _ = mxtls("probe", "mx.good.test", "--client-cert", PKI + "/good-chain.pem",
                        "--client-key", PKI + "/helo.key")
check(rc == 2 and "the key does not belong to the client certificate" in err,
      f"mismatched client key: exit {rc}: {err.strip()}")

# policy map: the entry's level is the auto level, its match= applies.
with tempfile.NamedTemporaryFile("w", suffix=".map", delete=False, dir="/tmp") as m:
    m.write("good.test secure\nhelo.test verify\nwild2.test verify match=.wild2.test\n")
    mapfile = m.name
try:
    rc, d, _ = js("check", "good.test", "--policy-map", mapfile)
    check(d and d["effective_level"] == "secure" and rc == 0, f"map good.test: {rc} {d and d['effective_level']}")
    rc, d, _ = js("check", "helo.test", "--policy-map", mapfile)
    check(d and d["effective_level"] == "verify" and rc == 1 and d["reason"]["code"] == "name-mismatch",
          f"map helo.test: {rc}")
    rc, d, _ = js("check", "wild2.test", "--policy-map", mapfile)
    check(d and rc == 0 and d["matrix"]["verify"]["verdict"] == "pass",
          f"match=.wild2.test must let verify pass: {rc} {d and d['matrix']['verify']}")
finally:
    os.unlink(mapfile)

# an explicit policy-map entry is the operator's choice: it wins over DANE
with tempfile.NamedTemporaryFile("w", suffix=".map", delete=False, dir="/tmp") as m:
    m.write("dane-ee.test verify\n")
    mapfile = m.name
try:
    rc, d, _ = js("check", "dane-ee.test", "--policy-map", mapfile)
    check(d and d["effective_level"] == "verify" and rc == 1 and
          d["reason"]["code"] == "self-signed",
          f"map entry must beat DANE: {rc} {d and (d['effective_level'], d['reason'])}")
finally:
    os.unlink(mapfile)

# a probe of an address: the name to verify comes from --domain
rc, d, _ = js("probe", "127.0.2.1", "--domain", "mx.good.test", "--level", "verify")
check(d and rc == 0 and d["addresses"][0]["ip"] == "127.0.2.1" and
      d["addresses"][0]["probe"]["tls"]["sni"] is None,
      f"probe of an address: {rc} {d and d['reason']}")
# implicit TLS against a plaintext listener: nothing to fall back to
rc, d, _ = js("probe", "mx.good.test:25", "--tls-on-connect", "--domain", "good.test",
              "--level", "may")
check(d and rc == 1 and d["reason"]["code"] == "tls-failed" and
      d["matrix"]["none"]["code"] == "implicit-tls",
      f"--tls-on-connect to port 25: {rc} {d and (d['reason'], d['matrix']['none'])}")

# revocation: reported (default), Postfix delivers anyway; soft models a
# sender that checks and fails the revoked leaf; off ignores it.
rc, d, _ = js("check", "revoked.test", "--level", "verify")
check(d and rc == 0 and d["reason"]["code"] == "verified", f"revoked.test report: {rc} {d and d['reason']}")
check(d and d["addresses"][0]["revocation"]["status"] == "revoked", "revocation status revoked")
w = [r for r in d["addresses"][0]["levels"]["verify"]["reasons"] if r["code"] == "revoked"] if d else []
check(w and w[0]["kind"] == "warning" and "Postfix delivers anyway; senders that check "
      "revocation refuse it" in w[0]["message"], f"revoked warning: {w}")
check(d and "The certificate has been revoked: install a new one." in d["advice"],
      f"revoked advice: {d and d['advice']}")
rc, d, _ = js("check", "revoked.test", "--level", "verify", "--revocation", "soft")
check(d and rc == 1 and d["reason"]["code"] == "revoked", f"revoked.test soft: {rc} {d and d['reason']}")
rc, d, _ = js("check", "revoked.test", "--level", "verify", "--revocation", "off")
check(d and rc == 0, f"revoked.test --revocation off: {rc}")
rc, d, _ = js("check", "good.test", "--level", "verify", "--revocation", "hard")
check(d and rc == 0 and d["addresses"][0]["revocation"]["status"] == "good",
      f"good.test hard: {rc} {d and d['addresses'][0]['revocation']}")

# bad input: exit 2 with a message; NXDOMAIN is a verdict (fail, exit 1).
for args, frag in [(("check", "bad..name"), "empty label"),
                   (("check", "good.test", "--port", "70000"), "not a port number"),
                   (("check", "127.0.0.1"), "is an IP address"),
                   (("probe", "[::1"), "is not HOST"),
                   (("check", "good.test", "--level", "verfy"), "unknown level"),
                   (("check", "good.test", "--sni", "a b"), "--sni needs"),
                   (("check", "good.test", "--ehlo", "a b"), "--ehlo needs"),
                   (("probe", "127.0.2.1"), "give --domain NAME")]:
    rc, out, err, _ = mxtls(*args)
    check(rc == 2 and frag in err, f"{args}: exit {rc}, stderr {err.strip()}")
rc, d, _ = js("check", "no-such-domain.test")
check(d and rc == 1 and d["reason"]["code"] == "nxdomain", f"nxdomain: {rc} {d and d['reason']}")

# hostile servers end within the deadline with a defined verdict.
rc, d, secs = js("check", "trickle.test", "--timeout", "3")
check(d and rc == 3 and d["reason"]["code"] == "timeout" and secs < 6,
      f"trickle: exit {rc} in {secs:.1f}s {d and d['reason']}")
rc, d, secs = js("check", "endless.test")
check(d and rc == 3 and d["reason"]["code"] == "smtp-limit-exceeded" and secs < 30,
      f"endless: exit {rc} in {secs:.1f}s {d and d['reason']}")

# Advice that is right every time: exact sentences for the world's cases.
DANE_TA = ("The DANE-TA record of mx.dane-ta-badname.test matches the server's chain, so the "
           "TLSA records are right; but with DANE-TA senders also check the certificate's names "
           "against the TLSA base domain mx.dane-ta-badname.test (the MX hostname), and the "
           "certificate carries elsewhere.invalid, CN=elsewhere.invalid. Put "
           "mx.dane-ta-badname.test in its subjectAltName, or publish a DANE-EE record "
           "(\"3 1 1\"), which checks no names.")
rc, d, _ = js("check", "dane-ta-badname.test")
check(d and rc == 1 and d["effective_level"] == "dane" and d["reason"]["code"] == "name-mismatch",
      f"dane-ta-badname: {rc} {d and (d['effective_level'], d['reason'])}")
check(d and DANE_TA in d["advice"], f"dane-ta-badname advice: {d and d['advice']}")
check(d and not any(x.startswith("Make the TLSA records") for x in d["advice"]),
      f"dane-ta-badname: the TLSA records match, no advice to change them: {d and d['advice']}")

# TLSA records in an unsigned zone: check says they are ignored, why, what to do.
rc, d, _ = js("check", "dane-insecure.test")
check(d and rc == 0 and d["effective_level"] == "may",
      f"dane-insecure: {rc} {d and d['effective_level']}")
check(d and d["advice"] == [
    "The TLSA record at _25._tcp.mx.dane-insecure.test is ignored: it is not DNSSEC-signed (no DS "
    "record leads to it: the zone is not signed, or its delegation is insecure), so DANE senders "
    "do not use it (RFC 7672 \u00a72.2). Sign the zone and publish its DS record at the parent "
    "zone."], f"dane-insecure advice: {d and d['advice']}")
check(d and d["matrix"]["dane"]["code"] == "encrypted",
      f"dane-insecure: the ignored records change no verdict: {d and d['matrix']['dane']}")
rc, d, _ = js("check", "good.test")
check(d and not any("TLSA" in x for x in d["advice"]), f"good.test TLSA advice: {d and d['advice']}")

# DNSSEC failures: the validator's reason becomes the operator's advice.
EXPIRED_WHY = ("validation failure <bogus-expired.test. MX IN>: signature expired from 127.0.1.3 "
               "for key bogus-expired.test. while building chain of trust")
rc, d, _ = js("check", "bogus-expired.test")
check(d and rc == 3 and d["advice"] == [
    "The MX records of bogus-expired.test fail DNSSEC validation (" + EXPIRED_WHY + "). The "
    "zone's DNSSEC signatures (RRSIG) have expired: re-sign the zone now, and check the job that "
    "re-signs it before they expire (the signer's cron job, or the DNS server's automatic "
    "re-signing)."], f"bogus-expired advice: {rc} {d and d['advice']}")
CRYPTO = ("A DNSSEC signature does not verify over the records served: they were changed after "
          "signing, or a server serves a stale or differently signed copy of the zone; re-sign "
          "the zone after every change and make every authoritative server serve the same signed "
          "zone.")
rc, d, _ = js("check", "bogus-tampered.test")
check(d and rc == 3 and d["advice"] == [
    "The MX records of bogus-tampered.test fail DNSSEC validation (validation failure "
    "<bogus-tampered.test. MX IN>: ECDSA signature verification failed from 127.0.1.3). " + CRYPTO],
    f"bogus-tampered advice: {rc} {d and d['advice']}")
rc, d, _ = js("check", "dane-bogus.test")
check(d and rc == 3 and any(x.startswith("The TLSA records at _25._tcp.mx.dane-bogus.test fail "
                                         "DNSSEC validation (servfail: validation failure "
                                         "<_25._tcp.mx.dane-bogus.test. TLSA IN>: ECDSA signature "
                                         "verification failed from 127.0.1.3")
                            and x.endswith("). " + CRYPTO) for x in d["advice"]),
      f"dane-bogus advice: {rc} {d and d['advice']}")
for dom, adv in (("bogus-expired.test", EXPIRED_WHY), ("dane-insecure.test", None)):
    rc, out, err, _ = mxtls("dns", dom, *BASE[:4], dns=False)
    want = ("  advice: The zone's DNSSEC signatures (RRSIG) have expired: re-sign the zone now, and "
            "check the job that re-signs it before they expire (the signer's cron job, or the DNS "
            "server's automatic re-signing)." if adv else
            "  advice: These TLSA records are not DNSSEC-signed (no DS record leads to them: the "
            "zone is not signed, or its delegation is insecure), so DANE senders ignore them (RFC "
            "7672 section 2.2). Sign the zone and publish its DS record at the parent zone.")
    check(want in out.splitlines(), f"dns {dom}: no line {want!r} in {out}")

# A fingerprint of another digest in the policy map (check at level fingerprint).
_, sha1, _, _ = mxtls("fingerprint", PKI + "/good.crt", "--digest", "sha1", dns=False)
_, sha256, _, _ = mxtls("fingerprint", PKI + "/good.crt", dns=False)
sha1, sha256 = sha1.strip(), sha256.strip()
with tempfile.NamedTemporaryFile("w", suffix=".map", delete=False, dir="/tmp") as m:
    m.write(f"good.test fingerprint match={sha1}\n")
    mapfile = m.name
try:
    rc, d, _ = js("check", "good.test", "--policy-map", mapfile)
    want = (f"The fingerprint {sha1} is the SHA-1 digest of the server's certificate, but the "
            "sender computes SHA-256 digests (Postfix smtp_tls_fingerprint_digest = sha256): "
            f"configure its SHA-256 digest {sha256} instead, or set the digest to sha1.")
    check(d and rc == 1 and d["effective_level"] == "fingerprint" and
          d["reason"]["code"] == "fingerprint-mismatch" and want in d["advice"],
          f"fingerprint digest advice: {rc} {d and (d['reason'], d['advice'])}")
finally:
    os.unlink(mapfile)

# Routes: an FQDN route is the reference identity (the one connected, not the
# MX host); an address route connects, and is compared with nothing.
rc, d, _ = js("check", "other.test", "--route", "[mx.good.test]", "--route", "[mx.expired.test]",
              "--level", "esa-required-verify-hosted")
refs = d and [[r["name"] for r in a["levels"]["esa-required-verify-hosted"]["reference"]]
              for a in d["addresses"]]
check(d and rc == 0 and refs == [["other.test", "mx.good.test"], ["other.test", "mx.expired.test"]],
      f"FQDN routes: {rc} {refs}")
check(d and [a["levels"]["esa-required-verify-hosted"]["verdict"] for a in d["addresses"]] ==
      ["pass", "fail"], "FQDN routes: each route's own name")
rc, d, _ = js("check", "good.test", "--route", "[127.0.2.1]", "--level", "esa-required-verify-hosted")
a = d and d["addresses"][0]
check(d and rc == 0 and a["ip"] == "127.0.2.1" and a["probe"]["tls"]["sni"] is None and
      [r["name"] for r in a["levels"]["esa-required-verify-hosted"]["reference"]] ==
      ["good.test", "mx.good.test"],
      f"address route, hosted: {rc} {a and a['levels']['esa-required-verify-hosted']}")
check(d and a["levels"]["verify"]["verdict"] == "fail" and
      a["levels"]["verify"]["reference"] == [{"name": "127.0.2.1", "against": "ip",
                                              "source": "hostname"}] and
      d["matrix"]["secure"]["code"] == "name-mismatch",
      f"address route, Postfix: {a and a['levels']['verify']} {d and d['matrix']['secure']}")
rc, d, _ = js("check", "good.test", "--route", "127.0.2.1", "--level", "esa-required-verify-hosted")
check(d and rc == 0, f"bare address route: {rc}")
rc, out, err, _ = mxtls("check", "good.test", "--route", "[mx.good.test]:25")
check(rc == 2 and "give the port with --port, not in the route" in err,
      f"route with a port: {rc} {err.strip()}")

# Caps are reported, never silent: many.caps.test has ten A records (8 are
# probed); nothing listens there, so every connection is refused.
rc, d, _ = js("check", "caps.test", "-4", "--level", "may")
if d:
    h = d["mx"]["hosts"][0]
    check(h["name"] == "many.caps.test" and h["addresses_dropped"] == 2 and
          h["tlsa_dropped"] == 0 and d["mx"]["hosts_dropped"] == 0,
          f"caps.test host: {h}")
    ips = [a["ip"] for a in d["addresses"]]
    check(len(ips) == 8 and len(set(ips)) == 8 and
          all(ip.startswith("127.0.8.") for ip in ips), f"caps.test addresses {ips}")
    check(all(a["ptr_dropped"] == 0 for a in d["addresses"]), "caps.test: no PTR cut")
    check(rc == 3 and d["verdict"] == "tempfail" and d["reason"]["code"] == "connect-failed",
          f"caps.test verdict: {rc} {d['verdict']} {d['reason']}")
rc, out, err, _ = mxtls("check", "caps.test", "-4", "--level", "may")
check("    (2 more addresses not checked)\n" in out, f"caps.test text note: {out}")

finish()
