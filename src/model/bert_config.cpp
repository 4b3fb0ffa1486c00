// config.json -> BertConfig (HF transformers BertConfig semantics, 4.43).
#include "dkv/model/bert_config.h"

#include <nlohmann/json.hpp>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"

namespace dkv::model {

using nlohmann::json;
namespace ju = json_util;

namespace {
void require_positive(int64_t value, const char* key, const std::string& where) {
  if (value <= 0)
    throw InputError(where + ": key '" + key + "': expected a positive integer, got " +
                     std::to_string(value));
}
}  // namespace

BertConfig parse_bert_config(const json& j, const std::string& where) {
  BertConfig c;
  const auto model_type = ju::get_string(j, "model_type", where);
  if (model_type != "bert")
    throw InputError(where + ": key 'model_type': expected \"bert\", got \"" + model_type + "\"");
  // `architectures` is informative only (BertModel, BertForMaskedLM, ...): the tensor table
  // decides from the file whether names carry the "bert." prefix.
  if (auto it = j.find("architectures"); it != j.end() && it->is_array() && !it->empty() &&
                                         (*it)[0].is_string())
    c.architecture_name = (*it)[0].get<std::string>();
  // HF "gelu" is the exact erf form (ACT2FN["gelu"] = GELUActivation -> F.gelu); the tanh
  // variants would change every vector by ~1e-4, so they are rejected, not approximated.
  const auto act = ju::get_string(j, "hidden_act", where);
  if (act != "gelu")
    throw InputError(where + ": key 'hidden_act': \"" + act + "\" is not supported (gelu)");
  // HF default "absolute"; relative_key variants add a distance embedding we do not implement.
  if (auto it = j.find("position_embedding_type"); it != j.end() && !it->is_null()) {
    const auto pos = ju::get_string(j, "position_embedding_type", where);
    if (pos != "absolute")
      throw InputError(where + ": key 'position_embedding_type': \"" + pos +
                       "\" is not supported (absolute)");
  }
  c.vocab_size = ju::get_int(j, "vocab_size", where);
  c.hidden_size = ju::get_int(j, "hidden_size", where);
  c.num_hidden_layers = ju::get_int(j, "num_hidden_layers", where);
  c.num_attention_heads = ju::get_int(j, "num_attention_heads", where);
  c.intermediate_size = ju::get_int(j, "intermediate_size", where);
  c.max_position_embeddings = ju::get_int(j, "max_position_embeddings", where);
  // HF BertConfig defaults: type_vocab_size 2, layer_norm_eps 1e-12, pad_token_id 0.
  c.type_vocab_size = ju::get_int_or(j, "type_vocab_size", 2, where);
  c.layer_norm_eps = ju::get_number_or(j, "layer_norm_eps", 1e-12, where);
  c.pad_token_id = ju::get_int_or(j, "pad_token_id", 0, where);
  for (auto [v, k] : {std::pair{c.vocab_size, "vocab_size"}, {c.hidden_size, "hidden_size"},
                      {c.num_hidden_layers, "num_hidden_layers"},
                      {c.num_attention_heads, "num_attention_heads"},
                      {c.intermediate_size, "intermediate_size"},
                      {c.max_position_embeddings, "max_position_embeddings"},
                      {c.type_vocab_size, "type_vocab_size"}})
    require_positive(v, k, where);
  if (c.hidden_size % c.num_attention_heads != 0)
    throw InputError(where + ": hidden_size=" + std::to_string(c.hidden_size) +
                     " is not a multiple of num_attention_heads=" +
                     std::to_string(c.num_attention_heads));
  if (!(c.layer_norm_eps > 0))
    throw InputError(where + ": key 'layer_norm_eps': expected a positive number");
  if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size)
    throw InputError(where + ": key 'pad_token_id': " + std::to_string(c.pad_token_id) +
                     " is outside the vocabulary [0, " + std::to_string(c.vocab_size) + ")");
  return c;
}

BertConfig load_bert_config(const std::string& config_path) {
  return parse_bert_config(ju::read_file(config_path), config_path);
}

json to_hf_json(const BertConfig& c) {
  json j;
  j["architectures"] = json::array({c.architecture_name.empty() ? "BertModel" : c.architecture_name});
  j["attention_probs_dropout_prob"] = 0.1;
  j["classifier_dropout"] = nullptr;
  j["hidden_act"] = "gelu";
  j["hidden_dropout_prob"] = 0.1;
  j["hidden_size"] = c.hidden_size;
  j["initializer_range"] = 0.02;
  j["intermediate_size"] = c.intermediate_size;
  j["layer_norm_eps"] = c.layer_norm_eps;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["model_type"] = "bert";
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["pad_token_id"] = c.pad_token_id;
  j["position_embedding_type"] = "absolute";
  j["torch_dtype"] = "float32";
  j["transformers_version"] = "4.43.4";
  j["type_vocab_size"] = c.type_vocab_size;
  j["use_cache"] = true;
  j["vocab_size"] = c.vocab_size;
  return j;
}

}  // namespace dkv::model
