#!/bin/sh
# run.sh - mutation testing of the decision code (docs/testing.md)
#
#   sh tests/mutation/run.sh [-j JOBS] [-t SECONDS] [-k] [-l] [ID-PATTERN...]
#
# Plants each mutant of tests/mutation/mutants.tsv, one at a time, in a
# scratch copy of the tree (the tracked and untracked-but-not-ignored files of
# this working tree; the working tree itself is never modified), rebuilds
# incrementally in one scratch build directory, runs the tests that need no
# root (`ctest -L unit`) and prints each mutant's outcome:
#
#   killed        a test failed (or the tests timed out)
#   survived      every test passed: a behaviour no test pins
#   build-failed  the mutant does not compile (not a useful mutant)
#   not-applied   the original text is not in the file exactly once (the list
#                 is stale)
#
# then the kill rate, killed / (killed + survived). Exit status: 0 when every
# mutant was applied and killed, 1 otherwise, 2 when the unmutated tree does
# not build or its tests fail.
#
#   -j JOBS     parallel build and test jobs (default: nproc)
#   -t SECONDS  time limit of one mutant's test run (default 600)
#   -k          keep the scratch directory (its path is printed)
#   -l          list the mutants and exit
#   ID-PATTERN  shell patterns; only mutants whose id matches one run
#               (e.g. 'aggregate-*')
#
# Not registered with CTest: it takes minutes (one build and one unit run per
# mutant).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
list="$here/mutants.tsv"
jobs=$(nproc 2>/dev/null || echo 2)
limit=600
keep=0
only_list=0
while getopts j:t:kl opt; do
    case $opt in
    j) jobs=$OPTARG ;;
    t) limit=$OPTARG ;;
    k) keep=1 ;;
    l) only_list=1 ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

# field LINE N - the Nth tab-separated field of a list line
field() { printf '%s\n' "$1" | awk -F '\t' -v n="$2" '{ print $n }'; }

# wanted ID - does the id match the patterns given (all when none)?
wanted() {
    [ $# -eq 1 ] && return 0
    id=$1
    shift
    for pat in "$@"; do
        # shellcheck disable=SC2254
        case $id in $pat) return 0 ;; esac
    done
    return 1
}

# The mutants: non-empty, non-comment lines with five fields.
mutants=$(awk -F '\t' '!/^#/ && NF > 0 {
    if (NF != 5 || $1 == "" || $2 == "" || $3 == "" || $5 == "") {
        printf "mutants.tsv:%d: want 5 tab-separated fields (id, file, original, replacement, description)\n", NR > "/dev/stderr"
        bad = 1
    }
    print
} END { exit bad }' "$list") || exit 2
dups=$(printf '%s\n' "$mutants" | awk -F '\t' '{ print $1 }' | sort | uniq -d)
if [ -n "$dups" ]; then
    echo "mutants.tsv: duplicate ids: $dups" >&2
    exit 2
fi

if [ "$only_list" = 1 ]; then
    printf '%s\n' "$mutants" | while IFS= read -r line; do
        wanted "$(field "$line" 1)" "$@" || continue
        printf '%-32s %-26s %s\n' "$(field "$line" 1)" "$(field "$line" 2)" "$(field "$line" 5)"
    done
    exit 0
fi

