// tokenizer.ggml.* -> HF tokenizer.json. The pieces follow what the HF tokenizer.json of the
// model the GGUF was converted from holds (llama.cpp's convert_hf_to_gguf.py reads them from
// it): the pre-tokenizer regexes are those llama.cpp's llama-vocab.cpp selects per
// `tokenizer.ggml.pre`, written as the equivalent HF pre-tokenizers.
#include "dkv/tokenizer/gguf_tokenizer.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "dkv/core/error.h"
#include "tokenizer/text.h"

namespace dkv::tokenizer {

using nlohmann::json;

namespace {

// llama_token_type (llama.h)
constexpr int64_t kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4;

const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* kQwen2Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", use_regex}};
}
json split_then_byte_level(const char* regex) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           json::array({{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
                        byte_level(false)})}};
}

struct BpePre {
  json pre_tokenizer;
  json normalizer;  // null unless the original tokenizer.json normalizes
  bool ignore_merges;
};

// tokenizer.ggml.pre -> the HF pre-tokenizer of the model family (llama-vocab.cpp's
// LLAMA_VOCAB_PRE_TYPE_* regexes; ignore_merges as llama.cpp sets it for llama-bpe).
BpePre bpe_pre(const std::string& pre, const std::string& where) {
  if (pre == "gpt-2") return {byte_level(true), nullptr, false};
  if (pre == "smollm")  // "\p{N}" then GPT-2's regex: every digit its own piece
    return {{{"type", "Sequence"},
             {"pretokenizers", json::array({{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)})}},
            nullptr, false};
  if (pre == "llama-bpe" || pre == "llama3") return {split_then_byte_level(kLlama3Regex), nullptr, true};
  if (pre == "qwen2") return {split_then_byte_level(kQwen2Regex), {{"type", "NFC"}}, false};
  throw InputError(where + ": metadata key 'tokenizer.ggml.pre' = '" + pre +
                   "' is not supported (supported: gpt-2, smollm, llama-bpe, qwen2)");
}

// transformers' GGUFTokenizerSkeleton: for every vocabulary entry (in id order) each split into
// two vocabulary pieces is a merge, ranked by the entry's score (highest first); within one
// entry, by the pieces' scores (highest first). Python's sorted(reverse=True) is stable.
json merges_from_scores(const std::vector<std::string>& tokens, const std::vector<double>& scores) {
  std::unordered_map<std::string, double> score_of;
  for (size_t i = 0; i < tokens.size(); ++i) score_of[tokens[i]] = scores[i];  // as the dict: last value wins
  struct Merge {
    std::string left, right;
    double score;
  };
  std::vector<Merge> all;
  std::unordered_set<std::string> seen;
  for (const auto& tok : tokens) {
    if (!seen.insert(tok).second) continue;  // a dict iterates each key once
    const auto cps = text::decode(tok);
    std::vector<Merge> local;
    for (size_t k = 1; k < cps.size(); ++k) {
      const auto cut = cps[k].begin;
      auto l = tok.substr(0, cut), r = tok.substr(cut);
      if (score_of.count(l) && score_of.count(r)) local.push_back({l, r, score_of[tok]});
    }
    std::stable_sort(local.begin(), local.end(), [&](const Merge& a, const Merge& b) {
      const double al = score_of[a.left], bl = score_of[b.left];
      return al != bl ? al > bl : score_of[a.right] > score_of[b.right];
    });
    all.insert(all.end(), local.begin(), local.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Merge& a, const Merge& b) { return a.score > b.score; });
  json out = json::array();
  // "a b" as transformers writes them, or [a, b] when a piece holds a space (Gemma's
  // whitespace-run tokens), which the string form cannot carry.
  for (const auto& m : all) {
    if (m.left.find(' ') == std::string::npos && m.right.find(' ') == std::string::npos)
      out.push_back(m.left + " " + m.right);
    else
      out.push_back(json::array({m.left, m.right}));
  }
  return out;
}

// Token texts and merges must be UTF-8 (byte-level BPE maps bytes to printable code points;
// SentencePiece pieces are UTF-8): anything else is a damaged file, not a token.
std::string utf8_string(const model::GgufFile& g, const std::string& key, const nlohmann::json& v, size_t index) {
  if (!v.is_string())
    throw InputError(g.path() + ": metadata key '" + key + "'[" + std::to_string(index) + "]: expected a string");
  auto s = v.get<std::string>();
  if (!text::is_valid_utf8(s))
    throw InputError(g.path() + ": metadata key '" + key + "'[" + std::to_string(index) + "] is not valid UTF-8");
  return s;
}

