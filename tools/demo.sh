#!/usr/bin/env bash
# Sets up and builds dkv, then runs the embedded demo (configs/demo.yaml): a tiny random
# Mistral with a small trained SentencePiece-style tokenizer, a tiny random sentence-embedding
# BERT, and the synthetic MS MARCO sample in configs/data/. Nothing is downloaded.
# Extra arguments go to `dkv run` (e.g. --fresh).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh dkv  # the tool only: tools/test.sh builds the tests
BUILD=${DKV_BUILD_DIR:-build}
MODELS=results/demo/models
if [ ! -f "$MODELS/decoder/model.safetensors" ]; then
  "$BUILD/dkv" make-tiny-model "$MODELS/decoder" --arch mistral --seed 1 --init-scale 0.1 \
    --hidden 128 --intermediate 256 --layers 2 --heads 4 --kv-heads 2 --sliding-window 4096 \
    --tokenizer tests/data/tokenizers/mistral_sp
fi
if [ ! -f "$MODELS/embedding/model.safetensors" ]; then
  "$BUILD/dkv" make-tiny-model "$MODELS/embedding" --arch bert --seed 2
fi
"$BUILD/dkv" run configs/demo.yaml "$@"
