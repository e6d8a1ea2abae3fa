#!/bin/sh
# policy.sh - mxtls policy lookup / check: exact output and exit codes
#
# Needs MXTLS_BIN (the mxtls binary). Works in a temporary directory so that
# file names in messages are short and predictable.
set -eu
. "$(dirname "$0")/lib/assert.sh"
cd "$T"

# same FILE LINE... - FILE must consist of exactly these lines (none: empty)
same() {
    checks=$((checks + 1))
    file=$1
    shift
    if [ $# -eq 0 ]; then : >want; else printf '%s\n' "$@" >want; fi
    cmp -s want "$file" || { fail "'$last': $file differs"; diff want "$file" >&2 || true; }
}

cat >policy.map <<'EOF'
# TLS policy for our partners
example.com         verify ciphers=high
.example.net        secure match=.example.net:example.net
[mx.example.org]:587 secure
    match=nexthop
    protocols=>=TLSv1.2

*                   may
EOF

# ---- check -----------------------------------------------------------------
run 0 policy check --map policy.map
same out "policy.map: 4 entries"
same err

printf 'example.com may\n' >one.map
run 0 policy check --map one.map
same out "one.map: 1 entry"

run 0 policy check --map policy.map --json
same out '{"schema_version":1,"file":"policy.map","valid":true,"entries":4,"warnings":[]}'

printf 'example.com none\n\nexample.org verfy\n' >bad.map
run 2 policy check --map bad.map
same out
same err 'mxtls policy check: bad.map:3:13: unknown level "verfy"'

run 2 policy check --map bad.map --json
same out '{"schema_version":1,"file":"bad.map","valid":false,"error":{"where":"bad.map:3:13","message":"unknown level \"verfy\""}}'
same err

printf 'example.com verify\n# moved\nexample.net may\nExample.COM. secure\n' >dup.map
run 2 policy check --map dup.map
same err 'mxtls policy check: dup.map:4:1: duplicate destination "Example.COM." (first defined at line 1)'

printf 'example.com may match=hostname\n' >lvl.map
run 2 policy check --map lvl.map
same err 'mxtls policy check: lvl.map:1:17: attribute "match" is not valid at security level "may"'

printf 'example.com verify\r\n\tmatch=nexthop\r\n' >crlf.map
run 0 policy check --map crlf.map
same out "crlf.map: 1 entry"

run 2 policy check --map missing.map
same out
same err 'mxtls policy check: missing.map: cannot open: No such file or directory'

run 2 policy check --map missing.map --json
same out '{"schema_version":1,"file":"missing.map","valid":false,"error":{"where":"missing.map","message":"cannot open: No such file or directory"}}'
same err

run 0 policy check --map - <policy.map
same out "-: 4 entries"

# ---- lookup ----------------------------------------------------------------
run 0 policy lookup --map policy.map example.com
same out \
    "destination  example.com" \
    "entry        example.com" \
    "where        policy.map:2" \
    "matched-by   exact" \
    "level        verify" \
    "ciphers      high"
same err

run 0 policy lookup --map policy.map MX.Example.NET.
same out \
    "destination  MX.Example.NET." \
    "entry        .example.net" \
    "where        policy.map:3" \
    "matched-by   subdomain" \
    "level        secure" \
    "match        .example.net:example.net"

run 0 policy lookup --map policy.map '[mx.example.org]:587'
same out \
    "destination  [mx.example.org]:587" \
    "entry        [mx.example.org]:587" \
    "where        policy.map:4" \
    "matched-by   exact" \
    "level        secure" \
    "match        nexthop" \
    "protocols    >=TLSv1.2"

# Not the same next-hop: only the default entry applies.
run 0 policy lookup --map policy.map '[mx.example.org]'
same out \
    "destination  [mx.example.org]" \
    "entry        *" \
    "where        policy.map:8" \
    "matched-by   default" \
    "level        may"

run 0 policy lookup --map policy.map example.net --json
same out '{"schema_version":1,"destination":"example.net","found":true,"entry":{"key":"*","file":"policy.map","line":8,"matched_by":"default","level":"may","attributes":{}}}'

run 0 policy lookup --json --map policy.map a.example.net
same out '{"schema_version":1,"destination":"a.example.net","found":true,"entry":{"key":".example.net","file":"policy.map","line":3,"matched_by":"subdomain","level":"secure","attributes":{"match":".example.net:example.net"}}}'

# Without a default entry, nothing may apply: exit 1.
grep -v '^\*' policy.map >nodefault.map
run 1 policy lookup --map nodefault.map example.org
same out "no entry applies to example.org"
same err
run 1 policy lookup --map nodefault.map example.org --json
same out '{"schema_version":1,"destination":"example.org","found":false}'

# U-labels and A-labels are the same destination.
printf 'b\303\274cher.example secure\n' >idn.map
run 0 policy lookup --map idn.map xn--bcher-kva.example
first out "destination  xn--bcher-kva.example"
sed -n 2p out >line2
same line2 "$(printf 'entry        b\303\274cher.example')"

# JSON: UTF-8 passes through, bytes that are not UTF-8 become U+FFFD.
printf 'b\303\274cher.example may protocols=\377x\n' >utf8.map
run 0 policy lookup --map utf8.map xn--bcher-kva.example --json
same out "$(printf '{"schema_version":1,"destination":"xn--bcher-kva.example","found":true,"entry":{"key":"b\303\274cher.example","file":"utf8.map","line":1,"matched_by":"exact","level":"may","attributes":{"protocols":"\\ufffdx"}}}')"

run 0 policy lookup --map - example.com <policy.map
sed -n 3p out >line3
same line3 "where        -:2"

# A broken map is an input error for lookup too.
run 2 policy lookup --map bad.map example.org
same out
same err 'mxtls policy lookup: bad.map:3:13: unknown level "verfy"'

# ---- usage -------------------------------------------------------------------
run 2 policy
same err "mxtls policy: a subcommand is required: lookup or check" "Try 'mxtls policy --help'."
run 2 policy frobnicate
same err "mxtls policy: unknown subcommand 'frobnicate' (lookup or check)" "Try 'mxtls policy --help'."
run 2 policy lookup example.com
same err "mxtls policy lookup: --map FILE is required" "Try 'mxtls policy lookup --help'."
run 2 policy lookup --map policy.map
same err "mxtls policy lookup: a DESTINATION is required" "Try 'mxtls policy lookup --help'."
run 2 policy lookup --map policy.map a.example b.example
same err "mxtls policy lookup: exactly one DESTINATION is expected" "Try 'mxtls policy lookup --help'."
run 2 policy lookup --map policy.map ''
same err "mxtls policy lookup: the DESTINATION is empty" "Try 'mxtls policy lookup --help'."
run 2 policy lookup --map
same err "mxtls policy lookup: option '--map' needs a value" "Try 'mxtls policy lookup --help'."
run 2 policy check --map policy.map --verbose
same err "mxtls policy check: unknown option '--verbose'" "Try 'mxtls policy check --help'."
run 2 policy check --map policy.map extra
same err "mxtls policy check: unexpected argument 'extra'" "Try 'mxtls policy check --help'."

run 0 policy --help
first out "usage: mxtls policy lookup --map FILE DESTINATION [--json]"
run 0 policy lookup --help
first out "usage: mxtls policy lookup --map FILE DESTINATION [--json]"
run 0 policy check --help
first out "usage: mxtls policy check --map FILE [--json]"
same err

finish
