// RoPE inverse frequencies following HF transformers (modeling_rope_utils).
#include "dkv/core/rope_spec.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <mutex>
#include <string>

#include "dkv/core/error.h"

namespace dkv {

at::Tensor inv_freq(const RopeSpec& spec) {
  DKV_CHECK(spec.rotary_dim > 0 && spec.rotary_dim % 2 == 0, "rotary_dim=", spec.rotary_dim);
  const auto dim = static_cast<double>(spec.rotary_dim);
  // HF: 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
  auto exponent = at::arange(0, spec.rotary_dim, 2, at::kLong).to(at::kFloat) / dim;
  auto inv = 1.0 / at::pow(spec.theta, exponent);
  const auto& s = spec.scaling;
  if (s.type == RopeScalingType::linear) {
    inv = inv / s.factor;
  } else if (s.type == RopeScalingType::llama3) {
    // HF `_compute_llama3_parameters`: long wavelengths slowed by `factor`, short ones kept,
    // the band between interpolated smoothly.
    const double old_ctx = s.original_max_position_embeddings;
    const double low_wavelen = old_ctx / s.low_freq_factor;
    const double high_wavelen = old_ctx / s.high_freq_factor;
    auto wavelen = 2 * M_PI / inv;
    auto scaled = at::where(wavelen > low_wavelen, inv / s.factor, inv);
    auto smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    auto smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    auto medium = at::logical_not(wavelen < high_wavelen) * at::logical_not(wavelen > low_wavelen);
    inv = at::where(medium, smoothed, scaled);
  }
  return inv.contiguous();
}

at::Tensor inv_freq_on(const RopeSpec& spec, at::Device device) {
  const auto& s = spec.scaling;
  const auto key = detail::concat(spec.rotary_dim, '/', spec.theta, '/', static_cast<int>(s.type), '/', s.factor,
                                  '/', s.low_freq_factor, '/', s.high_freq_factor, '/',
                                  s.original_max_position_embeddings, '/', device);
  static std::mutex mutex;
  static std::map<std::string, at::Tensor> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, inv_freq(spec).to(device)).first;
  return it->second;
}

}  // namespace dkv
