#!/bin/sh
# demo.sh - install dependencies, build mxtls, and show what it says
#
# Part 1 evaluates example chains (made by tests/pki/gen-unit-certs.sh with the
# demo's own CA) offline. Part 2, as root, brings up the test mail internet
# (tests/world) and evaluates the certificates its MX hosts present.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
dir=$(sh scripts/build.sh | tail -n 1)
mxtls="$dir/mxtls"
ex="$dir/examples"
sh tests/pki/gen-unit-certs.sh "$ex"

show() {
    printf '\n$ mxtls %s\n' "$*" | sed "s#$ex/##g"
    "$mxtls" "$@" || printf '(exit %d)\n' "$?"
}

echo "== 1. Offline: certificate chains given as files"
show verify --chain "$ex/mx1-chain.pem" --domain example.com --mx mx1.example.com \
    --ca-file "$ex/ca.pem"
show verify --chain "$ex/helo-chain.pem" --domain example.com --mx mx.example.com \
    --ca-file "$ex/ca.pem" --level verify
show verify --chain "$ex/mx1-leafonly.pem" --domain example.com --mx mx1.example.com \
    --ca-file "$ex/ca.pem" --level secure
show verify --chain "$ex/esa-chain.pem" --domain example.com --mx mx01.subd.emailhosted.not \
    --ip 192.0.2.10 --ptr mx0a.emailhosted.not --ptr-confirmed --ca-file "$ex/ca.pem" \
    --level esa-required-verify-hosted

if [ "$(id -u)" = 0 ]; then
    echo
    echo "== 2. Live: the test mail internet (tests/world)"
    MXTLS_BIN="$mxtls" sh scripts/demo-world.sh
elif [ "$(id -u)" != 0 ]; then
    echo
    echo "(run as root to see part 2: live checks against the test mail internet)"
fi
