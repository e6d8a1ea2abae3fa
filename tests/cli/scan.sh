#!/bin/sh
# scan.sh - mxtls scan without the network: usage errors, input that holds
# no domain to check (comments, blank lines, malformed names: exact error
# lines, never fatal), --resume of a file with a partial last line, --shard.
# The checks themselves are tested against the world (tests/live/scan.py).
#
# Environment (set by CTest): MXTLS_BIN.
set -eu
. "$(dirname "$0")/lib/assert.sh"
cd "$T"

# exact FILE - stdout is exactly FILE
exact() {
    checks=$((checks + 1))
    cmp -s "$1" "$T/out" || fail "stdout is not $(cat "$1"): $last"
}

# Usage errors: exit 2, what is wrong.
run 2 scan --resume
line "$T/err" "mxtls scan: --resume needs --output FILE (the file to resume)"
run 2 scan --shard 4/4
line "$T/err" "mxtls scan: --shard needs I/N with 0 <= I < N (e.g. 0/4)"
run 2 scan --shard x
line "$T/err" "mxtls scan: --shard needs I/N with 0 <= I < N (e.g. 0/4)"
run 2 scan --concurrency 0
line "$T/err" "mxtls scan: --concurrency '0' is not a number from 1 to 100000"
run 2 scan --retries 6
line "$T/err" "mxtls scan: --retries '6' is not a number from 0 to 5"
run 2 scan --ip-rate -1
line "$T/err" "mxtls scan: --ip-rate '-1' is not a rate from 0 to 100000 per second"
run 2 scan --ip-rate 1x
frag "$T/err" "--ip-rate '1x' is not a rate"
run 2 scan a b
line "$T/err" "mxtls scan: at most one input FILE (or - for standard input)"
run 2 scan no-such-file
line "$T/err" "mxtls scan: no-such-file: No such file or directory"
run 2 scan --sni 127.0.0.1
line "$T/err" "mxtls scan: --sni needs auto, none or a host name"
run 2 scan --level nonsense
line "$T/err" "mxtls scan: unknown level 'nonsense'"
run 0 scan --help
frag "$T/out" "usage: mxtls scan [FILE|-] [options]"

# Nothing but comments, blank lines and malformed names: one error line
# each, in input order, and exit 0 (the scan answered every line).
printf '# a survey\n\n   \ntwo words\n  # indented comment\n1.2.3.4\n-x.test # trailing comment\nx..test\n' >bad.txt
cat >want <<'W'
{"schema_version":1,"input":"two words","line":4,"error":{"code":"invalid","where":"input","message":"more than one word: one domain per line"}}
{"schema_version":1,"input":"1.2.3.4","line":6,"error":{"code":"invalid","where":"input","message":"an IP address, not a mail domain"}}
{"schema_version":1,"input":"-x.test","line":7,"error":{"code":"invalid","where":"input","message":"name \"-x.test\": a label may not start or end with '-'"}}
{"schema_version":1,"input":"x..test","line":8,"error":{"code":"invalid","where":"input","message":"name \"x..test\" has an empty label"}}
W
run 0 scan bad.txt
exact want
run 0 scan - <bad.txt
exact want
# The same from a file, with --output: the file holds the lines, stdout nothing.
run 0 scan bad.txt --output lines.jsonl --stats-json stats.json
checks=$((checks + 1))
cmp -s want lines.jsonl || fail "--output: lines.jsonl differs"
checks=$((checks + 1))
[ ! -s "$T/out" ] || fail "--output: stdout not empty"
frag stats.json '"lines":4,"domains_checked":0,"input_errors":4,"local_failures":0'
frag stats.json '"failures_by_class":{"invalid":4}'

# --resume: complete lines stay, a partial last line goes, nothing is redone.
head -n 2 want >resume.jsonl
printf '{"schema_version":1,"input":"-x.te' >>resume.jsonl
run 0 scan bad.txt --output resume.jsonl --resume --stats
line "$T/err" "mxtls scan: resume.jsonl: partial last line (34 bytes) removed"
frag "$T/err" "skipped: 2 already in the output or listed twice, 0 in other shards"
checks=$((checks + 1))
cmp -s want resume.jsonl || fail "--resume: resume.jsonl is not the whole answer"

# --shard: the four lines split over 3 shards, each in exactly one.
: >union
for i in 0 1 2; do
    run 0 scan bad.txt --shard "$i/3"
    cat "$T/out" >>union
done
checks=$((checks + 1))
[ "$(sort union)" = "$(sort want)" ] || fail "--shard: the shards' union is not the input"

finish
