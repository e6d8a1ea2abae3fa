#!/bin/sh
# install.sh - mxtls installed as a user gets it works from where it lands:
#
#   install.sh deb DIR                   scripts/package.sh builds the .deb in
#                                        DIR; dpkg -x unpacks it in a scratch root
#   install.sh destdir BUILD PREFIX LIBDIR SYSCONFDIR
#                                        DESTDIR=scratch cmake --install BUILD
#
# Then, in the scratch root: every file in its place, the library's SONAME
# and exports, 'mxtls --version', 'man -w' of mxtls(1) and of a page per
# command of docs/cli.md (MANPATH of the root), 'pkg-config --cflags --libs
# mxtls' (PKG_CONFIG_SYSROOT_DIR: the .pc file says /usr, the root has it
# under the scratch directory), a tiny C program built against the shared
# library and against the static one (with the libraries Requires.private
# names) and run, the bash completion, and the systemd unit
# (systemd-analyze verify, and security: its sandbox).
#
# Why dpkg -x and not dpkg --root -i: the data dpkg installs is exactly what
# dpkg -x unpacks, while dpkg --root needs a dpkg database in the root, where
# none of the dependencies is installed (only --force-depends would get past
# that, which is not checking them), and runs the maintainer scripts
# (ldconfig) chrooted into a root that has no ldconfig. The control part is
# checked here instead: Depends names the package of every library the ELF
# files need, and each is installed on this system at the version asked;
# /etc/mxtls/policyd.conf is a conffile; nothing is under /usr/local.
#
# No network, no root needed (beyond what building needs). Environment (set
# by CTest): MXTLS_SOURCE_DIR, MXTLS_VERSION.
set -eu
SRC=${MXTLS_SOURCE_DIR:?MXTLS_SOURCE_DIR is not set}
VERSION=${MXTLS_VERSION:?MXTLS_VERSION is not set}
T=$(mktemp -d "${TMPDIR:-/tmp}/mxtls-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
R=$T/root
fails=0
checks=0

fail() {
    fails=$((fails + 1))
    printf 'FAIL: %s\n' "$*" >&2
}

# ok DESCRIPTION COMMAND... - COMMAND succeeds
ok() {
    d=$1
    shift
    checks=$((checks + 1))
    "$@" >"$T/cmd.out" 2>&1 || { fail "$d: $*"; sed 's/^/  | /' "$T/cmd.out" | head -20 >&2; }
}

# is DESCRIPTION GOT WANT - GOT is exactly WANT
is() {
    checks=$((checks + 1))
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# has DESCRIPTION TEXT WORD - WORD is one of the words of TEXT
has() {
    checks=$((checks + 1))
    case " $2 " in *" $3 "*) ;; *) fail "$1: '$3' not in '$2'" ;; esac
}

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

