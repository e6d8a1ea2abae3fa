#!/bin/sh
# output.sh - standard output that cannot be written is a failure (exit 4 and
# one message), for every command that prints: a disk-full /dev/full, a closed
# descriptor, and JSON as well as text.
#
# Environment (set by CTest): MXTLS_BIN, MXTLS_TEST_CERTS.
set -eu
. "$(dirname "$0")/lib/assert.sh"
C=${MXTLS_TEST_CERTS:?MXTLS_TEST_CERTS is not set}
NO_COLOR=1
export NO_COLOR
cd "$T"
printf 'example.com secure match=.example.com\n' >policy.map

# full ARGS... - mxtls ARGS >/dev/full: exit 4, the ENOSPC message alone on stderr
full() {
    checks=$((checks + 1))
    last="mxtls $* >/dev/full"
    rm -f "$T/out"
    set +e
    "$BIN" "$@" >/dev/full 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" = 4 ] || fail "exit $rc, expected 4: $last"
    line "$T/err" "mxtls: error writing standard output: No space left on device"
    count "$T/err" . 1
}

# closed ARGS... - mxtls ARGS >&- : exit 4, the EBADF message
closed() {
    checks=$((checks + 1))
    last="mxtls $* >&-"
    rm -f "$T/out"
    set +e
    "$BIN" "$@" >&- 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" = 4 ] || fail "exit $rc, expected 4: $last"
    line "$T/err" "mxtls: error writing standard output: Bad file descriptor"
}

V="verify --chain $C/mx1-chain.pem --domain example.com --mx mx1.example.com --ca-file $C/ca.pem --at 2026-06-01"
# shellcheck disable=SC2086
{
    full $V
    full $V --json
    full $V --level verify
    full $V --level verify --json
    closed $V
    closed $V --json
}
full fingerprint "$C/mx1.crt"
closed fingerprint "$C/mx1.crt"
full tlsa gen --cert "$C/mx1.crt"
closed tlsa gen --cert "$C/mx1.crt"
full policy lookup --map policy.map example.com
full policy lookup --map policy.map example.com --json
full policy check --map policy.map
full policy check --map policy.map --json
closed policy check --map policy.map
full --help
full --version
full verify --help
full check --help
full tlsa --help
full policy --help
closed --help

# Output that fits is still a pass, and a failure keeps its own exit code
# when the output was written.
# shellcheck disable=SC2086
run 0 $V
run 1 policy lookup --map policy.map example.org
# A write error outranks the verdict: the verdict never reached the file.
full policy lookup --map policy.map example.org

finish
