#!/bin/sh
# verify.sh - `mxtls verify` and the top-level command line: exact exit codes,
# exact report lines, JSON fields, usage errors.
#
# Environment (set by CTest): MXTLS_BIN, MXTLS_TEST_CERTS. Every failed check
# is reported; the script exits 1 if any failed.
set -eu
. "$(dirname "$0")/lib/assert.sh"
C=${MXTLS_TEST_CERTS:?MXTLS_TEST_CERTS is not set}
AT=2026-06-01T00:00:00Z
NO_COLOR=1
export NO_COLOR
HAVE_PY=0
if [ -z "${MXTLS_TEST_NO_PYTHON:-}" ] && command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import json' >/dev/null 2>&1; then
    HAVE_PY=1
fi

# js EXPR WANT FRAGMENT - the Python expression over the document `d` (stdout)
# prints WANT; without python3, the compact JSON contains FRAGMENT instead
js() {
    checks=$((checks + 1))
    if [ "$HAVE_PY" = 1 ]; then
        got=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)' "$T/out" "$1" 2>&1) || {
            fail "JSON: $1: $got"
            return 0
        }
        [ "$got" = "$2" ] || fail "JSON $1 = $got, expected $2: $last"
    else
        grep -qF -- "$3" "$T/out" || fail "JSON lacks $3: $last"
    fi
}

# row LEVEL VERDICT SECURITY REASON - the table line for a level, exactly
row() {
    line "$T/out" "$(printf '%-28s %-9s %-10s %s' "$1" "$2" "$3" "$4")"
}

V="verify --ca-file $C/ca.pem --at $AT"

# ---- the table without --level ---------------------------------------------
run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com
first "$T/out" "$(printf '%-28s %-9s %-10s %s' LEVEL VERDICT SECURITY REASON)"
row none pass plaintext tls-disabled
row may pass encrypted encrypted
row encrypt pass encrypted encrypted
row fingerprint tempfail none no-fingerprints
row verify pass verified verified
row secure pass verified verified
row dane pass encrypted encrypted
row dane-only fail none mx-insecure
row esa-preferred pass encrypted encrypted
row esa-required pass encrypted encrypted
row esa-preferred-verify pass encrypted not-verified
row esa-required-verify fail none name-mismatch
row esa-required-verify-hosted pass verified verified
line "$T/out" "evidence"
line "$T/out" "  domain      example.com"
line "$T/out" "  mx          mx1.example.com (MX lookup not DNSSEC-secure)"
line "$T/out" "  cert dns    mx1.example.com"
line "$T/out" "  cert cn     mx1.example.com"
line "$T/out" "  pkix        valid"
checks=$((checks + 1))
[ "$(grep -c '^[a-z-]* *\(pass\|fail\|tempfail\) ' "$T/out")" = 15 ] || fail "not 15 level rows"
empty "$T/err"
# no colour when stdout is not a terminal
checks=$((checks + 1))
if grep -q "$(printf '\033')" "$T/out"; then fail "ANSI escapes in redirected output"; fi

# A table is printed with exit 0 even when levels fail.
run 0 $V --chain "$C/expired-chain.pem" --domain example.com --mx mx1.example.com
row none pass plaintext tls-disabled
row may pass encrypted encrypted
row fingerprint tempfail none no-fingerprints
row verify fail none expired
row secure fail none expired
row esa-preferred-verify pass encrypted not-verified
row esa-required-verify fail none expired
row esa-required-verify-hosted fail none expired
frag "$T/out" "  - Renew the certificate: it expired on 2021-01-01T00:00:00Z."

# Without STARTTLS.
run 0 $V --no-starttls --domain example.com
row none pass plaintext tls-disabled
row may pass plaintext no-starttls
row encrypt fail none no-starttls
row fingerprint fail none no-starttls
row verify fail none no-starttls
row secure fail none no-starttls
row dane pass plaintext no-starttls
row dane-only fail none dane-not-applicable
row esa-preferred pass plaintext no-starttls
row esa-required fail none no-starttls
row esa-preferred-verify pass plaintext no-starttls
row esa-required-verify fail none no-starttls
row esa-required-verify-hosted fail none no-starttls
line "$T/out" "  tls         not established (no STARTTLS)"

