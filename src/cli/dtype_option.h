// Shared parsing of --dtype and --device for subcommands that run a model.
#pragma once

#include <ATen/Context.h>
#include <ATen/core/ScalarType.h>
#include <c10/core/Device.h>

#include <string>

#include "dkv/core/error.h"

namespace dkv::cli {

inline at::ScalarType parse_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return at::kFloat;
  if (name == "fp16" || name == "float16") return at::kHalf;
  if (name == "bf16" || name == "bfloat16") return at::kBFloat16;
  throw ConfigError("--dtype: unknown dtype '" + name + "' (fp32, fp16, bf16)");
}

// "cpu", "cuda" or "cuda:N", checked against the devices this LibTorch can see.
inline at::Device parse_device(const std::string& name) {
  if (name != "cpu" && name.rfind("cuda", 0) != 0)
    throw ConfigError("--device: unknown device '" + name + "' (cpu, cuda, cuda:N)");
  const at::Device device(name);
  if (device.is_cuda()) {
    const int visible = at::hasCUDA() ? static_cast<int>(at::getNumGPUs()) : 0;
    if (visible == 0 || (device.has_index() && device.index() >= visible))
      throw ConfigError("--device " + name + ": this dkv's LibTorch sees " + std::to_string(visible) +
                        " CUDA device(s)");
  }
  return device;
}

}  // namespace dkv::cli
