// fp32 <-> element type conversions for kernels: arithmetic in fp32, one rounding (to nearest
// even) on the way out, as LibTorch's own fp16/bf16 kernels do.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "float_dtype.h"

namespace dkv::cuda {

template <typename T> __device__ __forceinline__ float to_f(T v);
template <> __device__ __forceinline__ float to_f(float v) { return v; }
template <> __device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
template <> __device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f(float v) { return v; }
template <> __device__ __forceinline__ __half from_f(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f(float v) { return __float2bfloat16_rn(v); }

// Calls fn(T{}) with T the element type of `t`; returns what fn returns (a cudaError_t).
template <typename Fn>
int dispatch_float_dtype(FloatDtype t, Fn&& fn) {
  switch (t) {
    case FloatDtype::f32: return fn(float{});
    case FloatDtype::f16: return fn(__half{});
    case FloatDtype::bf16: return fn(__nv_bfloat16{});
  }
  return 1;  // cudaErrorInvalidValue
}

// V elements moved as one access: 16-byte aligned groups compile to 128-bit loads and stores.
template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

}  // namespace dkv::cuda
