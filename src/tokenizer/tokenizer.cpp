// Tokenizer: loads tokenizer.json and the config files, matches added tokens in raw text
// (HF AddedVocabulary::extract_and_normalize), and runs the pipeline stages in HF's order.
#include "dkv/tokenizer/tokenizer.h"

#include <filesystem>
#include <unordered_map>
#include <unordered_set>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/model/gguf_file.h"
#include "dkv/tokenizer/gguf_tokenizer.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/text.h"

namespace dkv::tokenizer {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct AddedToken {
  std::string content;
  int64_t id;
  bool special, lstrip, rstrip, normalized, single_word;
};

// One matching set (HF split_trie or split_normalized_trie): leftmost-longest, as HF's
// aho-corasick with MatchKind::LeftmostLongest. Patterns are indexed by first byte.
struct MatchSet {
  std::vector<std::pair<std::string, size_t>> patterns;  // (pattern, index into added tokens)
  std::vector<std::vector<size_t>> by_byte = std::vector<std::vector<size_t>>(256);
  void add(const std::string& p, size_t token) {
    if (p.empty()) return;
    patterns.emplace_back(p, token);
  }
  void finish() {
    for (size_t i = 0; i < patterns.size(); ++i)
      by_byte[static_cast<unsigned char>(patterns[i].first[0])].push_back(i);
    for (auto& v : by_byte)
      std::stable_sort(v.begin(), v.end(), [&](size_t a, size_t b) {
        return patterns[a].first.size() > patterns[b].first.size();
      });
  }
  bool empty() const { return patterns.empty(); }
};

bool ends_with_word(const std::string& s) {
  auto cps = text::decode(s);
  return !cps.empty() && (text::is_alphanumeric(cps.back().cp) || cps.back().cp == '_');
}
bool starts_with_word(const std::string& s) {
  auto cps = text::decode(s);
  return !cps.empty() && (text::is_alphanumeric(cps[0].cp) || cps[0].cp == '_');
}

std::string token_string(const json& j, const std::string& key, const std::string& where) {
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content")) return json_util::get_string(v, "content", where + ": " + key);
  if (v.is_null()) return "";
  throw InputError(detail::concat(where, ": ", key, ": expected a string or {\"content\": ...}, got ",
                                  v.dump()));
}

}  // namespace

struct Tokenizer::Impl {
  std::string source, where, model_type;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Model> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  std::vector<AddedToken> added;
  std::unordered_map<std::string, int64_t> added_by_content;
  std::unordered_map<int64_t, size_t> added_by_id;
  MatchSet raw_set, normalized_set;
  size_t vocab_size = 0;
  std::string bos, eos, chat_template;
  std::optional<bool> add_bos;

  // HF find_matches: (token index or -1, [begin, end)) covering `s`.
  void split_added(const std::string& s, const MatchSet& set, bool at_origin, Pieces& out) const {
    if (set.empty()) {
      out.push_back({s, at_origin, -1});
      return;
    }
    size_t start_offset = 0;
    auto push_text = [&](size_t a, size_t e) {
      if (e > a) out.push_back({s.substr(a, e - a), at_origin && a == 0, -1});
    };
    for (size_t i = 0; i < s.size();) {
      const auto& cands = set.by_byte[static_cast<unsigned char>(s[i])];
      const std::pair<std::string, size_t>* hit = nullptr;
      for (size_t c : cands) {
        const auto& p = set.patterns[c];
        if (s.compare(i, p.first.size(), p.first) == 0) {
          hit = &p;
          break;
        }
      }
      if (!hit) {
        ++i;
        continue;
      }
      size_t start = i, stop = i + hit->first.size();
      i = stop;  // aho-corasick continues after the match, whatever the flags decide
      const AddedToken& tok = added[hit->second];
      if (tok.single_word) {
        bool start_space = start == 0 || !ends_with_word(s.substr(0, start));
        bool stop_space = stop == s.size() || !starts_with_word(s.substr(stop));
        if (!start_space || !stop_space) continue;
      }
      if (tok.lstrip) {
        size_t ns = start;
        auto cps = text::decode(s.substr(0, start));
        while (!cps.empty() && text::is_whitespace(cps.back().cp)) {
          ns = cps.back().begin;
          cps.pop_back();
        }
        start = std::max(ns, start_offset);
      }
      if (tok.rstrip) {
        for (const auto& cp : text::decode(s.substr(stop))) {
          if (!text::is_whitespace(cp.cp)) break;
          stop += cp.end - cp.begin;
        }
      }
      push_text(start_offset, start);
      out.push_back({s.substr(start, stop - start), at_origin && start == 0, tok.id});
      start_offset = stop;
      i = std::max(i, stop);
    }
    push_text(start_offset, s.size());
  }
};

