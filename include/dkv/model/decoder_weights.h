// The one table mapping HF tensor names of Llama/Mistral/Qwen2/Gemma 3 checkpoints to decoder slots,
// and loading it from a Checkpoint with every name and shape checked first.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "dkv/model/linear_weight.h"
#include "dkv/model/model_config.h"

namespace dkv::model {

class Checkpoint;

struct LayerWeights {
  at::Tensor input_layernorm, post_attention_layernorm;  // [hidden]
  LinearWeight q_proj, k_proj, v_proj, o_proj;           // [out, in], as nn.Linear stores them
  at::Tensor q_bias, k_bias, v_bias;                     // defined when attention_bias
  LinearWeight gate_proj, up_proj, down_proj;
  at::Tensor gate_bias, up_bias, down_bias;              // defined when mlp_bias
  // Gemma 3 only (applied as 1 + w): q/k norms [head_dim]; norms around the MLP [hidden]
  // (post_attention_layernorm then normalises the attention output, not the MLP input).
  at::Tensor q_norm, k_norm, pre_feedforward_layernorm, post_feedforward_layernorm;
};

struct DecoderWeights {
  at::Tensor embed_tokens;  // [V, hidden]
  std::vector<LayerWeights> layers;
  at::Tensor norm;     // [hidden]
  at::Tensor lm_head;  // [V, hidden]; the embedding itself when tie_word_embeddings. Never
                       // quantized (HF's bitsandbytes integration skips lm_head too)
};

// linear: the decoder blocks' projections, the weights quantization applies to.
enum class WeightKind { embedding, norm, linear, bias, lm_head };

struct WeightSlot {
  std::string name;            // HF tensor name
  std::vector<int64_t> shape;  // expected shape from config.json
  WeightKind kind;
  std::function<at::Tensor&(DecoderWeights&)> tensor;        // every kind but linear
  std::function<LinearWeight&(DecoderWeights&)> linear;      // kind linear

  // Stores a full-precision tensor (already in the run dtype and on the device) in the slot.
  void assign(DecoderWeights& w, at::Tensor value) const;
};

// Every tensor the architecture needs, in checkpoint order (tied lm_head excluded).
std::vector<WeightSlot> decoder_weight_table(const ModelConfig& config);

// Checks that every tensor of the table exists with its shape (all before loading any), then
// loads them converted to `dtype` on `device`, quantizing the linear ones one at a time as
// they are read (so the full-precision model never exists at once). Errors name the file,
// tensor, expected and found shapes and the config.json keys that set them.
DecoderWeights load_decoder_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                                    at::ScalarType dtype, at::Device device,
                                    Quantization quantization = Quantization::none);

}  // namespace dkv::model
