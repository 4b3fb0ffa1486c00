// Key re-rotation kernel. Each thread rotates V consecutive frequency indices of one key row,
// moving them as 16-byte vectors where alignment allows. Angles delta x inv_freq in fp32 as HF
// computes them, cos/sin with full-precision sincosf (not the fast __sincosf intrinsics, whose
// error grows with the angle), the rotation in fp32, one rounding back to the key dtype.
#include <cuda_runtime.h>

#include "float_convert.cuh"
#include "rotate_keys_kernel.h"

namespace dkv::cuda {

namespace {

// Rotates the pairs (x1[j], x2[j]) for frequency indices i0 + j, j < V.
template <int V>
__device__ __forceinline__ void rotate_pairs(float* x1, float* x2, int64_t d, const float* inv_freq,
                                             int64_t i0) {
#pragma unroll
  for (int j = 0; j < V; ++j) {
    float s, c;
    sincosf(static_cast<float>(d) * inv_freq[i0 + j], &s, &c);
    const float a = x1[j], b = x2[j];
    x1[j] = a * c - b * s;
    x2[j] = b * c + a * s;
  }
}

template <typename T, int V>
__global__ void rotate_keys_kernel(RotateKeysParams p) {
  using VecT = Vec<T, V>;
  T* keys = static_cast<T*>(p.keys);
  const int64_t half = p.D / 2;
  const int64_t groups = half / V;  // per key row
  const int64_t total = p.B * p.H * p.T * groups;
  for (int64_t n = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; n < total;
       n += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t g = n % groups;
    const int64_t row = n / groups;  // (b, h, t)
    const int64_t t = row % p.T;
    const int64_t b = row / (p.T * p.H);
    const int64_t d = p.delta[b * p.T + t];
    if (d == 0) continue;
    T* k = keys + row * p.D;
    const int64_t i0 = g * V;
    float x1[V], x2[V];
    if (p.half_split) {
      // HF rotate_half: element i pairs with i + D/2; both runs are contiguous.
      VecT a = *reinterpret_cast<const VecT*>(k + i0);
      VecT c = *reinterpret_cast<const VecT*>(k + half + i0);
#pragma unroll
      for (int j = 0; j < V; ++j) x1[j] = to_f(a.v[j]), x2[j] = to_f(c.v[j]);
      rotate_pairs<V>(x1, x2, d, p.inv_freq, i0);
#pragma unroll
      for (int j = 0; j < V; ++j) a.v[j] = from_f<T>(x1[j]), c.v[j] = from_f<T>(x2[j]);
      *reinterpret_cast<VecT*>(k + i0) = a;
      *reinterpret_cast<VecT*>(k + half + i0) = c;
    } else {
      // Interleaved (GPT-J): element 2i pairs with 2i + 1; V pairs span 2V contiguous
      // elements, moved as two vectors.
      VecT lo = *reinterpret_cast<const VecT*>(k + 2 * i0);
      VecT hi = *reinterpret_cast<const VecT*>(k + 2 * i0 + V);
      float e[2 * V];
#pragma unroll
      for (int j = 0; j < V; ++j) e[j] = to_f(lo.v[j]), e[V + j] = to_f(hi.v[j]);
#pragma unroll
      for (int j = 0; j < V; ++j) x1[j] = e[2 * j], x2[j] = e[2 * j + 1];
      rotate_pairs<V>(x1, x2, d, p.inv_freq, i0);
#pragma unroll
      for (int j = 0; j < V; ++j) e[2 * j] = x1[j], e[2 * j + 1] = x2[j];
#pragma unroll
      for (int j = 0; j < V; ++j) lo.v[j] = from_f<T>(e[j]), hi.v[j] = from_f<T>(e[V + j]);
      *reinterpret_cast<VecT*>(k + 2 * i0) = lo;
      *reinterpret_cast<VecT*>(k + 2 * i0 + V) = hi;
    }
  }
}

template <typename T>
constexpr int kVectorWidth = 16 / sizeof(T);

template <typename T>
bool can_vectorize(const RotateKeysParams& p) {
  constexpr int V = kVectorWidth<T>;
  return reinterpret_cast<uintptr_t>(p.keys) % 16 == 0 && (p.D / 2) % V == 0;
}

template <typename T, int V>
int launch_width(const RotateKeysParams& p, cudaStream_t stream) {
  const int64_t total = p.B * p.H * p.T * (p.D / 2 / V);
  if (total == 0) return cudaSuccess;
  const int threads = 256;
  const int64_t blocks = (total + threads - 1) / threads;
  rotate_keys_kernel<T, V><<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), threads, 0, stream>>>(p);
  return cudaGetLastError();
}

template <typename T>
int launch(const RotateKeysParams& p, cudaStream_t stream) {
  return can_vectorize<T>(p) ? launch_width<T, kVectorWidth<T>>(p, stream) : launch_width<T, 1>(p, stream);
}

}  // namespace

int rotate_keys_vector_width(const RotateKeysParams& p) {
  return dispatch_float_dtype(p.dtype, [&](auto t) {
    using T = decltype(t);
    return can_vectorize<T>(p) ? kVectorWidth<T> : 1;
  });
}

int launch_rotate_keys(const RotateKeysParams& p, void* stream) {
  return dispatch_float_dtype(p.dtype, [&](auto t) { return launch<decltype(t)>(p, static_cast<cudaStream_t>(stream)); });
}

}  // namespace dkv::cuda
