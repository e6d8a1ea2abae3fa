#!/bin/sh
# audit.sh - mxtls audit: usage errors and help (no network; the live test
# tests/live/audit.py runs it against the world)
set -eu
. "$(dirname "$0")/lib/assert.sh"

run 0 audit --help
first "$T/out" "usage: mxtls audit HOST|DOMAIN|ADDRESS [options]"
frag "$T/out" "  --max-handshakes N     TLS handshakes per address and port, 1..24 (default 13)"

run 2 audit
line "$T/err" "mxtls audit: HOST or DOMAIN is required"
run 2 audit a.example b.example
line "$T/err" "mxtls audit: exactly one HOST or DOMAIN expected"
for bad in 0 25,25 25,465,587,2525 25,x "" 70000 ,; do
    run 2 audit example.com --ports "$bad"
    line "$T/err" "mxtls audit: --ports needs 1 to 3 distinct ports, comma-separated (e.g. 25,465,587)"
done
for bad in 0 25 -1 x; do
    run 2 audit example.com --max-handshakes "$bad"
    line "$T/err" "mxtls audit: --max-handshakes needs a number from 1 to 24"
done
run 2 audit example.com --pace 10001
line "$T/err" "mxtls audit: --pace needs milliseconds from 0 to 10000"
run 2 audit example.com --port 25
line "$T/err" "mxtls audit: use --ports LIST (audit asks several ports)"
run 2 audit example.com --level verify
frag "$T/err" "mxtls audit: unknown option '--level'"
# a name that is no host name fails before any lookup
run 2 audit "bad..name"
line "$T/err" 'mxtls audit: name: name "bad..name" has an empty label'

run 0 --help
line "$T/out" "  audit        how well a mail server's own TLS is configured, with Postfix advice"
finish
