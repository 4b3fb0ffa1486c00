// The declared analyses (analysis_spec.h) computed from one ResultMatrix: primary comparisons
// with a family-wise correction, strata, oracle and rule routing, hardness gating, PMI and
// bootstrap CIs of d. Every delta is a - b; against the baseline, baseline - condition
// (positive = condition better), as in reduce.h. Each estimator names the numpy / scipy /
// pandas function it equals; tools/gen_analysis_golden.py checks them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dkv/stats/analysis_spec.h"
#include "dkv/stats/reduce.h"
#include "dkv/stats/result_matrix.h"

namespace dkv::stats {

// n, mean delta, study d (reduce.h cohens_d_study), win rate mean(delta > 0) of one delta vector.
struct DeltaStats {
  int64_t n = 0;
  double delta_mean = kUnset, d = kUnset, win_rate = kUnset;
};
DeltaStats delta_stats(const std::vector<double>& delta);

struct PrimaryRow {
  std::string a, b;
  int64_t n = 0;
  double delta_mean = kUnset, d = kUnset, win_rate = kUnset, t = kUnset, p = kUnset;
  double ci_low = kUnset, ci_high = kUnset;          // t-based interval of the mean delta
  double p_adjusted = kUnset;                        // multipletests(p, method)[1]
  bool reject = false;                               // multipletests(p, alpha, method)[0]
  double d_boot_low = kUnset, d_boot_high = kUnset;  // percentile bootstrap of d (if asked)
  std::vector<std::string> notes;
};

struct PrimaryResult {
  std::string correction;
  double alpha = 0.05;
  int64_t family = 0;  // comparisons with a finite p (the m of the correction)
  std::vector<PrimaryRow> rows;
};

// One stratum's numbers for one condition.
struct StratumCell {
  std::string condition;
  DeltaStats stats;
};

struct StratumBin {
  std::string label;
  double edge_low = kUnset, edge_high = kUnset;  // NaN for intent classes
  int64_t n = 0;                                 // samples of the analysis set in this bin
  std::vector<StratumCell> cells;                // one per condition, in results order
};

struct StratumResult {
  std::string name, variable;
  int64_t n = 0, n_outside = 0;  // assigned / in the analysis set but in no bin (NaN, out of range)
  std::vector<StratumBin> bins;
  std::vector<int> bin_of;  // [analysis rows] bin index or -1; used by routing rules
  std::vector<std::string> notes;
};

// Pearson r between baseline NLL and benefit (baseline - condition), per condition.
struct HardnessCorrelation {
  std::string condition;
  int64_t n = 0;
  double r = kUnset, p = kUnset;
};

struct RoutingStep {
  int k = 0;
  std::vector<std::string> pool;  // the top-k conditions by overall d, best first
  DeltaStats stats;               // delta = baseline - min(NLL over pool)
  double nll_mean = kUnset;       // mean of the per-sample minimum
};

struct RoutedRule {
  std::string name, stratum;
  DeltaStats stats;  // delta = baseline - NLL of the routed condition
  double nll_mean = kUnset;
  std::vector<std::pair<std::string, int64_t>> chosen;  // condition -> samples routed to it
  std::vector<std::string> notes;
};

struct RoutingResult {
  bool enabled = false;
  int64_t n = 0;  // analysis rows where the baseline and every candidate are finite
  std::vector<std::pair<std::string, double>> ranking;  // candidate -> overall d, best first
  std::vector<RoutingStep> oracle;
  std::vector<RoutedRule> rules;
};

struct GatingPoint {
  double threshold = kUnset;   // nats
  double percentile = kUnset;  // set when given as a percentile
  double share_primed = kUnset;
  DeltaStats stats;  // delta = baseline - gated NLL (0 where not primed)
};

struct GatingCurve {
  std::string condition;
  int64_t n = 0;
  std::vector<GatingPoint> points;  // thresholds, then percentiles, each in the given order
};

struct PmiRow {
  std::string condition;
  int64_t n = 0;
  double pmi_mean = kUnset, pmi_sd = kUnset;  // mean and std(ddof=1) of NLL - reference NLL
  double d = kUnset;                          // study d of (reference - condition)
};

struct Exclusions {
  int64_t done = 0;                 // committed samples before exclusions
  int64_t min_answer_tokens = 0;    // excluded: fewer answer tokens than declared
  int64_t any_condition_nan = 0;    // excluded (of the rest): some condition not finite
  int64_t kept = 0;
};

struct AnalysesResult {
  bool empty = true;  // no analyses declared: writers add nothing
  std::string baseline;
  Exclusions exclusions;
  PrimaryResult primary;
  std::vector<StratumResult> strata;
  std::vector<HardnessCorrelation> hardness;  // with strata
  std::vector<std::string> conditions;        // non-baseline conditions, results order
  RoutingResult routing;
  std::vector<GatingCurve> gating;
  std::string pmi_reference;
  std::vector<PmiRow> pmi;
  std::vector<std::string> notes;
};

// The matrix with excluded samples removed (their rows dropped, so every later number,
// exp 01's sections included, is over the kept samples) and the counts. Samples not done are
// kept as they are (the reducer skips them). Needs answer_tokens when min_answer_tokens > 0.
ResultMatrix apply_exclusions(const ResultMatrix& m, const ExclusionSpec& spec, const std::string& baseline,
                              Exclusions& counts);

// Throws InputError when a declared variable is missing from the matrix, a condition is not in
// the results, or the baseline is missing.
AnalysesResult analyze(const ResultMatrix& m, const ReportSpec& report, const AnalysesSpec& spec);

// Pieces, exposed for tests.
// pandas.cut(x, edges, right=right, include_lowest=False): bin index or -1 (NaN, outside).
std::vector<int> cut_bins(const std::vector<double>& x, const std::vector<double>& edges, bool right);
// First rule with a substring of the ASCII-lower-cased query; rules.size() (= other) if none.
std::vector<int> intent_classes(const std::vector<std::string>& query, const std::vector<IntentRule>& rules);
// Percentile bootstrap of the study d: `resamples` draws of n indices with dkv::Rng(seed).below(n),
// index i of resample b drawn after those of resample b-1; bounds are numpy.quantile(d_b,
// [(1-conf)/2, (1+conf)/2]) over finite d_b.
std::pair<double, double> bootstrap_d(const std::vector<double>& delta, int resamples, uint64_t seed,
                                      double confidence);
// statsmodels multipletests(p, alpha, method in {bonferroni, holm}): (reject, adjusted); NaN p
// are left out of the family and stay NaN / not rejected.
void multipletests(const std::vector<double>& p, double alpha, const std::string& method,
                   std::vector<bool>& reject, std::vector<double>& adjusted);

}  // namespace dkv::stats
