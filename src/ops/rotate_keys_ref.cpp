// LibTorch reference for key re-rotation: rotation by delta with the model's own pairing.
#include <ATen/ATen.h>

#include "dkv/ops/rotate_keys.h"

namespace dkv::ops {

void rotate_keys_ref_(at::Tensor& keys, const at::Tensor& delta, const cache::RopeSpec& spec) {
  keys.copy_(cache::rotate(keys, delta, spec));
}

}  // namespace dkv::ops
