#!/bin/sh
# limits.sh - mxtls under local resource limits: a shrinking address space
# (ulimit -v) and few file descriptors (ulimit -n). Whatever runs out, mxtls
# ends with its own exit code and one clean line on stderr: never a signal,
# never libevent's exit 1 (the code of a policy failure), never a raw
# libunbound or libevent log line. Also: malformed root hints are a usage
# error at once (exit 2), with the file and line and nothing of libunbound's.
#
# The address-space loop needs a binary without AddressSanitizer (ASan
# reserves terabytes of address space and cannot start under ulimit -v): with
# a sanitizer build it is left out, the rest runs.
#
# Environment (set by CTest): MXTLS_BIN, MXTLS_TEST_CERTS.
set -eu
. "$(dirname "$0")/lib/assert.sh"
C=${MXTLS_TEST_CERTS:?MXTLS_TEST_CERTS is not set}
NO_COLOR=1
export NO_COLOR
ASAN=0
if ldd "$BIN" 2>/dev/null | grep -q 'libasan'; then
    ASAN=1
fi

# A loopback port nobody listens on: bound, then released.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
VERIFY="verify --chain $C/mx1-chain.pem --domain example.com --mx mx1.example.com --ca-file $C/ca.pem --at 2026-06-01 --level verify"
PROBE="probe 127.0.0.1 --domain closed.example --port $PORT --timeout 10"
# its headline (docs/cli.md) and the line with the verdict that sets the exit code
PROBE_HEAD="closed.example: TEMPFAIL connect-failed: TLS, PKIX senders, DANE, REQUIRETLS"
PROBE_VERDICT="closed.example: TEMPFAIL at level may (auto: no policy map entry: opportunistic TLS (may))"

# under LIMIT ARGS... - run mxtls with `ulimit LIMIT`; sets rc, $T/out, $T/err
under() {
    lim=$1
    shift
    last="mxtls $* (ulimit $lim)"
    set +e
    # shellcheck disable=SC2086
    (ulimit $lim && exec "$BIN" "$@") >"$T/out" 2>"$T/err"
    rc=$?
    set -e
}

# judge OKRC HEADLINE RESOURCE [LINE] - the run just made ended in one of the
# two documented ways: OKRC with HEADLINE as the first line of stdout (and
# LINE as one of its lines) and nothing on stderr, or 4 with one stderr line
# that names RESOURCE
judge() {
    checks=$((checks + 1))
    if [ "$rc" -ge 128 ]; then
        fail "killed by signal $((rc - 128)): $last"
    elif [ "$rc" = "$1" ]; then
        ok_runs=$((ok_runs + 1))
        first "$T/out" "$2"
        [ -z "${4:-}" ] || line "$T/out" "$4"
        empty "$T/err"
    elif [ "$rc" = 4 ]; then
        local_runs=$((local_runs + 1))
        count "$T/err" . 1
        count "$T/err" "^mxtls[a-z ]*: .*out of $3" 1
    else
        fail "exit $rc, expected $1 or 4: $last"
    fi
}

# vloop OKRC HEADLINE LINE ARGS... - ulimit -v from 64 MiB down, in steps of 1/64
# and of 96 KiB below 40 MB (where the start-up allocations of OpenSSL,
# libunbound and libevent fail one after the other), until no process can
# reach main() (the floor); at most 500 runs
vloop() {
    okrc=$1
    head=$2
    want=$3
    shift 3
    ok_runs=0
    local_runs=0
    floor=0
    v=65536
    n=0
    while [ $n -lt 500 ]; do
        n=$((n + 1))
        under "-v $v" "$@"
        if [ "$rc" = 127 ] || [ "$rc" -ge 128 ]; then
            # Below the floor no process reaches main(): the loader cannot map
            # a library, or a library's constructor fails (GnuTLS, through
            # libcurl, crashes then). `mxtls --version` shows which it is.
            under "-v $v" --version
            if [ "$rc" = 127 ] || [ "$rc" -ge 128 ]; then
                floor=$v
                break
            fi
            under "-v $v" "$@"
        fi
        judge "$okrc" "$head" memory "$want"
        step=$((v / 64))
        [ $v -gt 40000 ] || step=96
        v=$((v - step))
    done
    checks=$((checks + 1))
    [ "$floor" -gt 0 ] || fail "ulimit -v loop never reached the loader's floor: mxtls $*"
    checks=$((checks + 1))
    [ "$ok_runs" -gt 0 ] && [ "$local_runs" -gt 0 ] ||
        fail "ulimit -v loop: $ok_runs normal runs, $local_runs out of memory: mxtls $*"
    echo "ulimit -v: mxtls $1 ...: $ok_runs normal, $local_runs out of memory, floor $floor KiB"
}

