// NF4 quantization following bitsandbytes' CUDA kernels (kQuantizeBlockwise with dQuantizeNF4
// and, for the absmax, dQuantize over the dynamic map), so that dkv quantizes at load exactly
// as HF's load_in_4bit does.
#include "dkv/model/nf4_weight.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "dkv/core/error.h"
#include "dkv/ops/dequantize.h"

namespace dkv::model {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// dQuantizeNF4's decision thresholds: midpoints of adjacent codes, in double then rounded to
// float as the CUDA source's float literals are.
std::array<float, 15> nf4_thresholds() {
  const auto& c = ops::nf4_code();
  std::array<float, 15> m{};
  for (size_t i = 0; i < m.size(); ++i)
    m[i] = static_cast<float>((static_cast<double>(c[i]) + static_cast<double>(c[i + 1])) / 2);
  return m;
}

// The code whose interval holds x: the number of thresholds strictly below x, so a tie goes to
// the lower code, as in both of bitsandbytes' kernels.
uint8_t nf4_index(float x, const std::array<float, 15>& thresholds) {
  uint8_t k = 0;
  for (float t : thresholds) k += x > t;
  return k;
}

// bitsandbytes' dQuantize<0>: a 7-step binary search over the sorted 256-entry code from the
// middle, then the nearer of the final pivot and its neighbour on x's side.
uint8_t dynamic_index(float x, const std::array<float, 256>& code) {
  int pivot = 127, upper_pivot = 255, lower_pivot = 0;
  float lower = -1.0f, upper = 1.0f;
  float val = code[pivot];
  for (int step = 64; step > 0; step >>= 1) {
    if (x > val) {
      lower_pivot = pivot;
      lower = val;
      pivot += step;
    } else {
      upper_pivot = pivot;
      upper = val;
      pivot -= step;
    }
    val = code[pivot];
  }
  if (upper_pivot == 255) upper = code[upper_pivot];
  if (lower_pivot == 0) lower = code[lower_pivot];
  if (x > val) return static_cast<uint8_t>(x > (upper + val) * 0.5f ? upper_pivot : pivot);
  return static_cast<uint8_t>(x < (lower + val) * 0.5f ? lower_pivot : pivot);
}

std::vector<float> block_absmax(const float* x, int64_t n, int64_t blocksize) {
  std::vector<float> out(static_cast<size_t>(ceil_div(n, blocksize)));
  at::parallel_for(0, static_cast<int64_t>(out.size()), 256, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      float m = 0;
      for (int64_t i = b * blocksize; i < std::min(n, (b + 1) * blocksize); ++i) m = std::max(m, std::abs(x[i]));
      out[b] = m;
    }
  });
  return out;
}

at::Tensor to_tensor(const std::vector<float>& v) {
  return at::tensor(at::ArrayRef<float>(v), at::kFloat);
}

void double_quantize(Nf4Weight& w, const std::vector<float>& absmax) {
  double sum = 0;
  for (float a : absmax) sum += a;
  w.offset = static_cast<float>(sum / static_cast<double>(absmax.size()));
  std::vector<float> centred(absmax.size());
  for (size_t i = 0; i < absmax.size(); ++i) centred[i] = absmax[i] - w.offset;
  const int64_t n = static_cast<int64_t>(centred.size());
  const auto nested = block_absmax(centred.data(), n, w.nested_blocksize);
  const auto& code = dynamic_map_signed();
  w.absmax_q = at::empty({n}, at::kByte);
  uint8_t* q = w.absmax_q.data_ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i)
    q[i] = dynamic_index(centred[i] * (1.0f / nested[i / w.nested_blocksize]), code);
  w.nested_absmax = to_tensor(nested);
  w.nested_code = at::tensor(at::ArrayRef<float>(code.data(), code.size()), at::kFloat);
}

}  // namespace

