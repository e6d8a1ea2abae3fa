# assert.sh - the assertions shared by the CLI test scripts (tests/cli/*.sh)
#
# Sourced, after `set -eu`, by each script:  . "$(dirname "$0")/lib/assert.sh"
# (it lives in a subdirectory because every tests/cli/*.sh is a CTest test).
#
# Sets BIN (the mxtls binary, from MXTLS_BIN), T (a temporary directory,
# removed on exit) and the counters `checks` and `fails`. Every assertion
# counts one check; a failed one is reported on stderr with what mxtls
# printed, and the script goes on. `finish` prints the summary line and is
# the script's last command: its status is the script's exit code.
# shellcheck shell=sh
BIN=${MXTLS_BIN:?MXTLS_BIN is not set}
T=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-$(basename "$0" .sh).XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
fails=0
checks=0
last=

# fail MESSAGE - report one failed check, with the output of the last run
fail() {
    fails=$((fails + 1))
    printf 'FAIL: %s\n' "$*" >&2
    if [ -f "$T/out" ]; then sed 's/^/  stdout| /' "$T/out" | head -40 >&2; fi
    if [ -f "$T/err" ]; then sed 's/^/  stderr| /' "$T/err" | head -10 >&2; fi
}

# run RC ARGS... - run mxtls; stdout in $T/out, stderr in $T/err; exit code must be RC
run() {
    run_rc=$1
    shift
    checks=$((checks + 1))
    last="mxtls $*"
    set +e
    "$BIN" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    [ "$rc" = "$run_rc" ] || fail "exit $rc, expected $run_rc: $last"
}

# line FILE TEXT - FILE has a line exactly TEXT
line() {
    checks=$((checks + 1))
    grep -qxF -- "$2" "$1" || fail "no line \"$2\" in $(basename "$1") of: $last"
}

# frag FILE TEXT - some line of FILE contains TEXT
frag() {
    checks=$((checks + 1))
    grep -qF -- "$2" "$1" || fail "no \"$2\" in $(basename "$1") of: $last"
}

# nofrag FILE TEXT - no line of FILE contains TEXT
nofrag() {
    checks=$((checks + 1))
    if grep -qF -- "$2" "$1"; then fail "unexpected \"$2\" in $(basename "$1") of: $last"; fi
}

# first FILE TEXT - the first line of FILE is TEXT
first() {
    checks=$((checks + 1))
    got=$(head -n 1 "$1")
    [ "$got" = "$2" ] || fail "first line \"$got\", expected \"$2\" of: $last"
}

# empty FILE
empty() {
    checks=$((checks + 1))
    [ ! -s "$1" ] || fail "$(basename "$1") is not empty: $last"
}

# exactly FILE - FILE is exactly the text on stdin
exactly() {
    checks=$((checks + 1))
    cat > "$T/want"
    cmp -s "$T/want" "$1" || {
        fail "output differs from the expected text: $last"
        diff "$T/want" "$1" | sed 's/^/  diff| /' >&2 || true
    }
}

# count FILE PATTERN N - N lines of FILE match the grep pattern
count() {
    checks=$((checks + 1))
    got=$(grep -c -- "$2" "$1" || true)
    [ "$got" = "$3" ] || fail "$got lines match \"$2\", expected $3: $last"
}

# finish - the summary line; fails (the script's exit status) if any check failed
finish() {
    echo "$(basename "$0"): $checks checks, $fails failed"
    [ "$fails" -eq 0 ]
}
