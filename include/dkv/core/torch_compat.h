// The one place where LibTorch release differences live (Debian's 1.13 CPU build here,
// current 2.x with CUDA on clusters).
#pragma once

#include <torch/version.h>

#if TORCH_VERSION_MAJOR >= 2
#define DKV_TORCH_HAS_SDPA 1
#else
#define DKV_TORCH_HAS_SDPA 0
#endif

namespace dkv::compat {

inline constexpr int kTorchMajor = TORCH_VERSION_MAJOR;
inline constexpr int kTorchMinor = TORCH_VERSION_MINOR;

}  // namespace dkv::compat
