// The report counts flagged rows per condition: cuts whose token boundary moved (joint
// tokenization), mixes that could not be made, samples excluded before scoring.
#include <gtest/gtest.h>

#include <cmath>

#include "dkv/stats/reduce.h"

namespace dkv::stats {
namespace {

ResultMatrix matrix() {
  ResultMatrix m;
  m.condition_ids = {"A1", "C2", "D1"};
  m.condition_names = {"a", "c", "d"};
  m.num_samples = 3;
  m.nll = {1.0, 0.9, 1.1, 2.0, 1.5, 2.1, 1.5, 1.4, 1.6};
  m.done = {true, true, true};
  m.boundary_moved = {0, 0, 0};
  m.layout_mismatch = {0, 0, 0};
  return m;
}

bool has_note(const Reduction& r, const std::string& fragment) {
  for (const auto& n : r.notes)
    if (n.find(fragment) != std::string::npos) return true;
  return false;
}

TEST(ReportFlags, MovedBoundariesAreCountedPerCondition) {
  auto m = matrix();
  m.boundary_moved = {0, 2, 3};
  auto r = reduce(m);
  EXPECT_TRUE(has_note(r, "moved token boundary, flagged, by condition (texts.tokenization: joint): C2 2, D1 3"));
  m.boundary_moved = {0, 0, 0};
  m.tokenization = "matched";
  EXPECT_TRUE(has_note(reduce(m), "every cut of this run is exact"));
  m.tokenization = "joint";  // exp 01's report says nothing when nothing moved
  EXPECT_FALSE(has_note(reduce(m), "boundary"));
}

TEST(ReportFlags, UnmadeMixesAndExclusionsAreCounted) {
  auto m = matrix();
  m.layout_mismatch = {0, 0, 1};
  m.nll[8] = std::nan("");
  m.scoring_excluded = 2;
  const auto r = reduce(m);
  EXPECT_TRUE(has_note(r, "mix rows not scored (their caches differ in length; NaN), by condition (texts.tokenization: joint): D1 1"));
  EXPECT_TRUE(has_note(r, "2 sample(s) excluded before scoring by scoring.min_answer_tokens"));
}

}  // namespace
}  // namespace dkv::stats

namespace dkv::stats {
namespace {

TEST(ReportFlags, CachesWithoutBosAreListedPerCondition) {
  auto m = matrix();
  m.without_bos = {3, 3, 0};  // e.g. a BOS-only reference (D1) among a tokenizer that adds none
  EXPECT_TRUE(has_note(reduce(m), "6 of 9 rows' caches start without a BOS entry (the tokenizer adds none, or a cut "
                                  "used keep_bos: false), by condition: A1 3, C2 3"));
  m.without_bos = {3, 3, 3};
  EXPECT_TRUE(has_note(reduce(m), "no cache of this run starts with a BOS entry"));
}

}  // namespace
}  // namespace dkv::stats
