#!/bin/sh
# check_vs_posttls_finger.sh [ROUNDS] - how long `mxtls check` takes, against
# Postfix's posttls-finger probing the same domains, in the same run.
#
# The bar (docs/architecture.md): every level's verdict comes from one
# connection per MX address, with lookups and probes concurrent, so a check
# costs about one posttls-finger probe, not one per level. Printed per domain:
# median wall time of `mxtls check` (all 13 levels) in its default mode (own
# DNSSEC recursion from the root, revocation checked) and doing the same work as
# posttls-finger (the world's caching resolver, no revocation); of one
# posttls-finger run (one level); of posttls-finger once per Postfix level (what
# a per-level tool costs); the ratios; and peak RSS. Runs inside the test world (needs root);
# brings the world up when it is not, and down again afterwards.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-15}
[ "$(id -u)" = 0 ] || { echo "bench: needs root (the test world is a network namespace)" >&2; exit 2; }
MXTLS=${MXTLS_BIN:-build/mxtls}
[ -x "$MXTLS" ] || { echo "bench: build mxtls first (sh scripts/build.sh)" >&2; exit 2; }
FINGER=/usr/sbin/posttls-finger
WORLD=tests/world/world
started=""
if ! "$WORLD" status >/dev/null 2>&1; then
    "$WORLD" up >/dev/null
    started=1
fi
cleanup() { [ -n "$started" ] && "$WORLD" down >/dev/null 2>&1 || true; rm -rf "$PFDIR"; }
PFDIR=$(mktemp -d)
trap cleanup EXIT INT TERM
eval "$("$WORLD" env)"
# posttls-finger reads main.cf for its defaults; an empty one gives Postfix's.
: > "$PFDIR/main.cf"
IN="ip netns exec $MXTLS_WORLD_NS"
DNSOPTS="--root-hints $MXTLS_WORLD_ROOT_HINTS --trust-anchor $MXTLS_WORLD_TRUST_ANCHOR"

# ms CMD... - wall-clock milliseconds of one run (output discarded)
ms() {
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

# rss CMD... - peak resident set size in KiB
rss() { /usr/bin/env time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }

printf '%-13s %7s %7s %7s %8s %7s %7s %9s %8s\n' domain "mxtls" "mxtls" "pf" "pf" "ratio" "ratio" "mxtls" "pf"
printf '%-13s %7s %7s %7s %8s %7s %7s %9s %8s\n' "" "full" "same" "1 lvl" "4 lvls" "same/1" "same/4" "RSS KiB" "RSS KiB"
for d in good.test backup.test sni.test wild.test; do
    # full: mxtls's own validating recursion from the root, revocation checked
    full=$(for i in $(seq "$ROUNDS"); do ms $IN "$MXTLS" check "$d" $DNSOPTS --ca-file "$MXTLS_WORLD_CA"; done | median)
    # same: the work posttls-finger does: the world's (caching) resolver, no revocation
    same=$(for i in $(seq "$ROUNDS"); do ms $IN "$MXTLS" check "$d" $DNSOPTS --resolver "$MXTLS_WORLD_RESOLVER" --revocation off --ca-file "$MXTLS_WORLD_CA"; done | median)
    p=$(for i in $(seq "$ROUNDS"); do ms env MAIL_CONFIG="$PFDIR" $IN "$FINGER" -c -l secure -F "$MXTLS_WORLD_CA" "$d"; done | median)
    all=0
    for lv in may encrypt verify secure; do
        t=$(for i in $(seq "$ROUNDS"); do ms env MAIL_CONFIG="$PFDIR" $IN "$FINGER" -c -l "$lv" -F "$MXTLS_WORLD_CA" "$d"; done | median)
        all=$((all + t))
    done
    mr=$(rss $IN "$MXTLS" check "$d" $DNSOPTS --ca-file "$MXTLS_WORLD_CA")
    pr=$(rss env MAIL_CONFIG="$PFDIR" $IN "$FINGER" -c -l secure -F "$MXTLS_WORLD_CA" "$d")
    r1=$(awk -v a="$same" -v b="$p" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
    r4=$(awk -v a="$same" -v b="$all" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
    printf '%-13s %7s %7s %7s %8s %7s %7s %9s %8s\n' "$d" "$full" "$same" "$p" "$all" "$r1" "$r4" "$mr" "$pr"
done
echo "rounds: $ROUNDS; medians of wall-clock time, each command started fresh (process start included)"
