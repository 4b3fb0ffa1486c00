// Weight-only int8, symmetric per output channel.
#include "dkv/model/int8_weight.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "dkv/core/error.h"
#include "dkv/ops/dequantize.h"

namespace dkv::model {

Int8Weight quantize_int8_rows(const at::Tensor& weight) {
  if (weight.dim() != 2)
    throw InputError(detail::concat("quantize_int8_rows: expected a [out, in] weight, got ", weight.sizes()));
  const auto x = weight.detach().to(at::kCPU).to(at::kFloat).contiguous();
  const int64_t rows = x.size(0), cols = x.size(1);
  Int8Weight w{at::empty({rows, cols}, at::kChar), at::empty({rows}, at::kFloat)};
  const float* src = x.data_ptr<float>();
  int8_t* q = w.q.data_ptr<int8_t>();
  float* scale = w.scale.data_ptr<float>();
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* row = src + r * cols;
      float m = 0;
      for (int64_t c = 0; c < cols; ++c) m = std::max(m, std::abs(row[c]));
      scale[r] = m / 127.0f;
      const float inv = m > 0 ? 127.0f / m : 0.0f;
      for (int64_t c = 0; c < cols; ++c)
        q[r * cols + c] = static_cast<int8_t>(std::nearbyint(std::min(127.0f, std::max(-127.0f, row[c] * inv))));
    }
  });
  return w;
}

at::Tensor dequantize(const Int8Weight& w, at::ScalarType dtype) {
  return ops::dequantize_int8_rows(w.q, w.scale, dtype);
}

}  // namespace dkv::model
