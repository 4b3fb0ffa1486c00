// tokenizer.json "normalizer" section: HF tokenizers' normalizers (normalizers/*.rs, 0.19).
#include <memory>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/text.h"

namespace dkv::tokenizer {

using nlohmann::json;

void throw_unsupported(const std::string& where, const std::string& key, const std::string& type,
                       const char* supported) {
  throw InputError(detail::concat(where, ": ", key, ".type '", type,
                                  "' is not supported (supported: ", supported, ")"));
}

std::string get_type(const json& j, const std::string& key, const std::string& where) {
  if (!j.is_object())
    throw InputError(detail::concat(where, ": ", key, ": expected an object, got ", j.dump()));
  return json_util::get_string(j, "type", where + ": " + key);
}

std::pair<bool, std::string> get_pattern(const json& j, const std::string& key,
                                         const std::string& where) {
  const json& p = json_util::require(j, "pattern", where + ": " + key);
  if (p.is_object() && p.contains("String"))
    return {false, json_util::get_string(p, "String", where + ": " + key + ".pattern")};
  if (p.is_object() && p.contains("Regex"))
    return {true, json_util::get_string(p, "Regex", where + ": " + key + ".pattern")};
  throw InputError(detail::concat(where, ": ", key, ".pattern: expected {\"String\": ...} or ",
                                  "{\"Regex\": ...}, got ", p.dump()));
}

namespace {

class SequenceNormalizer : public Normalizer {
 public:
  std::vector<std::unique_ptr<Normalizer>> steps;
  std::string normalize(const std::string& s) const override {
    std::string out = s;
    for (const auto& n : steps) out = n->normalize(out);
    return out;
  }
};

class Prepend : public Normalizer {
 public:
  std::string prefix;
  // HF prepends only to non-empty strings.
  std::string normalize(const std::string& s) const override {
    return s.empty() ? s : prefix + s;
  }
};

class Replace : public Normalizer {
 public:
  std::string pattern, content;
  std::unique_ptr<text::Regex> regex;
  std::string normalize(const std::string& s) const override {
    std::string out;
    size_t pos = 0;
    if (regex) {
      for (auto [a, e] : regex->find_all(s)) {
        out.append(s, pos, a - pos);
        out += content;
        pos = e;
      }
    } else {
      if (pattern.empty()) return s;
      for (size_t f; (f = s.find(pattern, pos)) != std::string::npos; pos = f + pattern.size()) {
        out.append(s, pos, f - pos);
        out += content;
      }
    }
    out.append(s, pos, std::string::npos);
    return out;
  }
};

// HF BertNormalizer (normalizers/bert.rs): clean_text, handle_chinese_chars, strip_accents
// (NFD then drop Mn), lowercase, in that order.
class BertNormalizer : public Normalizer {
 public:
  bool clean_text = true, chinese = true, strip_accents = true, lowercase = true;
  // HF's is_chinese_char: the CJK Unified Ideograph blocks as listed in the original BERT
  // tokenization.py, not a Unicode property.
  static bool is_chinese_char(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
  }
  std::string normalize(const std::string& s) const override {
    std::string cur;
    cur.reserve(s.size() + 8);
    for (const auto& cp : text::decode(s)) {
      char32_t c = cp.cp;
      if (clean_text) {
        bool ws = c == '\t' || c == '\n' || c == '\r' || text::is_whitespace(c);
        bool control = !(c == '\t' || c == '\n' || c == '\r') && text::is_control(c);
        if (c == 0 || c == 0xFFFD || control) continue;
        if (ws) c = ' ';
      }
      if (chinese && is_chinese_char(c)) {
        cur += ' ';
        text::append_utf8(cur, c);
        cur += ' ';
      } else {
        text::append_utf8(cur, c);
      }
    }
    if (strip_accents) {
      std::string nfd = text::normalize(cur, text::NormForm::NFD), kept;
      for (const auto& cp : text::decode(nfd))
        if (!text::is_nonspacing_mark(cp.cp)) kept.append(nfd, cp.begin, cp.end - cp.begin);
      cur = std::move(kept);
    }
    if (lowercase) {
      std::string low;
      low.reserve(cur.size());
      for (const auto& cp : text::decode(cur)) text::append_lowercase(low, cp.cp);
      cur = std::move(low);
    }
    return cur;
  }
};

class UnicodeNorm : public Normalizer {
 public:
  text::NormForm form;
  explicit UnicodeNorm(text::NormForm f) : form(f) {}
  std::string normalize(const std::string& s) const override { return text::normalize(s, form); }
};

class Lowercase : public Normalizer {
 public:
  std::string normalize(const std::string& s) const override {
    std::string out;
    for (const auto& cp : text::decode(s)) text::append_lowercase(out, cp.cp);
    return out;
  }
};

class StripAccents : public Normalizer {
 public:
  // HF StripAccents drops Mn without decomposing first (callers put NFD before it).
  std::string normalize(const std::string& s) const override {
    std::string out;
    for (const auto& cp : text::decode(s))
      if (!text::is_nonspacing_mark(cp.cp)) out.append(s, cp.begin, cp.end - cp.begin);
    return out;
  }
};

class Strip : public Normalizer {
 public:
  bool left = true, right = true;
  std::string normalize(const std::string& s) const override {
    auto cps = text::decode(s);
    size_t a = 0, e = cps.size();
    if (left)
      while (a < e && text::is_whitespace(cps[a].cp)) ++a;
    if (right)
      while (e > a && text::is_whitespace(cps[e - 1].cp)) --e;
    if (a == e) return "";
    return s.substr(cps[a].begin, cps[e - 1].end - cps[a].begin);
  }
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& j, const std::string& key,
                                            const std::string& where) {
  const std::string type = get_type(j, key, where);
  const std::string ctx = where + ": " + key;
  if (type == "Sequence") {
    auto seq = std::make_unique<SequenceNormalizer>();
    const json& list = json_util::require(j, "normalizers", ctx);
    for (size_t i = 0; i < list.size(); ++i)
      seq->steps.push_back(
          make_normalizer(list[i], key + ".normalizers[" + std::to_string(i) + "]", where));
    return seq;
  }
  if (type == "Prepend") {
    auto p = std::make_unique<Prepend>();
    p->prefix = json_util::get_string(j, "prepend", ctx);
    return p;
  }
  if (type == "Replace") {
    auto r = std::make_unique<Replace>();
    auto [is_regex, pat] = get_pattern(j, key, where);
    r->pattern = pat;
    if (is_regex) r->regex = std::make_unique<text::Regex>(pat, ctx + ".pattern");
    r->content = json_util::get_string(j, "content", ctx);
    return r;
  }
  if (type == "BertNormalizer") {
    auto b = std::make_unique<BertNormalizer>();
    b->clean_text = json_util::get_bool_or(j, "clean_text", true, ctx);
    b->chinese = json_util::get_bool_or(j, "handle_chinese_chars", true, ctx);
    b->lowercase = json_util::get_bool_or(j, "lowercase", true, ctx);
    // strip_accents: null means "follow lowercase" (HF BertNormalizer::new).
    b->strip_accents = json_util::get_bool_or(j, "strip_accents", b->lowercase, ctx);
    return b;
  }
  if (type == "NFC") return std::make_unique<UnicodeNorm>(text::NormForm::NFC);
  if (type == "NFD") return std::make_unique<UnicodeNorm>(text::NormForm::NFD);
  if (type == "NFKC") return std::make_unique<UnicodeNorm>(text::NormForm::NFKC);
  if (type == "NFKD") return std::make_unique<UnicodeNorm>(text::NormForm::NFKD);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Strip") {
    auto s = std::make_unique<Strip>();
    s->left = json_util::get_bool_or(j, "strip_left", true, ctx);
    s->right = json_util::get_bool_or(j, "strip_right", true, ctx);
    return s;
  }
  throw_unsupported(where, key, type,
                    "Sequence, Prepend, Replace, BertNormalizer, NFC, NFD, NFKC, NFKD, "
                    "Lowercase, StripAccents, Strip");
}

}  // namespace dkv::tokenizer
