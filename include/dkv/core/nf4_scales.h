// The NF4 code and the block scales of NF4 weights as plain data. In core because both sides
// of the dequantization seam need them: ops/ (the ops) and src/cuda/ (their launchers, which
// ops/ calls). ops/dequantize.h re-exports them as ops::nf4_code and ops::Nf4Scales.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <utility>

namespace dkv {

// bitsandbytes' NF4 code (functional.get_4bit_type("nf4")): quantiles of N(0, 1) scaled to
// [-1, 1], with an exact zero at index 7.
const std::array<float, 16>& nf4_code();

// The per-block absmax of NF4 data as stored: float32 per block, or bitsandbytes' double
// quantization of it, absmax[b] = nested_code[absmax_q[b]] * nested_absmax[b / nested_blocksize]
// + offset (a float32 product, then the sum, each rounded: no fused multiply-add).
struct Nf4Scales {
  Nf4Scales() = default;
  Nf4Scales(at::Tensor plain_absmax) : absmax(std::move(plain_absmax)) {}  // NOLINT: plain case
  at::Tensor absmax;         // float32 [blocks]; undefined when double-quantized
  at::Tensor absmax_q;       // uint8 [blocks]
  at::Tensor nested_absmax;  // float32 [ceil(blocks / nested_blocksize)]
  at::Tensor nested_code;    // float32 [256]
  float offset = 0;
  int64_t nested_blocksize = 256;
  bool double_quantized() const { return absmax_q.defined(); }
};

}  // namespace dkv
