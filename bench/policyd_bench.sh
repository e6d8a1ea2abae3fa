#!/bin/sh
# policyd_bench.sh [SECONDS [CLIENTS]] - `mxtls policyd` against Debian's
# postfix-mta-sts-resolver (mta-sts-daemon), in the same run, serving the same
# world domains over loopback TCP in the test world's namespace.
#
# Phases (each figure is one line of bench/policyd_load.c output):
#   cold     fresh daemons, empty caches, 2 s of load: the first lookups
#   warm     SECONDS (default 10) of CLIENTS (default 100) clients; mxtls also
#            with 1000 clients
#   memory   mxtls, 30 s of load, RSS and descriptors every second
#   outage   40 s of load; at 5 s the world's DNS (nsd, unbound) and HTTPS
#            (nginx) are stopped (SIGSTOP by their recorded PIDs), at 20 s
#            resumed: replies that differ from the warm ones, OK among them,
#            TEMP, descriptors before/after. mxtls runs with
#            refresh_interval = 2 and lookup_timeout = 5, so that its
#            recomputations during the outage fail.
#   sighup   mxtls, 10 s of load with SIGHUP at 3 s and 6 s
#   sigterm  each daemon stopped by SIGTERM under load, then PRAGMA
#            integrity_check of its cache; mxtls restarted: time to its
#            first answer (warmed from the cache)
#   slow     before the outage, 40 s of load; from 5 s to 20 s the same
#            servers are slowed, not stopped: SIGSTOP for 400 ms of every
#            500 ms, so every DNS answer and policy fetch waits up to 400 ms
#            (this kernel has no netem, and a relay cannot sit between the
#            world's resolver and its authoritative servers without new
#            addresses); then as in outage: replies that differ, TEMP,
#            descriptors.
#
# Needs root and a built tree (sh scripts/build.sh: build/mxtls,
# build/bench/policyd_load). Installs postfix-mta-sts-resolver with apt-get
# when it is missing (Debian's policy-rc.d keeps it from starting on the
# host). Brings the world up when it is not, and down again afterwards.
# Honours MXTLS_WORLD_NS (docs/world.md).
set -eu
cd "$(dirname "$0")/.."
SECONDS_=${1:-10}
CLIENTS=${2:-100}
[ "$(id -u)" = 0 ] || { echo "bench: needs root (the test world is a network namespace)" >&2; exit 2; }
MXTLS=${MXTLS_BIN:-build/mxtls}
LOAD=${MXTLS_POLICYD_LOAD:-build/bench/policyd_load}
for f in "$MXTLS" "$LOAD"; do
    [ -x "$f" ] || { echo "bench: $f missing: build first (sh scripts/build.sh)" >&2; exit 2; }
