// Random HF-format Llama/Mistral/Qwen2/Gemma 3 checkpoints.
#include "dkv/model/tiny_model.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "dkv/core/error.h"
#include "dkv/core/rng.h"
#include "dkv/model/decoder_weights.h"
#include "dkv/model/safetensors.h"

namespace dkv::model {

ModelConfig tiny_model_config(const TinyModelOptions& o) {
  ModelConfig c;
  c.architecture = o.architecture;
  c.architecture_name = o.architecture == Architecture::llama     ? "LlamaForCausalLM"
                        : o.architecture == Architecture::mistral ? "MistralForCausalLM"
                        : o.architecture == Architecture::qwen2   ? "Qwen2ForCausalLM"
                                                                  : "Gemma3ForCausalLM";
  c.vocab_size = o.vocab_size;
  c.hidden_size = o.hidden_size;
  c.intermediate_size = o.intermediate_size;
  c.num_hidden_layers = o.num_hidden_layers;
  c.num_attention_heads = o.num_attention_heads;
  c.num_key_value_heads = o.num_key_value_heads;
  if (o.hidden_size % o.num_attention_heads != 0)
    throw InputError("make-tiny-model: hidden_size must be a multiple of num_attention_heads");
  c.head_dim = o.hidden_size / o.num_attention_heads;
  if (o.head_dim > 0) {
    if (o.architecture != Architecture::gemma3)
      throw InputError("make-tiny-model: --head-dim applies to --arch gemma3 only");
    if (o.head_dim % 2 != 0) throw InputError("make-tiny-model: --head-dim must be even");
    c.head_dim = o.head_dim;
  }
  c.rms_norm_eps = 1e-6;
  c.rope_theta = o.rope_theta;
  c.tie_word_embeddings = o.tie_word_embeddings;
  c.attention_bias = o.architecture == Architecture::qwen2;
  c.max_position_embeddings = 4096;
  if (o.architecture == Architecture::mistral || o.architecture == Architecture::gemma3)
    c.sliding_window = o.sliding_window;
  else if (o.sliding_window)
    throw InputError("make-tiny-model: --sliding-window applies to --arch mistral and gemma3 only");
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  if (o.architecture == Architecture::gemma3) {
    // Gemma3TextConfig's ids: pad 0, eos 1, bos 2.
    c.bos_token_id = 2;
    c.eos_token_ids = {1};
    c.hidden_activation = Activation::gelu_tanh;
    c.tie_word_embeddings = true;
    c.attention_bias = false;
    if (o.sliding_window_pattern <= 0) throw InputError("make-tiny-model: --sliding-window-pattern must be positive");
    for (int64_t i = 0; i < o.num_hidden_layers; ++i)
      c.layer_sliding.push_back(o.sliding_window && (i + 1) % o.sliding_window_pattern != 0);
    c.rope_local_base_freq = o.rope_local_base_freq;
    c.query_pre_attn_scalar = o.query_pre_attn_scalar ? *o.query_pre_attn_scalar : static_cast<double>(c.head_dim);
    c.final_logit_softcapping = o.final_logit_softcapping;
    if (o.rope_scaling_factor != 1.0) {
      c.rope_scaling.type = cache::RopeScalingType::linear;
      c.rope_scaling.factor = o.rope_scaling_factor;
    }
  }
  return c;
}

void write_tiny_model(const std::string& dir, const TinyModelOptions& o) {
  const auto config = tiny_model_config(o);
  std::filesystem::create_directories(dir);
  Rng rng(o.seed);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& slot : decoder_weight_table(config)) {
    auto t = at::empty(slot.shape, at::kFloat);
    float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double z = rng.normal();
      // Norm weights near 1 (HF initialises them to exactly 1; noise makes them testable).
      // Gemma applies (1 + w), so its norm weights are stored near 0.
      const double norm_base = config.gemma() ? 0.0 : 1.0;
      p[i] = static_cast<float>(slot.kind == WeightKind::norm ? norm_base + 0.1 * z : o.init_scale * z);
    }
    tensors.emplace_back(slot.name, t);
  }
  write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
  auto write_json = [&](const std::string& name, const nlohmann::json& j) {
    std::ofstream out(dir + "/" + name);
    out << j.dump(2) << "\n";
    if (!out) throw IoError("write failed: " + dir + "/" + name);
  };
  write_json("config.json", to_hf_json(config));
  write_json("generation_config.json", {{"_from_model_config", true},
                                        {"bos_token_id", *config.bos_token_id},
                                        {"eos_token_id", config.eos_token_ids[0]},
                                        {"transformers_version", config.gemma() ? "4.56.2" : "4.43.4"}});
}

}  // namespace dkv::model
