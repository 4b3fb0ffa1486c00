// LibTorch reference for key re-rotation: rotation by delta with the model's own pairing.
// Written from the RoPE definition here rather than through cache::rotate, so that ops/ needs
// nothing above it and the cache's rotation has an independent check (tests/test_rope.cpp).
#include <ATen/ATen.h>

#include "dkv/ops/rotate_keys.h"

namespace dkv::ops {

void rotate_keys_ref_(at::Tensor& keys, const at::Tensor& delta, const RopeSpec& spec) {
  // keys: [B, Hkv, T, D]; delta: [B, T] int64. Angles delta x inv_freq in fp32, as HF.
  const auto D = keys.size(-1);
  auto angles = delta.to(at::kFloat).unsqueeze(-1) * inv_freq_on(spec, keys.device());  // [B, T, D/2]
  const bool half = spec.pairing == RopePairing::half_split;
  // half_split pairs (i, i + D/2): cos/sin = cat(f, f); interleaved pairs (2i, 2i+1): each f twice.
  auto emb = half ? at::cat({angles, angles}, -1) : at::repeat_interleave(angles, 2, -1);
  auto c = emb.cos().unsqueeze(1).to(keys.scalar_type());
  auto s = emb.sin().unsqueeze(1).to(keys.scalar_type());
  at::Tensor swapped;  // (-x2, x1) for every pair (x1, x2)
  if (half) {
    swapped = at::cat({-keys.narrow(-1, D / 2, D / 2), keys.narrow(-1, 0, D / 2)}, -1);
  } else {
    auto pairs = keys.unflatten(-1, {D / 2, 2});
    swapped = at::stack({-pairs.select(-1, 1), pairs.select(-1, 0)}, -1).flatten(-2);
  }
  keys.copy_(keys * c + swapped * s);
}

}  // namespace dkv::ops
