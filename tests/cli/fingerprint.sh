#!/bin/sh
# fingerprint.sh - `mxtls fingerprint` against what openssl computes, and its errors
#
# Environment (set by CTest): MXTLS_BIN, MXTLS_TEST_CERTS.
set -eu
. "$(dirname "$0")/lib/assert.sh"
C=${MXTLS_TEST_CERTS:?MXTLS_TEST_CERTS is not set}

# out TEXT - stdout is exactly one line TEXT
out() {
    checks=$((checks + 1))
    printf '%s\n' "$1" >"$T/want"
    cmp -s "$T/want" "$T/out" || fail "stdout is not \"$1\": $last"
}

# err TEXT - stderr has the line TEXT and stdout is empty
err() {
    checks=$((checks + 1))
    grep -qxF -- "$1" "$T/err" || fail "no stderr line \"$1\": $last"
    [ ! -s "$T/out" ] || fail "stdout not empty: $last"
}

# hexpairs - "ab12cd..." on stdin to "AB:12:CD:..."
hexpairs() {
    tr -d ' \n' | tr 'a-f' 'A-F' | sed 's/\(..\)/\1:/g; s/:$//'
}

# ossl_cert DIGEST FILE - openssl's certificate fingerprint, Postfix format
ossl_cert() {
    openssl x509 -in "$2" -noout -fingerprint "-$1" | sed 's/^[^=]*=//'
}

# ossl_pubkey DIGEST FILE - digest of the DER SubjectPublicKeyInfo
ossl_pubkey() {
    openssl x509 -in "$2" -pubkey -noout | openssl pkey -pubin -outform DER |
        openssl dgst "-$1" | sed 's/^.*= *//' | hexpairs
}

for name in mx1 wild self idn ipsan esa; do
    f="$C/$name.crt"
    for d in sha256 sha1 md5; do
        want=$(ossl_cert $d "$f")
        checks=$((checks + 1))
        [ -n "$want" ] || fail "openssl gave no $d fingerprint of $f"
        run 0 fingerprint --digest $d "$f"
        out "$want"
        want=$(ossl_pubkey $d "$f")
        run 0 fingerprint --digest $d --pubkey "$f"
        out "$want"
    done
done

# default digest sha256; option order does not matter
want=$(ossl_cert sha256 "$C/mx1.crt")
run 0 fingerprint "$C/mx1.crt"
out "$want"
checks=$((checks + 1))
printf '%s\n' "$want" | grep -qx '\([0-9A-F][0-9A-F]:\)\{31\}[0-9A-F][0-9A-F]' ||
    fail "not 32 upper-case hex pairs: $want"
run 0 fingerprint "$C/mx1.crt" --pubkey --digest sha256
out "$(ossl_pubkey sha256 "$C/mx1.crt")"

# a chain: the first certificate (the leaf)
run 0 fingerprint "$C/mx1-chain.pem"
out "$want"
# a key block first (Postfix chain files): skipped
cat "$C/mx1.key" "$C/mx1-chain.pem" >"$T/keyfirst.pem"
run 0 fingerprint "$T/keyfirst.pem"
out "$want"
# CRLF line endings
sed 's/$/\r/' "$C/mx1.crt" >"$T/crlf.pem"
run 0 fingerprint "$T/crlf.pem"
out "$want"
# standard input
checks=$((checks + 1))
got=$("$BIN" fingerprint - <"$C/mx1.crt") || fail "fingerprint - failed"
[ "$got" = "$want" ] || fail "fingerprint - gave $got"

# the public-key digest is what a key rollover keeps: two certificates for
# the same key would share it; here two keys differ
a=$("$BIN" fingerprint --pubkey "$C/mx1.crt")
b=$("$BIN" fingerprint --pubkey "$C/helo.crt")
checks=$((checks + 1))
[ "$a" != "$b" ] || fail "different keys, same public-key fingerprint"

# the printed fingerprint is accepted by verify --level fingerprint
for opt in "" --pubkey; do
    fp=$("$BIN" fingerprint $opt "$C/self.crt")
    run 0 verify --chain "$C/self-chain.pem" --domain example.com --level fingerprint --match "$fp"
    first "$T/out" "fingerprint: PASS (security: verified)"
done

# ---- errors: exit 2 ---------------------------------------------------------
run 2 fingerprint
err "mxtls fingerprint: a certificate FILE is required"
err "Try 'mxtls fingerprint --help'."
run 2 fingerprint "$C/mx1.crt" "$C/helo.crt"
err "mxtls fingerprint: exactly one FILE is expected"
run 2 fingerprint --digest sha512 "$C/mx1.crt"
err "mxtls fingerprint: digest: unknown digest \"sha512\" (use sha256, sha1 or md5)"
run 2 fingerprint --digest SHA256 "$C/mx1.crt"
err "mxtls fingerprint: digest: unknown digest \"SHA256\" (use sha256, sha1 or md5)"
run 2 fingerprint --bogus "$C/mx1.crt"
err "mxtls fingerprint: unknown option '--bogus'"
run 2 fingerprint "$T/missing.crt"
err "mxtls fingerprint: $T/missing.crt: cannot open: No such file or directory"
run 2 fingerprint "$T"
err "mxtls fingerprint: $T: is a directory, not a file"
printf 'not a certificate\n' >"$T/text.txt"
run 2 fingerprint "$T/text.txt"
err "mxtls fingerprint: $T/text.txt: no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")"
openssl x509 -in "$C/mx1.crt" -outform DER -out "$T/mx1.der"
run 2 fingerprint "$T/mx1.der"
err "mxtls fingerprint: $T/mx1.der: binary (DER) data where PEM is expected; convert it with \"openssl x509 -inform DER -in FILE\""
head -n 5 "$C/mx1.crt" >"$T/trunc.pem"
run 2 fingerprint "$T/trunc.pem"
err "mxtls fingerprint: $T/trunc.pem:1: PEM block has no END line (truncated file?)"
: >"$T/empty.pem"
run 2 fingerprint "$T/empty.pem"
err "mxtls fingerprint: $T/empty.pem: empty file: expected PEM certificates"
run 2 fingerprint "$C/mx1.key"
err "mxtls fingerprint: $C/mx1.key: no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")"

run 0 fingerprint --help
first "$T/out" "usage: mxtls fingerprint FILE [--digest sha256|sha1|md5] [--pubkey]"

finish
