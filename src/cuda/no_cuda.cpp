// Launchers for builds without CUDA: asking for a CUDA op is an error, never a CPU fallback.
#include "cuda/launchers.h"
#include "dkv/core/error.h"

namespace dkv::cuda {

void rotate_keys(at::Tensor&, const at::Tensor&, const cache::RopeSpec&) {
  throw Error("rotate_keys: a CUDA tensor was given but dkv was built without CUDA "
              "(reconfigure with -DDKV_WITH_CUDA=ON against a LibTorch with CUDA)");
}

}  // namespace dkv::cuda