int64_t Nf4Weight::numel() const {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

int64_t Nf4Weight::blocks() const { return ceil_div(numel(), blocksize); }

int64_t Nf4Weight::storage_bytes() const {
  int64_t bytes = packed.numel();
  for (const at::Tensor* t : {&absmax, &absmax_q, &nested_absmax, &nested_code})
    if (t->defined()) bytes += t->numel() * static_cast<int64_t>(t->element_size());
  return bytes;
}

Nf4Weight Nf4Weight::to(at::Device device) const {
  Nf4Weight w = *this;
  for (at::Tensor* t : {&w.packed, &w.absmax, &w.absmax_q, &w.nested_absmax, &w.nested_code})
    if (t->defined()) *t = t->to(device);
  return w;
}

const std::array<float, 256>& dynamic_map_signed() {
  static const std::array<float, 256> code = [] {
    std::vector<float> data;
    for (int k = 0; k < 7; ++k) {
      // torch.linspace in fp32 (the same ATen kernel), midpoints and scaling in fp32.
      const auto bounds = at::linspace(0.1, 1.0, (1 << k) + 1, at::kFloat);
      const auto means = ((bounds.narrow(0, 0, 1 << k) + bounds.narrow(0, 1, 1 << k)) / 2.0).contiguous();
      const float scale = static_cast<float>(std::pow(10.0, k - 6));
      const float* m = means.data_ptr<float>();
      for (int i = 0; i < (1 << k); ++i) {
        data.push_back(scale * m[i]);
        data.push_back(-scale * m[i]);
      }
    }
    data.push_back(0.0f);
    data.push_back(1.0f);
    std::sort(data.begin(), data.end());
    DKV_CHECK(data.size() == 256, "dynamic map has ", data.size(), " entries");
    std::array<float, 256> out{};
    std::copy(data.begin(), data.end(), out.begin());
    return out;
  }();
  return code;
}

Nf4Weight quantize_nf4(const at::Tensor& weight, bool double_quant, int64_t blocksize) {
  if (blocksize <= 0 || blocksize % 2 != 0)
    throw InputError(detail::concat("quantize_nf4: blocksize ", blocksize, " must be even and > 0"));
  const auto x = weight.detach().to(at::kCPU).to(at::kFloat).contiguous().view({-1});
  const int64_t n = x.numel();
  const float* src = x.data_ptr<float>();
  Nf4Weight w;
  w.shape = weight.sizes().vec();
  w.blocksize = blocksize;
  const auto absmax = block_absmax(src, n, blocksize);
  const auto thresholds = nf4_thresholds();
  w.packed = at::zeros({ceil_div(n, 2)}, at::kByte);
  uint8_t* packed = w.packed.data_ptr<uint8_t>();
  // Blocks are even-sized, so each task owns whole bytes.
  at::parallel_for(0, w.blocks(), 64, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      // bitsandbytes multiplies by the reciprocal. An all-zero block gets the zero code, as its
      // pure-torch kernel gives (its CUDA kernel's 0 * inf = NaN picks code 0 instead); both
      // dequantize to 0.
      const float inv = absmax[b] > 0 ? 1.0f / absmax[b] : 0.0f;
      for (int64_t i = b * blocksize; i < std::min(n, (b + 1) * blocksize); ++i) {
        const uint8_t k = nf4_index(src[i] * inv, thresholds);
        packed[i / 2] |= (i % 2 == 0) ? static_cast<uint8_t>(k << 4) : k;
      }
    }
  });
  // An odd count is padded with one 0.0, which bitsandbytes quantizes too: the zero code.
  if (n % 2 == 1) packed[n / 2] |= nf4_index(0.0f, thresholds);
  if (double_quant)
    double_quantize(w, absmax);
  else
    w.absmax = to_tensor(absmax);
  return w;
}

ops::Nf4Scales Nf4Weight::scales() const {
  ops::Nf4Scales s;
  s.absmax = absmax;
  s.absmax_q = absmax_q;
  s.nested_absmax = nested_absmax;
  s.nested_code = nested_code;
  s.offset = offset;
  s.nested_blocksize = nested_blocksize;
  return s;
}

at::Tensor nf4_absmax(const Nf4Weight& w) { return ops::nf4_block_absmax(w.scales()); }

at::Tensor dequantize(const Nf4Weight& w, at::ScalarType dtype) {
  return ops::dequantize_nf4(w.packed, w.scales(), w.numel(), w.blocksize, dtype).view(w.shape);
}

}  // namespace dkv::model
