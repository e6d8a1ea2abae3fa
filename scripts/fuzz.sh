#!/bin/sh
# fuzz.sh [SECONDS] - build the libFuzzer targets with clang and run each one
# for a bounded time (default 30 s) from its checked-in seed corpus.
# New inputs go to a temporary directory; crashes are kept in fuzz/artifacts/.
# A target NAME uses the libFuzzer dictionary fuzz/NAME.dict when there is one.
# fuzz.sh --build only builds build-fuzz/ (fuzz/run-long uses it).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
build_only=0
[ "$secs" = "--build" ] && build_only=1
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DMXTLS_FUZZ=ON -DMXTLS_SANITIZE=ON \
      -DMXTLS_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)"
[ "$build_only" = 1 ] && exit 0
mkdir -p fuzz/artifacts
status=0
for bin in build-fuzz/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin" | sed 's/^fuzz_//')
    work=$(mktemp -d)
    set --
    if [ -f "fuzz/$name.dict" ]; then set -- -dict="fuzz/$name.dict"; fi
    echo "== fuzz $name for ${secs}s"
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "$@" \
            -artifact_prefix=fuzz/artifacts/ "$work" "fuzz/corpus/$name" 2>"$work.log"; then
        tail -n 40 "$work.log"
        status=1
    else
        grep -E '^(Done|#[0-9]+ *DONE)' "$work.log" | tail -n 1 || true
    fi
    rm -rf "$work" "$work.log"
done
exit $status
