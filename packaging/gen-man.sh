#!/bin/sh
# gen-man.sh CLI.MD OUTDIR VERSION [MXTLS [DOCDIR]] - the manual pages, from docs/cli.md
#
# docs/cli.md is the only copy of the option text: every section titled
# "## `mxtls NAME`" becomes mxtls-NAME(1), and the rest (the introduction, the
# exit codes) becomes mxtls(1), which lists the commands. A command added to
# docs/cli.md is a new page at the next build, with no list to edit here.
# MXTLS, when given, is the built binary: the one-line summaries of NAME come
# from its command table ('mxtls --help'), the same ones the CLI prints.
# DOCDIR, when given, is where the docs/*.md files the pages cite are
# installed; SEE ALSO says so.
# Pages are written gzip -9n (Debian policy; reproducible: no name, no time).
set -eu
[ $# -ge 3 ] || { echo "usage: gen-man.sh CLI.MD OUTDIR VERSION [MXTLS]" >&2; exit 2; }
src=$1
out=$2
version=$3
bin=${4:-}
docdir=${5:-}
[ -f "$src" ] || { echo "gen-man: no file $src" >&2; exit 2; }
command -v pandoc >/dev/null 2>&1 || {
    echo "gen-man: pandoc not found (sh scripts/deps.sh installs it)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Split: general.md, and cmd-NAME.md per command section with its headings
# lifted one level (### becomes a subsection of DESCRIPTION). Headings inside
# code blocks are text.
awk -v dir="$tmp" '
    /^```/ { fence = !fence }
    !fence && /^# / && !seen_title { seen_title = 1; next }
    !fence && /^## `mxtls [a-z0-9-]+`/ {
        name = $0; sub(/^## `mxtls /, "", name); sub(/`.*/, "", name)
        file = dir "/cmd-" name ".md"; print name >> (dir "/commands"); next }
    !fence && /^## / { file = dir "/general.md"; sub(/^## /, "# "); print toupper($0) > file; next }
    !fence && /^###/ { sub(/^#/, "") }
    { print > (file ? file : dir "/general.md") }
' "$src"
[ -s "$tmp/commands" ] || { echo "gen-man: no '## \`mxtls NAME\`' section in $src" >&2; exit 1; }

# summary NAME - the command's line in 'mxtls --help', if any
summary() {
    s=""
    if [ -n "$bin" ]; then
        s=$("$bin" --help </dev/null | awk -v n="$1" '$1 == n { $1 = ""; sub(/^ +/, ""); print; exit }')
    fi
    printf '%s\n' "${s:-the mxtls $1 command}"
}

# see_also [NAME] - the other pages (all the command pages for mxtls(1))
see_also() {
    sep=""
    if [ -n "${1:-}" ]; then printf '**mxtls**(1)'; sep=", "; fi
    while read -r other; do
        [ "$other" = "${1:-}" ] && continue
        printf '%s**mxtls-%s**(1)' "$sep" "$other"
        sep=", "
    done <"$tmp/commands"
    printf '\n'
    if [ -n "$docdir" ]; then
        printf '\nThe files docs/*.md named in this page are installed in %s/docs.\n' "$docdir"
    fi
}

# render PAGE TITLE MD - PAGE.1.gz from MD
render() {
    pandoc -s -f gfm -t man -M title="$2" -M section=1 -M header="mxtls manual" \
        -M footer="mxtls $version" "$3" -o "$tmp/$1.1"
    gzip -9n <"$tmp/$1.1" >"$out/$1.1.gz"
}

mkdir -p "$out"
rm -f "$out"/*.1.gz
while read -r c; do
    {
        printf '# NAME\n\nmxtls-%s - %s\n\n# DESCRIPTION\n\n' "$c" "$(summary "$c")"
        cat "$tmp/cmd-$c.md"
        printf '\n# EXIT STATUS\n\n0 pass, 1 policy failure, 2 usage or input error, '
        printf '3 temporary failure, 4 local failure: **mxtls**(1) says more.\n'
        printf '\n# SEE ALSO\n\n'
        see_also "$c"
    } >"$tmp/page-$c.md"
    render "mxtls-$c" "MXTLS-$(printf '%s' "$c" | tr '[:lower:]' '[:upper:]')" "$tmp/page-$c.md"
done <"$tmp/commands"
{
    printf '# NAME\n\nmxtls - can senders deliver to a mail domain over TLS, and trust the certificate?\n\n'
    printf '# DESCRIPTION\n\n'
    cat "$tmp/general.md"
    printf '\n# COMMANDS\n\n'
    while read -r c; do
        printf '**mxtls-%s**(1)\n:   %s\n\n' "$c" "$(summary "$c")"
    done <"$tmp/commands"
    printf '# SEE ALSO\n\n'
    see_also
} >"$tmp/page.md"
# gfm has no definition lists: the command list is written for pandoc markdown.
pandoc -s -f markdown-smart -t man -M title=MXTLS -M section=1 -M header="mxtls manual" \
    -M footer="mxtls $version" "$tmp/page.md" -o "$tmp/mxtls.1"
gzip -9n <"$tmp/mxtls.1" >"$out/mxtls.1.gz"
echo "gen-man: $(($(wc -l <"$tmp/commands") + 1)) pages in $out"