mode=${1:-}
case "$mode" in
deb)
    [ $# -eq 2 ] || { echo "usage: install.sh deb DIR" >&2; exit 2; }
    deb=$(sh "$SRC/scripts/package.sh" "$2" | tail -n 1)
    P=/usr
    L=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
    S=/etc
    is "package file" "$(basename "$deb")" "mxtls_${VERSION}_$(dpkg --print-architecture).deb"
    is "Package" "$(dpkg-deb -f "$deb" Package)" mxtls
    is "Version" "$(dpkg-deb -f "$deb" Version)" "$VERSION"
    is "Architecture" "$(dpkg-deb -f "$deb" Architecture)" "$(dpkg --print-architecture)"
    is "Section" "$(dpkg-deb -f "$deb" Section)" net
    is "Priority" "$(dpkg-deb -f "$deb" Priority)" optional
    checks=$((checks + 1))
    dpkg-deb -f "$deb" Maintainer | grep -qE '^.+ <[^>]+@[^>]+>$' || fail "Maintainer is not 'Name <address>'"
    checks=$((checks + 1))
    [ "$(dpkg-deb -f "$deb" Description | wc -l)" -ge 3 ] || fail "Description has no long text"
    mkdir "$T/control"
    dpkg-deb -e "$deb" "$T/control"
    is "conffiles" "$(cat "$T/control/conffiles")" /etc/mxtls/policyd.conf
    ok "md5sums" test -s "$T/control/md5sums"
    checks=$((checks + 1))
    if dpkg-deb -c "$deb" | grep -q '\./usr/local'; then fail "files under /usr/local in the .deb"; fi
    dpkg -x "$deb" "$R"

    # Depends: the packages of the libraries the ELF files need ...
    depends=$(dpkg-deb -f "$deb" Depends)
    names=$(printf '%s\n' "$depends" | tr ',|' '\n\n' | sed 's/(.*//; s/ //g' | sed '/^$/d' | tr '\n' ' ')
    for elf in "$R$P/bin/mxtls" "$R$L/libmxtls.so.$VERSION"; do
        for so in $(needed "$elf"); do
            case "$so" in libmxtls.so.*) continue ;; esac
            # Packages with a file of that name (libc6, and libc6-i386 where
            # installed): Depends must name one of them.
            pkgs=$(dpkg -S "*/$so" 2>/dev/null | sed 's/: .*//' | tr ',' '\n' |
                sed 's/:.*//; s/ //g' | sort -u | tr '\n' ' ')
            checks=$((checks + 1))
            [ -n "$pkgs" ] || { fail "no package on this system has $so"; continue; }
            found=""
            for pkg in $pkgs; do
                case " $names " in *" $pkg "*) found=$pkg ;; esac
            done
            [ -n "$found" ] || fail "Depends ($names) names none of $pkgs (for $so of $(basename "$elf"))"
        done
    done
    # ... each installed here at the version asked (the first alternative).
    printf '%s\n' "$depends" | tr ',' '\n' | sed 's/|.*//' | while read -r dep; do
        name=${dep%% *}
        [ -n "$name" ] || continue
        inst=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
        if [ -z "$inst" ]; then echo "FAIL: Depends $dep: $name is not installed" >&2; echo x; continue; fi
        case "$dep" in
        *"("*)
            op=$(printf '%s' "$dep" | sed 's/.*(\([<>=]*\) *\([^)]*\)).*/\1/')
            ver=$(printf '%s' "$dep" | sed 's/.*(\([<>=]*\) *\([^)]*\)).*/\2/')
            dpkg --compare-versions "$inst" "$op" "$ver" ||
                { echo "FAIL: Depends $dep: $inst is installed" >&2; echo x; }
            ;;
        esac
    done >"$T/depfails"
    checks=$((checks + 1))
    [ ! -s "$T/depfails" ] || fails=$((fails + $(wc -l <"$T/depfails")))
    ;;
destdir)
    [ $# -eq 5 ] || { echo "usage: install.sh destdir BUILD PREFIX LIBDIR SYSCONFDIR" >&2; exit 2; }
    P=$3
    L=$4
    S=$5
    ok "cmake --install" env DESTDIR="$R" cmake --install "$2"
    ;;
*)
    echo "usage: install.sh deb DIR | destdir BUILD PREFIX LIBDIR SYSCONFDIR" >&2
    exit 2
    ;;
esac

# The files, in their FHS places.
for f in "$P/bin/mxtls" "$L/libmxtls.a" "$L/libmxtls.so.$VERSION" "$P/include/mxtls.h" \
    "$L/pkgconfig/mxtls.pc" "$P/share/bash-completion/completions/mxtls" \
    "$P/lib/systemd/system/mxtls-policyd.service" \
    "$P/share/doc/mxtls/examples/policyd.conf.example" \
    "$P/share/doc/mxtls/examples/postfix-main.cf.example" "$S/mxtls/policyd.conf" \
    "$P/share/doc/mxtls/README.md" "$P/share/doc/mxtls/docs/cli.md" \
    "$P/share/doc/mxtls/docs/policies.md"; do
    ok "installed $f" test -f "$R$f"
done
is "libmxtls.so" "$(readlink "$R$L/libmxtls.so")" libmxtls.so.0
is "libmxtls.so.0" "$(readlink "$R$L/libmxtls.so.0")" "libmxtls.so.$VERSION"
is "SONAME" "$(readelf -d "$R$L/libmxtls.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" libmxtls.so.0
ok "exports" sh "$SRC/scripts/check-exports.sh" "$R$L/libmxtls.so.$VERSION" "$R$P/include/mxtls.h"

# The command.
is "mxtls --version" "$("$R$P/bin/mxtls" --version)" "mxtls $VERSION"

# The manual: mxtls(1), and one page per command of docs/cli.md.
export MANPATH="$R$P/share/man"
is "man -w mxtls" "$(man -w mxtls 2>&1)" "$R$P/share/man/man1/mxtls.1.gz"
for c in $(sed -n 's/^## `mxtls \([a-z0-9-]*\)`.*/\1/p' "$SRC/docs/cli.md"); do
    is "man -w mxtls-$c" "$(man -w "mxtls-$c" 2>&1)" "$R$P/share/man/man1/mxtls-$c.1.gz"
done
checks=$((checks + 1))
MANWIDTH=100 man mxtls-verify 2>/dev/null | grep -q -- '--chain FILE: PEM certificates, leaf first' ||
    fail "man mxtls-verify does not show the --chain text of docs/cli.md"
