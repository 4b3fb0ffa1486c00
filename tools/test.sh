#!/usr/bin/env bash
# Sets up and builds dkv, then runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cd "${DKV_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
