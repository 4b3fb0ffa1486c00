// Declared analyses against goldens from numpy / scipy / pandas
// (tools/gen_analysis_golden.py -> tests/golden/analyses_golden.json). The spec of each case is
// the golden's JSON text parsed as a config's `report:` block, so the YAML reader is on the path.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "dkv/experiment/spec.h"
#include "dkv/stats/analyses.h"

namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// 1e-9 relative, as tests/test_stats_golden.cpp: both sides evaluate the same closed forms in
// double; only summation order (numpy pairwise vs long double) and the t / beta distribution
// library (cephes vs Boost) differ, each good to ~1e-14 on these inputs. Bootstrap bounds use
// the same resample indices, so they too differ only by the rounding of each resample's d.
constexpr double kRelTol = 1e-9;
// Mean deltas near 0 carry absolute rounding ~n * 1e-16 whatever the order of summation.
constexpr double kAbsFloor = 1e-13;
constexpr const char* kRegenerate = ".venv/bin/python tools/gen_analysis_golden.py";

const json& golden() {
  static const json g = [] {
    std::ifstream in(std::string(DKV_SOURCE_DIR) + "/tests/golden/analyses_golden.json");
    EXPECT_TRUE(in.good()) << "missing tests/golden/analyses_golden.json; regenerate with: " << kRegenerate;
    return json::parse(in);
  }();
  return g;
}

double as_double(const json& v) { return v.is_null() ? kNaN : v.get<double>(); }

int64_t& compared() {
  static int64_t n = 0;
  return n;
}
double& worst_rel() {
  static double w = 0;
  return w;
}

// `relative_only` for p values: a p of 1e-36 must match to 1e-9 of itself, not within 1e-13.
void near(double got, const json& want_json, const std::string& what, bool relative_only = false) {
  const double want = as_double(want_json);
  ++compared();
  if (std::isnan(want) || std::isnan(got)) {
    EXPECT_TRUE(std::isnan(want) && std::isnan(got)) << what << ": got " << got << ", want " << want
                                                     << "; regenerate with: " << kRegenerate;
    return;
  }
  const double err = std::fabs(got - want), scale = std::max(std::fabs(got), std::fabs(want));
  if (!relative_only && err <= kAbsFloor) return;
  worst_rel() = std::max(worst_rel(), err / scale);
  EXPECT_LE(err / scale, kRelTol) << what << ": got " << got << ", want " << want << "; regenerate with: " << kRegenerate;
}

void near_stats(const dkv::stats::DeltaStats& s, const json& w, const std::string& what) {
  EXPECT_EQ(s.n, w.at("n").get<int64_t>()) << what << ".n";
  near(s.delta_mean, w.at("delta_mean"), what + ".delta_mean");
  near(s.d, w.at("d"), what + ".d");
  near(s.win_rate, w.at("win_rate"), what + ".win_rate");
}

struct Case {
  dkv::stats::ResultMatrix m;
  dkv::stats::AnalysesSpec spec;
};

Case load(const std::string& name) {
  const auto& c = golden().at("cases").at(name);
  const auto& in = c.at("input");
  Case k;
  auto& m = k.m;
  m.condition_ids = in.at("ids").get<std::vector<std::string>>();
  for (const auto& id : m.condition_ids) m.condition_names.push_back("cond_" + id);
  for (const auto& row : in.at("nll"))
    for (const auto& v : row) m.nll.push_back(as_double(v));
  m.done = in.at("done").get<std::vector<bool>>();
  m.num_samples = static_cast<int64_t>(m.done.size());
  for (const auto& v : in.at("similarity")) m.similarity.push_back(as_double(v));
  for (const auto& v : in.at("answer_tokens")) m.answer_tokens.push_back(as_double(v));
  for (const auto& v : in.at("passage_words")) m.passage_words.push_back(as_double(v));
  m.query = in.at("query").get<std::vector<std::string>>();
  const std::string yaml = "name: golden\nmodel: {path: m}\nembedding: {path: e}\ndataset: {path: d}\nreport: " +
                           c.at("report_yaml").get<std::string>() + "\n";
  k.spec = dkv::experiment::parse_spec(yaml, name + ".yaml").report.analyses;
  return k;
}

