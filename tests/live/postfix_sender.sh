#!/bin/sh
# postfix_sender.sh - what a real sending Postfix does, through `world send`
#
# The world's sender Postfix (docs/world.md, "The sending Postfix") delivers
# one message per `world send`; its log is the reference for what Postfix
# levels really do. This test pins the facts mxtls's Postfix verdicts are held
# against, exactly as Postfix 3.7 behaves here:
#   - verify: name mismatch, SNI (none sent by default; the SNI listener's
#     default certificate), revocation (not checked), wildcards, CNAME
#   - dane: DANE-EE of an expired self-signed certificate is "Verified"
#   - policy maps: protocols=<=TLSv1.1, a "*" key, a ".parent" key
#   - the whole cases.tsv table at may, encrypt, verify, secure, dane and
#     dane-only: Postfix delivers exactly where the table says pass, and
#     exactly where `mxtls check` says pass (sender fidelity: the SNI each
#     level sends, no revocation check)
#   - the harness: bounded time, nothing left in the queue
# Holds the world's swap lock shared (the certificates of cases.tsv).
# Exit 77 (skipped) when not root or when the world is not up.
set -u
export LC_ALL=C
[ "$(id -u)" = 0 ] || { echo "SKIP: the world needs root"; exit 77; }
W=${MXTLS_WORLD:?MXTLS_WORLD is not set}
"$W" status >/dev/null 2>&1 || { echo "SKIP: the world is not up"; exit 77; }
eval "$("$W" env)"

# The table includes dane-rollover.test: no test may swap its certificate
# meanwhile (tlsa_rollover.sh holds this lock exclusively while it swaps).
exec 9>>"$MXTLS_WORLD_SWAP_LOCK"
flock -s -w 600 9 || { echo "FAIL: the swap lock $MXTLS_WORLD_SWAP_LOCK stays taken"; exit 1; }

passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; }
# expect NAME WANT GOT
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; printf '     want: %s\n     got:  %s\n' "$2" "$3"; fi
}

# send ARGS... - run `world send`, keep its output in $out and exit code in $rc
send() {
    out=$(timeout 120 "$W" send "$@" 2>&1 9>&-)
    rc=$?
}
# get KEY - the first KEY=value of the last send
get() { printf '%s\n' "$out" | sed -n "s/^$1=//p" | head -n1; }
# has KEY=VALUE - the last send printed that line, exactly
has() { printf '%s\n' "$out" | grep -qxF -- "$1"; }
# summary KEY... - "key=value ..." of the last send, for compact assertions
# (spaces in values become _)
summary() {
    s=
    for k in "$@"; do s="$s $k=$(get "$k" | tr ' ' _)"; done
    printf '%s' "${s# }"
}
# check NAME "KEY=VALUE..." ARGS... - one send, its exit code and some keys
check() {
    name=$1 want=$2
    shift 2
    send "$@"
    keys=$(printf '%s\n' "$want" | tr ' ' '\n' | sed -n 's/=.*//p' | tr '\n' ' ')
    # shellcheck disable=SC2086
    expect "$name" "rc=0 $want" "rc=$rc $(summary $keys)"
    [ "$rc" = 0 ] && [ "$(get "status")" != "" ] || printf '%s\n' "$out" | sed 's/^/     | /'
}

# --- verify: names, SNI, revocation
check "good.test verify: sent, Verified, the MX name matched" \
    "status=sent dsn=2.0.0 relay=mx.good.test[127.0.2.1]:25 tls=Verified peer_cn=mx.good.test matched=mx.good.test" \
    good.test --level verify
expect "good.test: the TLS version is logged" TLSv1.3 "$(get tls_version)"
expect "good.test: no sni_seen for a listener without SNI map" "" "$(get sni_seen)"
expect "good.test: peer fingerprint is the world certificate's" \
    "$(openssl x509 -in "$MXTLS_WORLD_PKI/good.crt" -noout -fingerprint -sha256 | sed 's/.*=//')" "$(get peer_fingerprint)"

check "helo.test verify: deferred, certificate names only the HELO name" \
    "status=deferred dsn=4.7.5 tls=Untrusted peer_cn=smtp.provider-a.test verify_error=num=62:hostname_mismatch reason=Server_certificate_not_verified" \
    helo.test --level verify

# Postfix sends no SNI unless smtp_tls_servername is set: the SNI listener
# presents its default certificate and verify fails.
check "sni.test verify, no SNI: deferred with the default certificate" \
    "status=deferred dsn=4.7.5 tls=Untrusted peer_cn=no-sni.invalid sni_seen=none verify_error=num=62:hostname_mismatch" \
    sni.test --level verify
