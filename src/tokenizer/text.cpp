// UTF-8 decoding, ICU-backed character properties, normalization and regex for the tokenizer.
#include "tokenizer/text.h"

#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/locid.h>

#include "dkv/core/error.h"

namespace dkv::tokenizer::text {

namespace {
// Length of the valid UTF-8 sequence at s[i], or 0 if invalid; `prefix` gets the length of the
// longest valid prefix of an incomplete/invalid sequence (Unicode "maximal subpart").
size_t utf8_len(const unsigned char* s, size_t n, size_t i, size_t* prefix) {
  unsigned char b = s[i];
  *prefix = 1;
  if (b < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= n) return 0;
    unsigned char c = s[i + k];
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (c < l || c > h) return 0;
    *prefix = k + 1;
  }
  return len;
}
}  // namespace

bool is_valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    size_t prefix;
    size_t len = utf8_len(p, s.size(), i, &prefix);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string from_utf8_lossy(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    size_t prefix;
    size_t len = utf8_len(p, bytes.size(), i, &prefix);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      i += prefix;
    } else {
      out.append(bytes, i, len);
      i += len;
    }
  }
  return out;
}

std::vector<CodePoint> decode(const std::string& s) {
  std::vector<CodePoint> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    unsigned char b = p[i];
    char32_t cp;
    size_t len;
    if (b < 0x80) {
      cp = b, len = 1;
    } else if (b < 0xE0) {
      cp = b & 0x1F, len = 2;
    } else if (b < 0xF0) {
      cp = b & 0x0F, len = 3;
    } else {
      cp = b & 0x07, len = 4;
    }
    DKV_CHECK(i + len <= s.size(), "truncated UTF-8 at byte ", i);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (p[i + k] & 0x3F);
    out.push_back({cp, i, i + len});
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_whitespace(char32_t c) { return u_hasBinaryProperty(c, UCHAR_WHITE_SPACE); }

bool is_alphanumeric(char32_t c) {
  if (u_hasBinaryProperty(c, UCHAR_ALPHABETIC)) return true;
  int8_t t = u_charType(c);
  return t == U_DECIMAL_DIGIT_NUMBER || t == U_LETTER_NUMBER || t == U_OTHER_NUMBER;
}

bool is_punctuation(char32_t c) {
  if (c < 0x80 && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                   (c >= 123 && c <= 126)))
    return true;
  return (U_GET_GC_MASK(c) & U_GC_P_MASK) != 0;
}

bool is_control(char32_t c) { return (U_GET_GC_MASK(c) & (U_GC_CC_MASK | U_GC_CF_MASK | U_GC_CO_MASK)) != 0; }

bool is_nonspacing_mark(char32_t c) { return u_charType(c) == U_NON_SPACING_MARK; }

void append_lowercase(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  icu::UnicodeString u(static_cast<UChar32>(c));
  u.toLower(icu::Locale::getRoot());
  u.toUTF8String(out);
}

std::string normalize(const std::string& s, NormForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormForm::NFC: n = icu::Normalizer2::getNFCInstance(status); break;
    case NormForm::NFD: n = icu::Normalizer2::getNFDInstance(status); break;
    case NormForm::NFKC: n = icu::Normalizer2::getNFKCInstance(status); break;
    case NormForm::NFKD: n = icu::Normalizer2::getNFKDInstance(status); break;
  }
  DKV_CHECK(U_SUCCESS(status), "ICU Normalizer2 instance: ", u_errorName(status));
  icu::UnicodeString in = icu::UnicodeString::fromUTF8(s);
  icu::UnicodeString res = n->normalize(in, status);
  DKV_CHECK(U_SUCCESS(status), "ICU normalize: ", u_errorName(status));
  std::string out;
  res.toUTF8String(out);
  return out;
}

struct Regex::Impl {
  std::unique_ptr<icu::RegexPattern> pattern;
};

Regex::Regex(const std::string& pattern, const std::string& where) : impl_(new Impl) {
  std::string p;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      if (pattern[i + 1] == 's') {
        p += "\\p{White_Space}";
      } else if (pattern[i + 1] == 'S') {
        p += "\\P{White_Space}";
      } else {
        p += pattern.substr(i, 2);
      }
      ++i;
    } else {
      p += pattern[i];
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  UParseError perr;
  impl_->pattern.reset(
      icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(p), 0, perr, status));
  if (U_FAILURE(status))
    throw InputError(detail::concat(where, ": invalid regex '", pattern, "': ",
                                    u_errorName(status), " at offset ", perr.offset));
}

Regex::~Regex() = default;

std::vector<std::pair<size_t, size_t>> Regex::find_all(const std::string& s) const {
  std::vector<std::pair<size_t, size_t>> out;
  if (s.empty()) return out;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
  // UTF-16 index -> byte offset.
  std::vector<size_t> byte_at(u.length() + 1, s.size());
  {
    size_t b = 0;
    int32_t k = 0;
    for (const CodePoint& cp : decode(s)) {
      byte_at[k] = b;
      k += cp.cp >= 0x10000 ? 2 : 1;
      b = cp.end;
      (void)cp;
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> m(impl_->pattern->matcher(u, status));
  DKV_CHECK(U_SUCCESS(status), "ICU matcher: ", u_errorName(status));
  while (m->find(status) && U_SUCCESS(status)) {
    int32_t a = m->start(status), e = m->end(status);
    if (e > a) out.emplace_back(byte_at[a], byte_at[e]);
  }
  DKV_CHECK(U_SUCCESS(status), "ICU regex find: ", u_errorName(status));
  return out;
}

std::string escape_regex(const std::string& literal) {
  std::string out;
  for (char c : literal) {
    if (std::string("\\^$.|?*+()[]{}-/#&~ ").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace dkv::tokenizer::text
