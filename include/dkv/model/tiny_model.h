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
  std::optional<int64_t> sliding_window;  // Mistral only
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
