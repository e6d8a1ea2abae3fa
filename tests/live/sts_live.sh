#!/bin/sh
# sts_live.sh - MTA-STS and TLSRPT in mxtls check against the test world:
# what each policy fetch reported, per-host results and the policy cache
# (needs root)
set -eu
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespace)"; exit 77; }
"$MXTLS_WORLD" status >/dev/null 2>&1 || { echo "skipped: the test world is not up"; exit 77; }
exec python3 "$(dirname "$0")/sts_live.py"
