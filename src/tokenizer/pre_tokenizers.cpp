// tokenizer.json "pre_tokenizer" section: HF tokenizers' pre-tokenizers (pre_tokenizers/*.rs,
// 0.19) and the split-with-behaviour rule they share (normalizer.rs NormalizedString::split).
#include <algorithm>
#include <functional>
#include <memory>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/text.h"

namespace dkv::tokenizer {

using nlohmann::json;

namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Span {
  size_t a, e;
  bool match;
};

// Covers [0, n) with the given non-overlapping matches, flagged; then applies `b` exactly as
// HF's NormalizedString::split folds them.
std::vector<std::pair<size_t, size_t>> apply_behavior(
    size_t n, const std::vector<std::pair<size_t, size_t>>& matches, Behavior b, bool invert) {
  std::vector<Span> spans;
  size_t last = 0;
  for (auto [a, e] : matches) {
    if (a > last) spans.push_back({last, a, invert});
    spans.push_back({a, e, !invert});
    last = e;
  }
  if (last < n) spans.push_back({last, n, invert});
  std::vector<std::pair<size_t, size_t>> out;
  switch (b) {
    case Behavior::Removed:
      for (const auto& s : spans)
        if (!s.match) out.emplace_back(s.a, s.e);
      break;
    case Behavior::Isolated:
      for (const auto& s : spans) out.emplace_back(s.a, s.e);
      break;
    case Behavior::MergedWithPrevious: {
      bool prev = false;
      for (const auto& s : spans) {
        if (s.match && !prev && !out.empty())
          out.back().second = s.e;
        else
          out.emplace_back(s.a, s.e);
        prev = s.match;
      }
      break;
    }
    case Behavior::MergedWithNext: {
      bool prev = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !prev && !out.empty())
          out.back().first = it->a;
        else
          out.emplace_back(it->a, it->e);
        prev = it->match;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
    case Behavior::Contiguous: {
      bool prev = false;
      for (const auto& s : spans) {
        if (s.match == prev && !out.empty())
          out.back().second = s.e;
        else
          out.emplace_back(s.a, s.e);
        prev = s.match;
      }
      break;
    }
  }
  return out;
}

// Splits every piece that is not an added token; empty results are dropped (HF split()).
void split_all(Pieces& pieces,
               const std::function<std::vector<std::pair<size_t, size_t>>(const std::string&)>&
                   find,
               Behavior b, bool invert) {
  Pieces out;
  out.reserve(pieces.size());
  for (Piece& p : pieces) {
    if (p.id >= 0) {
      out.push_back(std::move(p));
      continue;
    }
    for (auto [a, e] : apply_behavior(p.text.size(), find(p.text), b, invert)) {
      if (e == a) continue;
      out.push_back({p.text.substr(a, e - a), p.at_origin && a == 0, -1});
    }
  }
  pieces = std::move(out);
}

std::function<std::vector<std::pair<size_t, size_t>>(const std::string&)> char_matcher(
    std::function<bool(char32_t)> pred) {
  return [pred](const std::string& s) {
    std::vector<std::pair<size_t, size_t>> m;
    for (const auto& cp : text::decode(s))
      if (pred(cp.cp)) m.emplace_back(cp.begin, cp.end);
    return m;
  };
}

std::vector<std::pair<size_t, size_t>> find_literal(const std::string& s, const std::string& pat) {
  std::vector<std::pair<size_t, size_t>> m;
  if (pat.empty()) return m;
  for (size_t f = s.find(pat); f != std::string::npos; f = s.find(pat, f + pat.size()))
    m.emplace_back(f, f + pat.size());
  return m;
}

Behavior parse_behavior(const std::string& s, const std::string& ctx) {
  if (s == "Removed") return Behavior::Removed;
  if (s == "Isolated") return Behavior::Isolated;
  if (s == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (s == "MergedWithNext") return Behavior::MergedWithNext;
  if (s == "Contiguous") return Behavior::Contiguous;
  throw InputError(detail::concat(ctx, ".behavior '", s, "' is not supported (supported: ",
                                  "Removed, Isolated, MergedWithPrevious, MergedWithNext, ",
                                  "Contiguous)"));
}

class SequencePre : public PreTokenizer {
 public:
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  void pre_tokenize(Pieces& p) const override {
    for (const auto& s : steps) s->pre_tokenize(p);
  }
};

// HF Metaspace: ' ' -> replacement, prepend per prepend_scheme, optional split before each
// replacement char (MergedWithNext).
class Metaspace : public PreTokenizer {
 public:
  std::string rep;
  enum class Scheme { Always, First, Never } scheme = Scheme::Always;
  bool split = true;
  void pre_tokenize(Pieces& pieces) const override {
    for (Piece& p : pieces) {
      if (p.id >= 0) continue;
      std::string t;
      t.reserve(p.text.size() + rep.size());
      for (char c : p.text) {
        if (c == ' ')
          t += rep;
        else
          t += c;
      }
      bool starts = t.compare(0, rep.size(), rep) == 0;
      if (!starts && (scheme == Scheme::Always || (scheme == Scheme::First && p.at_origin)))
        t = rep + t;
      p.text = std::move(t);
    }
    if (split) {
      std::string r = rep;
      split_all(pieces, [r](const std::string& s) { return find_literal(s, r); },
                Behavior::MergedWithNext, false);
    }
  }
};

const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel : public PreTokenizer {
 public:
  bool add_prefix_space = true, use_regex = true;
  std::shared_ptr<text::Regex> regex;
  void pre_tokenize(Pieces& pieces) const override {
    for (Piece& p : pieces)
      if (p.id < 0 && add_prefix_space && (p.text.empty() || p.text[0] != ' '))
        p.text = " " + p.text;
    if (use_regex) {
      auto re = regex;
      split_all(pieces, [re](const std::string& s) { return re->find_all(s); },
                Behavior::Isolated, false);
    }
    for (Piece& p : pieces) {
      if (p.id >= 0) continue;
      std::string t;
      t.reserve(p.text.size() * 2);
      for (unsigned char c : p.text) t += byte_to_unicode(c);
      p.text = std::move(t);
    }
  }
};

class Split : public PreTokenizer {
 public:
  std::string literal;
  std::shared_ptr<text::Regex> regex;
  Behavior behavior = Behavior::Isolated;
  bool invert = false;
  void pre_tokenize(Pieces& pieces) const override {
    if (regex) {
      auto re = regex;
      split_all(pieces, [re](const std::string& s) { return re->find_all(s); }, behavior,
                invert);
    } else {
      std::string lit = literal;
      split_all(pieces, [lit](const std::string& s) { return find_literal(s, lit); }, behavior,
                invert);
    }
  }
};

class BertPre : public PreTokenizer {
 public:
  void pre_tokenize(Pieces& pieces) const override {
    split_all(pieces, char_matcher(text::is_whitespace), Behavior::Removed, false);
    split_all(pieces, char_matcher(text::is_punctuation), Behavior::Isolated, false);
  }
};

class WhitespaceSplit : public PreTokenizer {
 public:
  void pre_tokenize(Pieces& pieces) const override {
    split_all(pieces, char_matcher(text::is_whitespace), Behavior::Removed, false);
  }
};

class Whitespace : public PreTokenizer {
 public:
  std::shared_ptr<text::Regex> regex =
      std::make_shared<text::Regex>(R"(\w+|[^\w\s]+)", "Whitespace");
  void pre_tokenize(Pieces& pieces) const override {
    auto re = regex;
    // HF: split(Invert(regex), Removed): keep the matches.
    split_all(pieces, [re](const std::string& s) { return re->find_all(s); }, Behavior::Removed,
              true);
  }
};

class Digits : public PreTokenizer {
 public:
  bool individual = false;
  void pre_tokenize(Pieces& pieces) const override {
    auto is_digit = [](char32_t c) { return u_isdigit_compat(c); };
    split_all(pieces, char_matcher(is_digit),
              individual ? Behavior::Isolated : Behavior::Contiguous, false);
  }
  static bool u_isdigit_compat(char32_t c);
};

class PunctuationPre : public PreTokenizer {
 public:
  Behavior behavior = Behavior::Isolated;
  void pre_tokenize(Pieces& pieces) const override {
    split_all(pieces, char_matcher(text::is_punctuation), behavior, false);
  }
};

}  // namespace
}  // namespace dkv::tokenizer

