#!/bin/sh
# deps.sh - install the Debian 12 packages mxtls builds and tests with (idempotent)
#
# Runs as root (or through sudo). Daemons installed here (Postfix, NSD, nginx,
# unbound) must not start on the host: the test world runs its own instances
# inside a network namespace. A temporary policy-rc.d keeps them stopped.
set -eu

PACKAGES="build-essential cmake pkg-config openssl ca-certificates python3
libssl-dev libidn2-dev libcmocka-dev libunbound-dev libldns-dev libevent-dev
libcurl4-openssl-dev libsqlite3-dev clang libclang-rt-14-dev
iproute2 nsd ldnsutils bind9-dnsutils unbound dns-root-data postfix nginx-light
gnutls-bin curl procps time valgrind"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps.sh: run as root to install:$missing" >&2; exit 2; }
    SUDO=sudo
fi

echo "deps.sh: installing:$missing"
policy_rc=/usr/sbin/policy-rc.d
created=""
if [ ! -e "$policy_rc" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy_rc" >/dev/null
    $SUDO chmod 755 "$policy_rc"
    created=1
fi
cleanup() { [ -n "$created" ] && $SUDO rm -f "$policy_rc"; }
trap cleanup EXIT INT TERM

echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
