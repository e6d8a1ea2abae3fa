#!/bin/bash
# world-smoke.sh - proves every component of the test world is real
#
# Runs against a world that is up (CTest fixture "world"). Asserts exact
# values: DNSSEC through the validating resolver (AD for signed data, SERVFAIL
# for the bogus zones, no AD for the insecure one), the DNS data of every row
# of cases.tsv, every TLSA RRset of records.txt (data recomputed with openssl
# from the world's certificates; the tampered one bogus), two Postfix listeners with different certificates, SNI,
# implicit TLS, client-certificate request, MTA-STS over HTTPS verified with the
# world CA, revocation by OCSP and CRL, and each hostile server mode.
# Exit 77 (skipped) when not root or when the world is not up.
set -u
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
W=${MXTLS_WORLD:-$HERE/../world/world}

[ "$(id -u)" = 0 ] || { echo "SKIP: the world needs root"; exit 77; }
"$W" status >/dev/null 2>&1 || { echo "SKIP: the world is not up (world up failed or was skipped)"; exit 77; }
eval "$("$W" env)"

passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; }
# expect NAME WANT GOT
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1"; printf '     want: %s\n     got:  %s\n' "$2" "$3"; fi
}
# expect_match NAME REGEX GOT
expect_match() {
    if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else bad "$1"; printf '     want /%s/\n     got:  %s\n' "$2" "$3"; fi
}

wx() { timeout 20 ip netns exec "$MXTLS_WORLD_NS" "$@"; }
CA=$MXTLS_WORLD_CA
P=$MXTLS_WORLD_PKI
R=$MXTLS_WORLD_RESOLVER

# ---- DNS / DNSSEC through the validating resolver

dig_status() { wx dig +time=3 +tries=1 "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
dig_ad() { if wx dig +time=3 +tries=1 +dnssec "$@" | grep -Eq '^;; flags:[a-z ]* ad[ ;]'; then echo ad; else echo no-ad; fi; }
dig_short() { wx dig +time=3 +tries=1 +short "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

expect "resolv.conf of the namespace names the resolver" "nameserver $R" \
    "$(wx cat /etc/resolv.conf | grep '^nameserver')"
expect "signed good.test MX: answer" "10 mx.good.test." "$(dig_short good.test MX)"
expect "signed good.test MX: AD" ad "$(dig_ad good.test MX)"
expect "root SOA: AD (own trust anchor)" ad "$(dig_ad @"$R" . SOA)"
expect "bogus-expired.test MX: SERVFAIL" SERVFAIL "$(dig_status bogus-expired.test MX)"
expect "bogus-expired.test MX with +cd: data is there" NOERROR "$(dig_status +cd bogus-expired.test MX)"
expect "bogus-tampered.test MX: SERVFAIL" SERVFAIL "$(dig_status bogus-tampered.test MX)"
expect "bogus-tampered.test MX with +cd: tampered preference" "910 mx.bogus-tampered.test." \
    "$(dig_short +cd bogus-tampered.test MX)"
expect "insecure.test MX: NOERROR" NOERROR "$(dig_status insecure.test MX)"
expect "insecure.test MX: answer" "10 mx.insecure.test." "$(dig_short insecure.test MX)"
expect "insecure.test MX: no AD" no-ad "$(dig_ad insecure.test MX)"
expect "insecure.test has no DS" "" "$(dig_short insecure.test DS)"
expect "nullmx.test MX" "0 ." "$(dig_short nullmx.test MX)"
expect "PTR 127.0.2.23 (signed reverse zone)" "mx0a.hosting.test." "$(dig_short -x 127.0.2.23)"
expect "PTR 127.0.2.23: AD" ad "$(dig_ad -x 127.0.2.23)"
expect "mx0a.hosting.test forward-confirms 127.0.2.23" 127.0.2.23 "$(dig_short mx0a.hosting.test A)"
expect "PTR 127.0.2.24" "mx0b.hosting.test." "$(dig_short -x 127.0.2.24)"
expect "mx0b.hosting.test does not confirm 127.0.2.24" 127.0.2.23 "$(dig_short mx0b.hosting.test A)"
expect "_mta-sts.sts.test TXT" '"v=STSv1; id=20250101T000000;"' "$(dig_short _mta-sts.sts.test TXT)"
expect "IDN zone MX" "10 mx.xn--mnchen-3ya.test." "$(dig_short xn--mnchen-3ya.test MX)"

# every row of the case table: the DNSSEC state and the MX/A data it declares
while IFS=$'\t' read -r domain dnssec mx addrs _; do
    case $domain in '#'* | domain | '') continue ;; esac
    case $dnssec in
    bogus-*) expect "case $domain: MX is bogus" SERVFAIL "$(dig_status "$domain" MX)"; continue ;;
    signed) expect "case $domain: MX validated" ad "$(dig_ad "$domain" MX)" ;;
    unsigned) expect "case $domain: MX insecure" no-ad "$(dig_ad "$domain" MX)" ;;
    esac
    if [ "$mx" = - ]; then
        want=
    else
        want=$(printf '%s\n' "$mx" | tr ',' '\n' | awk -F: '{ print $1 " " ($2 == "." ? "." : $2 ".") }' |
            sort | tr '\n' ' ' | sed 's/ $//')
    fi
    expect "case $domain: MX records" "$want" "$(dig_short "$domain" MX)"
    if [ "$addrs" != - ]; then
        for item in $(printf '%s' "$addrs" | tr ',' ' '); do
            expect "case $domain: ${item%%=*} A" "${item#*=}" "$(dig_short "${item%%=*}" A)"
        done
    fi
