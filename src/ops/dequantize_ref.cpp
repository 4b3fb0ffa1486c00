// CPU references for weight dequantization: plain loops over raw data, the specification the
// CUDA kernels are checked against and the path CPU runs use on every forward.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "dkv/ops/dequantize.h"

namespace dkv::ops {

namespace {
// Grain for at::parallel_for: enough elements per task that thread start-up is amortised.
constexpr int64_t kGrain = 1 << 16;
}  // namespace

at::Tensor dequantize_nf4_ref(const at::Tensor& packed, const at::Tensor& absmax, int64_t numel,
                              int64_t blocksize, at::ScalarType dtype) {
  const auto p = packed.contiguous();
  const auto a = absmax.contiguous();
  auto out = at::empty({numel}, at::kFloat);
  const uint8_t* src = p.data_ptr<uint8_t>();
  const float* scale = a.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  // Both weights of a byte at once: byte -> (code[high nibble], code[low nibble]).
  static const auto pairs = [] {
    std::array<std::array<float, 2>, 256> t{};
    for (int b = 0; b < 256; ++b) t[b] = {nf4_code()[b >> 4], nf4_code()[b & 0x0F]};
    return t;
  }();
  // Whole blocks per task (blocksize is even, so a block owns whole bytes); within a block the
  // scale is fixed and the loop is a table lookup and two multiplies per byte.
  const int64_t blocks = (numel + blocksize - 1) / blocksize;
  at::parallel_for(0, blocks, std::max<int64_t>(1, kGrain / blocksize), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const float s = scale[b];
      const int64_t first = b * blocksize, last = std::min(numel, first + blocksize);
      const int64_t full_bytes = (last - first) / 2;
      const uint8_t* in = src + first / 2;
      float* o = dst + first;
      for (int64_t j = 0; j < full_bytes; ++j) {
        const auto& pr = pairs[in[j]];
        o[2 * j] = pr[0] * s;
        o[2 * j + 1] = pr[1] * s;
      }
      if ((last - first) % 2 == 1) o[2 * full_bytes] = pairs[in[full_bytes]][0] * s;  // odd tail
    }
  });
  return dtype == at::kFloat ? out : out.to(dtype);
}

at::Tensor dequantize_blockwise_8bit_ref(const at::Tensor& q, const at::Tensor& code,
                                         const at::Tensor& absmax, int64_t blocksize, float offset) {
  const auto qc = q.contiguous();
  const auto cc = code.contiguous();
  const auto ac = absmax.contiguous();
  const int64_t n = qc.numel();
  auto out = at::empty({n}, at::kFloat);
  const uint8_t* src = qc.data_ptr<uint8_t>();
  const float* table = cc.data_ptr<float>();
  const float* scale = ac.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    volatile float product = table[src[i]] * scale[i / blocksize];  // rounded before the sum, never an FMA
    dst[i] = product + offset;
  }
  return out;
}

at::Tensor dequantize_int8_rows_ref(const at::Tensor& q, const at::Tensor& scale, at::ScalarType dtype) {
  const auto qc = q.contiguous();
  const auto sc = scale.contiguous();
  const int64_t rows = qc.size(0), cols = qc.size(1);
  auto out = at::empty({rows, cols}, at::kFloat);
  const int8_t* src = qc.data_ptr<int8_t>();
  const float* s = sc.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1)),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r)
                       for (int64_t c = 0; c < cols; ++c)
                         dst[r * cols + c] = static_cast<float>(src[r * cols + c]) * s[r];
                   });
  return dtype == at::kFloat ? out : out.to(dtype);
}

}  // namespace dkv::ops
