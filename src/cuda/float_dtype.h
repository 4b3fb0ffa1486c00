// The floating-point element types dkv's raw-CUDA kernels read and write (no LibTorch here).
#pragma once

namespace dkv::cuda {

enum class FloatDtype { f32, f16, bf16 };

}  // namespace dkv::cuda
