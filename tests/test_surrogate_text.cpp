// Text-only surrogate sources: keyword extraction (Counter.most_common semantics), echo,
// word caps, shuffles, cleanup, and the deterministic pairing of samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "dkv/core/error.h"
#include "dkv/experiment/named_surrogates.h"
#include "dkv/experiment/surrogate_text.h"

namespace dkv::experiment {
namespace {

TEST(SurrogateText, KeywordsAreTheMostFrequentNonStopWordsTiesInFirstOccurrenceOrder) {
  // Counts: tower 3, eiffel 2, paris 2, built 1, iron 1; "the", "was", "in", "it" are stop
  // words; "is" too short anyway. Python: Counter(words).most_common(3) -> tower, eiffel, paris.
  const std::string text = "The Eiffel Tower, in Paris, was built of iron. The tower! PARIS tower; Eiffel it is.";
  EXPECT_EQ(keywords(text, 3, 2), "tower eiffel paris");
  EXPECT_EQ(keywords(text, 10, 2), "tower eiffel paris built iron");
  EXPECT_EQ(keywords(text, 10, 4), "tower eiffel paris built");  // "iron" has 4 characters: not > 4
  EXPECT_EQ(keywords("what is the", 8, 2), "");
  EXPECT_EQ(keyword_words("Café-au-lait 1887's"), (std::vector<std::string>{"café", "au", "lait", "1887", "s"}));
}

TEST(SurrogateText, EchoIsTheFirstSentenceCappedInWords) {
  EXPECT_EQ(first_sentence("It was built in 1887. It opened in 1889.", 30), "It was built in 1887.");
  EXPECT_EQ(first_sentence("Version 2.5 is out! More soon.", 30), "Version 2.5 is out!");
  EXPECT_EQ(first_sentence("one two three four", 2), "one two");
  EXPECT_EQ(first_sentence("no end mark", 30), "no end mark");
  EXPECT_EQ(cap_words("  a  b\nc d ", 3), "a b c");
  EXPECT_EQ(cap_words("a b", 0), "a b");
}

TEST(SurrogateText, ShufflesArePermutationsFixedByTheSeed) {
  const std::string text = "one two three four five six seven eight";
  const auto a = shuffled_words(text, 1), b = shuffled_words(text, 1), c = shuffled_words(text, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  auto sorted = [](std::string s) {
    std::vector<std::string> w;
    for (size_t at = 0; at != std::string::npos;) {
      const auto next = s.find(' ', at);
      w.push_back(s.substr(at, next == std::string::npos ? next : next - at));
      at = next == std::string::npos ? next : next + 1;
    }
    std::sort(w.begin(), w.end());
    return w;
  };
  EXPECT_EQ(sorted(a), sorted(text));
}

TEST(SurrogateText, GeneratedTextsAreCleanedAsTheStudyDid) {
  EXPECT_EQ(clean_generated("  \"eiffel tower height\"\nSecond line", true, true), "eiffel tower height");
  EXPECT_EQ(clean_generated("  \"a\"\nb ", false, false), "\"a\"\nb");
  EXPECT_EQ(clean_generated("'q' ", true, false), "'q'");
}

TEST(SurrogateText, PartnersAreOtherSamplesDrawnFromTheSeed) {
  std::set<int64_t> seen;
  for (uint64_t seed = 0; seed < 200; ++seed)
    for (int64_t i = 0; i < 10; ++i) {
      const auto p = partner_of(seed, i, 10);
      EXPECT_NE(p, i);
      EXPECT_GE(p, 0);
      EXPECT_LT(p, 10);
      EXPECT_EQ(p, partner_of(seed, i, 10));
      if (i == 0) seen.insert(p);
    }
  EXPECT_EQ(seen.size(), 9u) << "sample 0's partner should range over the 9 others across seeds";
  EXPECT_NE(partner_of(42, 3, 1000), partner_of(43, 3, 1000));
  EXPECT_THROW(partner_of(42, 0, 1), InputError);
}

}  // namespace
}  // namespace dkv::experiment
