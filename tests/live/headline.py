#!/usr/bin/env python3
"""headline.py - the headline of `mxtls check` (docs/cli.md "The headline")
against real world domains of every kind: clean, a certificate naming the
HELO host, no STARTTLS, authenticated by DANE only, an MTA-STS policy in
mode enforce that fails, MTA-STS testing, an MTA-STS record whose policy
answers 404, bogus DNSSEC, a bogus TLSA RRset (DANE senders defer),
REQUIRETLS offered, a null MX; and `probe`, which looks up no MTA-STS.

For each: the exact first seven lines of the text (the headline, its five
rows, the verdict line of the level that sets the exit code), the exit code,
and the JSON summary agreeing with the text and the exit code.
"""
from worldlib import check, finish, js, mxtls

TLS_OK = "  TLS (may, encrypt)                  ok            encrypted"
PKIX_OK = "  PKIX (verify, secure, Cisco Verify) ok            verified"
NO_DANE = "  DANE (dane, dane-only)              not published no-tlsa"
NO_STS = "  MTA-STS (mta-sts)                   not published no-policy"
NO_RTLS = "  REQUIRETLS (requiretls)             not offered   requiretls-not-advertised"
MAY = "PASS at level may (auto: no policy map entry: opportunistic TLS (may))"

# domain -> (exit code, the first seven lines, JSON summary rows as (state, reason))
CASES = {
    "good.test": (0, [
        "good.test: OK: TLS, PKIX senders",
        TLS_OK, PKIX_OK, NO_DANE, NO_STS, NO_RTLS,
        "good.test: " + MAY,
    ]),
    "helo.test": (0, [
        "helo.test: FAIL name-mismatch: PKIX senders; OK: TLS",
        TLS_OK,
        "  PKIX (verify, secure, Cisco Verify) FAIL          name-mismatch (3 of 4)",
        NO_DANE, NO_STS, NO_RTLS,
        "helo.test: " + MAY,
    ]),
    "plain.test": (0, [
        "plain.test: TLS not offered; FAIL no-starttls: PKIX senders",
        "  TLS (may, encrypt)                  not offered   no-starttls",
        "  PKIX (verify, secure, Cisco Verify) FAIL          no-starttls",
        NO_DANE, NO_STS, NO_RTLS,
        "plain.test: " + MAY,
    ]),
    "dane-ee.test": (0, [
        "dane-ee.test: FAIL self-signed: PKIX senders; OK: TLS, DANE, MTA-STS",
        TLS_OK,
        "  PKIX (verify, secure, Cisco Verify) FAIL          self-signed",
        "  DANE (dane, dane-only)              ok            dane-verified",
        "  MTA-STS (mta-sts)                   ok            enforce",
        NO_RTLS,
        "dane-ee.test: PASS at level dane (auto: DNSSEC-secure TLSA records at "
        "mx.dane-ee.test: dane)",
    ]),
    "sts-uncovered.test": (1, [
        "sts-uncovered.test: FAIL: PKIX senders, MTA-STS; OK: TLS",
        TLS_OK,
        "  PKIX (verify, secure, Cisco Verify) FAIL          name-mismatch (secure)",
        NO_DANE,
        "  MTA-STS (mta-sts)                   FAIL          sts-mx-not-covered",
        NO_RTLS,
        "sts-uncovered.test: FAIL at level mta-sts (auto: an MTA-STS policy in mode "
        "enforce: mta-sts)",
    ]),
    "sts.test": (0, [
        "sts.test: OK: TLS, PKIX senders, MTA-STS",
        TLS_OK, PKIX_OK, NO_DANE,
        "  MTA-STS (mta-sts)                   ok            enforce",
        NO_RTLS,
        "sts.test: PASS at level mta-sts (auto: an MTA-STS policy in mode enforce: mta-sts)",
    ]),
    "sts-testing.test": (0, [
        "sts-testing.test: OK: TLS, PKIX senders",
        TLS_OK, PKIX_OK, NO_DANE,
        "  MTA-STS (mta-sts)                   not enforced  testing",
        NO_RTLS,
        "sts-testing.test: " + MAY,
    ]),
    "sts-404.test": (0, [
        "sts-404.test: FAIL name-mismatch: PKIX senders; FAIL policy-http-404: MTA-STS",
        TLS_OK,
        "  PKIX (verify, secure, Cisco Verify) FAIL          name-mismatch (secure)",
        NO_DANE,
        "  MTA-STS (mta-sts)                   FAIL          policy-http-404",
        NO_RTLS,
        "sts-404.test: " + MAY,
    ]),
    "bogus-expired.test": (3, [
        "bogus-expired.test: TEMPFAIL dns-bogus: every sender",
        "  TLS (may, encrypt)                  TEMPFAIL      dns-bogus",
        "  PKIX (verify, secure, Cisco Verify) TEMPFAIL      dns-bogus",
        "  DANE (dane, dane-only)              TEMPFAIL      dns-bogus",
        "  MTA-STS (mta-sts)                   TEMPFAIL      dns-bogus",
        "  REQUIRETLS (requiretls)             TEMPFAIL      dns-bogus",
        "bogus-expired.test: TEMPFAIL at level may (auto: no policy map entry: "
        "opportunistic TLS (may))",
    ]),
    "dane-bogus.test": (3, [
        "dane-bogus.test: TEMPFAIL tlsa-lookup-error: DANE, REQUIRETLS",
        TLS_OK, PKIX_OK,
        "  DANE (dane, dane-only)              TEMPFAIL      tlsa-lookup-error",
        NO_STS,
        "  REQUIRETLS (requiretls)             TEMPFAIL      tlsa-lookup-error",
        "dane-bogus.test: TEMPFAIL at level dane (auto: a failed TLSA lookup (a DANE "
        "sender defers) at mx.dane-bogus.test: dane)",
    ]),
    "requiretls.test": (0, [
        "requiretls.test: OK: TLS, PKIX senders, DANE, REQUIRETLS",
        TLS_OK, PKIX_OK,
        "  DANE (dane, dane-only)              ok            dane-verified",
        NO_STS,
        "  REQUIRETLS (requiretls)             ok            requiretls-ok",
        "requiretls.test: PASS at level dane (auto: DNSSEC-secure TLSA records at "
        "mx.requiretls.test: dane)",
    ]),
    "nullmx.test": (1, [
        "nullmx.test: FAIL null-mx: TLS, PKIX senders, DANE, REQUIRETLS",
        "  TLS (may, encrypt)                  FAIL          null-mx",
        "  PKIX (verify, secure, Cisco Verify) FAIL          null-mx",
        "  DANE (dane, dane-only)              FAIL          null-mx",
        NO_STS,
        "  REQUIRETLS (requiretls)             FAIL          null-mx",
        "nullmx.test: FAIL at level may (auto: no policy map entry: opportunistic TLS (may))",
    ]),
}

