#!/bin/sh
# policyd_delivery.sh - the real delivery test of `mxtls policyd`: the world's
# sending Postfix (docs/world.md, "The sending Postfix") with
#   smtp_tls_policy_maps = socketmap:unix:SOCKET:mxtls
#   smtp_tls_security_level = dane, smtp_dns_support_level = dnssec (base)
# and a policyd in the world's namespace. Asserted from Postfix's own log
# (`world send` summarises it) and queue:
#   - sts.test (enforce, MX covered): sent over verified TLS, the MX name matched
#   - sts-uncovered.test (enforce, MX not covered): deferred 4.7.5, no connection
#     (without policyd the same message is sent: the control)
#   - sts-wild.test (enforce, *.sts.test covers mx.sts.test): sent, Verified
#   - dane-ee.test (DANE-EE of an expired self-signed certificate, and an
#     MTA-STS enforce policy that covers no MX): sent by DANE; also when the
#     global level is only `may`
#   - sts-testing.test (testing, the MX not covered): sent
#   - the same through proxymap (proxy:socketmap:...), as chrooted smtp needs
#   - the queue is empty afterwards
# Exit 77 (skipped) when not root or when the world is not up.
set -u
export LC_ALL=C
[ "$(id -u)" = 0 ] || { echo "SKIP: the world needs root"; exit 77; }
W=${MXTLS_WORLD:?MXTLS_WORLD is not set}
"$W" status >/dev/null 2>&1 || { echo "SKIP: the world is not up"; exit 77; }
eval "$("$W" env)"
BIN=${MXTLS_BIN:?MXTLS_BIN is not set}

exec 9>>"$MXTLS_WORLD_SWAP_LOCK"
flock -s -w 600 9 || { echo "FAIL: the swap lock $MXTLS_WORLD_SWAP_LOCK stays taken"; exit 1; }

D=$MXTLS_WORLD_DIR/policyd-delivery.$$
SOCK=$D/policyd.sock
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    rm -rf "$D"
}
trap cleanup EXIT
mkdir -p "$D" && chmod 755 "$D"   # the sender's smtp runs as postfix
ip netns exec "$MXTLS_WORLD_NS" "$BIN" policyd --listen "unix:$SOCK" --cache "$D/cache.sqlite" \
    --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
    --ca-file "$MXTLS_WORLD_CA" 2>"$D/policyd.log" 9>&- &
pid=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$SOCK" ] || { echo "FAIL: policyd did not start"; cat "$D/policyd.log"; exit 1; }

passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; }
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; printf '     want: %s\n     got:  %s\n' "$2" "$3"; fi
}
send() {
    out=$(timeout 120 "$W" send "$@" 2>&1 9>&-)
    rc=$?
}
get() { printf '%s\n' "$out" | sed -n "s/^$1=//p" | head -n1; }
summary() {
    s=
    for k in "$@"; do s="$s $k=$(get "$k" | tr ' ' _)"; done
    printf '%s' "${s# }"
}
MAP="smtp_tls_policy_maps=socketmap:unix:$SOCK:mxtls"
# check NAME "KEY=VALUE..." DOMAIN [send options] - one delivery through policyd
check() {
    name=$1 want=$2
    shift 2
    send "$@"
    keys=$(printf '%s\n' "$want" | tr ' ' '\n' | sed -n 's/=.*//p' | tr '\n' ' ')
    # shellcheck disable=SC2086
    expect "$name" "rc=0 $want" "rc=$rc $(summary $keys)"
    [ "$rc" = 0 ] && [ "$(get status)" != "" ] || printf '%s\n' "$out" | sed 's/^/     | /'
}

check "sts.test (enforce, MX covered): sent over verified TLS, the MX name matched" \
    "status=sent dsn=2.0.0 relay=mx.sts.test[127.0.2.21]:25 tls=Verified matched=mx.sts.test" \
    sts.test --set "$MAP" --set smtp_tls_security_level=dane

