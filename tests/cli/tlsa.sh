#!/bin/sh
# tlsa.sh - `mxtls tlsa gen` and the offline parts of `mxtls tlsa check`:
# exact zone-file lines, key checks, rollover (--next), usage errors, and the
# association data compared with OpenSSL and two independent DANE tools,
# GnuTLS's danetool (gnutls-bin) and ldns-dane (ldnsutils).
#
# Environment (set by CTest): MXTLS_BIN, MXTLS_TEST_CERTS. Every failed check
# is reported; the script exits 1 if any failed.
set -eu
. "$(dirname "$0")/lib/assert.sh"
C=${MXTLS_TEST_CERTS:?MXTLS_TEST_CERTS is not set}
NO_COLOR=1
export NO_COLOR

# same WHAT GOT WANT
same() {
    checks=$((checks + 1))
    [ "$2" = "$3" ] || fail "$1: got \"$2\", expected \"$3\""
}

# Expected association data, computed with the openssl command (RFC 6698 §2.1):
# selector 1 = DER SubjectPublicKeyInfo, selector 0 = DER certificate.
spki_der() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER; }
cert_der() { openssl x509 -in "$1" -outform DER; }
hexdump_() { od -An -v -tx1 | tr -d ' \n'; }
digest() { openssl dgst -"$1" -r | cut -d' ' -f1; }
# assoc FILE SELECTOR MTYPE - hex association data of the first certificate of FILE
assoc() {
    case "$2$3" in
    11) spki_der "$1" | digest sha256 ;;
    12) spki_der "$1" | digest sha512 ;;
    10) spki_der "$1" | hexdump_ ;;
    01) cert_der "$1" | digest sha256 ;;
    02) cert_der "$1" | digest sha512 ;;
    00) cert_der "$1" | hexdump_ ;;
    esac
}

