// HF tensor names for the Llama family (modeling_llama / modeling_mistral / modeling_qwen2) and
// Gemma 3 (modeling_gemma3: four extra norms per block, no lm_head when tied).
#include "dkv/model/decoder_weights.h"

#include <ATen/ATen.h>

#include "dkv/core/error.h"
#include "dkv/model/bnb_checkpoint.h"
#include "dkv/model/checkpoint.h"

namespace dkv::model {

namespace {
using TensorRef = std::function<at::Tensor&(DecoderWeights&)>;
using LinearRef = std::function<LinearWeight&(DecoderWeights&)>;

WeightSlot tensor_slot(std::string name, std::vector<int64_t> shape, WeightKind kind, TensorRef ref) {
  return {std::move(name), std::move(shape), kind, std::move(ref), nullptr};
}
WeightSlot linear_slot(std::string name, std::vector<int64_t> shape, LinearRef ref) {
  return {std::move(name), std::move(shape), WeightKind::linear, nullptr, std::move(ref)};
}
}  // namespace

void WeightSlot::assign(DecoderWeights& w, at::Tensor value) const {
  if (kind == WeightKind::linear)
    linear(w) = LinearWeight(std::move(value));
  else
    tensor(w) = std::move(value);
}

std::vector<WeightSlot> decoder_weight_table(const ModelConfig& c) {
  const int64_t hidden = c.hidden_size, inter = c.intermediate_size;
  const int64_t q_out = c.num_attention_heads * c.head_dim;
  const int64_t kv_out = c.num_key_value_heads * c.head_dim;
  std::vector<WeightSlot> t;
  t.push_back(tensor_slot("model.embed_tokens.weight", {c.vocab_size, hidden}, WeightKind::embedding,
                          [](DecoderWeights& w) -> at::Tensor& { return w.embed_tokens; }));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const auto p = "model.layers." + std::to_string(i) + ".";
    auto tensor = [&](const std::string& name, std::vector<int64_t> shape, WeightKind kind,
                      at::Tensor LayerWeights::*member) {
      t.push_back(tensor_slot(p + name, std::move(shape), kind,
                              [i, member](DecoderWeights& w) -> at::Tensor& { return w.layers[i].*member; }));
    };
    auto linear = [&](const std::string& name, std::vector<int64_t> shape, LinearWeight LayerWeights::*member) {
      t.push_back(linear_slot(p + name, std::move(shape),
                              [i, member](DecoderWeights& w) -> LinearWeight& { return w.layers[i].*member; }));
    };
    tensor("input_layernorm.weight", {hidden}, WeightKind::norm, &LayerWeights::input_layernorm);
    linear("self_attn.q_proj.weight", {q_out, hidden}, &LayerWeights::q_proj);
    linear("self_attn.k_proj.weight", {kv_out, hidden}, &LayerWeights::k_proj);
    linear("self_attn.v_proj.weight", {kv_out, hidden}, &LayerWeights::v_proj);
    if (c.attention_bias) {
      tensor("self_attn.q_proj.bias", {q_out}, WeightKind::bias, &LayerWeights::q_bias);
      tensor("self_attn.k_proj.bias", {kv_out}, WeightKind::bias, &LayerWeights::k_bias);
      tensor("self_attn.v_proj.bias", {kv_out}, WeightKind::bias, &LayerWeights::v_bias);
    }
    linear("self_attn.o_proj.weight", {hidden, q_out}, &LayerWeights::o_proj);
    tensor("post_attention_layernorm.weight", {hidden}, WeightKind::norm, &LayerWeights::post_attention_layernorm);
    if (c.gemma()) {
      tensor("self_attn.q_norm.weight", {c.head_dim}, WeightKind::norm, &LayerWeights::q_norm);
      tensor("self_attn.k_norm.weight", {c.head_dim}, WeightKind::norm, &LayerWeights::k_norm);
      tensor("pre_feedforward_layernorm.weight", {hidden}, WeightKind::norm, &LayerWeights::pre_feedforward_layernorm);
      tensor("post_feedforward_layernorm.weight", {hidden}, WeightKind::norm, &LayerWeights::post_feedforward_layernorm);
    }
    linear("mlp.gate_proj.weight", {inter, hidden}, &LayerWeights::gate_proj);
    linear("mlp.up_proj.weight", {inter, hidden}, &LayerWeights::up_proj);
    linear("mlp.down_proj.weight", {hidden, inter}, &LayerWeights::down_proj);
    if (c.mlp_bias) {
      tensor("mlp.gate_proj.bias", {inter}, WeightKind::bias, &LayerWeights::gate_bias);
      tensor("mlp.up_proj.bias", {inter}, WeightKind::bias, &LayerWeights::up_bias);
      tensor("mlp.down_proj.bias", {hidden}, WeightKind::bias, &LayerWeights::down_bias);
    }
  }
  t.push_back(tensor_slot("model.norm.weight", {hidden}, WeightKind::norm,
                          [](DecoderWeights& w) -> at::Tensor& { return w.norm; }));
  if (!c.tie_word_embeddings)
    t.push_back(tensor_slot("lm_head.weight", {c.vocab_size, hidden}, WeightKind::lm_head,
                            [](DecoderWeights& w) -> at::Tensor& { return w.lm_head; }));
  return t;
}

