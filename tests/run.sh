#!/usr/bin/env bash
# Installs dependencies, builds ferry twice (optimised, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), and runs every test of both builds through ctest.
# Exit status: 0 only when every test passed in both builds.
#   FERRY_SKIP_ASAN=1 tests/run.sh   runs the optimised build only (quicker local runs).
#   FERRY_SKIP_FUZZ=1 tests/run.sh   skips the short libFuzzer runs (clang-14; fuzz/README.md);
#   FERRY_FUZZ_SECONDS=N             runs each fuzzer N s instead of 30.
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
  export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  run_tests build-asan
fi

if [[ "${FERRY_SKIP_FUZZ:-0}" != "1" ]]; then
  # Each libFuzzer target briefly, from a scratch copy of its committed corpus; a crash, sanitizer
  # report, leak or broken invariant fails the script and leaves the reproducer in the scratch dir.
  # FERRY_WERROR=OFF: clang warns about GCC-only flags and librdkafka macros outside fuzz/.
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B build-fuzz -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_FUZZ=ON -DFERRY_BUILD_TESTS=OFF -DFERRY_WERROR=OFF \
    >/dev/null
  ninja -C build-fuzz -j "$jobs" ferry-fuzz-http ferry-fuzz-properties
  fuzz_scratch=$(mktemp -d /tmp/ferry-fuzz.XXXXXX)
  for target in http properties; do
    cp -r "fuzz/corpus/$target" "$fuzz_scratch/corpus-$target"
    if ! ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:halt_on_error=1" \
      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
      "build-fuzz/fuzz/ferry-fuzz-$target" -max_total_time="${FERRY_FUZZ_SECONDS:-30}" -timeout=25 \
      -dict="fuzz/$target.dict" -artifact_prefix="$fuzz_scratch/$target-" \
      "$fuzz_scratch/corpus-$target" >"$fuzz_scratch/$target.log" 2>&1; then
      tail -n 60 "$fuzz_scratch/$target.log"
      echo "tests/run.sh: ferry-fuzz-$target found a problem; log and reproducer in $fuzz_scratch"
      exit 1
    fi
    echo "ferry-fuzz-$target: $(grep -a 'DONE' "$fuzz_scratch/$target.log" | tail -n 1)"
  done
  rm -rf "$fuzz_scratch"
fi
echo "tests/run.sh: all tests passed in $(( $(date +%s) - start )) s"
