// The text functions an experiment needs, bound to the run's tokenizers and chat template.
// The one place where the experiment engine meets the tokenizer module.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dkv/experiment/plan.h"

namespace dkv::experiment {

struct TextSide {
  EncodeFn encode;  // the decoder's tokenizer
  std::function<std::string(const std::vector<int64_t>&)> decode;  // skip_special_tokens=True
  std::optional<int64_t> bos_id;
  std::vector<int64_t> eos_ids;
  int64_t vocab_size = 0;
  // The decoder's chat template with one user turn (after a system message when `system` is
  // non-empty) and the generation prompt, as text.
  std::function<std::string(const std::string& system, const std::string& user)> render_user_turn;
  // The embedding model's tokenizer (with special tokens, truncated as sentence-transformers).
  std::function<std::vector<int64_t>(const std::string&)> encode_for_embedding;
  std::string tokenizer_fingerprint;
};

// Loads the decoder's tokenizer from `model_dir`, the chat template (`chat_template` = auto
// reads tokenizer_config.json), and the embedding model's tokenizer from `embedding_dir`.
TextSide load_text_side(const std::string& model_dir, const std::string& chat_template,
                        const std::string& embedding_dir, int64_t embedding_max_tokens);
// The decoder's side only (encode_for_embedding left empty): benchmarks without an embedder.
TextSide load_decoder_text_side(const std::string& model_dir, const std::string& chat_template);

}  // namespace dkv::experiment