done
if ! command -v mta-sts-daemon >/dev/null 2>&1; then
    made_rc=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_rc=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y postfix-mta-sts-resolver >/dev/null
    if [ -n "$made_rc" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
WORLD=tests/world/world
started=""
if ! "$WORLD" status >/dev/null 2>&1; then
    "$WORLD" up >/dev/null
    started=1
fi
eval "$("$WORLD" env)"
X=$MXTLS_WORLD_EXEC
D=$MXTLS_WORLD_DIR/policyd-bench.$$
mkdir -p "$D"
RUN=$MXTLS_WORLD_DIR/run
STOPPED=""
mx_pid="" res_pid=""
resume_world() {
    for p in $STOPPED; do kill -CONT "$p" 2>/dev/null || true; done
    STOPPED=""
}
cleanup() {
    resume_world
    for p in $mx_pid $res_pid; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    rm -rf "$D"
    if [ -n "$started" ]; then "$WORLD" down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT INT TERM

DOMAINS=sts.test,sts-wild.test,sts-uncovered.test,dane-ee.test,sts-testing.test,sts-none.test,good.test,sts-404.test
MX_PORT=18461 RES_PORT=28461
cat > "$D/mxtls.conf" <<EOF
refresh_interval = 2
lookup_timeout = 5
max_clients = 20000
EOF
cat > "$D/resolver.yml" <<EOF
host: 127.0.0.1
port: $RES_PORT
cache:
  type: sqlite
  options:
    filename: "$D/resolver.db"
default_zone:
  strict_testing: false
  timeout: 4
zones:
  mxtls:
    strict_testing: false
    timeout: 4
EOF

start_mxtls() {
    ip netns exec "$MXTLS_WORLD_NS" "$MXTLS" policyd --listen "inet:127.0.0.1:$MX_PORT" \
        --cache "$D/mxtls.sqlite" --config "$D/mxtls.conf" \
        --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
        --ca-file "$MXTLS_WORLD_CA" 2>>"$D/mxtls.log" &
    mx_pid=$!
}
start_resolver() {
    # its HTTPS client trusts the world's CA through SSL_CERT_FILE; DNS goes
    # to the world's validating unbound (the namespace's resolv.conf)
    ip netns exec "$MXTLS_WORLD_NS" env SSL_CERT_FILE="$MXTLS_WORLD_CA" \
        mta-sts-daemon -c "$D/resolver.yml" -l "$D/resolver.log" &
    res_pid=$!
}
wait_port() { # PORT
    i=0
    while [ $i -lt 100 ]; do
        $X python3 -c "import socket;socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "bench: nothing listens on $1" >&2
    exit 1
}
load() { # LABEL PORT PID CLIENTS SECONDS [EXPECT] [--samples]
    lbl=$1 port=$2 pid=$3 n=$4 s=$5
    shift 5
    e=""
    if [ $# -gt 0 ] && [ "$1" != --samples ]; then e="--expect $1"; shift; fi
    # shellcheck disable=SC2086
    $X "$LOAD" --connect "inet:127.0.0.1:$port" --map mxtls --domains "$DOMAINS" \
        --clients "$n" --seconds "$s" --pid "$pid" --label "$lbl" $e "$@"
}
baseline() { # PORT FILE - each domain's reply, one request each
    $X python3 - "$1" "$DOMAINS" > "$2" <<'EOF'
import socket, sys
port, doms = int(sys.argv[1]), sys.argv[2].split(",")
for d in doms:
    s = socket.create_connection(("127.0.0.1", port), 30)
    b = f"mxtls {d}".encode()
    s.sendall(str(len(b)).encode() + b":" + b + b",")
    buf = b""
    while True:
        c = s.recv(10000)
        if not c:
            break
        buf += c
        h, _, r = buf.partition(b":")
        if r and len(r) >= int(h) + 1:
            break
    print(f"{d}\t{buf.decode()}")
    s.close()
EOF
}
world_pids() {
    for n in nsd-root nsd-tld nsd-zones unbound nginx; do
        [ -f "$RUN/$n.pid" ] && tr -dc 0-9 < "$RUN/$n.pid" && echo
    done
}
stop_world() {
    STOPPED=$(world_pids)
    # nginx workers too: SIGSTOP of the master alone leaves them serving
    for p in $STOPPED; do
        for c in $(pgrep -P "$p" || true); do STOPPED="$STOPPED $c"; done
    done
    for p in $STOPPED; do kill -STOP "$p"; done
}

echo "# policyd_bench $(date -u +%Y-%m-%dT%H:%M:%SZ): mxtls $("$MXTLS" --version | cut -d' ' -f2), postfix-mta-sts-resolver $(dpkg-query -W -f='${Version}' postfix-mta-sts-resolver), $(nproc) cores"
echo "# domains: $DOMAINS"

echo "## cold (fresh daemons, empty caches, 2 s, 8 clients)"
start_mxtls
start_resolver
wait_port $MX_PORT
wait_port $RES_PORT
load "mxtls    cold" $MX_PORT $mx_pid 8 2
load "resolver cold" $RES_PORT $res_pid 8 2
baseline $MX_PORT "$D/mxtls.expect"
baseline $RES_PORT "$D/resolver.expect"
echo "## answers (warm)"
paste "$D/mxtls.expect" "$D/resolver.expect" | awk -F'\t' '{printf "  %-20s mxtls: %-55s resolver: %s\n", $1, $2, $4}'

echo "## warm ($SECONDS_ s)"
load "mxtls    warm c=$CLIENTS" $MX_PORT $mx_pid "$CLIENTS" "$SECONDS_" "$D/mxtls.expect"
load "resolver warm c=$CLIENTS" $RES_PORT $res_pid "$CLIENTS" "$SECONDS_" "$D/resolver.expect"
load "mxtls    warm c=1000" $MX_PORT $mx_pid 1000 "$SECONDS_" "$D/mxtls.expect"
load "mxtls    warm c=1" $MX_PORT $mx_pid 1 "$SECONDS_" "$D/mxtls.expect"
load "resolver warm c=1" $RES_PORT $res_pid 1 "$SECONDS_" "$D/resolver.expect"

echo "## memory (mxtls, 30 s, $CLIENTS clients, per second)"
load "mxtls    memory" $MX_PORT $mx_pid "$CLIENTS" 30 "$D/mxtls.expect" --samples

# slow_world SECONDS - duty-cycle the world's DNS and HTTPS: stopped 400 ms
# of every 500 ms, for SECONDS
slow_world() {
    end=$(( $(date +%s) + $1 ))
    while [ "$(date +%s)" -lt "$end" ]; do
        stop_world
        sleep 0.4
        resume_world
        sleep 0.1
    done
}
# stopped_world SECONDS - the world's DNS and HTTPS stopped for SECONDS
stopped_world() {
    stop_world
    sleep "$1"
    resume_world
}
# disturbed PHASE HOW TEXT - each daemon under 40 s of 50 clients; from 5 s
# to 20 s the world's DNS and HTTPS are disturbed by HOW
disturbed() {
    for who in mxtls resolver; do
        if [ $who = mxtls ]; then port=$MX_PORT pid=$mx_pid; else port=$RES_PORT pid=$res_pid; fi
        echo "## $1 ($who: 40 s of 50 clients; $3 from 5 s to 20 s)"
        load "$who $1" $port $pid 50 40 "$D/$who.expect" --samples &
        lp=$!
        sleep 5
        "$2" 15
        wait $lp
    done
}
disturbed slow slow_world "DNS and HTTPS answer late (stopped 400 ms of every 500 ms)"
disturbed outage stopped_world "DNS and HTTPS stopped"
grep -c "keeping the answer" "$D/mxtls.log" | sed 's/^/  mxtls log: answers kept while a recomputation failed: /'

echo "## sighup (mxtls, 10 s, $CLIENTS clients, SIGHUP at 3 s and 6 s)"
load "mxtls    sighup" $MX_PORT $mx_pid "$CLIENTS" 10 "$D/mxtls.expect" &
lp=$!
sleep 3
kill -HUP $mx_pid
sleep 3
kill -HUP $mx_pid
wait $lp

echo "## sigterm under load, then PRAGMA integrity_check, then restart"
for who in mxtls resolver; do
    if [ $who = mxtls ]; then port=$MX_PORT pid=$mx_pid db=$D/mxtls.sqlite; else port=$RES_PORT pid=$res_pid db=$D/resolver.db; fi
    load "$who sigterm" $port $pid "$CLIENTS" 6 "$D/$who.expect" >/dev/null 2>&1 &
    lp=$!
    sleep 3
    t0=$(date +%s%N)
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    t1=$(date +%s%N)
    wait $lp || true
    echo "  $who: exit $rc $(( (t1 - t0) / 1000000 )) ms after SIGTERM; integrity_check: $(python3 -c 'import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$db")"
done
mx_pid="" res_pid=""
start_mxtls
t0=$(date +%s%N)
wait_port $MX_PORT
first=$($X python3 -c "
import socket,time
s=socket.create_connection(('127.0.0.1',$MX_PORT),30);t=time.monotonic()
s.sendall(b'14:mxtls sts.test,');r=s.recv(1000).decode();print(r, round((time.monotonic()-t)*1000,1),'ms')")
t1=$(date +%s%N)
echo "  mxtls restarted: first answer $first (from start: $(( (t1 - t0) / 1000000 )) ms); $(grep -o 'warming [0-9]* cached domains' "$D/mxtls.log" | tail -n1)"
