// Private UTF-8 and Unicode helpers for the tokenizer pipeline. Character properties and
// normalization come from ICU; each predicate names the Rust std / HF function it mirrors.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dkv::tokenizer::text {

// Decodes UTF-8 into code points with their byte offsets. Precondition: valid UTF-8
// (Tokenizer::encode checks its input once).
struct CodePoint {
  char32_t cp;
  size_t begin;  // byte offset in the string
  size_t end;
};
std::vector<CodePoint> decode(const std::string& s);
bool is_valid_utf8(const std::string& s);
void append_utf8(std::string& out, char32_t cp);

// Rust's char::is_whitespace (Unicode White_Space), char::is_alphanumeric (Alphabetic or N*),
// HF's is_punctuation (ASCII punctuation or Unicode P*), is_control (BertNormalizer's clean_text
// set: Cc, Cf, Co; unassigned Cn and surrogates Cs are kept), is Mn.
bool is_whitespace(char32_t c);
bool is_alphanumeric(char32_t c);
bool is_punctuation(char32_t c);
bool is_control(char32_t c);
bool is_nonspacing_mark(char32_t c);
// Rust char::to_lowercase: the full per-character mapping, without context (no final sigma).
void append_lowercase(std::string& out, char32_t c);

enum class NormForm { NFC, NFD, NFKC, NFKD };
std::string normalize(const std::string& s, NormForm form);

// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes U+FFFD.
std::string from_utf8_lossy(const std::string& bytes);

// A compiled Unicode regex (ICU). Patterns are written for Oniguruma (HF's engine), whose `\s`
// is Unicode White_Space; ICU documents its `\s` as [\t\n\f\r\p{Z}], so `\s`/`\S` are
// rewritten to \p{White_Space}/\P{White_Space} to pin that meaning.
class Regex {
 public:
  // Throws InputError "<where>: invalid regex ..." when ICU rejects the pattern.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // Non-empty, non-overlapping matches as byte ranges [begin, end) of `s`.
  std::vector<std::pair<size_t, size_t>> find_all(const std::string& s) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string escape_regex(const std::string& literal);

}  // namespace dkv::tokenizer::text
