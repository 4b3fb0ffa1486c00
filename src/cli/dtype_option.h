// Shared parsing of --dtype for subcommands that run a model.
#pragma once

#include <ATen/core/ScalarType.h>

#include <string>

#include "dkv/core/error.h"

namespace dkv::cli {

inline at::ScalarType parse_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return at::kFloat;
  if (name == "fp16" || name == "float16") return at::kHalf;
  if (name == "bf16" || name == "bfloat16") return at::kBFloat16;
  throw ConfigError("--dtype: unknown dtype '" + name + "' (fp32, fp16, bf16)");
}

}  // namespace dkv::cli