# ---- one level: exit codes 0 / 1 / 3 ---------------------------------------
run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com --level verify
first "$T/out" "verify: PASS (security: verified)"
line "$T/out" "  * verified: the chain is valid and the certificate name mx1.example.com matches the reference identity mx1.example.com"
line "$T/out" "  matched: mx1.example.com = mx1.example.com"
frag "$T/out" "  ! mx-insecure: the MX hostname mx1.example.com comes from an MX lookup without DNSSEC"
empty "$T/err"

run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com --mx-secure --level verify
line "$T/out" "  mx          mx1.example.com (MX lookup DNSSEC-secure)"
nofrag "$T/out" "mx-insecure"

# the HELO name is not the MX name
run 1 $V --chain "$C/helo-chain.pem" --domain example.com --mx mx.example.com --level verify
first "$T/out" "verify: FAIL (security: none)"
line "$T/out" "  * name-mismatch [4.7.5]: no certificate name matches the reference identities (mx.example.com); the certificate carries foo.example.com, CN=foo.example.com"
line "$T/out" "  matched: none"
line "$T/out" "  - The certificate must carry the MX hostname mx.example.com as a DNS subjectAltName (it carries: foo.example.com, CN=foo.example.com). The HELO/EHLO name does not matter for verification."

# PKIX failures
run 1 $V --chain "$C/mx1-leafonly.pem" --domain example.com --mx mx1.example.com --level verify
frag "$T/out" "  * missing-intermediate [4.7.5]: the server sent only its own certificate"
run 1 $V --chain "$C/self-chain.pem" --domain example.com --mx mx1.example.com --level secure
frag "$T/out" "  * self-signed [4.7.5]: "
run 1 $V --chain "$C/othermx1-chain.pem" --domain example.com --mx mx1.example.com --level esa-required-verify-hosted
frag "$T/out" "  * unknown-issuer: the issuer \"O=mxtls test,CN=mxtls Other Root CA\""
run 1 $V --chain "$C/future-chain.pem" --domain example.com --mx mx1.example.com --level verify
frag "$T/out" "  * not-yet-valid [4.7.5]: "
run 1 $V --chain "$C/clientonly-chain.pem" --domain example.com --mx mx1.example.com --level verify
frag "$T/out" "  * wrong-purpose [4.7.5]: "
# the system trust store does not know the test root (no --ca-file)
run 1 verify --at $AT --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com --level verify
frag "$T/out" "  * unknown-issuer [4.7.5]: "

# any certificate at the unauthenticated levels
run 0 $V --chain "$C/self-chain.pem" --domain example.com --level encrypt
first "$T/out" "encrypt: PASS (security: encrypted)"

# no STARTTLS at one level
run 1 $V --no-starttls --domain example.com --level encrypt
first "$T/out" "encrypt: FAIL (security: none)"
line "$T/out" "  * no-starttls [4.7.4]: TLS is required at level encrypt, but the server does not offer STARTTLS"
run 0 $V --no-starttls --domain example.com --level may
first "$T/out" "may: PASS (security: plaintext)"

# tempfail: hard revocation checking without an answer -> exit 3
run 3 $V --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com --level verify \
    --revocation hard --revocation-status unavailable
first "$T/out" "verify: TEMPFAIL (security: none)"
frag "$T/out" "  * revocation-unavailable [4.7.5]: "

# fingerprint with the digest openssl computes
fp=$(openssl x509 -in "$C/mx1.crt" -noout -fingerprint -sha256 | sed 's/^[^=]*=//')
run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --level fingerprint --match "$fp"
first "$T/out" "fingerprint: PASS (security: verified)"
line "$T/out" "  * fingerprint-match: the certificate sha256 digest of the server certificate matches a configured fingerprint"
line "$T/out" "  fingerprint sha256 $fp"
run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --level fingerprint --match "$fp" --json
js 'd["matched"]' "{\"reference\": \"$fp\", \"presented\": \"$fp\"}" "\"matched\":{\"reference\":\"$fp\",\"presented\":\"$fp\"}"
run 1 $V --chain "$C/helo-chain.pem" --domain example.com --level fingerprint --match "$fp"
frag "$T/out" "  * fingerprint-mismatch [4.7.5]: "
# a lower-case, colon-free digest among others, and sha1
fp1=$(openssl x509 -in "$C/mx1.crt" -noout -fingerprint -sha1 | sed 's/^[^=]*=//' | tr -d : | tr 'A-F' 'a-f')
run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --level fingerprint \
    --fingerprint-digest sha1 --match "00:11|$fp1"
