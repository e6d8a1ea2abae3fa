#!/bin/sh
# monitoring.sh - `mxtls check --monitoring-plugin` against the test world:
# the exact status line and exit code (Nagios/Icinga: 0 OK, 1 WARNING,
# 2 CRITICAL, 3 UNKNOWN) for a healthy domain, an expiring certificate, broken
# ones (expired certificate, bogus DNSSEC, a server too slow for the
# deadline, no TLSA for dane-only), and the next certificate against the
# published TLSA records (dane-rollover.test; needs root)
set -u
export LC_ALL=C
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespace)"; exit 77; }
W=${MXTLS_WORLD:?MXTLS_WORLD is not set}
"$W" status >/dev/null 2>&1 || { echo "skipped: the test world is not up"; exit 77; }
eval "$("$W" env)"
BIN=${MXTLS_BIN:?MXTLS_BIN is not set}
P=$MXTLS_WORLD_PKI

passed=0 failed=0
# expect NAME WANT GOT
expect() {
    if [ "$2" = "$3" ]; then passed=$((passed + 1)); printf 'ok   %s\n' "$1"; else
        failed=$((failed + 1)); printf 'FAIL %s\n     want: %s\n     got:  %s\n' "$1" "$2" "$3"
    fi
}
# plugin ARGS... - the status line without its last perfdata item (time=, it
# varies), then "exit N"
plugin() {
    out=$(timeout 90 ip netns exec "$MXTLS_WORLD_NS" "$BIN" check "$@" --monitoring-plugin \
        --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
        --ca-file "$MXTLS_WORLD_CA" 2>/dev/null)
    rc=$?
    printf '%s\n' "$out" | sed -E 's/ ?time=[0-9.]+s;;;0$//'
    echo "exit $rc"
}
# days_left CERT - whole days from now to the certificate's notAfter, and
# that notAfter as RFC 3339 (openssl, not mxtls)
days_left() { echo $(( ($(date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s) - $(date -u +%s)) / 86400 )); }
not_after() { date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ; }

# ---- healthy: OK, exit 0
g=$(days_left "$P/good.crt")
expect "good.test: OK" "MXTLS OK - good.test: level may passes (encrypted); 1 certificate, valid $g days or more | 'cert_days_mx.good.test[127.0.2.1]'=$g;30:;14:
exit 0" "$(plugin good.test)"
expect "good.test --expect verify: OK" "MXTLS OK - good.test: level verify passes (verified); 1 certificate, valid $g days or more | 'cert_days_mx.good.test[127.0.2.1]'=$g;30:;14:
exit 0" "$(plugin good.test --expect verify)"

# ---- expiring: the certificate ends 20 days after `world up`
e=$(days_left "$P/expiring.crt")
ena=$(not_after "$P/expiring.crt")
expect "expiring.test: WARNING" "MXTLS WARNING - expiring.test: certificate of mx.expiring.test [127.0.7.1] expires in $e days ($ena) | 'cert_days_mx.expiring.test[127.0.7.1]'=$e;30:;14:
exit 1" "$(plugin expiring.test)"
expect "expiring.test --crit-days 25: CRITICAL" "MXTLS CRITICAL - expiring.test: certificate of mx.expiring.test [127.0.7.1] expires in $e days ($ena) | 'cert_days_mx.expiring.test[127.0.7.1]'=$e;30:;25:
exit 2" "$(plugin expiring.test --warn-days 30 --crit-days 25)"
expect "expiring.test --warn-days 10 --crit-days 5: OK" "MXTLS OK - expiring.test: level may passes (encrypted); 1 certificate, valid $e days or more | 'cert_days_mx.expiring.test[127.0.7.1]'=$e;10:;5:
exit 0" "$(plugin expiring.test --warn-days 10 --crit-days 5)"

