#!/bin/sh
# hostile.sh - bytes from certificates in mxtls's output: control bytes never
# reach the terminal (text escapes them as \xNN), names are cut at 255 bytes,
# valid UTF-8 passes through (text and JSON), bytes that are not UTF-8 become
# U+FFFD in JSON, errors blame the certificate, not an option the user never
# gave, and a certificate OpenSSL rejects for its extensions is reported as
# such (bad-extension), not as a missing issuer.
#
# The certificates are fuzz/corpus/chain/san-*.pem (tests/pki/gen-hostile-san.py).
#
# Environment (set by CTest): MXTLS_BIN, MXTLS_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/assert.sh"
S=${MXTLS_SOURCE_DIR:?MXTLS_SOURCE_DIR is not set}/fuzz/corpus/chain
NO_COLOR=1
export NO_COLOR
ESC=$(printf '\033')
BEL=$(printf '\007')

# noctl FILE - FILE has no ESC, BEL or other C0 control byte except newline
noctl() {
    checks=$((checks + 1))
    if LC_ALL=C grep -q "[$(printf '\001-\011\013-\037\177')]" "$1"; then
        fail "control bytes in $(basename "$1") of: $last"
    fi
}

# maxline FILE N - no line of FILE is longer than N bytes
maxline() {
    checks=$((checks + 1))
    got=$(LC_ALL=C awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$1")
    [ "$got" -le "$2" ] || fail "a line of $got bytes (at most $2): $last"
}

# jpath PATH - the JSON value at PATH (python syntax) of $T/out, as Python's
# ascii() shows it (non-ASCII characters as \xNN, \uNNNN escapes)
jpath() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1], encoding="utf-8")); print(ascii(eval("d" + sys.argv[2])))' "$T/out" "$1"
}

# same WHAT GOT WANT
same() {
    checks=$((checks + 1))
    [ "$2" = "$3" ] || fail "$1: got $2, expected $3: $last"
}

V="--domain example.com --level verify --at 2026-06-01"

# Control bytes: escaped in text, real characters (JSON escapes) in JSON.
# shellcheck disable=SC2086
run 1 verify --chain "$S/san-ctrl.pem" $V
line "$T/out" '  cert dns    mx\x0a.ex\x1b[31mample\x07.com'
frag "$T/out" 'the certificate carries mx\x0a.ex\x1b[31mample\x07.com, CN=ctrl.example'
noctl "$T/out"
# shellcheck disable=SC2086
run 1 verify --chain "$S/san-ctrl.pem" $V --json
same "presented.dns" "$(jpath '["presented"]["dns"]')" "['mx\\n.ex\\x1b[31mample\\x07.com']"
noctl "$T/out"

# tlsa gen: the name comes from the certificate, and the message says so.
run 2 tlsa gen --cert "$S/san-ctrl.pem"
line "$T/err" "mxtls tlsa gen: $S/san-ctrl.pem: the certificate's first DNS subjectAltName is not a host name: name \"mx\\x0a.ex\\x1b[31mample\\x07.com\" contains the byte 0x0a, which is not allowed in a host name; give --host"
count "$T/err" . 1
nofrag "$T/err" "--host '"
noctl "$T/err"
empty "$T/out"

# A 10,000-byte name: cut at 255 bytes with its length, everywhere.
# shellcheck disable=SC2086
run 1 verify --chain "$S/san-long.pem" $V
A255=$(printf '%0255d' 0 | tr 0 a)
line "$T/out" "  cert dns    $A255...(10012 bytes)"
maxline "$T/out" 700
# shellcheck disable=SC2086
run 1 verify --chain "$S/san-long.pem" $V --json
same "presented.dns" "$(jpath '["presented"]["dns"]')" "['$A255...(10012 bytes)']"
run 2 tlsa gen --cert "$S/san-long.pem"
line "$T/err" "mxtls tlsa gen: $S/san-long.pem: the certificate's first DNS subjectAltName is not a host name: name is far too long; give --host"
maxline "$T/err" 300
# An invalid name from the command line is quoted escaped and cut at 64 bytes.
run 2 tlsa gen --cert "$S/san-ctrl.pem" --host "$(printf '%070d' 0 | tr 0 b)${ESC}.example"
line "$T/err" "mxtls tlsa gen: --host: name \"$(printf '%064d' 0 | tr 0 b)...\" contains the byte 0x1b, which is not allowed in a host name"
noctl "$T/err"

# UTF-8 passes through, in text and in JSON; tlsa gen converts it to A-labels.
# shellcheck disable=SC2086
run 1 verify --chain "$S/san-utf8.pem" $V
line "$T/out" "  cert dns    bücher.example"
line "$T/out" "  cert cn     bücher.example"
# shellcheck disable=SC2086
run 1 verify --chain "$S/san-utf8.pem" $V --json
nofrag "$T/out" '\\xc3'
same "presented.dns" "$(jpath '["presented"]["dns"]')" "['b\\xfccher.example']"
frag "$T/out" '"dns":["bücher.example"]'
run 0 tlsa gen --cert "$S/san-utf8.pem"
line "$T/out" "; host xn--bcher-kva.example: the first DNS name of $S/san-utf8.pem (--host sets another)"

# Bytes that are not UTF-8: U+FFFD (JSON and text alike), never raw.
# shellcheck disable=SC2086
run 1 verify --chain "$S/san-badutf8.pem" $V --json
same "presented.dns" "$(jpath '["presented"]["dns"]')" "['b\\ufffd\\ufffdcher.example']"
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/out" ||
    fail "JSON is not UTF-8: $last"
# shellcheck disable=SC2086
run 1 verify --chain "$S/san-badutf8.pem" $V
line "$T/out" "  cert dns    b��cher.example"
run 2 tlsa gen --cert "$S/san-badutf8.pem"
line "$T/err" "mxtls tlsa gen: $S/san-badutf8.pem: the certificate's first DNS subjectAltName is not a host name: \"b\\xfc\\xffcher.example\" is not a valid internationalised name: string encoding error; give --host"

# An extension OpenSSL cannot decode: the real cause, with its own code.
run 1 verify --chain "$S/san-undecodable.pem" --domain und.example --level verify --at 2026-06-01
first "$T/out" "verify: FAIL (security: none)"
line "$T/out" '  * bad-extension [4.7.5]: the server certificate "CN=und.example" has an extension OpenSSL cannot decode (a malformed subjectAltName or another extension): clients that verify with OpenSSL reject it'
nofrag "$T/out" "unknown-issuer"
nofrag "$T/out" "missing-intermediate"
nofrag "$T/out" "send the complete chain"
line "$T/out" '  - Reissue the certificate: one of its extensions is not valid DER (check the subjectAltName names with "openssl x509 -text").'
run 1 verify --chain "$S/san-undecodable.pem" --domain und.example --level verify --at 2026-06-01 --json
same "reasons[0].code" "$(jpath '["reasons"][0]["code"]')" "'bad-extension'"

# No raw ESC or BEL anywhere in the table of every level either.
run 0 verify --chain "$S/san-ctrl.pem" --domain example.com --at 2026-06-01
noctl "$T/out"
nofrag "$T/out" "$ESC"
nofrag "$T/out" "$BEL"

finish
