// The Jinja2 lexer (jinja2/lexer.py) as HF transformers configures it: trim_blocks=True removes
// the first newline after a block or comment tag, lstrip_blocks=True removes spaces and tabs
// from the start of a line up to a block or comment tag, and keep_trailing_newline=False drops
// one final newline of the source.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "dkv/core/error.h"
#include "tokenizer/jinja_ast.h"

namespace dkv::tokenizer::jinja {

namespace {

class Lexer {
 public:
  Lexer(std::string src, const std::string& where) : src_(std::move(src)), where_(where) {}

  std::vector<Token> run() {
    bool line_starting = true;  // jinja2: the previous match ended with "\n" (or at the start)
    size_t p = 0;
    while (p < src_.size()) {
      size_t tag = find_tag(p);
      if (tag == std::string::npos) {
        emit_data(src_.substr(p), p);
        break;
      }
      const char kind = src_[tag + 1];  // '{', '%' or '#'
      size_t after = tag + 2;
      char sign = 0;
      if (after < src_.size() && (src_[after] == '-' || src_[after] == '+')) sign = src_[after++];
      const bool raw = kind == '%' && raw_begin(after);
      std::string text = src_.substr(p, tag - p);
      if (sign == '-') {
        text = rstrip(text);
      } else if (sign != '+' && kind != '{') {  // lstrip_blocks: blocks and comments only
        size_t l = text.rfind('\n');
        l = l == std::string::npos ? 0 : l + 1;
        if ((l > 0 || line_starting) && text.find_first_not_of(" \t", l) == std::string::npos)
          text.resize(l);
      }
      emit_data(text, p);
      if (kind == '#') {
        p = comment(tag, after, line_starting);
      } else if (raw) {
        p = raw_block(tag, after, line_starting);
      } else {
        p = tag_tokens(tag, after, kind == '{', line_starting);
      }
    }
    Token eof{Token::kEof, "", 0, 0, pos_of(src_.size())};
    out_.push_back(eof);
    return std::move(out_);
  }

 private:
  std::string src_;
  const std::string& where_;
  std::vector<Token> out_;
  mutable std::vector<size_t> line_starts_;

  Pos pos_of(size_t off) const {
    if (line_starts_.empty()) {
      line_starts_.push_back(0);
      for (size_t k = 0; k < src_.size(); ++k)
        if (src_[k] == '\n') line_starts_.push_back(k + 1);
    }
    size_t line = std::upper_bound(line_starts_.begin(), line_starts_.end(), off) - line_starts_.begin();
    return Pos{static_cast<int>(line), static_cast<int>(off - line_starts_[line - 1] + 1)};
  }

  [[noreturn]] void fail(size_t off, const std::string& msg) const {
    Pos ps = pos_of(off);
    throw InputError(detail::concat(where_, ":", ps.line, ":", ps.col, ": ", msg));
  }

  // Bytes of the whitespace character at p (0 if none): Python's str.isspace() set, which both
  // str.rstrip() and the `\s` of jinja2's (Unicode) regexes use.
  static size_t space_at(const std::string& s, size_t p) {
    const unsigned char c = static_cast<unsigned char>(s[p]);
    if (c < 0x80) return py_isspace(c) ? 1 : 0;
    const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (p + n > s.size()) return 0;
    auto cps = to_cps(s.substr(p, n));
    return cps.size() == 1 && py_isspace(cps[0]) ? n : 0;
  }

  static std::string rstrip(const std::string& s) {
    auto cps = to_cps(s);
    size_t e = cps.size();
    while (e > 0 && py_isspace(cps[e - 1])) --e;
    return from_cps(cps, 0, e);
  }

  size_t skip_space(size_t p) const {
    while (p < src_.size()) {
      size_t n = space_at(src_, p);
      if (n == 0) break;
      p += n;
    }
    return p;
  }

  size_t find_tag(size_t p) const {
    while (true) {
      size_t k = src_.find('{', p);
      if (k == std::string::npos || k + 1 >= src_.size()) return std::string::npos;
      char c = src_[k + 1];
      if (c == '{' || c == '%' || c == '#') return k;
      p = k + 1;
    }
  }

  void emit_data(const std::string& text, size_t off) {
    if (text.empty()) return;
    out_.push_back(Token{Token::kData, text, 0, 0, pos_of(off)});
  }

  bool word_at(size_t p, const char* w) const {
    size_t n = std::char_traits<char>::length(w);
    if (src_.compare(p, n, w) != 0) return false;
    return p + n >= src_.size() || !(std::isalnum(static_cast<unsigned char>(src_[p + n])) || src_[p + n] == '_');
  }