done < "$MXTLS_WORLD_CASES"

# ---- DANE: TLSA records computed from this run's certificates

# tlsa_want U S M pki:CERT[:ta] - the rdata, computed here with openssl
# (independently of the world script), lower-case hex in one piece
tlsa_want() {
    local u=$1 s=$2 m=$3 ref=${4#pki:} f
    case $4 in pki:*) ;; *) printf '%s %s %s %s\n' "$u" "$s" "$m" "${4,,}"; return ;; esac
    f=$P/$ref.crt
    if [ "${ref%:ta}" != "$ref" ]; then # the CA the server sends after its leaf
        f=$(mktemp)
        openssl crl2pkcs7 -nocrl -certfile "$P/${ref%:ta}-chain.pem" | openssl pkcs7 -print_certs |
            awk '/-BEGIN/ { b = "" } { b = b $0 "\n" } /-END/ { last = b } END { printf "%s", last }' > "$f"
    fi
    printf '%s %s %s %s\n' "$u" "$s" "$m" "$(
        if [ "$s" = 0 ]; then openssl x509 -in "$f" -outform DER
        else openssl x509 -in "$f" -pubkey -noout | openssl pkey -pubin -outform DER; fi |
            case $m in 0) od -An -v -tx1 | tr -d ' \n' ;; 1) sha256sum | cut -d' ' -f1 ;; 2) sha512sum | cut -d' ' -f1 ;; esac)"
    [ "$f" = "$P/$ref.crt" ] || rm -f "$f"
}
# tlsa_got [DIG OPTIONS] OWNER - the TLSA RRset as dig shows it, normalised, sorted
tlsa_got() {
    wx dig +time=3 +tries=1 +short "$@" TLSA | awk '{ d = ""; for (i = 4; i <= NF; i++) d = d $i; print $1, $2, $3, tolower(d) }' | sort
}

