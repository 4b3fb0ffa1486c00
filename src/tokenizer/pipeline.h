// Private: the stages of an HF `tokenizers` pipeline (normalizer, pre-tokenizer, model,
// post-processor, decoder), each built from its tokenizer.json section. Semantics follow
// huggingface/tokenizers 0.19 (the Rust crate behind transformers' fast tokenizers).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dkv::tokenizer {

// A span of the input during pre-tokenization. `at_origin` is HF's offsets_original().0 == 0
// (Metaspace's prepend_scheme "first" relies on it); `id` >= 0 marks an added token already
// matched, which later stages leave alone.
struct Piece {
  std::string text;
  bool at_origin = false;
  int64_t id = -1;
};
using Pieces = std::vector<Piece>;

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(const std::string& s) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits/rewrites every piece with id < 0; drops empty pieces, as HF's split() does.
  virtual void pre_tokenize(Pieces& pieces) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual void tokenize(const std::string& word, std::vector<int64_t>& out) const = 0;
  virtual std::optional<int64_t> token_to_id(const std::string& token) const = 0;
  virtual const std::string* id_to_token(int64_t id) const = 0;
  virtual size_t vocab_size() const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens of a single sequence (HF process() with add_special_tokens=true).
  virtual std::vector<int64_t> process(std::vector<int64_t> ids) const = 0;
};

// `key` is the JSON path of the section ("normalizer", "pre_tokenizer.pretokenizers[1]");
// `where` the file. Unknown `type` values throw InputError listing the supported ones.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, const std::string& key,
                                            const std::string& where);
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, const std::string& key,
                                                 const std::string& where);
std::unique_ptr<Model> make_model(const nlohmann::json& j, const std::string& key,
                                  const std::string& where);
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j, const std::string& key,
                                      const std::string& where);
std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j,
                                                   const std::string& key,
                                                   const std::string& where);

// "<where>: <key>.type 'X' is not supported (supported: a, b)".
[[noreturn]] void throw_unsupported(const std::string& where, const std::string& key,
                                    const std::string& type, const char* supported);
std::string get_type(const nlohmann::json& j, const std::string& key, const std::string& where);
// HF Split/Replace pattern {"String": s} or {"Regex": r}: returns (is_regex, text).
std::pair<bool, std::string> get_pattern(const nlohmann::json& j, const std::string& key,
                                         const std::string& where);

// GPT-2's byte <-> printable-char table used by ByteLevel (openai/gpt-2 encoder.py
// bytes_to_unicode, reproduced by HF ByteLevel).
const std::string& byte_to_unicode(unsigned char b);
int unicode_to_byte(char32_t c);  // -1 when c is not in the table

}  // namespace dkv::tokenizer
