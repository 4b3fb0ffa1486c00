#!/usr/bin/env bash
# One prepared GPU check: builds dkv's core and CUDA kernels against the LibTorch inside a
# Python torch install, runs the kernel parity tests, the re-positioning kernel against a
# device copy, and prefill of a random Mistral-7B-shaped model in fp16 and NF4 next to the
# matmul roofline; writes at most seven logs to OUT. Usage: tools/gpu-check.sh OUT [DEPS]
# DEPS: a folder of Debian packages for machines without them installed (tools/gpu-deps.sh
# downloads nlohmann-json, CLI11 and ICU); they are unpacked into a private prefix, never into /.
# On the lent GPU machine: `tools/gpu-deps.sh` here, then run with carry [".gpu-deps"]:
#   tools/gpu-check.sh $OUT .gpu-deps
set -uo pipefail
OUT=${1:?usage: tools/gpu-check.sh OUT [DEPS]}
DEPS=${2:-}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "no nvidia-smi"
TORCH_PREFIX=${TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
PREFIX="$TORCH_PREFIX"
if [ -n "$DEPS" ]; then
  UNPACKED=$(mktemp -d)
  for deb in "$DEPS"/*.deb; do dpkg-deb -x "$deb" "$UNPACKED"; done
  PREFIX="$PREFIX;$UNPACKED/usr"
  export LD_LIBRARY_PATH="$UNPACKED/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DDKV_WITH_EXPERIMENT=OFF -DDKV_WITH_TESTS=OFF -DDKV_WITH_CUDA=ON || exit 1
cmake --build build-gpu -j "$(nproc)" || exit 1
(cd build-gpu && ctest -L cuda --output-on-failure) > "$OUT/kernel-tests.log" 2>&1
cat "$OUT/kernel-tests.log"
for dtype in fp16 bf16 fp32; do
  build-gpu/dkv bench rotate --device cuda --dtype "$dtype"
done > "$OUT/bench-rotate.log" 2>&1
cat "$OUT/bench-rotate.log"
for q in none nf4; do
  build-gpu/dkv bench forward --device cuda --dtype fp16 --shape mistral-7b --batch 4 --seq 1024 --quantization "$q"
done > "$OUT/bench-forward-mistral7b.log" 2>&1
cat "$OUT/bench-forward-mistral7b.log"
echo "logs in $OUT"
