#!/bin/sh
# world.sh - `mxtls check` against the test world under valgrind memcheck
# (label valgrind-world; needs root, exit 77 = skipped otherwise).
#
# The production path end to end: DNSSEC lookups through libunbound, the
# probes with STARTTLS, revocation fetches, DANE, the verdicts and the report,
# against the world's real Postfix, NSD/unbound, nginx and hostile servers.
# Domains: every hostile case of tests/world/cases.tsv plus a fixed set that
# reaches the other paths (revocation, DANE, bogus DNS, null MX, backup MX,
# SNI, IDN). At levels verify and dane, the verdict line of the report (the
# 7th: after the headline and its five rows, docs/cli.md) and the exit code
# must be the verdict cases.tsv expects; exit 99 is memcheck's.
# Env: MXTLS_VG_BIN (mxtls), MXTLS_VG_SUPP, MXTLS_SOURCE_DIR, MXTLS_WORLD_NS
# (optional) and MXTLS_HOSTILE_BIN (optional), as for tests/world/world.
set -eu
src=${MXTLS_SOURCE_DIR:?MXTLS_SOURCE_DIR is not set}
W=$src/tests/world/world
cases=$src/tests/world/cases.tsv
rc=0
"$W" up --ref || rc=$?
[ "$rc" = 77 ] && exit 77
[ "$rc" = 0 ] || { echo "world up failed ($rc)" >&2; exit 1; }
trap '"$W" down --unref >/dev/null 2>&1 || true' EXIT
eval "$("$W" env)"
T=$(mktemp -d)
trap 'rm -rf "$T"; "$W" down --unref >/dev/null 2>&1 || true' EXIT
tab=$(printf '\t')

domains=$(awk -F"$tab" '!/^#/ && $5 ~ /^hostile/ { print $1 }' "$cases")
domains="$domains good.test revoked.test nointer.test dane-ee.test dane-bogus.test
bogus-tampered.test nullmx.test backup.test sni.test xn--mnchen-3ya.test"
checks=0
fails=0
for d in $domains; do
    for lvl in verify dane; do
        want=$(awk -F"$tab" -v d="$d" -v l="$lvl" '
            !/^#/ && $1 == "domain" { for (i = 1; i <= NF; i++) c[$i] = i; next }
            !/^#/ && $1 == d { print $(c[l]) }' "$cases")
        case $want in
        pass) code=0 word=PASS ;;
        fail) code=1 word=FAIL ;;
        tempfail) code=3 word=TEMPFAIL ;;
        *) echo "FAIL: $d has no $lvl verdict in cases.tsv" >&2; fails=$((fails + 1)); continue ;;
        esac
        checks=$((checks + 1))
        got=0
        ip netns exec "$MXTLS_WORLD_NS" valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --suppressions="${MXTLS_VG_SUPP:?}" "${MXTLS_VG_BIN:?}" check "$d" --level "$lvl" \
            --root-hints "$MXTLS_WORLD_ROOT_HINTS" --trust-anchor "$MXTLS_WORLD_TRUST_ANCHOR" \
            --ca-file "$MXTLS_WORLD_CA" --timeout 60 >"$T/out" 2>"$T/err" || got=$?
        first=$(head -n 1 "$T/out")
        verdict=$(sed -n 7p "$T/out")
        case $first in
        "$d: "*) ok=1 ;;
        *) ok=0 ;;
        esac
        case $verdict in
        "$d: $word at level $lvl"*) ;;
        *) ok=0 ;;
        esac
        if [ "$got" != "$code" ] || [ "$ok" = 0 ]; then
            fails=$((fails + 1))
            echo "FAIL: check $d --level $lvl: exit $got, expected $code ($want); headline: $first; verdict line: $verdict" >&2
            sed 's/^/  stderr| /' "$T/err" | head -60 >&2
        fi
    done
done
echo "world.sh: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
