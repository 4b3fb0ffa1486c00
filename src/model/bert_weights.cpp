// HF tensor names for BERT (transformers modeling_bert: BertEmbeddings, BertLayer).
#include "dkv/model/bert_weights.h"

#include <ATen/ATen.h>

#include "dkv/core/error.h"
#include "dkv/model/checkpoint.h"

namespace dkv::model {

std::vector<BertWeightSlot> bert_weight_table(const BertConfig& c) {
  const int64_t hidden = c.hidden_size, inter = c.intermediate_size;
  using K = BertWeightKind;
  std::vector<BertWeightSlot> t;
  auto top = [](at::Tensor BertWeights::*member) {
    return [member](BertWeights& w) -> at::Tensor& { return w.*member; };
  };
  t.push_back({"embeddings.word_embeddings.weight", {c.vocab_size, hidden}, K::embedding,
               top(&BertWeights::word_embeddings)});
  t.push_back({"embeddings.position_embeddings.weight", {c.max_position_embeddings, hidden},
               K::embedding, top(&BertWeights::position_embeddings)});
  t.push_back({"embeddings.token_type_embeddings.weight", {c.type_vocab_size, hidden},
               K::embedding, top(&BertWeights::token_type_embeddings)});
  t.push_back({"embeddings.LayerNorm.weight", {hidden}, K::norm, top(&BertWeights::embed_norm)});
  t.push_back({"embeddings.LayerNorm.bias", {hidden}, K::bias, top(&BertWeights::embed_norm_bias)});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const auto p = "encoder.layer." + std::to_string(i) + ".";
    auto layer = [i](at::Tensor BertLayerWeights::*member) {
      return [i, member](BertWeights& w) -> at::Tensor& { return w.layers[i].*member; };
    };
    using L = BertLayerWeights;
    t.push_back({p + "attention.self.query.weight", {hidden, hidden}, K::linear, layer(&L::query)});
    t.push_back({p + "attention.self.query.bias", {hidden}, K::bias, layer(&L::query_bias)});
    t.push_back({p + "attention.self.key.weight", {hidden, hidden}, K::linear, layer(&L::key)});
    t.push_back({p + "attention.self.key.bias", {hidden}, K::bias, layer(&L::key_bias)});
    t.push_back({p + "attention.self.value.weight", {hidden, hidden}, K::linear, layer(&L::value)});
    t.push_back({p + "attention.self.value.bias", {hidden}, K::bias, layer(&L::value_bias)});
    t.push_back({p + "attention.output.dense.weight", {hidden, hidden}, K::linear,
                 layer(&L::attn_out)});
    t.push_back({p + "attention.output.dense.bias", {hidden}, K::bias, layer(&L::attn_out_bias)});
    t.push_back({p + "attention.output.LayerNorm.weight", {hidden}, K::norm, layer(&L::attn_norm)});
    t.push_back({p + "attention.output.LayerNorm.bias", {hidden}, K::bias,
                 layer(&L::attn_norm_bias)});
    t.push_back({p + "intermediate.dense.weight", {inter, hidden}, K::linear,
                 layer(&L::intermediate)});
    t.push_back({p + "intermediate.dense.bias", {inter}, K::bias, layer(&L::intermediate_bias)});
    t.push_back({p + "output.dense.weight", {hidden, inter}, K::linear, layer(&L::output)});
    t.push_back({p + "output.dense.bias", {hidden}, K::bias, layer(&L::output_bias)});
    t.push_back({p + "output.LayerNorm.weight", {hidden}, K::norm, layer(&L::output_norm)});
    t.push_back({p + "output.LayerNorm.bias", {hidden}, K::bias, layer(&L::output_norm_bias)});
  }
  return t;
}

std::string bert_name_prefix(const Checkpoint& ckpt) {
  const std::string probe = "embeddings.word_embeddings.weight";
  if (ckpt.has(probe)) return "";
  if (ckpt.has("bert." + probe)) return "bert.";
  throw InputError(ckpt.dir() + ": no BERT word embeddings: expected tensor '" + probe +
                   "' (BertModel) or 'bert." + probe + "' (BERT with a task head)");
}

namespace {
std::string shape_hint(const std::string& name) {
  if (name.find("word_embeddings") != std::string::npos) return " (config.json: vocab_size, hidden_size)";
  if (name.find("position_embeddings") != std::string::npos)
    return " (config.json: max_position_embeddings, hidden_size)";
  if (name.find("token_type") != std::string::npos) return " (config.json: type_vocab_size, hidden_size)";
  if (name.find("intermediate.") != std::string::npos || name.find(".output.dense") != std::string::npos)
    return " (config.json: intermediate_size, hidden_size)";
  return " (config.json: hidden_size)";
}
}  // namespace

BertWeights load_bert_weights(const Checkpoint& ckpt, const BertConfig& config,
                              at::ScalarType dtype, at::Device device) {
  const auto prefix = bert_name_prefix(ckpt);
  const auto table = bert_weight_table(config);
  for (const auto& slot : table) {
    const auto name = prefix + slot.name;
    if (!ckpt.has(name))
      throw InputError(ckpt.dir() + ": missing tensor '" + name + "' required by BertModel (" +
                       std::to_string(config.num_hidden_layers) + " layers in config.json)");
    ckpt.expect_weight(name, slot.shape, shape_hint(slot.name));
  }
  BertWeights w;
  w.layers.resize(config.num_hidden_layers);
  for (const auto& slot : table) {
    auto t = ckpt.load(prefix + slot.name, dtype);
    slot.slot(w) = device.is_cpu() ? t : t.to(device);
  }
  return w;
}

}  // namespace dkv::model
