#!/bin/bash
# relay_cost.sh [N] [CONCURRENCY] [strace] - the population relay's own CPU per
# scanned domain: utime + stime of pop-relay (/proc/PID/stat) before and after
# one `mxtls scan` of the first N population domains (default all).
#
#   MXTLS_WORLD_NS=... bench/population.sh up 5000 120
#   MXTLS_WORLD_NS=... bench/relay/relay_cost.sh 5000 1000
#
# With a third argument `strace`, the relay is traced (strace -c -f) during
# the scan instead: the syscall counts per domain (the CPU figure is then the
# tracer's, not to be read). Needs root, a running world and population.
set -eu -o pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
WORLD=$REPO/tests/world/world
MXTLS=${MXTLS_BIN:-$REPO/build/mxtls}
eval "$("$WORLD" env)"
eval "$(bench/population.sh env)"
N=${1:-$(wc -l < "$MXTLS_POP_DOMAINS")}
C=${2:-1000}
MODE=${3:-}
PID=$(tr -dc 0-9 < "$MXTLS_WORLD_DIR/run/pop-relay.pid")
[ -d "/proc/$PID" ] || { echo "relay_cost: pop-relay not running" >&2; exit 2; }
OUT=$(mktemp -d /tmp/relay_cost.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
head -n "$N" "$MXTLS_POP_DOMAINS" > "$OUT/domains.txt"
ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
if [ "$MODE" = strace ]; then
    strace -c -f -o "$OUT/strace" -p "$PID" &
    tracer=$!
    sleep 1
fi
t0=$(ticks)
w0=$(date +%s.%N)
ip netns exec "$MXTLS_WORLD_NS" "$MXTLS" scan "$OUT/domains.txt" --output "$OUT/out.jsonl" \
    --concurrency "$C" --stats-json "$OUT/stats.json" --root-hints "$MXTLS_WORLD_ROOT_HINTS" \
    --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" --ca-file "$MXTLS_WORLD_CA" 2>"$OUT/err" || true
w1=$(date +%s.%N)
t1=$(ticks)
lines=$(wc -l < "$OUT/out.jsonl")
verdicts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdicts"])' "$OUT/stats.json")
awk -v n="$lines" -v a="$t0" -v b="$t1" -v hz="$HZ" -v w0="$w0" -v w1="$w1" 'BEGIN {
    cpu = (b - a) / hz; wall = w1 - w0
    printf "scan: %d domains in %.2f s (%.0f/s); relay CPU %.2f s = %.3f ms per domain, %.1f %% of a core\n",
        n, wall, n / wall, cpu, 1000 * cpu / n, 100 * cpu / wall }'
echo "verdicts: $verdicts"
if [ "$MODE" = strace ]; then
    kill -INT "$tracer"
    wait "$tracer" || true
    echo "relay syscalls during the scan (strace -c -f): calls, calls per domain"
    awk -v n="$lines" '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" {
        printf "  %-16s %9d %8.1f\n", $NF, $4, $4 / n }' "$OUT/strace"
fi
