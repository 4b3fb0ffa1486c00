#!/usr/bin/env bash
# Compiles dkv's core library, CUDA kernels and LibTorch CUDA launchers included, against a
# current LibTorch 2.x with CUDA: the headers and CMake config of PyPI's torch wheel (the Linux
# wheel is the CUDA build) and this machine's nvcc. Nothing is linked or run, so no GPU and
# none of the nvidia-* runtime wheels are needed. Debian's LibTorch 1.13 (CPU) covers the other
# end of the supported range in the main build.
# Usage: tools/check-torch2-build.sh [WORKDIR]   (default build/torch2; TORCH_VERSION=2.15.0)
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION=${TORCH_VERSION:-2.15.0}
WORK=$(realpath -m "${1:-build/torch2}")
NVCC=${CUDACXX:-/usr/local/cuda/bin/nvcc}
[ -x "$NVCC" ] || { echo "check-torch2-build: no nvcc at $NVCC (set CUDACXX)"; exit 1; }
[ -x .venv/bin/pip ] || tools/setup-python.sh
mkdir -p "$WORK"
if [ ! -f "$WORK/torch/share/cmake/Torch/TorchConfig.cmake" ]; then
  .venv/bin/pip download -q --no-deps "torch==$TORCH_VERSION" -d "$WORK/wheel"
  .venv/bin/python - "$WORK" "$WORK"/wheel/torch-"$TORCH_VERSION"-*.whl <<'PY'
import sys, zipfile  # headers, CMake config and the libraries TorchConfig.cmake looks for
with zipfile.ZipFile(sys.argv[2]) as wheel:
    wheel.extractall(sys.argv[1], [n for n in wheel.namelist()
                                   if n.startswith(("torch/include/", "torch/share/", "torch/lib/"))])
PY
fi
# CMAKE_PREFIX_PATH, not Torch_DIR: a Torch_DIR hint ranks below Debian's own Caffe2 config.
cmake -S . -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$WORK/torch" \
  -DDKV_WITH_EXPERIMENT=OFF -DDKV_WITH_TESTS=OFF -DDKV_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" \
  > "$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log"; exit 1; }
grep -q "LibTorch with CUDA ON" "$WORK/cmake.log" || { cat "$WORK/cmake.log"; echo "torch $TORCH_VERSION: CUDA launchers not enabled"; exit 1; }
ninja -C "$WORK/build" dkv_core
echo "dkv_core (kernels and CUDA launchers included) compiles against torch $TORCH_VERSION with $("$NVCC" --version | tail -1)"
