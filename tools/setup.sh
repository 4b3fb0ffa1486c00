#!/usr/bin/env bash
# Installs dkv's Debian dependencies (when missing) and builds it into build/.
# Safe to re-run: installed packages and an existing build are reused.
# Usage: tools/setup.sh [TARGET...]   (default: everything, tests included)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-pthread   # without OpenBLAS LibTorch uses the reference BLAS (~10x slower)
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
  libyaml-cpp-dev libgtest-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libicu-dev libboost-math-dev libcairo2-dev
  python3-venv python3-torch python3-scipy python3-pandas
  chromium                            # headless, for the report.html test (tests/report_html/)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

BUILD=${DKV_BUILD_DIR:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release ${DKV_CMAKE_ARGS:-} >/dev/null
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$BUILD" -j "$(nproc)" "${targets[@]}"