check "sni.test verify, smtp_tls_servername=hostname: sent, Verified" \
    "status=sent tls=Verified peer_cn=mx.sni.test sni_seen=mx.sni.test matched=mx.sni.test" \
    sni.test --level verify --servername hostname
check "sni.test verify, servername=hostname in the policy entry: sent" \
    "status=sent tls=Verified peer_cn=mx.sni.test sni_seen=mx.sni.test" \
    sni.test --level verify --policy servername=hostname
check "sni.test verify, smtp_tls_servername=other.test: the server sees it, unmatched" \
    "status=deferred tls=Untrusted peer_cn=no-sni.invalid sni_seen=other.test" \
    sni.test --level verify --servername other.test

# Postfix checks neither CRLs nor OCSP.
check "revoked.test verify: sent, Verified (no revocation check)" \
    "status=sent tls=Verified peer_cn=mx.revoked.test" revoked.test --level verify
check "wild2.test verify: a wildcard covers one label only: deferred" \
    "status=deferred tls=Untrusted verify_error=num=62:hostname_mismatch" wild2.test --level verify
check "wild2.test secure: the default match .wild2.test covers any depth: sent" \
    "status=sent tls=Verified" wild2.test --level secure
check "cnonly.test verify: CN without SAN is matched" \
    "status=sent tls=Verified matched=mx.cnonly.test" cnonly.test --level verify
# The MX mx.dane-cname.test is a CNAME to smtp.dane-cname.test, the name of
# the certificate; Postfix matches the MX name (smtp_cname_overrides_servername=no).
check "dane-cname.test verify: the CNAME target's name does not count" \
    "status=deferred tls=Untrusted verify_error=num=62:hostname_mismatch" dane-cname.test --level verify

