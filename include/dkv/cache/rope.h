// RoPE math shared by the decoder and the KV cache: inverse frequencies, angles, pairing
// conventions and rotation. Angles are always computed in fp32 as inv_freq x position, as HF
// does, so that dkv's rotated keys match HF's bit for bit in fp32.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "dkv/core/rope_spec.h"

namespace dkv::cache {

// The parameter types (core/rope_spec.h), under the names the cache and model code use.
using RopePairing = ::dkv::RopePairing;
using RopeScalingType = ::dkv::RopeScalingType;
using RopeScaling = ::dkv::RopeScaling;
using RopeSpec = ::dkv::RopeSpec;

std::string to_string(RopePairing pairing);
std::string to_string(RopeScalingType type);
// Parses an HF `rope_type`/`type` string; throws InputError listing the known names.
RopeScalingType parse_rope_scaling_type(const std::string& name, const std::string& where);

// True when rotating by p then by delta equals rotating by p + delta (plain, linear, llama3).
bool supports_delta_rotation(const RopeSpec& spec);

// inv_freq and inv_freq_on: see core/rope_spec.h.
using ::dkv::inv_freq;
using ::dkv::inv_freq_on;

// cos, sin: [..., rotary_dim] fp32 for integer positions `pos` (any shape, int64), laid out
// for the spec's pairing: half_split -> cat(freqs, freqs), interleaved -> each freq repeated twice.
// Angles = inv_freq(fp32) * pos(fp32), as HF's LlamaRotaryEmbedding.forward.
std::pair<at::Tensor, at::Tensor> cos_sin(const RopeSpec& spec, const at::Tensor& pos);

// x * cos + pair_swap(x) * sin over the last dim. x: [B, H, T, D]; cos/sin: [B, T, D] fp32, cast
// to x's dtype first (HF returns cos/sin in the activation dtype). Returns a new tensor.
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                        RopePairing pairing);

// Rotates x: [B, H, T, D] at positions pos: [B, T].
at::Tensor rotate(const at::Tensor& x, const at::Tensor& pos, const RopeSpec& spec);

}  // namespace dkv::cache