line "$T/out" "  * fingerprint-match: the certificate sha1 digest of the server certificate matches a configured fingerprint"

# the Cisco worked example (docs/policies.md)
ESA="$V --chain $C/esa-chain.pem --domain example.com --mx mx01.subd.emailhosted.not --ip 192.0.2.10 --ptr mx0a.emailhosted.not --ptr-confirmed"
run 0 $ESA --level esa-required-verify
first "$T/out" "esa-required-verify: PASS (security: verified)"
line "$T/out" "  matched: mx0a.emailhosted.not = *.emailhosted.not"
line "$T/out" "  ptr         mx0a.emailhosted.not (forward-confirmed)"
run 1 $ESA --level esa-required-verify-hosted
first "$T/out" "esa-required-verify-hosted: FAIL (security: none)"
frag "$T/out" "  * name-mismatch: no certificate name matches the reference identities (example.com, mx01.subd.emailhosted.not)"
line "$T/out" "  - The wildcard *.emailhosted.not covers exactly one label, so it does not cover mx01.subd.emailhosted.not: add mx01.subd.emailhosted.not itself (or *.subd.emailhosted.not) to the certificate."

# secure with a route as the next hop, given as [host]
run 0 $V --chain "$C/mx1-chain.pem" --domain other.test --route '[mx1.example.com]' --level secure
line "$T/out" "  matched: mx1.example.com = mx1.example.com"
line "$T/out" "  routes      mx1.example.com"

# verify with a route and no --mx: the route host presented the chain (Postfix
# "hostname" = the next hop), as with check --route
run 0 $V --chain "$C/mx1-chain.pem" --domain other.test --route '[mx1.example.com]' --level verify
first "$T/out" "verify: PASS (security: verified)"
line "$T/out" "  mx1.example.com                against dns-or-cn (from hostname)  <- matched"
run 1 $V --chain "$C/mx1-chain.pem" --domain other.test --route 'relay.other.test' --level verify
frag "$T/out" "  * name-mismatch [4.7.5]: no certificate name matches the reference identities (relay.other.test); "
line "$T/out" "  - The certificate must carry the MX hostname relay.other.test as a DNS subjectAltName (it carries: mx1.example.com, CN=mx1.example.com). The HELO/EHLO name does not matter for verification."

# Cisco hosted domains with several FQDN routes: the first one is the one
# connected; the MX hostname is not considered
run 1 $V --chain "$C/mx1-chain.pem" --domain other.test --route relay.other.test \
    --route '[mx1.example.com]' --level esa-required-verify-hosted
frag "$T/out" "  * name-mismatch: no certificate name matches the reference identities (other.test, relay.other.test); "
run 0 $V --chain "$C/mx1-chain.pem" --domain other.test --route '[mx1.example.com]:25' \
    --route relay.other.test --level esa-required-verify-hosted
line "$T/out" "  mx1.example.com                against dns-or-cn (from route)  <- matched"

# a route given as an address: used to connect, never compared (a CN or a
# dNSName that spells the address passes no level)
for form in 192.0.2.1 '[192.0.2.1]' '[192.0.2.1]:2525'; do
    for cert in ipcn ipname; do
        run 0 $V --chain "$C/$cert-chain.pem" --domain example.com --route "$form" --mx mx1.example.com
        row verify fail none name-mismatch
        row secure fail none name-mismatch
        row esa-preferred-verify pass encrypted not-verified
        row esa-required-verify fail none name-mismatch
        row esa-required-verify-hosted fail none name-mismatch
        line "$T/out" "  ip          192.0.2.1"
        line "$T/out" "  routes      192.0.2.1"
    done
done
run 1 $V --chain "$C/ipcn-chain.pem" --domain example.com --route '[192.0.2.1]' \
    --mx mx1.example.com --level esa-required-verify-hosted
frag "$T/out" "  * name-mismatch: no certificate name matches the reference identities (example.com, mx1.example.com); the certificate carries CN=192.0.2.1"
line "$T/out" "  - Cisco ESA senders in Verify Hosted Domains mode with an SMTP route given as an address (192.0.2.1) compare the certificate with the recipient domain example.com and the MX hostname mx1.example.com, never with the address: the certificate needs one of these names as a dNSName (it carries: CN=192.0.2.1)."
# ... and the MX host's certificate passes through it
run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --route '[192.0.2.1]' \
    --mx mx1.example.com --level esa-required-verify-hosted
