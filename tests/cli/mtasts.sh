#!/bin/sh
# mtasts.sh - mxtls mta-sts / mxtls tlsrpt (offline forms): exact output and
# exit codes for valid and hostile policies and TXT records
#
# Needs MXTLS_BIN. Works in a temporary directory so that file names in the
# output are short and predictable.
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

printf 'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 604800\n' >good.txt

# ---- policies ----------------------------------------------------------
run 0 mta-sts --policy-file good.txt
same out "good.txt: valid MTA-STS policy" "mode     enforce" "max_age  604800" \
    "mx       mx1.example.com" "mx       *.example.net"
same err

# the wildcard covers one label, not two, and not the parent
run 1 mta-sts --policy-file good.txt --mx x.example.net --mx a.b.example.net --mx example.net \
    --mx MX1.Example.COM.
same out "good.txt: valid MTA-STS policy" "mode     enforce" "max_age  604800" \
    "mx       mx1.example.com" "mx       *.example.net" \
    "host x.example.net: covered by mx *.example.net" \
    "host a.b.example.net: not covered by any mx pattern" \
    "host example.net: not covered by any mx pattern" \
    "host MX1.Example.COM.: covered by mx mx1.example.com"
run 0 mta-sts --policy-file good.txt --mx x.example.net
run 1 mta-sts --policy-file good.txt --mx a.b.example.net --json
same out '{"schema_version":1,"file":"good.txt","valid":true,"mode":"enforce","max_age":604800,"mx":["mx1.example.com","*.example.net"],"errors":[],"errors_dropped":0,"hosts":[{"host":"a.b.example.net","matched":false,"pattern":null}]}'
run 0 mta-sts --policy-file good.txt --json
same out '{"schema_version":1,"file":"good.txt","valid":true,"mode":"enforce","max_age":604800,"mx":["mx1.example.com","*.example.net"],"errors":[],"errors_dropped":0}'

# standard input, CRLF
tr -d '\r' <good.txt | sed 's/$/\r/' >crlf.txt
run 0 mta-sts --policy-file - <crlf.txt
first out "-: valid MTA-STS policy"

# duplicate keys: the first instance wins (mx repeats)
printf 'version: STSv1\nmode: testing\nmode: enforce\nmax_age: 86400\nmax_age: 99999999999\nmx: a.example\nmx: b.example\n' >dup.txt
run 0 mta-sts --policy-file dup.txt
same out "dup.txt: valid MTA-STS policy" "mode     testing" "max_age  86400" \
    "mx       a.example" "mx       b.example"

# max_age: 31557600 is the limit; 31557601 and 11 digits are not
printf 'version: STSv1\nmode: none\nmax_age: 31557600\n' >age-max.txt
run 0 mta-sts --policy-file age-max.txt --json
same out '{"schema_version":1,"file":"age-max.txt","valid":true,"mode":"none","max_age":31557600,"mx":[],"errors":[],"errors_dropped":0}'
printf 'version: STSv1\nmode: none\nmax_age: 31557601\n' >age-over.txt
run 1 mta-sts --policy-file age-over.txt
same out "age-over.txt: invalid MTA-STS policy: senders treat the domain as having no policy" \
    "age-over.txt:3:10: policy-max-age-range: max_age 31557601 is above the maximum 31557600 (one year)"
printf 'version: STSv1\nmode: none\nmax_age: 00000000001\n' >age-11.txt
run 1 mta-sts --policy-file age-11.txt --json
same out '{"schema_version":1,"file":"age-11.txt","valid":false,"mode":"none","max_age":null,"mx":[],"errors":[{"line":3,"column":10,"rule":"policy-max-age","message":"max_age is \"00000000001\"; it must be 1 to 10 digits"}],"errors_dropped":0}'

