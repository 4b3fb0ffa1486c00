// Where an NF4 kernel gets each block's absmax: a float32 array, or bitsandbytes' double
// quantization of it, undone per block inside the kernel (one launch per weight instead of an
// extra dequantization pass).
#pragma once

#include <cstdint>

namespace dkv::cuda {

struct Nf4ScaleSource {
  const float* absmax = nullptr;         // [blocks] plain; null when double-quantized
  const uint8_t* absmax_q = nullptr;     // [blocks]
  const float* nested_absmax = nullptr;  // [ceil(blocks / nested_blocksize)]
  const float* nested_code = nullptr;    // [256]
  float offset = 0;
  int64_t nested_blocksize = 256;
};

#ifdef __CUDACC__
// Copies the 16 NF4 codes and, when double-quantized, the 256-entry nested code into shared
// memory (indexing kernel parameters per lane would serialise the loads); call before any
// thread returns, then __syncthreads().
__device__ __forceinline__ void load_code_tables(const float* code16, const Nf4ScaleSource& s, float* code16_sh,
                                                 float* code256_sh) {
  for (int i = threadIdx.x; i < 16; i += blockDim.x) code16_sh[i] = code16[i];
  if (s.absmax == nullptr)
    for (int i = threadIdx.x; i < 256; i += blockDim.x) code256_sh[i] = s.nested_code[i];
}

// absmax of block b; the double-quantized form rounds the product and then the sum, as the
// CPU reference does (explicit _rn intrinsics: nvcc would otherwise fuse them into an FMA).
__device__ __forceinline__ float block_absmax(const Nf4ScaleSource& s, const float* code256_sh, int64_t b) {
  if (s.absmax != nullptr) return s.absmax[b];
  return __fadd_rn(__fmul_rn(code256_sh[s.absmax_q[b]], s.nested_absmax[b / s.nested_blocksize]), s.offset);
}
#endif

}  // namespace dkv::cuda
