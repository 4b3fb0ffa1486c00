// LibTorch launcher for the key re-rotation kernel (built only against a LibTorch with CUDA).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "cuda/launch_util.h"
#include "cuda/launchers.h"
#include "cuda/rotate_keys_kernel.h"

namespace dkv::cuda {

void rotate_keys(at::Tensor& keys, const at::Tensor& delta, const RopeSpec& spec) {
  const c10::cuda::CUDAGuard guard(keys.device());
  DKV_CHECK(keys.is_contiguous(), "rotate_keys: keys must be contiguous");
  auto d = delta.contiguous();
  const auto inv = inv_freq_on(spec, keys.device());
  RotateKeysParams p{};
  p.keys = keys.data_ptr();
  p.delta = d.data_ptr<int64_t>();
  p.inv_freq = inv.data_ptr<float>();
  p.B = keys.size(0);
  p.H = keys.size(1);
  p.T = keys.size(2);
  p.D = keys.size(3);
  p.half_split = spec.pairing == RopePairing::half_split;
  p.dtype = float_dtype(keys.scalar_type());
  check_launch(launch_rotate_keys(p, c10::cuda::getCurrentCUDAStream().stream()), "rotate_keys");
}

}  // namespace dkv::cuda
