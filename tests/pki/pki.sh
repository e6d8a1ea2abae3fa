# pki.sh - shell functions that build test PKIs with OpenSSL (sourced, POSIX sh)
#
# Every certificate gets explicit validity dates (openssl ca -startdate/-enddate)
# so verdicts are reproducible with `mxtls verify --at`. Default validity:
# 2025-01-01 .. 2035-01-01. Files per name N in $PKI_DIR: N.key, N.crt (PEM).
#
#   PKI_DIR=out; . tests/pki/pki.sh
#   pki_root   root "Test Root CA"
#   pki_inter  inter root "Test Intermediate CA"
#   pki_leaf   mx1 inter "DNS:mx1.example.com" "mx1.example.com"
#   pki_selfsigned self "DNS:mx.example.com" "mx.example.com"
#
# Optional environment per call: PKI_START, PKI_END (YYYYMMDDHHMMSSZ), PKI_KEY
# ("ec" (P-256, default) or "rsa"), PKI_NO_SAN=1 (CN only), PKI_EKU (default
# serverAuth,clientAuth), PKI_CN_EXTRA (a second CN), PKI_AIA / PKI_CRLDP (URLs).

PKI_DEFAULT_START=20250101000000Z
PKI_DEFAULT_END=20350101000000Z

pki_keygen() { # file
    case "${PKI_KEY:-ec}" in
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
    *) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ;;
    esac
}

# pki_cadb NAME - per-issuer database for `openssl ca`
pki_cadb() {
    d="$PKI_DIR/.ca-$1"
    if [ ! -d "$d" ]; then
        mkdir -p "$d/new"
        : > "$d/index.txt"
        # Distinct serials per issuer and per run avoid collisions across CAs.
        printf '%s\n' "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | sed 's/^./1/')" > "$d/serial"
    fi
    printf '%s' "$d"
}

# pki_conf FILE DB - openssl ca config; extensions come from $PKI_EXT_FILE
pki_conf() {
    cat > "$1" <<CONF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $2
database = $2/index.txt
new_certs_dir = $2/new
serial = $2/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no
[ anything ]
commonName = optional
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CONF
}

# pki_subject CN - an -subj string; PKI_CN_EXTRA adds a second CN
pki_subject() {
    if [ -n "$1" ]; then
        s="/O=mxtls test/CN=$1"
        [ -n "${PKI_CN_EXTRA:-}" ] && s="$s/CN=$PKI_CN_EXTRA"
    else
        s="/O=mxtls test"
    fi
    printf '%s' "$s"
}

# pki_sign NAME ISSUER(or "self") SUBJECT EXTENSIONS
pki_sign() {
    name=$1 issuer=$2 subj=$3 ext=$4
    key="$PKI_DIR/$name.key"
    [ -f "$key" ] || pki_keygen "$key"
    if [ "$issuer" = self ]; then db=$(pki_cadb "$name"); else db=$(pki_cadb "$issuer"); fi
    conf="$PKI_DIR/.$name.cnf"
    pki_conf "$conf" "$db"
    printf '[ ext ]\n%s\n' "$ext" >> "$conf"
    openssl req -new -key "$key" -subj "$subj" -config "$conf" -out "$PKI_DIR/.$name.csr" \
        -multivalue-rdn -utf8 2>/dev/null || { echo "pki: req $name failed" >&2; return 1; }
    if [ "$issuer" = self ]; then
        set -- -selfsign -keyfile "$key" -cert /dev/null
    else
        set -- -keyfile "$PKI_DIR/$issuer.key" -cert "$PKI_DIR/$issuer.crt"
    fi
    openssl ca -batch -notext -utf8 -config "$conf" -extensions ext "$@" \
        -startdate "${PKI_START:-$PKI_DEFAULT_START}" -enddate "${PKI_END:-$PKI_DEFAULT_END}" \
        -in "$PKI_DIR/.$name.csr" -out "$PKI_DIR/$name.crt" 2>"$PKI_DIR/.$name.err" \
        || { cat "$PKI_DIR/.$name.err" >&2; echo "pki: signing $name failed" >&2; return 1; }
}

pki_root() { # NAME CN
    mkdir -p "$PKI_DIR"
    pki_sign "$1" self "$(pki_subject "$2")" \
"basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash"
}

pki_inter() { # NAME ISSUER CN
    pki_sign "$1" "$2" "$(pki_subject "$3")" \
"basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid${PKI_AIA:+
authorityInfoAccess = OCSP;URI:$PKI_AIA}${PKI_CRLDP:+
crlDistributionPoints = URI:$PKI_CRLDP}"
}

pki_leaf_ext() { # SANS
    e="basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = ${PKI_EKU:-serverAuth,clientAuth}
subjectKeyIdentifier = hash"
    [ -n "$1" ] && [ -z "${PKI_NO_SAN:-}" ] && e="$e
subjectAltName = $1"
    [ -n "${PKI_AIA:-}" ] && e="$e
authorityInfoAccess = OCSP;URI:$PKI_AIA"
    [ -n "${PKI_CRLDP:-}" ] && e="$e
crlDistributionPoints = URI:$PKI_CRLDP"
    printf '%s' "$e"
}

pki_leaf() { # NAME ISSUER SANS CN
    pki_sign "$1" "$2" "$(pki_subject "$4")" "$(pki_leaf_ext "$3")
authorityKeyIdentifier = keyid"
}

pki_selfsigned() { # NAME SANS CN
    mkdir -p "$PKI_DIR"
    pki_sign "$1" self "$(pki_subject "$3")" "$(pki_leaf_ext "$2")"
}

# pki_chain OUT FILE... - concatenate PEM certificates (leaf first)
pki_chain() {
    out=$1; shift
    cat "$@" > "$out"
}

# pki_revoke NAME ISSUER [REASON] - mark NAME.crt revoked in ISSUER's database
# (REASON as for `openssl ca -crl_reason`, default keyCompromise); the CRL from
# pki_crl and an `openssl ocsp -index` responder on that database then say so.
pki_revoke() {
    db=$(pki_cadb "$2")
    conf="$PKI_DIR/.$1.revoke.cnf"
    pki_conf "$conf" "$db"
    openssl ca -batch -config "$conf" -keyfile "$PKI_DIR/$2.key" -cert "$PKI_DIR/$2.crt" \
        -revoke "$PKI_DIR/$1.crt" -crl_reason "${3:-keyCompromise}" 2>"$PKI_DIR/.$1.revoke.err" \
        || { cat "$PKI_DIR/.$1.revoke.err" >&2; echo "pki: revoking $1 failed" >&2; return 1; }
}

# pki_crl ISSUER OUT [DAYS] - PEM CRL of ISSUER's revocations, issued now, next
# update in DAYS (default 30), with a CRL number
pki_crl() {
    db=$(pki_cadb "$1")
    conf="$PKI_DIR/.$1.crl.cnf"
    pki_conf "$conf.in" "$db"
    [ -f "$db/crlnumber" ] || echo 1000 > "$db/crlnumber"
    awk -v n="$db/crlnumber" '{ print } /^\[ test_ca \]$/ { print "crlnumber = " n }' \
        "$conf.in" > "$conf"
    openssl ca -batch -gencrl -config "$conf" -keyfile "$PKI_DIR/$1.key" -cert "$PKI_DIR/$1.crt" \
        -crldays "${3:-30}" -out "$2" 2>"$PKI_DIR/.$1.crl.err" \
        || { cat "$PKI_DIR/.$1.crl.err" >&2; echo "pki: CRL of $1 failed" >&2; return 1; }
}