# ---- broken
x=$(days_left "$P/expired.crt")
xna=$(not_after "$P/expired.crt")
expect "expired.test --expect verify: CRITICAL" "MXTLS CRITICAL - expired.test: level verify fails: expired: the server certificate \"O=mxtls test,CN=mx.expired.test\" has expired; certificate of mx.expired.test [127.0.2.3] expired $((-x + 1)) days ago ($xna) | 'cert_days_mx.expired.test[127.0.2.3]'=$((x - 1));30:;14:
exit 2" "$(plugin expired.test --expect verify)"
expect "good.test --expect dane-only: CRITICAL" "MXTLS CRITICAL - good.test: level dane-only fails: no-tlsa: mx.good.test has no TLSA records (securely denied); level dane-only does not deliver without DANE | 'cert_days_mx.good.test[127.0.2.1]'=$g;30:;14:
exit 2" "$(plugin good.test --expect dane-only)"
# DNS failures and timeouts are CRITICAL (senders defer), not UNKNOWN
expect "bogus-expired.test: CRITICAL" "MXTLS CRITICAL - bogus-expired.test: level may tempfails (senders defer): dns-bogus: validation failure <bogus-expired.test. MX IN>: signature expired from 127.0.1.3 for key bogus-expired.test. while building chain of trust |
exit 2" "$(plugin bogus-expired.test)"
expect "trickle.test --timeout 3: CRITICAL" "MXTLS CRITICAL - trickle.test: level may tempfails (senders defer): timeout: timed out waiting for the greeting, 3 bytes into it (\"220\") (the check's deadline of 3000 ms) |
exit 2" "$(plugin trickle.test --timeout 3)"
expect "sts-404.test: WARNING" "MXTLS WARNING - sts-404.test: the MTA-STS policy could not be fetched (HTTP status 404 (a policy needs 200)): senders' cached copies expire and MTA-STS then lapses | 'cert_days_mx.sts.test[127.0.2.21]'=$g;30:;14: 'sts_cert_days'=$g;30:;14:
exit 1" "$(plugin sts-404.test)"

# ---- the next certificate against the TLSA records (shared swap lock: the
# rollover test must not swap dane-rollover.test's certificate meanwhile)
exec 9>>"$MXTLS_WORLD_SWAP_LOCK"
flock -s -w 600 9 || { echo "FAIL: the swap lock $MXTLS_WORLD_SWAP_LOCK stays taken"; exit 1; }
r=$(days_left "$P/dane-rollover.crt")
hexC=$(openssl x509 -in "$P/dane-rollover-newkey-chain.pem" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
expect "dane-rollover.test --next-cert renewed (same key): OK" "MXTLS OK - dane-rollover.test: level dane passes (dane); 1 certificate, valid $r days or more; the TLSA records of mx.dane-rollover.test match $P/dane-rollover-renewed-chain.pem | 'cert_days_mx.dane-rollover.test[127.0.2.37]'=$r;30:;14:
exit 0" "$(plugin dane-rollover.test --next-cert "$P/dane-rollover-renewed-chain.pem")"
expect "dane-rollover.test --next-cert new key: WARNING" "MXTLS WARNING - dane-rollover.test: the TLSA records of mx.dane-rollover.test do not match the next certificate $P/dane-rollover-newkey-chain.pem: publish first 3 1 1 $hexC | 'cert_days_mx.dane-rollover.test[127.0.2.37]'=$r;30:;14:
exit 1" "$(plugin dane-rollover.test --next-cert "$P/dane-rollover-newkey-chain.pem")"
exec 9>&-

# ---- the plugin itself cannot run: UNKNOWN, exit 3
expect "--json with --monitoring-plugin: UNKNOWN" "MXTLS UNKNOWN - mxtls check could not run (exit 2: usage or input error; the reason is on standard error)
exit 3" "$(plugin good.test --json)"
expect "--next-cert missing file: UNKNOWN" "MXTLS UNKNOWN - good.test: --next-cert could not be judged (the reason is on standard error)
exit 3" "$(plugin good.test --next-cert /nonexistent/next.pem)"

echo "monitoring.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
