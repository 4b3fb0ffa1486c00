// RoPE angles and rotation following HF transformers (modeling_rope_utils, modeling_llama).
#include "dkv/cache/rope.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <mutex>
#include <string>

#include "dkv/core/error.h"

namespace dkv::cache {

std::string to_string(RopePairing pairing) {
  return pairing == RopePairing::half_split ? "half_split" : "interleaved";
}

std::string to_string(RopeScalingType type) {
  switch (type) {
    case RopeScalingType::none: return "default";
    case RopeScalingType::linear: return "linear";
    case RopeScalingType::llama3: return "llama3";
    case RopeScalingType::dynamic: return "dynamic";
    case RopeScalingType::yarn: return "yarn";
    case RopeScalingType::longrope: return "longrope";
    case RopeScalingType::su: return "su";
  }
  return "?";
}

RopeScalingType parse_rope_scaling_type(const std::string& name, const std::string& where) {
  for (auto t : {RopeScalingType::none, RopeScalingType::linear, RopeScalingType::llama3,
                 RopeScalingType::dynamic, RopeScalingType::yarn, RopeScalingType::longrope,
                 RopeScalingType::su})
    if (to_string(t) == name) return t;
  throw InputError(where + ": unknown rope_scaling type '" + name +
                   "' (known: default, linear, llama3, dynamic, yarn, longrope, su)");
}

bool supports_delta_rotation(const RopeSpec& spec) {
  switch (spec.scaling.type) {
    case RopeScalingType::none:
    case RopeScalingType::linear:
    case RopeScalingType::llama3: return true;
    default: return false;  // angles depend on sequence length or carry attention scaling
  }
}

std::pair<at::Tensor, at::Tensor> cos_sin(const RopeSpec& spec, const at::Tensor& pos) {
  DKV_CHECK(pos.scalar_type() == at::kLong, "positions must be int64");
  auto inv = inv_freq_on(spec, pos.device());
  // HF: (inv_freq[None, :, None].float() @ position_ids[:, None, :].float()).transpose(1, 2),
  // i.e. one fp32 product per (position, frequency): the same as a broadcast multiply.
  auto freqs = pos.to(at::kFloat).unsqueeze(-1) * inv;
  auto emb = spec.pairing == RopePairing::half_split ? at::cat({freqs, freqs}, -1)
                                                     : at::repeat_interleave(freqs, 2, -1);
  return {emb.cos(), emb.sin()};
}

namespace {
// The sign-flipped partner of each coordinate: (-x2, x1) for every pair (x1, x2).
at::Tensor pair_swap(const at::Tensor& x, RopePairing pairing) {
  const auto d = x.size(-1);
  if (pairing == RopePairing::half_split) {
    auto x1 = x.narrow(-1, 0, d / 2);
    auto x2 = x.narrow(-1, d / 2, d / 2);
    return at::cat({-x2, x1}, -1);
  }
  auto pairs = x.unflatten(-1, {d / 2, 2});
  auto x1 = pairs.select(-1, 0);
  auto x2 = pairs.select(-1, 1);
  return at::stack({-x2, x1}, -1).flatten(-2);
}
}  // namespace

at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                        RopePairing pairing) {
  // x: [B, H, T, D]; cos/sin: [B, T, D] -> broadcast over heads.
  auto c = cos.unsqueeze(1).to(x.scalar_type());
  auto s = sin.unsqueeze(1).to(x.scalar_type());
  return x * c + pair_swap(x, pairing) * s;
}

at::Tensor rotate(const at::Tensor& x, const at::Tensor& pos, const RopeSpec& spec) {
  DKV_CHECK(spec.rotary_dim == spec.head_dim, "partial rotary embeddings are not supported");
  auto [c, s] = cos_sin(spec, pos);
  return apply_rotary(x, c, s, spec.pairing);
}

}  // namespace dkv::cache
