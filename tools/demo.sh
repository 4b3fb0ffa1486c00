#!/usr/bin/env bash
# Sets up and builds dkv, then runs the embedded demo: tiny generated models, no downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
BUILD=${DKV_BUILD_DIR:-build}
DEMO=${DKV_DEMO_DIR:-results/demo}
mkdir -p "$DEMO"
"$BUILD/dkv" make-tiny-model "$DEMO/model" --arch mistral --seed 1 --init-scale 0.1
"$BUILD/dkv" forward --model "$DEMO/model" --ids 1,20,30,40,50 --no-logits --top-k 3