namespace {
std::string shape_hint(const std::string& name) {
  if (name.find("q_norm") != std::string::npos || name.find("k_norm") != std::string::npos)
    return " (config.json: head_dim)";
  if (name.find("k_proj") != std::string::npos || name.find("v_proj") != std::string::npos)
    return " (config.json: num_key_value_heads, head_dim, hidden_size)";
  if (name.find("q_proj") != std::string::npos || name.find("o_proj") != std::string::npos)
    return " (config.json: num_attention_heads, head_dim, hidden_size)";
  if (name.find("mlp.") != std::string::npos) return " (config.json: intermediate_size, hidden_size)";
  if (name.find("embed") != std::string::npos || name.find("lm_head") != std::string::npos)
    return " (config.json: vocab_size, hidden_size)";
  return " (config.json: hidden_size)";
}
}  // namespace

namespace {
// Gemma3ForConditionalGeneration checkpoints hold the text decoder under
// "model.language_model." (transformers >= 4.52) or "language_model.model." (earlier files,
// and lm_head as "language_model.lm_head.weight"); the vision tower is not loaded.
void rename_for_multimodal(std::vector<WeightSlot>& table, const Checkpoint& ckpt) {
  for (auto& slot : table) {
    const bool head = slot.name == "lm_head.weight";
    const auto rest = head ? std::string() : slot.name.substr(6);  // after "model."
    for (const auto& candidate : head ? std::vector<std::string>{"lm_head.weight", "language_model.lm_head.weight"}
                                      : std::vector<std::string>{"model.language_model." + rest,
                                                                 "language_model.model." + rest})
      if (ckpt.has(candidate)) {
        slot.name = candidate;
        break;
      }
  }
}
}  // namespace

DecoderWeights load_decoder_weights(const Checkpoint& ckpt, const ModelConfig& config,
                                    at::ScalarType dtype, at::Device device, Quantization quantization) {
  auto table = decoder_weight_table(config);
  if (config.architecture_name == "Gemma3ForConditionalGeneration") rename_for_multimodal(table, ckpt);
  const bool saved_nf4 = config.saved_quantization == Quantization::nf4;
  if (saved_nf4 && quantization != Quantization::nf4)
    throw InputError(ckpt.dir() + "/config.json: quantization_config declares bitsandbytes NF4 weights; "
                     "load them with model.quantization: nf4 (or --quantization nf4), not " +
                     quantization_name(quantization));
  for (const auto& slot : table) {
    if (!ckpt.has(slot.name))
      throw InputError(ckpt.dir() + ": missing tensor '" + slot.name + "' required by " +
                       config.architecture_name);
    if (saved_nf4 && slot.kind == WeightKind::linear) continue;  // read_bnb_nf4 checks these
    ckpt.expect_weight(slot.name, slot.shape, shape_hint(slot.name));
  }
  DecoderWeights w;
  w.layers.resize(config.num_hidden_layers);
  for (const auto& slot : table) {
    if (saved_nf4 && slot.kind == WeightKind::linear) {
      slot.linear(w) = LinearWeight(read_bnb_nf4(ckpt, slot.name, slot.shape).to(device), dtype);
      continue;
    }
    if (slot.kind == WeightKind::linear && quantization != Quantization::none) {
      // Quantized from the weight in the run dtype, as HF casts to torch_dtype before handing
      // the weight to bitsandbytes.
      slot.linear(w) = LinearWeight::make(ckpt.load(slot.name, dtype), quantization, dtype, device);
      continue;
    }
    auto t = ckpt.load(slot.name, dtype);
    slot.assign(w, device.is_cpu() ? t : t.to(device));
  }
  if (config.tie_word_embeddings) w.lm_head = w.embed_tokens;
  return w;
}

}  // namespace dkv::model
