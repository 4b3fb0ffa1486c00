// Shared by the LibTorch launchers: dtype mapping and launch-error reporting.
#pragma once

#include <ATen/core/Tensor.h>
#include <cuda_runtime.h>

#include <string>

#include "cuda/float_dtype.h"
#include "dkv/core/error.h"

namespace dkv::cuda {

// Callers have checked that t is fp32, fp16 or bf16.
inline FloatDtype float_dtype(at::ScalarType t) {
  return t == at::kFloat ? FloatDtype::f32 : t == at::kHalf ? FloatDtype::f16 : FloatDtype::bf16;
}

inline void check_launch(int rc, const char* what) {
  if (rc != cudaSuccess)
    throw IoError(std::string(what) + " kernel launch: " + cudaGetErrorString(static_cast<cudaError_t>(rc)));
}

}  // namespace dkv::cuda
