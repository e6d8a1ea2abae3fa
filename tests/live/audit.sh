#!/bin/sh
# audit.sh - mxtls audit against the audit listeners, anchored by testssl.sh (needs root)
set -eu
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespace)"; exit 77; }
"$MXTLS_WORLD" status >/dev/null 2>&1 || { echo "skipped: the test world is not up"; exit 77; }
command -v testssl >/dev/null 2>&1 || { echo "FAIL: testssl (Debian package testssl.sh) is not installed: sh scripts/deps.sh"; exit 1; }
exec python3 "$(dirname "$0")/audit.py"
