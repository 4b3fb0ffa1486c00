// Which comparisons the report makes. Defaults reproduce the study
// (seed/directed_kvcache_experiment.md, section 4 "Analysis"); the lead fills this from the
// YAML `report:` block so that new conditions are reported without code changes.
// A listed condition missing from the results is reported as "not available", never dropped
// silently; only a missing baseline is an error.
#pragma once

#include <string>
#include <vector>

namespace dkv::stats {

// A paired comparison of condition `a` against `b`: ttest_rel(a, b), difference mean(a) - mean(b).
struct ConditionPair {
  std::string a, b;
};

struct ReportSpec {
  // Every condition's delta is baseline - condition (positive = condition better).
  std::string baseline = "A1";
  // Critical test: ttest_rel(C1, C2) (improvement of the RoPE fix) and ttest_rel(A1, C2).
  std::vector<ConditionPair> critical = {{"C1", "C2"}, {"A1", "C2"}};
  // Surrogate quality: NLL, delta vs baseline and win rate of each.
  std::vector<std::string> surrogate_quality = {"C2", "C4", "C5", "E1"};
  // Full vs truncated: gap = mean(a) - mean(b) with a the full-context condition.
  std::vector<ConditionPair> full_vs_truncated = {{"B1", "C2"}, {"B2", "C4"}, {"B3", "C5"}};
  // Ordering (prefix vs suffix): ttest_rel(a, b).
  std::vector<ConditionPair> ordering = {{"C2", "D1"}, {"B1", "B4"}};
  // Pearson r between similarity and each condition's delta vs baseline.
  std::vector<std::string> similarity_correlation = {"C2", "B1"};
  // Win rate and mean delta of this condition by pandas.qcut bins of the baseline NLL.
  std::string quartile_condition = "C2";
  std::vector<std::string> quartile_labels = {"Easy (low NLL)", "Medium-Easy", "Medium-Hard",
                                              "Hard (high NLL)"};  // one per bin; count = q
  // Figure panel 2 (bars) and panels 3-4 (delta histogram, similarity scatter).
  std::vector<std::string> figure_critical = {"A1", "C1", "C2", "B1"};
  std::string figure_condition = "C2";
  int histogram_bins = 30;
  // Level of the t-based interval of each mean delta.
  double confidence = 0.95;
};

}  // namespace dkv::stats
