// Reducer invariants and error paths (the numbers themselves are checked against scipy in
// test_stats_golden.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "dkv/core/error.h"
#include "dkv/stats/paired.h"
#include "dkv/stats/reduce.h"

namespace {

using dkv::stats::ResultMatrix;

ResultMatrix random_matrix(int64_t n, uint64_t seed) {
  ResultMatrix m;
  m.condition_ids = {"A1", "B1", "B4", "C1", "C2", "D1"};
  m.condition_names = {"baseline", "full_generated", "full_suffix", "trunc_generated_broken",
                       "trunc_generated_corrected", "trunc_suffix_corrected"};
  m.num_samples = n;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  for (int64_t s = 0; s < n; ++s) {
    const double b = 2 + 0.5 * z(rng);
    for (size_t c = 0; c < m.condition_ids.size(); ++c) m.nll.push_back(c == 0 ? b : b + 0.2 * z(rng));
    m.similarity.push_back(0.5 + 0.1 * z(rng));
  }
  m.done.assign(n, true);
  return m;
}

TEST(StatsEdge, SwappingConditionsNegatesPairedMeanAndT) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> a(50), b(50);
  for (int i = 0; i < 50; ++i) a[i] = z(rng), b[i] = a[i] + 0.1 + 0.3 * z(rng);
  const auto ab = dkv::stats::paired_t(a, b), ba = dkv::stats::paired_t(b, a);
  EXPECT_DOUBLE_EQ(ab.mean_delta, -ba.mean_delta);
  EXPECT_DOUBLE_EQ(ab.t, -ba.t);
  EXPECT_DOUBLE_EQ(ab.p, ba.p);
  EXPECT_NEAR(ab.ci_low, -ba.ci_high, 1e-15);
  std::vector<double> d(50), neg(50);
  for (int i = 0; i < 50; ++i) d[i] = a[i] - b[i], neg[i] = -d[i];
  EXPECT_DOUBLE_EQ(dkv::stats::wilcoxon_signed_rank(d).p, dkv::stats::wilcoxon_signed_rank(neg).p);
}

TEST(StatsEdge, UncommittedRowsAreNeverRead) {
  auto m = random_matrix(40, 1);
  auto partial = m;
  for (int64_t s = 30; s < 40; ++s) {
    partial.done[s] = false;
    for (size_t c = 0; c < m.condition_ids.size(); ++c) partial.nll[s * m.condition_ids.size() + c] = 1e9;
  }
  auto truncated = m;
  truncated.num_samples = 30;
  truncated.nll.resize(30 * m.condition_ids.size());
  truncated.similarity.resize(30);
  truncated.done.resize(30);
  const auto rp = dkv::stats::reduce(partial), rt = dkv::stats::reduce(truncated);
  EXPECT_EQ(rp.num_done, 30);
  EXPECT_EQ(rp.num_samples, 40);
  ASSERT_FALSE(rp.notes.empty());
  EXPECT_NE(rp.notes[0].find("30 of 40"), std::string::npos) << rp.notes[0];
  for (const auto& c : rt.conditions) {
    const auto* p = rp.find(c.id);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->n_used, c.n_used);
    EXPECT_EQ(p->nll_mean, c.nll_mean);
    if (c.id != "A1") EXPECT_EQ(p->p, c.p);  // A1 vs itself: NaN on both sides
  }
}

TEST(StatsEdge, FailedRowsAreExcludedPairwiseAndCounted) {
  auto m = random_matrix(25, 2);
  const size_t C = m.condition_ids.size();
  m.nll[3 * C + 4] = NAN;  // C2 failed on sample 3
  m.nll[7 * C + 0] = NAN;  // baseline failed on sample 7: excluded from every comparison
  const auto r = dkv::stats::reduce(m);
  EXPECT_EQ(r.find("C2")->n_used, 23);
  EXPECT_EQ(r.find("C2")->n_failed, 2);
  EXPECT_EQ(r.find("B1")->n_used, 24);
  EXPECT_EQ(r.find("B1")->n_failed, 1);
  EXPECT_FALSE(r.find("C2")->notes.empty());
  EXPECT_EQ(r.find_marginal("C2")->n, 24);  // the figure's marginal needs only C2 itself
}

