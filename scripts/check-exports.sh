#!/bin/sh
# check-exports.sh LIBMXTLS.SO MXTLS.H - the shared library's dynamic symbol
# table is the public API, exactly.
#
# Fails (exit 1, with a list) when libmxtls.so exports a symbol that does not
# start with mxtls_ (an internal function leaking: the library is built with
# -fvisibility=hidden and only MXTLS_API declarations are exported), or when a
# function named in include/mxtls.h is not exported (a declaration without
# MXTLS_API, or without a definition).
set -eu
[ $# -eq 2 ] || { echo "usage: check-exports.sh LIBMXTLS.SO MXTLS.H" >&2; exit 2; }
lib=$1
header=$2
[ -f "$lib" ] || { echo "check-exports: no library at $lib" >&2; exit 2; }
[ -f "$header" ] || { echo "check-exports: no header at $header" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Defined dynamic symbols: "VALUE TYPE NAME[@VERSION]".
nm -D --defined-only "$lib" | awk 'NF >= 3 {sub(/@.*/, "", $3); print $3}' | sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || { echo "check-exports: nm found no exported symbol in $lib" >&2; exit 1; }
# Every function the header names, declarations and usage examples alike.
grep -oE '\bmxtls_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || { echo "check-exports: no function found in $header" >&2; exit 1; }

status=0
leaks=$(grep -v '^mxtls_' "$tmp/exported" || true)
if [ -n "$leaks" ]; then
    echo "exported symbols that are not the public API (not mxtls_):"
    echo "$leaks" | sed 's/^/  /'
    status=1
fi
internal=$(comm -23 "$tmp/exported" "$tmp/declared" | grep '^mxtls_' || true)
if [ -n "$internal" ]; then
    echo "exported mxtls_ symbols that include/mxtls.h does not declare:"
    echo "$internal" | sed 's/^/  /'
    status=1
fi
missing=$(comm -13 "$tmp/exported" "$tmp/declared")
if [ -n "$missing" ]; then
    echo "functions of include/mxtls.h that the library does not export (MXTLS_API missing?):"
    echo "$missing" | sed 's/^/  /'
    status=1
fi
[ "$status" -eq 0 ] && echo "exports: $(wc -l <"$tmp/exported") symbols, all declared in $(basename "$header")"
exit "$status"
