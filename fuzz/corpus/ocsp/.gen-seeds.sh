#!/bin/sh
# .gen-seeds.sh - regenerate the seed corpora of fuzz/fuzz_ocsp.c and fuzz/fuzz_crl.c
#
#   sh fuzz/corpus/ocsp/.gen-seeds.sh
#
# Makes a fresh PKI (root, intermediate, delegated OCSP responder, leaves
# 0x1001 good and 0x1002 revoked, a rogue CA copying the intermediate's name),
# real OCSP responses (`openssl ocsp`) and CRLs (`openssl ca -gencrl`) about
# it, plus broken variants, into fuzz/corpus/ocsp/ and fuzz/corpus/crl/.
# It prints the PEM certificates and the check time to paste into
# fuzz/fuzzpki.h (FUZZ_*_PEM, FUZZ_AT, shared by fuzz_crl and fuzz_ocsp): the
# seeds only reach the deep checks when the targets know the same PKI. The file name starts with a dot so that the
# corpus replay skips it (libFuzzer reads it as one more input: harmless).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OCSP_OUT=$HERE
CRL_OUT=$HERE/../crl
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
mkdir -p "$CRL_OUT"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

cat > ext.cnf <<'EOF'
[ ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://ocsp.fuzz.test/
crlDistributionPoints = URI:http://crl.fuzz.test/inter.crl
[ responder ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# ca_db NAME - an `openssl ca` database and config for issuer NAME
ca_db() {
    mkdir -p "db-$1"
    : > "db-$1/index.txt"
    echo 1000 > "db-$1/crlnumber"
    cat > "db-$1/ca.cnf" <<EOF
[ ca ]
default_ca = c
[ c ]
database = $W/db-$1/index.txt
crlnumber = $W/db-$1/crlnumber
certificate = $W/$1.crt
private_key = $W/$1.key
default_md = sha256
default_crl_days = 3650
EOF
}

# issue NAME ISSUER SERIAL SECTION CN
issue() {
    key "$1"
    openssl req -new -key "$1.key" -subj "/O=mxtls fuzz/CN=$5" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -set_serial "$3" \
        -days 7300 -extfile ext.cnf -extensions "$4" -out "$1.crt" 2>/dev/null
}

key root
openssl req -x509 -new -key root.key -subj "/O=mxtls fuzz/CN=Fuzz Root" -days 7300 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out root.crt
issue inter root 2 ca "Fuzz Inter"
issue resp inter 0x100 responder "Fuzz OCSP"
issue leaf inter 0x1001 leaf mx.good.fuzz.test
issue revoked inter 0x1002 leaf mx.revoked.fuzz.test
issue stranger inter 0x1003 leaf mx.unknown.fuzz.test
key rogue
openssl req -x509 -new -key rogue.key -subj "/O=mxtls fuzz/CN=Fuzz Inter" -days 7300 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out rogue.crt
ca_db inter
ca_db root
ca_db rogue

# CRLs: one before any revocation, then with 0x1002 revoked.
crl() { # ISSUER OUT [extra ca options]
    i=$1 out=$2
    shift 2
    openssl ca -batch -gencrl -config "db-$i/ca.cnf" "$@" -out "$out.pem" 2>/dev/null
    openssl crl -in "$out.pem" -outform DER -out "$out.der"
}
# OCSP answers "unknown" for the leaf while it is not in the database yet.
openssl ocsp -issuer inter.crt -cert leaf.crt -no_nonce -reqout early.req 2>/dev/null
openssl ocsp -index db-inter/index.txt -CA inter.crt -rsigner resp.crt -rkey resp.key \
    -reqin early.req -respout "$OCSP_OUT/unknown.der" -ndays 3650 2>/dev/null
openssl ca -batch -config db-inter/ca.cnf -valid leaf.crt 2>/dev/null
openssl ca -batch -config db-inter/ca.cnf -valid resp.crt 2>/dev/null
crl inter empty
openssl ca -batch -config db-inter/ca.cnf -revoke revoked.crt -crl_reason keyCompromise 2>/dev/null
crl inter inter
now=$(date -u +%s)
crl inter expired -crl_lastupdate "$(date -u -d @$((now - 10 * 86400)) +%Y%m%d%H%M%SZ)" \
    -crl_nextupdate "$(date -u -d @$((now - 86400)) +%Y%m%d%H%M%SZ)"
crl rogue rogue
crl root root
cp inter.der "$CRL_OUT/revoked.der"
cp inter.pem "$CRL_OUT/revoked.pem"
cp empty.der "$CRL_OUT/empty.der"
cp expired.der "$CRL_OUT/expired.der"
cp rogue.der "$CRL_OUT/wrong-signer.der"
cp root.der "$CRL_OUT/other-issuer.der"
head -c 100 inter.der > "$CRL_OUT/truncated.der"
head -c 200 inter.pem > "$CRL_OUT/truncated.pem"
head -c 300 /dev/urandom > "$CRL_OUT/garbage.bin"

# OCSP requests and responses.
req() { # OUT CERT... (SHA-1 CertIDs unless DIGEST is set)
    out=$1
    shift
    set -- $(for c in "$@"; do printf -- '-cert %s.crt ' "$c"; done)
    openssl ocsp ${DIGEST:+-$DIGEST} -issuer inter.crt "$@" -no_nonce -reqout "$out" 2>/dev/null
}
resp() { # REQ OUT SIGNER [options]
    rq=$1 out=$2 signer=$3
    shift 3
    openssl ocsp -index db-inter/index.txt -CA inter.crt -rsigner "$signer.crt" \
        -rkey "$signer.key" -reqin "$rq" -respout "$OCSP_OUT/$out" "$@" 2>/dev/null
}
req leaf.req leaf
req revoked.req revoked
req stranger.req stranger
openssl ocsp -issuer inter.crt -cert revoked.crt -reqout nonce.req 2>/dev/null
req both.req leaf revoked
DIGEST=sha256 req leaf256.req leaf
resp leaf.req good-delegated.der resp -ndays 3650
resp revoked.req revoked-delegated.der resp -ndays 3650
resp stranger.req other-certificate.der resp -ndays 3650
resp nonce.req revoked-nonce.der resp -ndays 3650
resp leaf.req good-by-issuer.der inter -ndays 3650 -resp_no_certs
resp revoked.req revoked-keyid.der resp -ndays 3650 -resp_key_id
resp leaf256.req good-sha256.der resp -ndays 3650
resp both.req two-responses.der resp -ndays 3650
resp leaf.req expired.der resp -nmin 1
resp leaf.req no-next-update.der resp
resp leaf.req wrong-signer.der rogue -ndays 3650
printf '\060\003\012\001\003' > "$OCSP_OUT/trylater.der"
printf '\060\003\012\001\006' > "$OCSP_OUT/unauthorized.der"
head -c 120 "$OCSP_OUT/good-delegated.der" > "$OCSP_OUT/truncated.der"
head -c 300 /dev/urandom > "$OCSP_OUT/garbage.bin"

echo "/* generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by fuzz/corpus/ocsp/.gen-seeds.sh */"
echo "#define FUZZ_AT ((time_t)$((now + 86400))) /* a day after the seeds were made */"
for c in root inter leaf revoked; do
    name=$(echo "$c" | tr a-z A-Z)
    printf 'static const char FUZZ_%s_PEM[] =\n' "$name"
    sed 's/.*/    "&\\n"/' "$c.crt"
    echo '    ;'
done
