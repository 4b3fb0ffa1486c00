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
  // bitsandbytes' create_dynamic_map(signed=True) exactly as bitsandbytes 0.50.2 computes it
  // (on torch 1.13's CPU kernels: tests/golden/nf4_golden.json). bitsandbytes builds it with
  // torch.linspace, whose vectorized kernel rounds differently across torch versions and CPUs
  // (torch 2.15 gives 42 of the 256 values 1 ulp apart), so dkv keeps the values rather than
  // recomputing them: its quantization then never depends on the LibTorch it is built against.
  // Checkpoints carry their own table (nested_quant_map), which dkv reads as stored.
  static constexpr std::array<float, 256> code = {
      -0.99296874f, -0.9789062f, -0.96484375f, -0.9507812f, -0.9367187f, -0.92265624f, -0.9085938f,
      -0.89453125f, -0.8804687f, -0.8664062f, -0.85234374f, -0.8382812f, -0.82421875f, -0.8101562f,
      -0.7960937f, -0.78203124f, -0.7679688f, -0.75390625f, -0.7398438f, -0.72578126f, -0.7117188f,
      -0.6976563f, -0.68359375f, -0.6695313f, -0.65546876f, -0.64140624f, -0.6273438f,
      -0.61328125f, -0.5992187f, -0.58515626f, -0.5710938f, -0.5570313f, -0.54296875f, -0.5289062f,
      -0.51484376f, -0.50078124f, -0.48671877f, -0.47265625f, -0.45859373f, -0.44453126f,
      -0.43046874f, -0.4164062f, -0.40234375f, -0.38828123f, -0.37421876f, -0.36015624f,
      -0.3460937f, -0.33203125f, -0.31796873f, -0.30390626f, -0.28984374f, -0.27578127f,
      -0.26171875f, -0.24765626f, -0.23359376f, -0.21953125f, -0.20546874f, -0.19140625f,
      -0.17734374f, -0.16328125f, -0.14921875f, -0.13515624f, -0.12109375f, -0.107031256f,
      -0.09859375f, -0.095781244f, -0.092968754f, -0.09015625f, -0.08734375f, -0.08453125f,
      -0.08171874f, -0.07890625f, -0.07609375f, -0.07328125f, -0.070468746f, -0.067656256f,
      -0.06484375f, -0.062031247f, -0.059218753f, -0.05640625f, -0.05359375f, -0.05078125f,
      -0.04796875f, -0.04515625f, -0.042343747f, -0.03953125f, -0.036718752f, -0.033906247f,
      -0.03109375f, -0.028281247f, -0.02546875f, -0.02265625f, -0.01984375f, -0.01703125f,
      -0.01421875f, -0.01140625f, -0.00971875f, -0.009156249f, -0.00859375f, -0.00803125f,
      -0.00746875f, -0.00690625f, -0.00634375f, -0.00578125f, -0.0052187503f, -0.0046562497f,
      -0.00409375f, -0.0035312497f, -0.00296875f, -0.00240625f, -0.00184375f, -0.0012812499f,
      -0.0009437501f, -0.00083125f, -0.00071875006f, -0.0006062501f, -0.00049375003f,
      -0.00038125002f, -0.00026875004f, -0.00015625001f, -8.875e-05f, -6.625e-05f, -4.375e-05f,
      -2.1249998e-05f, -7.75e-06f, -3.2500002e-06f, -5.5000004e-07f, 0.0f, 5.5000004e-07f,
      3.2500002e-06f, 7.75e-06f, 2.1249998e-05f, 4.375e-05f, 6.625e-05f, 8.875e-05f,
      0.00015625001f, 0.00026875004f, 0.00038125002f, 0.00049375003f, 0.0006062501f,
      0.00071875006f, 0.00083125f, 0.0009437501f, 0.0012812499f, 0.00184375f, 0.00240625f,
      0.00296875f, 0.0035312497f, 0.00409375f, 0.0046562497f, 0.0052187503f, 0.00578125f,
      0.00634375f, 0.00690625f, 0.00746875f, 0.00803125f, 0.00859375f, 0.009156249f, 0.00971875f,
      0.01140625f, 0.01421875f, 0.01703125f, 0.01984375f, 0.02265625f, 0.02546875f, 0.028281247f,
      0.03109375f, 0.033906247f, 0.036718752f, 0.03953125f, 0.042343747f, 0.04515625f, 0.04796875f,
      0.05078125f, 0.05359375f, 0.05640625f, 0.059218753f, 0.062031247f, 0.06484375f, 0.067656256f,
      0.070468746f, 0.07328125f, 0.07609375f, 0.07890625f, 0.08171874f, 0.08453125f, 0.08734375f,
      0.09015625f, 0.092968754f, 0.095781244f, 0.09859375f, 0.107031256f, 0.12109375f, 0.13515624f,
      0.14921875f, 0.16328125f, 0.17734374f, 0.19140625f, 0.20546874f, 0.21953125f, 0.23359376f,
      0.24765626f, 0.26171875f, 0.27578127f, 0.28984374f, 0.30390626f, 0.31796873f, 0.33203125f,
      0.3460937f, 0.36015624f, 0.37421876f, 0.38828123f, 0.40234375f, 0.4164062f, 0.43046874f,
      0.44453126f, 0.45859373f, 0.47265625f, 0.48671877f, 0.50078124f, 0.51484376f, 0.5289062f,
      0.54296875f, 0.5570313f, 0.5710938f, 0.58515626f, 0.5992187f, 0.61328125f, 0.6273438f,
      0.64140624f, 0.65546876f, 0.6695313f, 0.68359375f, 0.6976563f, 0.7117188f, 0.72578126f,
      0.7398438f, 0.75390625f, 0.7679688f, 0.78203124f, 0.7960937f, 0.8101562f, 0.82421875f,
      0.8382812f, 0.85234374f, 0.8664062f, 0.8804687f, 0.89453125f, 0.9085938f, 0.92265624f,
      0.9367187f, 0.9507812f, 0.96484375f, 0.9789062f, 0.99296874f, 1.0f
  };
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
