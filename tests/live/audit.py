"""audit.py - `mxtls audit` against the audit listeners of the test world
(hosts.tsv 127.0.6.x, docs/world.md "Audit listeners"), with testssl.sh
(Debian package testssl.sh) run in the same test on the same listeners as
the anchor for the protocol and cipher findings: the two must agree on
every listener, for every protocol and cipher class mxtls asked about.
"""
import json
import os
import subprocess
import tempfile

from worldlib import W, check, finish, js, mxtls

# --- exact findings and advice ------------------------------------------------

def findings(port):
    return [(f["id"], f["severity"]) for f in port["findings"]]


def finding(port, fid):
    for f in port["findings"]:
        if f["id"] == fid:
            return f
    return None


def only_port(doc, name):
    """the one port of the one address of the one host"""
    hosts = doc["hosts"]
    check(len(hosts) == 1 and len(hosts[0]["addresses"]) == 1
          and len(hosts[0]["addresses"][0]["ports"]) == 1, f"{name}: one host, address, port")
    return hosts[0]["addresses"][0]["ports"][0]


DOCS = {}  # (ip, port) -> the port object mxtls reported

# The well-configured server, as a domain (its MX host), on 25, 465 and 587.
rc, doc, secs = js("audit", "audit.test", "--pace", "20", timeout=200)
check(rc == 0, f"audit.test: exit {rc}, expected 0")
if doc:
    check(doc["target_kind"] == "domain", f"audit.test: kind {doc['target_kind']}")
    h = doc["hosts"][0]
    check((h["name"], h["preference"]) == ("good.audit.test", 10), f"audit.test: host {h['name']}")
    ports = {p["port"]: p for p in h["addresses"][0]["ports"]}
    check(sorted(ports) == [25, 465, 587], f"audit.test: ports {sorted(ports)}")
    for n, p in ports.items():
        DOCS[("127.0.6.1", n)] = p
        check(p["protocols"] == {"TLSv1": "no", "TLSv1.1": "no", "TLSv1.2": "yes", "TLSv1.3": "yes"},
              f"audit.test:{n}: protocols {p['protocols']}")
        check(p["certificate"] == {"level": "verify", "verdict": "pass", "code": None,
                                   "message": None, "names": "good.audit.test"},
              f"audit.test:{n}: certificate {p['certificate']}")
        check(p["key"] == {"type": "EC", "bits": 256}, f"audit.test:{n}: key {p['key']}")
        check(p["ciphers"]["null"] == "no" and p["ciphers"]["aead"] == "yes"
              and p["ciphers"]["cbc"] == "yes", f"audit.test:{n}: ciphers {p['ciphers']}")
        check(p["ciphers"]["anonymous"] == ("yes" if n == 25 else "no"),
              f"audit.test:{n}: anonymous {p['ciphers']['anonymous']}")
        # Debian 12 Postfix 3.7 + OpenSSL 3 (docs/audit.md, "Key exchange groups"):
        # no ffdhe2048 (tls_eecdh_auto_curves replaces the TLS 1.3 groups), DHE
        # only as ADH on 25 (EC certificate; 465/587 exclude aNULL)
        check(p["groups"] == {"X25519": "yes", "prime256v1": "yes", "secp384r1": "yes",
                              "ffdhe2048": "no", "DHE": "yes" if n == 25 else "no"},
              f"audit.test:{n}: groups {p['groups']}")
        check((p["group"], p["handshakes"], p["handshakes_skipped"])
              == ("X25519", 9 if n == 25 else 10, 0),
              f"audit.test:{n}: group {p['group']}, handshakes {p['handshakes']}"
              f" skipped {p['handshakes_skipped']}")
    p25, p465, p587 = ports[25], ports[465], ports[587]
    check(findings(p25) == [("cipher-anonymous", "info"), ("cipher-cbc", "info"),
                            ("ocsp-not-stapled", "info"), ("requiretls-missing", "info")],
          f"audit.test:25: findings {findings(p25)}")
    check(p25["mail_without_tls"] == {"accepted": "yes", "code": 250, "reply": "250 2.1.0 Ok"},
          f"audit.test:25: mail {p25['mail_without_tls']}")
    check((p25["starttls"], p25["auth_before_tls"], p25["auth_after_tls"]) == ("yes", "no", "no"),
          "audit.test:25: STARTTLS yes, no AUTH")
    for n, p in ((465, p465), (587, p587)):
        check(findings(p) == [("cipher-cbc", "info"), ("ocsp-not-stapled", "info")],
              f"audit.test:{n}: findings {findings(p)}")
        check(p["auth_after_tls"] == "yes", f"audit.test:{n}: AUTH over TLS")
    check((p465["starttls"], p465["auth_before_tls"]) == ("not-tested", "not-tested"),
          "audit.test:465: TLS on connect, nothing in clear")
    check(p587["mail_without_tls"] == {"accepted": "no", "code": 530,
                                       "reply": "530 5.7.0 Must issue a STARTTLS command first"},
          f"audit.test:587: mail {p587['mail_without_tls']}")
    check(p587["auth_before_tls"] == "no", "audit.test:587: no AUTH before TLS")
    check(doc["counts"] == {"error": 0, "warning": 0, "info": 8}, f"audit.test: counts {doc['counts']}")

