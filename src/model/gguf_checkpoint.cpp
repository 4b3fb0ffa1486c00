// GGUF -> HF: the metadata keys and tensor names llama.cpp's convert_hf_to_gguf.py writes for
// the Llama, Qwen2 and Gemma 3 families, read back into what transformers' config.json and
// state dict would hold.
#include "dkv/model/gguf_checkpoint.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "dkv/core/error.h"

namespace dkv::model {

using nlohmann::json;

namespace {

struct ArchNames {
  const char* gguf;
  const char* hf;
  bool permuted_qk;  // llama.cpp permutes q/k rows for its NORM (interleaved) RoPE type
};
const ArchNames kArchs[] = {
    {"llama", "LlamaForCausalLM", true},
    {"qwen2", "Qwen2ForCausalLM", false},
    // Gemma 3: NEOX RoPE in llama.cpp (no permutation); convert_hf_to_gguf's Gemma3Model stores
    // every RMSNorm weight with +1 added (the (1 + w) of Gemma3RMSNorm) and the embedding
    // unscaled (llama.cpp multiplies by sqrt(hidden) at run time, as HF does).
    {"gemma3", "Gemma3ForCausalLM", false},
};

const ArchNames& arch_of(const GgufFile& g) {
  const auto arch = g.get_string("general.architecture");
  for (const auto& a : kArchs)
    if (arch == a.gguf) return a;
  throw InputError(g.path() + ": metadata key 'general.architecture' = '" + arch +
                   "' is not supported (supported: llama, qwen2, gemma3)");
}

int64_t int_or(const GgufFile& g, const std::string& key, int64_t fallback) {
  return g.has_key(key) ? g.get_int(key) : fallback;
}

}  // namespace

json hf_config_from_gguf(const GgufFile& g) {
  const auto& arch = arch_of(g);
  const std::string p = std::string(arch.gguf) + ".";
  json c;
  const bool gemma = std::string(arch.gguf) == "gemma3";
  c["architectures"] = json::array({arch.hf});
  c["model_type"] = gemma ? "gemma3_text" : arch.gguf;
  if (gemma) c["hidden_activation"] = "gelu_pytorch_tanh";
  else c["hidden_act"] = "silu";
  c["hidden_size"] = g.get_int(p + "embedding_length");
  c["intermediate_size"] = g.get_int(p + "feed_forward_length");
  c["num_hidden_layers"] = g.get_int(p + "block_count");
  const int64_t heads = g.get_int(p + "attention.head_count");
  c["num_attention_heads"] = heads;
  // llama.cpp writes head_count_kv only when it differs from head_count on some converters.
  c["num_key_value_heads"] = int_or(g, p + "attention.head_count_kv", heads);
  const int64_t hidden = c["hidden_size"].get<int64_t>();
  const int64_t head_dim = int_or(g, p + "attention.key_length", heads > 0 ? hidden / heads : 0);
  c["head_dim"] = head_dim;
  if (g.has_key(p + "attention.value_length") && g.get_int(p + "attention.value_length") != head_dim)
    throw InputError(g.path() + ": metadata key '" + p + "attention.value_length' differs from the key length " +
                     std::to_string(head_dim) + " (not a Llama-family attention)");
  if (g.has_key(p + "rope.dimension_count") && g.get_int(p + "rope.dimension_count") != head_dim)
    throw InputError(g.path() + ": metadata key '" + p + "rope.dimension_count' = " +
                     std::to_string(g.get_int(p + "rope.dimension_count")) +
                     " (partial rotary) is not supported; dkv rotates the whole head_dim " +
                     std::to_string(head_dim));
  // The epsilon exactly as stored (an f32: 1e-5 reads back as 9.999999747e-06), as transformers'
  // GGUF loader passes it on.
  c["rms_norm_eps"] = g.get_float(p + "attention.layer_norm_rms_epsilon");
  c["rope_theta"] = g.has_key(p + "rope.freq_base") ? g.get_float(p + "rope.freq_base") : 10000.0;
  c["max_position_embeddings"] = g.get_int(p + "context_length");
  c["rope_scaling"] = nullptr;
  const auto scaling_key = p + "rope.scaling.type";
  if (g.has_key(scaling_key)) {
    const auto type = g.get_string(scaling_key);
    if (type == "linear") {
      c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", g.get_float(p + "rope.scaling.factor")}};
    } else if (type != "none") {
      throw InputError(g.path() + ": metadata key '" + scaling_key + "' = '" + type +
                       "' is not supported (none, linear)");
    }
  }
  if (g.find_tensor("rope_freqs.weight"))
    throw InputError(g.path() + ": tensor 'rope_freqs.weight' (llama.cpp's per-frequency RoPE factors, "
                     "as for Llama 3.1 rope scaling) is not supported");
  const auto& tokens = g.get_array("tokenizer.ggml.tokens");
  const auto* embd = g.find_tensor("token_embd.weight");
  if (!embd) throw InputError(g.path() + ": no tensor 'token_embd.weight'");
  c["vocab_size"] = embd->ne.size() == 2 ? embd->ne[1] : static_cast<int64_t>(tokens.size());
  // No output.weight: llama.cpp's converter leaves out a head tied to the embeddings.
  c["tie_word_embeddings"] = g.find_tensor("output.weight") == nullptr;
  c["attention_bias"] = g.find_tensor("blk.0.attn_q.bias") != nullptr;
  c["mlp_bias"] = false;
  if (gemma) {
    // What llama.cpp's gemma3 graph hard-codes and transformers' GGUF loader leaves at
    // Gemma3TextConfig's defaults: five sliding layers then one full (pattern 6), local theta
    // 1e4 (unless the file states rope.freq_base_swa). llama.cpp scales queries by
    // 1/sqrt(head_dim), except for the 62-layer 27B model (1/sqrt(hidden / heads)).
    c["sliding_window"] = g.get_int(p + "attention.sliding_window");
    c["sliding_window_pattern"] = 6;
    if (g.has_key(p + "attention.sliding_window_pattern") &&
        !(g.metadata()[p + "attention.sliding_window_pattern"].is_number_integer() &&
          g.get_int(p + "attention.sliding_window_pattern") == 6))
      throw InputError(g.path() + ": metadata key '" + p + "attention.sliding_window_pattern' other than 6 "
                       "(Gemma 3's five sliding layers then one full) is not supported");
    c["rope_local_base_freq"] = g.has_key(p + "rope.freq_base_swa") ? g.get_float(p + "rope.freq_base_swa") : 10000.0;
    const int64_t layers = c["num_hidden_layers"].get<int64_t>();
    c["query_pre_attn_scalar"] = layers == 62 && heads > 0 ? hidden / heads : head_dim;
    c["final_logit_softcapping"] = g.has_key(p + "final_logit_softcapping")
                                       ? json(g.get_float(p + "final_logit_softcapping")) : json(nullptr);
    if (g.has_key(p + "attn_logit_softcapping"))
      c["attn_logit_softcapping"] = g.get_float(p + "attn_logit_softcapping");
    c.erase("mlp_bias");
  }
  if (g.has_key("tokenizer.ggml.bos_token_id")) c["bos_token_id"] = g.get_int("tokenizer.ggml.bos_token_id");
  if (g.has_key("tokenizer.ggml.eos_token_id")) c["eos_token_id"] = g.get_int("tokenizer.ggml.eos_token_id");
  c["torch_dtype"] = "float32";
  return c;
}

std::map<std::string, GgufTensorRef> hf_tensor_names(const GgufFile& g, const json& config) {
  const auto& arch = arch_of(g);
  const int64_t heads = config.at("num_attention_heads").get<int64_t>();
  const int64_t kv_heads = config.at("num_key_value_heads").get<int64_t>();
  // llama.cpp tensor name (after "blk.N.") -> HF name (after "model.layers.N."), q/k heads.
  const bool gemma = std::string(arch.gguf) == "gemma3";
  // Gemma 3: llama.cpp's ffn_norm is the pre-feed-forward norm, and the block has three more.
  const std::pair<const char*, const char*> kGemmaBlock[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},   {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},   {"attn_output.weight", "self_attn.o_proj.weight"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"}, {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"post_attention_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_norm.weight", "pre_feedforward_layernorm.weight"},
      {"post_ffw_norm.weight", "post_feedforward_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},    {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  const std::pair<const char*, const char*> kBlock[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},   {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},   {"attn_output.weight", "self_attn.o_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},       {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},       {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},    {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  std::map<std::string, GgufTensorRef> out;
  for (const auto& t : g.tensors()) {
    GgufTensorRef ref{&t, 0};
    std::string hf;
    if (t.name == "token_embd.weight") hf = "model.embed_tokens.weight";
    else if (t.name == "output_norm.weight") hf = "model.norm.weight";
    else if (t.name == "output.weight") hf = "lm_head.weight";
    else if (t.name.rfind("blk.", 0) == 0) {
      const auto dot = t.name.find('.', 4);
      const auto layer = dot == std::string::npos ? std::string() : t.name.substr(4, dot - 4);
      const auto rest = dot == std::string::npos ? std::string() : t.name.substr(dot + 1);
      auto match = [&](const auto& table) {
        for (const auto& [from, to] : table)
          if (rest == from && !layer.empty() && layer.find_first_not_of("0123456789") == std::string::npos)
            hf = "model.layers." + layer + "." + to;
      };
      if (gemma) match(kGemmaBlock);
      else match(kBlock);
      if (arch.permuted_qk && (rest == "attn_q.weight" || rest == "attn_q.bias")) ref.unpermute_heads = heads;
      if (arch.permuted_qk && (rest == "attn_k.weight" || rest == "attn_k.bias")) ref.unpermute_heads = kv_heads;
    }
    // transformers' Gemma2TensorProcessor (also used for gemma3): "norm.weight" in the name -> w - 1.
    if (gemma && t.name.find("norm.weight") != std::string::npos) ref.norm_offset = -1.0;
    if (hf.empty())
      throw InputError(g.path() + ": tensor '" + t.name + "' has no place in an HF " + arch.hf +
                       " (dkv maps token_embd, output_norm, output and blk.N.{attn_*, ffn_*})");
    out[hf] = ref;
  }
  return out;
}

at::Tensor load_gguf_tensor(const GgufTensorRef& ref, at::ScalarType dtype) {
  const GgufTensorInfo& t = *ref.info;
  auto out = at::empty(t.torch_shape(), at::kFloat);
  dequantize_ggml(t.type, t.data, out.data_ptr<float>(), t.numel());
  if (ref.unpermute_heads > 0) {
    // convert_hf_to_gguf's permute: w.reshape(n, 2, rows/n/2, ...).swapaxes(1, 2); the inverse
    // reads the stored rows as (n, rows/n/2, 2) and swaps back.
    const int64_t rows = out.size(0), n = ref.unpermute_heads;
    if (rows % (2 * n) != 0)
      throw InputError(t.name + ": " + std::to_string(rows) + " rows do not split into " +
                       std::to_string(n) + " heads of even size");
    auto shape = out.sizes().vec();
    std::vector<int64_t> split{n, rows / n / 2, 2};
    split.insert(split.end(), shape.begin() + 1, shape.end());
    out = out.reshape(split).transpose(1, 2).reshape(shape).contiguous();
  }
  if (ref.norm_offset != 0.0) out = out + ref.norm_offset;  // fp32, as transformers' numpy path
  return dtype == at::kFloat ? out : out.to(dtype);
}

}  // namespace dkv::model
