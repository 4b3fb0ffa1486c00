// BertConfig: an HF config.json for a BERT encoder (BertModel, as sentence-transformers uses it),
// validated on load.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace dkv::model {

// Field names copy HF config.json keys (transformers BertConfig).
struct BertConfig {
  std::string architecture_name;  // as written in `architectures`, e.g. "BertModel"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

// Parses and validates `config_json`; `where` (the file path) prefixes every error. Accepts
// model_type "bert" with hidden_act "gelu" (exact erf GELU) and absolute position embeddings;
// anything else is an InputError naming the key, the value and what is supported.
BertConfig parse_bert_config(const nlohmann::json& config_json, const std::string& where);
BertConfig load_bert_config(const std::string& config_path);

// The config.json HF's BertModel.save_pretrained writes for this config (transformers 4.43).
nlohmann::json to_hf_json(const BertConfig& config);

}  // namespace dkv::model
