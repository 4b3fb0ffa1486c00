// Weight-only int8 with one scale per output channel (row of an nn.Linear weight):
// q = round(w / scale) with scale = max|row| / 127, so every row uses the full [-127, 127].
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace dkv::model {

struct Int8Weight {
  at::Tensor q;      // int8 [out, in]
  at::Tensor scale;  // float32 [out]; an all-zero row has scale 0

  int64_t numel() const { return q.numel(); }
  int64_t storage_bytes() const { return q.numel() + scale.numel() * 4; }
  Int8Weight to(at::Device device) const { return {q.to(device), scale.to(device)}; }
};

// Rounds half to even (std::nearbyint), as torch.round does.
Int8Weight quantize_int8_rows(const at::Tensor& weight);

at::Tensor dequantize(const Int8Weight& w, at::ScalarType dtype);

}  // namespace dkv::model