RECORDS=$HERE/../world/records.txt
tlsa_owners=$(awk '!/^#/ && $2 == "TLSA" { print tolower($1) }' "$RECORDS" | sort -u)
[ -n "$tlsa_owners" ] || bad "records.txt has TLSA records"
for owner in $tlsa_owners; do
    want=$(awk -v o="$owner" '!/^#/ && tolower($1) == o && $2 == "TLSA" { print $3, $4, $5, $6 }' "$RECORDS" |
        while read -r u s m data; do tlsa_want "$u" "$s" "$m" "$data"; done | sort)
    name=${owner%.}
    if grep -qiE "^tamper[[:space:]]+$owner[[:space:]]+TLSA" "$RECORDS"; then
        expect "TLSA $name (tampered after signing): SERVFAIL" SERVFAIL "$(dig_status "$name" TLSA)"
        got=$(tlsa_got +cd "$name")
        if [ -n "$got" ] && [ "$got" != "$want" ] && [ "${got%?}" = "${want%?}" ]; then
            ok "TLSA $name with +cd: the data with its last digit changed"
        else
            bad "TLSA $name with +cd: the data with its last digit changed"; printf '     want: %s (but for the last digit)\n     got:  %s\n' "$want" "$got"
        fi
        continue
    fi
    expect "TLSA $name = the openssl digests of the world's certificates" "$want" "$(tlsa_got "$name")"
    case $name in
    *.dane-insecure.test) expect "TLSA $name: no AD (unsigned zone)" no-ad "$(dig_ad "$name" TLSA)" ;;
    *) expect "TLSA $name: AD" ad "$(dig_ad "$name" TLSA)" ;;
    esac
done
expect "dane-bogus.test MX still validates" ad "$(dig_ad dane-bogus.test MX)"
expect "mx.dane-bogus.test A still validates" ad "$(dig_ad mx.dane-bogus.test A)"
expect "mx.dane-cname.test is a CNAME" "smtp.dane-cname.test." "$(dig_short mx.dane-cname.test CNAME)"
expect "mx.dane-cname.test A through the CNAME: AD" ad "$(dig_ad mx.dane-cname.test A)"
expect "no TLSA at mx.good.test: NXDOMAIN" NXDOMAIN "$(dig_status _25._tcp.mx.good.test TLSA)"

# ---- SMTP: Postfix listeners, each with its own certificate

# peer_cert ADDR SNI [s_client args] - subject + SANs of the certificate sent
peer_cert() {
    local addr=$1 sni=$2
    shift 2
    if [ -n "$sni" ]; then set -- -servername "$sni" "$@"; else set -- -noservername "$@"; fi
    wx openssl s_client -starttls smtp -connect "$addr:25" "$@" </dev/null 2>/dev/null |
        openssl x509 -noout -subject -ext subjectAltName -nameopt RFC2253 2>/dev/null |
        grep -v 'Subject Alternative Name' | sed 's/^ *//' | tr '\n' ' ' | sed 's/ $//'
}
# verify_code ADDR - OpenSSL verify result against the world CA
verify_code() {
    wx openssl s_client -starttls smtp -connect "$1:25" -CAfile "$CA" </dev/null 2>/dev/null |
        sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' | head -n1
}

expect "127.0.2.1 mx.good.test certificate" "subject=O=mxtls test,CN=mx.good.test DNS:mx.good.test" \
    "$(peer_cert 127.0.2.1 mx.good.test)"
expect "127.0.2.2 helo.test MX certificate (HELO name)" \
    "subject=O=mxtls test,CN=smtp.provider-a.test DNS:smtp.provider-a.test" \
    "$(peer_cert 127.0.2.2 mx.helo.test)"
expect "127.0.2.1 chain verifies with hostname" 0 \
    "$(wx openssl s_client -starttls smtp -connect 127.0.2.1:25 -CAfile "$CA" -verify_hostname mx.good.test \
        </dev/null 2>/dev/null | sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' | head -n1)"
expect "127.0.2.12 with SNI mx.sni.test" "subject=O=mxtls test,CN=mx.sni.test DNS:mx.sni.test" \
    "$(peer_cert 127.0.2.12 mx.sni.test)"
expect "127.0.2.12 without SNI" "subject=O=mxtls test,CN=no-sni.invalid DNS:no-sni.invalid" \
    "$(peer_cert 127.0.2.12 "")"
expect "127.0.2.11 CN-only certificate" "subject=O=mxtls test,CN=mx.cnonly.test" \
    "$(peer_cert 127.0.2.11 mx.cnonly.test)"
expect "127.0.2.23 hosting wildcard certificate" \
    "subject=O=mxtls test,CN=*.hosting.test DNS:*.hosting.test, DNS:hosting.test" \
    "$(peer_cert 127.0.2.23 mx01.subd.hosting.test)"
