#!/usr/bin/env bash
# Installs what ferry needs to build, test and run, from Debian 12 packages only.
# Idempotent: when everything is present it only asks dpkg and returns in well under a second.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config make
  librdkafka-dev libhiredis-dev libssl-dev libmimalloc-dev
  libboost1.81-dev nlohmann-json3-dev doctest-dev
  redis-server redis-tools kcat curl procps wrk openssl
  dpkg-dev file  # cpack -G DEB: dpkg-shlibdeps, and file to find the binaries
  clang-14 libclang-rt-14-dev
  python3 python3-confluent-kafka python3-redis
  chromium fonts-dejavu-core python3-websocket  # tests/integration/test_ui.py drives /ui headless
  valgrind  # bench/metrics_overhead.py --callgrind, smoke-tested in the suite
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Boost 1.81 conflicts with Debian's default libboost-dev (1.74): only the 1.81 packages are named.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
