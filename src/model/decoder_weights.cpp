// HF tensor names for the Llama family (modeling_llama / modeling_mistral / modeling_qwen2).
#include "dkv/model/decoder_weights.h"

#include <ATen/ATen.h>

#include "dkv/core/error.h"
#include "dkv/model/checkpoint.h"

namespace dkv::model {

std::vector<WeightSlot> decoder_weight_table(const ModelConfig& c) {
  const int64_t hidden = c.hidden_size, inter = c.intermediate_size;
  const int64_t q_out = c.num_attention_heads * c.head_dim;
  const int64_t kv_out = c.num_key_value_heads * c.head_dim;
  std::vector<WeightSlot> t;
  t.push_back({"model.embed_tokens.weight", {c.vocab_size, hidden}, WeightKind::embedding,
               [](DecoderWeights& w) -> at::Tensor& { return w.embed_tokens; }});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const auto p = "model.layers." + std::to_string(i) + ".";
    auto layer = [i](at::Tensor LayerWeights::*member) {
      return [i, member](DecoderWeights& w) -> at::Tensor& { return w.layers[i].*member; };
    };
    t.push_back({p + "input_layernorm.weight", {hidden}, WeightKind::norm,
                 layer(&LayerWeights::input_layernorm)});
    t.push_back({p + "self_attn.q_proj.weight", {q_out, hidden}, WeightKind::linear,
                 layer(&LayerWeights::q_proj)});
    t.push_back({p + "self_attn.k_proj.weight", {kv_out, hidden}, WeightKind::linear,
                 layer(&LayerWeights::k_proj)});
    t.push_back({p + "self_attn.v_proj.weight", {kv_out, hidden}, WeightKind::linear,
                 layer(&LayerWeights::v_proj)});
    if (c.attention_bias) {
      t.push_back({p + "self_attn.q_proj.bias", {q_out}, WeightKind::bias, layer(&LayerWeights::q_bias)});
      t.push_back({p + "self_attn.k_proj.bias", {kv_out}, WeightKind::bias, layer(&LayerWeights::k_bias)});
      t.push_back({p + "self_attn.v_proj.bias", {kv_out}, WeightKind::bias, layer(&LayerWeights::v_bias)});
    }
    t.push_back({p + "self_attn.o_proj.weight", {hidden, q_out}, WeightKind::linear,
                 layer(&LayerWeights::o_proj)});
    t.push_back({p + "post_attention_layernorm.weight", {hidden}, WeightKind::norm,
                 layer(&LayerWeights::post_attention_layernorm)});
    t.push_back({p + "mlp.gate_proj.weight", {inter, hidden}, WeightKind::linear,
                 layer(&LayerWeights::gate_proj)});
    t.push_back({p + "mlp.up_proj.weight", {inter, hidden}, WeightKind::linear,
                 layer(&LayerWeights::up_proj)});
    t.push_back({p + "mlp.down_proj.weight", {hidden, inter}, WeightKind::linear,
                 layer(&LayerWeights::down_proj)});
    if (c.mlp_bias) {
      t.push_back({p + "mlp.gate_proj.bias", {inter}, WeightKind::bias, layer(&LayerWeights::gate_bias)});
      t.push_back({p + "mlp.up_proj.bias", {inter}, WeightKind::bias, layer(&LayerWeights::up_bias)});
      t.push_back({p + "mlp.down_proj.bias", {hidden}, WeightKind::bias, layer(&LayerWeights::down_bias)});
    }
  }
  t.push_back({"model.norm.weight", {hidden}, WeightKind::norm,
               [](DecoderWeights& w) -> at::Tensor& { return w.norm; }});
  if (!c.tie_word_embeddings)
    t.push_back({"lm_head.weight", {c.vocab_size, hidden}, WeightKind::linear,
                 [](DecoderWeights& w) -> at::Tensor& { return w.lm_head; }});
  return t;
}

namespace {
std::string shape_hint(const std::string& name) {
  if (name.find("k_proj") != std::string::npos || name.find("v_proj") != std::string::npos)
    return " (config.json: num_key_value_heads, head_dim, hidden_size)";
  if (name.find("q_proj") != std::string::npos || name.find("o_proj") != std::string::npos)
    return " (config.json: num_attention_heads, head_dim, hidden_size)";
  if (name.find("mlp.") != std::string::npos) return " (config.json: intermediate_size, hidden_size)";
  if (name.find("embed") != std::string::npos || name.find("lm_head") != std::string::npos)
    return " (config.json: vocab_size, hidden_size)";
  return " (config.json: hidden_size)";
}
std::string dims(const std::vector<int64_t>& s) { return c10::str(at::IntArrayRef(s)); }
}  // namespace

DecoderWeights load_decoder_weights(const Checkpoint& ckpt, const ModelConfig& config,
                                    at::ScalarType dtype, at::Device device) {
  const auto table = decoder_weight_table(config);
  for (const auto& slot : table) {
    if (!ckpt.has(slot.name))
      throw InputError(ckpt.dir() + ": missing tensor '" + slot.name + "' required by " +
                       config.architecture_name);
    const auto& e = ckpt.entry(slot.name);
    if (e.shape != slot.shape)
      throw InputError(ckpt.file_of(slot.name) + ": " + slot.name + ": expected " +
                       dims(slot.shape) + ", got " + dims(e.shape) + shape_hint(slot.name));
    if (e.dtype != "F32" && e.dtype != "F16" && e.dtype != "BF16")
      throw InputError(ckpt.file_of(slot.name) + ": " + slot.name + ": dtype " + e.dtype +
                       " is not a supported weight dtype (F32, F16, BF16)");
  }
  DecoderWeights w;
  w.layers.resize(config.num_hidden_layers);
  for (const auto& slot : table) {
    auto t = ckpt.load(slot.name, dtype);
    slot.slot(w) = device.is_cpu() ? t : t.to(device);
  }
  if (config.tie_word_embeddings) w.lm_head = w.embed_tokens;
  return w;
}

}  // namespace dkv::model
