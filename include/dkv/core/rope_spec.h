// A model's RoPE parameters and their inverse frequencies. They live in core because both
// sides of the key re-rotation seam need them: ops/ (the op, its reference and its CUDA
// launcher) and cache/ (the rest of the RoPE math and KvCache, which calls the op).
// cache/rope.h re-exports them under cache:: (cache::RopeSpec, cache::inv_freq_on, ...).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace dkv {

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

// inv_freq: [rotary_dim/2] fp32 on CPU, computed with the same fp32 ops as HF's
// `_compute_default_rope_parameters` (+ linear / llama3 adjustments).
at::Tensor inv_freq(const RopeSpec& spec);
// The same values on `device`, computed and copied once per (spec, device) and then reused:
// every forward and every re-positioning needs them, and a GPU copy per call would stall.
at::Tensor inv_freq_on(const RopeSpec& spec, at::Device device);

}  // namespace dkv
