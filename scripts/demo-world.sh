#!/bin/sh
# demo-world.sh - part 2 of the demo: mxtls check against the test mail internet
#
# Brings the world up (tests/world, needs root), checks a few of its domains
# the way a mail administrator would, and takes the world down again unless it
# was already up. MXTLS_BIN: the mxtls binary.
set -eu
cd "$(dirname "$0")/.."
MXTLS=${MXTLS_BIN:-build/mxtls}
WORLD=tests/world/world
"$WORLD" up --ref >/dev/null
trap '"$WORLD" down --unref >/dev/null 2>&1 || true' EXIT INT TERM
eval "$("$WORLD" env)"

show() {
    printf '\n$ mxtls %s\n' "$*"
    ip netns exec "$MXTLS_WORLD_NS" "$MXTLS" "$@" \
        --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
        --ca-file "$MXTLS_WORLD_CA" || printf '(exit %d)\n' "$?"
}

echo "(mxtls resolves from the world's own DNSSEC-signed root: --root-hints and"
echo " --trust-anchor; the world's CA stands in for the public CAs: --ca-file)"
show check good.test
show check helo.test --level verify
show check backup.test --level encrypt
show check sni.test --sni-compare --level verify
# the shared-hosting case: Postfix (no SNI) sees the default certificate,
# DANE senders (SNI = the TLSA base domain) the MX's own
show check sni-dane.test --level verify
show check sts.test
if grep -q '^dane-ee\.test' "$MXTLS_WORLD_CASES"; then
    show check dane-ee.test
fi
show check bogus-expired.test
