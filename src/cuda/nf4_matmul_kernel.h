// Raw-CUDA fused NF4 dequantize-and-multiply for a few rows of activations (decode steps):
// y[T, N] = x[T, K] @ W[N, K]^T with W read as packed 4-bit codes, never expanded in memory.
#pragma once

#include <cstdint>

#include "float_dtype.h"
#include "nf4_scales.cuh"

namespace dkv::cuda {

constexpr int64_t kNf4MatmulMaxRows = 8;  // T above this: expand W and use cuBLAS instead

struct Nf4MatmulParams {
  const void* x;          // [T, K], dtype `dtype`, contiguous
  const uint8_t* packed;  // W's codes, row-major [N, K], element 2j in the high nibble of byte j
  Nf4ScaleSource scales;  // N * K / blocksize blocks
  void* y;                // [T, N], dtype `dtype`
  int64_t T, N, K, blocksize;  // T <= kNf4MatmulMaxRows, K % 8 == 0, blocksize % 8 == 0
  float code[16];
  FloatDtype dtype;
};

// Checks the shape conditions above and the packed pointer's 4-byte alignment, then launches on
// `stream`; returns the cudaError_t (cudaErrorInvalidValue when a condition fails).
int launch_nf4_matmul(const Nf4MatmulParams& p, void* stream);

}  // namespace dkv::cuda
