// Launchers for dkv's CUDA kernels, called only from src/ops/ after the entry checks.
// Kernels see raw pointers and a params struct; LibTorch meets CUDA only in these launchers.
#pragma once

#include <ATen/core/Tensor.h>

#include "dkv/core/nf4_scales.h"
#include "dkv/core/rope_spec.h"

namespace dkv::cuda {

// In-place key re-rotation; keys and delta already checked by ops::rotate_keys_.
void rotate_keys(at::Tensor& keys, const at::Tensor& delta, const RopeSpec& spec);

// Weight dequantization; arguments already checked by ops::dequantize_*.
at::Tensor dequantize_nf4(const at::Tensor& packed, const Nf4Scales& scales, int64_t numel,
                          int64_t blocksize, at::ScalarType dtype);
at::Tensor dequantize_int8_rows(const at::Tensor& q, const at::Tensor& scale, at::ScalarType dtype);

// Fused NF4 product for a few rows; arguments already checked by ops::nf4_matmul.
at::Tensor nf4_matmul(const at::Tensor& x, const at::Tensor& packed, const Nf4Scales& scales, int64_t N,
                      int64_t K, int64_t blocksize);

}  // namespace dkv::cuda
