#!/bin/sh
# regen.sh BUILD_DIR - make world.jsonl anew: `mxtls check DOMAIN --json` on a
# few world domains, one line each, exactly as printed (needs root and a
# world: export MXTLS_WORLD_NS first, then `tests/world/world up`).
#
# The unit tests of the survey (tests/unit/test_survey.c) and of the
# monitoring plugin (tests/unit/test_monitor.c) read this file; their exact
# figures come from it and from the times written in it, so after a regen
# update them (the dates move with the world's `up`).
set -eu
build=${1:?usage: regen.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
eval "$("$repo/tests/world/world" env)"
out=$here/world.jsonl
: > "$out.tmp"
for d in good.test expiring.test expired.test nullmx.test implicit.test plain.test \
         bogus-expired.test dane-mismatch.test sts.test sts-404.test banner-421.test \
         insecure.test requiretls.test; do
    rc=0
    ip netns exec "$MXTLS_WORLD_NS" "$build/mxtls" check "$d" --json --timeout 30 \
        --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
        --ca-file "$MXTLS_WORLD_CA" >> "$out.tmp" || rc=$?
    [ "$rc" -le 3 ] || { echo "regen.sh: mxtls check $d exited $rc" >&2; exit 1; }
done
mv "$out.tmp" "$out"
echo "regen.sh: $(wc -l < "$out") lines in $out"