# a byte-order mark, a NUL, 8-bit bytes that are not UTF-8
printf '\357\273\277version: STSv1\nmode: none\nmax_age: 1\n' >bom.txt
run 1 mta-sts --policy-file bom.txt
same out "bom.txt: invalid MTA-STS policy: senders treat the domain as having no policy" \
    "bom.txt:1:1: policy-bom: the policy begins with a UTF-8 byte-order mark (EF BB BF), which RFC 8461 does not allow before the first field"
printf 'version: STSv1\nmode: none\nmax_age: 1\nnote: a\000b\n' >nul.txt
run 1 mta-sts --policy-file nul.txt --json
same out '{"schema_version":1,"file":"nul.txt","valid":false,"mode":"none","max_age":1,"mx":[],"errors":[{"line":4,"column":8,"rule":"policy-nul","message":"NUL byte in the policy"}],"errors_dropped":0}'
printf 'version: STSv1\nmode: none\nmax_age: 1\nnote: caf\351\n' >latin1.txt
run 1 mta-sts --policy-file latin1.txt
same out "latin1.txt: invalid MTA-STS policy: senders treat the domain as having no policy" \
    "latin1.txt:4:10: policy-utf8: byte \\xe9 is not part of valid UTF-8"
printf 'version: STSv1\nmode: none\nmax_age: 1\nnote: caf\303\251\n' >utf8.txt
run 0 mta-sts --policy-file utf8.txt

# every problem at once, missing fields last (line 0: the policy as a whole)
printf 'mode: Enforce\nmx: *.*.example\n mx: a.example\n' >many.txt
run 1 mta-sts --policy-file many.txt
same out "many.txt: invalid MTA-STS policy: senders treat the domain as having no policy" \
    'many.txt:1:7: policy-mode: mode is "Enforce"; it must be enforce, testing or none' \
    'many.txt:2:5: policy-mx: mx "*.*.example" is not a host name or "*." and a host name: "*" is allowed only as the whole first label ("*.")' \
    "many.txt:3:1: policy-line-syntax: white space before the field name" \
    'many.txt: policy-version-missing: no "version: STSv1" line' \
    'many.txt: policy-max-age-missing: no "max_age:" line'
printf 'version: STSv1\nmode: enforce\nmax_age: 1\n' >nomx.txt
run 1 mta-sts --policy-file nomx.txt
same out "nomx.txt: invalid MTA-STS policy: senders treat the domain as having no policy" \
    'nomx.txt: policy-mx-missing: mode enforce needs at least one "mx:" line'

# the body cap: 64 KiB
{ cat good.txt; i=0; while [ $i -lt 1100 ]; do echo "x: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"; i=$((i + 1)); done; } >huge.txt
size=$(wc -c <huge.txt | tr -d ' ')
[ "$size" -gt 65536 ] || fail "huge.txt is only $size bytes"
run 1 mta-sts --policy-file huge.txt
same out "huge.txt: invalid MTA-STS policy: senders treat the domain as having no policy" \
    "huge.txt: policy-too-large: the policy is $size bytes; at most 65536 are read"
head -c 65536 huge.txt >cap.txt
run 0 mta-sts --policy-file cap.txt

# ---- TXT records -------------------------------------------------------
run 0 mta-sts --txt 'v=STSv1; id=20160831085700Z'
same out "valid MTA-STS record: id 20160831085700Z"
run 0 mta-sts --txt 'v=STSv1; id=20160831085700Z' --json
same out '{"schema_version":1,"records":1,"valid":true,"id":"20160831085700Z","errors":[],"errors_dropped":0}'
printf 'v=STSv1; id=abc\r\n' >rec.txt
run 0 mta-sts --txt-file rec.txt
same out "valid MTA-STS record: id abc"

run 1 mta-sts --txt 'garbage'
same out "invalid MTA-STS record: senders treat the domain as having no policy" \
    'record 1, column 1: txt-version: the record must begin with "v=STSv1" followed by ";" (it begins "garbage")'
