// Shared by the standalone kernel tests (raw CUDA, no LibTorch, no GoogleTest): CUDA error
// checks, host-side element access per FloatDtype, and the skip rule (exit 77 without a
// device, which CTest reports as skipped, not passed).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cuda/float_dtype.h"

namespace dkv::cuda::test {

#define CHECK_CUDA(call)                                                              \
  do {                                                                                \
    cudaError_t e_ = (call);                                                          \
    if (e_ != cudaSuccess) {                                                          \
      std::printf("FAIL: %s: %s\n", #call, cudaGetErrorString(e_));                   \
      std::exit(1);                                                                   \
    }                                                                                 \
  } while (0)

inline const char* dtype_name(FloatDtype t) {
  return t == FloatDtype::f32 ? "f32" : t == FloatDtype::f16 ? "f16" : "bf16";
}
inline size_t elem_size(FloatDtype t) { return t == FloatDtype::f32 ? 4 : 2; }

inline void store(void* base, size_t i, FloatDtype t, float v) {
  if (t == FloatDtype::f32) static_cast<float*>(base)[i] = v;
  else if (t == FloatDtype::f16) static_cast<__half*>(base)[i] = __float2half_rn(v);
  else static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(v);
}
inline float load(const void* base, size_t i, FloatDtype t) {
  if (t == FloatDtype::f32) return static_cast<const float*>(base)[i];
  if (t == FloatDtype::f16) return __half2float(static_cast<const __half*>(base)[i]);
  return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
}

// A device copy of a host vector, freed with the object.
template <typename T>
struct DeviceBuffer {
  explicit DeviceBuffer(const std::vector<T>& host) : n(host.size()) {
    CHECK_CUDA(cudaMalloc(&ptr, n * sizeof(T) + 16));
    CHECK_CUDA(cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  std::vector<T> to_host() const {
    std::vector<T> out(n);
    CHECK_CUDA(cudaMemcpy(out.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost));
    return out;
  }
  T* ptr = nullptr;
  size_t n;
};

// Exits with 77 when no device is visible: the kernels were compiled and linked only.
inline void require_device() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("SKIP: no CUDA device visible; the kernels were compiled and linked only\n");
    std::exit(77);
  }
}

}  // namespace dkv::cuda::test
