// Random HF-format Llama/Mistral/Qwen2 checkpoints.
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
                                                                  : "Qwen2ForCausalLM";
  c.vocab_size = o.vocab_size;
  c.hidden_size = o.hidden_size;
  c.intermediate_size = o.intermediate_size;
  c.num_hidden_layers = o.num_hidden_layers;
  c.num_attention_heads = o.num_attention_heads;
  c.num_key_value_heads = o.num_key_value_heads;
  if (o.hidden_size % o.num_attention_heads != 0)
    throw InputError("make-tiny-model: hidden_size must be a multiple of num_attention_heads");
  c.head_dim = o.hidden_size / o.num_attention_heads;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = o.rope_theta;
  c.tie_word_embeddings = o.tie_word_embeddings;
  c.attention_bias = o.architecture == Architecture::qwen2;
  c.max_position_embeddings = 4096;
  if (o.architecture == Architecture::mistral) c.sliding_window = o.sliding_window;
  else if (o.sliding_window)
    throw InputError("make-tiny-model: --sliding-window applies to --arch mistral only");
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
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
      p[i] = static_cast<float>(slot.kind == WeightKind::norm ? 1.0 + 0.1 * z : o.init_scale * z);
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
                                        {"transformers_version", "4.43.4"}});
}

}  // namespace dkv::model