#include <unicode/uchar.h>

namespace dkv::tokenizer {
namespace {
// Rust char::is_numeric (HF Digits): general category Nd, Nl or No.
bool Digits::u_isdigit_compat(char32_t c) {
  return (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0;
}
}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const std::string& key,
                                                 const std::string& where) {
  const std::string type = get_type(j, key, where);
  const std::string ctx = where + ": " + key;
  if (type == "Sequence") {
    auto seq = std::make_unique<SequencePre>();
    const json& list = json_util::require(j, "pretokenizers", ctx);
    for (size_t i = 0; i < list.size(); ++i)
      seq->steps.push_back(
          make_pre_tokenizer(list[i], key + ".pretokenizers[" + std::to_string(i) + "]", where));
    return seq;
  }
  if (type == "Metaspace") {
    auto m = std::make_unique<Metaspace>();
    m->rep = json_util::get_string(j, "replacement", ctx);
    std::string scheme = "always";
    if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null()) {
      scheme = json_util::get_string(j, "prepend_scheme", ctx);
    } else if (j.contains("add_prefix_space")) {
      // Files written before tokenizers 0.14 carry only add_prefix_space.
      scheme = json_util::get_bool(j, "add_prefix_space", ctx) ? "always" : "never";
    }
    if (scheme == "always") {
      m->scheme = Metaspace::Scheme::Always;
    } else if (scheme == "first") {
      m->scheme = Metaspace::Scheme::First;
    } else if (scheme == "never") {
      m->scheme = Metaspace::Scheme::Never;
    } else {
      throw InputError(detail::concat(ctx, ".prepend_scheme '", scheme,
                                      "' is not supported (supported: always, first, never)"));
    }
    m->split = json_util::get_bool_or(j, "split", true, ctx);
    return m;
  }
  if (type == "ByteLevel") {
    auto b = std::make_unique<ByteLevel>();
    b->add_prefix_space = json_util::get_bool_or(j, "add_prefix_space", true, ctx);
    b->use_regex = json_util::get_bool_or(j, "use_regex", true, ctx);
    if (b->use_regex) b->regex = std::make_shared<text::Regex>(kGpt2Pattern, ctx);
    return b;
  }
  if (type == "Split") {
    auto s = std::make_unique<Split>();
    auto [is_regex, pat] = get_pattern(j, key, where);
    if (is_regex)
      s->regex = std::make_shared<text::Regex>(pat, ctx + ".pattern");
    else
      s->literal = pat;
    s->behavior = parse_behavior(json_util::get_string(j, "behavior", ctx), ctx);
    s->invert = json_util::get_bool_or(j, "invert", false, ctx);
    return s;
  }
  if (type == "BertPreTokenizer") return std::make_unique<BertPre>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplit>();
  if (type == "Whitespace") return std::make_unique<Whitespace>();
  if (type == "Digits") {
    auto d = std::make_unique<Digits>();
    d->individual = json_util::get_bool_or(j, "individual_digits", false, ctx);
    return d;
  }
  if (type == "Punctuation") {
    auto p = std::make_unique<PunctuationPre>();
    if (j.contains("behavior"))
      p->behavior = parse_behavior(json_util::get_string(j, "behavior", ctx), ctx);
    return p;
  }
  throw_unsupported(where, key, type,
                    "Sequence, Metaspace, ByteLevel, Split, BertPreTokenizer, Whitespace, "
                    "WhitespaceSplit, Digits, Punctuation");
}

}  // namespace dkv::tokenizer
