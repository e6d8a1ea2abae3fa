#!/bin/sh
# deps.sh [PACKAGE...] - install the Debian 12 packages mxtls builds and tests
# with (idempotent; exit 0 when everything is there or was installed)
#
# Without arguments: the packages of the build, the tests and the test world.
# With arguments: those packages (tests/world/world installs its own this way).
# A PACKAGE may be A|B|...: any one of them will do, A is installed when none is.
#
# Runs as root (or through sudo). Daemons installed here (Postfix, NSD, nginx,
# unbound) must not start on the host: the test world runs its own instances
# inside a network namespace. A policy-rc.d that exits 101 keeps them stopped
# during the install: an existing one is left alone, one made here is removed
# afterwards. MXTLS_POLICY_RC_D names the file (default /usr/sbin/policy-rc.d;
# tests/setup/deps.sh points it elsewhere).
set -eu

PACKAGES="build-essential cmake pkg-config openssl ca-certificates python3
libssl-dev libidn2-dev libcmocka-dev libunbound-dev libldns-dev libevent-dev
libcurl4-openssl-dev libsqlite3-dev clang libclang-rt-14-dev
iproute2 nsd ldnsutils bind9-dnsutils unbound dns-root-data postfix
nginx-light|nginx-core|nginx-full|nginx-extras
gnutls-bin curl procps time valgrind
libjansson-dev chromium
testssl.sh libsasl2-modules libsasl2-modules-db"
# Installation and the .deb (packaging/, tests/install): manual pages from
# docs/cli.md, man -w, CPack's dependency scan (file), systemd-analyze verify.
PACKAGES="$PACKAGES pandoc man-db file systemd"
if [ $# -gt 0 ]; then PACKAGES="$*"; fi

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=""
for item in $PACKAGES; do
    found=""
    for p in $(printf '%s\n' "$item" | tr '|' ' '); do
        if installed "$p"; then found=1; break; fi
    done
    [ -n "$found" ] || missing="$missing ${item%%|*}"
done
if [ -z "$missing" ]; then exit 0; fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps.sh: run as root to install:$missing" >&2; exit 2; }
    SUDO=sudo
fi

echo "deps.sh: installing:$missing"
policy_rc=${MXTLS_POLICY_RC_D:-/usr/sbin/policy-rc.d}
created=""
# The EXIT trap must not fail when there is nothing to remove: under set -e a
# failing last command of the trap would become the script's exit status.
cleanup() {
    if [ -n "$created" ]; then
        $SUDO rm -f "$policy_rc" || echo "deps.sh: could not remove $policy_rc" >&2
        created=""
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ ! -e "$policy_rc" ]; then
    created=1
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy_rc" >/dev/null
    $SUDO chmod 755 "$policy_rc"
fi

echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
