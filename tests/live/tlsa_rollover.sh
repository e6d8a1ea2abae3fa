#!/bin/sh
# tlsa_rollover.sh - the certificate rollover of issue "DANE for SMTP", live
#
# dane-rollover.test publishes "3 1 1" of certificate A's key; the world also
# made B (A renewed, same key) and C (a new key). `mxtls tlsa check --next`
# must predict what a switch does, and `mxtls check --level dane` must see it
# after `world swap-cert` made the listener present the new certificate:
#   1. B: "safe to deploy" (exit 0) -> switch -> dane passes (dane-verified)
#   2. C: "WILL BREAK DANE" (exit 1) -> switch -> dane fails (tlsa-mismatch)
# and `mxtls tlsa gen --cert A --next C` lists both records. The TLSA data is
# computed here with openssl, independently of mxtls and of the world script.
# A is restored at the end (trap). The test holds the world's swap lock
# exclusively for its whole run (check_cases.py holds it shared).
# Exit 77 (skipped) when not root or when the world is not up.
set -u
export LC_ALL=C
[ "$(id -u)" = 0 ] || { echo "SKIP: the world needs root"; exit 77; }
W=${MXTLS_WORLD:?MXTLS_WORLD is not set}
"$W" status >/dev/null 2>&1 || { echo "SKIP: the world is not up"; exit 77; }
eval "$("$W" env)"
BIN=${MXTLS_BIN:?MXTLS_BIN is not set}
P=$MXTLS_WORLD_PKI
DOMAIN=dane-rollover.test
HOST=mx.dane-rollover.test
OWNER=_25._tcp.$HOST
A=$P/dane-rollover-chain.pem
B=$P/dane-rollover-renewed-chain.pem
C=$P/dane-rollover-newkey-chain.pem

passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; }
# expect NAME WANT GOT
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; printf '     want: %s\n     got:  %s\n' "$2" "$3"; fi
}
# expect_line NAME LINE TEXT - TEXT has LINE as one of its lines, exactly
expect_line() {
    if printf '%s\n' "$3" | grep -qxF -- "$2"; then ok "$1"; else
        bad "$1"; printf '     want the line: %s\n     in:\n%s\n' "$2" "$(printf '%s\n' "$3" | sed 's/^/       | /')"
    fi
}

wx() { timeout 60 ip netns exec "$MXTLS_WORLD_NS" "$@"; }
DNSOPT="--root-hints $MXTLS_WORLD_ROOT_HINTS --trust-anchor $MXTLS_WORLD_TRUST_ANCHOR"
# shellcheck disable=SC2086
tlsa_check() { wx "$BIN" tlsa check "$DOMAIN" $DNSOPT --ca-file "$MXTLS_WORLD_CA" --timeout 20 "$@"; }
# check_dane LEVEL - "verdict code security" of the domain at LEVEL, and exit code
check_dane() {
    # shellcheck disable=SC2086
    out=$(wx "$BIN" check "$DOMAIN" --level "$1" --json $DNSOPT --ca-file "$MXTLS_WORLD_CA" --timeout 20)
    rc=$?
    printf '%s' "$out" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d["verdict"], d["reason"]["code"], d["security"], d["matrix"]["verify"]["verdict"])' 2>&1
    echo "exit $rc"
}
# spki_sha256 CHAINFILE - "3 1 1" association data of the leaf, with openssl
spki_sha256() {
    openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -r | cut -d' ' -f1
}
fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
# served - the SHA-256 fingerprint of the certificate the listener presents
served() {
    wx openssl s_client -starttls smtp -connect 127.0.2.37:25 -servername "$HOST" </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//'
}
swap() { "$W" swap-cert "$HOST" "$1" 9>&-; }

# The swap lock: nobody else looks at dane-rollover.test while we change it.
exec 9>>"$MXTLS_WORLD_SWAP_LOCK"
flock -w 600 9 || { echo "FAIL: the swap lock $MXTLS_WORLD_SWAP_LOCK stays taken"; exit 1; }
trap 'swap dane-rollover >/dev/null 2>&1 || echo "FAIL: could not restore certificate A"' EXIT
trap 'exit 1' INT TERM HUP

hexA=$(spki_sha256 "$A")
hexB=$(spki_sha256 "$B")
hexC=$(spki_sha256 "$C")

# ---- the world as the scenario needs it

expect "published TLSA = 3 1 1 of A's key (openssl)" "3 1 1 $hexA" \
    "$(wx dig +short "$OWNER" TLSA | tr -d ' ' | tr 'A-F' 'a-f' | sed 's/^311/3 1 1 /')"
