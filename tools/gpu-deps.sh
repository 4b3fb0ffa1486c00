#!/usr/bin/env bash
# Downloads the Debian packages dkv's core build needs beyond what a GPU machine's image
# usually has (LibTorch, CUDA, CMake and ninja come with it): nlohmann-json, CLI11 and ICU.
# tools/gpu-check.sh OUT DIR unpacks them into a private prefix there. DIR is git-ignored.
# Usage: tools/gpu-deps.sh [DIR]   (default .gpu-deps)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-.gpu-deps}
mkdir -p "$DIR"
cd "$DIR"
apt-get download nlohmann-json3-dev libcli11-dev libicu-dev libicu72 >/dev/null
ls -la ./*.deb
