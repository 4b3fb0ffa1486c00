// Raw-CUDA key re-rotation (no LibTorch): the kernel behind ops::rotate_keys_ for CUDA tensors,
// also built into a standalone test where nvcc exists. Shapes: B batch, H kv heads, T entries,
// D head_dim.
#pragma once

#include <cstdint>

#include "float_dtype.h"

namespace dkv::cuda {

struct RotateKeysParams {
  void* keys;              // [B, H, T, D], contiguous, dtype `dtype`, rotated in place
  const int64_t* delta;    // [B, T] position deltas (0 = leave the entry alone)
  const float* inv_freq;   // [D / 2] (cache::inv_freq: HF's fp32 frequencies, scaling applied)
  int64_t B, H, T, D;
  bool half_split;         // HF rotate_half pairs (i, i + D/2); else interleaved (2i, 2i + 1)
  FloatDtype dtype;
};

// Launches on `stream` (a cudaStream_t; 0 = default). Returns the cudaError_t of the launch.
int launch_rotate_keys(const RotateKeysParams& p, void* stream);

// Elements per vector access the launch will use for `p` (16 bytes' worth when the key pointer
// is 16-byte aligned and D / 2 is a multiple of it, else 1): reported by tests and benchmarks.
int rotate_keys_vector_width(const RotateKeysParams& p);

}  // namespace dkv::cuda
