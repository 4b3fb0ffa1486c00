// The declared analyses (stats::AnalysesResult) in report.json and report.md; formatting only.
#include <cmath>
#include <cstdio>

#include "dkv/report/writers.h"
#include "report/number_format.h"

namespace dkv::report {
namespace {

using nlohmann::json;

json num(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json stats_json(const stats::DeltaStats& s) {
  return {{"n", s.n}, {"delta_mean", num(s.delta_mean)}, {"d", num(s.d)}, {"win_rate", num(s.win_rate)}};
}

std::string pct(double v) { return std::isnan(v) ? "NaN" : fmt(100 * v, "%.1f") + "%"; }

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

}  // namespace

json analyses_json(const stats::AnalysesResult& a) {
  json j;
  j["baseline"] = a.baseline;
  j["conventions"] = {
      {"delta", "a - b for primary pairs; baseline - condition elsewhere (positive = condition better)"},
      {"d", "mean(delta) / std(delta, ddof=1), 0 when std(delta) == 0 (the study)"},
      {"primary", "scipy ttest_rel(a, b); statsmodels multipletests(p, alpha, method) reject and p_adjusted"},
      {"bootstrap", "percentile bootstrap of d; resample indices dkv::Rng(seed).below(n), n per resample"},
      {"quantiles", "pandas.qcut(variable, k) over the done samples with a finite baseline"},
      {"bins", "pandas.cut(variable, edges, right=right, include_lowest=False)"},
      {"intent", "first rule with a substring of the ASCII-lower-cased query, else the 'other' label"},
      {"hardness", "scipy.stats.pearsonr(baseline NLL, baseline - condition)"},
      {"oracle", "per sample min NLL over the top-K conditions by d over the routing samples"},
      {"gating", "condition where baseline NLL >= threshold, else baseline; percentiles numpy.percentile (linear)"},
      {"pmi", "NLL(condition) - NLL(reference); d of reference - condition"}};
  const auto& e = a.exclusions;
  j["exclusions"] = {{"done", e.done}, {"min_answer_tokens", e.min_answer_tokens},
                     {"any_condition_nan", e.any_condition_nan}, {"kept", e.kept}};
  json prim = json::array();
  for (const auto& r : a.primary.rows)
    prim.push_back({{"a", r.a}, {"b", r.b}, {"n", r.n}, {"delta_mean", num(r.delta_mean)}, {"d", num(r.d)},
                    {"win_rate", num(r.win_rate)}, {"t", num(r.t)}, {"p", num(r.p)},
                    {"ci_low", num(r.ci_low)}, {"ci_high", num(r.ci_high)}, {"p_adjusted", num(r.p_adjusted)},
                    {"reject", r.reject}, {"d_boot_low", num(r.d_boot_low)}, {"d_boot_high", num(r.d_boot_high)},
                    {"notes", r.notes}});
  j["primary"] = {{"correction", a.primary.correction}, {"alpha", a.primary.alpha},
                  {"family", a.primary.family}, {"rows", prim}};
  json strata = json::array();
  for (const auto& s : a.strata) {
    json bins = json::array();
    for (const auto& b : s.bins) {
      json cells = json::object();
      for (const auto& c : b.cells) cells[c.condition] = stats_json(c.stats);
      bins.push_back({{"label", b.label}, {"edge_low", num(b.edge_low)}, {"edge_high", num(b.edge_high)},
                      {"n", b.n}, {"conditions", cells}});
    }
    strata.push_back({{"name", s.name}, {"variable", s.variable}, {"n", s.n}, {"n_outside", s.n_outside},
                      {"bins", bins}, {"notes", s.notes}});
  }
  j["strata"] = strata;
  json hard = json::array();
  for (const auto& h : a.hardness) hard.push_back({{"condition", h.condition}, {"n", h.n}, {"r", num(h.r)}, {"p", num(h.p)}});
  j["hardness_correlation"] = hard;
  if (a.routing.enabled) {
    json rank = json::array(), oracle = json::array(), rules = json::array();
    for (const auto& [id, d] : a.routing.ranking) rank.push_back({{"condition", id}, {"d", num(d)}});
    for (const auto& s : a.routing.oracle)
      oracle.push_back({{"k", s.k}, {"pool", s.pool}, {"nll_mean", num(s.nll_mean)}, {"stats", stats_json(s.stats)}});
    for (const auto& r : a.routing.rules) {
      json chosen = json::object();
      for (const auto& [id, n] : r.chosen) chosen[id] = n;
      rules.push_back({{"name", r.name}, {"stratum", r.stratum}, {"nll_mean", num(r.nll_mean)},
                       {"stats", stats_json(r.stats)}, {"chosen", chosen}, {"notes", r.notes}});
    }
    j["routing"] = {{"n", a.routing.n}, {"ranking", rank}, {"oracle", oracle}, {"rules", rules}};
  }
  json gating = json::array();
  for (const auto& g : a.gating) {
    json pts = json::array();
    for (const auto& p : g.points)
      pts.push_back({{"threshold", num(p.threshold)}, {"percentile", num(p.percentile)},
                     {"share_primed", num(p.share_primed)}, {"stats", stats_json(p.stats)}});
    gating.push_back({{"condition", g.condition}, {"n", g.n}, {"points", pts}});
  }
  j["gating"] = gating;
  json pmi = json::array();
  for (const auto& p : a.pmi)
    pmi.push_back({{"condition", p.condition}, {"n", p.n}, {"pmi_mean", num(p.pmi_mean)}, {"pmi_sd", num(p.pmi_sd)},
                   {"d", num(p.d)}});
  j["pmi"] = {{"reference", a.pmi_reference}, {"rows", pmi}};
  j["notes"] = a.notes;
  return j;
}

void write_analyses_md(const stats::AnalysesResult& a, std::ostream& out) {
  const auto& e = a.exclusions;
  out << "\n## Exclusions\n\nCompleted samples: " << e.done << "; excluded for too few answer tokens: "
      << e.min_answer_tokens << "; excluded for a non-finite NLL in any condition: " << e.any_condition_nan
      << "; kept: " << e.kept << ".\n";
  if (!a.primary.rows.empty()) {
    const auto& p = a.primary;
    out << "\n## Primary comparisons (" << p.correction << ", α = " << fmt(p.alpha, "%g") << ", m = " << p.family
        << ")\n\nDelta = A − B. d: mean/sd(ddof=1); CI: t-based interval of the mean delta; d CI: percentile "
           "bootstrap (when declared).\n\n"
        << "| A | B | n | Mean delta | CI | d | d CI | Win rate | t | p | p adjusted | Verdict |\n"
        << "|---|---|--:|--:|---|--:|---|--:|--:|--:|--:|---|\n";
    for (const auto& r : p.rows)
      out << "| " << r.a << " | " << r.b << " | " << r.n << " | " << fmt(r.delta_mean, "%+.4f") << " | ["
          << fmt(r.ci_low, "%+.4f") << ", " << fmt(r.ci_high, "%+.4f") << "] | " << fmt(r.d, "%+.3f") << " | ["
          << fmt(r.d_boot_low, "%+.3f") << ", " << fmt(r.d_boot_high, "%+.3f") << "] | " << pct(r.win_rate)
          << " | " << fmt(r.t, "%.3f") << " | " << fmt(r.p, "%.2e") << " | " << fmt(r.p_adjusted, "%.2e") << " | "
          << (r.reject ? "significant" : "not significant") << " |\n";
  }
  for (const auto& s : a.strata) {
    out << "\n## Stratum: " << s.name << " (" << s.variable << ")\n\nd of each condition by bin (n per bin; "
        << s.n << " samples assigned";
    if (s.n_outside) out << ", " << s.n_outside << " in no bin";
    out << ").\n\n| Condition |";
    for (const auto& b : s.bins) out << " " << b.label << " (n=" << b.n << ") |";
    out << "\n|---|";
    for (size_t i = 0; i < s.bins.size(); ++i) out << "--:|";
    out << "\n";
    for (size_t c = 0; c < a.conditions.size() && !s.bins.empty(); ++c) {
      out << "| " << a.conditions[c] << " |";
      for (const auto& b : s.bins)
        out << " " << fmt(b.cells[c].stats.d, "%+.3f") << " (" << pct(b.cells[c].stats.win_rate) << ") |";
      out << "\n";
    }
    for (const auto& n : s.notes) out << "\n- **Note:** " << n << "\n";
  }
  if (!a.hardness.empty()) {
    out << "\n## Hardness and benefit\n\nPearson r between the baseline NLL and baseline − condition.\n\n"
        << "| Condition | n | r | p |\n|---|--:|--:|--:|\n";
    for (const auto& h : a.hardness)
      out << "| " << h.condition << " | " << h.n << " | " << fmt(h.r, "%.3f") << " | " << fmt(h.p, "%.2e") << " |\n";
  }
  if (a.routing.enabled) {
    out << "\n## Oracle routing (best of the top K by d, " << a.routing.n << " samples)\n\n"
        << "| K | Pool | Mean NLL | Mean delta | d | Win rate |\n|--:|---|--:|--:|--:|--:|\n";
    for (const auto& s : a.routing.oracle)
      out << "| " << s.k << " | " << join(s.pool) << " | " << fmt(s.nll_mean) << " | "
          << fmt(s.stats.delta_mean, "%+.4f") << " | " << fmt(s.stats.d, "%+.3f") << " | " << pct(s.stats.win_rate)
          << " |\n";
    if (!a.routing.rules.empty()) {
      out << "\n| Routed by | Stratum | n | Mean NLL | Mean delta | d | Win rate | Chosen | Notes |\n"
          << "|---|---|--:|--:|--:|--:|--:|---|---|\n";
      for (const auto& r : a.routing.rules) {
        std::vector<std::string> chosen;
        for (const auto& [id, n] : r.chosen) chosen.push_back(id + " ×" + std::to_string(n));
        out << "| " << r.name << " | " << r.stratum << " | " << r.stats.n << " | " << fmt(r.nll_mean) << " | "
            << fmt(r.stats.delta_mean, "%+.4f") << " | " << fmt(r.stats.d, "%+.3f") << " | "
            << pct(r.stats.win_rate) << " | " << join(chosen) << " | " << join(r.notes, "; ") << " |\n";
      }
    }
  }
  for (const auto& g : a.gating) {
    out << "\n## Hardness gate: " << g.condition << " where baseline NLL ≥ threshold (" << g.n << " samples)\n\n"
        << "| Threshold | Percentile | Share primed | Mean delta | d | Win rate |\n|--:|--:|--:|--:|--:|--:|\n";
    for (const auto& p : g.points)
      out << "| " << fmt(p.threshold) << " | " << (std::isnan(p.percentile) ? "" : fmt(p.percentile, "%g")) << " | "
          << pct(p.share_primed) << " | " << fmt(p.stats.delta_mean, "%+.4f") << " | " << fmt(p.stats.d, "%+.3f")
          << " | " << pct(p.stats.win_rate) << " |\n";
  }
  if (!a.pmi_reference.empty()) {
    out << "\n## PMI against " << a.pmi_reference << "\n\nPMI = NLL(condition) − NLL(" << a.pmi_reference
        << "); d of " << a.pmi_reference << " − condition.\n\n| Condition | n | Mean PMI | SD | d |\n|---|--:|--:|--:|--:|\n";
    for (const auto& p : a.pmi)
      out << "| " << p.condition << " | " << p.n << " | " << fmt(p.pmi_mean, "%+.4f") << " | " << fmt(p.pmi_sd)
          << " | " << fmt(p.d, "%+.3f") << " |\n";
  }
}

}  // namespace dkv::report