std::vector<std::string> string_array(const model::GgufFile& g, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& v : g.get_array(key)) out.push_back(utf8_string(g, key, v, out.size()));
  return out;
}

template <typename T>
std::vector<T> number_array(const model::GgufFile& g, const std::string& key, size_t n) {
  std::vector<T> out;
  for (const auto& v : g.get_array(key)) {
    if (!v.is_number()) throw InputError(g.path() + ": metadata key '" + key + "': expected numbers");
    out.push_back(v.get<T>());
  }
  if (out.size() != n)
    throw InputError(g.path() + ": metadata key '" + key + "' has " + std::to_string(out.size()) +
                     " entries, tokenizer.ggml.tokens has " + std::to_string(n));
  return out;
}

std::optional<int64_t> special_id(const model::GgufFile& g, const std::string& key, size_t n) {
  if (!g.has_key(key)) return std::nullopt;
  const auto id = g.get_int(key);
  if (id < 0 || static_cast<size_t>(id) >= n)
    throw InputError(g.path() + ": metadata key '" + key + "' = " + std::to_string(id) +
                     " is outside the vocabulary of " + std::to_string(n) + " tokens");
  return id;
}

// HF TemplateProcessing "<bos> $A <eos>" (each part only when the file asks for it).
json template_processing(const std::optional<std::string>& bos, const std::optional<std::string>& eos) {
  auto special = [](const std::string& t) { return json{{"SpecialToken", {{"id", t}, {"type_id", 0}}}}; };
  auto sequence = [&](const char* id) {
    json parts = json::array();
    if (bos) parts.push_back(special(*bos));
    parts.push_back(json{{"Sequence", {{"id", id}, {"type_id", 0}}}});
    if (eos) parts.push_back(special(*eos));
    return parts;
  };
  json pair = sequence("A");
  for (auto& part : sequence("B")) pair.push_back(part);
  return {{"type", "TemplateProcessing"}, {"single", sequence("A")}, {"pair", pair}, {"special_tokens", json::object()}};
}

}  // namespace

