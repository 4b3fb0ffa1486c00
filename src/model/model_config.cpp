// config.json -> ModelConfig for Llama, Mistral and Qwen2 (HF transformers 4.43 semantics);
// Gemma 3 in gemma3_config.cpp.
#include "dkv/model/model_config.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/model/gemma3_config.h"

namespace dkv::model {

using nlohmann::json;
namespace ju = json_util;

std::string to_string(Architecture arch) {
  switch (arch) {
    case Architecture::llama: return "llama";
    case Architecture::mistral: return "mistral";
    case Architecture::qwen2: return "qwen2";
    case Architecture::gemma3: return "gemma3";
  }
  return "?";
}

cache::RopeSpec ModelConfig::rope() const {
  cache::RopeSpec spec;
  spec.head_dim = head_dim;
  spec.rotary_dim = head_dim;
  spec.theta = rope_theta;
  // HF's Llama, Mistral and Qwen2 all use rotate_half, i.e. (i, i + D/2) pairs.
  spec.pairing = cache::RopePairing::half_split;
  spec.scaling = rope_scaling;
  return spec;
}

cache::RopeSpec ModelConfig::layer_rope(int64_t layer) const {
  auto spec = rope();
  if (gemma() && layer_is_sliding(layer)) {
    // HF Gemma3TextModel.rotary_emb_local: rope_theta = rope_local_base_freq, rope_type default.
    spec.theta = rope_local_base_freq;
    spec.scaling = cache::RopeScaling{};
  }
  return spec;
}

bool ModelConfig::layer_is_sliding(int64_t layer) const {
  if (!sliding_window) return false;
  if (layer_sliding.empty()) return true;
  return layer_sliding.at(static_cast<size_t>(layer));
}

double ModelConfig::attention_scale() const {
  // Python's `query_pre_attn_scalar ** -0.5`.
  return std::pow(query_pre_attn_scalar ? *query_pre_attn_scalar : static_cast<double>(head_dim), -0.5);
}

namespace {

Architecture parse_architecture(const json& j, const std::string& where, std::string& name) {
  const auto& archs = ju::require(j, "architectures", where);
  if (!archs.is_array() || archs.empty() || !archs[0].is_string())
    throw InputError(where + ": key 'architectures': expected a list of class names");
  name = archs[0].get<std::string>();
  if (name == "LlamaForCausalLM") return Architecture::llama;
  if (name == "MistralForCausalLM") return Architecture::mistral;
  if (name == "Qwen2ForCausalLM") return Architecture::qwen2;
  if (name == "Gemma3ForCausalLM" || name == "Gemma3ForConditionalGeneration") return Architecture::gemma3;
  throw InputError(where + ": architectures[0] = '" + name +
                   "' is not supported (supported: LlamaForCausalLM, MistralForCausalLM, "
                   "Qwen2ForCausalLM, Gemma3ForCausalLM, Gemma3ForConditionalGeneration)");
}

cache::RopeScaling parse_rope_scaling(const json& j, const std::string& where) {
  cache::RopeScaling s;
  auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) return s;
  const std::string w = where + ": rope_scaling";
  if (!it->is_object()) throw InputError(w + ": expected an object or null");
  // HF accepts both `rope_type` (current) and `type` (legacy).
  std::string type = it->contains("rope_type") ? ju::get_string(*it, "rope_type", w)
                                               : ju::get_string(*it, "type", w);
  s.type = cache::parse_rope_scaling_type(type, w);
  if (s.type != cache::RopeScalingType::none) s.factor = ju::get_number(*it, "factor", w);
  if (s.type == cache::RopeScalingType::llama3) {
    s.low_freq_factor = ju::get_number(*it, "low_freq_factor", w);
    s.high_freq_factor = ju::get_number(*it, "high_freq_factor", w);
    s.original_max_position_embeddings =
        ju::get_number(*it, "original_max_position_embeddings", w);
    if (!(s.high_freq_factor > s.low_freq_factor))
      throw InputError(w + ": high_freq_factor must exceed low_freq_factor");
  }
  return s;
}

void require_positive(int64_t value, const char* key, const std::string& where) {
  if (value <= 0)
    throw InputError(where + ": key '" + key + "': expected a positive integer, got " +
                     std::to_string(value));
}

}  // namespace

