// Key re-rotation: the CPU/CUDA seam for moving cached keys to new RoPE positions.
#pragma once

#include <ATen/core/Tensor.h>

#include "dkv/core/rope_spec.h"

namespace dkv::ops {

// Rotates cached keys in place by a RoPE position delta per entry:
//   keys:  [B, Hkv, T, D], fp32/fp16/bf16, CPU or CUDA, contiguous in D
//   delta: [B, T] int64 (same device), 0 leaves an entry unchanged
// Angles are delta x inv_freq in fp32 (cache::inv_freq_on). Exact as a position change only when
// cache::supports_delta_rotation(spec); callers check that (KvCache::reposition does).
// Throws InputError on shape/dtype/device mismatches; a CUDA tensor in a build without CUDA
// is an error, never a silent CPU fallback.
void rotate_keys_(at::Tensor& keys, const at::Tensor& delta, const RopeSpec& spec);

// The LibTorch reference (the specification the CUDA kernel is tested against).
void rotate_keys_ref_(at::Tensor& keys, const at::Tensor& delta, const RopeSpec& spec);

}  // namespace dkv::ops
