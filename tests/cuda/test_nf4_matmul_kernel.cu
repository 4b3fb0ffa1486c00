// Standalone parity test of the fused NF4 matmul (raw CUDA, no LibTorch): fresh random codes,
// scales, code table and activations, 1..8 rows, odd N, K from one word to Mistral's 14336,
// every dtype, against a host double-precision reference. Tolerance per value: fp32
// accumulation over K (1e-5 of sum |w x|) plus one rounding of the output (2^-24, 2^-11, 2^-8
// of |y| for fp32, fp16, bf16). Exit 0 = pass, 1 = fail, 77 = no device.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "cuda/nf4_matmul_kernel.h"
#include "kernel_test_util.h"

using dkv::cuda::FloatDtype;
using namespace dkv::cuda::test;

namespace {

double output_rounding(FloatDtype t) {
  return t == FloatDtype::f32 ? 0x1p-24 : t == FloatDtype::f16 ? 0x1p-11 : 0x1p-8;
}

bool run_case(int64_t T, int64_t N, int64_t K, bool double_quant, FloatDtype t, std::mt19937& gen) {
  const int64_t blocksize = 64, blocks = (N * K + blocksize - 1) / blocksize;
  std::uniform_int_distribution<int> byte(1, 255);
  std::uniform_real_distribution<float> sym(-1.0f, 1.0f);
  std::vector<uint8_t> packed(N * K / 2);
  for (auto& b : packed) b = static_cast<uint8_t>(byte(gen));
  const RandomScales scales(blocks, double_quant, gen);
  const auto& absmax = scales.absmax;
  dkv::cuda::Nf4MatmulParams p{};
  for (float& c : p.code) c = sym(gen);
  std::vector<unsigned char> x(T * K * elem_size(t));
  for (int64_t i = 0; i < T * K; ++i) store(x.data(), i, t, sym(gen));

  DeviceBuffer<uint8_t> dp(packed);
  DeviceBuffer<unsigned char> dx(x);
  DeviceBuffer<unsigned char> dy(std::vector<unsigned char>(T * N * elem_size(t)));
  p.x = dx.ptr;
  p.packed = dp.ptr;
  p.scales = scales.source;
  p.y = dy.ptr;
  p.T = T;
  p.N = N;
  p.K = K;
  p.blocksize = blocksize;
  p.dtype = t;
  CHECK_CUDA(static_cast<cudaError_t>(dkv::cuda::launch_nf4_matmul(p, nullptr)));
  CHECK_CUDA(cudaDeviceSynchronize());
  const auto y = dy.to_host();

  double worst_ratio = 0;
  for (int64_t r = 0; r < T; ++r)
    for (int64_t n = 0; n < N; ++n) {
      double exact = 0, magnitude = 0;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t i = n * K + k;
        const uint8_t b = packed[i / 2];
        const double w = static_cast<double>(p.code[i % 2 == 0 ? b >> 4 : b & 15]) * absmax[i / blocksize];
        const double term = w * load(x.data(), r * K + k, t);
        exact += term;
        magnitude += std::fabs(term);
      }
      const double limit = 1e-5 * magnitude + output_rounding(t) * std::fabs(exact) + 1e-30;
      worst_ratio = std::max(worst_ratio, std::fabs(load(y.data(), r * N + n, t) - exact) / limit);
    }
  const bool ok = worst_ratio <= 1.0;
  std::printf("%s nf4 matmul T=%lld N=%lld K=%lld %s absmax %s: worst error / limit %.3f\n", ok ? "ok  " : "FAIL",
              (long long)T, (long long)N, (long long)K, double_quant ? "double-quantized" : "plain", dtype_name(t),
              worst_ratio);
  return ok;
}

}  // namespace

int main() {
  require_device();
  std::mt19937 gen(99);
  bool ok = true;
  for (auto t : {FloatDtype::f32, FloatDtype::f16, FloatDtype::bf16})
    for (int64_t T : {1, 3, 8})
      for (auto nk : {std::pair<int64_t, int64_t>{1, 8}, {7, 72}, {33, 4096}, {5, 14336}})
        for (bool dq : {false, true}) ok &= run_case(T, nk.first, nk.second, dq, t, gen);
  // Refused shapes: too many rows, K not a multiple of 8.
  dkv::cuda::Nf4MatmulParams bad{};
  bad.T = 9, bad.N = 1, bad.K = 8, bad.blocksize = 64;
  ok &= dkv::cuda::launch_nf4_matmul(bad, nullptr) == cudaErrorInvalidValue;
  bad.T = 1, bad.K = 12;
  ok &= dkv::cuda::launch_nf4_matmul(bad, nullptr) == cudaErrorInvalidValue;
  std::printf(ok ? "all kernel cases passed\n" : "kernel cases FAILED\n");
  return ok ? 0 : 1;
}
