#!/bin/sh
# cli.sh - a few mxtls commands under valgrind memcheck (label valgrind):
# one per subcommand on its success path and on an error path, so that the
# CLI's own allocations (option parsing, files, reports, the event loop and
# libunbound for tlsa check) are checked for errors and definite leaks.
# MXTLS_BIN is tests/valgrind/mxtls-vg: exit 99 means memcheck found
# something, and every `run` asserts the command's own exit status. The
# output itself is asserted by tests/cli/*.sh; here only enough to know the
# command did its work.
set -eu
. "$(dirname "$0")/../cli/lib/assert.sh"
C=${MXTLS_TEST_CERTS:?MXTLS_TEST_CERTS is not set}
NO_COLOR=1
export NO_COLOR
cd "$T"
cat >policy.map <<'MAP'
example.com         verify ciphers=high
.example.net        secure match=.example.net:example.net
[mx.example.org]:587 secure
    match=nexthop
    protocols=>=TLSv1.2
*                   may
MAP
printf 'example.com verify\nexample.com may\n' >dup.map

run 0 --help
run 0 fingerprint "$C/mx1.crt"
frag out ":"
run 0 fingerprint "$C/mx1-chain.pem" --pubkey --digest sha256
run 2 fingerprint "$C/mx1.key"
run 0 policy check --map policy.map --json
frag out '"valid":true'
run 0 policy lookup --map policy.map a.example.net --json
frag out '"level":"secure"'
run 2 policy check --map dup.map
run 0 tlsa gen --cert "$C/mx1-chain.pem" --host mx1.example.com
frag out "_25._tcp.mx1.example.com."
run 2 tlsa check 'bad..example'
# libunbound and the event loop, against a port where nothing answers
run 3 tlsa check example.com --resolver 127.0.0.1@9 --timeout 2 --json
run 0 verify --ca-file "$C/ca.pem" --at 2034-12-20 --chain "$C/mx1-chain.pem" --domain example.com --mx mx1.example.com --mx-secure --level verify --json
frag out '"pass"'
run 1 verify --ca-file "$C/ca.pem" --at 2020-12-31 --chain "$C/expired-chain.pem" --domain example.com --mx mx1.example.com --level verify
run 2 check --level bogus example.com
# the check pipeline, DNS and probe adapters on their failure paths
run 3 check example.com --resolver 127.0.0.1@9 --timeout 2
frag out "TEMPFAIL"
run 3 dns example.com --resolver 127.0.0.1@9 --timeout 2
frag out "example.com MX: timeout"
run 3 probe 127.0.0.1:9 --domain example.com --resolver 127.0.0.1@9 --timeout 2 --json
frag out "connection refused"
finish
