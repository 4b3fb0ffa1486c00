// Stratum assignment: pandas.cut bins, first-matching intent rules, the default intent
// classes, and the per-sample variables a stratum or rule may name.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "dkv/core/error.h"
#include "dkv/stats/analyses.h"

namespace dkv::stats {

std::vector<IntentRule> default_intent_rules() {
  // The study's seven classes (study-followups.md section 5) in its order, so a query that
  // matches two classes takes the first ("what is the cost of" is definitional). The notebook's
  // own substrings were not kept; these are dkv's, stated here and in configs/README.md.
  return {
      {"definitional", {"what is ", "what are ", "what does ", "define", "definition", "meaning"}},
      {"procedural", {"how to ", "how do ", "how can ", "how does ", "steps ", "way to "}},
      {"transactional", {"cost", "price", "how much", "buy", "cheap", "fee", "salary", "pay "}},
      {"comparison", {" vs ", " vs. ", "versus", "difference between", "compare", "better than"}},
      {"factual", {"who ", "when ", "where ", "which ", "how many ", "how long ", "how old ", "what year"}},
      {"medical", {"symptom", "disease", "treatment", "pain", "infection", "medication", "doctor", "cancer", "blood"}},
  };
}

std::vector<int> cut_bins(const std::vector<double>& x, const std::vector<double>& edges, bool right) {
  // pandas.cut with explicit edges: (e_i, e_i+1] when right, [e_i, e_i+1) otherwise; values
  // outside [e_0, e_last] (or on the open end) and NaN get no bin. include_lowest=False.
  std::vector<int> bin(x.size(), -1);
  const int nb = static_cast<int>(edges.size()) - 1;
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    if (std::isnan(v)) continue;
    for (int b = 0; b < nb; ++b) {
      const bool in = right ? (v > edges[b] && v <= edges[b + 1]) : (v >= edges[b] && v < edges[b + 1]);
      if (in) {
        bin[i] = b;
        break;
      }
    }
  }
  return bin;
}

std::vector<int> intent_classes(const std::vector<std::string>& query, const std::vector<IntentRule>& rules) {
  std::vector<int> out(query.size(), static_cast<int>(rules.size()));
  for (size_t i = 0; i < query.size(); ++i) {
    std::string q = query[i];
    // ASCII only: a locale-dependent tolower would make two machines disagree on a label.
    for (auto& ch : q) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (size_t r = 0; r < rules.size() && out[i] == static_cast<int>(rules.size()); ++r)
      for (const auto& s : rules[r].contains)
        if (q.find(s) != std::string::npos) {
          out[i] = static_cast<int>(r);
          break;
        }
  }
  return out;
}

namespace {
double count_words(const std::string& s) {
  // str.split(): runs of ASCII whitespace separate words.
  int64_t n = 0;
  bool in_word = false;
  for (unsigned char ch : s) {
    const bool space = std::isspace(ch) != 0;
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return static_cast<double>(n);
}
}  // namespace

std::vector<double> ResultMatrix::variable(const std::string& name, const std::string& baseline) const {
  const auto N = static_cast<size_t>(num_samples);
  auto need = [&](const auto& v, const char* what) {
    if (v.size() != N)
      throw InputError("report: per-sample variable " + name + " needs " + what + " for every sample (have " +
                       std::to_string(v.size()) + " of " + std::to_string(N) + ")");
  };
  auto column = [&](const std::string& id) {
    const int c = find(id);
    if (c < 0) throw InputError("report: variable " + name + ": condition " + id + " is not in the results");
    std::vector<double> v(N);
    for (size_t s = 0; s < N; ++s) v[s] = at(static_cast<int64_t>(s), c);
    return v;
  };
  if (name == "baseline_nll") return column(baseline);
  if (name.rfind("nll.", 0) == 0) return column(name.substr(4));
  if (name == "answer_tokens") return need(answer_tokens, "answer token counts"), answer_tokens;
  if (name == "passage_words") return need(passage_words, "passage word counts"), passage_words;
  if (name == "similarity") return need(similarity, "similarities"), similarity;
  if (name == "query_words") {
    need(query, "query texts");
    std::vector<double> v(N);
    for (size_t s = 0; s < N; ++s) v[s] = count_words(query[s]);
    return v;
  }
  throw InputError("report: unknown per-sample variable " + name);
}

}  // namespace dkv::stats
