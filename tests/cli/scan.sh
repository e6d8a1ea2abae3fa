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
# --jobs: each bound is split between the workers; one that cannot give
# each worker at least 1 is refused, saying what to change
run 2 scan --jobs 2 --per-ip 1
line "$T/err" "mxtls scan: --per-ip 1 cannot be split between --jobs 2 (each worker needs at least 1): raise --per-ip to 2 or more, or lower --jobs to 1"
run 2 scan --jobs 3 --concurrency 2
line "$T/err" "mxtls scan: --concurrency 2 cannot be split between --jobs 3 (each worker needs at least 1): raise --concurrency to 3 or more, or lower --jobs to 2"
run 2 scan --jobs 4 --per-ip 4 --max-connections 3
line "$T/err" "mxtls scan: --max-connections 3 cannot be split between --jobs 4 (each worker needs at least 1): raise --max-connections to 4 or more, or lower --jobs to 3"
run 2 scan --jobs 2 --max-dns 1
line "$T/err" "mxtls scan: --max-dns 1 cannot be split between --jobs 2 (each worker needs at least 1): raise --max-dns to 2 or more, or lower --jobs to 1"
run 2 scan --jobs 257
line "$T/err" "mxtls scan: --jobs '257' is not a number from 0 to 256"

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

# --jobs 2 (0 bounds: nothing to split): the same lines, in input order
# (error lines are written as the input is read, under the run's lock)
run 0 scan bad.txt --jobs 2 --per-ip 0 --max-connections 0 --max-dns 0 --stats-json stats2.json
exact want
frag stats2.json '"lines":4,"domains_checked":0,"input_errors":4,"local_failures":0'
frag stats2.json '"jobs":2'
frag stats2.json '"max_dns":0'
# --max-dns when not given: four per --concurrency, 500 at least, 2000 at most
for c in "50 500" "300 1200" "1000 2000"; do
    set -- $c
    run 0 scan bad.txt --concurrency "$1" --stats-json "statsc$1.json"
    frag "statsc$1.json" "\"max_dns\":$2"
done
# --jobs 0: one worker per online CPU, no more than the bounds can be split
# between (--per-ip 1: one)
run 0 scan bad.txt --jobs 0 --per-ip 1 --stats-json stats1.json
exact want
frag stats1.json '"jobs":1'

# --shard: the four lines split over 3 shards, each in exactly one.
: >union
for i in 0 1 2; do
    run 0 scan bad.txt --shard "$i/3"
    cat "$T/out" >>union
done
checks=$((checks + 1))
[ "$(sort union)" = "$(sort want)" ] || fail "--shard: the shards' union is not the input"

finish
