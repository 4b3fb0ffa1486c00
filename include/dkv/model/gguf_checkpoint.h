// A GGUF decoder checkpoint seen as an HF one: config.json built from the `<arch>.*` metadata,
// llama.cpp tensor names mapped to HF names, and llama.cpp's q/k row permutation undone so
// that HF's `rotate_half` RoPE applies. Architectures: `llama` (Llama, Mistral, SmolLM2),
// `qwen2` (which llama.cpp stores unpermuted: it uses NEOX-style RoPE, HF's own pairing) and
// `gemma3` (unpermuted too; norm weights stored as 1 + w, read back as w like transformers).
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <map>
#include <memory>
#include <string>

#include "dkv/model/gguf_file.h"

namespace dkv::model {

struct GgufTensorRef {
  const GgufTensorInfo* info = nullptr;
  // Heads to un-permute the rows by (llama.cpp's `permute(w, n_head, n_head_kv)` on q_proj and
  // k_proj of the `llama` architecture); 0 = stored in HF order.
  int64_t unpermute_heads = 0;
  // Added to the dequantized values: -1 for Gemma 3's norms, stored as 1 + w.
  double norm_offset = 0.0;
};

// HF config.json (transformers 4.43 key set) for the GGUF's decoder. Throws InputError naming
// the metadata key for a missing or unsupported value (unknown architecture, partial rotary,
// rope scaling other than none/linear, llama.cpp's rope_freqs factors).
nlohmann::json hf_config_from_gguf(const GgufFile& file);

// HF name -> GGUF tensor for every tensor of the file. Throws InputError naming a tensor dkv
// cannot place (so that nothing in the file is silently ignored).
std::map<std::string, GgufTensorRef> hf_tensor_names(const GgufFile& file, const nlohmann::json& hf_config);

// The tensor in HF layout as `dtype` on the CPU: dequantized to fp32 exactly, rows un-permuted,
// then converted.
at::Tensor load_gguf_tensor(const GgufTensorRef& ref, at::ScalarType dtype);

}  // namespace dkv::model
