// Entry checks for key re-rotation, then dispatch by device.
#include <ATen/ATen.h>

#include "cuda/launchers.h"
#include "dkv/core/error.h"
#include "dkv/ops/rotate_keys.h"

namespace dkv::ops {

void rotate_keys_(at::Tensor& keys, const at::Tensor& delta, const RopeSpec& spec) {
  if (spec.rotary_dim != spec.head_dim)  // the kernel and the reference rotate every coordinate
    throw InputError(detail::concat("rotate_keys_: partial rotary (rotary_dim ", spec.rotary_dim,
                                    " < head_dim ", spec.head_dim, ") is not supported"));
  if (keys.dim() != 4 || keys.size(3) != spec.head_dim)
    throw InputError(detail::concat("rotate_keys_: keys must be [B, Hkv, T, D=", spec.head_dim,
                                    "], got ", keys.sizes()));
  if (delta.dim() != 2 || delta.size(0) != keys.size(0) || delta.size(1) != keys.size(2))
    throw InputError(detail::concat("rotate_keys_: delta must be [B=", keys.size(0),
                                    ", T=", keys.size(2), "], got ", delta.sizes()));
  if (delta.scalar_type() != at::kLong)
    throw InputError("rotate_keys_: delta must be int64");
  if (delta.device() != keys.device())
    throw InputError("rotate_keys_: keys and delta are on different devices");
  const auto dtype = keys.scalar_type();
  if (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16)
    throw InputError("rotate_keys_: keys must be fp32, fp16 or bf16");
  if (keys.is_cuda()) {
    cuda::rotate_keys(keys, delta, spec);
    return;
  }
  rotate_keys_ref_(keys, delta, spec);
}

}  // namespace dkv::ops
