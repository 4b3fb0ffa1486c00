// BertEncoder: an HF BertModel forward (embeddings, post-norm blocks) on token ids, returning
// the last hidden state. Pooling and normalisation belong to SentenceEmbedder.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "dkv/model/bert_config.h"
#include "dkv/model/bert_weights.h"

namespace dkv::model {

class BertEncoder {
 public:
  // Loads `dir`/config.json and the weights (model.safetensors or an index). Validates the
  // config and every tensor before loading; throws InputError naming file and key or tensor.
  static BertEncoder load(const std::string& dir, at::ScalarType dtype = at::kFloat,
                          at::Device device = at::kCPU);
  BertEncoder(BertConfig config, BertWeights weights, at::ScalarType dtype, at::Device device);

  // ids, attention_mask: [B, T] integer (mask 1 = token, 0 = padding); token_type_ids: [B, T]
  // or undefined (all zeros, as HF's buffered default). Positions are 0..T-1 for every row, as
  // HF BertEmbeddings does: right padding leaves real tokens' results unchanged, left padding
  // does not (the same holds in HF). Returns the last hidden state [B, T, hidden] in the model
  // dtype. Throws InputError for out-of-range ids or T > max_position_embeddings.
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& attention_mask,
                     const at::Tensor& token_type_ids = {}) const;

  const BertConfig& config() const { return config_; }
  at::ScalarType dtype() const { return dtype_; }
  at::Device device() const { return device_; }

 private:
  BertConfig config_;
  BertWeights w_;
  at::ScalarType dtype_;
  at::Device device_;
};

}  // namespace dkv::model