# TLS 1.0 and 1.1 accepted (Postfix's defaults).
rc, doc, _ = js("audit", "tls10.audit.test", "--ports", "25", "--pace", "20")
check(rc == 0, f"tls10: exit {rc}, expected 0 (warnings only)")
if doc:
    p = only_port(doc, "tls10")
    DOCS[("127.0.6.2", 25)] = p
    check(findings(p) == [("tls1.0-accepted", "warning"), ("tls1.1-accepted", "warning"),
                          ("cipher-anonymous", "info"), ("cipher-cbc", "info"),
                          ("ocsp-not-stapled", "info"), ("requiretls-missing", "info")],
          f"tls10: findings {findings(p)}")
    f = finding(p, "tls1.0-accepted")
    check(f and f["postfix_parameter"] == "smtpd_tls_protocols, smtpd_tls_mandatory_protocols"
          and f["postfix_fix"] == "# main.cf\nsmtpd_tls_protocols = >=TLSv1.2\n"
                                  "smtpd_tls_mandatory_protocols = >=TLSv1.2"
          and f["detail"] == "a handshake limited to TLSv1 succeeded"
          and f["opensmtpd"] == 'OpenSMTPD: listen on IFACE tls pki NAME protocols "tlsv1.2,tlsv1.3"',
          f"tls10: advice {f}")

# AUTH before STARTTLS, mail accepted in clear on 587.
rc, doc, _ = js("audit", "authclear.audit.test", "--ports", "587", "--pace", "20")
check(rc == 1, f"authclear: exit {rc}, expected 1")
if doc:
    p = only_port(doc, "authclear")
    DOCS[("127.0.6.3", 587)] = p
    check(findings(p) == [("auth-before-tls", "error"), ("submission-plaintext-mail", "error"),
                          ("tls1.0-accepted", "error"), ("tls1.1-accepted", "error"),
                          ("cipher-anonymous", "warning"), ("cipher-cbc", "info"),
                          ("ocsp-not-stapled", "info")],
          f"authclear: findings {findings(p)}")
    f = finding(p, "auth-before-tls")
    check(f and f["postfix_parameter"] == "smtpd_tls_auth_only"
          and f["postfix_fix"] == "# main.cf\nsmtpd_tls_auth_only = yes"
          and f["detail"] == "the EHLO reply before STARTTLS on port 587 offers AUTH",
          f"authclear: auth advice {f}")
    f = finding(p, "submission-plaintext-mail")
    check(f and f["postfix_parameter"] == "smtpd_tls_security_level (master.cf submission)"
          and f["postfix_fix"] == "# master.cf\nsubmission inet n - y - - smtpd\n"
                                  "  -o smtpd_tls_security_level=encrypt"
          and f["detail"] == 'MAIL FROM:<> without TLS was answered "250 2.1.0 Ok"',
          f"authclear: mail advice {f}")

