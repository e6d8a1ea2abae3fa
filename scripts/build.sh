#!/bin/sh
# build.sh [--sanitize] - configure and build mxtls (warnings are errors)
#
# Build directories: build/ (normal), build-asan/ (ASan+UBSan). Prints the
# build directory on its last line.
set -eu
cd "$(dirname "$0")/.."
dir=build
flags="-DMXTLS_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"
if [ "${1:-}" = "--sanitize" ]; then
    dir=build-asan
    flags="-DMXTLS_WERROR=ON -DMXTLS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
fi
# shellcheck disable=SC2086
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "$dir"
