// Weight dequantization: the CPU/CUDA seam for NF4 (bitsandbytes layout) and int8 weights.
// Each op has a LibTorch-free CPU reference loop (the specification the CUDA kernels are
// tested against) and a CUDA launcher; the device of the quantized data picks the path.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <utility>

#include "dkv/core/nf4_scales.h"

namespace dkv::ops {

// The NF4 code and the per-block absmax of NF4 data as stored (core/nf4_scales.h).
using ::dkv::nf4_code;
using Nf4Scales = ::dkv::Nf4Scales;

// The float32 [blocks] absmax, double quantization undone, where the data lives.
at::Tensor nf4_block_absmax(const Nf4Scales& scales);

// w[i] = nf4_code()[nibble i] * absmax[i / blocksize], cast to `dtype`.
//   packed: uint8 [ceil(numel / 2)], element 2j in the high nibble of byte j (bitsandbytes)
//   scales: ceil(numel / blocksize) blocks, same device
// Returns a flat [numel] tensor on that device. On CUDA the double-quantized absmax is undone
// inside the kernel.
at::Tensor dequantize_nf4(const at::Tensor& packed, const Nf4Scales& scales, int64_t numel,
                          int64_t blocksize, at::ScalarType dtype);

// The entry checks of dequantize_nf4 (dtypes, sizes, one device), for ops that read NF4 data.
void check_nf4(const at::Tensor& packed, const Nf4Scales& scales, int64_t numel, int64_t blocksize);

// bitsandbytes' 8-bit blockwise dequantization (used for the double-quantized NF4 absmax):
// out[i] = code[q[i]] * absmax[i / blocksize] + offset, float32.
//   q: uint8 [n]; code: float32 [256]; absmax: float32 [ceil(n / blocksize)]
at::Tensor dequantize_blockwise_8bit(const at::Tensor& q, const at::Tensor& code,
                                     const at::Tensor& absmax, int64_t blocksize, float offset);

// Per-output-channel int8: w[r, c] = q[r, c] * scale[r], cast to `dtype`.
//   q: int8 [rows, cols]; scale: float32 [rows]
at::Tensor dequantize_int8_rows(const at::Tensor& q, const at::Tensor& scale, at::ScalarType dtype);

// The CPU references behind the three ops (CPU tensors only).
at::Tensor dequantize_nf4_ref(const at::Tensor& packed, const at::Tensor& absmax, int64_t numel,
                              int64_t blocksize, at::ScalarType dtype);
at::Tensor dequantize_blockwise_8bit_ref(const at::Tensor& q, const at::Tensor& code,
                                         const at::Tensor& absmax, int64_t blocksize, float offset);
at::Tensor dequantize_int8_rows_ref(const at::Tensor& q, const at::Tensor& scale, at::ScalarType dtype);

}  // namespace dkv::ops