# No STARTTLS on 587.
rc, doc, _ = js("audit", "nostarttls.audit.test", "--ports", "587", "--pace", "20")
check(rc == 1, f"nostarttls: exit {rc}, expected 1")
if doc:
    p = only_port(doc, "nostarttls")
    check(findings(p) == [("submission-starttls-missing", "error"),
                          ("submission-plaintext-mail", "error")],
          f"nostarttls: findings {findings(p)}")
    check((p["starttls"], p["tls"], p["handshakes"]) == ("no", False, 0),
          f"nostarttls: starttls {p['starttls']} tls {p['tls']} handshakes {p['handshakes']}")
    f = finding(p, "submission-starttls-missing")
    check(f and f["postfix_fix"] == "# master.cf\nsubmission inet n - y - - smtpd\n"
                                    "  -o smtpd_tls_security_level=encrypt\n"
                                    "  -o smtpd_sasl_auth_enable=yes",
          f"nostarttls: advice {f}")

# The intermediate CA is not sent.
rc, doc, _ = js("audit", "nointer.audit.test", "--ports", "25", "--pace", "20")
check(rc == 0, f"nointer: exit {rc}, expected 0 (a warning on port 25)")
if doc:
    p = only_port(doc, "nointer")
    DOCS[("127.0.6.5", 25)] = p
    check(("cert-chain-incomplete", "warning") in findings(p), f"nointer: findings {findings(p)}")
    check(p["certificate"]["verdict"] == "fail"
          and p["certificate"]["code"] == "missing-intermediate",
          f"nointer: certificate {p['certificate']}")
    f = finding(p, "cert-chain-incomplete")
    check(f and f["postfix_parameter"] == "smtpd_tls_chain_files", f"nointer: advice {f}")

# NULL suites accepted.
rc, doc, _ = js("audit", "weak.audit.test", "--ports", "25", "--pace", "20")
check(rc == 1, f"weak: exit {rc}, expected 1")
if doc:
    p = only_port(doc, "weak")
    DOCS[("127.0.6.6", 25)] = p
    check(findings(p) == [("cipher-null", "error"), ("cipher-anonymous", "info"),
                          ("cipher-cbc", "info"), ("ocsp-not-stapled", "info"),
                          ("requiretls-missing", "info")],
          f"weak: findings {findings(p)}")
    f = finding(p, "cipher-null")
    check(f and f["postfix_fix"] == "# main.cf: back to the built-in lists, and never NULL\n"
                                    "smtpd_tls_ciphers = medium\n"
                                    "smtpd_tls_mandatory_ciphers = medium\n"
                                    "smtpd_tls_exclude_ciphers = eNULL",
          f"weak: advice {f}")

# The bound: --max-handshakes 2 on 465 = the full handshake and TLS 1.0 only.
rc, doc, _ = js("audit", "good.audit.test", "--ports", "465", "--max-handshakes", "2",
                "--pace", "20")
check(rc == 0, f"good:465 bounded: exit {rc}")
if doc:
    p = only_port(doc, "good:465")
    check((p["handshakes"], p["handshakes_skipped"]) == (2, 9),
          f"good:465 bounded: handshakes {p['handshakes']} skipped {p['handshakes_skipped']}")
    check(p["protocols"] == {"TLSv1": "no", "TLSv1.1": "not-tested", "TLSv1.2": "not-tested",
                             "TLSv1.3": "yes"}, f"good:465 bounded: protocols {p['protocols']}")
    check(p["groups"] == {"X25519": "yes", "prime256v1": "not-tested", "secp384r1": "not-tested",
                          "ffdhe2048": "not-tested", "DHE": "not-tested"},
          f"good:465 bounded: groups {p['groups']}")

# Postfix's own listeners keep the default groups: the same answers everywhere.
for (ip, port), p in sorted(DOCS.items()):
    if ip != "127.0.6.1":
        check(p["groups"] == {"X25519": "yes", "prime256v1": "yes", "secp384r1": "yes",
                              "ffdhe2048": "no", "DHE": "yes"},
              f"{ip}:{port}: groups {p['groups']}")
        check("group-modern-missing" not in [f[0] for f in findings(p)],
              f"{ip}:{port}: findings {findings(p)}")

