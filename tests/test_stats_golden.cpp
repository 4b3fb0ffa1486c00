// Reducer against goldens from scipy / numpy / pandas / statsmodels
// (tools/gen_stats_golden.py -> tests/golden/stats_golden.json).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "dkv/stats/paired.h"
#include "dkv/stats/reduce.h"

namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// 1e-9 relative: both sides evaluate the same closed forms in double; what differs is summation
// order (numpy pairwise vs our long double) and the special-function library (cephes vs Boost),
// each good to ~1e-14 relative on these inputs.
constexpr double kRelTol = 1e-9;
// Differences of O(1) NLLs that cancel to ~0 (a delta mean of 3e-17, a CI bound or t next to
// zero) carry absolute rounding error ~n * 1e-16 whatever the order of summation, so those
// fields also pass within 1e-14 absolute: still ten orders below any digit the report prints.
constexpr double kAbsFloor = 1e-14;
constexpr const char* kRegenerate = "/usr/bin/python3 tools/gen_stats_golden.py";

const json& golden() {
  static const json g = [] {
    std::ifstream in(std::string(DKV_SOURCE_DIR) + "/tests/golden/stats_golden.json");
    EXPECT_TRUE(in.good()) << "missing tests/golden/stats_golden.json; regenerate with: " << kRegenerate;
    return json::parse(in);
  }();
  return g;
}

double as_double(const json& v) {
  if (v.is_null()) return kNaN;
  if (v.is_string()) return v.get<std::string>() == "inf" ? INFINITY : -INFINITY;
  return v.get<double>();
}

struct Tally {
  int64_t compared = 0;
  int64_t by_abs_floor = 0;  // passed on kAbsFloor, outside 1e-9 relative
  double worst = 0;
  std::string worst_what;
};
Tally& tally() {
  static Tally t;
  return t;
}

void expect_close(double got, const json& want_json, const std::string& what, double abs_floor = 0) {
  const double want = as_double(want_json);
  ++tally().compared;
  if (std::isnan(want) || std::isnan(got)) {
    EXPECT_TRUE(std::isnan(want) && std::isnan(got))
        << what << ": got " << got << ", want " << want << "; regenerate with: " << kRegenerate;
    return;
  }
  if (std::isinf(want) || std::isinf(got)) {
    EXPECT_EQ(got, want) << what << "; regenerate with: " << kRegenerate;
    return;
  }
  const double scale = std::max(std::fabs(want), std::fabs(got));
  const double rel = scale == 0 ? 0 : std::fabs(got - want) / scale;
  if (std::fabs(got - want) <= abs_floor) {
    tally().by_abs_floor += rel > kRelTol;
    return;
  }
  if (rel > tally().worst) tally().worst = rel, tally().worst_what = what;
  EXPECT_LE(rel, kRelTol) << what << ": got " << got << ", want " << want
                          << "; regenerate with: " << kRegenerate;
}

dkv::stats::ResultMatrix matrix_of(const json& c) {
  dkv::stats::ResultMatrix m;
  m.condition_ids = c.at("ids").get<std::vector<std::string>>();
  m.condition_names = c.at("names").get<std::vector<std::string>>();
  m.num_samples = c.at("num_samples").get<int64_t>();
  for (const auto& v : c.at("nll")) m.nll.push_back(as_double(v));
  for (const auto& v : c.at("similarity")) m.similarity.push_back(as_double(v));
  for (const auto& v : c.at("done")) m.done.push_back(v.get<bool>());
  return m;
}

void expect_pair(const dkv::stats::PairComparison& got, const json& want, const std::string& where) {
  const std::string what = where + " " + got.a + " vs " + got.b;
  ASSERT_EQ(got.a, want.at("a").get<std::string>()) << what;
  ASSERT_EQ(got.b, want.at("b").get<std::string>()) << what;
  ASSERT_EQ(got.available, want.at("available").get<bool>()) << what;
  if (!got.available) return;
  EXPECT_EQ(got.n, want.at("n").get<int64_t>()) << what;
  EXPECT_EQ(got.n_failed, want.at("n_failed").get<int64_t>()) << what;
  for (const char* key : {"mean_a", "mean_b", "std_a", "std_b", "diff", "t", "p"}) {
    const double v = std::string(key) == "mean_a" ? got.mean_a
                     : std::string(key) == "mean_b" ? got.mean_b
                     : std::string(key) == "std_a"  ? got.std_a
                     : std::string(key) == "std_b"  ? got.std_b
                     : std::string(key) == "diff"   ? got.diff
                     : std::string(key) == "t"      ? got.t
                                                    : got.p;
    const bool difference = std::string(key) == "diff" || std::string(key) == "t";
    expect_close(v, want.at(key), what + " " + key, difference ? kAbsFloor : 0);
  }
}

class StatsGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(StatsGolden, ReductionMatchesScipy) {
  const json* found = nullptr;
  for (const auto& c : golden().at("cases"))
    if (c.at("name") == GetParam()) found = &c;
  ASSERT_NE(found, nullptr) << "case " << GetParam() << " not in the golden; regenerate with: " << kRegenerate;
  const json& c = *found;
  const json& want = c.at("expected");
  const auto r = dkv::stats::reduce(matrix_of(c));
  const std::string name = GetParam();

  EXPECT_EQ(r.num_done, want.at("num_done").get<int64_t>());
  ASSERT_EQ(r.conditions.size(), want.at("conditions").size());
  for (size_t k = 1; k < r.conditions.size(); ++k)
    EXPECT_LE(r.conditions[k - 1].nll_mean, r.conditions[k].nll_mean) << "table not sorted by mean NLL";
  for (const auto& wc : want.at("conditions")) {
    const auto id = wc.at("id").get<std::string>();
    const auto* s = r.find(id);
    ASSERT_NE(s, nullptr) << id;
    const std::string what = name + " " + id;
    EXPECT_EQ(s->n_used, wc.at("n_used").get<int64_t>()) << what;
    EXPECT_EQ(s->n_failed, wc.at("n_failed").get<int64_t>()) << what;
    if (s->n_used > 0) {
      expect_close(s->nll_mean, wc.at("nll_mean"), what + " nll_mean");
      expect_close(s->nll_std, wc.at("nll_std"), what + " nll_std");
      expect_close(s->delta_mean, wc.at("delta_mean"), what + " delta_mean", kAbsFloor);
      expect_close(s->win_rate, wc.at("win_rate"), what + " win_rate");
      expect_close(s->cohens_d, wc.at("cohens_d"), what + " cohens_d", kAbsFloor);
    }
    expect_close(s->t, wc.at("t"), what + " t", kAbsFloor);
    expect_close(s->p, wc.at("p"), what + " p");
    expect_close(s->df, wc.at("df"), what + " df");
    expect_close(s->ci_low, wc.at("ci_low"), what + " ci_low", kAbsFloor);
    expect_close(s->ci_high, wc.at("ci_high"), what + " ci_high", kAbsFloor);
    expect_close(s->p_holm, wc.at("p_holm"), what + " p_holm");
    expect_close(s->p_bh, wc.at("p_bh"), what + " p_bh");
    expect_close(s->wilcoxon_p, wc.at("wilcoxon_p"), what + " wilcoxon_p");
    expect_close(s->wilcoxon_statistic, wc.at("wilcoxon_statistic"), what + " wilcoxon_statistic");
    // A NaN statistic always comes with its reason.
    if (std::isnan(s->t) || std::isnan(s->wilcoxon_p)) EXPECT_FALSE(s->notes.empty()) << what;
  }
  auto pairs = [&](const std::vector<dkv::stats::PairComparison>& got, const json& w, const char* where) {
    ASSERT_EQ(got.size(), w.size()) << where;
    for (size_t k = 0; k < got.size(); ++k) expect_pair(got[k], w[k], name + " " + where);
  };
  pairs(r.critical, want.at("critical"), "critical");
  pairs(r.ordering, want.at("ordering"), "ordering");
  pairs(r.full_vs_truncated, want.at("full_vs_truncated"), "full_vs_truncated");

