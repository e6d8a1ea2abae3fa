#!/bin/sh
# valgrind.sh [--full] [--record] - build, then run the valgrind-labelled tests
# (cmake/valgrind.cmake): the unit tests, the fuzz corpus replays and a few
# CLI commands under valgrind memcheck (about 2 minutes). --full adds every
# CLI test script under valgrind (label valgrind-cli, about 7 more minutes)
# and `mxtls check` against the test world (label valgrind-world, root; it
# uses MXTLS_WORLD_NS like the world script).
# --record writes the per-test results to tests/valgrind/last-run.tsv, which
# docs/robustness.md is generated from (scripts/robustness-report.sh).
# Exit status: ctest's (non-zero if any memcheck error or definite leak).
set -eu
cd "$(dirname "$0")/.."
labels='^valgrind$'
record=0
for a in "$@"; do
    case $a in
    --full) labels='^valgrind(-cli|-world)?$' ;;
    --record) record=1 ;;
    *) echo "usage: scripts/valgrind.sh [--full] [--record]" >&2; exit 2 ;;
    esac
done
sh scripts/deps.sh
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 2; }
dir=$(sh scripts/build.sh | tail -n 1)
[ -f "$dir/valgrind/CTestTestfile.cmake" ] || { echo "valgrind.sh: no $dir/valgrind tests" >&2; exit 2; }
log=$dir/valgrind/last.log
start=$(date +%s)
rc=0
ctest --test-dir "$dir/valgrind" -L "$labels" --output-on-failure --timeout 1200 >"$log" 2>&1 || rc=$?
end=$(date +%s)
cat "$log"
if [ "$record" = 1 ]; then
    {
        echo "# scripts/valgrind.sh $*: $(date -u +%Y-%m-%dT%H:%M:%SZ), $((end - start)) s wall, exit $rc"
        echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(valgrind --version)"
        printf 'test\tresult\tseconds\n'
        sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \([^ ]*\) \.*\** *\([A-Za-z][A-Za-z ()]*[a-z)]\) *\([0-9.]*\) sec$/\1\t\2\t\3/p' "$log"
    } >tests/valgrind/last-run.tsv
fi
exit $rc
