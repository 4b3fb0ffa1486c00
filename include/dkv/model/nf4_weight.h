// NF4 weights in bitsandbytes' layout (Linear4bit, quant_type "nf4"): 4-bit codes packed two
// per byte, one absmax per block of 64 weights, and optionally those absmax values themselves
// 8-bit quantized in blocks of 256 around their mean ("double quantization",
// bnb_4bit_use_double_quant / compress_statistics).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <vector>

#include "dkv/ops/dequantize.h"

namespace dkv::model {

struct Nf4Weight {
  std::vector<int64_t> shape;  // the full-precision weight's shape ([out, in] for nn.Linear)
  int64_t blocksize = 64;
  at::Tensor packed;           // uint8 [ceil(numel / 2)], element 2j in the high nibble of byte j
  at::Tensor absmax;           // float32 [blocks]; defined when not double-quantized
  // Double quantization: absmax[b] = nested_code[absmax_q[b]] * nested_absmax[b / 256] + offset.
  at::Tensor absmax_q;         // uint8 [blocks]
  at::Tensor nested_absmax;    // float32 [ceil(blocks / nested_blocksize)]
  at::Tensor nested_code;      // float32 [256]: dynamic_map_signed()
  float offset = 0;
  int64_t nested_blocksize = 256;

  bool double_quantized() const { return absmax_q.defined(); }
  ops::Nf4Scales scales() const;  // the absmax pieces as the dequantization ops take them
  int64_t numel() const;
  int64_t blocks() const;
  int64_t storage_bytes() const;  // everything held per weight, tables included
  Nf4Weight to(at::Device device) const;
};

// bitsandbytes' create_dynamic_map(signed=True): the 8-bit code of the double-quantized absmax
// (for k = 0..6: 2^k midpoints of linspace(0.1, 1, 2^k + 1) times 10^(k-6), both signs; plus
// 0 and 1; sorted).
const std::array<float, 256>& dynamic_map_signed();

// Quantizes a weight (any float dtype, CPU) the way bitsandbytes' quantize_4bit does on CUDA:
// flattened row-major, absmax per block (the last block may be short), each value scaled by
// 1/absmax and mapped to the nearest NF4 code (ties to the lower code).
Nf4Weight quantize_nf4(const at::Tensor& weight, bool double_quant = true, int64_t blocksize = 64);

// The per-block absmax, double quantization undone: float32 [blocks] on the weight's device.
at::Tensor nf4_absmax(const Nf4Weight& w);

// The weight in `dtype`, shaped like the original, on the packed data's device.
at::Tensor dequantize(const Nf4Weight& w, at::ScalarType dtype);

}  // namespace dkv::model
