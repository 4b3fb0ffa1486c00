// tokenizer.json "decoder" and "post_processor" sections (HF tokenizers decoders/*.rs and
// processors/*.rs, 0.19), and GPT-2's byte <-> unicode table shared with ByteLevel.
#include <array>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/text.h"

namespace dkv::tokenizer {

using nlohmann::json;

namespace {

struct ByteTable {
  std::array<std::string, 256> to_char;
  std::array<char32_t, 256> cp;
  ByteTable() {
    // openai/gpt-2 encoder.py bytes_to_unicode: printable Latin-1 bytes map to themselves, the
    // other 68 bytes to U+0100.. in byte order.
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      cp[b] = keep ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      text::append_utf8(to_char[b], cp[b]);
    }
  }
};
const ByteTable& table() {
  static const ByteTable t;
  return t;
}

class SequenceDec : public Decoder {
 public:
  std::vector<std::unique_ptr<Decoder>> steps;
  std::vector<std::string> decode_chain(std::vector<std::string> t) const override {
    for (const auto& s : steps) t = s->decode_chain(std::move(t));
    return t;
  }
};

class ReplaceDec : public Decoder {
 public:
  std::string pattern, content;
  std::vector<std::string> decode_chain(std::vector<std::string> t) const override {
    for (auto& s : t) {
      std::string out;
      size_t pos = 0;
      for (size_t f; (f = s.find(pattern, pos)) != std::string::npos; pos = f + pattern.size()) {
        out.append(s, pos, f - pos);
        out += content;
      }
      out.append(s, pos, std::string::npos);
      s = std::move(out);
    }
    return t;
  }
};

// Runs of <0xNN> tokens become their UTF-8 string, or one U+FFFD per byte when invalid.
class ByteFallbackDec : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> t) const override {
    std::vector<std::string> out;
    std::string bytes;
    size_t nbytes = 0;
    auto flush = [&] {
      if (nbytes == 0) return;
      if (text::is_valid_utf8(bytes)) {
        out.push_back(bytes);
      } else {
        for (size_t i = 0; i < nbytes; ++i) out.push_back("\xEF\xBF\xBD");
      }
      bytes.clear();
      nbytes = 0;
    };
    for (auto& s : t) {
      if (s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>' && isxdigit(s[3]) &&
          isxdigit(s[4])) {
        bytes += static_cast<char>(std::stoi(s.substr(3, 2), nullptr, 16));
        ++nbytes;
      } else {
        flush();
        out.push_back(std::move(s));
      }
    }
    flush();
    return out;
  }
};

class FuseDec : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> t) const override {
    std::string all;
    for (const auto& s : t) all += s;
    return {all};
  }
};

class StripDec : public Decoder {
 public:
  char32_t content = ' ';
  size_t start = 0, stop = 0;
  std::vector<std::string> decode_chain(std::vector<std::string> t) const override {
    for (auto& s : t) {
      auto cps = text::decode(s);
      size_t a = 0, e = cps.size();
      for (size_t i = 0; i < start && i < cps.size() && cps[i].cp == content; ++i) a = i + 1;
      for (size_t i = 0; i < stop && i < cps.size(); ++i) {
        size_t idx = cps.size() - i - 1;
        if (cps[idx].cp != content) break;
        e = idx;
      }
      if (a >= e) {
        s.clear();
      } else {
        s = s.substr(cps[a].begin, cps[e - 1].end - cps[a].begin);
      }
    }
    return t;
  }
};

// HF Metaspace decoder: replacement -> ' ', except that in the first token it is dropped
// entirely unless prepend_scheme is "never".
class MetaspaceDec : public Decoder {
 public:
  std::string rep;
  bool prepend = true;
  std::vector<std::string> decode_chain(std::vector<std::string> t) const override {
    for (size_t i = 0; i < t.size(); ++i) {
      std::string out;
      const std::string& s = t[i];
      for (size_t p = 0; p < s.size();) {
        if (!rep.empty() && s.compare(p, rep.size(), rep) == 0) {
          if (!(i == 0 && prepend)) out += ' ';
          p += rep.size();
        } else {
          out += s[p++];
        }
      }
      t[i] = std::move(out);
    }
    return t;
  }
};

