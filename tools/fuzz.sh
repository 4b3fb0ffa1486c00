#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang into build-fuzz/ and runs each for
# SECONDS (default 30: the CI smoke run), one after another on one core, from a copy of its
# committed seed corpus. Prints each target's final libFuzzer stats (execs, cov, ft).
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]      (e.g. tools/fuzz.sh 600 results_file)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-30}
shift || true
BUILD=${DKV_FUZZ_BUILD_DIR:-build-fuzz}
if ! command -v clang++ >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang >/dev/null
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors_header tokenizer_json gguf yaml_config dataset_line results_file)
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDKV_FUZZ=ON \
    -DDKV_WITH_TESTS=OFF -DDKV_WITH_CUDA=OFF >/dev/null
fi
cmake --build "$BUILD" -j "${DKV_FUZZ_JOBS:-$(nproc)}" $(printf -- '--target fuzz_%s ' "${targets[@]}")
# LibTorch's own allocations at exit are not dkv's leaks (see the file for each entry).
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
# The results reader parses unverified HDF5 in a child with this time limit (HDF5 can loop on a
# damaged file); below libFuzzer's -timeout so that a refused input is not reported as a hang.
export DKV_HDF5_PROBE_SECONDS=2
status=0
for t in "${targets[@]}"; do
  work=$BUILD/fuzz-run/$t
  rm -rf "$work"; mkdir -p "$work/corpus" "$work/artifacts"
  cp tests/fuzz/corpus/$t/* "$work/corpus/"
  echo "== fuzz_$t for ${SECONDS_EACH}s"
  if ! "$BUILD/tests/fuzz/fuzz_$t" "$work/corpus" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts/" >"$work/log" 2>&1; then
    echo "FAIL: fuzz_$t found a crash, leak or hang: $(ls "$work/artifacts")"; tail -n 40 "$work/log"; status=1
  fi
  grep -E "^#[0-9]+.*(DONE|pulse)" "$work/log" | tail -n 1 || true
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/log" || true
done
exit $status