line "$T/out" "  mx1.example.com                against dns-or-cn (from mx)  <- matched"
# Postfix compares an address next hop with iPAddress SANs (OpenSSL 3)
run 0 $V --chain "$C/ipsan-chain.pem" --domain example.net --route '[192.0.2.25]' --level verify
line "$T/out" "  192.0.2.25                     against ip        (from hostname)  <- matched"
run 1 $V --chain "$C/ipsan-chain.pem" --domain example.net --route '[192.0.2.25]' --level esa-required-verify-hosted
frag "$T/out" "  * name-mismatch: no certificate name matches the reference identities (example.net); "
run 2 $V --chain "$C/mx1-chain.pem" --domain example.com --route '[192.0.2.1' --level verify
line "$T/err" "mxtls verify: route: \"[192.0.2.1\" is not a host, [host], [host]:port or an address"

# secure: the example name is under the next hop, never the MX host elsewhere
run 1 $V --chain "$C/esa-chain.pem" --domain yahoo.com --mx mta6.am0.yahoodns.net --level secure
line "$T/out" "  - For senders at level secure the certificate must carry yahoo.com or a name under it (such as mx.yahoo.com) as a DNS subjectAltName (it carries: *.emailhosted.not, emailhosted.not, CN=*.emailhosted.not). The MX hostname mta6.am0.yahoodns.net is not under yahoo.com, so naming it does not satisfy secure."
nofrag "$T/out" "for example mta6.am0.yahoodns.net"

# a fingerprint in another digest than the selected one
SHA1=$("$BIN" fingerprint "$C/mx1.crt" --digest sha1)
SHA256=$("$BIN" fingerprint "$C/mx1.crt")
run 1 $V --chain "$C/mx1-chain.pem" --domain example.com --level fingerprint --match "$SHA1"
first "$T/out" "fingerprint: FAIL (security: none)"
line "$T/out" "  - The fingerprint $SHA1 is the SHA-1 digest of the server's certificate, but the sender computes SHA-256 digests (Postfix smtp_tls_fingerprint_digest = sha256): configure its SHA-256 digest $SHA256 instead, or set the digest to sha1."
run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --level fingerprint --match "$SHA1" --fingerprint-digest sha1
nofrag "$T/out" "smtp_tls_fingerprint_digest"

# the chain from standard input
run 0 $V --chain - --domain example.com --mx mx1.example.com --level verify <"$C/mx1-chain.pem"
first "$T/out" "verify: PASS (security: verified)"

# ---- JSON ---------------------------------------------------------------------
run 0 $V --chain "$C/ipsan-chain.pem" --domain example.com --mx mx1.example.com --level verify --json
js 'd["schema_version"]' 1 '"schema_version":1'
js 'd["level"]' verify '"level":"verify"'
js 'd["verdict"]' pass '"verdict":"pass"'
js 'd["security"]' verified '"security":"verified"'
js 'd["reasons"][0]["code"]' verified '"reasons":[{"code":"verified","kind":"decisive"'
js 'd["reasons"][0]["status"]' null '"status":null'
js 'd["reasons"][1]["code"]' mx-insecure '{"code":"mx-insecure","kind":"warning"'
js 'd["presented"]' '{"dns": ["mx1.example.com"], "ip": ["192.0.2.25", "2001:db8::25"], "cn": ["mx1.example.com"]}' \
    '"presented":{"dns":["mx1.example.com"],"ip":["192.0.2.25","2001:db8::25"],"cn":["mx1.example.com"]}'
js 'd["reference"]' '[{"name": "mx1.example.com", "against": "dns-or-cn", "source": "hostname"}]' \
    '"reference":[{"name":"mx1.example.com","against":"dns-or-cn","source":"hostname"}]'
js 'd["matched"]' '{"reference": "mx1.example.com", "presented": "mx1.example.com"}' \
    '"matched":{"reference":"mx1.example.com","presented":"mx1.example.com"}'