  ASSERT_EQ(r.correlations.size(), want.at("correlations").size());
  for (size_t k = 0; k < r.correlations.size(); ++k) {
    const auto& g = r.correlations[k];
    const auto& w = want.at("correlations")[k];
    const std::string what = name + " pearson " + g.condition;
    EXPECT_EQ(g.n, w.at("n").get<int64_t>()) << what;
    EXPECT_EQ(g.n_failed, w.at("n_failed").get<int64_t>()) << what;
    expect_close(g.r, w.at("r"), what + " r", kAbsFloor);
    expect_close(g.p, w.at("p"), what + " p");
    if (w.contains("slope")) {
      // polyfit goes through LAPACK lstsq: 1e-9 still holds for these well-conditioned fits.
      expect_close(g.slope, w.at("slope"), what + " slope", kAbsFloor);
      expect_close(g.intercept, w.at("intercept"), what + " intercept", kAbsFloor);
    }
  }

  const auto& wq = want.at("quartiles");
  EXPECT_EQ(r.quartiles.n, wq.at("n").get<int64_t>());
  EXPECT_EQ(r.quartiles.n_failed, wq.at("n_failed").get<int64_t>());
  ASSERT_EQ(r.quartiles.available, wq.at("available").get<bool>()) << name;
  if (!r.quartiles.available) EXPECT_FALSE(r.quartiles.notes.empty());
  ASSERT_EQ(r.quartiles.rows.size(), wq.at("rows").size());
  for (size_t k = 0; k < r.quartiles.rows.size(); ++k) {
    const auto& g = r.quartiles.rows[k];
    const auto& w = wq.at("rows")[k];
    const std::string what = name + " quartile " + g.label;
    EXPECT_EQ(g.label, w.at("label").get<std::string>());
    EXPECT_EQ(g.n, w.at("n").get<int64_t>()) << what;
    expect_close(g.edge_low, w.at("edge_low"), what + " edge_low");
    expect_close(g.edge_high, w.at("edge_high"), what + " edge_high");
    expect_close(g.win_rate, w.at("win_rate"), what + " win_rate");
    expect_close(g.delta_mean, w.at("delta_mean"), what + " delta_mean", kAbsFloor);
  }
}

INSTANTIATE_TEST_SUITE_P(Stats, StatsGolden,
                         ::testing::Values("study_like", "ties", "zero_variance", "all_wins", "n2",
                                           "n1", "qcut_duplicates", "failed_rows"));

TEST(StatsGoldenPrimitives, MultitestAndQcutMatchStatsmodelsAndPandas) {
  for (const auto& p : golden().at("primitives")) {
    if (p.at("kind") == "multitest") {
      const auto pv = p.at("p").get<std::vector<double>>();
      const auto holm = dkv::stats::holm_adjust(pv);
      const auto bh = dkv::stats::bh_adjust(pv);
      for (size_t k = 0; k < pv.size(); ++k) {
        expect_close(holm[k], p.at("holm")[k], "holm[" + std::to_string(k) + "]");
        expect_close(bh[k], p.at("bh")[k], "bh[" + std::to_string(k) + "]");
      }
    } else {
      const auto x = p.at("x").get<std::vector<double>>();
      const auto cut = dkv::stats::qcut(x, p.at("q").get<int>());
      ASSERT_TRUE(cut.error.empty()) << cut.error;
      ASSERT_EQ(cut.edges.size(), p.at("edges").size());
      // Edges must be bit-identical: a data value on an edge changes its bin otherwise.
      for (size_t k = 0; k < cut.edges.size(); ++k)
        EXPECT_EQ(cut.edges[k], p.at("edges")[k].get<double>()) << "edge " << k << "; regenerate with: " << kRegenerate;
      EXPECT_EQ(cut.bin, p.at("bins").get<std::vector<int>>()) << "regenerate with: " << kRegenerate;
    }
  }
}

// Prints the comparison count and worst error once all tests ran (TEST_P cases run after
// plain TESTs, so a TEST could not see them).
class GoldenTallyPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    if (tally().compared == 0) return;
    std::printf("[ golden ] %lld comparisons, worst relative error %.3g (%s), %lld within %g absolute "
                "only; regenerate: %s\n",
                static_cast<long long>(tally().compared), tally().worst, tally().worst_what.c_str(),
                static_cast<long long>(tally().by_abs_floor), kAbsFloor, kRegenerate);
  }
};
[[maybe_unused]] auto* const kTallyPrinter =
    ::testing::AddGlobalTestEnvironment(new GoldenTallyPrinter);

}  // namespace
