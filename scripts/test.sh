#!/bin/sh
# test.sh [--sanitize] - install dependencies, build, run the whole test suite
#
# Unit tests run as any user. Integration tests need root (they create a
# network namespace with a DNSSEC root, Postfix and nginx: tests/world); as
# another user they are reported as skipped.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
dir=$(sh scripts/build.sh "$@" | tail -n 1)
# Sanitizers: fail on the first error, report leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$dir" --output-on-failure --timeout 600
