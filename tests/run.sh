#!/usr/bin/env bash
# Installs dependencies, builds ferry twice (optimised, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), and runs every test of both builds through ctest.
# Exit status: 0 only when every test passed in both builds.
#   FERRY_SKIP_ASAN=1 tests/run.sh   runs the optimised build only (quicker local runs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

deploy/install-deps.sh

jobs=$(nproc)
build() {  # build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" -G Ninja -DFERRY_WERROR=ON "$@" >/dev/null
  ninja -C "$dir" -j "$jobs"
}
run_tests() {  # run_tests DIR
  (cd "$1" && ctest --output-on-failure --timeout 1200 --parallel 2)
}

start=$(date +%s)
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_tests build

if [[ "${FERRY_SKIP_ASAN:-0}" != "1" ]]; then
  build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=ON
  # librdkafka and the C runtime are not instrumented; leaks in our code are still reported.
  export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:halt_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  run_tests build-asan
fi
echo "tests/run.sh: all tests passed in $(( $(date +%s) - start )) s"
