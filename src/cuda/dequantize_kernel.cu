// Dequantization kernels. NF4: each thread expands 4 packed bytes (one 32-bit load) into 8
// weights when the data is 4-byte aligned, else one byte into 2. int8: each thread expands 4
// codes of one row. Arithmetic in fp32, one rounding to the output dtype, as bitsandbytes'
// kDequantizeBlockwise does.
#include <cuda_runtime.h>

#include "dequantize_kernel.h"
#include "float_convert.cuh"

namespace dkv::cuda {

namespace {

constexpr int kThreads = 256;

unsigned grid_for(int64_t work) {
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? blocks : 65535);
}

// BYTES packed bytes per thread: 4 (one 32-bit load) or 1.
template <typename T, int BYTES>
__global__ void dequantize_nf4_kernel(DequantizeNf4Params p) {
  __shared__ float code[16], code256[256];
  load_code_tables(p.code, p.scales, code, code256);
  __syncthreads();
  T* out = static_cast<T*>(p.out);
  const int64_t nbytes = (p.numel + 1) / 2;
  const int64_t groups = (nbytes + BYTES - 1) / BYTES;
  for (int64_t g = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; g < groups;
       g += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint8_t bytes[BYTES];
    if (BYTES == 4 && (g + 1) * 4 <= nbytes) {
      const uint32_t word = reinterpret_cast<const uint32_t*>(p.packed)[g];
#pragma unroll
      for (int j = 0; j < BYTES; ++j) bytes[j] = static_cast<uint8_t>(word >> (8 * j));  // little-endian
    } else {
#pragma unroll
      for (int j = 0; j < BYTES; ++j) bytes[j] = g * BYTES + j < nbytes ? p.packed[g * BYTES + j] : 0;
    }
#pragma unroll
    for (int j = 0; j < BYTES; ++j) {
      const int64_t i = 2 * (g * BYTES + j);  // first of the byte's two weights
      if (i >= p.numel) break;
      // blocksize is even, so both weights of a byte share one absmax.
      const float scale = block_absmax(p.scales, code256, i / p.blocksize);
      out[i] = from_f<T>(code[bytes[j] >> 4] * scale);
      if (i + 1 < p.numel) out[i + 1] = from_f<T>(code[bytes[j] & 0x0F] * scale);
    }
  }
}

template <typename T>
__global__ void dequantize_int8_kernel(DequantizeInt8Params p) {
  T* out = static_cast<T*>(p.out);
  const int64_t n = p.rows * p.cols;
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; g < groups;
       g += static_cast<int64_t>(gridDim.x) * blockDim.x) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t i = 4 * g + j;
      if (i < n) out[i] = from_f<T>(static_cast<float>(p.q[i]) * p.scale[i / p.cols]);
    }
  }
}

template <typename T>
int launch_nf4(const DequantizeNf4Params& p, cudaStream_t stream) {
  const int64_t nbytes = (p.numel + 1) / 2;
  if (nbytes == 0) return cudaSuccess;
  if (reinterpret_cast<uintptr_t>(p.packed) % 4 == 0)
    dequantize_nf4_kernel<T, 4><<<grid_for((nbytes + 3) / 4), kThreads, 0, stream>>>(p);
  else
    dequantize_nf4_kernel<T, 1><<<grid_for(nbytes), kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

template <typename T>
int launch_int8(const DequantizeInt8Params& p, cudaStream_t stream) {
  const int64_t n = p.rows * p.cols;
  if (n == 0) return cudaSuccess;
  dequantize_int8_kernel<T><<<grid_for((n + 3) / 4), kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

int launch_dequantize_nf4(const DequantizeNf4Params& p, void* stream) {
  if (p.blocksize <= 0 || p.blocksize % 2 != 0) return cudaErrorInvalidValue;
  return dispatch_float_dtype(p.dtype, [&](auto t) { return launch_nf4<decltype(t)>(p, static_cast<cudaStream_t>(stream)); });
}

int launch_dequantize_int8_rows(const DequantizeInt8Params& p, void* stream) {
  return dispatch_float_dtype(p.dtype, [&](auto t) { return launch_int8<decltype(t)>(p, static_cast<cudaStream_t>(stream)); });
}

}  // namespace dkv::cuda