run 1 mta-sts --txt 'v=STSv1; id=2019-04-29' --json
same out '{"schema_version":1,"records":1,"valid":false,"id":null,"errors":[{"line":1,"column":17,"rule":"txt-id-syntax","message":"the id may hold only letters and digits, found \"-\""}],"errors_dropped":0}'
run 1 mta-sts --txt 'v=STSv1; ID=abc'
same out "invalid MTA-STS record: senders treat the domain as having no policy" \
    'record 1: txt-id-missing: the record has no id field (field names are case-sensitive: "ID" is not "id")'

# the RRset: two v=STSv1 records mean no policy; other records are discarded
run 1 mta-sts --txt 'v=STSv1; id=one' --txt 'v=spf1 -all' --txt 'v=STSv1; id=two'
same out "invalid MTA-STS record: senders treat the domain as having no policy" \
    'record 3: txt-multiple: 2 TXT records begin with "v=STSv1" (records 1 and 3 at least): exactly one is allowed, so the domain has no MTA-STS policy'
run 0 mta-sts --txt 'v=spf1 -all' --txt-file rec.txt --json
same out '{"schema_version":1,"records":2,"valid":true,"id":"abc","errors":[],"errors_dropped":0}'
run 1 mta-sts --txt 'v=spf1 -all' --txt 'v=STSv10; id=1'
same out "invalid MTA-STS record: senders treat the domain as having no policy" \
    'txt-none: none of the 2 TXT records begins with "v=STSv1": the domain has no MTA-STS policy'

# NUL, 8-bit, BOM in a record
printf 'v=STSv1; id=a\000b' >recnul.txt
run 1 mta-sts --txt-file recnul.txt
same out "invalid MTA-STS record: senders treat the domain as having no policy" \
    'record 1, column 14: txt-field-value: byte "\x00" is not allowed in a field value (printable ASCII except "=" and ";")'
run 1 mta-sts --txt "$(printf 'v=STSv1; id=a; x=caf\351')"
same out "invalid MTA-STS record: senders treat the domain as having no policy" \
    'record 1, column 21: txt-field-value: byte "\xe9" is not allowed in a field value (printable ASCII except "=" and ";")'
printf '\357\273\277v=STSv1; id=abc' >recbom.txt
run 1 mta-sts --txt-file recbom.txt --json
same out '{"schema_version":1,"records":1,"valid":false,"id":null,"errors":[{"line":1,"column":1,"rule":"txt-version","message":"the record must begin with \"v=STSv1\" followed by \";\" (it begins \"\\xef\\xbb\\xbfv=STSv1; \")"}],"errors_dropped":0}'

# ---- TLSRPT ------------------------------------------------------------
run 0 tlsrpt --txt 'v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example.com/v1'
same out "valid TLSRPT record" "rua  mailto:tls@example.com" "rua  https://r.example.com/v1"
run 0 tlsrpt --txt 'v=TLSRPTv1; rua=mailto:tls@example.com' --json
same out '{"schema_version":1,"records":1,"valid":true,"rua":["mailto:tls@example.com"],"errors":[],"errors_dropped":0}'
run 1 tlsrpt --txt 'v=TLSRPTv1; rua=mailto:tls@example.com!10m'
same out "invalid TLSRPT record: senders send no TLS reports for the domain" \
    'record 1, column 39: tlsrpt-uri-unencoded: "!" must be percent-encoded (%21) in a TLSRPT URI; RFC 8460 has no "!size" suffix (that is DMARC'"'"'s)'
run 1 tlsrpt --txt 'v=TLSRPTv1; rua=http://r.example.com/' --json
same out '{"schema_version":1,"records":1,"valid":false,"rua":[],"errors":[{"line":1,"column":17,"rule":"tlsrpt-uri-scheme","message":"scheme \"http\" is not mailto: or https: (the only ones RFC 8460 §3 defines)"}],"errors_dropped":0}'
run 1 tlsrpt --txt 'garbage'
same out "invalid TLSRPT record: senders send no TLS reports for the domain" \
    'record 1, column 1: tlsrpt-version: the record must begin with "v=TLSRPTv1" followed by ";" (it begins "garbage")'
