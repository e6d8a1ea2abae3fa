#!/bin/sh
# deadline.sh - a probe stopped by the check's deadline keeps what it saw:
# the connection, the bytes received, the part of the greeting that arrived.
# Against a tiny server on 127.0.0.1 (python3) that sends half a greeting, or
# nothing, and stalls.
#
# Environment (set by CTest): MXTLS_BIN.
set -eu
. "$(dirname "$0")/lib/assert.sh"
NO_COLOR=1
export NO_COLOR
SERVER_PID=
trap 'if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi; rm -rf "$T"' EXIT

# serve BYTES - a one-connection server that sends BYTES (Python bytes
# literal) and stalls for at most 20 s; sets PORT and SERVER_PID
serve() {
    rm -f "$T/port"
    python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(20)
c, _ = s.accept()
c.sendall(eval(sys.argv[2]))
time.sleep(20)
' "$T/port" "$1" &
    SERVER_PID=$!
    n=0
    while [ ! -s "$T/port" ] && [ $n -lt 100 ]; do
        sleep 0.05
        n=$((n + 1))
    done
    PORT=$(cat "$T/port")
}

stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# jv PATH - the JSON value at PATH of $T/out (Python ascii())
jv() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(ascii(eval("d" + sys.argv[2])))' "$T/out" "$1"
}
same() {
    checks=$((checks + 1))
    [ "$2" = "$3" ] || fail "$1: got $2, expected $3: $last"
}

HALF="timed out waiting for the greeting, 51 bytes into it (\"220-mx.half.example ESMTP first line\", then \"220-second li\") (the check's deadline of 2000 ms)"

serve 'b"220-mx.half.example ESMTP first line\r\n220-second li"'
run 3 probe 127.0.0.1 --domain half.example --port "$PORT" --timeout 2
stop
first "$T/out" "half.example: TEMPFAIL timeout: TLS, PKIX senders, DANE, REQUIRETLS"
line "$T/out" "  TLS (may, encrypt)                  TEMPFAIL      timeout"
line "$T/out" "  MTA-STS (mta-sts)                   not checked   not-looked-up"
line "$T/out" "half.example: TEMPFAIL at level may (auto: no policy map entry: opportunistic TLS (may))"
line "$T/out" "  timeout: $HALF -- half.example [127.0.0.1]"
line "$T/out" "      smtp  timeout: $HALF"
line "$T/out" "  connect        ok"
line "$T/out" "  outcome        timeout in banner: $HALF"
frag "$T/out" "ms, 51 bytes in, 0 bytes out"
nofrag "$T/out" "no answer before the deadline"

serve 'b"220-mx.half.example ESMTP first line\r\n220-second li"'
run 3 probe 127.0.0.1 --domain half.example --port "$PORT" --timeout 2 --json
stop
same "probe.connected" "$(jv '["addresses"][0]["probe"]["connected"]')" "True"
same "probe.bytes_in" "$(jv '["addresses"][0]["probe"]["bytes_in"]')" "51"
same "probe.outcome" "$(jv '["addresses"][0]["probe"]["outcome"]')" "'timeout'"
same "probe.outcome_phase" "$(jv '["addresses"][0]["probe"]["outcome_phase"]')" "'banner'"
same "probe.reason" "$(jv '["addresses"][0]["probe"]["reason"]')" "$(python3 -c 'import sys; print(ascii(sys.argv[1]))' "$HALF")"
same "timed_out" "$(jv '["timed_out"]')" "True"
same "summary.headline" "$(jv '["summary"]["headline"]')" "'half.example: TEMPFAIL timeout: TLS, PKIX senders, DANE, REQUIRETLS'"
same "summary.tls" "$(jv '["summary"]["tls"]')" "{'state': 'tempfail', 'reason': 'timeout', 'levels': ['may', 'encrypt'], 'failing': ['may', 'encrypt']}"
same "summary.mta_sts" "$(jv '["summary"]["mta_sts"]["state"]')" "'not-checked'"
same "summary.exit_code" "$(jv '["summary"]["exit_code"]')" "3"

# Connected, nothing said: the probe is still there, with no bytes.
serve 'b""'
run 3 probe 127.0.0.1 --domain silent.example --port "$PORT" --timeout 2 --json
stop
same "probe.connected" "$(jv '["addresses"][0]["probe"]["connected"]')" "True"
same "probe.bytes_in" "$(jv '["addresses"][0]["probe"]["bytes_in"]')" "0"
same "probe.reason" "$(jv '["addresses"][0]["probe"]["reason"]')" "\"timed out waiting for the greeting (the check's deadline of 2000 ms)\""

finish
