// One nn.Linear weight as the decoder holds it: full precision, or quantized (NF4 or int8) and
// expanded to the compute dtype on each use, so that only one layer's weight at a time ever
// exists in full precision.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <variant>

#include "dkv/model/int8_weight.h"
#include "dkv/model/nf4_weight.h"
#include "dkv/model/quantization.h"

namespace dkv::model {

class LinearWeight {
 public:
  LinearWeight() = default;
  explicit LinearWeight(at::Tensor full);
  LinearWeight(Nf4Weight weight, at::ScalarType compute_dtype);
  LinearWeight(Int8Weight weight, at::ScalarType compute_dtype);

  // Quantizes `full` (on the CPU, as bitsandbytes' NF4 with double quantization, or int8 per
  // output channel) and moves the result to `device`; with Quantization::none it keeps `full`
  // converted to compute_dtype on `device`.
  static LinearWeight make(const at::Tensor& full, Quantization q, at::ScalarType compute_dtype,
                           at::Device device);

  bool defined() const { return !std::holds_alternative<std::monostate>(data_); }
  Quantization quantization() const;
  int64_t numel() const;
  int64_t storage_bytes() const;
  const Nf4Weight* nf4() const { return std::get_if<Nf4Weight>(&data_); }
  const Int8Weight* int8() const { return std::get_if<Int8Weight>(&data_); }

  // The [out, in] weight in the compute dtype (a fresh dequantized tensor when quantized).
  at::Tensor weight() const;
  // x @ weight()^T (+ bias), as nn.Linear.
  at::Tensor apply(const at::Tensor& x, const at::Tensor& bias = at::Tensor()) const;

 private:
  std::variant<std::monostate, at::Tensor, Nf4Weight, Int8Weight> data_;
  at::ScalarType compute_dtype_ = at::kFloat;
};

}  // namespace dkv::model
