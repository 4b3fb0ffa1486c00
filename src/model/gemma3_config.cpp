// Gemma 3 config.json -> ModelConfig, with Gemma3TextConfig's defaults (transformers 4.56.2).
#include "dkv/model/gemma3_config.h"

#include <nlohmann/json.hpp>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"

namespace dkv::model {

using nlohmann::json;
namespace ju = json_util;

namespace {

// Gemma3TextConfig.__init__ defaults (transformers 4.56.2), for keys a file leaves out.
const json& gemma3_defaults() {
  static const json d = {
      {"vocab_size", 262208}, {"hidden_size", 2304}, {"intermediate_size", 9216},
      {"num_hidden_layers", 26}, {"num_attention_heads", 8}, {"num_key_value_heads", 4},
      {"head_dim", 256}, {"hidden_activation", "gelu_pytorch_tanh"},
      {"max_position_embeddings", 131072}, {"rms_norm_eps", 1e-6}, {"pad_token_id", 0},
      {"eos_token_id", 1}, {"bos_token_id", 2}, {"tie_word_embeddings", true},
      {"rope_theta", 1000000.0}, {"attention_bias", false}, {"query_pre_attn_scalar", 256},
      {"sliding_window", 4096}, {"final_logit_softcapping", nullptr},
      {"attn_logit_softcapping", nullptr}, {"rope_scaling", nullptr},
      {"rope_local_base_freq", 10000.0}, {"use_bidirectional_attention", false}};
  return d;
}

json with_defaults(const json& text) {
  json out = gemma3_defaults();
  for (auto it = text.begin(); it != text.end(); ++it) out[it.key()] = it.value();
  return out;
}

std::optional<double> optional_number(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return ju::get_number(j, key, where);
}

}  // namespace

ModelConfig parse_gemma3_config(const json& file, const std::string& name, const std::string& where) {
  const bool multimodal = name == "Gemma3ForConditionalGeneration";
  std::string w = where;
  json text;
  if (multimodal) {
    w = where + ": text_config";
    const auto& t = ju::require(file, "text_config", where);
    if (!t.is_object()) throw InputError(w + ": expected an object");
    text = with_defaults(t);
  } else {
    text = with_defaults(file);
  }
  // ModelConfig's shared fields through the generic parser: a Llama-shaped view of the file.
  json view = text;
  view["architectures"] = json::array({"LlamaForCausalLM"});
  const auto act = ju::get_string(text, "hidden_activation", w);
  if (act != "gelu_pytorch_tanh")
    throw InputError(w + ": hidden_activation '" + act + "' is not supported (gelu_pytorch_tanh)");
  view["hidden_act"] = "silu";
  view["sliding_window"] = nullptr;
  view["mlp_bias"] = false;
  if (multimodal) {
    // Token ids live at the top level of a multimodal config (and in generation_config.json).
    for (const char* k : {"bos_token_id", "eos_token_id"})
      if (file.contains(k)) view[k] = file[k];
  }
  ModelConfig c = parse_model_config(view, w);
  c.architecture = Architecture::gemma3;
  c.architecture_name = name;
  c.hidden_activation = Activation::gelu_tanh;
  c.rope_local_base_freq = ju::get_number(text, "rope_local_base_freq", w);
  c.query_pre_attn_scalar = optional_number(text, "query_pre_attn_scalar", w);
  c.final_logit_softcapping = optional_number(text, "final_logit_softcapping", w);
  if (optional_number(text, "attn_logit_softcapping", w))
    throw InputError(w + ": attn_logit_softcapping is not supported (Gemma 3 checkpoints leave it null)");
  if (ju::get_bool_or(text, "use_bidirectional_attention", false, w))
    throw InputError(w + ": use_bidirectional_attention=true (EmbeddingGemma) is not supported");
  if (!text["sliding_window"].is_null()) {
    c.sliding_window = ju::get_int(text, "sliding_window", w);
    if (*c.sliding_window <= 0)
      throw InputError(w + ": key 'sliding_window': expected a positive integer");
  }
  if (auto it = text.find("layer_types"); it != text.end() && !it->is_null()) {
    if (!it->is_array() || static_cast<int64_t>(it->size()) != c.num_hidden_layers)
      throw InputError(w + ": layer_types: expected a list of num_hidden_layers=" +
                       std::to_string(c.num_hidden_layers) + " strings");
    for (const auto& t : *it) {
      const auto s = t.is_string() ? t.get<std::string>() : std::string();
      if (s != "sliding_attention" && s != "full_attention")
        throw InputError(w + ": layer_types: '" + t.dump() +
                         "' is not a layer type (sliding_attention, full_attention)");
      c.layer_sliding.push_back(s == "sliding_attention");
    }
  } else {
    // HF: without layer_types, layer i slides unless (i + 1) is a multiple of the pattern.
    const auto pattern = ju::get_int_or(text, "sliding_window_pattern", 6, w);
    if (pattern <= 0) throw InputError(w + ": sliding_window_pattern must be positive");
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) c.layer_sliding.push_back((i + 1) % pattern != 0);
  }
  if (!c.sliding_window)
    for (bool s : c.layer_sliding)
      if (s) throw InputError(w + ": sliding_attention layers need a sliding_window");
  return c;
}

json gemma3_hf_json(const ModelConfig& c) {
  json j;
  j["architectures"] = json::array({"Gemma3ForCausalLM"});
  j["attention_bias"] = c.attention_bias;
  j["attention_dropout"] = 0.0;
  j["attn_logit_softcapping"] = nullptr;
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty()) j["eos_token_id"] = c.eos_token_ids;
  j["final_logit_softcapping"] = c.final_logit_softcapping ? json(*c.final_logit_softcapping) : json(nullptr);
  j["head_dim"] = c.head_dim;
  j["hidden_activation"] = "gelu_pytorch_tanh";
  j["hidden_size"] = c.hidden_size;
  j["initializer_range"] = 0.02;
  j["intermediate_size"] = c.intermediate_size;
  json types = json::array();
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    types.push_back(c.layer_is_sliding(i) ? "sliding_attention" : "full_attention");
  j["layer_types"] = types;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["model_type"] = "gemma3_text";
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["pad_token_id"] = 0;
  j["query_pre_attn_scalar"] = c.query_pre_attn_scalar ? json(*c.query_pre_attn_scalar) : json(c.head_dim);
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_local_base_freq"] = c.rope_local_base_freq;
  j["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.type == cache::RopeScalingType::none) {
    j["rope_scaling"] = nullptr;
  } else {
    DKV_CHECK(c.rope_scaling.type == cache::RopeScalingType::linear, "gemma3_hf_json: rope scaling ",
              cache::to_string(c.rope_scaling.type));
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.rope_scaling.factor}};
  }
  j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["torch_dtype"] = "float32";
  j["transformers_version"] = "4.56.2";
  j["use_bidirectional_attention"] = false;
  j["use_cache"] = true;
  j["vocab_size"] = c.vocab_size;
  return j;
}

}  // namespace dkv::model