# ECDHE with P-384 only (tls_eecdh_auto_curves = secp384r1): no modern group.
rc, doc, _ = js("audit", "curves.audit.test", "--ports", "25", "--pace", "20")
check(rc == 0, f"curves: exit {rc}, expected 0 (a warning)")
if doc:
    p = only_port(doc, "curves")
    DOCS[("127.0.6.7", 25)] = p
    check(p["groups"] == {"X25519": "no", "prime256v1": "no", "secp384r1": "yes",
                          "ffdhe2048": "no", "DHE": "yes"}, f"curves: groups {p['groups']}")
    check(p["group"] == "secp384r1", f"curves: group {p['group']}")
    check(findings(p) == [("cipher-anonymous", "info"), ("cipher-cbc", "info"),
                          ("group-modern-missing", "warning"), ("ocsp-not-stapled", "info"),
                          ("requiretls-missing", "info")], f"curves: findings {findings(p)}")
    f = finding(p, "group-modern-missing")
    check(f and f["detail"] == "handshakes offering only X25519 or only P-256 did not use them "
                               "(accepted: secp384r1 DHE)"
          and f["postfix_parameter"]
          == "tls_eecdh_auto_curves (Postfix >= 3.8 also tls_ffdhe_auto_groups)"
          and f["postfix_fix"] == "# main.cf: back to the built-in list (Postfix 3.6 and later)\n"
                                  "tls_eecdh_auto_curves = X25519 X448 prime256v1 secp521r1 secp384r1\n"
                                  "# Postfix >= 3.8: tls_ffdhe_auto_groups = ffdhe2048 ffdhe3072"
          and f["exim"] == "Exim (OpenSSL): tls_eccurve = auto" and f["opensmtpd"] is None,
          f"curves: advice {f}")
rc, out, err, _ = mxtls("audit", "curves.audit.test", "--ports", "25", "--pace", "20")
check(rc == 0 and "    groups: X25519 no, prime256v1 no, secp384r1 yes, ffdhe2048 no, DHE yes\n" in out
      and "    warning group-modern-missing: no modern ECDHE group (X25519 or P-256) is accepted"
          " for the key exchange\n" in out,
      f"curves text: exit {rc}: {out[:600]}")

# Nothing answers: exit 3, one port-closed finding per port.
rc, doc, _ = js("audit", "127.0.6.9", "--ports", "25,587", "--pace", "20")
check(rc == 3, f"127.0.6.9: exit {rc}, expected 3")
if doc:
    ps = doc["hosts"][0]["addresses"][0]["ports"]
    check([findings(p) for p in ps] == [[("port-closed", "error")], [("port-closed", "info")]],
          f"127.0.6.9: findings {[findings(p) for p in ps]}")
    check(ps[0]["unreachable"] == "connection refused", f"127.0.6.9: {ps[0]['unreachable']}")

# Other world servers, full handshake only (--max-handshakes 1): each
# finding of the certificate and handshake rules, with its detail.
for host, port, fid, sev, detail in (
        ("mx.helo.test", 25, "cert-name-mismatch", "warning", None),
        ("mx.expired.test", 25, "cert-untrusted", "warning", None),
        ("mx.ccert.test", 25, "client-cert-requested", "info",
         "the handshake carried a CertificateRequest"),
        ("mx.handshake-alert.test", 25, "tls-handshake-failed", "error",
         "after STARTTLS: sslv3 alert handshake failure"),
        ("mx.tls-ehlo-554.test", 25, "tls-handshake-failed", "error",
         "after STARTTLS: the server refused EHLO over TLS: 554 5.7.1 mx.tls-ehlo-554.test "
         "hostile: EHLO refused"),
        ("mx.implicit-alert.test", 465, "implicit-tls-failed", "error",
         "TLS on connect to port 465: sslv3 alert handshake failure")):
    rc, doc, _ = js("audit", host, "--ports", str(port), "--max-handshakes", "1", "--pace", "20")
    check(rc == (1 if sev == "error" else 0), f"{host}: exit {rc}")
    if doc:
        p = only_port(doc, host)
        f = finding(p, fid)
        check(f is not None and f["severity"] == sev and (detail is None or f["detail"] == detail),
              f"{host}: {fid}: {f} in {findings(p)}")
        check(p["handshakes"] == 1, f"{host}: handshakes {p['handshakes']}")
        if fid.startswith("cert-"):
            check(p["certificate"]["code"] == {"cert-name-mismatch": "name-mismatch",
                                               "cert-untrusted": "expired"}[fid],
                  f"{host}: certificate {p['certificate']}")

