// The tokenizer a GGUF file carries in its `tokenizer.ggml.*` metadata, written out as the HF
// tokenizer.json and tokenizer_config.json that describe the same tokenization:
// - `gpt2`: byte-level BPE with the file's merges; the pre-tokenizer is chosen by
//   `tokenizer.ggml.pre` as llama.cpp does (gpt-2, smollm, llama-bpe, qwen2; others are refused);
// - `llama`: SentencePiece BPE with byte fallback, merges derived from the scores as
//   transformers' GGUF converter derives them, Llama-2's normalizer and decoder.
// Control and unknown tokens become special added tokens, user-defined ones plain added tokens.
#pragma once

#include <nlohmann/json.hpp>

#include "dkv/model/gguf_file.h"

namespace dkv::tokenizer {

struct HfTokenizerFiles {
  nlohmann::json tokenizer;  // tokenizer.json
  nlohmann::json config;     // tokenizer_config.json: bos/eos tokens, add_*_token, chat_template
};

// Throws InputError naming the metadata key for a missing key, an unknown tokenizer model or
// pre-tokenizer, array lengths that disagree, or an out-of-range special id.
HfTokenizerFiles hf_tokenizer_from_gguf(const model::GgufFile& file);

}  // namespace dkv::tokenizer
