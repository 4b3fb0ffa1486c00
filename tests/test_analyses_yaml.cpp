// The report block's analyses keys: round trip through the resolved config, nothing emitted
// when none is set, ConfigErrors naming the key; plus invariants of the analyses themselves
// (bin edges, first-match intent, swapped pairs, exp 01's report unchanged without analyses).
#include <gtest/gtest.h>

#include <sstream>

#include "dkv/core/error.h"
#include "dkv/experiment/spec.h"
#include "dkv/report/writers.h"
#include "dkv/stats/analyses.h"
#include "dkv/stats/paired.h"

namespace {

const std::string kBase = "name: t\nmodel: {path: m}\nembedding: {path: e}\ndataset: {path: d}\n";

dkv::experiment::ExperimentSpec parse(const std::string& report) {
  return dkv::experiment::parse_spec(kBase + "report:\n" + report, "t.yaml");
}

std::string error_of(const std::string& report) {
  try {
    parse(report);
  } catch (const dkv::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const std::string kFull = R"(  primary: {comparisons: [[A1, C2], [A1, B1]], correction: holm, alpha: 0.01}
  strata:
    - {name: hardness, quantiles: 5}
    - {name: answer_length, variable: answer_tokens, bins: [0, 5, 16, .inf], labels: ["< 5", "5-15", "> 15"]}
    - {name: intent, variable: intent}
    - name: mine
      variable: intent
      rules: [{label: how, contains: ["How "]}]
      other: rest
  routing: {max_k: 5, rules: [{name: by_intent, stratum: intent, choose: {definitional: C4, factual: C2}}]}
  gating: {conditions: [C2], thresholds: [0, 0.3, 0.5, 0.8, 1.0, 1.5], percentiles: [50]}
  pmi: {reference: A2}
  bootstrap: {resamples: 1000, seed: 42}
  exclusions: {min_answer_tokens: 2, any_condition_nan: true}
)";

TEST(AnalysesYaml, NothingEmittedWhenNothingIsSet) {
  const auto s = parse("  baseline: A1\n");
  EXPECT_TRUE(s.report.analyses.empty());
  const auto y = dkv::experiment::resolved_yaml(s);
  for (const char* key : {"primary", "strata", "routing", "gating", "pmi", "bootstrap", "exclusions"})
    EXPECT_EQ(y.find(std::string(key) + ":"), std::string::npos) << key << " in\n" << y;
}

TEST(AnalysesYaml, ResolvedConfigRoundTripsAndIsStable) {
  const auto s = parse(kFull);
  const auto& a = s.report.analyses;
  ASSERT_EQ(a.strata.size(), 4u);
  EXPECT_EQ(a.primary.correction, "holm");
  EXPECT_DOUBLE_EQ(a.primary.alpha, 0.01);
  EXPECT_TRUE(std::isinf(a.strata[1].bins.back()));
  EXPECT_EQ(a.strata[3].rules[0].contains[0], "how ");  // lower-cased: matching is on the lower-cased query
  EXPECT_EQ(a.gating.thresholds.size(), 6u);
  EXPECT_EQ(a.bootstrap.seed, 42u);
  const auto y1 = dkv::experiment::resolved_yaml(s);
  const auto s2 = dkv::experiment::parse_spec(y1, "resolved.yaml");
  const auto y2 = dkv::experiment::resolved_yaml(s2);
  EXPECT_EQ(y1, y2);
  const auto& b = s2.report.analyses;
  EXPECT_EQ(b.gating.thresholds, a.gating.thresholds);  // 0.3 etc. read back bit-exactly
  EXPECT_EQ(b.strata[1].bins, a.strata[1].bins);
  EXPECT_EQ(b.strata[2].rules.size(), dkv::stats::default_intent_rules().size());  // defaults written out
  EXPECT_EQ(b.routing.rules[0].choose, a.routing.rules[0].choose);
  EXPECT_EQ(b.exclusions.min_answer_tokens, 2);
  EXPECT_TRUE(b.exclusions.any_condition_nan);
}

TEST(AnalysesYaml, BadValuesNameTheKey) {
  EXPECT_NE(error_of("  strata: [{name: a, quantiles: 4}, {name: b, variable: answer_tokens, bins: [5, 1]}]\n")
                .find("report.strata[1].bins: expected strictly increasing edges"),
            std::string::npos);
  EXPECT_NE(error_of("  strata: [{name: a, quantiles: 4, bins: [0, 1]}]\n").find("report.strata[0]: expected exactly one of"),
            std::string::npos);
  EXPECT_NE(error_of("  strata: [{name: a, variable: height, quantiles: 4}]\n").find("report.strata[0].variable: 'height'"),
            std::string::npos);
  EXPECT_NE(error_of("  strata: [{name: a, quantiles: 4, labels: [x]}]\n").find("report.strata[0].labels: expected 4 labels"),
            std::string::npos);
  EXPECT_NE(error_of("  strata: [{name: a, quantiles: 4, colour: red}]\n").find("report.strata[0].colour: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of("  primary: {comparisons: [[A1, Z9]]}\n").find("report.primary.comparisons[0]: no condition with id 'Z9'"),
            std::string::npos);
  EXPECT_NE(error_of("  primary: {comparisons: [[A1, C2]], correction: sidak}\n").find("report.primary.correction"),
            std::string::npos);
  EXPECT_NE(error_of("  routing: {rules: [{name: r, stratum: nope, choose: {x: C2}}]}\n")
                .find("report.routing.rules[0].stratum: no stratum named 'nope'"),
            std::string::npos);
  EXPECT_NE(error_of("  gating: {conditions: [C2], percentiles: [101]}\n").find("report.gating.percentiles"),
            std::string::npos);
  EXPECT_NE(error_of("  bootstrap: {resamples: 0, seed: 1}\n").find("report.bootstrap.resamples"), std::string::npos);
  EXPECT_NE(error_of("  pmi: {reference: Q7}\n").find("report.pmi.reference: no condition with id 'Q7'"),
            std::string::npos);
}

TEST(AnalysesStrata, CutEdgesFollowPandasRightAndLeftClosedBins) {
  const std::vector<double> x = {0, 4.999, 5, 15, 16, 100, -1, NAN};
  const std::vector<double> edges = {0, 5, 16};
  // right=False: [0, 5), [5, 16); 16 and -1 outside, NaN none.
  EXPECT_EQ(dkv::stats::cut_bins(x, edges, false), (std::vector<int>{0, 0, 1, 1, -1, -1, -1, -1}));
  // right=True: (0, 5], (5, 16]; 0 itself is outside (include_lowest=False).
  EXPECT_EQ(dkv::stats::cut_bins(x, edges, true), (std::vector<int>{-1, 0, 0, 1, 1, -1, -1, -1}));
}

TEST(AnalysesStrata, IntentTakesTheFirstMatchingRuleCaseInsensitively) {
  const std::vector<dkv::stats::IntentRule> rules = {{"def", {"what is "}}, {"cost", {"cost"}}};
  EXPECT_EQ(dkv::stats::intent_classes({"What is the cost", "COST of milk", "rome"}, rules),
            (std::vector<int>{0, 1, 2}));
}

dkv::stats::ResultMatrix small_matrix() {
  dkv::stats::ResultMatrix m;
  m.condition_ids = {"A1", "C2", "B1"};
  m.condition_names = {"baseline", "c", "b"};
  m.num_samples = 6;
  m.nll = {2.0, 1.5, 1.9, 1.0, 1.2, 0.8, 3.0, 2.1, 3.1, 0.5, 0.6, 0.4, 2.5, 2.0, 2.6, 1.7, 1.6, 1.2};
  m.done.assign(6, true);
  m.similarity.assign(6, 0.5);
  return m;
}

TEST(AnalysesPrimary, SwappingThePairNegatesDeltaAndD) {
  dkv::stats::AnalysesSpec spec;
  spec.primary.comparisons = {{"A1", "C2"}, {"C2", "A1"}};
  const auto a = dkv::stats::analyze(small_matrix(), {}, spec);
  ASSERT_EQ(a.primary.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(a.primary.rows[0].delta_mean, -a.primary.rows[1].delta_mean);
  EXPECT_DOUBLE_EQ(a.primary.rows[0].d, -a.primary.rows[1].d);
  EXPECT_DOUBLE_EQ(a.primary.rows[0].p, a.primary.rows[1].p);
}

TEST(AnalysesRouting, OracleNeverWorseThanItsBestSingleAndMonotoneInK) {
  dkv::stats::AnalysesSpec spec;
  spec.routing.enabled = true;
  const auto a = dkv::stats::analyze(small_matrix(), {}, spec);
  ASSERT_EQ(a.routing.oracle.size(), 2u);
  EXPECT_LE(a.routing.oracle[1].nll_mean, a.routing.oracle[0].nll_mean);
  EXPECT_GE(a.routing.oracle[1].stats.delta_mean, a.routing.oracle[0].stats.delta_mean);
}

TEST(AnalysesGating, ThresholdBelowEveryBaselineEqualsTheConditionAndAboveEqualsNone) {
  dkv::stats::AnalysesSpec spec;
  spec.gating.conditions = {"C2"};
  spec.gating.thresholds = {-1, 100};
  const auto a = dkv::stats::analyze(small_matrix(), {}, spec);
  const auto r = dkv::stats::reduce(small_matrix());
  ASSERT_EQ(a.gating[0].points.size(), 2u);
  EXPECT_DOUBLE_EQ(a.gating[0].points[0].share_primed, 1.0);
  EXPECT_DOUBLE_EQ(a.gating[0].points[0].stats.d, r.find("C2")->cohens_d);
  EXPECT_DOUBLE_EQ(a.gating[0].points[1].share_primed, 0.0);
  EXPECT_DOUBLE_EQ(a.gating[0].points[1].stats.d, 0.0);
}

TEST(AnalysesBootstrap, SameSeedSameBoundsOtherSeedOtherBounds) {
  std::vector<double> d = {0.1, -0.2, 0.3, 0.05, 0.4, -0.1, 0.2, 0.25, 0.0, 0.15};
  const auto a = dkv::stats::bootstrap_d(d, 500, 1, 0.95), b = dkv::stats::bootstrap_d(d, 500, 1, 0.95);
  const auto c = dkv::stats::bootstrap_d(d, 500, 2, 0.95);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const double d_hat = dkv::stats::cohens_d_study(d);
  EXPECT_LT(a.first, d_hat);
  EXPECT_GT(a.second, d_hat);
}

TEST(AnalysesReport, WithoutAnalysesTheExp01FilesAreUnchanged) {
  const auto m = small_matrix();
  const auto r = dkv::stats::reduce(m);
  const auto a = dkv::stats::analyze(m, {}, {});
  ASSERT_TRUE(a.empty);
  std::ostringstream md1, md2;
  dkv::report::write_report_md(r, md1);
  dkv::report::write_report_md(r, md2, &a);
  EXPECT_EQ(md1.str(), md2.str());
  dkv::stats::Exclusions ex;
  const auto kept = dkv::stats::apply_exclusions(m, {}, "A1", ex);
  EXPECT_EQ(kept.nll, m.nll);
  EXPECT_EQ(ex.kept, 6);
}

}  // namespace
