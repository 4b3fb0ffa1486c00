// The reducer: pairs conditions within each committed sample and computes every number the
// report shows, once. Writers in report/ only format a Reduction; they compute nothing.
//
// Sample sets: only rows with done = true count. Each comparison uses the rows where all of
// its inputs are finite (pairwise exclusion, like dropping failed samples); the rows lost to
// NaN are counted in n_failed. Numbers that are undefined (scipy gives NaN) are NaN with the
// reason in `notes`.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dkv/stats/report_spec.h"
#include "dkv/stats/result_matrix.h"

namespace dkv::stats {

// Numbers of an unavailable comparison stay NaN (never a plausible-looking 0).
inline constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

// One row of summary.csv: a condition against the baseline.
struct ConditionSummary {
  std::string id, name;
  int64_t n_used = 0;     // done rows with baseline and condition finite
  int64_t n_failed = 0;   // done rows where either is NaN (excluded)
  int64_t n_non_finite = 0;  // done rows of this condition computed NaN/inf without an error (flagged)
  double nll_mean = 0;    // over the n_used rows
  double nll_std = 0;     // numpy std, ddof=0 (the study's 'Std NLL')
  double delta_mean = 0;  // mean(baseline - condition); positive = condition better
  double win_rate = 0;    // mean(delta > 0)
  double t = 0, p = 0, df = 0;  // scipy.stats.ttest_rel(baseline, condition), two-sided
  double cohens_d = 0;          // study: mean/std(ddof=1), 0 when np.std(delta) == 0
  double ci_low = 0, ci_high = 0;  // ReportSpec::confidence interval of delta_mean
  double p_holm = 0, p_bh = 0;     // adjusted across all non-baseline conditions with finite p
  double wilcoxon_p = 0;           // see stats::wilcoxon_signed_rank for the variant
  double wilcoxon_statistic = 0;
  std::vector<std::string> notes;  // why a value is NaN / degenerate
};

// Per-condition numbers over all done rows where the condition alone is finite (figure panels
// 1-2: mean and SEM = pandas std (ddof=1) / sqrt(n), as the study's plot).
struct ConditionMarginal {
  std::string id, name;
  int64_t n = 0;
  double nll_mean = 0, nll_sem = 0;
};

struct PairComparison {
  std::string a, b;
  bool available = false;  // false: a condition is missing from the results (see notes)
  int64_t n = 0, n_failed = 0;
  double mean_a = kUnset, mean_b = kUnset;  // over the paired rows
  double std_a = kUnset, std_b = kUnset;    // numpy std, ddof=0 (the study's '±')
  double diff = kUnset;                     // mean_a - mean_b
  double t = kUnset, p = kUnset;            // ttest_rel(a, b)
  std::vector<std::string> notes;
};

struct Correlation {
  std::string condition;
  bool available = false;
  int64_t n = 0, n_failed = 0;
  double r = kUnset, p = kUnset;              // scipy.stats.pearsonr(similarity, baseline - condition)
  double slope = kUnset, intercept = kUnset;  // numpy.polyfit(similarity, delta, 1)
  std::vector<std::string> notes;
};

struct QuartileRow {
  std::string label;
  double edge_low = 0, edge_high = 0;  // (low, high], the first bin closed at low
  int64_t n = 0;
  double win_rate = 0, delta_mean = 0;
};

struct QuartileAnalysis {
  std::string condition;
  bool available = false;
  int64_t n = 0, n_failed = 0;
  std::vector<QuartileRow> rows;
  std::vector<std::string> notes;
};

struct Reduction {
  std::string baseline;
  int64_t num_samples = 0, num_done = 0;
  std::vector<ConditionSummary> conditions;  // sorted by nll_mean (stable), as the study's table
  std::vector<ConditionMarginal> marginals;  // in the results' condition order
  std::vector<PairComparison> critical, ordering, full_vs_truncated;
  std::vector<std::string> surrogate_quality;  // ids, looked up in `conditions`
  std::vector<Correlation> correlations;
  QuartileAnalysis quartiles;
  // Figure panels 3-4 for spec.figure_condition: deltas and the matching similarities.
  std::string figure_condition;
  std::vector<double> figure_delta, figure_delta_similarity, figure_scatter_delta;
  Correlation figure_correlation;
  std::vector<std::string> figure_critical;
  int histogram_bins = 30;
  std::vector<std::string> notes;  // report-level: partial input, missing conditions

  const ConditionSummary* find(const std::string& id) const;
  const ConditionMarginal* find_marginal(const std::string& id) const;
};

// Throws dkv::ConfigError naming the report.<key> when the spec is unusable (empty baseline,
// confidence outside (0, 1), no quartile labels, histogram_bins < 1).
void validate(const ReportSpec& spec);

// Throws dkv::InputError when the matrix is malformed or the baseline is missing, and
// dkv::ConfigError from validate(spec).
Reduction reduce(const ResultMatrix& m, const ReportSpec& spec = {});

}  // namespace dkv::stats
