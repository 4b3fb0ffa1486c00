// Standalone parity test of the key re-rotation kernel (raw CUDA, no LibTorch, no GoogleTest,
// so it builds wherever nvcc does): fresh random keys and deltas, odd sizes, every dtype and
// both pairings, against a host reference in double. Exit 0 = pass, 1 = fail, 77 = no device
// (reported by CTest as skipped, not passed).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <random>
#include <vector>

#include "cuda/rotate_keys_kernel.h"

using dkv::cuda::KeyDtype;

namespace {

#define CHECK_CUDA(call)                                                              \
  do {                                                                                \
    cudaError_t e_ = (call);                                                          \
    if (e_ != cudaSuccess) {                                                          \
      std::printf("FAIL: %s: %s\n", #call, cudaGetErrorString(e_));                   \
      std::exit(1);                                                                   \
    }                                                                                 \
  } while (0)

size_t elem_size(KeyDtype t) { return t == KeyDtype::f32 ? 4 : 2; }

void store(void* base, size_t i, KeyDtype t, float v) {
  if (t == KeyDtype::f32) static_cast<float*>(base)[i] = v;
  else if (t == KeyDtype::f16) static_cast<__half*>(base)[i] = __float2half_rn(v);
  else static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(v);
}
float load(const void* base, size_t i, KeyDtype t) {
  if (t == KeyDtype::f32) return static_cast<const float*>(base)[i];
  if (t == KeyDtype::f16) return __half2float(static_cast<const __half*>(base)[i]);
  return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
}

// Tolerance per dtype, relative to max |k|: fp32 a few ulps of the fp32 sin/cos and products;
// fp16/bf16 one rounding of the output (2^-11, 2^-8) with margin.
double tolerance(KeyDtype t) { return t == KeyDtype::f32 ? 2e-6 : t == KeyDtype::f16 ? 1e-3 : 8e-3; }

bool run_case(int64_t B, int64_t H, int64_t T, int64_t D, bool half_split, KeyDtype dtype, std::mt19937& gen) {
  const size_t n = static_cast<size_t>(B * H * T * D);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_int_distribution<int64_t> shift(-300, 300);
  std::vector<unsigned char> host(n * elem_size(dtype));
  for (size_t i = 0; i < n; ++i) store(host.data(), i, dtype, normal(gen));
  std::vector<int64_t> delta(static_cast<size_t>(B * T));
  for (auto& d : delta) d = shift(gen);
  delta[0] = 0;  // an untouched entry
  std::vector<float> inv(static_cast<size_t>(D / 2));
  for (int64_t i = 0; i < D / 2; ++i)
    inv[i] = 1.0f / std::pow(10000.0f, static_cast<float>(2 * i) / static_cast<float>(D));

  void* dk;
  int64_t* dd;
  float* di;
  CHECK_CUDA(cudaMalloc(&dk, host.size()));
  CHECK_CUDA(cudaMalloc(&dd, delta.size() * sizeof(int64_t)));
  CHECK_CUDA(cudaMalloc(&di, inv.size() * sizeof(float)));
  CHECK_CUDA(cudaMemcpy(dk, host.data(), host.size(), cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(dd, delta.data(), delta.size() * sizeof(int64_t), cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(di, inv.data(), inv.size() * sizeof(float), cudaMemcpyHostToDevice));
  dkv::cuda::RotateKeysParams p{dk, dd, di, B, H, T, D, half_split, dtype};
  CHECK_CUDA(static_cast<cudaError_t>(dkv::cuda::launch_rotate_keys(p, nullptr)));
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<unsigned char> out(host.size());
  CHECK_CUDA(cudaMemcpy(out.data(), dk, out.size(), cudaMemcpyDeviceToHost));
  cudaFree(dk);
  cudaFree(dd);
  cudaFree(di);

  double worst = 0, kmax = 0;
  for (int64_t row = 0; row < B * H * T; ++row) {
    const int64_t t = row % T, b = row / (T * H);
    const int64_t d = delta[static_cast<size_t>(b * T + t)];
    for (int64_t i = 0; i < D / 2; ++i) {
      const int64_t i1 = half_split ? i : 2 * i, i2 = half_split ? i + D / 2 : 2 * i + 1;
      const double x1 = load(host.data(), row * D + i1, dtype), x2 = load(host.data(), row * D + i2, dtype);
      const double angle = static_cast<float>(d) * inv[i];  // the fp32 product HF forms
      const double e1 = x1 * std::cos(angle) - x2 * std::sin(angle);
      const double e2 = x2 * std::cos(angle) + x1 * std::sin(angle);
      worst = std::max({worst, std::fabs(load(out.data(), row * D + i1, dtype) - e1),
                        std::fabs(load(out.data(), row * D + i2, dtype) - e2)});
      kmax = std::max({kmax, std::fabs(x1), std::fabs(x2)});
    }
  }
  const bool ok = worst <= tolerance(dtype) * kmax;
  const char* names[] = {"f32", "f16", "bf16"};
  std::printf("%s B=%lld H=%lld T=%lld D=%lld %s %s: max|err| %.3g (limit %.3g)\n", ok ? "ok  " : "FAIL",
              (long long)B, (long long)H, (long long)T, (long long)D, half_split ? "half-split" : "interleaved",
              names[static_cast<int>(dtype)], worst, tolerance(dtype) * kmax);
  return ok;
}

}  // namespace

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device visible; the kernel was compiled and linked only\n");
    return 77;
  }
  std::mt19937 gen(1234);
  bool ok = true;
  const int64_t shapes[][4] = {{2, 7, 83, 80}, {1, 8, 257, 128}, {3, 1, 1, 64}, {1, 3, 5, 2}};
  for (const auto& s : shapes)
    for (bool half : {true, false})
      for (auto t : {KeyDtype::f32, KeyDtype::f16, KeyDtype::bf16}) ok &= run_case(s[0], s[1], s[2], s[3], half, t, gen);
  std::printf(ok ? "all kernel cases passed\n" : "kernel cases FAILED\n");
  return ok ? 0 : 1;
}