expect "expired leaf: verify error 10" 10 "$(verify_code 127.0.2.3)"
expect "not-yet-valid leaf: verify error 9" 9 "$(verify_code 127.0.2.4)"
expect "self-signed leaf: verify error 18" 18 "$(verify_code 127.0.2.5)"
expect "no intermediate sent: verify error 21" 21 "$(verify_code 127.0.2.6)"
expect "revoked leaf without revocation check: verify ok" 0 "$(verify_code 127.0.2.7)"
expect "dane-ee.test: expired self-signed certificate: verify error 10" 10 "$(verify_code 127.0.2.29)"
expect "dane-ee.test: issuer is the subject" "issuer=O=mxtls test,CN=mx.dane-ee.test subject=O=mxtls test,CN=mx.dane-ee.test" \
    "$(wx openssl s_client -starttls smtp -connect 127.0.2.29:25 </dev/null 2>/dev/null |
        openssl x509 -noout -issuer -subject -nameopt RFC2253 | tr '\n' ' ' | sed 's/ $//')"

ehlo() { # ADDR - the EHLO keywords of a plaintext session
    wx bash -c 'exec 3<>"/dev/tcp/$1/25" || exit 1
        IFS= read -r l <&3; printf "EHLO probe.test\r\n" >&3
        while IFS= read -r l <&3; do l=${l%$'"'\r'"'}; echo "${l:4}"; [ "${l:3:1}" = " " ] && break; done
        printf "QUIT\r\n" >&3' _ "$1" | tail -n +2 | tr '\n' ' ' | sed 's/ $//'
}
expect_match "127.0.2.1 offers STARTTLS" '(^| )STARTTLS( |$)' "$(ehlo 127.0.2.1)"
got=$(ehlo 127.0.2.8)
expect_match "127.0.2.8 answers EHLO" 'PIPELINING' "$got"
if printf '%s' "$got" | grep -q STARTTLS; then bad "127.0.2.8 offers no STARTTLS"; else ok "127.0.2.8 offers no STARTTLS"; fi
expect_match "Postfix accepts a message (and discards it)" '^250 2\.0\.0 Ok: queued as [0-9A-F]+$' \
    "$(wx bash -c 'exec 3<>/dev/tcp/127.0.2.8/25 || exit 1
        r() { while IFS= read -r l <&3; do [ "${l:3:1}" = " " ] && break; done; printf "%s\n" "${l%$'"'\r'"'}"; }
        r >/dev/null
        for c in "EHLO probe.test" "MAIL FROM:<probe@probe.test>" "RCPT TO:<postmaster@plain.test>" "DATA"; do
            printf "%s\r\n" "$c" >&3; r >/dev/null; done
        printf "Subject: world smoke test\r\n\r\nhello\r\n.\r\n" >&3; r; printf "QUIT\r\n" >&3')"
expect "127.0.2.17 refuses connections" refused \
    "$(wx bash -c 'exec 3<>/dev/tcp/127.0.2.17/25' 2>/dev/null && echo open || echo refused)"

expect "implicit TLS on 127.0.2.1:465: greeting inside TLS" "220 mx.good.test ESMTP" \
    "$(printf 'QUIT\r\n' | wx openssl s_client -connect 127.0.2.1:465 -servername mx.good.test -CAfile "$CA" \
        -quiet -verify_return_error 2>/dev/null | head -n1 | tr -d '\r')"
cr() { # ADDR - does the server send a CertificateRequest?
    if wx openssl s_client -starttls smtp -connect "$1:25" </dev/null 2>/dev/null |
        grep -q '^Requested Signature Algorithms'; then echo requested; else echo none; fi
}
expect "127.0.2.25 asks for a client certificate" requested "$(cr 127.0.2.25)"
expect "127.0.2.1 does not ask for a client certificate" none "$(cr 127.0.2.1)"

# ---- HTTPS: MTA-STS policies, CRLs over HTTP

