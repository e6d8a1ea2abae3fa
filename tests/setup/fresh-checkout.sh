#!/bin/bash
# fresh-checkout.sh - the test world from a fresh copy of the tree in a
# directory only root may enter (needs root; exit 77 otherwise)
#
# A checkout under root's home (mode 0700) is out of reach of the users the
# world's daemons run as (postfix, nobody). This test copies the tree as git
# has it (tracked and new files, as they are in the working tree; no build
# directories) into a new 0700 directory, brings a world up from that copy in
# a namespace of its own, runs one real `mxtls check` through it, takes it down
# and asserts that nothing is left: no namespace, no state dir, no lock, no
# /etc/netns entry, no process. The copy builds its own hostile servers, as a
# first run does; mxtls itself is the binary of this build (MXTLS_BIN).
set -eu -o pipefail
export LC_ALL=C
[ "$(id -u)" = 0 ] || { echo "SKIP: the test world needs root"; exit 77; }
command -v ip >/dev/null 2>&1 || { echo "SKIP: no ip (iproute2)"; exit 77; }
SRC=${MXTLS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MXTLS=${MXTLS_BIN:-$SRC/build/mxtls}
[ -x "$MXTLS" ] || { echo "FAIL: no mxtls binary at $MXTLS"; exit 1; }
NS=${MXTLS_WORLD_NS:-mxtls-world}-fresh
# the copy's world uses every default: no state dir, hostile binary or keep flag of ours
unset MXTLS_WORLD_DIR MXTLS_HOSTILE_BIN MXTLS_WORLD_KEEP MXTLS_WORLD_LOCKED MXTLS_WORLD_LOCK_TRY

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

PARENT=$(mktemp -d /var/tmp/mxtls-fresh.XXXXXX)
chmod 700 "$PARENT"
CO=$PARENT/mxtls
W=$CO/tests/world/world
world() { env MXTLS_WORLD_NS="$NS" timeout "$1" "$W" "${@:2}"; }
UP=
cleanup() {
    if [ -n "$UP" ]; then
        world 120 down >/dev/null 2>&1 || echo "FAIL: world down (cleanup) failed"
    fi
    rm -rf "$PARENT"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# show_logs - the copy's world logs, for a failure
show_logs() {
    local f
    for f in "$CO/build/world-logs/$NS"/*.log; do
        [ -s "$f" ] || continue
        echo "--- $f (last lines)"
        tail -n 15 "$f"
    done
}

# ------------------------------------------------------------ the copy
mkdir "$CO"
if command -v git >/dev/null 2>&1 && git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (
        cd "$SRC"
        git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do
                if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
            done |
            tar --null -T - -cf -
    ) | tar -C "$CO" -xf -
else
    tar -C "$SRC" --exclude=./.git --anchored --exclude='./build*' -cf - . | tar -C "$CO" -xf -
fi
[ -x "$W" ] && [ -f "$CO/scripts/deps.sh" ] || { echo "FAIL: the copy has no $W or scripts/deps.sh"; exit 1; }
[ ! -e "$CO/build" ] || { echo "FAIL: the copy has a build directory"; exit 1; }
if [ "$(stat -c %a "$PARENT")" = 700 ] &&
    ! setpriv --reuid=postfix --regid="$(id -g postfix)" --clear-groups test -x "$CO"; then
    ok "copy of the tree in $PARENT (mode 0700): the postfix user cannot enter it"
else
    fail "the copy's directory is reachable by postfix: this test would not test anything"
fi

# ------------------------------------------------------------ up
if world 600 up > "$PARENT/up.log" 2>&1; then
    UP=1
    ok "world up from the copy (namespace $NS): $(tail -n 1 "$PARENT/up.log")"
else
    rc=$?
    UP=1 # tear down whatever is left (cleanup)
    fail "world up from the copy: exit $rc"
    cat "$PARENT/up.log"
    show_logs
    exit 1
fi
eval "$(world 30 env)"
case $MXTLS_WORLD_DIR in
"$PARENT"/*) fail "state dir $MXTLS_WORLD_DIR is inside the copy's 0700 directory" ;;
/run/mxtls-world."$NS") ok "state dir $MXTLS_WORLD_DIR" ;;
*) fail "state dir $MXTLS_WORLD_DIR, want /run/mxtls-world.$NS" ;;
esac
if world 30 status > "$PARENT/status.log" 2>&1; then
    ok "world status: every daemon runs"
else
    fail "world status: $(cat "$PARENT/status.log")"
fi

# ------------------------------------------------------------ a real check
out=$(timeout 120 ip netns exec "$NS" "$MXTLS" check good.test --level verify \
    --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
    --ca-file "$MXTLS_WORLD_CA" 2>&1) && rc=0 || rc=$?
if [ "$rc" = 0 ] && [ "$(head -n 1 <<<"$out")" = "good.test: OK: TLS, PKIX senders" ] &&
    [ "$(sed -n 7p <<<"$out")" = "good.test: PASS at level verify" ]; then
    ok "mxtls check good.test --level verify: good.test: OK: TLS, PKIX senders; good.test: PASS at level verify"
else
    fail "mxtls check good.test --level verify: exit $rc:"
    printf '%s\n' "$out"
fi
# the verdict row of verify; DNSSEC (NSD, unbound) and OCSP (openssl ocsp) did their part
if awk '$1 == "verify" && $2 == "pass" && $3 == "verified" && $4 == "verified" && $5 == "mx.good.test" { f = 1 } END { exit !f }' <<<"$out" &&
    grep -qx 'MX: data, secure' <<<"$out" &&
    grep -q '^ *revocation good (ocsp): ' <<<"$out"; then
    ok "verdict verify pass verified via mx.good.test; MX secure; revocation good (ocsp)"
else
    fail "verdict rows, MX or revocation lines missing"
    printf '%s\n' "$out"
fi
# nginx's workers (user nobody) serve the CRL from the state dir
code=$(timeout 30 ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' http://crl.pki.test/inter.crl) || true
if [ "$code" = 200 ]; then ok "nginx serves http://crl.pki.test/inter.crl"; else fail "http://crl.pki.test/inter.crl: HTTP $code"; fi
[ "$FAILS" = 0 ] || show_logs

# ------------------------------------------------------------ down
ns_ino=$(stat -L -c %i "/run/netns/$NS")
pids=$(ip netns pids "$NS" | tr '\n' ' ')
if world 120 down > "$PARENT/down.log" 2>&1; then
    UP=
    ok "world down"
else
    fail "world down: exit $?: $(cat "$PARENT/down.log")"
fi
[ ! -e "/run/netns/$NS" ] && ! ip netns list | grep -qw -- "$NS" &&
    ok "namespace $NS gone" || fail "namespace $NS still there"
[ ! -e "$MXTLS_WORLD_DIR" ] && ok "state dir $MXTLS_WORLD_DIR gone" || fail "state dir $MXTLS_WORLD_DIR left: $(ls -A "$MXTLS_WORLD_DIR")"
[ ! -e "/run/mxtls-world.$NS.lock" ] && ok "lock gone" || fail "/run/mxtls-world.$NS.lock left"
[ ! -e "/etc/netns/$NS" ] && ok "/etc/netns/$NS gone" || fail "/etc/netns/$NS left"
left=
for pid in $pids; do
    if [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$ns_ino" ]; then left="$left $pid"; fi
done
for d in /proc/[0-9]*; do
    c=$(tr '\0' ' ' 2>/dev/null < "$d/cmdline") || continue
    if [[ $c == *"$MXTLS_WORLD_DIR"* || $c == *"$PARENT"* ]]; then left="$left ${d#/proc/}"; fi
done
if [ -z "$left" ]; then
    ok "no process of the world left (${pids:-none} were in the namespace)"
else
    fail "processes left:$left"
    ps -o pid,user,args -p "${left# }" || true
fi
if [ -d "$CO/build/world-logs/$NS" ] && [ -s "$CO/build/world-logs/$NS/postfix.log" ]; then
    ok "the logs are kept in the copy's build/world-logs/$NS"
else
    fail "no logs in $CO/build/world-logs/$NS"
fi

[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all passed"