namespace {
// HF's bitsandbytes quantization_config (transformers BitsAndBytesConfig.to_dict): dkv loads
// 4-bit NF4 state dicts; other methods and formats are refused by name.
Quantization parse_saved_quantization(const json& j, const std::string& where) {
  auto it = j.find("quantization_config");
  if (it == j.end() || it->is_null()) return Quantization::none;
  const auto w = where + ": quantization_config";
  if (!it->is_object()) throw InputError(w + ": expected an object");
  const auto method = ju::get_string_or(*it, "quant_method", "bitsandbytes", w);
  if (method != "bitsandbytes")
    throw InputError(w + ".quant_method '" + method +
                     "' is not supported (dkv loads bitsandbytes NF4 checkpoints, or quantizes "
                     "fp16/bf16/fp32 ones at load with model.quantization)");
  if (ju::get_bool_or(*it, "load_in_8bit", false, w))
    throw InputError(w + ": load_in_8bit checkpoints (LLM.int8) are not supported; load the "
                     "unquantized checkpoint with model.quantization: int8");
  if (!ju::get_bool_or(*it, "load_in_4bit", false, w)) return Quantization::none;
  const auto type = ju::get_string_or(*it, "bnb_4bit_quant_type", "fp4", w);  // HF's default
  if (type != "nf4")
    throw InputError(w + ".bnb_4bit_quant_type '" + type + "' is not supported (only nf4)");
  return Quantization::nf4;
}
}  // namespace

ModelConfig parse_model_config(const json& j, const std::string& where) {
  ModelConfig c;
  c.architecture = parse_architecture(j, where, c.architecture_name);
  if (c.architecture == Architecture::gemma3) return parse_gemma3_config(j, c.architecture_name, where);
  const auto act = ju::get_string(j, "hidden_act", where);
  if (act != "silu") throw InputError(where + ": hidden_act '" + act + "' is not supported (silu)");
  c.vocab_size = ju::get_int(j, "vocab_size", where);
  c.hidden_size = ju::get_int(j, "hidden_size", where);
  c.intermediate_size = ju::get_int(j, "intermediate_size", where);
  c.num_hidden_layers = ju::get_int(j, "num_hidden_layers", where);
  c.num_attention_heads = ju::get_int(j, "num_attention_heads", where);
  // HF: num_key_value_heads defaults to num_attention_heads (multi-head attention).
  c.num_key_value_heads = ju::get_int_or(j, "num_key_value_heads", c.num_attention_heads, where);
  for (auto [v, k] : {std::pair{c.vocab_size, "vocab_size"}, {c.hidden_size, "hidden_size"},
                      {c.intermediate_size, "intermediate_size"},
                      {c.num_hidden_layers, "num_hidden_layers"},
                      {c.num_attention_heads, "num_attention_heads"},
                      {c.num_key_value_heads, "num_key_value_heads"}})
    require_positive(v, k, where);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw InputError(where + ": num_attention_heads=" + std::to_string(c.num_attention_heads) +
                     " is not a multiple of num_key_value_heads=" +
                     std::to_string(c.num_key_value_heads));
  c.head_dim = ju::get_int_or(j, "head_dim", c.hidden_size / c.num_attention_heads, where);
  require_positive(c.head_dim, "head_dim", where);
  if (c.head_dim % 2 != 0)
    throw InputError(where + ": head_dim=" + std::to_string(c.head_dim) + " must be even for RoPE");
  c.rms_norm_eps = ju::get_number(j, "rms_norm_eps", where);
  c.rope_theta = ju::get_number_or(j, "rope_theta", 10000.0, where);
  c.rope_scaling = parse_rope_scaling(j, where);
  c.tie_word_embeddings = ju::get_bool_or(j, "tie_word_embeddings", false, where);
  c.max_position_embeddings = ju::get_int_or(j, "max_position_embeddings", 0, where);
  c.mlp_bias = ju::get_bool_or(j, "mlp_bias", false, where);
  c.attention_bias = c.architecture == Architecture::qwen2 ||
                     ju::get_bool_or(j, "attention_bias", false, where);
  if (c.architecture == Architecture::mistral) {
    if (j.contains("sliding_window") && !j["sliding_window"].is_null()) {
      c.sliding_window = ju::get_int(j, "sliding_window", where);
      require_positive(*c.sliding_window, "sliding_window", where);
    }
  } else if (c.architecture == Architecture::qwen2 &&
             ju::get_bool_or(j, "use_sliding_window", false, where)) {
    throw InputError(where + ": use_sliding_window=true (Qwen2 per-layer windows) is not supported");
  }
  if (j.contains("bos_token_id") && !j["bos_token_id"].is_null())
    c.bos_token_id = ju::get_int(j, "bos_token_id", where);
  if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null()) {
    if (it->is_array()) {
      for (const auto& e : *it) {
        if (!e.is_number_integer()) throw InputError(where + ": eos_token_id: expected integers");
        c.eos_token_ids.push_back(e.get<int64_t>());
      }
    } else {
      c.eos_token_ids.push_back(ju::get_int(j, "eos_token_id", where));
    }
  }
  c.saved_quantization = parse_saved_quantization(j, where);
  return c;
}

