// Text-only surrogate sources of the `surrogates:` block (study v2's extracted and control
// surrogates): keywords, passage echo, word shuffles, generation cleanup.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace dkv::experiment {

// dkv's English stop words (articles, pronouns, auxiliaries, prepositions, conjunctions and
// question words), lowercase.
const std::set<std::string>& english_stop_words();

// Words for keyword counting: the text lowercased (ASCII letters), split into maximal runs of
// letters, digits and bytes >= 0x80 (so non-ASCII words stay whole); everything else separates.
std::vector<std::string> keyword_words(const std::string& text);

// The `count` most frequent words of keyword_words(text) that are not stop words and are longer
// than `min_chars` characters (bytes), most frequent first, ties in first-occurrence order
// (Python's Counter.most_common), joined by single spaces.
std::string keywords(const std::string& text, int64_t count, int64_t min_chars);

// The first sentence (through the first '.', '!' or '?' followed by whitespace or the end),
// cut to `word_cap` whitespace-separated words and joined by single spaces.
std::string first_sentence(const std::string& text, int64_t word_cap);

// The first `cap` whitespace-separated words joined by single spaces (cap <= 0: text unchanged).
std::string cap_words(const std::string& text, int64_t cap);

// The whitespace-separated words of `text` in a Fisher-Yates order drawn from `seed`.
std::string shuffled_words(const std::string& text, uint64_t seed);

// A generated text cleaned as the study did: whitespace stripped; with first_line the first
// line only; with strip_quotes surrounding quotes (" and ') and whitespace stripped.
std::string clean_generated(const std::string& text, bool first_line, bool strip_quotes);

}  // namespace dkv::experiment
