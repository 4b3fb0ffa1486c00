// ModelConfig: an HF config.json for the decoder families dkv runs, validated on load.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

#include "dkv/cache/rope.h"
#include "dkv/model/quantization.h"

namespace dkv::model {

enum class Architecture { llama, mistral, qwen2, gemma3 };

// HF `hidden_activation`/`hidden_act`: silu (Llama family), gelu_pytorch_tanh (Gemma 3's GeGLU).
enum class Activation { silu, gelu_tanh };

// Field names copy HF config.json keys.
struct ModelConfig {
  Architecture architecture = Architecture::llama;
  std::string architecture_name;  // as written in `architectures`, e.g. "MistralForCausalLM"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  cache::RopeScaling rope_scaling;
  std::optional<int64_t> sliding_window;  // Mistral (every layer), Gemma 3 (sliding layers)
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (Qwen2 always, Llama when attention_bias)
  bool mlp_bias = false;
  int64_t max_position_embeddings = 0;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  // How the checkpoint's linear weights are stored: none, or nf4 when config.json carries HF's
  // bitsandbytes quantization_config with load_in_4bit and bnb_4bit_quant_type "nf4".
  Quantization saved_quantization = Quantization::none;

  // Gemma 3 (HF Gemma3TextConfig, transformers 4.56 key set). For the other families these
  // keep their defaults, which leave the Llama forward unchanged.
  Activation hidden_activation = Activation::silu;
  std::vector<bool> layer_sliding;  // per layer: "sliding_attention" (true) / "full_attention";
                                    // empty = every layer slides iff sliding_window is set
  double rope_local_base_freq = 10000.0;  // RoPE theta of the sliding layers (no scaling)
  std::optional<double> query_pre_attn_scalar;  // scores scaled by its -1/2 power; unset = head_dim
  std::optional<double> final_logit_softcapping;  // logits = cap * tanh(logits / cap)
  // Gemma 3 only: embeddings x sqrt(hidden), RMSNorm weights applied as (1 + w) in fp32,
  // q/k norms, pre/post attention and feed-forward norms.
  bool gemma() const { return architecture == Architecture::gemma3; }
  bool layer_is_sliding(int64_t layer) const;
  double attention_scale() const;  // multiplier of q.k

  // RoPE as the architecture's HF code applies it (half-split rotate_half for all four): the
  // global (full-attention) layers' spec.
  cache::RopeSpec rope() const;
  // Layer `layer`'s spec: Gemma 3's sliding layers use rope_local_base_freq without scaling.
  cache::RopeSpec layer_rope(int64_t layer) const;
};

std::string to_string(Architecture arch);

// Parses and validates `config_json`; `where` (the file path) prefixes every error.
// Throws InputError naming the key on a missing/ill-typed key or an unsupported value.
ModelConfig parse_model_config(const nlohmann::json& config_json, const std::string& where);
ModelConfig load_model_config(const std::string& config_path);

// The config.json HF's `save_pretrained` writes for this config (transformers 4.43 key set).
nlohmann::json to_hf_json(const ModelConfig& config);

}  // namespace dkv::model