run 1 tlsrpt --txt 'v=TLSRPTv1; rua=mailto:a@example.com' --txt 'v=TLSRPTv1; rua=mailto:b@example.com'
same out "invalid TLSRPT record: senders send no TLS reports for the domain" \
    'record 2: tlsrpt-multiple: 2 TXT records begin with "v=TLSRPTv1" (records 1 and 2 at least): exactly one is allowed, so the domain requests no TLS reports'
printf 'v=TLSRPTv1; rua=mailto:a@example.com\n' >tlsrpt.txt
run 0 tlsrpt --txt-file tlsrpt.txt
same out "valid TLSRPT record" "rua  mailto:a@example.com"

# ---- usage -------------------------------------------------------------
run 0 mta-sts --help
first out "usage: mxtls mta-sts DOMAIN [--sts-cache FILE] [check options] [--json]"
run 0 tlsrpt --help
first out "usage: mxtls tlsrpt DOMAIN [--resolver ADDR] [--root-hints FILE]"
# one DOMAIN is the live form (tests/live/sts_live.py); two are a usage error
run 2 mta-sts example.com example.net
same out
same err "mxtls mta-sts: unexpected argument 'example.com'; the accepted forms are:" \
    "  mxtls mta-sts DOMAIN [--sts-cache FILE] [check options] [--json]" \
    "  mxtls mta-sts --policy-file FILE [--mx HOST]... [--json]" \
    "  mxtls mta-sts --txt-file FILE | --txt RECORD ... [--json]" \
    "Try 'mxtls mta-sts --help'."
run 2 tlsrpt example.com example.net
same err "mxtls tlsrpt: unexpected argument 'example.com'; the accepted forms are:" \
    "  mxtls tlsrpt DOMAIN [--resolver ADDR] [--json]" \
    "  mxtls tlsrpt --txt-file FILE | --txt RECORD ... [--json]" \
    "Try 'mxtls tlsrpt --help'."
run 2 mta-sts --sts-cache x.db --txt 'v=STSv1; id=1'
first err "mxtls mta-sts: --sts-cache and the check options need DOMAIN"
run 2 tlsrpt --resolver 127.0.0.1 --txt 'v=TLSRPTv1; rua=mailto:a@example.com'
first err "mxtls tlsrpt: the DNS options need DOMAIN"
run 2 mta-sts
first err "mxtls mta-sts: nothing to check; the accepted forms are:"
run 2 tlsrpt
first err "mxtls tlsrpt: nothing to check; the accepted forms are:"
run 2 mta-sts --policy-file good.txt --txt 'v=STSv1; id=1'
first err "mxtls mta-sts: give --policy-file or --txt/--txt-file, not both"
run 2 mta-sts --mx a.example --txt 'v=STSv1; id=1'
first err "mxtls mta-sts: --mx needs --policy-file"
run 2 mta-sts --policy-file good.txt --policy-file good.txt
first err "mxtls mta-sts: --policy-file is given twice"
run 2 mta-sts --policy-file good.txt --mx 'a b'
first err "mxtls mta-sts: --mx a b: name \"a b\" contains ' ', which is not allowed in a host name"
run 2 mta-sts --policy-file missing.txt
same out
same err "mxtls mta-sts: missing.txt: cannot open: No such file or directory"
run 2 tlsrpt --txt-file missing.txt --json
same out
same err "mxtls tlsrpt: missing.txt: cannot open: No such file or directory"
run 2 mta-sts --policy-file
first err "mxtls mta-sts: option '--policy-file' needs a value"
run 2 mta-sts --bogus
first err "mxtls mta-sts: unknown option '--bogus'"

finish
