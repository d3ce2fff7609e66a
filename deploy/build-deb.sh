#!/usr/bin/env bash
# Builds a Debian package of ferry with dpkg-deb: ferry-worker and ferry-kafka-dev in /usr/bin,
# systemd units ferry-worker.service and ferry-worker@.service, /etc/ferry/worker.properties
# (a conffile) and example connectors, a system user `ferry` made by postinst.
#
#   deploy/build-deb.sh [BUILD_DIR] [OUT_DIR]
#
# BUILD_DIR (default build-release) is configured (Release) and built when it has no
# ferry-worker yet; the binaries are stripped into the package. OUT_DIR (default .) receives
# ferry_<version>_<arch>.deb, whose path is the last line printed. Needs dpkg-dev (dpkg-deb,
# dpkg-shlibdeps); no root and no fakeroot (dpkg-deb --root-owner-group).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$repo/build-release}"
out="${2:-.}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [[ ! -x "$build/ferry-worker" || ! -x "$build/ferry-kafka-dev" ]]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$build" ferry-worker ferry-kafka-dev
fi

version="$(sed -n 's/^project(ferry VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")"
[[ -n "$version" ]] || { echo "build-deb: no version in CMakeLists.txt" >&2; exit 1; }
arch="$(dpkg --print-architecture)"

stage="$(mktemp -d "${TMPDIR:-/tmp}/ferry-deb-XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
src="$repo/deploy/debian"

install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/ferry" \
  "$root/usr/share/doc/ferry/examples" "$root/usr/share/man/man1"
install -m 0755 -s "$build/ferry-worker" "$build/ferry-kafka-dev" "$root/usr/bin/"
install -m 0644 "$src/ferry-worker.service" "$src/ferry-worker@.service" "$root/lib/systemd/system/"
install -m 0640 "$src/worker.properties" "$root/etc/ferry/worker.properties"
install -m 0644 "$src/orders-source.properties" "$src/orders-sink.properties" \
  "$root/usr/share/doc/ferry/examples/"
install -m 0644 "$repo/README.md" "$root/usr/share/doc/ferry/README.md"
# Manual pages: the --help texts (written as manual pages) as preformatted troff.
for program in ferry-worker ferry-kafka-dev; do
  {
    echo ".TH ${program^^} 1 \"\" \"ferry $version\" \"User Commands\""
    echo ".nf"
    "$root/usr/bin/$program" --help | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
    echo ".fi"
  } | gzip -9n >"$root/usr/share/man/man1/$program.1.gz"
done
install -m 0755 "$src/postinst" "$src/prerm" "$src/postrm" "$root/DEBIAN/"
echo "/etc/ferry/worker.properties" >"$root/DEBIAN/conffiles"

# Library dependencies from the binaries themselves.
mkdir -p "$stage/debian"
printf 'Source: ferry\n\nPackage: ferry\nArchitecture: any\n' >"$stage/debian/control"
depends="$(cd "$stage" && dpkg-shlibdeps -O "$root/usr/bin/ferry-worker" \
  "$root/usr/bin/ferry-kafka-dev" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[[ -n "$depends" ]] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

cat >"$root/DEBIAN/control" <<CONTROL
Package: ferry
Version: $version
Architecture: $arch
Maintainer: ferry maintainers <ferry@localhost>
Section: net
Priority: optional
Depends: $depends, adduser
Recommends: redis-server
Installed-Size: $(du -sk "$root" | cut -f1)
Homepage: https://github.com/ferry/ferry
Description: Kafka Connect compatible worker moving data between Redis and Kafka
 ferry-worker runs Redis sources and a Redis sink with Kafka
 Connect's worker settings and REST API and redis-kafka-connect's connector classes and keys.
 Exactly-once sink, Prometheus metrics (GET /metrics), JSON logs, GET /health.
 ferry-kafka-dev is an in-memory development Kafka broker for tests and demos.
 .
 The package runs one worker as ferry-worker.service (/etc/ferry/worker.properties) and any
 number as ferry-worker@NAME.service (/etc/ferry/NAME.properties), as the user ferry.
CONTROL

deb="$out/ferry_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
