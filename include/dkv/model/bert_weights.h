// The one table mapping HF BertModel tensor names (modeling_bert) to encoder slots, and
// loading it from a Checkpoint with every name and shape checked first.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "dkv/model/bert_config.h"

namespace dkv::model {

class Checkpoint;

struct BertLayerWeights {
  at::Tensor query, key, value, attn_out;                      // [hidden, hidden], nn.Linear layout
  at::Tensor query_bias, key_bias, value_bias, attn_out_bias;  // [hidden]
  at::Tensor attn_norm, attn_norm_bias;                        // attention.output.LayerNorm
  at::Tensor intermediate, intermediate_bias;                  // [inter, hidden], [inter]
  at::Tensor output, output_bias;                              // [hidden, inter], [hidden]
  at::Tensor output_norm, output_norm_bias;                    // output.LayerNorm
};

struct BertWeights {
  at::Tensor word_embeddings;        // [V, hidden]
  at::Tensor position_embeddings;    // [max_position_embeddings, hidden]
  at::Tensor token_type_embeddings;  // [type_vocab_size, hidden]
  at::Tensor embed_norm, embed_norm_bias;  // embeddings.LayerNorm
  std::vector<BertLayerWeights> layers;
};

enum class BertWeightKind { embedding, norm, linear, bias };

struct BertWeightSlot {
  std::string name;            // HF tensor name without any "bert." prefix
  std::vector<int64_t> shape;  // expected shape from config.json
  BertWeightKind kind;
  std::function<at::Tensor&(BertWeights&)> slot;
};

// Every tensor the encoder needs (the pooler, unused by sentence-transformers, is excluded).
std::vector<BertWeightSlot> bert_weight_table(const BertConfig& config);

// The prefix the checkpoint's names carry: "" (BertModel, as sentence-transformers saves it) or
// "bert." (BertForMaskedLM and other heads), decided by which embeddings.word_embeddings.weight
// the file holds. Throws InputError naming the directory and both names when neither is there.
std::string bert_name_prefix(const Checkpoint& checkpoint);

// Checks that every tensor of the table exists (under the detected prefix) with its shape, all
// before loading any, then loads them converted to `dtype` on `device`. Errors name the file,
// tensor, expected and found shapes and the config.json keys that set them.
BertWeights load_bert_weights(const Checkpoint& checkpoint, const BertConfig& config,
                              at::ScalarType dtype, at::Device device);

}  // namespace dkv::model
