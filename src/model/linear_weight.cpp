// Full-precision or quantized nn.Linear weights.
#include "dkv/model/linear_weight.h"

#include <ATen/ATen.h>

#include "dkv/core/error.h"
#include "dkv/ops/nf4_matmul.h"

namespace dkv::model {

LinearWeight::LinearWeight(at::Tensor full) : data_(full), compute_dtype_(full.scalar_type()) {}

LinearWeight::LinearWeight(Nf4Weight weight, at::ScalarType compute_dtype)
    : data_(std::move(weight)), compute_dtype_(compute_dtype) {}

LinearWeight::LinearWeight(Int8Weight weight, at::ScalarType compute_dtype)
    : data_(std::move(weight)), compute_dtype_(compute_dtype) {}

LinearWeight LinearWeight::make(const at::Tensor& full, Quantization q, at::ScalarType compute_dtype,
                                at::Device device) {
  switch (q) {
    case Quantization::none: return LinearWeight(full.to(device, compute_dtype));
    case Quantization::nf4: return LinearWeight(quantize_nf4(full).to(device), compute_dtype);
    case Quantization::int8: return LinearWeight(quantize_int8_rows(full).to(device), compute_dtype);
  }
  throw InternalError("LinearWeight::make: unknown quantization");
}

Quantization LinearWeight::quantization() const {
  if (nf4()) return Quantization::nf4;
  if (int8()) return Quantization::int8;
  return Quantization::none;
}

int64_t LinearWeight::numel() const {
  if (const auto* t = std::get_if<at::Tensor>(&data_)) return t->numel();
  if (nf4()) return nf4()->numel();
  if (int8()) return int8()->numel();
  return 0;
}

int64_t LinearWeight::storage_bytes() const {
  if (const auto* t = std::get_if<at::Tensor>(&data_)) return t->numel() * static_cast<int64_t>(t->element_size());
  if (nf4()) return nf4()->storage_bytes();
  if (int8()) return int8()->storage_bytes();
  return 0;
}

at::Tensor LinearWeight::weight() const {
  if (const auto* t = std::get_if<at::Tensor>(&data_)) return *t;
  if (nf4()) return dequantize(*nf4(), compute_dtype_);
  if (int8()) return dequantize(*int8(), compute_dtype_);
  throw InternalError("LinearWeight::weight on an empty weight");
}

at::Tensor LinearWeight::apply(const at::Tensor& x, const at::Tensor& bias) const {
  if (const auto* q = nf4()) {
    // The op picks the fused kernel (CUDA, decode-sized inputs) or expand-then-multiply.
    const int64_t N = q->shape[0], K = q->shape[1];
    auto out_shape = x.sizes().vec();
    out_shape.back() = N;
    auto y = ops::nf4_matmul(x.reshape({-1, K}), q->packed, q->scales(), N, K, q->blocksize).view(out_shape);
    return bias.defined() ? y + bias : y;
  }
  const auto w = weight();
  return bias.defined() ? at::linear(x, w, bias) : at::linear(x, w);
}

}  // namespace dkv::model
