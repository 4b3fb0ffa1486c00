// Shared by the standalone kernel tests (raw CUDA, no LibTorch, no GoogleTest): CUDA error
// checks, host-side element access per FloatDtype, and the skip rule (exit 77 without a
// device, which CTest reports as skipped, not passed).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "cuda/float_dtype.h"
#include "cuda/nf4_scales.cuh"

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

// Fresh random NF4 block scales, plain or double-quantized (random codes, nested absmax, a
// sorted random 256-entry table and an offset), with the per-block absmax the kernel must use,
// computed on the host as the CPU reference does (float product, then float sum).
struct RandomScales {
  RandomScales(int64_t blocks, bool double_quant, std::mt19937& gen) {
    std::uniform_real_distribution<float> unit(0.05f, 2.0f), sym(-1.0f, 1.0f);
    absmax.resize(blocks);
    if (!double_quant) {
      for (auto& a : absmax) a = unit(gen);
      plain = std::make_unique<DeviceBuffer<float>>(absmax);
      source.absmax = plain->ptr;
      return;
    }
    const int64_t nested_blocks = (blocks + 255) / 256;
    std::vector<uint8_t> q(blocks);
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& v : q) v = static_cast<uint8_t>(byte(gen));
    std::vector<float> nested(nested_blocks), code(256);
    for (auto& v : nested) v = unit(gen);
    for (auto& v : code) v = sym(gen);
    std::sort(code.begin(), code.end());
    const float offset = unit(gen);
    for (int64_t b = 0; b < blocks; ++b) {
      volatile float product = code[q[b]] * nested[b / 256];  // no contraction into an FMA
      absmax[b] = product + offset;
    }
    d_q = std::make_unique<DeviceBuffer<uint8_t>>(q);
    d_nested = std::make_unique<DeviceBuffer<float>>(nested);
    d_code = std::make_unique<DeviceBuffer<float>>(code);
    source.absmax_q = d_q->ptr;
    source.nested_absmax = d_nested->ptr;
    source.nested_code = d_code->ptr;
    source.offset = offset;
    source.nested_blocksize = 256;
  }
  std::vector<float> absmax;
  dkv::cuda::Nf4ScaleSource source;
  std::unique_ptr<DeviceBuffer<float>> plain, d_nested, d_code;
  std::unique_ptr<DeviceBuffer<uint8_t>> d_q;
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
