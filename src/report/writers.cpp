// summary.csv, report.json and report.md from a stats::Reduction; write_report ties them
// together with the figure.
#include "dkv/report/writers.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <functional>

#include "dkv/core/error.h"
#include "dkv/core/file_io.h"
#include "dkv/report/figure.h"
#include "report/number_format.h"

namespace dkv::report {
namespace {

using nlohmann::json;
using stats::Reduction;

// %.17g round-trips a double; NaN / inf spelled the way pandas reads them.
std::string full(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string fmt_p(double p) { return fmt(p, "%.2e"); }
std::string pct(double v) { return std::isnan(v) ? "NaN" : fmt(100 * v, "%.1f") + "%"; }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

json num(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

std::string join(const std::vector<std::string>& v, const char* sep = "; ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string notes_with_failed(int64_t n_failed, std::vector<std::string> notes) {
  if (n_failed) notes.insert(notes.begin(), std::to_string(n_failed) + " completed samples excluded (NaN)");
  return join(notes);
}

json pair_json(const stats::PairComparison& c) {
  return {{"a", c.a}, {"b", c.b}, {"available", c.available}, {"n", c.n}, {"n_failed", c.n_failed},
          {"mean_a", num(c.mean_a)}, {"mean_b", num(c.mean_b)}, {"std_a", num(c.std_a)},
          {"std_b", num(c.std_b)}, {"diff", num(c.diff)}, {"t", num(c.t)}, {"p", num(c.p)},
          {"notes", c.notes}};
}

json corr_json(const stats::Correlation& c) {
  return {{"condition", c.condition}, {"available", c.available}, {"n", c.n}, {"n_failed", c.n_failed},
          {"r", num(c.r)}, {"p", num(c.p)}, {"slope", num(c.slope)}, {"intercept", num(c.intercept)},
          {"notes", c.notes}};
}

std::string label(const Reduction& r, const std::string& id) {
  const auto* m = r.find_marginal(id);
  return m ? id + " " + m->name : id;
}

void pair_table(const Reduction& r, const std::vector<stats::PairComparison>& pairs, std::ostream& out,
                const char* diff_name) {
  out << "| A | B | n | Mean NLL A (± std) | Mean NLL B (± std) | " << diff_name << " | t | p | Notes |\n"
      << "|---|---|--:|--:|--:|--:|--:|--:|---|\n";
  for (const auto& c : pairs) {
    if (!c.available) {
      out << "| " << c.a << " | " << c.b << " | | | | | | | not available: " << join(c.notes) << " |\n";
      continue;
    }
    out << "| " << label(r, c.a) << " | " << label(r, c.b) << " | " << c.n << " | " << fmt(c.mean_a)
        << " ± " << fmt(c.std_a) << " | " << fmt(c.mean_b) << " ± " << fmt(c.std_b) << " | "
        << fmt(c.diff, "%+.4f") << " | " << fmt(c.t, "%.3f") << " | " << fmt_p(c.p) << " | "
        << notes_with_failed(c.n_failed, c.notes) << " |\n";
  }
}

// Built in memory, then replaced atomically: a full disk leaves the previous file (or none),
// never a partial one, and the error carries the OS reason.
void write_file(const std::string& path, const std::function<void(std::ostream&)>& body) {
  std::ostringstream out;
  body(out);
  write_file_atomic(path, out.str());
}

}  // namespace

void write_summary_csv(const Reduction& r, std::ostream& out) {
  out << "condition_id,condition_name,n_used,n_failed,nll_mean,nll_std,delta_mean,win_rate,t,p,"
         "cohens_d,df,ci95_low,ci95_high,p_holm,p_bh,wilcoxon_p,notes\n";
  for (const auto& c : r.conditions) {
    out << csv_field(c.id) << ',' << csv_field(c.name) << ',' << c.n_used << ',' << c.n_failed << ','
        << full(c.nll_mean) << ',' << full(c.nll_std) << ',' << full(c.delta_mean) << ','
        << full(c.win_rate) << ',' << full(c.t) << ',' << full(c.p) << ',' << full(c.cohens_d) << ','
        << full(c.df) << ',' << full(c.ci_low) << ',' << full(c.ci_high) << ',' << full(c.p_holm)
        << ',' << full(c.p_bh) << ',' << full(c.wilcoxon_p) << ',' << csv_field(join(c.notes)) << '\n';
  }
}

json to_json(const Reduction& r) {
  json j;
  j["baseline"] = r.baseline;
  j["num_samples"] = r.num_samples;
  j["num_done"] = r.num_done;
  j["notes"] = r.notes;
  j["conventions"] = {
      {"delta", "baseline - condition (positive = condition better)"},
      {"nll_std", "numpy.std, ddof=0 (the study's 'Std NLL')"},
      {"t", "scipy.stats.ttest_rel(baseline, condition), two-sided"},
      {"cohens_d", "mean(delta) / std(delta, ddof=1); 0 when std(delta) == 0 (the study)"},
      {"ci95", "t-based interval of mean(delta), as scipy TtestResult.confidence_interval"},
      {"p_holm", "statsmodels multipletests 'holm' across non-baseline conditions with finite p"},
      {"p_bh", "statsmodels multipletests 'fdr_bh' across the same family"},
      {"wilcoxon_p", "scipy.stats.wilcoxon(delta, zero_method='wilcox', correction=False, method='approx')"},
      {"pearson", "scipy.stats.pearsonr(similarity, delta), two-sided"},
      {"quartiles", "pandas.qcut(baseline NLL, q) bins"},
      {"nan", "null = undefined (see notes); 'inf' / '-inf' = infinite"}};
  json conds = json::array();
  for (const auto& c : r.conditions)
    conds.push_back({{"id", c.id}, {"name", c.name}, {"n_used", c.n_used}, {"n_failed", c.n_failed}, {"n_non_finite", c.n_non_finite},
                     {"nll_mean", num(c.nll_mean)}, {"nll_std", num(c.nll_std)},
                     {"delta_mean", num(c.delta_mean)}, {"win_rate", num(c.win_rate)}, {"t", num(c.t)},
                     {"p", num(c.p)}, {"df", num(c.df)}, {"cohens_d", num(c.cohens_d)},
                     {"ci95_low", num(c.ci_low)}, {"ci95_high", num(c.ci_high)},
                     {"p_holm", num(c.p_holm)}, {"p_bh", num(c.p_bh)}, {"wilcoxon_p", num(c.wilcoxon_p)},
                     {"wilcoxon_statistic", num(c.wilcoxon_statistic)}, {"notes", c.notes}});
  j["conditions"] = conds;
  json marg = json::array();
  for (const auto& m : r.marginals)
    marg.push_back({{"id", m.id}, {"name", m.name}, {"n", m.n}, {"nll_mean", num(m.nll_mean)},
                    {"nll_sem", num(m.nll_sem)}});
  j["marginals"] = marg;
  for (auto [key, list] : {std::pair{"critical", &r.critical}, std::pair{"ordering", &r.ordering},
                           std::pair{"full_vs_truncated", &r.full_vs_truncated}}) {
    json a = json::array();
    for (const auto& c : *list) a.push_back(pair_json(c));
    j[key] = a;
  }
  json sq = json::array();
  for (const auto& id : r.surrogate_quality) {
    const auto* c = r.find(id);
    if (!c) {
      sq.push_back({{"id", id}, {"available", false}});
      continue;
    }
    sq.push_back({{"id", id}, {"available", true}, {"n", c->n_used}, {"nll_mean", num(c->nll_mean)},
                  {"delta_mean", num(c->delta_mean)}, {"win_rate", num(c->win_rate)}});
  }
  j["surrogate_quality"] = sq;
  json corr = json::array();
  for (const auto& c : r.correlations) corr.push_back(corr_json(c));
  j["similarity_correlation"] = corr;
  json q = {{"condition", r.quartiles.condition}, {"available", r.quartiles.available},
            {"n", r.quartiles.n}, {"n_failed", r.quartiles.n_failed}, {"notes", r.quartiles.notes}};
  json rows = json::array();
  for (const auto& row : r.quartiles.rows)
    rows.push_back({{"label", row.label}, {"edge_low", num(row.edge_low)}, {"edge_high", num(row.edge_high)},
                    {"n", row.n}, {"win_rate", num(row.win_rate)}, {"delta_mean", num(row.delta_mean)}});
  q["rows"] = rows;
  j["quartiles"] = q;
  j["figure"] = {{"condition", r.figure_condition}, {"critical", r.figure_critical},
                 {"n_delta", r.figure_delta.size()}, {"n_scatter", r.figure_scatter_delta.size()},
                 {"correlation", corr_json(r.figure_correlation)}};
  return j;
}

void write_report_md(const Reduction& r, std::ostream& out, const stats::AnalysesResult* a) {
  out << "# Directed KV cache: report\n\n";
  out << "Samples: " << r.num_done << " completed of " << r.num_samples << ". Baseline: "
      << label(r, r.baseline) << ".\n\n";
  for (const auto& n : r.notes) out << "- **Note:** " << n << "\n";
  if (!r.notes.empty()) out << "\n";

  int64_t family = 0;
  for (const auto& c : r.conditions) family += !std::isnan(c.p_holm);
  out << "## All conditions vs baseline (" << r.baseline << ")\n\n"
      << "Sorted by mean NLL (lower = better). Delta = baseline − condition: positive = condition "
         "better. t, p: paired t-test (scipy `ttest_rel`); 95% CI of the mean delta; p (Holm) and "
         "p (BH): adjusted across the "
      << family
      << " non-baseline conditions; Wilcoxon: signed-rank, normal approximation, zeros dropped "
         "(scipy `wilcoxon(method='approx')`). Std NLL: ddof=0; Cohen's d: mean/sd(ddof=1).\n\n"
      << "| Condition | n | Mean NLL | Std NLL | Mean Delta | 95% CI | Win Rate | t | p | p (Holm) | "
         "p (BH) | Cohen's d | Wilcoxon p | Notes |\n"
      << "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|---|\n";
  for (const auto& c : r.conditions)
    out << "| " << c.id << " " << c.name << " | " << c.n_used << " | " << fmt(c.nll_mean) << " | "
        << fmt(c.nll_std) << " | " << fmt(c.delta_mean, "%+.4f") << " | [" << fmt(c.ci_low, "%+.4f")
        << ", " << fmt(c.ci_high, "%+.4f") << "] | " << pct(c.win_rate) << " | " << fmt(c.t, "%.3f")
        << " | " << fmt_p(c.p) << " | " << fmt_p(c.p_holm) << " | " << fmt_p(c.p_bh) << " | "
        << fmt(c.cohens_d, "%.3f") << " | " << fmt_p(c.wilcoxon_p) << " | " << join(c.notes) << " |\n";

  out << "\n## Critical test: does RoPE correction fix truncation?\n\n";
  pair_table(r, r.critical, out, "Improvement (A − B)");

  out << "\n## Surrogate quality (vs baseline)\n\n"
      << "| Condition | n | Mean NLL | Delta vs baseline | Win rate |\n|---|--:|--:|--:|--:|\n";
  for (const auto& id : r.surrogate_quality) {
    const auto* c = r.find(id);
    if (!c) {
      out << "| " << id << " | | | | not in the results |\n";
      continue;
    }
    out << "| " << c->id << " " << c->name << " | " << c->n_used << " | " << fmt(c->nll_mean) << " | "
        << fmt(c->delta_mean, "%+.4f") << " | " << pct(c->win_rate) << " |\n";
  }

  out << "\n## Full context vs truncated\n\n"
      << "Gap = mean NLL(full) − mean NLL(truncated, corrected), over samples where both exist.\n\n"
      << "| Full | Truncated | n | Full NLL | Truncated NLL | Gap |\n|---|---|--:|--:|--:|--:|\n";
  for (const auto& c : r.full_vs_truncated) {
    if (!c.available) {
      out << "| " << c.a << " | " << c.b << " | | | | not available: " << join(c.notes) << " |\n";
      continue;
    }
    out << "| " << label(r, c.a) << " | " << label(r, c.b) << " | " << c.n << " | " << fmt(c.mean_a)
        << " | " << fmt(c.mean_b) << " | " << fmt(c.diff, "%+.4f") << " |\n";
  }

  out << "\n## Ordering effects (prefix vs suffix)\n\n";
  pair_table(r, r.ordering, out, "Difference (A − B)");

  out << "\n## Surrogate similarity correlation\n\n"
      << "Pearson r between similarity and the delta vs baseline (scipy `pearsonr`, two-sided).\n\n"
      << "| Condition | n | r | p | Notes |\n|---|--:|--:|--:|---|\n";
  for (const auto& c : r.correlations)
    out << "| " << label(r, c.condition) << " | " << c.n << " | " << fmt(c.r, "%.3f") << " | "
        << fmt(c.p, "%.4f") << " | " << notes_with_failed(c.n_failed, c.notes) << " |\n";

  const auto& q = r.quartiles;
  out << "\n## Win rate by baseline quality (" << q.condition << " vs " << r.baseline << ")\n\n";
  if (!q.available) {
    out << "Not available: " << join(q.notes) << "\n";
  } else {
    out << "Bins: pandas `qcut` of the baseline NLL over " << q.n << " samples (intervals (low, high], "
        << "the first closed).\n\n| Bin | Baseline NLL range | n | Win rate | Mean delta |\n"
        << "|---|---|--:|--:|--:|\n";
    for (const auto& row : q.rows)
      out << "| " << row.label << " | " << fmt(row.edge_low) << " – " << fmt(row.edge_high) << " | "
          << row.n << " | " << pct(row.win_rate) << " | " << fmt(row.delta_mean, "%+.4f") << " |\n";
  }
  if (a && !a->empty) write_analyses_md(*a, out);
  out << "\n## Figure\n\n![Directed KV cache results](figure.png)\n";
}

ReportFiles write_tables(const Reduction& r, const std::string& out_dir, const stats::AnalysesResult* a) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw IoError("create_directories: " + out_dir + ": " + ec.message());
  const std::filesystem::path dir(out_dir);
  ReportFiles f{(dir / "summary.csv").string(), (dir / "report.json").string(),
                (dir / "report.md").string(), (dir / "figure.png").string(), (dir / "figure.svg").string(),
                (dir / "report.html").string()};
  write_file(f.summary_csv, [&](std::ostream& o) { write_summary_csv(r, o); });
  write_file(f.report_json, [&](std::ostream& o) {
    auto j = to_json(r);
    if (a && !a->empty) j["analyses"] = analyses_json(*a);
    o << j.dump(1) << "\n";
  });
  write_file(f.report_md, [&](std::ostream& o) { write_report_md(r, o, a); });
  return f;
}

void write_figures(const Reduction& r, const ReportFiles& files) {
  write_figure_png(r, files.figure_png);
  write_figure_svg(r, files.figure_svg);
}

ReportFiles write_report(const Reduction& r, const std::string& out_dir, const stats::AnalysesResult* a,
                         const RunInfo* info) {
  const auto files = write_tables(r, out_dir, a);
  write_figures(r, files);
  write_html(r, a, info, files);
  return files;
}

}  // namespace dkv::report