  // `{% raw %}` (with optional -/+): the tag closes right after "raw".
  bool raw_begin(size_t after) const {
    size_t q = skip_space(after);
    if (!word_at(q, "raw")) return false;
    q = skip_space(q + 3);
    return src_.compare(q, 2, "%}") == 0 || src_.compare(q, 3, "-%}") == 0;
  }

  // Where a block/comment end leaves the text: "-%}" eats following whitespace, "+%}" nothing,
  // plain "%}" one newline (trim_blocks).
  size_t after_end(size_t end_pos, char sign, bool& line_starting) const {
    size_t q = end_pos;
    if (sign == '-') q = skip_space(q);
    else if (sign != '+' && q < src_.size() && src_[q] == '\n') ++q;
    line_starting = q > 0 && src_[q - 1] == '\n';
    return q;
  }

  size_t comment(size_t tag, size_t after, bool& line_starting) {
    size_t e = src_.find("#}", after);
    if (e == std::string::npos) fail(tag, "unclosed comment: missing '#}'");
    char sign = 0;
    if (e > after && (src_[e - 1] == '-' || src_[e - 1] == '+')) sign = src_[e - 1];
    return after_end(e + 2, sign, line_starting);
  }

  size_t raw_block(size_t tag, size_t after, bool& line_starting) {
    size_t q = skip_space(skip_space(after) + 3);
    if (src_[q] == '-') q = skip_space(q + 3);  // jinja2: raw_begin "-%}\s*", no trim_blocks
    else q += 2;
    // Find "{%[-+]? endraw [-+]?%}".
    size_t s = q;
    while (true) {
      size_t k = src_.find("{%", s);
      if (k == std::string::npos) fail(tag, "missing '{% endraw %}' for this '{% raw %}'");
      size_t a = k + 2;
      char sign = 0;
      if (a < src_.size() && (src_[a] == '-' || src_[a] == '+')) sign = src_[a++];
      size_t w = skip_space(a);
      if (!word_at(w, "endraw")) {
        s = k + 2;
        continue;
      }
      size_t z = skip_space(w + 6);
      char esign = 0;
      if (z < src_.size() && (src_[z] == '-' || src_[z] == '+')) esign = src_[z++];
      if (src_.compare(z, 2, "%}") != 0) fail(k, "malformed '{% endraw %}'");
      std::string text = src_.substr(q, k - q);
      if (sign == '-') {
        text = rstrip(text);
      } else if (sign != '+') {
        size_t l = text.rfind('\n');
        l = l == std::string::npos ? 0 : l + 1;
        if (l > 0 && text.find_first_not_of(" \t", l) == std::string::npos) text.resize(l);
      }
      emit_data(text, q);
      return after_end(z + 2, esign, line_starting);
    }
  }

