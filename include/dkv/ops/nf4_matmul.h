// y = x @ W^T for an NF4 weight W [N, K], fused (W never expanded in memory) on CUDA when x has
// few rows: the decode steps of generation, where expanding W would cost more memory traffic
// than the product itself. The CPU/CUDA seam for that product.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "dkv/ops/dequantize.h"

namespace dkv::ops {

// Whether nf4_matmul runs fused for these sizes: rows <= 8, K and blocksize multiples of 8.
bool nf4_matmul_is_fused(int64_t rows, int64_t K, int64_t blocksize);

// x: [rows, K] fp32/fp16/bf16; packed: uint8 [N * K / 2]; scales: N * K / blocksize blocks
// (plain or double-quantized), all on one device. Returns [rows, N] in x's dtype.
// CUDA tensors of a fused size run the fused kernel; everything else is the reference.
at::Tensor nf4_matmul(const at::Tensor& x, const at::Tensor& packed, const Nf4Scales& scales, int64_t N,
                      int64_t K, int64_t blocksize);

// The reference: expand W (ops::dequantize_nf4) and multiply (at::linear), on any device.
at::Tensor nf4_matmul_ref(const at::Tensor& x, const at::Tensor& packed, const Nf4Scales& scales, int64_t N,
                          int64_t K, int64_t blocksize);

}  // namespace dkv::ops