expect "B is A renewed: same key" "$hexA" "$hexB"
if [ "$(fingerprint "$A")" != "$(fingerprint "$B")" ]; then ok "B is another certificate than A"; else bad "B is another certificate than A"; fi
if [ "$hexC" != "$hexA" ]; then ok "C has a new key"; else bad "C has a new key"; fi
expect "the listener presents A" "$(fingerprint "$A")" "$(served)"
expect "dane with A: pass" "pass dane-verified dane pass
exit 0" "$(check_dane dane)"

# ---- tlsa gen: the records of the current and the next certificate

out=$("$BIN" tlsa gen --cert "$A" --next "$C" 2>&1)
expect "tlsa gen --cert A --next C: exit 0" 0 $?
expect "tlsa gen --cert A --next C: both records, nothing else" \
    "$OWNER. IN TLSA 3 1 1 $hexA
$OWNER. IN TLSA 3 1 1 $hexC" "$(printf '%s\n' "$out" | grep -v '^;')"
expect_line "tlsa gen: rollover advice" \
    "; rollover: publish all these records now, wait at least 2 x TTL, switch the server to the next certificate, then remove the current records." "$out"
out=$("$BIN" tlsa gen --cert "$A" --next "$B" 2>&1)
expect "tlsa gen --cert A --next B: one record (same key)" "$OWNER. IN TLSA 3 1 1 $hexA" \
    "$(printf '%s\n' "$out" | grep -v '^;')"
expect_line "tlsa gen --cert A --next B: says so" "; (same record as for $A: printed once)" "$out"

# ---- scenario 1: renewal with the same key

out=$(tlsa_check --next "$B")
expect "scenario 1: tlsa check --next B: exit 0" 0 $?
expect_line "scenario 1: B is safe to deploy" \
    "    $B: safe to deploy: the DANE-EE record \"3 1 1\" of $HOST matches the certificate at depth 0" "$out"
expect_line "scenario 1: verdict" \
    "result: ok: the TLSA records authenticate every server checked, and every planned chain: safe to deploy" "$out"
swap dane-rollover-renewed
expect "scenario 1: the listener presents B" "$(fingerprint "$B")" "$(served)"
expect "scenario 1: dane with B: pass" "pass dane-verified dane pass
exit 0" "$(check_dane dane)"
expect "scenario 1: dane-only with B: pass" "pass dane-verified dane pass
exit 0" "$(check_dane dane-only)"
out=$(tlsa_check)
expect "scenario 1: tlsa check with B live: exit 0" 0 $?
expect_line "scenario 1: B authenticated by the published record" \
    "    127.0.2.37: authenticated by [1] (dane-ee, depth 0)" "$out"

# ---- scenario 2: a new key, records not updated

swap dane-rollover
out=$(tlsa_check --next "$C")
expect "scenario 2: tlsa check --next C: exit 1" 1 $?
expect_line "scenario 2: C will break DANE" \
    "    $C: WILL BREAK DANE: tlsa-mismatch: no usable TLSA record of $HOST matches the chain in $C" "$out"
expect_line "scenario 2: the record to publish first" \
    "      publish first: $OWNER. IN TLSA 3 1 1 $hexC" "$out"
expect_line "scenario 2: warning, one usable record" \
    "  single-record: $OWNER has one usable record: there is no headroom for a key or certificate change; publish the next key's record next to it before the change (mxtls tlsa gen --next)" "$out"
expect_line "scenario 2: verdict" \
    "result: will-break: the planned certificate change will break DANE: publish the records shown, wait 2 x TTL, then switch" "$out"
swap dane-rollover-newkey
expect "scenario 2: the listener presents C" "$(fingerprint "$C")" "$(served)"
# C is a valid PKIX certificate: verify still passes, DANE does not
expect "scenario 2: dane with C: fail tlsa-mismatch" "fail tlsa-mismatch none pass
exit 1" "$(check_dane dane)"
expect "scenario 2: dane-only with C: fail tlsa-mismatch" "fail tlsa-mismatch none pass
exit 1" "$(check_dane dane-only)"
out=$(tlsa_check)
expect "scenario 2: tlsa check with C live: exit 1" 1 $?
expect_line "scenario 2: the server fails now" \
    "    127.0.2.37: FAILS tlsa-mismatch: no usable TLSA record of $HOST matches the certificate chain the server presented" "$out"

# ---- back to A

swap dane-rollover
expect "restored: the listener presents A" "$(fingerprint "$A")" "$(served)"
expect "restored: dane with A: pass" "pass dane-verified dane pass
exit 0" "$(check_dane dane)"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