HfTokenizerFiles hf_tokenizer_from_gguf(const model::GgufFile& g) {
  const std::string where = g.path();
  const auto kind = g.get_string("tokenizer.ggml.model");
  if (kind != "gpt2" && kind != "llama")
    throw InputError(where + ": metadata key 'tokenizer.ggml.model' = '" + kind +
                     "' is not supported (supported: gpt2 = byte-level BPE, llama = SentencePiece BPE)");
  const auto tokens = string_array(g, "tokenizer.ggml.tokens");
  const size_t n = tokens.size();
  if (n == 0) throw InputError(where + ": metadata key 'tokenizer.ggml.tokens' is empty");
  std::vector<int64_t> types(n, kTypeNormal);
  if (g.has_key("tokenizer.ggml.token_type")) types = number_array<int64_t>(g, "tokenizer.ggml.token_type", n);

  json vocab = json::object();
  for (size_t i = 0; i < n; ++i)
    if (!vocab.contains(tokens[i])) vocab[tokens[i]] = static_cast<int64_t>(i);
  json added = json::array();
  for (size_t i = 0; i < n; ++i) {
    const bool special = types[i] == kTypeControl || types[i] == kTypeUnknown;
    if (!special && types[i] != kTypeUserDefined) continue;
    // Matched in the raw text before normalization, as llama.cpp matches them.
    added.push_back({{"id", static_cast<int64_t>(i)}, {"content", tokens[i]}, {"single_word", false},
                     {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", special}});
  }

  const auto bos = special_id(g, "tokenizer.ggml.bos_token_id", n);
  const auto eos = special_id(g, "tokenizer.ggml.eos_token_id", n);
  const auto unk = special_id(g, "tokenizer.ggml.unknown_token_id", n);
  // llama.cpp's defaults when the keys are absent: BOS for SentencePiece vocabularies, none for BPE.
  const bool add_bos = g.has_key("tokenizer.ggml.add_bos_token") ? g.get_bool("tokenizer.ggml.add_bos_token")
                                                                 : kind == "llama";
  const bool add_eos = g.has_key("tokenizer.ggml.add_eos_token") && g.get_bool("tokenizer.ggml.add_eos_token");
  if (add_bos && !bos) throw InputError(where + ": tokenizer.ggml.add_bos_token is true but there is no tokenizer.ggml.bos_token_id");
  if (add_eos && !eos) throw InputError(where + ": tokenizer.ggml.add_eos_token is true but there is no tokenizer.ggml.eos_token_id");
  std::optional<std::string> bos_text, eos_text;
  if (add_bos) bos_text = tokens[*bos];
  if (add_eos) eos_text = tokens[*eos];

  json tj;
  tj["version"] = "1.0";
  tj["truncation"] = nullptr;
  tj["padding"] = nullptr;
  tj["added_tokens"] = added;
  json model = {{"type", "BPE"}, {"dropout", nullptr}, {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr}, {"vocab", vocab}};
  if (kind == "gpt2") {
    const auto pre = bpe_pre(g.has_key("tokenizer.ggml.pre") ? g.get_string("tokenizer.ggml.pre") : "gpt-2", where);
    model["unk_token"] = nullptr;
    model["fuse_unk"] = false;
    model["byte_fallback"] = false;
    model["ignore_merges"] = pre.ignore_merges;
    model["merges"] = string_array(g, "tokenizer.ggml.merges");
    tj["normalizer"] = pre.normalizer;
    tj["pre_tokenizer"] = pre.pre_tokenizer;
    tj["post_processor"] = (add_bos || add_eos) ? template_processing(bos_text, eos_text) : byte_level(true);
    tj["decoder"] = byte_level(true);
  } else {
    const auto scores = number_array<double>(g, "tokenizer.ggml.scores", n);
    model["unk_token"] = unk ? json(tokens[*unk]) : json(nullptr);
    model["fuse_unk"] = true;
    model["byte_fallback"] = true;
    model["ignore_merges"] = false;
    model["merges"] = g.has_key("tokenizer.ggml.merges") ? json(string_array(g, "tokenizer.ggml.merges"))
                                                        : merges_from_scores(tokens, scores);
    // Llama-2's legacy SentencePiece layout (transformers' LlamaConverter). Files with
    // tokenizer.ggml.add_space_prefix = false (Gemma: llama.cpp then prepends no space) get
    // Gemma's tokenizer.json layout instead: spaces become U+2581, nothing is prepended, and
    // the decoder strips nothing.
    const bool space_prefix = !g.has_key("tokenizer.ggml.add_space_prefix") ||
                              g.get_bool("tokenizer.ggml.add_space_prefix");
    const json replace_space = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
    tj["normalizer"] = space_prefix
                           ? json{{"type", "Sequence"},
                                  {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", "\u2581"}}, replace_space})}}
                           : replace_space;
    tj["pre_tokenizer"] = nullptr;
    tj["post_processor"] = (add_bos || add_eos) ? template_processing(bos_text, eos_text) : json(nullptr);
    json decoders = json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                                 {{"type", "ByteFallback"}}, {{"type", "Fuse"}}});
    if (space_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    tj["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
  }
  tj["model"] = model;
  if (tj["post_processor"].is_object() && tj["post_processor"]["type"] == "TemplateProcessing") {
    json& st = tj["post_processor"]["special_tokens"];
    for (const auto& [text, id] : {std::pair{bos_text, bos}, {eos_text, eos}})
      if (text) st[*text] = {{"id", *text}, {"ids", json::array({*id})}, {"tokens", json::array({*text})}};
  }

  json config = json::object();
  if (bos) config["bos_token"] = tokens[*bos];
  if (eos) config["eos_token"] = tokens[*eos];
  if (unk) config["unk_token"] = tokens[*unk];
  config["add_bos_token"] = add_bos;
  config["add_eos_token"] = add_eos;
  if (g.has_key("tokenizer.chat_template"))
    config["chat_template"] = utf8_string(g, "tokenizer.chat_template", g.metadata()["tokenizer.chat_template"], 0);
  config["tokenizer_class"] = kind == "llama" ? "LlamaTokenizerFast" : "PreTrainedTokenizerFast";
  return {tj, config};
}

}  // namespace dkv::tokenizer