js 'len(d["chain"])' 2 '"chain":[{'
js 'd["chain"][0]["not_after"]' 2035-01-01T00:00:00Z '"not_after":"2035-01-01T00:00:00Z"'
ipfp=$(openssl x509 -in "$C/ipsan.crt" -noout -fingerprint -sha256 | sed 's/^[^=]*=//')
js 'd["chain"][0]["sha256"]' "$ipfp" "\"sha256\":\"$ipfp\""
js 'd["pkix"]' '{"valid": true, "error": null, "message": "the chain is valid", "depth": null}' \
    '"pkix":{"valid":true,"error":null,"message":"the chain is valid","depth":null}'
js 'd["fingerprint"]["cert"]' "$ipfp" "\"cert\":\"$ipfp\""
checks=$((checks + 1))
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "JSON is not one line"

run 1 $V --chain "$C/expired-chain.pem" --domain example.com --mx mx9.example.com --level verify --json
js 'd["verdict"]' fail '"verdict":"fail"'
js '[r["code"] for r in d["reasons"]]' '["expired", "name-mismatch", "mx-insecure"]' '"code":"expired"'
js 'd["reasons"][0]["status"]' 4.7.5 '"status":"4.7.5"'
js 'd["pkix"]["error"]' expired '"error":"expired"'
js 'd["pkix"]["depth"]' 0 '"depth":0'
js 'd["matched"]' null '"matched":null'

run 0 $V --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com --json
js 'd["schema_version"]' 1 '{"schema_version":1,"levels":['
js '[l["level"] + "=" + l["verdict"] for l in d["levels"]]' \
    '["none=pass", "may=pass", "encrypt=pass", "fingerprint=tempfail", "verify=pass", "secure=pass", "dane=pass", "dane-only=fail", "esa-preferred=pass", "esa-required=pass", "esa-preferred-verify=pass", "esa-required-verify=fail", "esa-required-verify-hosted=pass", "mta-sts=pass", "requiretls=fail"]' \
    '{"level":"esa-required-verify","verdict":"fail"'

run 1 $V --no-starttls --domain example.com --level verify --json
js 'd["presented"]' null '"presented":null'
js 'd["tls"]' false '"tls":false'
js 'd["reasons"][0]["status"]' 4.7.4 '"status":"4.7.4"'

# ---- input errors: exit 2, "mxtls verify: where: message" --------------------
run 2 $V --chain "$T/missing.pem" --domain example.com
line "$T/err" "mxtls verify: $T/missing.pem: cannot open: No such file or directory"
empty "$T/out"
printf 'hello\n-----BEGIN CERTIFICATE-----\nMIIB\n' >"$T/trunc.pem"
run 2 $V --chain "$T/trunc.pem" --domain example.com
line "$T/err" "mxtls verify: $T/trunc.pem:2: PEM block has no END line (truncated file?)"
openssl x509 -in "$C/mx1.crt" -outform DER -out "$T/mx1.der"
run 2 $V --chain "$T/mx1.der" --domain example.com
line "$T/err" "mxtls verify: $T/mx1.der: binary (DER) data where PEM is expected; convert it with \"openssl x509 -inform DER -in FILE\""
: >"$T/empty.pem"
run 2 $V --chain "$T/empty.pem" --domain example.com
line "$T/err" "mxtls verify: $T/empty.pem: empty file: expected PEM certificates"
run 2 $V --chain "$C/mx1-chain.pem" --domain 'bad..example'
line "$T/err" "mxtls verify: domain: name \"bad..example\" has an empty label"
run 2 $V --chain "$C/mx1-chain.pem" --domain example.com --ip 192.0.2.300
line "$T/err" "mxtls verify: IP address: \"192.0.2.300\" is not an IPv4 or IPv6 address"
run 2 $V --chain "$C/mx1-chain.pem" --domain example.com --level verify --match 'hostname:a..b'
line "$T/err" "mxtls verify: match: match item \"a..b\": name \"a..b\" has an empty label"
run 2 verify --ca-file "$T/missing-ca.pem" --chain "$C/mx1-chain.pem" --domain example.com
frag "$T/err" "mxtls verify: $T/missing-ca.pem: cannot use trust store: No such file or directory"

