// Keywords, echo, shuffles and cleanup for surrogate sources.
#include "dkv/experiment/surrogate_text.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <map>
#include <sstream>

#include "dkv/core/rng.h"

namespace dkv::experiment {

namespace {

std::vector<std::string> whitespace_words(const std::string& text) {
  std::istringstream in(text);
  return {std::istream_iterator<std::string>(in), {}};
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string strip(const std::string& s, const char* chars) {
  const auto b = s.find_first_not_of(chars);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(chars) - b + 1);
}

bool word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

}  // namespace

const std::set<std::string>& english_stop_words() {
  static const std::set<std::string> words = {
      "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are",
      "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
      "can", "could", "did", "do", "does", "doing", "don", "down", "during", "each", "either", "else",
      "etc", "even", "ever", "every", "few", "for", "from", "further", "get", "gets", "got", "had", "has",
      "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "however",
      "i", "if", "in", "into", "is", "it", "its", "itself", "just", "least", "less", "like", "ll", "made",
      "make", "many", "may", "me", "might", "more", "most", "much", "must", "my", "myself", "neither",
      "no", "nor", "not", "now", "of", "off", "often", "on", "once", "one", "only", "or", "other", "our",
      "ours", "ourselves", "out", "over", "own", "per", "quite", "rather", "re", "really", "said", "same",
      "say", "says", "shall", "she", "should", "since", "so", "some", "such", "than", "that", "the",
      "their", "theirs", "them", "themselves", "then", "there", "therefore", "these", "they", "this",
      "those", "though", "through", "thus", "to", "too", "under", "until", "up", "upon", "us", "use",
      "used", "uses", "using", "ve", "very", "was", "we", "were", "what", "when", "where", "whether",
      "which", "while", "who", "whom", "whose", "why", "will", "with", "within", "without", "would",
      "yet", "you", "your", "yours", "yourself", "yourselves"};
  return words;
}

std::vector<std::string> keyword_words(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (word_byte(c)) {
      cur += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string keywords(const std::string& text, int64_t count, int64_t min_chars) {
  const auto& stop = english_stop_words();
  std::map<std::string, std::pair<int64_t, size_t>> seen;  // word -> (count, first occurrence)
  for (const auto& w : keyword_words(text)) {
    if (static_cast<int64_t>(w.size()) <= min_chars || stop.count(w)) continue;
    auto it = seen.emplace(w, std::make_pair(int64_t{0}, seen.size())).first;
    ++it->second.first;
  }
  std::vector<std::pair<std::string, std::pair<int64_t, size_t>>> ranked(seen.begin(), seen.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second.first != b.second.first ? a.second.first > b.second.first : a.second.second < b.second.second;
  });
  std::vector<std::string> out;
  for (size_t i = 0; i < ranked.size() && static_cast<int64_t>(i) < count; ++i) out.push_back(ranked[i].first);
  return join(out);
}

std::string first_sentence(const std::string& text, int64_t word_cap) {
  size_t end = text.size();
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '.' || c == '!' || c == '?') &&
        (i + 1 == text.size() || std::isspace(static_cast<unsigned char>(text[i + 1])))) {
      end = i + 1;
      break;
    }
  }
  return cap_words(text.substr(0, end), word_cap);
}

std::string cap_words(const std::string& text, int64_t cap) {
  if (cap <= 0) return text;
  auto words = whitespace_words(text);
  if (static_cast<int64_t>(words.size()) > cap) words.resize(static_cast<size_t>(cap));
  return join(words);
}

std::string shuffled_words(const std::string& text, uint64_t seed) {
  auto words = whitespace_words(text);
  Rng rng(seed);
  for (size_t i = words.size(); i > 1; --i) std::swap(words[i - 1], words[rng.below(i)]);
  return join(words);
}

std::string clean_generated(const std::string& text, bool first_line, bool strip_quotes) {
  auto s = strip(text, " \t\r\n");
  if (first_line) s = strip(s.substr(0, s.find('\n')), " \t\r\n");
  if (strip_quotes) s = strip(strip(s, "\"'"), " \t\r\n");
  return s;
}

}  // namespace dkv::experiment