  // Tokens inside {{ }} or {% %} up to the end marker; while brackets are open the end
  // marker is not recognised (jinja2's balancing stack).
  size_t tag_tokens(size_t tag, size_t p, bool variable, bool& line_starting) {
    out_.push_back(Token{variable ? Token::kVarBegin : Token::kBlockBegin, "", 0, 0, pos_of(tag)});
    std::vector<char> balance;
    const char* end = variable ? "}}" : "%}";
    while (true) {
      p = skip_space(p);
      if (p >= src_.size()) fail(tag, variable ? "unclosed '{{': missing '}}'" : "unclosed '{%': missing '%}'");
      if (balance.empty()) {
        char sign = 0;
        size_t q = p;
        if (src_[q] == '-' || src_[q] == '+') sign = src_[q++];
        if (src_.compare(q, 2, end) == 0 && !(variable && sign == '+')) {
          out_.push_back(Token{variable ? Token::kVarEnd : Token::kBlockEnd, "", 0, 0, pos_of(p)});
          if (variable) {  // variables: "-}}" eats whitespace; never trim_blocks
            size_t r = q + 2;
            if (sign == '-') r = skip_space(r);
            line_starting = r > 0 && src_[r - 1] == '\n';
            return r;
          }
          return after_end(q + 2, sign, line_starting);
        }
      }
      const char c = src_[p];
      const Pos ps = pos_of(p);
      if (std::isdigit(static_cast<unsigned char>(c))) {
        p = number(p, ps);
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t b = p;
        while (p < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[p])) || src_[p] == '_')) ++p;
        out_.push_back(Token{Token::kName, src_.substr(b, p - b), 0, 0, ps});
      } else if (c == '\'' || c == '"') {
        p = string_literal(p, ps);
      } else {
        static const char* kOps2[] = {"//", "**", "==", "!=", ">=", "<="};
        std::string op;
        for (const char* o : kOps2)
          if (src_.compare(p, 2, o) == 0) op = o;
        if (op.empty()) {
          if (std::string("+-/*%~[](){}><=.:|,;").find(c) == std::string::npos)
            fail(p, std::string("unexpected character '") + c + "'");
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") {
          balance.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
        } else if (op == ")" || op == "]" || op == "}") {
          if (balance.empty() || balance.back() != op[0]) fail(p, "unexpected '" + op + "'");
          balance.pop_back();
        }
        out_.push_back(Token{Token::kOp, op, 0, 0, ps});
        p += op.size();
      }
    }
  }

  // jinja2 integer_re / float_re (decimal, "_" separators, exponent); 0x/0o/0b are rejected.
  size_t number(size_t p, Pos ps) {
    auto digits = [&](size_t q) {
      while (q < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[q])) ||
                                 (src_[q] == '_' && q + 1 < src_.size() &&
                                  std::isdigit(static_cast<unsigned char>(src_[q + 1])))))
        ++q;
      return q;
    };
    size_t b = p;
    p = digits(p);
    bool is_float = false;
    if (p + 1 < src_.size() && src_[p] == '.' && std::isdigit(static_cast<unsigned char>(src_[p + 1]))) {
      p = digits(p + 1);
      is_float = true;
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && std::isdigit(static_cast<unsigned char>(src_[q]))) {
        p = digits(q);
        is_float = true;
      }
    }
    std::string t;
    for (size_t k = b; k < p; ++k)
      if (src_[k] != '_') t += src_[k];
    if (!is_float && t.size() > 1 && t[0] == '0' && t.find_first_not_of('0') != std::string::npos)
      fail(b, "unsupported integer literal '" + src_.substr(b, p - b + 1) + "'");
    Token tok{is_float ? Token::kFloat : Token::kInt, t, 0, 0, ps};
    if (is_float) tok.f = std::strtod(t.c_str(), nullptr);
    else tok.i = std::strtoll(t.c_str(), nullptr, 10);
    out_.push_back(tok);
    return p;
  }

  // Python's "unicode-escape" decoding of the literal, as jinja2's lexer applies it.
  size_t string_literal(size_t p, Pos ps) {
    const char q = src_[p];
    std::string val;
    size_t k = p + 1;
    auto hex = [&](size_t at, int n) -> char32_t {
      if (at + n > src_.size()) fail(at, "truncated escape in string literal");
      char32_t v = 0;
      for (int m = 0; m < n; ++m) {
        char c = src_[at + m];
        if (!std::isxdigit(static_cast<unsigned char>(c))) fail(at, "invalid escape in string literal");
        v = v * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
      }
      return v;
    };
    while (true) {
      if (k >= src_.size()) fail(p, "unterminated string literal");
      char c = src_[k];
      if (c == q) break;
      if (c != '\\') {
        val += c;
        ++k;
        continue;
      }
      if (k + 1 >= src_.size()) fail(p, "unterminated string literal");
      char e = src_[k + 1];
      k += 2;
      switch (e) {
        case 'n': val += '\n'; break;
        case 't': val += '\t'; break;
        case 'r': val += '\r'; break;
        case '\\': val += '\\'; break;
        case '\'': val += '\''; break;
        case '"': val += '"'; break;
        case 'a': val += '\a'; break;
        case 'b': val += '\b'; break;
        case 'f': val += '\f'; break;
        case 'v': val += '\v'; break;
        case '\n': break;  // line continuation
        case 'x': val += from_cps({hex(k, 2)}); k += 2; break;
        case 'u': val += from_cps({hex(k, 4)}); k += 4; break;
        case 'U': val += from_cps({hex(k, 8)}); k += 8; break;
        default:
          if (e >= '0' && e <= '7') {
            char32_t v = static_cast<char32_t>(e - '0');
            for (int m = 0; m < 2 && k < src_.size() && src_[k] >= '0' && src_[k] <= '7'; ++m, ++k)
              v = v * 8 + static_cast<char32_t>(src_[k] - '0');
            val += from_cps({v});
          } else if (e == 'N') {
            fail(k - 2, "unsupported \\N{...} escape in string literal");
          } else {  // Python keeps unknown escapes verbatim
            val += '\\';
            val += e;
          }
      }
    }
    out_.push_back(Token{Token::kString, val, 0, 0, ps});
    return k + 1;
  }
};

}  // namespace

std::vector<Token> lex(const std::string& source, const std::string& where) {
  // jinja2 normalises \r\n and \r to \n, then drops one trailing newline
  // (keep_trailing_newline=False).
  std::string s;
  s.reserve(source.size());
  for (size_t k = 0; k < source.size(); ++k) {
    if (source[k] == '\r') {
      s += '\n';
      if (k + 1 < source.size() && source[k + 1] == '\n') ++k;
    } else {
      s += source[k];
    }
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return Lexer(std::move(s), where).run();
}

}  // namespace dkv::tokenizer::jinja