void check_case(const std::string& name) {
  SCOPED_TRACE(name);
  auto k = load(name);
  const auto& want = golden().at("cases").at(name).at("expected");
  dkv::stats::ReportSpec report;  // baseline A1, confidence 0.95
  dkv::stats::Exclusions ex;
  const auto kept = dkv::stats::apply_exclusions(k.m, k.spec.exclusions, report.baseline, ex);
  const auto& we = want.at("exclusions");
  EXPECT_EQ(ex.done, we.at("done").get<int64_t>());
  EXPECT_EQ(ex.min_answer_tokens, we.at("min_answer_tokens").get<int64_t>());
  EXPECT_EQ(ex.any_condition_nan, we.at("any_condition_nan").get<int64_t>());
  EXPECT_EQ(ex.kept, we.at("kept").get<int64_t>());
  const auto a = dkv::stats::analyze(kept, report, k.spec);
  ASSERT_FALSE(a.empty);

  const auto& wp = want.at("primary");
  ASSERT_EQ(a.primary.rows.size(), wp.size());
  for (size_t i = 0; i < wp.size(); ++i) {
    const auto& r = a.primary.rows[i];
    const auto& w = wp[i];
    const auto what = "primary[" + std::to_string(i) + "] " + r.a + "-" + r.b;
    EXPECT_EQ(r.n, w.at("n").get<int64_t>()) << what;
    for (auto [got, key] : {std::pair{r.delta_mean, "delta_mean"}, {r.d, "d"}, {r.win_rate, "win_rate"}, {r.t, "t"},
                            {r.p, "p"}, {r.ci_low, "ci_low"}, {r.ci_high, "ci_high"}, {r.p_adjusted, "p_adjusted"},
                            {r.d_boot_low, "d_boot_low"}, {r.d_boot_high, "d_boot_high"}})
      near(got, w.at(key), what + "." + key, std::string(key) == "p" || std::string(key) == "p_adjusted");
    EXPECT_EQ(r.reject, w.at("reject").get<bool>()) << what << ".reject";
  }

  const auto& ws = want.at("strata");
  ASSERT_EQ(a.strata.size(), ws.size());
  for (size_t s = 0; s < ws.size(); ++s) {
    const auto& st = a.strata[s];
    const auto& w = ws[s];
    const auto what = "strata[" + std::to_string(s) + "] " + st.name;
    EXPECT_EQ(st.n, w.at("n").get<int64_t>()) << what;
    EXPECT_EQ(st.n_outside, w.at("n_outside").get<int64_t>()) << what;
    ASSERT_EQ(st.bins.size(), w.at("bins").size()) << what;
    for (size_t b = 0; b < st.bins.size(); ++b) {
      const auto& wb = w.at("bins")[b];
      const auto bwhat = what + " bin " + st.bins[b].label;
      EXPECT_EQ(st.bins[b].label, wb.at("label").get<std::string>()) << bwhat;
      EXPECT_EQ(st.bins[b].n, wb.at("n").get<int64_t>()) << bwhat;
      near(st.bins[b].edge_low, wb.at("edge_low"), bwhat + ".edge_low");
      near(st.bins[b].edge_high, wb.at("edge_high"), bwhat + ".edge_high");
      for (const auto& cell : st.bins[b].cells)
        near_stats(cell.stats, wb.at("conditions").at(cell.condition), bwhat + " " + cell.condition);
    }
  }
  const auto& wh = want.at("hardness");
  ASSERT_EQ(a.hardness.size(), wh.size());
  for (size_t i = 0; i < wh.size(); ++i) {
    EXPECT_EQ(a.hardness[i].condition, wh[i].at("condition").get<std::string>());
    EXPECT_EQ(a.hardness[i].n, wh[i].at("n").get<int64_t>());
    near(a.hardness[i].r, wh[i].at("r"), "hardness r " + a.hardness[i].condition);
    near(a.hardness[i].p, wh[i].at("p"), "hardness p " + a.hardness[i].condition, true);
  }

  const auto& wr = want.at("routing");
  EXPECT_EQ(a.routing.n, wr.at("n").get<int64_t>());
  ASSERT_EQ(a.routing.ranking.size(), wr.at("ranking").size());
  for (size_t i = 0; i < a.routing.ranking.size(); ++i) {
    EXPECT_EQ(a.routing.ranking[i].first, wr.at("ranking")[i].at("condition").get<std::string>()) << "rank " << i;
    near(a.routing.ranking[i].second, wr.at("ranking")[i].at("d"), "ranking d " + a.routing.ranking[i].first);
  }
  ASSERT_EQ(a.routing.oracle.size(), wr.at("oracle").size());
  for (size_t i = 0; i < a.routing.oracle.size(); ++i) {
    const auto& w = wr.at("oracle")[i];
    const auto what = "oracle K=" + std::to_string(a.routing.oracle[i].k);
    EXPECT_EQ(a.routing.oracle[i].pool, w.at("pool").get<std::vector<std::string>>()) << what;
    near(a.routing.oracle[i].nll_mean, w.at("nll_mean"), what + ".nll_mean");
    near_stats(a.routing.oracle[i].stats, w, what);
  }
  ASSERT_EQ(a.routing.rules.size(), wr.at("rules").size());
  for (size_t i = 0; i < a.routing.rules.size(); ++i) {
    const auto& r = a.routing.rules[i];
    const auto& w = wr.at("rules")[i];
    near(r.nll_mean, w.at("nll_mean"), "routed " + r.name + ".nll_mean");
    near_stats(r.stats, w, "routed " + r.name);
    EXPECT_EQ(r.chosen.size(), w.at("chosen").size()) << r.name;
    for (const auto& [id, n] : r.chosen) EXPECT_EQ(n, w.at("chosen").at(id).get<int64_t>()) << r.name << " " << id;
  }

  const auto& wg = want.at("gating");
  ASSERT_EQ(a.gating.size(), wg.size());
  for (size_t g = 0; g < wg.size(); ++g) {
    EXPECT_EQ(a.gating[g].n, wg[g].at("n").get<int64_t>());
    ASSERT_EQ(a.gating[g].points.size(), wg[g].at("points").size());
    for (size_t i = 0; i < a.gating[g].points.size(); ++i) {
      const auto& p = a.gating[g].points[i];
      const auto& w = wg[g].at("points")[i];
      const auto what = "gating " + a.gating[g].condition + " point " + std::to_string(i);
      near(p.threshold, w.at("threshold"), what + ".threshold");
      near(p.percentile, w.at("percentile"), what + ".percentile");
      near(p.share_primed, w.at("share_primed"), what + ".share_primed");
      near_stats(p.stats, w, what);
    }
  }

  if (want.contains("pmi")) {
    const auto& wpmi = want.at("pmi");
    ASSERT_EQ(a.pmi.size(), wpmi.size());
    for (size_t i = 0; i < wpmi.size(); ++i) {
      EXPECT_EQ(a.pmi[i].condition, wpmi[i].at("condition").get<std::string>());
      EXPECT_EQ(a.pmi[i].n, wpmi[i].at("n").get<int64_t>());
      near(a.pmi[i].pmi_mean, wpmi[i].at("pmi_mean"), "pmi mean " + a.pmi[i].condition);
      near(a.pmi[i].pmi_sd, wpmi[i].at("pmi_sd"), "pmi sd " + a.pmi[i].condition);
      near(a.pmi[i].d, wpmi[i].at("d"), "pmi d " + a.pmi[i].condition);
    }
  } else {
    EXPECT_TRUE(a.pmi.empty());
  }
}

TEST(AnalysesGolden, StudyLikeBonferroniStrataRoutingGatingPmiBootstrap) { check_case("study_like"); }

TEST(AnalysesGolden, GridValuesHolmQuartilesAnyNanExclusion) { check_case("grid_holm"); }

TEST(AnalysesGolden, ComparedEnoughNumbers) {
  // Guards against a golden that silently shrinks to nothing (a test that cannot fail).
  compared() = 0;
  check_case("study_like");
  EXPECT_GT(compared(), 1000);  // 1470 numbers in this case
  std::cout << "[ golden ] " << compared() << " comparisons, worst relative error beyond the 1e-13 absolute floor " << worst_rel()
            << "; regenerate: " << kRegenerate << "\n";
}

}  // namespace