namespace {

std::shared_ptr<Tokenizer::Impl> build(const json& root, const std::string& where) {
  auto impl = std::make_shared<Tokenizer::Impl>();
  impl->where = where;
  if (!root.is_object()) throw InputError(where + ": expected a JSON object at top level");
  if (!root.contains("model") || root["model"].is_null())
    throw InputError(where + ": missing required key 'model' (the vocabulary and merges)");
  impl->model = make_model(root["model"], "model", where);
  impl->model_type = root["model"]["type"].get<std::string>();
  if (root.contains("normalizer") && !root["normalizer"].is_null())
    impl->normalizer = make_normalizer(root["normalizer"], "normalizer", where);
  if (root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null())
    impl->pre_tokenizer = make_pre_tokenizer(root["pre_tokenizer"], "pre_tokenizer", where);
  if (root.contains("post_processor") && !root["post_processor"].is_null())
    impl->post_processor = make_post_processor(root["post_processor"], "post_processor", where);
  if (root.contains("decoder") && !root["decoder"].is_null())
    impl->decoder = make_decoder(root["decoder"], "decoder", where);

  std::unordered_set<std::string> distinct;
  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
    const json& list = root["added_tokens"];
    if (!list.is_array()) throw InputError(where + ": added_tokens: expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string ctx = detail::concat(where, ": added_tokens[", i, "]");
      const json& a = list[i];
      AddedToken t{json_util::get_string(a, "content", ctx), json_util::get_int(a, "id", ctx),
                   json_util::get_bool_or(a, "special", false, ctx),
                   json_util::get_bool_or(a, "lstrip", false, ctx),
                   json_util::get_bool_or(a, "rstrip", false, ctx),
                   json_util::get_bool_or(a, "normalized", true, ctx),
                   json_util::get_bool_or(a, "single_word", false, ctx)};
      impl->added_by_content[t.content] = t.id;
      impl->added_by_id[t.id] = impl->added.size();
      impl->added.push_back(t);
      distinct.insert(t.content);
    }
  }
  for (size_t i = 0; i < impl->added.size(); ++i) {
    const AddedToken& t = impl->added[i];
    if (t.normalized) {
      // HF matches a normalized token by its normalized content in normalized text.
      impl->normalized_set.add(
          impl->normalizer ? impl->normalizer->normalize(t.content) : t.content, i);
    } else {
      impl->raw_set.add(t.content, i);
    }
  }
  impl->raw_set.finish();
  impl->normalized_set.finish();
  size_t model_extra = 0;
  for (const auto& t : impl->added)
    if (!impl->model->token_to_id(t.content)) ++model_extra;
  impl->vocab_size = impl->model->vocab_size() + model_extra;
  return impl;
}

}  // namespace

Tokenizer Tokenizer::from_file(const std::string& path) {
  if (!fs::exists(path)) throw InputError(path + ": file not found (expected an HF tokenizer.json)");
  json root = json_util::read_file(path);
  Tokenizer t;
  auto impl = build(root, path);
  impl->source = path;
  t.impl_ = impl;
  return t;
}

namespace {
// The keys dkv reads from tokenizer_config.json / special_tokens_map.json.
void apply_config(Tokenizer::Impl& impl, const json& c, const std::string& p) {
  if (!c.is_object()) throw InputError(p + ": expected a JSON object at top level");
  if (c.contains("bos_token")) impl.bos = token_string(c, "bos_token", p);
  if (c.contains("eos_token")) impl.eos = token_string(c, "eos_token", p);
  if (c.contains("add_bos_token") && !c["add_bos_token"].is_null())
    impl.add_bos = json_util::get_bool(c, "add_bos_token", p);
  if (c.contains("chat_template") && !c["chat_template"].is_null()) {
    const json& ct = c["chat_template"];
    if (ct.is_string()) {
      impl.chat_template = ct.get<std::string>();
    } else if (ct.is_array()) {
      for (const json& e : ct)
        if (e.is_object() && e.value("name", "") == "default")
          impl.chat_template = json_util::get_string(e, "template", p + ": chat_template[]");
    } else {
      throw InputError(p + ": chat_template: expected a string or a list of {name, template}");
    }
  }
}
}  // namespace

