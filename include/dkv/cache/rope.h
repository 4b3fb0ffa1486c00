// RoPE math shared by the decoder and the KV cache: inverse frequencies, angles, pairing
// conventions and rotation. Angles are always computed in fp32 as inv_freq x position, as HF
// does, so that dkv's rotated keys match HF's bit for bit in fp32.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace dkv::cache {

// Which coordinates form a rotation pair.
//  half_split:  (i, i + D/2), HF `rotate_half`; Llama/Mistral/Qwen2 HF weights are laid out for it.
//  interleaved: (2i, 2i + 1), GPT-J / Meta's original checkpoints. Applying it to HF Llama weights
//               scrambles every key: the original study's bug.
enum class RopePairing { half_split, interleaved };

// HF `rope_scaling.rope_type`. Only types whose rotation is a pure function of (inv_freq, pos)
// compose exactly under a delta rotation; the others are loadable but not re-positionable.
enum class RopeScalingType { none, linear, llama3, dynamic, yarn, longrope, su };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::none;
  double factor = 1.0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  double original_max_position_embeddings = 8192;  // llama3
};

struct RopeSpec {
  int64_t head_dim = 0;       // D
  int64_t rotary_dim = 0;     // coordinates rotated (== head_dim for Llama/Mistral/Qwen2)
  double theta = 10000.0;     // HF `rope_theta`
  RopePairing pairing = RopePairing::half_split;
  RopeScaling scaling;
};

std::string to_string(RopePairing pairing);
std::string to_string(RopeScalingType type);
// Parses an HF `rope_type`/`type` string; throws InputError listing the known names.
RopeScalingType parse_rope_scaling_type(const std::string& name, const std::string& where);

// True when rotating by p then by delta equals rotating by p + delta (plain, linear, llama3).
bool supports_delta_rotation(const RopeSpec& spec);

// inv_freq: [rotary_dim/2] fp32 on CPU, computed with the same fp32 ops as HF's
// `_compute_default_rope_parameters` (+ linear / llama3 adjustments).
at::Tensor inv_freq(const RopeSpec& spec);
// The same values on `device`, computed and copied once per (spec, device) and then reused:
// every forward and every re-positioning needs them, and a GPU copy per call would stall.
at::Tensor inv_freq_on(const RopeSpec& spec, at::Device device);

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