TEST(StatsEdge, BaselineIsOutsideTheCorrectionFamily) {
  const auto r = dkv::stats::reduce(random_matrix(30, 4));
  const auto* a1 = r.find("A1");
  EXPECT_TRUE(std::isnan(a1->t));  // 0/0: all deltas are zero
  EXPECT_TRUE(std::isnan(a1->p_holm));
  EXPECT_EQ(a1->cohens_d, 0.0);  // the study's rule for std(delta) == 0
  EXPECT_FALSE(a1->notes.empty());
  for (const auto& c : r.conditions)
    if (c.id != "A1") EXPECT_GE(c.p_holm, c.p_bh) << c.id;  // Holm is never less conservative
}

TEST(StatsEdge, MissingBaselineOrMalformedMatrixThrowsInputError) {
  auto m = random_matrix(5, 5);
  dkv::stats::ReportSpec spec;
  spec.baseline = "Z9";
  EXPECT_THROW(dkv::stats::reduce(m, spec), dkv::InputError);
  auto bad = m;
  bad.nll.pop_back();
  EXPECT_THROW(dkv::stats::reduce(bad), dkv::InputError);
  bad = m;
  bad.condition_ids[1] = "A1";
  EXPECT_THROW(dkv::stats::reduce(bad), dkv::InputError);
  bad = m;
  bad.done.pop_back();
  EXPECT_THROW(dkv::stats::reduce(bad), dkv::InputError);
}

TEST(StatsEdge, UnusableSpecThrowsConfigError) {
  const auto m = random_matrix(5, 9);
  dkv::stats::ReportSpec spec;
  spec.confidence = 95;  // a percentage where a level is expected
  EXPECT_THROW(dkv::stats::reduce(m, spec), dkv::ConfigError);
  spec = {};
  spec.quartile_labels.clear();
  EXPECT_THROW(dkv::stats::reduce(m, spec), dkv::ConfigError);
  spec = {};
  spec.histogram_bins = 0;
  EXPECT_THROW(dkv::stats::reduce(m, spec), dkv::ConfigError);
}

TEST(StatsEdge, CustomSpecReportsNewConditionsWithoutCodeChanges) {
  auto m = random_matrix(30, 10);
  dkv::stats::ReportSpec spec;
  spec.critical = {{"D1", "B4"}};
  spec.similarity_correlation = {"D1"};
  spec.quartile_condition = "B4";
  spec.quartile_labels = {"low", "high"};  // median split
  const auto r = dkv::stats::reduce(m, spec);
  ASSERT_EQ(r.critical.size(), 1u);
  EXPECT_TRUE(r.critical[0].available);
  EXPECT_EQ(r.correlations[0].condition, "D1");
  ASSERT_TRUE(r.quartiles.available);
  ASSERT_EQ(r.quartiles.rows.size(), 2u);
  EXPECT_EQ(r.quartiles.rows[0].n + r.quartiles.rows[1].n, 30);
}

TEST(StatsEdge, ConditionsMissingFromTheSpecAreFlaggedNotDropped) {
  // random_matrix lacks B2, B3, C4, C5, E1: their sections say so.
  const auto r = dkv::stats::reduce(random_matrix(20, 6));
  ASSERT_EQ(r.full_vs_truncated.size(), 3u);
  EXPECT_TRUE(r.full_vs_truncated[0].available);
  EXPECT_FALSE(r.full_vs_truncated[1].available);
  ASSERT_FALSE(r.full_vs_truncated[1].notes.empty());
  EXPECT_NE(r.full_vs_truncated[1].notes[0].find("B2"), std::string::npos);
  bool flagged = false;
  for (const auto& n : r.notes) flagged = flagged || n.find("C4") != std::string::npos;
  EXPECT_TRUE(flagged);
}

TEST(StatsEdge, NoSimilarityColumnGivesUnavailableCorrelation) {
  auto m = random_matrix(20, 7);
  m.similarity.clear();
  const auto r = dkv::stats::reduce(m);
  ASSERT_FALSE(r.correlations.empty());
  EXPECT_FALSE(r.correlations[0].available);
  EXPECT_TRUE(r.figure_delta_similarity.empty());
  EXPECT_EQ(r.figure_delta.size(), 20u);
}

TEST(StatsEdge, EmptyInputGivesNaNWithReasons) {
  auto m = random_matrix(4, 8);
  m.done.assign(4, false);
  const auto r = dkv::stats::reduce(m);
  EXPECT_EQ(r.num_done, 0);
  for (const auto& c : r.conditions) {
    EXPECT_EQ(c.n_used, 0);
    EXPECT_TRUE(std::isnan(c.nll_mean));
    EXPECT_TRUE(std::isnan(c.t));
    EXPECT_FALSE(c.notes.empty());
  }
  EXPECT_FALSE(r.quartiles.available);
}

}  // namespace
