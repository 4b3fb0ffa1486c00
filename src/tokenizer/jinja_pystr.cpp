// Python str methods on UTF-8 strings, code point by code point as CPython's unicodeobject.c;
// case mappings and character categories come from ICU.
#include <unicode/uchar.h>
#include <unicode/ustring.h>

#include <algorithm>

#include "tokenizer/jinja_value.h"

namespace dkv::tokenizer::jinja {

bool py_isspace(char32_t c) {
  // CPython's _PyUnicode_IsWhitespace: bidirectional class WS, B or S, or category Zs.
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

bool py_isprintable(char32_t c) {
  if (c == ' ') return true;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_SPACE_SEPARATOR: return false;
    default: return true;
  }
}

std::string py_strip(const std::string& s, const Value* chars, bool left, bool right) {
  auto cps = to_cps(s);
  std::vector<char32_t> set;
  const bool by_chars = chars && chars->kind != Kind::kNone;
  if (by_chars) {
    if (chars->kind != Kind::kString) throw EvalError{"strip arg must be None or str"};
    set = to_cps(chars->s);
  }
  auto strip = [&](char32_t c) {
    return by_chars ? std::find(set.begin(), set.end(), c) != set.end() : py_isspace(c);
  };
  size_t a = 0, e = cps.size();
  if (left)
    while (a < e && strip(cps[a])) ++a;
  if (right)
    while (e > a && strip(cps[e - 1])) --e;
  return from_cps(cps, a, e);
}

std::vector<std::string> py_split(const std::string& s, const Value* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (!sep || sep->kind == Kind::kNone) {
    auto cps = to_cps(s);
    size_t k = 0, n = cps.size();
    while (true) {
      while (k < n && py_isspace(cps[k])) ++k;
      if (k == n) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
        size_t e = n;
        while (e > k && py_isspace(cps[e - 1])) --e;
        out.push_back(from_cps(cps, k, e));
        break;
      }
      size_t b = k;
      while (k < n && !py_isspace(cps[k])) ++k;
      out.push_back(from_cps(cps, b, k));
    }
    return out;
  }
  if (sep->kind != Kind::kString) throw EvalError{"must be str or None, not " + std::string(type_name(*sep))};
  if (sep->s.empty()) throw EvalError{"empty separator"};
  size_t b = 0;
  while (true) {
    size_t p = s.find(sep->s, b);
    if (p == std::string::npos || (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit)) {
      out.push_back(s.substr(b));
      break;
    }
    out.push_back(s.substr(b, p - b));
    b = p + sep->s.size();
  }
  return out;
}

std::vector<std::string> py_splitlines(const std::string& s) {
  // str.splitlines(): \n \r \r\n \v \f \x1c \x1d \x1e \x85 U+2028 U+2029 end a line.
  auto cps = to_cps(s);
  std::vector<std::string> out;
  size_t b = 0, k = 0;
  while (k < cps.size()) {
    char32_t c = cps[k];
    bool eol = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!eol) {
      ++k;
      continue;
    }
    out.push_back(from_cps(cps, b, k));
    k += (c == '\r' && k + 1 < cps.size() && cps[k + 1] == '\n') ? 2 : 1;
    b = k;
  }
  if (b < cps.size()) out.push_back(from_cps(cps, b));
  return out;
}

namespace {

// Full (multi-character) case mapping of the whole string in the root locale, as Python's
// str.upper()/lower() (which also apply the final-sigma rule).
std::string icu_case(const std::string& s, bool upper) {
  if (s.empty()) return s;
  UErrorCode err = U_ZERO_ERROR;
  int32_t n16 = 0;
  u_strFromUTF8(nullptr, 0, &n16, s.data(), static_cast<int32_t>(s.size()), &err);
  std::u16string src(n16, u'\0');
  err = U_ZERO_ERROR;
  u_strFromUTF8WithSub(reinterpret_cast<UChar*>(&src[0]), n16, nullptr, s.data(),
                       static_cast<int32_t>(s.size()), 0xFFFD, nullptr, &err);
  std::u16string dst(src.size() * 3 + 4, u'\0');
  err = U_ZERO_ERROR;
  auto fn = upper ? u_strToUpper : u_strToLower;
  int32_t m = fn(reinterpret_cast<UChar*>(&dst[0]), static_cast<int32_t>(dst.size()),
                 reinterpret_cast<const UChar*>(src.data()), static_cast<int32_t>(src.size()), "",
                 &err);
  if (U_FAILURE(err)) throw EvalError{"case mapping failed"};
  dst.resize(m);
  std::string out(dst.size() * 3 + 4, '\0');
  int32_t n8 = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8(&out[0], static_cast<int32_t>(out.size()), &n8,
              reinterpret_cast<const UChar*>(dst.data()), m, &err);
  out.resize(n8);
  return out;
}

std::string one(char32_t c) { return from_cps({c}); }

bool is_cased(char32_t c) { return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CASED); }

}  // namespace

std::string py_upper(const std::string& s) { return icu_case(s, true); }
std::string py_lower(const std::string& s) { return icu_case(s, false); }

std::string py_capitalize(const std::string& s) {
  // Python 3.8+: the first character title-cased, the rest lower-cased.
  auto cps = to_cps(s);
  if (cps.empty()) return s;
  return one(static_cast<char32_t>(u_totitle(static_cast<UChar32>(cps[0])))) +
         py_lower(from_cps(cps, 1));
}

std::string py_title(const std::string& s) {
  // str.title(): a cased character after an uncased one is title-cased, others lower-cased.
  std::string out;
  bool prev_cased = false;
  for (char32_t c : to_cps(s)) {
    if (prev_cased) out += py_lower(one(c));
    else out += one(static_cast<char32_t>(u_totitle(static_cast<UChar32>(c))));
    prev_cased = is_cased(c);
  }
  return out;
}

std::string py_replace(const std::string& s, const std::string& old, const std::string& rep,
                       int64_t count) {
  std::string out;
  if (old.empty()) {  // Python inserts `rep` before every character and at the end
    auto cps = to_cps(s);
    int64_t done = 0;
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (count < 0 || done < count) {
        out += rep;
        ++done;
      }
      if (k < cps.size()) out += one(cps[k]);
    }
    return out;
  }
  size_t b = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t p = s.find(old, b);
    if (p == std::string::npos) break;
    out += s.substr(b, p - b) + rep;
    b = p + old.size();
    ++done;
  }
  return out + s.substr(b);
}

int64_t py_find(const std::string& s, const std::string& sub) {
  size_t p = s.find(sub);
  if (p == std::string::npos) return -1;
  return static_cast<int64_t>(to_cps(s.substr(0, p)).size());
}

}  // namespace dkv::tokenizer::jinja
