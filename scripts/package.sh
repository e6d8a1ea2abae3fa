#!/bin/sh
# package.sh [BUILDDIR] - build the Debian package (mxtls_VERSION_ARCH.deb)
#
# Configures BUILDDIR (default build-deb) for the prefix /usr, where
# GNUInstallDirs picks Debian's paths (lib/x86_64-linux-gnu, /etc), builds
# what the package holds (the binary, both libraries, the manual pages) and
# runs cpack -G DEB there (packaging/CMakeLists.txt has its settings). Prints
# the package's path on its last line. docs/install.md describes the package.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build-deb}
# The install step must not build the whole tree (tests, fuzz and bench
# targets): only the targets below, built first.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DMXTLS_WERROR=ON -DMXTLS_TESTS=OFF -DMXTLS_SANITIZE=OFF -DMXTLS_FUZZ=OFF \
    -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" --target mxtls mxtls_shared mxtls_static man >/dev/null
rm -f "$dir"/mxtls_*.deb
(cd "$dir" && cpack -G DEB >cpack.log 2>&1) || { cat "$dir/cpack.log" >&2; exit 1; }
set -- "$dir"/mxtls_*.deb
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "package.sh: cpack made no single .deb in $dir" >&2
    exit 1
fi
echo "$1"
