#!/bin/sh
# warm_vs_oneshot.sh [CHECKS [INFLIGHT [ONESHOT]]] - checks from one long-lived
# process through the public API (include/mxtls.h: one engine, its validating
# resolver kept warm) against one `mxtls check DOMAIN --json` process per
# check, in the same run, against the test world.
#
# Runs build/bench/warm_check (bench/warm_check.c) inside the world's network
# namespace: CHECKS checks (default 1000) one at a time, CHECKS with INFLIGHT
# (default 100) in flight on one event_base, and ONESHOT (default CHECKS)
# `mxtls check` processes one after the other (fewer are scaled to CHECKS),
# cycling through the non-hostile domains of tests/world/cases.tsv. Prints one
# table: wall and CPU time per check, checks/s, DNS queries per check, peak RSS,
# ratios. Exits 1 when any report's verdict matrix differs from the one-shot
# check of its domain. Needs root; brings the world up when it is not, and down
# again afterwards. Honours MXTLS_WORLD_NS (docs/world.md).
set -eu
cd "$(dirname "$0")/.."
CHECKS=${1:-1000}
INFLIGHT=${2:-100}
ONESHOT=${3:-$CHECKS}
[ "$(id -u)" = 0 ] || { echo "bench: needs root (the test world is a network namespace)" >&2; exit 2; }
MXTLS=${MXTLS_BIN:-build/mxtls}
DRIVER=${MXTLS_WARM_CHECK:-build/bench/warm_check}
for f in "$MXTLS" "$DRIVER"; do
    [ -x "$f" ] || { echo "bench: $f missing: build first (sh scripts/build.sh)" >&2; exit 2; }
done
WORLD=tests/world/world
started=""
if ! "$WORLD" status >/dev/null 2>&1; then
    "$WORLD" up >/dev/null
    started=1
fi
cleanup() { if [ -n "$started" ]; then "$WORLD" down >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT INT TERM
eval "$("$WORLD" env)"
"$WORLD" exec "$DRIVER" --cases "$MXTLS_WORLD_CASES" --mxtls "$MXTLS" \
    --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
    --ca-file "$MXTLS_WORLD_CA" --checks "$CHECKS" --inflight "$INFLIGHT" --oneshot "$ONESHOT"
