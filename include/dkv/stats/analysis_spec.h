// The declared analyses of the YAML `report:` block beyond the study's exp 01 comparisons
// (primary comparisons, strata, routing, gating, PMI, bootstrap, exclusions). Empty = none:
// the report is exactly exp 01's. Filled by experiment/report_analyses_yaml.cpp, computed by
// stats::analyze (analyses.h); configs/README.md documents every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dkv/stats/report_spec.h"

namespace dkv::stats {

// Per-sample numbers a stratum or a rule may use. `nll.<id>` (any condition's NLL) is also
// accepted; see ResultMatrix::variable.
inline const std::vector<std::string> kSampleVariables = {"baseline_nll", "answer_tokens", "passage_words",
                                                          "query_words", "similarity"};

// A family of declared comparisons: delta = a - b (so [A1, C2] is C2's benefit over the
// baseline), corrected over the family.
struct PrimarySpec {
  std::vector<ConditionPair> comparisons;  // empty = no primary section
  std::string correction = "bonferroni";   // bonferroni | holm (statsmodels multipletests)
  double alpha = 0.05;                     // family-wise level
};

// First-matching substring rule on the lower-cased (ASCII) query.
struct IntentRule {
  std::string label;
  std::vector<std::string> contains;
};

// The study's seven query-intent classes (study-followups.md section 5); dkv's substrings.
std::vector<IntentRule> default_intent_rules();
inline constexpr const char* kIntentOther = "other";

struct StratumSpec {
  std::string name;                       // required, unique: the section and routing's key
  std::string variable = "baseline_nll";  // one of kSampleVariables, nll.<id>, or "intent"
  int quantiles = 0;                      // k > 0: pandas.qcut(x, k)
  std::vector<double> bins;               // edges: pandas.cut(x, bins, right=right)
  bool right = false;                     // false: [low, high) as "< 5, 5-15, > 15" reads
  std::vector<std::string> labels;        // optional, one per bin; default from the edges
  std::vector<IntentRule> rules;          // variable "intent": empty = default_intent_rules()
  std::string other = kIntentOther;       // intent label when no rule matches
};

// Per-sample routing: the stratum's label picks the condition (unmapped labels: `fallback`).
struct RouteRuleSpec {
  std::string name, stratum, fallback;  // fallback "" = the baseline
  std::vector<std::pair<std::string, std::string>> choose;  // label -> condition id
};

struct RoutingSpec {
  bool enabled = false;
  int max_k = 0;                          // 0 = every candidate
  std::vector<std::string> candidates;    // empty = every non-baseline condition
  std::vector<RouteRuleSpec> rules;
};

// Use `condition` where baseline NLL >= threshold, the baseline elsewhere.
struct GatingSpec {
  std::vector<std::string> conditions;  // empty = no gating section
  std::vector<double> thresholds;       // nats
  std::vector<double> percentiles;      // of the baseline NLL, 0..100 (numpy.percentile, linear)
};

struct BootstrapSpec {
  int resamples = 0;       // 0 = no bootstrap
  uint64_t seed = 0;       // dkv::Rng(seed): the resample indices are reproducible anywhere
  double confidence = 0.95;
};

struct ExclusionSpec {
  int64_t min_answer_tokens = 0;   // exclude samples whose baseline answer has fewer tokens
  bool any_condition_nan = false;  // exclude samples where any condition's NLL is not finite
};

struct AnalysesSpec {
  PrimarySpec primary;
  std::vector<StratumSpec> strata;
  RoutingSpec routing;
  GatingSpec gating;
  std::string pmi_reference;  // "" = no PMI section
  BootstrapSpec bootstrap;
  ExclusionSpec exclusions;

  bool empty() const {
    return primary.comparisons.empty() && strata.empty() && !routing.enabled && gating.conditions.empty() &&
           pmi_reference.empty() && bootstrap.resamples == 0 && exclusions.min_answer_tokens == 0 &&
           !exclusions.any_condition_nan;
  }
};

}  // namespace dkv::stats
