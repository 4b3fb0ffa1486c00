// Standalone parity test of the key re-rotation kernel (raw CUDA, no LibTorch, no GoogleTest,
// so it builds wherever nvcc does): fresh random keys and deltas, odd sizes, every dtype and
// both pairings, against a host reference in double. Exit 0 = pass, 1 = fail, 77 = no device
// (reported by CTest as skipped, not passed).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "cuda/rotate_keys_kernel.h"
#include "kernel_test_util.h"

using dkv::cuda::FloatDtype;
using namespace dkv::cuda::test;

namespace {

// Tolerance per dtype, relative to max |k|: fp32 a few ulps of the fp32 sin/cos and products;
// fp16/bf16 one rounding of the output (2^-11, 2^-8) with margin.
double tolerance(FloatDtype t) { return t == FloatDtype::f32 ? 2e-6 : t == FloatDtype::f16 ? 1e-3 : 8e-3; }

// `shift` elements of offset on the key pointer: 1 breaks 16-byte alignment, forcing the
// scalar path even where D allows vectors.
bool run_case(int64_t B, int64_t H, int64_t T, int64_t D, bool half_split, FloatDtype dtype, int shift_elems,
              std::mt19937& gen) {
  const size_t n = static_cast<size_t>(B * H * T * D);
  const size_t es = elem_size(dtype);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_int_distribution<int64_t> shift(-300, 300);
  std::vector<unsigned char> host((n + shift_elems) * es);
  for (size_t i = 0; i < n + shift_elems; ++i) store(host.data(), i, dtype, normal(gen));
  std::vector<int64_t> delta(static_cast<size_t>(B * T));
  for (auto& d : delta) d = shift(gen);
  delta[0] = 0;  // an untouched entry
  std::vector<float> inv(static_cast<size_t>(D / 2));
  for (int64_t i = 0; i < D / 2; ++i)
    inv[i] = 1.0f / std::pow(10000.0f, static_cast<float>(2 * i) / static_cast<float>(D));

  DeviceBuffer<unsigned char> dk(host);
  DeviceBuffer<int64_t> dd(delta);
  DeviceBuffer<float> di(inv);
  dkv::cuda::RotateKeysParams p{dk.ptr + shift_elems * es, dd.ptr, di.ptr, B, H, T, D, half_split, dtype};
  const int width = dkv::cuda::rotate_keys_vector_width(p);
  CHECK_CUDA(static_cast<cudaError_t>(dkv::cuda::launch_rotate_keys(p, nullptr)));
  CHECK_CUDA(cudaDeviceSynchronize());
  const auto full = dk.to_host();
  // The elements before the shifted start must be untouched.
  for (size_t i = 0; i < shift_elems * es; ++i)
    if (full[i] != host[i]) {
      std::printf("FAIL: kernel wrote before the key pointer\n");
      return false;
    }
  const unsigned char* out = full.data() + shift_elems * es;
  const unsigned char* in = host.data() + shift_elems * es;

  double worst = 0, kmax = 0;
  for (int64_t row = 0; row < B * H * T; ++row) {
    const int64_t t = row % T, b = row / (T * H);
    const int64_t d = delta[static_cast<size_t>(b * T + t)];
    for (int64_t i = 0; i < D / 2; ++i) {
      const int64_t i1 = half_split ? i : 2 * i, i2 = half_split ? i + D / 2 : 2 * i + 1;
      const double x1 = load(in, row * D + i1, dtype), x2 = load(in, row * D + i2, dtype);
      const double angle = static_cast<float>(d) * inv[i];  // the fp32 product HF forms
      const double e1 = x1 * std::cos(angle) - x2 * std::sin(angle);
      const double e2 = x2 * std::cos(angle) + x1 * std::sin(angle);
      worst = std::max({worst, std::fabs(load(out, row * D + i1, dtype) - e1),
                        std::fabs(load(out, row * D + i2, dtype) - e2)});
      kmax = std::max({kmax, std::fabs(x1), std::fabs(x2)});
    }
  }
  const bool ok = worst <= tolerance(dtype) * kmax;
  std::printf("%s B=%lld H=%lld T=%lld D=%lld %s %s, %d-wide: max|err| %.3g (limit %.3g)\n", ok ? "ok  " : "FAIL",
              (long long)B, (long long)H, (long long)T, (long long)D, half_split ? "half-split" : "interleaved",
              dtype_name(dtype), width, worst, tolerance(dtype) * kmax);
  return ok;
}

}  // namespace

int main() {
  require_device();
  std::mt19937 gen(1234);
  bool ok = true;
  // Vector paths (D/2 a multiple of 4 or 8 elements), scalar ones (D = 2, 6, 20 for 8-wide),
  // and a misaligned pointer; odd B, H, T throughout.
  const int64_t shapes[][5] = {{2, 7, 83, 80, 0}, {1, 8, 257, 128, 0}, {3, 1, 1, 64, 0}, {1, 3, 5, 2, 0},
                               {2, 3, 9, 6, 0}, {1, 5, 7, 20, 0}, {2, 3, 11, 128, 1}};
  for (const auto& s : shapes)
    for (bool half : {true, false})
      for (auto t : {FloatDtype::f32, FloatDtype::f16, FloatDtype::bf16})
        ok &= run_case(s[0], s[1], s[2], s[3], half, t, static_cast<int>(s[4]), gen);
  std::printf(ok ? "all kernel cases passed\n" : "kernel cases FAILED\n");
  return ok ? 0 : 1;
}
