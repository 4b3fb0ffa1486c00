// Key re-rotation kernel. One thread per rotation pair; angles delta x inv_freq in fp32 as HF
// computes them, cos/sin with full-precision sincosf (not the fast __sincosf intrinsics, whose
// error grows with the angle), the rotation in fp32, one rounding back to the key dtype.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "rotate_keys_kernel.h"

namespace dkv::cuda {

namespace {

template <typename T> __device__ float to_f(T v);
template <> __device__ float to_f(float v) { return v; }
template <> __device__ float to_f(__half v) { return __half2float(v); }
template <> __device__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T> __device__ T from_f(float v);
template <> __device__ float from_f(float v) { return v; }
template <> __device__ __half from_f(float v) { return __float2half_rn(v); }
template <> __device__ __nv_bfloat16 from_f(float v) { return __float2bfloat16_rn(v); }

template <typename T>
__global__ void rotate_keys_kernel(RotateKeysParams p) {
  T* keys = static_cast<T*>(p.keys);
  const int64_t half = p.D / 2;
  const int64_t pairs = p.B * p.H * p.T * half;
  for (int64_t n = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; n < pairs;
       n += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = n % half;          // frequency index
    const int64_t row = n / half;        // (b, h, t)
    const int64_t t = row % p.T;
    const int64_t b = row / (p.T * p.H);
    const int64_t d = p.delta[b * p.T + t];
    if (d == 0) continue;
    float s, c;
    sincosf(static_cast<float>(d) * p.inv_freq[i], &s, &c);
    T* k = keys + row * p.D;
    const int64_t i1 = p.half_split ? i : 2 * i;
    const int64_t i2 = p.half_split ? i + half : 2 * i + 1;
    const float x1 = to_f(k[i1]), x2 = to_f(k[i2]);
    k[i1] = from_f<T>(x1 * c - x2 * s);
    k[i2] = from_f<T>(x2 * c + x1 * s);
  }
}

template <typename T>
int launch(const RotateKeysParams& p, cudaStream_t stream) {
  const int64_t pairs = p.B * p.H * p.T * (p.D / 2);
  if (pairs == 0) return cudaSuccess;
  const int threads = 256;
  const int64_t blocks = (pairs + threads - 1) / threads;
  rotate_keys_kernel<T><<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), threads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

int launch_rotate_keys(const RotateKeysParams& p, void* stream) {
  auto s = static_cast<cudaStream_t>(stream);
  switch (p.dtype) {
    case KeyDtype::f32: return launch<float>(p, s);
    case KeyDtype::f16: return launch<__half>(p, s);
    case KeyDtype::bf16: return launch<__nv_bfloat16>(p, s);
  }
  return cudaErrorInvalidValue;
}

}  // namespace dkv::cuda
