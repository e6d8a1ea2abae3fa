#!/bin/sh
# deps.sh - the package installers of the README's commands on a first run
#
# scripts/deps.sh (the build, the tests, the demo) and `tests/world/world deps`
# (what `world up` installs) run with stand-ins for the Debian tools on PATH:
# dpkg-query reports every package missing (or, once, every package there),
# apt-get and debconf-set-selections record their arguments and succeed (or
# apt-get fails, once). MXTLS_POLICY_RC_D points the installers at a
# policy-rc.d of our own, so the host's /usr/sbin/policy-rc.d is never
# touched; sudo is a stand-in that runs its arguments (no root needed).
#
# Asserted: exit status 0 after an install, the exact package list and call
# sequence, a policy-rc.d that exits 101 in place during the install, an
# existing policy-rc.d left exactly as it was, one the installer made removed,
# a failing install reported as a failure (and its policy-rc.d still removed),
# nothing done when nothing is missing.
set -eu
SRC=${MXTLS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# the host's own policy-rc.d, to show it was not touched
host_policy() { stat -c '%i %s %a %y' /usr/sbin/policy-rc.d 2>&1 && cksum < /usr/sbin/policy-rc.d || true; }
HOST_BEFORE=$(host_policy)

# ---------------------------------------------------------------- stand-ins
BIN=$T/bin
mkdir -p "$BIN"
CALLS=$T/calls
POLICY=$T/sbin/policy-rc.d
mkdir -p "$T/sbin"

cat > "$BIN/dpkg-query" <<'EOF'
#!/bin/sh
# -W -f=${Status} PACKAGE: "installed" when FAKE_INSTALLED=1, else unknown
eval "pkg=\${$#}"
echo "dpkg-query $pkg" >> "$FAKE_CALLS.dpkg"
if [ "${FAKE_INSTALLED:-}" = 1 ]; then printf 'install ok installed'; exit 0; fi
echo "dpkg-query: no packages found matching $pkg" >&2
exit 1
EOF
cat > "$BIN/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >> "$FAKE_CALLS"
echo "DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-}" >> "$FAKE_CALLS.env"
if [ "$1" = install ]; then
    # what the packages' maintainer scripts would see: invoke-rc.d runs policy-rc.d
    if [ -x "$MXTLS_POLICY_RC_D" ]; then
        "$MXTLS_POLICY_RC_D" postfix start && rc=0 || rc=$?
        echo "policy-rc.d during install: exit $rc" >> "$FAKE_CALLS.policy"
        cksum < "$MXTLS_POLICY_RC_D" >> "$FAKE_CALLS.policy"
    else
        echo "policy-rc.d during install: absent" >> "$FAKE_CALLS.policy"
    fi
    [ "${FAKE_APT_FAIL:-}" = 1 ] && { echo "E: stand-in failure" >&2; exit 100; }
fi
exit 0
EOF
cat > "$BIN/debconf-set-selections" <<'EOF'
#!/bin/sh
printf 'debconf-set-selections %s\n' "$(cat)" >> "$FAKE_CALLS"
EOF
cat > "$BIN/sudo" <<'EOF'
#!/bin/sh
exec "$@"
EOF
chmod 755 "$BIN"/*

# run NAME CMD... - CMD with the stand-ins; its status in $rc, output in $T/NAME.out
run() {
    rname=$1
    shift
    rm -f "$CALLS" "$CALLS".*
    : > "$CALLS"
    : > "$CALLS.policy"
    rc=0
    env PATH="$BIN:$PATH" FAKE_CALLS="$CALLS" MXTLS_POLICY_RC_D="$POLICY" "$@" \
        > "$T/$rname.out" 2>&1 || rc=$?
}

# expect_calls NAME PACKAGES - the installer's exact calls
expect_calls() {
    printf '%s\n' \
        "debconf-set-selections postfix postfix/main_mailer_type select No configuration" \
        "apt-get update -q" \
        "apt-get install -y -q --no-install-recommends $2" > "$T/want"
    if cmp -s "$T/want" "$CALLS"; then
        ok "$1: debconf, apt-get update, apt-get install of exactly the expected packages"
    else
        fail "$1: calls differ (want, got):"
        diff "$T/want" "$CALLS" || true
        cat "$T/$1.out"
    fi
    if [ "$(sort -u "$CALLS.env")" = DEBIAN_FRONTEND=noninteractive ]; then
        ok "$1: apt-get ran with DEBIAN_FRONTEND=noninteractive"
    else
        fail "$1: apt-get environment: $(cat "$CALLS.env")"
    fi
}

DEPS_PACKAGES="build-essential cmake pkg-config openssl ca-certificates python3 \
libssl-dev libidn2-dev libcmocka-dev libunbound-dev libldns-dev libevent-dev \
libcurl4-openssl-dev libsqlite3-dev clang libclang-rt-14-dev \
iproute2 nsd ldnsutils bind9-dnsutils unbound dns-root-data postfix nginx-light \
gnutls-bin curl procps time valgrind \
libjansson-dev chromium \
testssl.sh libsasl2-modules libsasl2-modules-db pandoc man-db file systemd"
WORLD_PACKAGES="nsd unbound postfix nginx-light ldnsutils bind9-dnsutils curl openssl \
util-linux iproute2 cmake make gcc pkg-config libssl-dev \
libsasl2-modules libsasl2-modules-db"

# check_installer NAME PACKAGES CMD... - both policy-rc.d branches
check_installer() {
    name=$1 pkgs=$2
    shift 2

    # 1. a policy-rc.d is already there (as on the standard Debian image)
    printf '#!/bin/sh\n# the site policy\nexit 101\n' > "$POLICY"
    chmod 755 "$POLICY"
    before=$(ls -l --time-style=full-iso "$POLICY"; cksum < "$POLICY")
    want_sum=$(cksum < "$POLICY")
    run "$name-existing" "$@"
    if [ "$rc" = 0 ]; then ok "$name, policy-rc.d present: exit 0"; else fail "$name, policy-rc.d present: exit $rc"; cat "$T/$name-existing.out"; fi
    expect_calls "$name-existing" "$pkgs"
    if [ "$(ls -l --time-style=full-iso "$POLICY" 2>&1; cksum < "$POLICY" 2>&1)" = "$before" ]; then
        ok "$name, policy-rc.d present: left exactly as it was"
    else
        fail "$name, policy-rc.d present: changed or removed"
    fi
    if [ "$(cat "$CALLS.policy")" = "policy-rc.d during install: exit 101
$want_sum" ]; then
        ok "$name, policy-rc.d present: the site's own policy-rc.d was in force during the install"
    else
        fail "$name, policy-rc.d present: during the install: $(cat "$CALLS.policy")"
    fi

    # 2. no policy-rc.d: the installer makes one for the install, removes it after
    rm -f "$POLICY"
    run "$name-absent" "$@"
    if [ "$rc" = 0 ]; then ok "$name, no policy-rc.d: exit 0"; else fail "$name, no policy-rc.d: exit $rc"; cat "$T/$name-absent.out"; fi
    expect_calls "$name-absent" "$pkgs"
    if [ "$(head -n 1 "$CALLS.policy")" = "policy-rc.d during install: exit 101" ]; then
        ok "$name, no policy-rc.d: one that exits 101 was in place during the install"
    else
        fail "$name, no policy-rc.d: during the install: $(cat "$CALLS.policy")"
    fi
    if [ ! -e "$POLICY" ]; then
        ok "$name, no policy-rc.d: the one it made is removed"
    else
        fail "$name, no policy-rc.d: $POLICY left behind"
    fi

    # 3. the install fails: a failure, and the policy-rc.d it made is removed
    run "$name-aptfail" env FAKE_APT_FAIL=1 "$@"
    if [ "$rc" != 0 ]; then ok "$name, apt-get fails: exit $rc"; else fail "$name, apt-get fails: exit 0"; fi
    if [ ! -e "$POLICY" ]; then
        ok "$name, apt-get fails: the policy-rc.d it made is removed"
    else
        fail "$name, apt-get fails: $POLICY left behind"
    fi

    # 4. nothing missing: nothing installed, exit 0
    run "$name-nothing" env FAKE_INSTALLED=1 "$@"
    if [ "$rc" = 0 ] && [ ! -s "$CALLS" ] && [ ! -e "$POLICY" ]; then
        ok "$name, nothing missing: exit 0, no apt-get, no policy-rc.d"
    else
        fail "$name, nothing missing: exit $rc, calls: $(cat "$CALLS")"
    fi
    # every package (or alternative) was asked about
    npk=$(printf '%s\n' $pkgs | wc -l)
    nq=$(wc -l < "$CALLS.dpkg")
    if [ "$nq" -ge "$npk" ]; then
        ok "$name, nothing missing: dpkg-query asked about $nq packages"
    else
        fail "$name, nothing missing: dpkg-query asked about $nq packages, want at least $npk"
    fi
}

check_installer scripts-deps "$DEPS_PACKAGES" sh "$SRC/scripts/deps.sh"
check_installer world-deps "$WORLD_PACKAGES" env MXTLS_WORLD_NS=mxtls-deps-test "$SRC/tests/world/world" deps

# an alternative that is there satisfies its item: nginx-core instead of nginx-light
cat > "$BIN/dpkg-query" <<'EOF'
#!/bin/sh
eval "pkg=\${$#}"
echo "dpkg-query $pkg" >> "$FAKE_CALLS.dpkg"
case $pkg in nginx-core | nsd) printf 'install ok installed'; exit 0 ;; esac
exit 1
EOF
rm -f "$POLICY"
run alternatives sh "$SRC/scripts/deps.sh" nsd unbound 'nginx-light|nginx-core'
if [ "$rc" = 0 ] && [ "$(sed -n 3p "$CALLS")" = "apt-get install -y -q --no-install-recommends unbound" ]; then
    ok "alternatives: nginx-core satisfies nginx-light|nginx-core; only unbound installed"
else
    fail "alternatives: exit $rc, calls: $(cat "$CALLS")"
fi

if [ "$(host_policy)" = "$HOST_BEFORE" ]; then
    ok "the host's /usr/sbin/policy-rc.d is as it was"
else
    fail "the host's /usr/sbin/policy-rc.d changed: $HOST_BEFORE -> $(host_policy)"
fi

[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all passed"