S311='; "3 1 1" (DANE-EE, public key, SHA-256) matches the server'"'"'s key rather than its certificate, so it survives every renewal that keeps the key.'
W_SEL0='; warning: "x 0 x" records match the whole certificate and break on every renewal, even one that keeps the key; prefer selector 1.'
ROLL='; rollover: publish all these records now, wait at least 2 x TTL, switch the server to the next certificate, then remove the current records.'
OWNER=_25._tcp.mx1.example.com.
MX1_311=$(assoc "$C/mx1.crt" 1 1)
INTER_SUBJ=$(openssl x509 -in "$C/inter.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')

# ---- gen: exact output ------------------------------------------------------
run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com
exactly "$T/out" <<EOF
$S311
$OWNER IN TLSA 3 1 1 $MX1_311
EOF
empty "$T/err"

run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --selector 0
exactly "$T/out" <<EOF
$S311
$W_SEL0
$OWNER IN TLSA 3 0 1 $(assoc "$C/mx1.crt" 0 1)
EOF

run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --usage 2 --selector 0
exactly "$T/out" <<EOF
$S311
$W_SEL0
; DANE-TA: the CA "$INTER_SUBJ" (certificate 2 of $C/mx1-chain.pem, the issuer of the leaf); the server must send it in its chain (RFC 7672 §3.1.2).
$OWNER IN TLSA 2 0 1 $(assoc "$C/inter.crt" 0 1)
EOF

run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --mtype 2
exactly "$T/out" <<EOF
$S311
$OWNER IN TLSA 3 1 2 $(assoc "$C/mx1.crt" 1 2)
EOF

for sm in "1 0" "0 0" "0 2"; do
    set -- $sm
    run 0 tlsa gen --cert "$C/mx1.crt" --host mx1.example.com --selector "$1" --mtype "$2"
    line "$T/out" "$OWNER IN TLSA 3 $1 $2 $(assoc "$C/mx1.crt" "$1" "$2")"
done

# The CA certificate alone, for usage 2.
run 0 tlsa gen --cert "$C/inter.crt" --host mx1.example.com --usage 2
line "$T/out" "; DANE-TA: the CA \"$INTER_SUBJ\" (certificate 1 of $C/inter.crt, itself a CA certificate); the server must send it in its chain (RFC 7672 §3.1.2)."
line "$T/out" "$OWNER IN TLSA 2 1 1 $(assoc "$C/inter.crt" 1 1)"

# TTL, port, owner name normalisation, the host from the certificate.
run 0 tlsa gen --cert "$C/mx1.crt" --host MX1.Example.COM. --ttl 3600 --port 587
line "$T/out" "_587._tcp.mx1.example.com. 3600 IN TLSA 3 1 1 $MX1_311"
run 0 tlsa gen --cert "$C/mx1.crt" --ttl 0
line "$T/out" "$OWNER 0 IN TLSA 3 1 1 $MX1_311"
line "$T/out" "; host mx1.example.com: the first DNS name of $C/mx1.crt (--host sets another)"
run 0 tlsa gen --cert "$C/wild.crt"
line "$T/out" "; host example.com: the first DNS name of $C/wild.crt (--host sets another)"
run 0 tlsa gen --cert - --host mx1.example.com < "$C/mx1-chain.pem"
line "$T/out" "$OWNER IN TLSA 3 1 1 $MX1_311"

# ---- gen: keys --------------------------------------------------------------
run 0 tlsa gen --cert "$C/mx1-chain.pem" --key "$C/mx1.key" --host mx1.example.com
exactly "$T/out" <<EOF
$S311
$OWNER IN TLSA 3 1 1 $MX1_311
EOF
run 2 tlsa gen --cert "$C/mx1-chain.pem" --key "$C/helo.key" --host mx1.example.com
line "$T/err" "mxtls tlsa gen: $C/helo.key: the key does not belong to the certificate in $C/mx1-chain.pem"
empty "$T/out"
run 2 tlsa gen --cert "$C/mx1-chain.pem" --key "$C/mx1.crt" --host mx1.example.com
line "$T/err" "mxtls tlsa gen: $C/mx1.crt: no private or public key found"
# Postfix style: key and chain in one file.
cat "$C/mx1.key" "$C/mx1-chain.pem" > "$T/both.pem"
run 0 tlsa gen --cert "$T/both.pem" --host mx1.example.com
line "$T/out" "$OWNER IN TLSA 3 1 1 $MX1_311"
cat "$C/helo.key" "$C/mx1-chain.pem" > "$T/wrong.pem"
run 2 tlsa gen --cert "$T/wrong.pem" --host mx1.example.com
line "$T/err" "mxtls tlsa gen: $T/wrong.pem: the key in this file does not belong to the certificate"
# A public key file works as --key.
openssl pkey -in "$C/mx1.key" -pubout -out "$T/mx1.pub" 2>/dev/null
run 0 tlsa gen --cert "$C/mx1.crt" --key "$T/mx1.pub" --host mx1.example.com
line "$T/out" "$OWNER IN TLSA 3 1 1 $MX1_311"
# An encrypted key is refused without a prompt.
openssl pkey -in "$C/mx1.key" -aes128 -passout pass:secret -out "$T/enc.key" 2>/dev/null
run 2 tlsa gen --cert "$C/mx1.crt" --key "$T/enc.key" --host mx1.example.com < /dev/null
line "$T/err" "mxtls tlsa gen: $T/enc.key: the private key is encrypted; decrypt a copy with \"openssl pkey -in FILE\" or give the certificate instead"

# ---- gen: rollover (--next) -------------------------------------------------
# A renewal that keeps the key: the same 3 1 1, printed once.
openssl req -new -x509 -key "$C/mx1.key" -subj /CN=mx1.example.com \
    -addext subjectAltName=DNS:mx1.example.com -days 30 -out "$T/renewed.crt" 2>/dev/null
run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --next "$T/renewed.crt"
exactly "$T/out" <<EOF
$S311
$ROLL
; current: $C/mx1-chain.pem
$OWNER IN TLSA 3 1 1 $MX1_311
; next: $T/renewed.crt
; (same record as for $C/mx1-chain.pem: printed once)
EOF
# ... but a new "3 0 1" (x 0 x breaks on every renewal).
run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --next "$T/renewed.crt" --selector 0
count "$T/out" "^$OWNER IN TLSA 3 0 1 " 2
line "$T/out" "$OWNER IN TLSA 3 0 1 $(assoc "$T/renewed.crt" 0 1)"
line "$T/out" "$W_SEL0"
# A new key: its record comes second; a key alone is enough for 3 1 1.
run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --ttl 300 --next "$C/helo.key" \
    --next "$C/helo-chain.pem"
exactly "$T/out" <<EOF
$S311
$ROLL
; current: $C/mx1-chain.pem
$OWNER 300 IN TLSA 3 1 1 $MX1_311
; next: $C/helo.key
$OWNER 300 IN TLSA 3 1 1 $(assoc "$C/helo.crt" 1 1)
; next: $C/helo-chain.pem
; (same record as for $C/helo.key: printed once)
EOF
run 2 tlsa gen --cert "$C/mx1.crt" --host mx1.example.com --next "$C/helo.key" --selector 0
line "$T/err" "mxtls tlsa gen: $C/helo.key: the file holds only a key: a \"3 0 x\" record needs the certificate"
# A CA change with DANE-TA.
run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --usage 2 --next "$C/othermx1-chain.pem"
line "$T/out" "$OWNER IN TLSA 2 1 1 $(assoc "$C/inter.crt" 1 1)"
line "$T/out" "$OWNER IN TLSA 2 1 1 $(assoc "$C/otherinter.crt" 1 1)"
run 2 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --usage 2 --next "$C/helo.key"
line "$T/err" "mxtls tlsa gen: $C/helo.key: the file holds only a key: a DANE-TA record (usage 2) needs the issuing CA certificate"

# ---- gen: input and usage errors ----------------------------------------------
run 2 tlsa gen --cert "$C/mx1-leafonly.pem" --host mx1.example.com --usage 2
line "$T/err" "mxtls tlsa gen: $C/mx1-leafonly.pem: a DANE-TA record (usage 2) needs the issuing CA certificate: the file holds only the server certificate; append the intermediate as the server sends it"
cat "$C/mx1.crt" "$C/otherinter.crt" > "$T/mixed.pem"
run 2 tlsa gen --cert "$T/mixed.pem" --host mx1.example.com --usage 2
line "$T/err" "mxtls tlsa gen: $T/mixed.pem: certificate 2 did not issue certificate 1: give the chain leaf first, in the order the server sends it"
printf 'not a certificate\n' > "$T/junk.pem"
run 2 tlsa gen --cert "$T/junk.pem"
line "$T/err" "mxtls tlsa gen: $T/junk.pem: no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")"
openssl x509 -in "$C/mx1.crt" -outform DER -out "$T/mx1.der"
run 2 tlsa gen --cert "$T/mx1.der"
frag "$T/err" "binary (DER) data where PEM is expected"
: > "$T/empty.pem"
run 2 tlsa gen --cert "$T/empty.pem"
line "$T/err" "mxtls tlsa gen: $T/empty.pem: empty file: expected PEM certificates"
run 2 tlsa gen --cert "$T/nonexistent.pem"
line "$T/err" "mxtls tlsa gen: $T/nonexistent.pem: cannot open: No such file or directory"
run 2 tlsa gen --cert "$C/mx1.key"
line "$T/err" "mxtls tlsa gen: $C/mx1.key: no certificate, only a key; --cert needs the certificate (give the key with --key)"
run 2 tlsa gen --cert "$C/cnonly.crt"
line "$T/err" "mxtls tlsa gen: $C/cnonly.crt names no host (no DNS subjectAltName without a wildcard); give --host"
run 2 tlsa gen --cert "$C/mx1.crt" --host 'bad..example'
line "$T/err" 'mxtls tlsa gen: --host: name "bad..example" has an empty label'
run 2 tlsa gen
line "$T/err" "mxtls tlsa gen: --cert FILE is required"
line "$T/err" "Try 'mxtls tlsa gen --help'."
run 2 tlsa gen --cert
line "$T/err" "mxtls tlsa gen: option '--cert' needs a value"
for bad in "--usage 1|mxtls tlsa gen: --usage 1: usages 0 and 1 (PKIX) are ignored by SMTP senders (RFC 7672 §3.1.3); use 3 or 2" \
    "--usage 0|mxtls tlsa gen: --usage 0: usages 0 and 1 (PKIX) are ignored by SMTP senders (RFC 7672 §3.1.3); use 3 or 2" \
    "--usage 4|mxtls tlsa gen: --usage '4' must be 3 (DANE-EE) or 2 (DANE-TA)" \
    "--usage x|mxtls tlsa gen: --usage 'x' must be 3 (DANE-EE) or 2 (DANE-TA)" \
    "--selector 2|mxtls tlsa gen: --selector '2' must be 0 (certificate) or 1 (public key)" \
    "--mtype 3|mxtls tlsa gen: --mtype '3' must be 0 (full), 1 (SHA-256) or 2 (SHA-512)" \
    "--mtype -1|mxtls tlsa gen: --mtype '-1' must be 0 (full), 1 (SHA-256) or 2 (SHA-512)" \
    "--port 0|mxtls tlsa gen: --port '0' is not a port number (1-65535)" \
    "--port 65536|mxtls tlsa gen: --port '65536' is not a port number (1-65535)" \
    "--ttl 2147483648|mxtls tlsa gen: --ttl '2147483648' is not a number of seconds (0-2147483647)" \
    "--ttl 1h|mxtls tlsa gen: --ttl '1h' is not a number of seconds (0-2147483647)" \
    "--ttl 99999999999999999999|mxtls tlsa gen: --ttl '99999999999999999999' is not a number of seconds (0-2147483647)" \
    "--frob 1|mxtls tlsa gen: unknown option '--frob'"; do
    opt=${bad%%|*}
    msg=${bad#*|}
    # shellcheck disable=SC2086
    run 2 tlsa gen --cert "$C/mx1.crt" $opt
    line "$T/err" "$msg"
    empty "$T/out"
done
run 0 tlsa gen --cert "$C/mx1.crt" --ttl 2147483647
line "$T/out" "$OWNER 2147483647 IN TLSA 3 1 1 $MX1_311"
run 0 tlsa gen --help
frag "$T/out" "usage: mxtls tlsa gen --cert FILE [--key FILE] [--usage 2|3] [--selector 0|1]"
run 0 tlsa --help
frag "$T/out" "usage: mxtls tlsa gen --cert FILE [options]"
run 2 tlsa
line "$T/err" "mxtls tlsa: a subcommand is required: gen or check"
run 2 tlsa frob
line "$T/err" "mxtls tlsa: unknown subcommand 'frob' (gen or check)"
run 0 --help
line "$T/out" "  tlsa         generate TLSA records and check them before a certificate change"

# ---- independent tools -------------------------------------------------------
# rdata FILE - our "U S M hex" for the one record line of FILE
rdata() { grep -v '^;' "$1" | sed 's/^[^ ]* IN TLSA //'; }

if command -v danetool >/dev/null 2>&1; then
    # danetool prints "_25._tcp.HOST. IN TLSA ( 03 01 01 hex )"
    dt() {
        danetool --tlsa-rr --host=mx1.example.com --port 25 "$@" 2>/dev/null |
            sed -n 's/^\(_25\._tcp\.mx1\.example\.com\.\) IN TLSA ( \([0-9]*\) \([0-9]*\) \([0-9]*\) \([0-9a-f]*\) )$/\2 \3 \4 \5/p' |
            awk '{ printf "%d %d %d %s\n", $1, $2, $3, $4 }'
    }
    for spec in "3 1 1|--load-certificate=$C/mx1.crt|mx1-chain.pem" \
        "3 0 1|--load-certificate=$C/mx1.crt --x509|mx1-chain.pem" \
        "3 1 2|--load-certificate=$C/mx1.crt --hash=sha512|mx1-chain.pem" \
        "3 0 2|--load-certificate=$C/mx1.crt --x509 --hash=sha512|mx1-chain.pem" \
        "2 0 1|--load-certificate=$C/inter.crt --ca --x509|mx1-chain.pem" \
        "2 1 1|--load-certificate=$C/inter.crt --ca|mx1-chain.pem" \
        "3 1 1|--load-pubkey=$T/mx1.pub|mx1.key"; do
        params=${spec%%|*}
        rest=${spec#*|}
        dtopts=${rest%%|*}
        ours=${rest#*|}
        set -- $params
        # shellcheck disable=SC2086
        want=$(dt $dtopts)
        if [ "$ours" = mx1.key ]; then
            run 0 tlsa gen --cert "$C/mx1.crt" --key "$C/$ours" --host mx1.example.com
        else
            run 0 tlsa gen --cert "$C/$ours" --host mx1.example.com --usage "$1" --selector "$2" --mtype "$3"
        fi
        same "danetool $params ($dtopts)" "$(rdata "$T/out")" "$want"
        [ -n "$want" ] || fail "danetool printed nothing for $dtopts"
    done
else
    echo "tlsa.sh: danetool (gnutls-bin) is not installed: comparison skipped"
fi

if command -v ldns-dane >/dev/null 2>&1; then
    # ldns-dane prints "_25._tcp.HOST.<TAB>3600<TAB>IN<TAB>TLSA<TAB>3 1 1 hex"
    ld() {
        ldns-dane "$@" 2>/dev/null | awk -F'\t' '$4 == "TLSA" { print $1 " " $5 }'
    }
    for spec in "3 1 1|-c $C/mx1.crt" "3 0 1|-c $C/mx1.crt" "3 1 2|-c $C/mx1.crt" \
        "3 0 2|-c $C/mx1.crt" "3 0 0|-c $C/mx1.crt" "3 1 0|-c $C/mx1.crt" \
        "2 0 1|-s -o 0 -c $C/mx1-chain.pem" "2 1 1|-s -o 0 -c $C/mx1-chain.pem" \
        "2 1 2|-s -o 0 -c $C/mx1-chain.pem"; do
        params=${spec%%|*}
        ldopts=${spec#*|}
        set -- $params
        # shellcheck disable=SC2086
        want=$(ld $ldopts create mx1.example.com 25 "$1" "$2" "$3")
        run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com --usage "$1" --selector "$2" --mtype "$3"
        same "ldns-dane $params" "$OWNER $(rdata "$T/out")" "$want"
        [ -n "$want" ] || fail "ldns-dane printed nothing for $params"
    done
else
    echo "tlsa.sh: ldns-dane (ldnsutils) is not installed: comparison skipped"
fi

# ---- check: offline errors -----------------------------------------------------
run 2 tlsa check
line "$T/err" "mxtls tlsa check: DOMAIN or HOST is required"
run 2 tlsa check a.example b.example
line "$T/err" "mxtls tlsa check: exactly one DOMAIN or HOST expected"
run 2 tlsa check 192.0.2.25
line "$T/err" "mxtls tlsa check: '192.0.2.25' is an IP address: TLSA records belong to host names (_25._tcp.HOST)"
run 2 tlsa check example.com --next "$T/junk.pem"
line "$T/err" "mxtls tlsa check: $T/junk.pem: no PEM certificate found (expected \"-----BEGIN CERTIFICATE-----\")"
run 2 tlsa check example.com --cert "$T/nonexistent.pem"
line "$T/err" "mxtls tlsa check: $T/nonexistent.pem: cannot open: No such file or directory"
run 2 tlsa check example.com --window 0
line "$T/err" "mxtls tlsa check: --window '0' is not a number of seconds"
run 2 tlsa check example.com --at tomorrow
line "$T/err" "mxtls tlsa check: --at 'tomorrow' is not a UTC time like 2026-06-01T00:00:00Z"
run 2 tlsa check example.com --at 2026-02-31
line "$T/err" "mxtls tlsa check: --at '2026-02-31' is not a UTC time like 2026-06-01T00:00:00Z"
run 2 tlsa check example.com --at 2026-6-1
line "$T/err" "mxtls tlsa check: --at '2026-6-1' is not a UTC time like 2026-06-01T00:00:00Z"
run 2 tlsa check example.com --at 1969-12-31T23:59:59Z
line "$T/err" "mxtls tlsa check: --at '1969-12-31T23:59:59Z' is not a UTC time like 2026-06-01T00:00:00Z"
run 2 tlsa check example.com --at 2026-06-01T12:00:60Z
line "$T/err" "mxtls tlsa check: --at '2026-06-01T12:00:60Z' is not a UTC time like 2026-06-01T00:00:00Z"
run 2 tlsa check example.com --ca-file "$C/ca.pem" --ca-path "$C"
line "$T/err" "mxtls tlsa check: give --ca-file or --ca-path, not both"
run 2 tlsa check 'bad..example'
frag "$T/err" "mxtls tlsa check: "
run 0 tlsa check --help
frag "$T/out" "usage: mxtls tlsa check DOMAIN|HOST [--cert FILE]... [--next FILE]... [options]"
# No DNS answer (a resolver nobody runs): exit 3, a DNS failure.
run 3 tlsa check example.com --resolver 127.0.0.1@9 --timeout 1
frag "$T/out" "result: dns-failure: "
run 3 tlsa check example.com --resolver 127.0.0.1@9 --timeout 1 --json
frag "$T/out" '"result":{"status":"dns-failure",'

finish