checks=$((checks + 1))
MANWIDTH=200 man mxtls-dns 2>/dev/null | grep -qF "named in this page are installed in $P/share/doc/mxtls/docs." ||
    fail "man mxtls-dns does not say where docs/*.md are"
checks=$((checks + 1))
MANWIDTH=100 man mxtls 2>/dev/null | grep -qE '^ +mxtls-verify\(1\)$' ||
    fail "man mxtls does not list mxtls-verify(1)"

# pkg-config, from the root's mxtls.pc.
PCPATH="$R$L/pkgconfig:$(pkg-config --variable pc_path pkg-config)"
pc() { env PKG_CONFIG_SYSROOT_DIR="$R" PKG_CONFIG_LIBDIR="$PCPATH" pkg-config "$@"; }
ok "pkg-config --validate" pc --validate mxtls
is "pkg-config --modversion" "$(pc --modversion mxtls)" "$VERSION"
is "pkg-config --libs" "$(pc --libs mxtls | sed 's/ *$//')" "-L$R$L -lmxtls"
has "pkg-config --cflags --libs" "$(pc --cflags --libs mxtls)" "-I$R$P/include"
has "pkg-config --cflags --libs" "$(pc --cflags --libs mxtls)" "-L$R$L"
has "pkg-config --cflags --libs" "$(pc --cflags --libs mxtls)" "-lmxtls"

# A program against the shared library ...
want="mxtls $VERSION: may pass, encrypt fail"
# shellcheck disable=SC2046
ok "cc (shared)" cc -std=c11 -Wall -Wextra -Werror -o "$T/tiny-shared" "$SRC/tests/install/tiny.c" \
    $(pc --cflags --libs mxtls)
has "NEEDED (shared)" "$(needed "$T/tiny-shared" | tr '\n' ' ')" libmxtls.so.0
is "tiny (shared)" "$(LD_LIBRARY_PATH="$R$L" "$T/tiny-shared" 2>&1)" "$want"
checks=$((checks + 1))
LD_LIBRARY_PATH="$R$L" ldd "$T/tiny-shared" | grep -qF "libmxtls.so.0 => $R$L/libmxtls.so.0" ||
    fail "tiny (shared) did not load the root's libmxtls.so.0"
# ... and against the static one, with the libraries of Requires.private
# (shared: Debian ships no static build of every library those link) and
# Libs.private.
private=$(sed -n 's/^Libs.private: *//p' "$R$L/pkgconfig/mxtls.pc")
# shellcheck disable=SC2046,SC2086
ok "cc (static)" cc -std=c11 -Wall -Wextra -Werror -o "$T/tiny-static" "$SRC/tests/install/tiny.c" \
    $(pc --cflags mxtls) "$R$L/libmxtls.a" $(pkg-config --libs $(pc --print-requires-private mxtls)) \
    $private
checks=$((checks + 1))
if needed "$T/tiny-static" | grep -q libmxtls; then fail "tiny (static) needs libmxtls.so"; fi
is "tiny (static)" "$("$T/tiny-static" 2>&1)" "$want"

# The bash completion, running the root's binary.
checks=$((checks + 1))
out=$(cd "$T" && PATH="$R$P/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(mxtls ver); COMP_CWORD=1; _mxtls
    printf "%s\n" "${COMPREPLY[@]}"' completion "$R$P/share/bash-completion/completions/mxtls")
is "completion of 'mxtls ver'" "$out" verify

# The systemd unit: its ExecStart names the installed binary; verified with
# the root's binary (and manual pages) in that place.
checks=$((checks + 1))
grep -qxF "ExecStart=/usr/bin/mxtls policyd --listen unix:/run/mxtls/policyd.sock --cache /var/lib/mxtls/policyd.sqlite --config /etc/mxtls/policyd.conf" \
    "$R$P/lib/systemd/system/mxtls-policyd.service" || fail "the unit's ExecStart is not the documented one"
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir "$T/unit"
    sed "s|/usr/bin/mxtls|$R$P/bin/mxtls|" "$R$P/lib/systemd/system/mxtls-policyd.service" \
        >"$T/unit/mxtls-policyd.service"
    ok "systemd-analyze verify" systemd-analyze verify "$T/unit/mxtls-policyd.service"
    # The sandbox: systemd's exposure score at most 2.0 of 10 (it is 1.4).
    ok "systemd-analyze security (exposure <= 2.0)" \
        systemd-analyze security --offline=yes --threshold=20 "$T/unit/mxtls-policyd.service"
else
    fail "systemd-analyze not found (scripts/deps.sh installs systemd)"
fi

echo "install.sh $mode: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
