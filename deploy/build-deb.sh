#!/usr/bin/env bash
# Builds the Debian package with CPack (the rules are in cmake/packaging.cmake):
#
#   deploy/build-deb.sh [BUILD_DIR] [OUT_DIR]
#
# BUILD_DIR (default build-release) is configured as a Release build when it has no CMakeCache.txt,
# then the programs and their manual pages are built and `cpack -G DEB` writes
# ferry_<version>_<arch>.deb into OUT_DIR (default .); its path is the last line printed.
# The same as `cd BUILD_DIR && cpack -G DEB` after a build. Needs dpkg-dev (dpkg-shlibdeps) and
# file (deploy/install-deps.sh); no root and no fakeroot.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build-release}"
out="${2:-.}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target ferry-man-pages >&2
log="$(cd "$build" && cpack -G DEB -B "$out")"
echo "$log" >&2
rm -rf "$out/_CPack_Packages"
deb="$(sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p' <<<"$log")"
[[ -f "$deb" ]] || { echo "build-deb: cpack made no .deb" >&2; exit 1; }
echo "$deb"
