#!/bin/sh
# check_details.sh - policy-map attributes in mxtls check against the test world (needs root)
set -eu
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespace)"; exit 77; }
"$MXTLS_WORLD" status >/dev/null 2>&1 || { echo "skipped: the test world is not up"; exit 77; }
exec python3 "$(dirname "$0")/policy_attrs.py"
