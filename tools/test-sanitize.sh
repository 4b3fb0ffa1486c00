#!/usr/bin/env bash
# The CPU test suite under AddressSanitizer + UndefinedBehaviorSanitizer: dkv and its tests
# built with -DDKV_SANITIZE=ON (clang) into build-sanitize/, then ctest on the cpu-labelled
# cases except the golden comparisons against Python references and the long end-to-end runs
# (same code paths as the cases kept; they triple the time under ASan). The GGUF reader's cases
# stay in (untrusted input, fast); only the comparisons with HF on the real SmolLM2 and
# gemma-3-270m (Python references of several minutes) are left out.
# LibTorch and the system libraries are not instrumented; their process-lifetime allocations
# are suppressed in tests/lsan.supp (one reason per line).
# Usage: tools/test-sanitize.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${DKV_SANITIZE_BUILD_DIR:-build-sanitize}
if ! command -v clang++ >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang >/dev/null
fi
if [ ! -f "$BUILD/build.ninja" ]; then
  # DKV_FUZZ too: the same instrumented libraries then also serve the fuzz targets
  # (DKV_FUZZ_BUILD_DIR=build-sanitize tools/fuzz.sh), one build instead of two in CI; code
  # built with -fsanitize=fuzzer-no-link links and runs without libFuzzer under ASan.
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDKV_SANITIZE=ON \
    -DDKV_FUZZ=ON -DDKV_WITH_CUDA=OFF >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" --target dkv dkv_tests
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
cd "$BUILD"
ctest -L cpu -j "$(nproc)" --output-on-failure --timeout 600 \
  -E "${DKV_SANITIZE_EXCLUDE:-Golden|HfGolden|Embedding|RunEndToEnd|gguf\.smollm2|bench|real_chat_templates|parquet|gemma3\.real}" "$@"
