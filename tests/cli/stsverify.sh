#!/bin/sh
# stsverify.sh - mxtls verify --sts-policy: the level mta-sts offline, with
# exact verdicts and reason codes (enforce, testing, none, wildcard depth,
# CN-only certificates, an invalid policy, the 64 KiB cap)
set -eu
. "$(dirname "$0")/lib/assert.sh"
C=${MXTLS_TEST_CERTS:?MXTLS_TEST_CERTS is not set}
cd "$T"
V="verify --ca-file $C/ca.pem --at 2026-06-01T00:00:00Z --domain example.com --level mta-sts"

printf 'version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 86400\n' >enforce.txt
printf 'version: STSv1\nmode: testing\nmx: mx9.example.com\nmax_age: 86400\n' >testing.txt
printf 'version: STSv1\nmode: none\nmax_age: 86400\n' >none.txt
printf 'version: STSv1\nmode: enforce\nmax_age: 86400\n' >nomx.txt

# shellcheck disable=SC2086
run 0 $V --chain "$C/mx1-chain.pem" --mx mx1.example.com --sts-policy enforce.txt
first out "mta-sts: PASS (security: verified)"
frag out "* sts-verified: the MTA-STS policy (enforce.txt, mode enforce) covers mx1.example.com (mx *.example.com)"

# two labels below the wildcard: not covered, and the certificate does not name it
# shellcheck disable=SC2086
run 1 $V --chain "$C/mx1-chain.pem" --mx a.mx1.example.com --sts-policy enforce.txt
first out "mta-sts: FAIL (security: none)"
frag out "* sts-mx-not-covered [4.7.5]: the MX host a.mx1.example.com is not covered"
frag out "* sts-name-mismatch [4.7.5]"

# CN only: RFC 8461 §4.2 has no CN fallback
# shellcheck disable=SC2086
run 1 $V --chain "$C/cnonly-chain.pem" --mx mx1.example.com --sts-policy enforce.txt
first out "mta-sts: FAIL (security: none)"
frag out "* sts-name-mismatch [4.7.5]: no DNS subjectAltName of the certificate matches the MX host mx1.example.com"

# no STARTTLS under enforce
# shellcheck disable=SC2086
run 1 $V --no-starttls --mx mx1.example.com --sts-policy enforce.txt
frag out "* sts-no-tls [4.7.4]"

# testing: delivered as may, the failure a warning
# shellcheck disable=SC2086
run 0 $V --chain "$C/mx1-chain.pem" --mx mx1.example.com --sts-policy testing.txt
first out "mta-sts: PASS (security: encrypted)"
frag out "! sts-mx-not-covered"
frag out "i sts-testing"

# mode none, and no policy: may
# shellcheck disable=SC2086
run 0 $V --chain "$C/helo-chain.pem" --mx mx1.example.com --sts-policy none.txt
frag out "i sts-mode-none"
# shellcheck disable=SC2086
run 0 $V --chain "$C/helo-chain.pem" --mx mx1.example.com
frag out "i sts-no-policy"

# an invalid policy is an input error naming the file
# shellcheck disable=SC2086
run 2 $V --chain "$C/mx1-chain.pem" --mx mx1.example.com --sts-policy nomx.txt
frag err "nomx.txt"
# one byte over the cap: policy-too-large
head -c 65537 /dev/zero | tr '\0' 'x' >big.txt
# shellcheck disable=SC2086
run 2 $V --chain "$C/mx1-chain.pem" --mx mx1.example.com --sts-policy big.txt
frag err "policy-too-large"

# REQUIRETLS (RFC 8689): authenticated by MTA-STS (enforce) and advertised
R="verify --ca-file $C/ca.pem --at 2026-06-01T00:00:00Z --domain example.com --level requiretls"
# shellcheck disable=SC2086
run 0 $R --chain "$C/mx1-chain.pem" --mx mx1.example.com --sts-policy enforce.txt --requiretls
first out "requiretls: PASS (security: verified)"
frag out "* requiretls-ok"
# not advertised
# shellcheck disable=SC2086
run 1 $R --chain "$C/mx1-chain.pem" --mx mx1.example.com --sts-policy enforce.txt
frag out "* requiretls-not-advertised [5.7.30]"
# advertised, but only a testing policy: not authenticated
# shellcheck disable=SC2086
run 1 $R --chain "$C/mx1-chain.pem" --mx mx1.example.com --sts-policy testing.txt --requiretls
frag out "* requiretls-not-authenticated [5.7.30]"
# no policy, no DANE
# shellcheck disable=SC2086
run 1 $R --chain "$C/mx1-chain.pem" --mx mx1.example.com --requiretls
frag out "* requiretls-not-authenticated"

# the table has the mta-sts row
run 0 verify --ca-file "$C/ca.pem" --at 2026-06-01T00:00:00Z --domain example.com \
    --chain "$C/mx1-chain.pem" --mx mx1.example.com --sts-policy enforce.txt
frag out "mta-sts "
finish