ModelConfig load_model_config(const std::string& config_path) {
  return parse_model_config(ju::read_file(config_path), config_path);
}

json to_hf_json(const ModelConfig& c) {
  if (c.gemma()) return gemma3_hf_json(c);
  json j;
  j["architectures"] = json::array({c.architecture_name});
  j["attention_dropout"] = 0.0;
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty()) j["eos_token_id"] = c.eos_token_ids;
  j["hidden_act"] = "silu";
  j["hidden_size"] = c.hidden_size;
  j["initializer_range"] = 0.02;
  j["intermediate_size"] = c.intermediate_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["model_type"] = to_string(c.architecture);
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["torch_dtype"] = "float32";
  j["transformers_version"] = "4.43.4";
  j["use_cache"] = true;
  j["vocab_size"] = c.vocab_size;
  if (c.rope_scaling.type == cache::RopeScalingType::none) {
    j["rope_scaling"] = nullptr;
  } else {
    json s{{"rope_type", cache::to_string(c.rope_scaling.type)}, {"factor", c.rope_scaling.factor}};
    if (c.rope_scaling.type == cache::RopeScalingType::llama3) {
      s["low_freq_factor"] = c.rope_scaling.low_freq_factor;
      s["high_freq_factor"] = c.rope_scaling.high_freq_factor;
      s["original_max_position_embeddings"] = c.rope_scaling.original_max_position_embeddings;
    }
    j["rope_scaling"] = s;
  }
  if (c.saved_quantization == Quantization::nf4)
    j["quantization_config"] = {{"quant_method", "bitsandbytes"}, {"load_in_4bit", true}, {"load_in_8bit", false},
                                {"bnb_4bit_quant_type", "nf4"}, {"bnb_4bit_use_double_quant", true},
                                {"bnb_4bit_compute_dtype", "float16"}, {"bnb_4bit_quant_storage", "uint8"},
                                {"llm_int8_skip_modules", nullptr}};
  switch (c.architecture) {
    case Architecture::llama:
      j["attention_bias"] = c.attention_bias;
      j["mlp_bias"] = c.mlp_bias;
      j["pretraining_tp"] = 1;
      break;
    case Architecture::mistral:
      j["head_dim"] = c.head_dim;
      j["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
      break;
    case Architecture::qwen2:
      j["use_sliding_window"] = false;
      j["sliding_window"] = nullptr;
      j["max_window_layers"] = c.num_hidden_layers;
      break;
    case Architecture::gemma3: break;  // gemma3_hf_json
  }
  return j;
}

}  // namespace dkv::model
