#!/bin/sh
# inputs.sh - edge cases of what users give mxtls: PEM with a UTF-8 byte
# order mark, an empty PEM block, a file of many certificates for
# `fingerprint`, a --match that is no fingerprint, --timeout 0, -4 with -6,
# and a policy map whose first key carries a byte order mark.
#
# Environment (set by CTest): MXTLS_BIN, MXTLS_TEST_CERTS.
set -eu
. "$(dirname "$0")/lib/assert.sh"
C=${MXTLS_TEST_CERTS:?MXTLS_TEST_CERTS is not set}
NO_COLOR=1
export NO_COLOR
cd "$T"

# out TEXT - stdout is exactly the line TEXT
out() {
    checks=$((checks + 1))
    printf '%s\n' "$1" >"$T/want"
    cmp -s "$T/want" "$T/out" || fail "stdout is not \"$1\": $last"
}

LEAF_FP=$(openssl x509 -in "$C/mx1.crt" -noout -fingerprint -sha256 | sed 's/^[^=]*=//')

# A UTF-8 byte order mark before the first BEGIN line (Windows editors):
# OpenSSL reads such a file, and so does mxtls - the leaf, not the next block.
printf '\357\273\277' | cat - "$C/mx1-chain.pem" >bom-chain.pem
run 0 fingerprint bom-chain.pem
out "$LEAF_FP"
run 0 verify --chain bom-chain.pem --domain example.com --mx mx1.example.com --ca-file "$C/ca.pem" --at 2026-06-01 --level verify
first "$T/out" "verify: PASS (security: verified)"

# An empty certificate block: what is wrong, and where.
printf 'junk\n-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n' >empty-block.pem
run 2 fingerprint empty-block.pem
line "$T/err" "mxtls fingerprint: empty-block.pem:2: empty certificate block: no base64 data between the BEGIN and END lines"
nofrag "$T/err" "unknown error"
run 2 verify --chain empty-block.pem --domain example.com
line "$T/err" "mxtls verify: empty-block.pem:2: empty certificate block: no base64 data between the BEGIN and END lines"

# fingerprint uses the first certificate only, however many follow.
i=0
: >many.pem
while [ $i -lt 20 ]; do
    cat "$C/mx1.crt" >>many.pem
    i=$((i + 1))
done
run 0 fingerprint many.pem
out "$LEAF_FP"
# (a chain for verify is still limited to 16 certificates)
run 2 verify --chain many.pem --domain example.com
frag "$T/err" "more than 16 certificates"

# --match at level fingerprint must be fingerprints.
V="verify --chain $C/mx1-chain.pem --domain example.com --level fingerprint --at 2026-06-01"
# shellcheck disable=SC2086
run 2 $V --match zz
line "$T/err" 'mxtls verify: --match: "zz" is not a fingerprint (hex digits, optionally with ":" after each byte, such as AB:CD:...; several separated by "|")'
# shellcheck disable=SC2086
run 2 $V --match "$LEAF_FP|mx1.example.com"
frag "$T/err" '"mx1.example.com" is not a fingerprint'
# shellcheck disable=SC2086
run 0 $V --match "$LEAF_FP"
first "$T/out" "fingerprint: PASS (security: verified)"
LOWER_NOCOLON=$(printf '%s' "$LEAF_FP" | tr -d : | tr A-F a-f)
# shellcheck disable=SC2086
run 0 $V --match "AB:CD|$LOWER_NOCOLON"
first "$T/out" "fingerprint: PASS (security: verified)"
# shellcheck disable=SC2086
run 1 $V --match "AB:CD"
first "$T/out" "fingerprint: FAIL (security: none)"

# --timeout: the message states the range that is accepted.
run 2 dns example.com --timeout 0
line "$T/err" "mxtls dns: --timeout wants a number of seconds above 0 and at most 600 (fractions allowed), not '0'"
run 2 check example.com --timeout 0
line "$T/err" "mxtls check: --timeout '0' is not a number of seconds (1-3600)"
run 2 check example.com --port 99999999999999999999
line "$T/err" "mxtls check: --port '99999999999999999999' is not a port number (1-65535)"

# -4 and -6 exclude each other (each alone is fine; repeated is fine).
for cmd in check probe; do
    run 2 $cmd 127.0.0.1 -4 -6 --domain x.example
    line "$T/err" "mxtls $cmd: give -4 or -6, not both (without either: both address families)"
    run 2 $cmd 127.0.0.1 -6 -4 --domain x.example
    line "$T/err" "mxtls $cmd: give -4 or -6, not both (without either: both address families)"
done
run 2 tlsa check example.com -4 -6
line "$T/err" "mxtls tlsa check: give -4 or -6, not both (without either: both address families)"

# A policy map saved with a byte order mark: Postfix's key then holds the
# BOM bytes and matches nothing; mxtls agrees and `policy check` warns.
printf '\357\273\277example.com encrypt\nexample.net secure\n' >bom.map
run 1 policy lookup --map bom.map example.com
out "no entry applies to example.com"
run 0 policy lookup --map bom.map example.net
frag "$T/out" "level        secure"
run 0 policy check --map bom.map
line "$T/out" "bom.map: 2 entries"
line "$T/out" 'bom.map:1: warning: example.com: the destination starts with a UTF-8 byte order mark: Postfix keeps it as part of the key, so this entry matches no destination (save the file without a BOM)'
empty "$T/err"
run 0 policy check --map bom.map --json
out '{"schema_version":1,"file":"bom.map","valid":true,"entries":2,"warnings":[{"where":"bom.map:1","key":"example.com","message":"the destination starts with a UTF-8 byte order mark: Postfix keeps it as part of the key, so this entry matches no destination (save the file without a BOM)"}]}'
empty "$T/err"
printf 'example.com encrypt\n' >plain.map
run 0 policy check --map plain.map
empty "$T/err"

finish
