// Raw-CUDA weight dequantization (no LibTorch): the kernels behind ops::dequantize_nf4 and
// ops::dequantize_int8_rows for CUDA tensors, also built into a standalone test.
#pragma once

#include <cstdint>

#include "float_dtype.h"
#include "nf4_scales.cuh"

namespace dkv::cuda {

struct DequantizeNf4Params {
  const uint8_t* packed;  // [ceil(numel / 2)]: element 2j in the high nibble of byte j
  Nf4ScaleSource scales;  // ceil(numel / blocksize) blocks
  void* out;              // [numel], dtype `dtype`
  int64_t numel, blocksize;  // blocksize even (bitsandbytes: 64)
  float code[16];         // the 4-bit code (ops::nf4_code()), passed by value
  FloatDtype dtype;
};

struct DequantizeInt8Params {
  const int8_t* q;     // [rows, cols]
  const float* scale;  // [rows]
  void* out;           // [rows, cols], dtype `dtype`
  int64_t rows, cols;
  FloatDtype dtype;
};

// Launch on `stream` (a cudaStream_t; 0 = default); return the cudaError_t of the launch.
int launch_dequantize_nf4(const DequantizeNf4Params& p, void* stream);
int launch_dequantize_int8_rows(const DequantizeInt8Params& p, void* stream);

}  // namespace dkv::cuda