if [ $ASAN = 0 ]; then
    # shellcheck disable=SC2086
    vloop 0 "verify: PASS (security: verified)" "" $VERIFY
    # shellcheck disable=SC2086
    vloop 3 "$PROBE_HEAD" "$PROBE_VERDICT" $PROBE
else
    echo "limits.sh: ulimit -v loops left out (AddressSanitizer build)"
fi

# ulimit -n: from plenty down to the three standard descriptors
for cmd in VERIFY PROBE; do
    ok_runs=0
    local_runs=0
    for nfd in 32 16 12 10 9 8 7 6 5 4 3; do
        if [ $cmd = VERIFY ]; then
            # shellcheck disable=SC2086
            under "-n $nfd" $VERIFY
        else
            # shellcheck disable=SC2086
            under "-n $nfd" $PROBE
        fi
        # The loader needs a descriptor per library it opens: its floor.
        if [ "$rc" = 127 ] && grep -q 'error while loading shared libraries' "$T/err"; then
            break
        fi
        if [ $cmd = VERIFY ]; then
            judge 0 "verify: PASS (security: verified)" "file descriptors"
        else
            judge 3 "$PROBE_HEAD" "file descriptors" "$PROBE_VERDICT"
        fi
    done
    # verify needs one descriptor beyond the loader's: only probe reaches 4.
    checks=$((checks + 1))
    [ "$ok_runs" -gt 0 ] && { [ "$local_runs" -gt 0 ] || [ $cmd = VERIFY ]; } ||
        fail "ulimit -n loop: $ok_runs normal runs, $local_runs out of descriptors: $cmd"
done
# The case libevent used to end with exit 1: no descriptor for its socket pair.
under "-n 5" $PROBE
checks=$((checks + 1))
[ "$rc" = 4 ] || fail "exit $rc, expected 4: $last"
line "$T/err" "mxtls: out of file descriptors (ulimit -n) (libevent: evsig_init_: socketpair: Too many open files)"

# Root hints: checked before anything runs (no 10 s wait for libunbound's
# fallback to the real root servers), a usage error naming the file.
cd "$T"
: >empty.hints
printf '; only a comment\n' >comment.hints
printf '. 3600000 NS a.root.test.\na.root.test. 3600000 A 192.0.2\n' >badaddr.hints
printf '. 3600000 NS a.root.test.\nb.root.test. 3600000 A 192.0.2.1\n' >noglue.hints
printf 'test. 3600000 NS a.root.test.\na.root.test. 3600000 A 192.0.2.1\n' >notroot.hints
printf '. 3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.1\n' >good.hints
hints() {
    file=$1
    msg=$2
    started=$(date +%s)
    run 2 dns example.com --root-hints "$file" --timeout 20
    line "$T/err" "mxtls dns: $msg"
    count "$T/err" . 1
    nofrag "$T/err" "libunbound["
    empty "$T/out"
    checks=$((checks + 1))
    [ $(($(date +%s) - started)) -le 3 ] || fail "root hints error took more than 3 s: $last"
    run 2 check example.com --root-hints "$file" --timeout 20
    line "$T/err" "mxtls check: $msg"
    count "$T/err" . 1
}
hints empty.hints 'empty.hints: root hints: no NS record for the root (".") in the file'
hints comment.hints 'comment.hints: root hints: no NS record for the root (".") in the file'
hints notroot.hints 'notroot.hints: root hints: no NS record for the root (".") in the file'
hints noglue.hints "noglue.hints: root hints: no address (A or AAAA record) for any of the root's NS names"
hints badaddr.hints "badaddr.hints:2: root hints: Syntax error, could not parse the RR's rdata"
# A valid file is accepted: the lookup runs (and fails here, nobody serves
# the root on 127.0.0.1:53 in this test), a DNS failure, exit 3, no raw log.
run 3 dns example.com --root-hints good.hints --timeout 1
first "$T/out" "resolver: recursive from root hints good.hints, validating with /usr/share/dns/root.key"
nofrag "$T/err" "libunbound["

finish