want=$(printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n' | od -An -c | tr -s ' \n' ' ')
got=$(wx curl -sS --max-time 10 --cacert "$CA" https://mta-sts.sts.test/.well-known/mta-sts.txt | od -An -c | tr -s ' \n' ' ')
expect "MTA-STS policy of sts.test over HTTPS (world CA)" "$want" "$got"
expect "MTA-STS policy of sts-testing.test: mode" "mode: testing" \
    "$(wx curl -sS --max-time 10 --cacert "$CA" https://mta-sts.sts-testing.test/.well-known/mta-sts.txt |
        tr -d '\r' | grep '^mode:')"
expect "HTTPS without the world CA is refused" 60 \
    "$(wx curl -s --max-time 10 -o /dev/null https://mta-sts.sts.test/.well-known/mta-sts.txt; echo $?)"

# ---- revocation: OCSP responder and CRL

ocsp() { # CERTNAME - status line from the OCSP responder
    wx openssl ocsp -issuer "$P/inter.crt" -cert "$P/$1.crt" -CAfile "$CA" -url "$MXTLS_WORLD_OCSP_URL" \
        -timeout 10 2>&1 | sed -n "s|^$P/$1.crt: ||p"
}
expect "OCSP says revoked for the revoked leaf" revoked "$(ocsp revoked)"
expect "OCSP says good for mx.good.test" good "$(ocsp good)"
crl=$(mktemp)
trap 'rm -f "$crl"' EXIT
wx curl -sS --max-time 10 -o - http://crl.pki.test/inter.crl | openssl crl -inform DER -out "$crl" 2>/dev/null
expect_match "CRL over HTTP: the revoked leaf fails verification" 'error 23 at 0 depth lookup: certificate revoked' \
    "$(openssl verify -crl_check -CAfile "$CA" -untrusted "$P/inter.crt" -CRLfile "$crl" "$P/revoked.crt" 2>&1)"
expect "CRL over HTTP: a good leaf passes" "$P/good.crt: OK" \
    "$(openssl verify -crl_check -CAfile "$CA" -untrusted "$P/inter.crt" -CRLfile "$crl" "$P/good.crt" 2>&1)"

# ---- hostile servers

expect "inject: '250 injected' follows the STARTTLS reply" "220 2.0.0 Ready to start TLS|250 injected" \
    "$(wx bash -c 'exec 3<>/dev/tcp/127.0.4.1/25; IFS= read -r l <&3; printf "EHLO probe.test\r\n" >&3
        while IFS= read -r l <&3; do [ "${l:3:1}" = " " ] && break; done
        printf "STARTTLS\r\n" >&3; IFS= read -r a <&3; IFS= read -r -t 3 b <&3; printf "%s|%s" "${a%$'"'\r'"'}" "${b%$'"'\r'"'}"')"
expect "inject: TLS after the injection, valid chain" 0 \
    "$(wx openssl s_client -starttls smtp -connect 127.0.4.1:25 -CAfile "$CA" -verify_hostname mx.inject.test \
        </dev/null 2>/dev/null | sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' | head -n1)"
t0=$(date +%s.%N)
got=$(wx timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.4.2/25; head -c 3 <&3')
t1=$(date +%s.%N)
expect "trickle: greeting starts with 220" 220 "$got"
expect "trickle: 3 bytes take at least 2 s" slow "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a >= 2 ? "slow" : "fast") }')"
expect "garbage: binary bytes instead of a greeting" "00 ff" \
    "$(wx timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.4.3/25; head -c 2 <&3' | od -An -tx1 | sed 's/^ *//')"
expect_match "endless: line 20000 of the EHLO reply is still a 250- line" '^250-XENDLESS-' \
    "$(wx timeout 20 bash -c 'exec 3<>/dev/tcp/127.0.4.4/25; IFS= read -r l <&3; printf "EHLO probe.test\r\n" >&3
        head -n 20000 <&3 | tail -n 1')"
got=$(wx openssl s_client -starttls smtp -connect 127.0.4.5:25 </dev/null 2>&1)
expect_match "close-handshake: handshake cut off" 'unexpected eof while reading' "$got"
expect_match "close-handshake: no certificate arrives" 'no peer certificate available' "$got"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
