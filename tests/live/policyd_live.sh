#!/bin/sh
# policyd_live.sh - mxtls policyd against the test world: socketmap protocol,
# bad clients, the policy cache, reload, stop and restart (needs root)
set -eu
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespace)"; exit 77; }
"$MXTLS_WORLD" status >/dev/null 2>&1 || { echo "skipped: the test world is not up"; exit 77; }
exec python3 "$(dirname "$0")/policyd_live.py"