# The text report says the same in one line per finding.
rc, out, err, _ = mxtls("audit", "weak.audit.test", "--ports", "25", "--pace", "20")
check(rc == 1 and out.startswith("weak.audit.test: 1 error, 0 warnings, 4 notes\n")
      and "    error cipher-null: cipher suites without encryption (NULL) are accepted\n" in out
      and "      Postfix: smtpd_tls_exclude_ciphers, tls_*_cipherlist\n" in out,
      f"weak text: exit {rc}: {out[:400]}")

# --- the groups' anchor: openssl s_client on the same listeners ----------------
# TLS 1.3 with one group offered completes only if the server accepts that group
# (RFC 8446 §4.2.7); DHE: TLS 1.2 with DHE suites only.

S_CLIENT = {"X25519": ["-tls1_3", "-groups", "X25519"],
            "prime256v1": ["-tls1_3", "-groups", "P-256"],
            "secp384r1": ["-tls1_3", "-groups", "P-384"],
            "ffdhe2048": ["-tls1_3", "-groups", "ffdhe2048"],
            "DHE": ["-tls1_2", "-cipher", "kDHE:@SECLEVEL=0"]}


def s_client(ip, port, args):
    cmd = [os.environ["MXTLS_WORLD"], "exec", "timeout", "20", "openssl", "s_client",
           "-connect", f"{ip}:{port}", *args]
    if port != 465:
        cmd += ["-starttls", "smtp"]
    p = subprocess.run(cmd, input="", capture_output=True, text=True, timeout=60)
    if "Cipher is (NONE)" in p.stdout or "alert handshake failure" in p.stderr:
        return "no"
    return "yes" if "New, TLSv1." in p.stdout else f"unclear: {p.stderr.strip()[-200:]}"


for (ip, port), p in sorted(DOCS.items()):
    for name, args in S_CLIENT.items():
        got = s_client(ip, port, args)
        check(p["groups"][name] == got, f"{ip}:{port} {name}: mxtls {p['groups'][name]}, openssl {got}")

# --- the anchor: testssl.sh on the same listeners -----------------------------

PROTO = {"TLS1": "TLSv1", "TLS1_1": "TLSv1.1", "TLS1_2": "TLSv1.2", "TLS1_3": "TLSv1.3"}
CIPHERS = {"cipherlist_NULL": "null", "cipherlist_aNULL": "anonymous",
           "cipherlist_3DES_IDEA": "3des", "cipherlist_AVERAGE": "cbc",
           "cipherlist_STRONG": "aead"}


def testssl(ip, port, tmp):
    """testssl.sh -p -s on one listener: {mxtls name: "yes"/"no"}"""
    out = os.path.join(tmp, f"{ip}-{port}.json")
    cmd = [os.environ["MXTLS_WORLD"], "exec", "testssl", "--quiet", "--warnings", "off",
           "--color", "0", "-p", "-s", "--jsonfile", out]
    if port != 465:
        cmd += ["--starttls", "smtp"]
    cmd.append(f"{ip}:{port}")
    subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    got = {}
    try:
        with open(out) as f:
            for item in json.load(f):
                name = PROTO.get(item["id"]) or CIPHERS.get(item["id"])
                if name:
                    got[name] = "no" if item["finding"].startswith("not offered") else \
                                "yes" if item["finding"].startswith("offered") else item["finding"]
    except (OSError, ValueError) as e:
        check(False, f"testssl {ip}:{port}: no JSON ({e})")
    return got


with tempfile.TemporaryDirectory() as tmp:
    for (ip, port), p in sorted(DOCS.items()):
        ts = testssl(ip, port, tmp)
        ours = dict(p["protocols"])
        ours.update(p["ciphers"])
        compared = 0
        for name, answer in ours.items():
            if answer == "not-tested":
                continue  # a class this OpenSSL cannot offer (3DES)
            compared += 1
            check(ts.get(name) == answer,
                  f"{ip}:{port} {name}: mxtls {answer}, testssl {ts.get(name)}")
        check(compared >= 8, f"{ip}:{port}: only {compared} answers compared")

finish()