KEYS = ["tls", "pkix", "dane", "mta_sts", "requiretls"]
STATES = {"ok": "ok", "FAIL": "fail", "TEMPFAIL": "tempfail", "not offered": "not-offered",
          "not published": "not-published", "not enforced": "not-enforced",
          "not checked": "not-checked"}


def row_fields(line):
    """(state, reason) of a row as the text shows it"""
    rest = line[2 + 35 + 1:]
    state, reason = rest[:13].rstrip(), rest[14:].split(" (")[0]
    return STATES[state], reason


for domain, (code, want) in CASES.items():
    rc, out, err, _ = mxtls("check", domain, "--timeout", "30")
    got = out.splitlines()[:7]
    check(rc == code, f"{domain}: exit {rc}, expected {code}: {err.strip()[:200]}")
    check(got == want, f"{domain}: headline\n  got  {got}\n  want {want}")
    check(all(len(x) <= 80 for x in got[:6]), f"{domain}: a headline line over 80 columns")
    rc, d, _ = js("check", domain, "--timeout", "30")
    if not d:
        continue
    s = d["summary"]
    check(rc == code and s["exit_code"] == code, f"{domain} --json: exit {rc}, {s['exit_code']}")
    check(s["headline"] == want[0], f"{domain} --json headline {s['headline']!r}")
    check(s["level"] == d["effective_level"] and s["verdict"] == d["verdict"],
          f"{domain} --json: summary {s['level']} {s['verdict']}, report "
          f"{d['effective_level']} {d['verdict']}")
    for key, line in zip(KEYS, want[1:6]):
        check((s[key]["state"], s[key]["reason"]) == row_fields(line),
              f"{domain} --json {key}: {s[key]} for {line!r}")

# helo.test in JSON: which of the PKIX levels fail, by name
rc, d, _ = js("check", "helo.test", "--timeout", "30")
if d:
    check(d["summary"]["pkix"]["failing"] == ["verify", "secure", "esa-required-verify-hosted"],
          f"helo.test pkix failing {d['summary']['pkix']['failing']}")

# --level: the rows stay; the verdict line and the exit code are that level's
rc, out, _, _ = mxtls("check", "helo.test", "--level", "verify", "--timeout", "30")
lines = out.splitlines()
check(rc == 1, f"helo.test --level verify: exit {rc}")
check(lines[0] == CASES["helo.test"][1][0], f"helo.test --level verify: {lines[0]!r}")
check(lines[6] == "helo.test: FAIL at level verify", f"helo.test --level verify: {lines[6]!r}")

# probe: no MTA-STS lookup, said so
rc, out, _, _ = mxtls("probe", "mx.good.test", "--domain", "good.test", "--level", "verify")
check(rc == 0, f"probe mx.good.test: exit {rc}")
check(out.splitlines()[:7] == [
    "good.test: OK: TLS, PKIX senders",
    TLS_OK, PKIX_OK, NO_DANE,
    "  MTA-STS (mta-sts)                   not checked   not-looked-up",
    NO_RTLS,
    "good.test: PASS at level verify"], f"probe headline {out.splitlines()[:7]}")

finish()