# ---- usage errors: exit 2 with the message and a pointer to --help -----------
usage() { # MESSAGE ARGS...
    msg=$1
    shift
    run 2 "$@"
    line "$T/err" "mxtls verify: $msg"
    line "$T/err" "Try 'mxtls verify --help'."
    empty "$T/out"
}
usage "unknown option '--bogus'" verify --bogus --chain "$C/mx1-chain.pem" --domain example.com
usage "--domain is required" verify --chain "$C/mx1-chain.pem"
usage "--chain FILE is required (or --no-starttls)" verify --domain example.com
usage "--chain and --no-starttls exclude each other" verify --chain "$C/mx1-chain.pem" --no-starttls --domain example.com
usage "unknown level 'verfy'" $V --chain "$C/mx1-chain.pem" --domain example.com --level verfy
usage "unknown level 'VERIFY'" $V --chain "$C/mx1-chain.pem" --domain example.com --level VERIFY
usage "level fingerprint needs --match with the expected fingerprint(s)" $V --chain "$C/mx1-chain.pem" --domain example.com --level fingerprint
usage "--at 'yesterday' is not a UTC time like 2026-06-01T00:00:00Z" verify --chain "$C/mx1-chain.pem" --domain example.com --at yesterday
usage "--at '2026-02-31T00:00:00Z' is not a UTC time like 2026-06-01T00:00:00Z" verify --chain "$C/mx1-chain.pem" --domain example.com --at 2026-02-31T00:00:00Z
usage "--at '2026-06-01T00:00:00+02:00' is not a UTC time like 2026-06-01T00:00:00Z" verify --chain "$C/mx1-chain.pem" --domain example.com --at 2026-06-01T00:00:00+02:00
usage "--ptr-confirmed must follow a --ptr NAME" verify --chain "$C/mx1-chain.pem" --domain example.com --ptr-confirmed
usage "give --ca-file or --ca-path, not both" verify --chain "$C/mx1-chain.pem" --domain example.com --ca-file "$C/ca.pem" --ca-path "$C"
usage "unexpected argument 'extra'" verify --chain "$C/mx1-chain.pem" --domain example.com extra
usage "--revocation must be report, soft, hard or off" verify --chain "$C/mx1-chain.pem" --domain example.com --revocation maybe

# a date alone is midnight UTC; --at moves the validation time
run 0 verify --ca-file "$C/ca.pem" --at 2034-12-20 --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com --mx-secure --level verify
first "$T/out" "verify: PASS (security: verified)"
line "$T/out" "  ! expires-soon: the certificate expires on 2035-01-01T00:00:00Z, within 21 days"
line "$T/out" "  - Renew the certificate before 2035-01-01T00:00:00Z."
run 1 verify --ca-file "$C/ca.pem" --at 2024-12-31T23:59:59Z --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com --level verify
frag "$T/out" "  * not-yet-valid [4.7.5]: "
# the trust-store root is what is not yet valid: no leaf dates in the advice
run 1 verify --ca-file "$C/ca.pem" --at 2020-12-31 --chain "$C/expired-chain.pem" --domain example.com --mx mx1.example.com --level verify
line "$T/out" "  * not-yet-valid [4.7.5]: a certificate in the chain \"O=mxtls test,CN=mxtls Test Root CA\" is not yet valid"
line "$T/out" "  - The chain leads to a CA certificate that is not yet valid at the validation time: check the chain and the clocks involved."

# ---- help, version, unknown commands -----------------------------------------
run 0 --help
first "$T/out" "usage: mxtls COMMAND [OPTIONS] ..."
line "$T/out" "  verify       verdicts for a certificate chain given as files (offline)"
line "$T/out" "  fingerprint  certificate or public-key fingerprint, Postfix format"
empty "$T/err"
run 0 -h
first "$T/out" "usage: mxtls COMMAND [OPTIONS] ..."
run 0 --version
checks=$((checks + 1))
grep -qx 'mxtls [0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*' "$T/out" || fail "--version output"
run 0 verify --help
first "$T/out" "usage: mxtls verify --chain FILE --domain DOMAIN [options]"
frag "$T/out" "  --level LEVEL          none may encrypt fingerprint verify secure"
empty "$T/err"
run 2 frobnicate
line "$T/err" "mxtls: unknown command 'frobnicate'"
line "$T/err" "Try 'mxtls --help'."
run 2 --frobnicate
line "$T/err" "mxtls: unknown option '--frobnicate'"
run 2
first "$T/err" "usage: mxtls COMMAND [OPTIONS] ..."
empty "$T/out"

finish
