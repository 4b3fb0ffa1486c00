// Random-weight checkpoints in exact HF format, for tests, benchmarks and the demo.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dkv/model/model_config.h"

namespace dkv::model {

struct TinyModelOptions {
  Architecture architecture = Architecture::llama;
  uint64_t seed = 0;
  int64_t vocab_size = 256;
  int64_t hidden_size = 64;
  int64_t intermediate_size = 128;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 4;
  int64_t num_key_value_heads = 2;
  double rope_theta = 10000.0;
  std::optional<int64_t> sliding_window;  // Mistral (all layers), Gemma 3 (sliding layers)
  // Gemma 3: head_dim independent of hidden/heads (0 = hidden / heads), every
  // `sliding_window_pattern`-th layer full (HF's layer_types rule), local RoPE theta, scaling of
  // q.k, optional linear RoPE scaling on the full layers and final logit soft-capping.
  int64_t head_dim = 0;
  int64_t sliding_window_pattern = 3;
  double rope_local_base_freq = 10000.0;
  std::optional<double> query_pre_attn_scalar;
  double rope_scaling_factor = 1.0;  // > 1: linear scaling (Gemma 3 only)
  std::optional<double> final_logit_softcapping;
  bool tie_word_embeddings = false;
  // Std of the random weights. HF's 0.02 makes attention nearly uniform, hiding position
  // errors; tests use ~0.1 so that a wrong RoPE shows in the logits.
  double init_scale = 0.02;
};

// The ModelConfig such a checkpoint declares.
ModelConfig tiny_model_config(const TinyModelOptions& options);

// Writes config.json, generation_config.json and model.safetensors (fp32) into `dir`
// (created if needed). Weights come from dkv::Rng(seed), so a seed names one model everywhere.
void write_tiny_model(const std::string& dir, const TinyModelOptions& options);

}  // namespace dkv::model
