// dkv::tokenizer::Tokenizer: an HF tokenizer directory (tokenizer.json plus tokenizer_config.json
// / special_tokens_map.json) that encodes and decodes exactly as HF `tokenizers` 0.19 does for
// SentencePiece-style BPE (Llama-2, Mistral), byte-level BPE (Llama-3, Qwen2, GPT-2) and
// WordPiece (BERT). Needs only the standard library, nlohmann json and ICU (no LibTorch).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dkv::tokenizer {

class Tokenizer {
 public:
  // Reads <dir>/tokenizer.json (required) and, when present, <dir>/tokenizer_config.json and
  // <dir>/special_tokens_map.json. Throws InputError naming the file and JSON key for a missing
  // or malformed file, a missing `model` section, or an unsupported model / normalizer /
  // pre_tokenizer / decoder / post_processor type (the message lists the supported ones).
  static Tokenizer load(const std::string& dir);
  // Only a tokenizer.json file (no bos/eos/chat template information).
  static Tokenizer from_file(const std::string& tokenizer_json);

  // HF Tokenizer::encode(text, add_special_tokens).ids: added tokens matched in the raw text,
  // normalizer, pre-tokenizer, model, then the post-processor when add_special_tokens. No
  // truncation or padding (tokenizer.json's `truncation` / `padding` are ignored).
  // Throws InputError if `text` is not valid UTF-8. Thread-safe.
  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens = true) const;
  // HF Tokenizer::decode. Throws InputError for an id outside the vocabulary (HF skips it).
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;

  std::optional<int64_t> token_to_id(const std::string& token) const;
  std::optional<std::string> id_to_token(int64_t id) const;
  // HF get_vocab_size(with_added_tokens=True): distinct tokens of the model and added tokens.
  size_t vocab_size() const;
  // From tokenizer_config.json / special_tokens_map.json `bos_token` / `eos_token`.
  std::optional<int64_t> bos_id() const;
  std::optional<int64_t> eos_id() const;
  const std::string& bos_token() const;  // empty when not configured
  const std::string& eos_token() const;
  // tokenizer_config.json `add_bos_token` when present (Llama/Mistral), else nullopt.
  std::optional<bool> add_bos_token() const;
  // tokenizer_config.json `chat_template` (the "default" one when it is a list); empty if none.
  const std::string& chat_template() const;
  const std::string& model_type() const;  // "BPE" or "WordPiece"
  const std::string& source() const;      // the directory or file it was loaded from

  struct Impl;  // opaque; defined in src/tokenizer/tokenizer.cpp

 private:
  std::shared_ptr<const Impl> impl_;
};

// Copies the HF tokenizer files present in src_dir (tokenizer.json, tokenizer_config.json,
// special_tokens_map.json) into dest_dir, which must exist, after checking that they load; for
// `dkv make-tiny-model`, with tests/data/tokenizers/mistral_sp (vocab_size 1620, <unk>/<s>/</s> =
// 0/1/2, Mistral chat template). Returns the tokenizer as loaded from dest_dir. Throws
// InputError for an invalid source, IoError when a copy fails.
Tokenizer copy_tokenizer_files(const std::string& src_dir, const std::string& dest_dir);

}  // namespace dkv::tokenizer