start=$(date +%s)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-mutation.XXXXXX")
cleanup() {
    if [ "$keep" = 1 ]; then
        echo "scratch directory kept: $scratch"
    else
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

src=$scratch/src
bld=$scratch/build
mkdir -p "$src"
# A copy of the working tree's files as they are now (uncommitted edits and
# new files included), without build directories and other ignored files.
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$src"

echo "mutation run: $(printf '%s\n' "$mutants" | wc -l) mutants in the list; scratch $scratch"
echo "building the unmutated tree ..."
if ! { cmake -S "$src" -B "$bld" -DMXTLS_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
    cmake --build "$bld" -j "$jobs"; } >"$scratch/base-build.log" 2>&1; then
    tail -30 "$scratch/base-build.log" >&2
    echo "the unmutated tree does not build" >&2
    exit 2
fi
if ! timeout "$limit" ctest --test-dir "$bld" -L unit -j "$jobs" --timeout 120 \
    >"$scratch/base-test.log" 2>&1; then
    tail -30 "$scratch/base-test.log" >&2
    echo "the unit tests fail on the unmutated tree" >&2
    exit 2
fi
echo "baseline: unit tests pass ($(($(date +%s) - start)) s)"

total=0 killed=0 survived=0 buildfail=0 notapplied=0
survivors=""
results=$scratch/results
: >"$results"
printf '%s\n' "$mutants" >"$scratch/list"
# The list on descriptor 3, so that nothing in the loop reads it from stdin.
while IFS= read -r line <&3; do
    id=$(field "$line" 1)
    wanted "$id" "$@" || continue
    file=$(field "$line" 2)
    desc=$(field "$line" 5)
    total=$((total + 1))
    target=$src/$file
    outcome=""
    detail=""
    if [ ! -f "$target" ]; then
        outcome=not-applied
        detail="no file $file"
    else
        cp "$target" "$scratch/pristine"
        # Exact text, no regular expressions; ENVIRON keeps backslashes as written.
        if ! MUT_ORIG=$(field "$line" 3) MUT_REPL=$(field "$line" 4) awk '
            BEGIN { o = ENVIRON["MUT_ORIG"]; r = ENVIRON["MUT_REPL"]; n = 0 }
            {
                rest = $0; out = ""
                while ((i = index(rest, o)) > 0) {
                    n++
                    out = out substr(rest, 1, i - 1) r
                    rest = substr(rest, i + length(o))
                }
                print out rest
            }
            END { if (n != 1) { print n > "/dev/stderr"; exit 3 } }' \
            "$scratch/pristine" >"$target" 2>"$scratch/count"; then
            cp "$scratch/pristine" "$target"
            outcome=not-applied
            detail="the original text occurs $(cat "$scratch/count") times in $file (want 1)"
        elif ! cmake --build "$bld" -j "$jobs" >"$scratch/build.log" 2>&1; then
            outcome=build-failed
            detail=$(grep -m1 'error:' "$scratch/build.log" || true)
        elif timeout "$limit" ctest --test-dir "$bld" -L unit -j "$jobs" --timeout 120 \
            --stop-on-failure >"$scratch/test.log" 2>&1; then
            outcome=survived
        else
            outcome=killed
            detail=$(awk '/tests FAILED:/ { f = 1; next } f && NF { sub(/^[ \t]*[0-9]+ - /, ""); print; exit }' \
                "$scratch/test.log")
            [ -n "$detail" ] || detail="test run stopped (time limit $limit s)"
            detail="by $detail"
        fi
        # The original back, newer than the mutant's object files.
        cp "$scratch/pristine" "$target"
        touch "$target"
    fi
    case $outcome in
    killed) killed=$((killed + 1)) ;;
    survived) survived=$((survived + 1)); survivors="$survivors $id" ;;
    build-failed) buildfail=$((buildfail + 1)) ;;
    not-applied) notapplied=$((notapplied + 1)) ;;
    esac
    printf '%-13s %-32s %s\n' "$outcome" "$id" "$desc"
    [ -z "$detail" ] || printf '%-13s %-32s   %s\n' "" "" "$detail"
done 3<"$scratch/list"

end=$(date +%s)
secs=$((end - start))
echo
echo "mutants: $total  killed: $killed  survived: $survived  build-failed: $buildfail  not-applied: $notapplied"
if [ $((killed + survived)) -gt 0 ]; then
    awk -v k="$killed" -v s="$survived" 'BEGIN { printf "kill rate: %.1f %% (killed / (killed + survived))\n", 100 * k / (k + s) }'
fi
printf 'duration: %dm%02ds\n' $((secs / 60)) $((secs % 60))
[ -z "$survivors" ] || echo "survivors:$survivors"
[ "$survived" -eq 0 ] && [ "$notapplied" -eq 0 ] && [ "$total" -gt 0 ]