class ByteLevelDec : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> t) const override {
    std::string bytes;
    for (const auto& s : t) {
      std::string tok;
      bool ok = true;
      for (const auto& cp : text::decode(s)) {
        int b = unicode_to_byte(cp.cp);
        if (b < 0) {
          ok = false;
          break;
        }
        tok += static_cast<char>(b);
      }
      bytes += ok ? tok : s;  // HF keeps a token with unmapped chars as its raw bytes
    }
    return {text::from_utf8_lossy(bytes)};
  }
};

class WordPieceDec : public Decoder {
 public:
  std::string prefix = "##";
  bool cleanup = true;
  static void replace_all(std::string& s, const std::string& a, const std::string& b) {
    std::string out;
    size_t pos = 0;
    for (size_t f; (f = s.find(a, pos)) != std::string::npos; pos = f + a.size()) {
      out.append(s, pos, f - pos);
      out += b;
    }
    out.append(s, pos, std::string::npos);
    s = std::move(out);
  }
  std::vector<std::string> decode_chain(std::vector<std::string> t) const override {
    for (size_t i = 0; i < t.size(); ++i) {
      std::string& s = t[i];
      if (i != 0) {
        if (s.compare(0, prefix.size(), prefix) == 0)
          s = s.substr(prefix.size());
        else
          s = " " + s;
      }
      if (cleanup) {
        // HF wordpiece.rs cleanup(), per token, in this order.
        static const char* kPairs[][2] = {
            {" .", "."},     {" ?", "?"},     {" !", "!"},   {" ,", ","},
            {" ' ", "'"},    {" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"},
            {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& p : kPairs) replace_all(s, p[0], p[1]);
      }
    }
    return t;
  }
};

class TemplatePost : public PostProcessor {
 public:
  // Each entry: a special token's ids, or empty with is_seq for $A.
  struct Item {
    bool is_seq;
    std::vector<int64_t> ids;
  };
  std::vector<Item> single;
  std::vector<int64_t> process(std::vector<int64_t> ids) const override {
    std::vector<int64_t> out;
    out.reserve(ids.size() + 4);
    for (const auto& it : single) {
      if (it.is_seq)
        out.insert(out.end(), ids.begin(), ids.end());
      else
        out.insert(out.end(), it.ids.begin(), it.ids.end());
    }
    return out;
  }
};

class SequencePost : public PostProcessor {
 public:
  std::vector<std::unique_ptr<PostProcessor>> steps;
  std::vector<int64_t> process(std::vector<int64_t> ids) const override {
    for (const auto& s : steps) ids = s->process(std::move(ids));
    return ids;
  }
};

class IdentityPost : public PostProcessor {
 public:
  std::vector<int64_t> process(std::vector<int64_t> ids) const override { return ids; }
};

}  // namespace

const std::string& byte_to_unicode(unsigned char b) { return table().to_char[b]; }

int unicode_to_byte(char32_t c) {
  static const std::vector<int> inverse = [] {
    std::vector<int> v(512, -1);
    for (int b = 0; b < 256; ++b) v[table().cp[b]] = b;
    return v;
  }();
  return c < inverse.size() ? inverse[c] : -1;
}