Tokenizer Tokenizer::load(const std::string& dir) {
  if (model::is_gguf_path(dir)) {
    const auto files = hf_tokenizer_from_gguf(model::GgufFile::open(dir));
    auto impl = build(files.tokenizer, dir + " (tokenizer.ggml.*)");
    impl->source = dir;
    apply_config(*impl, files.config, dir + " (tokenizer.ggml.*)");
    Tokenizer t;
    t.impl_ = impl;
    return t;
  }
  const std::string tj = (fs::path(dir) / "tokenizer.json").string();
  if (!fs::exists(tj))
    throw InputError(tj + ": file not found (dkv reads HF fast-tokenizer directories "
                          "and GGUF files; save one with tokenizer.save_pretrained)");
  json root = json_util::read_file(tj);
  auto impl = build(root, tj);
  impl->source = dir;
  // tokenizer_config.json is read last, so it wins over special_tokens_map.json as in HF.
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    const std::string p = (fs::path(dir) / name).string();
    if (fs::exists(p)) apply_config(*impl, json_util::read_file(p), p);
  }
  Tokenizer t;
  t.impl_ = impl;
  return t;
}

std::vector<int64_t> Tokenizer::encode(const std::string& input, bool add_special_tokens) const {
  const Impl& m = *impl_;
  if (!text::is_valid_utf8(input))
    throw InputError(m.source + ": encode: the text is not valid UTF-8");
  Pieces raw;
  m.split_added(input, m.raw_set, true, raw);
  Pieces pieces;
  for (Piece& p : raw) {
    if (p.id >= 0) {
      pieces.push_back(std::move(p));
      continue;
    }
    std::string norm = m.normalizer ? m.normalizer->normalize(p.text) : p.text;
    if (norm.empty()) continue;
    m.split_added(norm, m.normalized_set, p.at_origin, pieces);
  }
  if (m.pre_tokenizer) m.pre_tokenizer->pre_tokenize(pieces);
  std::vector<int64_t> ids;
  ids.reserve(input.size() / 3 + 4);
  for (const Piece& p : pieces) {
    if (p.id >= 0)
      ids.push_back(p.id);
    else
      m.model->tokenize(p.text, ids);
  }
  if (add_special_tokens && m.post_processor) ids = m.post_processor->process(std::move(ids));
  return ids;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  const Impl& m = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    auto a = m.added_by_id.find(id);
    if (a != m.added_by_id.end()) {
      if (skip_special_tokens && m.added[a->second].special) continue;
      tokens.push_back(m.added[a->second].content);
      continue;
    }
    const std::string* t = m.model->id_to_token(id);
    if (!t)
      throw InputError(detail::concat(m.source, ": decode: id ", id, " is not in the vocabulary (",
                                      m.vocab_size, " tokens)"));
    tokens.push_back(*t);
  }
  if (!m.decoder) {
    std::string out;  // HF joins with spaces when there is no decoder
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  std::string out;
  for (const auto& s : m.decoder->decode_chain(std::move(tokens))) out += s;
  return out;
}

std::optional<int64_t> Tokenizer::token_to_id(const std::string& token) const {
  auto a = impl_->added_by_content.find(token);
  if (a != impl_->added_by_content.end()) return a->second;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(int64_t id) const {
  auto a = impl_->added_by_id.find(id);
  if (a != impl_->added_by_id.end()) return impl_->added[a->second].content;
  const std::string* t = impl_->model->id_to_token(id);
  if (!t) return std::nullopt;
  return *t;
}

size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }
std::optional<int64_t> Tokenizer::bos_id() const {
  return impl_->bos.empty() ? std::nullopt : token_to_id(impl_->bos);
}
std::optional<int64_t> Tokenizer::eos_id() const {
  return impl_->eos.empty() ? std::nullopt : token_to_id(impl_->eos);
}
const std::string& Tokenizer::bos_token() const { return impl_->bos; }
const std::string& Tokenizer::eos_token() const { return impl_->eos; }
std::optional<bool> Tokenizer::add_bos_token() const { return impl_->add_bos; }
const std::string& Tokenizer::chat_template() const { return impl_->chat_template; }
const std::string& Tokenizer::model_type() const { return impl_->model_type; }
const std::string& Tokenizer::source() const { return impl_->source; }

Tokenizer copy_tokenizer_files(const std::string& src_dir, const std::string& dest_dir) {
  Tokenizer::load(src_dir);  // validate before writing anything
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path from = fs::path(src_dir) / name;
    if (!fs::exists(from)) continue;
    std::error_code ec;
    fs::copy_file(from, fs::path(dest_dir) / name, fs::copy_options::overwrite_existing, ec);
    if (ec)
      throw IoError(detail::concat("copy_file(", from.string(), ", ", dest_dir, "): ",
                                   ec.message()));
  }
  return Tokenizer::load(dest_dir);
}

}  // namespace dkv::tokenizer
