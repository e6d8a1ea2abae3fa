#!/bin/sh
# scan.sh - mxtls scan against the test world (tests/live/scan.py; needs root)
set -eu
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespace)"; exit 77; }
"$MXTLS_WORLD" status >/dev/null 2>&1 || { echo "skipped: the test world is not up"; exit 77; }
exec python3 "$(dirname "$0")/scan.py"