# --- DANE
spki=$(openssl x509 -in "$MXTLS_WORLD_PKI/dane-ee.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1 | tr a-f A-F)
check "dane-ee.test dane: sent, Verified (DANE-EE, expired self-signed)" \
    "status=sent tls=Verified peer_cn=mx.dane-ee.test" dane-ee.test --level dane
expect "dane-ee.test dane: matched by its 3 1 1 record" "DANE EE certificate at depth 0: 3 1 1 $spki" "$(get dane_match)"
check "dane-ee.test verify: deferred (expired, self-signed)" \
    "status=deferred tls=Untrusted" dane-ee.test --level verify
check "dane-bogus.test dane: deferred before connecting" \
    "status=deferred dsn=4.7.5 relay=none tls=none reason=TLSA_lookup_error_for_mx.dane-bogus.test:25" \
    dane-bogus.test --level dane
check "dane-insecure.test dane-only: deferred, non DNSSEC destination" \
    "status=deferred relay=none reason=non_DNSSEC_destination" dane-insecure.test --level dane-only
check "dane-unusable.test dane-only: deferred, TLSA records unusable" \
    "status=deferred relay=none reason=TLSA_records_unusable" dane-unusable.test --level dane-only

# --- policy maps
# The world's smtpd allows TLSv1 and up (smtpd_tls_protocols default): at
# encrypt an old-protocol client gets an anonymous (aNULL) cipher; at verify
# the client's OpenSSL refuses the server's TLS <= 1.1 signature (SHA-1).
check "protocols=<=TLSv1.1 at encrypt: sent over TLSv1.1, anonymous cipher" \
    "status=sent tls=Anonymous tls_version=TLSv1.1" good.test --level encrypt --policy 'protocols=<=TLSv1.1'
check "protocols=<=TLSv1.1 at verify: the handshake fails" \
    "status=deferred dsn=4.7.5 tls=none reason=Cannot_start_TLS:_handshake_failure" \
    good.test --level verify --policy 'protocols=<=TLSv1.1'
if printf '%s\n' "$out" | grep -q '^log=warning: TLS library problem: .*legacy sigalg disallowed or unsupported'; then
    ok "protocols=<=TLSv1.1 at verify: the log names the legacy signature algorithm"
else
    bad "protocols=<=TLSv1.1 at verify: the log names the legacy signature algorithm"; printf '%s\n' "$out" | sed 's/^/     | /'
fi
check "protocols=TLSv1 at encrypt: sent over TLSv1" \
    "status=sent tls=Anonymous tls_version=TLSv1" good.test --level encrypt --policy 'protocols=TLSv1'

# "*" is no wildcard in smtp_tls_policy_maps: the entry is never used
check "policy key 'good.test none' is used (control)" "status=sent tls=none" \
    good.test --level may --policy-entry 'good.test none'
check "policy key '* none' is not a default: may stays in force" "status=sent tls=Trusted" \
    good.test --level may --policy-entry '* none'
check "policy key '* verify' is not a default: helo.test goes without TLS" "status=sent tls=none" \
    helo.test --policy-entry '* verify'
check "policy key '.test verify' applies to helo.test (parent domain)" \
    "status=deferred tls=Untrusted reason=Server_certificate_not_verified" helo.test --policy-entry '.test verify'

# --- the whole table: Postfix delivers exactly where cases.tsv says pass and
# exactly where `mxtls check` says pass (hostile servers aside: they are held
# by tests/live/hostile_verdicts.py)
domains=$(awk -F'\t' '!/^#/ && NF > 5 && $1 != "domain" && $3 != "-" && $5 !~ /^hostile/ { print $1 }' "$MXTLS_WORLD_CASES")
# mxtls's verdicts, one check per domain: "DOMAIN LEVEL VERDICT" lines
mx=$(mktemp)
for d in $domains; do
    timeout 120 "$W" exec "$MXTLS_BIN" check "$d" --json --timeout 30 \
        --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
        --ca-file "$MXTLS_WORLD_CA" 9>&- 2>/dev/null |
        python3 -c 'import json, sys
d = json.load(sys.stdin)
for l, v in d["matrix"].items(): print(d["domain"], l, v["verdict"])' >>"$mx" ||
        bad "mxtls check $d --json failed"
done
ncases=0 nagree=0 nmxtls=0
for level in may encrypt verify secure dane dane-only; do
    col=$(awk -F'\t' -v l="$level" '$1 == "domain" { for (i = 1; i <= NF; i++) if ($i == l) print i; exit }' "$MXTLS_WORLD_CASES")
    for d in $domains; do
        want=$(awk -F'\t' -v d="$d" -v c="$col" '$1 == d { print $c }' "$MXTLS_WORLD_CASES")
        says=$(awk -v d="$d" -v l="$level" '$1 == d && $2 == l { print $3 }' "$mx")
        send "$d" --level "$level"
        st=$(get status)
        ncases=$((ncases + 1))
        if [ "$rc" != 0 ]; then
            bad "table: $d $level: world send exited $rc"; printf '%s\n' "$out" | sed 's/^/     | /'
            continue
        elif [ "$want" = pass ] && [ "$st" != sent ]; then
            bad "table: $d $level: cases.tsv pass, Postfix $st ($(get reason))"
        elif [ "$want" != pass ] && [ "$st" = sent ]; then
            bad "table: $d $level: cases.tsv $want, Postfix delivered (tls=$(get tls))"
        else
            nagree=$((nagree + 1))
        fi
        if { [ "$says" = pass ] && [ "$st" = sent ]; } || { [ "$says" != pass ] && [ "$st" != sent ]; }; then
            nmxtls=$((nmxtls + 1))
        else
            bad "table: $d $level: mxtls says ${says:-nothing}, Postfix $st ($(get reason))"
        fi
    done
done
rm -f "$mx"
expect "table: Postfix agrees with cases.tsv in every case" "$ncases" "$nagree"
expect "table: Postfix agrees with mxtls check in every case" "$ncases" "$nmxtls"

# --- the harness
t0=$(date +%s)
send trickle.test --level may --timeout 3
t1=$(date +%s)
expect "trickle.test --timeout 3: status=timeout, exit 3" "rc=3 status=timeout" "rc=$rc status=$(get status)"
[ $((t1 - t0)) -le 15 ] && ok "trickle.test --timeout 3: returned in $((t1 - t0)) s" ||
    bad "trickle.test --timeout 3: took $((t1 - t0)) s"
send good.test --level bogus
[ "$rc" != 0 ] && ok "an unknown level is refused (exit $rc)" || bad "an unknown level is accepted"
send good.test --set 'not a param'
[ "$rc" != 0 ] && ok "a malformed --set is refused (exit $rc)" || bad "a malformed --set is accepted"
q=$(timeout 30 ip netns exec "$MXTLS_WORLD_NS" postqueue -c "$MXTLS_WORLD_SENDER_CONF" -p 2>&1)
expect "the sender's queue is empty afterwards" "Mail queue is empty" "$q"

echo "passed $passed, failed $failed"
[ "$failed" -eq 0 ]