check "sts-uncovered.test (enforce, MX not covered): deferred, no connection" \
    "status=deferred dsn=4.7.5 relay=none tls=none reason=client_TLS_configuration_problem" \
    sts-uncovered.test --set "$MAP" --set smtp_tls_security_level=dane
expect "sts-uncovered.test: Postfix logged policyd's reason" \
    "log=warning: socketmap:unix:$SOCK:mxtls socketmap server temporary error: 4.7.5 MTA-STS policy of sts-uncovered.test (mode enforce) covers none of its MX hosts: mx.sts.test" \
    "$(printf '%s\n' "$out" | grep -F 'socketmap server temporary error' | head -n1)"
check "control: sts-uncovered.test without policyd is sent (opportunistic)" \
    "status=sent relay=mx.sts.test[127.0.2.21]:25" \
    sts-uncovered.test --set smtp_tls_security_level=dane

check "sts-wild.test (enforce, *.sts.test covers mx.sts.test): sent, Verified" \
    "status=sent relay=mx.sts.test[127.0.2.21]:25 tls=Verified matched=mx.sts.test" \
    sts-wild.test --set "$MAP" --set smtp_tls_security_level=dane

spki=$(openssl x509 -in "$MXTLS_WORLD_PKI/dane-ee.crt" -pubkey -noout | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 -r | cut -d' ' -f1 | tr a-f A-F)
check "dane-ee.test (DANE, and MTA-STS enforce naming another MX): sent by DANE" \
    "status=sent relay=mx.dane-ee.test[127.0.2.29]:25 tls=Verified peer_cn=mx.dane-ee.test" \
    dane-ee.test --set "$MAP" --set smtp_tls_security_level=dane
expect "dane-ee.test: matched by its TLSA record" "DANE EE certificate at depth 0: 3 1 1 $spki" "$(get dane_match)"
check "dane-ee.test with a global level of may: policyd's answer still brings DANE" \
    "status=sent tls=Verified" \
    dane-ee.test --set "$MAP" --set smtp_tls_security_level=may
expect "dane-ee.test (may): matched by its TLSA record" "DANE EE certificate at depth 0: 3 1 1 $spki" "$(get dane_match)"

check "sts-testing.test (testing, MX not covered): sent" \
    "status=sent dsn=2.0.0 relay=mx.sts-testing.test[127.0.2.22]:25" \
    sts-testing.test --set "$MAP" --set smtp_tls_security_level=dane

# Debian runs smtp(8) chrooted: there the socket is reached through proxymap
# (proxy_read_maps has $smtp_tls_policy_maps by default), docs/policyd.md
PROXY="smtp_tls_policy_maps=proxy:socketmap:unix:$SOCK:mxtls"
check "through proxymap: sts.test sent, Verified" \
    "status=sent relay=mx.sts.test[127.0.2.21]:25 tls=Verified matched=mx.sts.test" \
    sts.test --set "$PROXY" --set smtp_tls_security_level=dane
check "through proxymap: sts-uncovered.test deferred, no connection" \
    "status=deferred dsn=4.7.5 relay=none tls=none" \
    sts-uncovered.test --set "$PROXY" --set smtp_tls_security_level=dane

q=$(postqueue -c "$MXTLS_WORLD_SENDER_CONF" -p 2>&1)
expect "the sender's queue is empty" "Mail queue is empty" "$q"

# what policyd answered, from its own log
for line in "sts.test: OK secure match=hostname servername=hostname" \
    "warning: sts-uncovered.test: TEMP 4.7.5 MTA-STS policy of sts-uncovered.test (mode enforce) covers none of its MX hosts: mx.sts.test" \
    "sts-wild.test: OK secure match=mx.sts.test servername=hostname" \
    "dane-ee.test: OK dane (MTA-STS enforce (fetched), DANE in charge of every MX host" \
    "sts-testing.test: NOTFOUND (MTA-STS policy (fetched) in mode testing"; do
    if grep -qF -- "$line" "$D/policyd.log"; then ok "policyd log: $line"; else bad "policyd log: $line"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
