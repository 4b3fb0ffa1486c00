// Fused NF4 matmul for decode steps. One warp per output feature n: its lanes walk W's row in
// 32-bit words (8 weights each, all in one absmax block, coalesced across the warp), expand
// them in registers, and accumulate the dot products with up to kNf4MatmulMaxRows activation
// rows in fp32; a warp shuffle reduction then gives y[t, n]. Reads 0.5 byte per weight where
// expanding then multiplying moves 2.5 (fp16) or 4.5 (fp32).
#include <cuda_runtime.h>

#include "float_convert.cuh"
#include "nf4_matmul_kernel.h"

namespace dkv::cuda {

namespace {

constexpr int kWarpsPerBlock = 8;

template <typename T>
__global__ void nf4_matmul_kernel(Nf4MatmulParams p) {
  constexpr int R = static_cast<int>(kNf4MatmulMaxRows);
  __shared__ float code[16], code256[256];
  load_code_tables(p.code, p.scales, code, code256);
  __syncthreads();
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (n >= p.N) return;  // whole warps exit together, after the block's last barrier
  const T* x = static_cast<const T*>(p.x);
  const uint32_t* row = reinterpret_cast<const uint32_t*>(p.packed + n * (p.K / 2));
  float acc[R];
#pragma unroll
  for (int t = 0; t < R; ++t) acc[t] = 0.f;
  for (int64_t w = lane; w < p.K / 8; w += 32) {
    const uint32_t word = row[w];
    const int64_t k0 = w * 8;
    const float scale = block_absmax(p.scales, code256, (n * p.K + k0) / p.blocksize);
    float wv[8];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const uint32_t byte = (word >> (8 * j)) & 0xFFu;  // little-endian: byte j of the word
      wv[2 * j] = code[byte >> 4] * scale;
      wv[2 * j + 1] = code[byte & 0x0Fu] * scale;
    }
#pragma unroll
    for (int t = 0; t < R; ++t) {
      if (t >= p.T) break;
      const T* xt = x + t * p.K + k0;
      float sum = 0.f;
#pragma unroll
      for (int j = 0; j < 8; ++j) sum += wv[j] * to_f(xt[j]);
      acc[t] += sum;
    }
  }
#pragma unroll
  for (int t = 0; t < R; ++t) {
    float v = acc[t];
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (lane == 0 && t < p.T) static_cast<T*>(p.y)[t * p.N + n] = from_f<T>(v);
  }
}

}  // namespace

int launch_nf4_matmul(const Nf4MatmulParams& p, void* stream) {
  if (p.T < 1 || p.T > kNf4MatmulMaxRows || p.K % 8 != 0 || p.blocksize % 8 != 0 || p.N < 1 ||
      reinterpret_cast<uintptr_t>(p.packed) % 4 != 0)
    return cudaErrorInvalidValue;
  const unsigned blocks = static_cast<unsigned>((p.N + kWarpsPerBlock - 1) / kWarpsPerBlock);
  return dispatch_float_dtype(p.dtype, [&](auto t) {
    nf4_matmul_kernel<decltype(t)><<<blocks, kWarpsPerBlock * 32, 0, static_cast<cudaStream_t>(stream)>>>(p);
    return static_cast<int>(cudaGetLastError());
  });
}

}  // namespace dkv::cuda
