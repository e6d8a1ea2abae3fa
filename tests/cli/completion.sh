#!/bin/sh
# completion.sh - the bash completion (packaging/bash-completion/mxtls)
# completes what the binary and docs/cli.md say: the commands of docs/cli.md
# exactly, every option of a command's synopsis in docs/cli.md, only options
# the command accepts, the listed values of an option, files and directories.
#
# Environment (set by CTest): MXTLS_BIN, MXTLS_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/assert.sh"
SRC=${MXTLS_SOURCE_DIR:?MXTLS_SOURCE_DIR is not set}
COMPLETION=$SRC/packaging/bash-completion/mxtls
command -v bash >/dev/null || { echo "completion: bash not found" >&2; exit 1; }
# The completion runs "mxtls" as typed: first in PATH, a wrapper that runs
# MXTLS_BIN (which may have another name, as under valgrind).
BINDIR=$T/bin
mkdir "$BINDIR"
printf '#!/bin/sh\nexec "%s" "$@"\n' "$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")" >"$BINDIR/mxtls"
chmod +x "$BINDIR/mxtls"

# comp WORD... - the completions of the last WORD, one a line, in $T/out;
# run in an empty directory, so that no file name is mistaken for a word
mkdir "$T/empty"
comp() {
    last="completion of: mxtls $*"
    (cd "$T/empty" && PATH=$BINDIR:$PATH bash -c '. "$1"; shift
        COMP_WORDS=(mxtls "$@"); COMP_CWORD=$#; _mxtls
        printf "%s\n" "${COMPREPLY[@]}"' completion "$COMPLETION" "$@") >"$T/out" 2>"$T/err"
    sed -i '/^$/d' "$T/out"
}

# same FILE EXPECTED... - FILE holds exactly the words EXPECTED (any order)
same() {
    checks=$((checks + 1))
    f=$1
    shift
    printf '%s\n' "$@" | sed '/^$/d' | sort >"$T/want"
    sort "$f" >"$T/got"
    cmp -s "$T/want" "$T/got" || fail "got [$(tr '\n' ' ' <"$T/got")], want [$*]: $last"
}

# The commands: exactly the "## `mxtls NAME`" sections of docs/cli.md (the
# man pages come from those sections, so a command without one has no page).
docs_commands=$(sed -n 's/^## `mxtls \([a-z0-9-]*\)`.*/\1/p' "$SRC/docs/cli.md")
comp ""
# shellcheck disable=SC2086
same "$T/out" $docs_commands
comp ""
frag "$T/out" verify
comp --
same "$T/out" --help --version

# Concrete cases.
comp verify --ch
same "$T/out" --chain
comp dns --type ""
same "$T/out" mx a aaaa ptr tlsa txt all
comp fingerprint cert.pem --digest ""
same "$T/out" sha256 sha1 md5
comp check --sni ""
same "$T/out" auto none
comp policy ""
same "$T/out" check lookup
comp policy lookup --m
same "$T/out" --map
comp tlsa ""
same "$T/out" check gen
comp tlsa gen --se
same "$T/out" --selector
comp check -
frag "$T/out" -4
frag "$T/out" --tls-on-connect
nofrag "$T/out" --chain
mkdir -p "$T/files/sub.d"
: >"$T/files/chain.pem"
: >"$T/files/key.pem"
comp verify --chain "$T/files/c"
same "$T/out" "$T/files/chain.pem"
: >"$T/files/a b.pem"
comp verify --chain "$T/files/a"
same "$T/out" "$T/files/a b.pem"
comp verify --ca-path "$T/files/"
same "$T/out" "$T/files/sub.d"
: >"$T/empty/x.pem"
comp check --timeout ""
same "$T/out"
comp dns --resolver ""
same "$T/out"
comp fingerprint ""
same "$T/out" x.pem
rm "$T/empty/x.pem"
comp fingerprint "$T/files/k"
same "$T/out" "$T/files/key.pem"

# Every command: the options of its docs/cli.md synopsis are all offered, and
# every option offered is one the command accepts (no "unknown option").
for cmd in $docs_commands; do
    # In the empty directory, words offered after the command are its
    # subcommands.
    comp "$cmd" ""
    subs=$(cat "$T/out")
    : >"$T/offered.$cmd"
    if [ -n "$subs" ]; then
        for s in $subs; do
            comp "$cmd" "$s" -
            sed "s|^|$s |" "$T/out" >>"$T/offered.$cmd"
        done
    else
        comp "$cmd" -
        sed 's|^| |' "$T/out" >>"$T/offered.$cmd"
    fi
    awk -v h="## \`mxtls $cmd\`" '$0 == h { on = 1; next } on && /^## / { exit }
        on && /^```/ { f = !f; next } on && f' "$SRC/docs/cli.md" |
        grep -oE -- '(^|[^A-Za-z0-9-])(--[a-z0-9][a-z0-9-]*|-[46])\b' |
        sed -E 's/^[^-]+//' | sort -u >"$T/documented"
    while read -r opt; do
        checks=$((checks + 1))
        grep -q -- " $opt\$" "$T/offered.$cmd" ||
            fail "docs/cli.md's synopsis of mxtls $cmd names $opt; the completion does not offer it"
    done <"$T/documented"
    while read -r s opt; do
        [ -n "${opt:-}" ] || { opt=$s; s=""; }
        checks=$((checks + 1))
        # No positional argument: no network, a usage error at worst.
        # shellcheck disable=SC2086
        timeout 20 "$BIN" "$cmd" $s "$opt" </dev/null >/dev/null 2>"$T/err" || true
        if grep -q "unknown option" "$T/err"; then
            fail "completion offers $opt for mxtls $cmd $s, which rejects it: $(head -1 "$T/err")"
        fi
    done <"$T/offered.$cmd"
done
finish