std::unique_ptr<Decoder> make_decoder(const json& j, const std::string& key,
                                      const std::string& where) {
  const std::string type = get_type(j, key, where);
  const std::string ctx = where + ": " + key;
  if (type == "Sequence") {
    auto seq = std::make_unique<SequenceDec>();
    const json& list = json_util::require(j, "decoders", ctx);
    for (size_t i = 0; i < list.size(); ++i)
      seq->steps.push_back(
          make_decoder(list[i], key + ".decoders[" + std::to_string(i) + "]", where));
    return seq;
  }
  if (type == "Replace") {
    auto r = std::make_unique<ReplaceDec>();
    auto [is_regex, pat] = get_pattern(j, key, where);
    if (is_regex) throw InputError(ctx + ".pattern: a Regex pattern in a Replace decoder is not "
                                         "supported (supported: String)");
    r->pattern = pat;
    r->content = json_util::get_string(j, "content", ctx);
    return r;
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDec>();
  if (type == "Fuse") return std::make_unique<FuseDec>();
  if (type == "Strip") {
    auto s = std::make_unique<StripDec>();
    auto cps = text::decode(json_util::get_string(j, "content", ctx));
    if (cps.size() != 1) throw InputError(ctx + ".content: expected a single character");
    s->content = cps[0].cp;
    s->start = static_cast<size_t>(json_util::get_int(j, "start", ctx));
    s->stop = static_cast<size_t>(json_util::get_int(j, "stop", ctx));
    return s;
  }
  if (type == "Metaspace") {
    auto m = std::make_unique<MetaspaceDec>();
    m->rep = json_util::get_string(j, "replacement", ctx);
    if (j.contains("prepend_scheme") && !j["prepend_scheme"].is_null())
      m->prepend = json_util::get_string(j, "prepend_scheme", ctx) != "never";
    else
      m->prepend = json_util::get_bool_or(j, "add_prefix_space", true, ctx);
    return m;
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevelDec>();
  if (type == "WordPiece") {
    auto w = std::make_unique<WordPieceDec>();
    if (j.contains("prefix")) w->prefix = json_util::get_string(j, "prefix", ctx);
    w->cleanup = json_util::get_bool_or(j, "cleanup", true, ctx);
    return w;
  }
  throw_unsupported(where, key, type,
                    "Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel, "
                    "WordPiece");
}

std::unique_ptr<PostProcessor> make_post_processor(const json& j, const std::string& key,
                                                   const std::string& where) {
  const std::string type = get_type(j, key, where);
  const std::string ctx = where + ": " + key;
  auto pair_ids = [&](const char* k) {
    const json& p = json_util::require(j, k, ctx);
    if (!p.is_array() || p.size() != 2 || !p[1].is_number_integer())
      throw InputError(detail::concat(ctx, ".", k, ": expected [token, id], got ", p.dump()));
    return p[1].get<int64_t>();
  };
  if (type == "TemplateProcessing") {
    auto t = std::make_unique<TemplatePost>();
    const json& specials = json_util::require(j, "special_tokens", ctx);
    const json& single = json_util::require(j, "single", ctx);
    for (size_t i = 0; i < single.size(); ++i) {
      const json& e = single[i];
      std::string ectx = detail::concat(ctx, ".single[", i, "]");
      if (e.contains("Sequence")) {
        t->single.push_back({true, {}});
      } else if (e.contains("SpecialToken")) {
        std::string id = json_util::get_string(e["SpecialToken"], "id", ectx + ".SpecialToken");
        if (!specials.contains(id))
          throw InputError(detail::concat(ectx, ": special token '", id,
                                          "' is not in ", key, ".special_tokens"));
        const json& ids = json_util::require(specials[id], "ids", ctx + ".special_tokens." + id);
        t->single.push_back({false, ids.get<std::vector<int64_t>>()});
      } else {
        throw InputError(ectx + ": expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
      }
    }
    return t;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    auto t = std::make_unique<TemplatePost>();
    t->single = {{false, {pair_ids("cls")}}, {true, {}}, {false, {pair_ids("sep")}}};
    return t;
  }
  if (type == "ByteLevel") return std::make_unique<IdentityPost>();  // offsets only
  if (type == "Sequence") {
    auto seq = std::make_unique<SequencePost>();
    const json& list = json_util::require(j, "processors", ctx);
    for (size_t i = 0; i < list.size(); ++i)
      seq->steps.push_back(
          make_post_processor(list[i], key + ".processors[" + std::to_string(i) + "]", where));
    return seq;
  }
  throw_unsupported(where, key, type,
                    "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence");
}

}  // namespace dkv::tokenizer
