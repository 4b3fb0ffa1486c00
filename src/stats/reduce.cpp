// The reducer: pairs conditions within committed samples and fills a Reduction (see reduce.h).
#include "dkv/stats/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "dkv/core/error.h"
#include "dkv/stats/paired.h"

namespace dkv::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Rows (done) where every listed column and, if needed, the similarity is finite.
struct Paired {
  std::vector<std::vector<double>> cols;
  std::vector<double> sim;
  int64_t n_failed = 0;
};

Paired paired_rows(const ResultMatrix& m, const std::vector<int>& cols, bool with_similarity) {
  Paired out;
  out.cols.resize(cols.size());
  for (int64_t s = 0; s < m.num_samples; ++s) {
    if (!m.done[s]) continue;
    bool ok = !with_similarity || std::isfinite(m.similarity[s]);
    for (int c : cols) ok = ok && std::isfinite(m.at(s, c));
    if (!ok) {
      ++out.n_failed;
      continue;
    }
    for (size_t k = 0; k < cols.size(); ++k) out.cols[k].push_back(m.at(s, cols[k]));
    if (with_similarity) out.sim.push_back(m.similarity[s]);
  }
  return out;
}

std::vector<double> diff(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

double win_rate(const std::vector<double>& d) {
  if (d.empty()) return kNaN;
  int64_t wins = 0;
  for (double v : d) wins += v > 0;
  return static_cast<double>(wins) / static_cast<double>(d.size());
}

std::string missing_note(const ResultMatrix& m, const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (m.find(id) < 0) return "condition " + id + " is not in the results";
  return {};
}

PairComparison compare(const ResultMatrix& m, const ConditionPair& pair) {
  PairComparison c;
  c.a = pair.a, c.b = pair.b;
  if (auto note = missing_note(m, {pair.a, pair.b}); !note.empty()) {
    c.notes.push_back(note);
    return c;
  }
  c.available = true;
  auto rows = paired_rows(m, {m.find(pair.a), m.find(pair.b)}, false);
  c.n = static_cast<int64_t>(rows.cols[0].size());
  c.n_failed = rows.n_failed;
  c.mean_a = mean(rows.cols[0]), c.mean_b = mean(rows.cols[1]);
  c.std_a = std_dev(rows.cols[0], 0), c.std_b = std_dev(rows.cols[1], 0);
  c.diff = c.mean_a - c.mean_b;
  auto t = paired_t(rows.cols[0], rows.cols[1]);
  c.t = t.t, c.p = t.p;
  if (!t.nan_reason.empty()) c.notes.push_back(t.nan_reason);
  return c;
}

Correlation correlate(const ResultMatrix& m, int base, const std::string& id) {
  Correlation c;
  c.condition = id;
  if (auto note = missing_note(m, {id}); !note.empty()) {
    c.notes.push_back(note);
    return c;
  }
  if (m.similarity.empty()) {
    c.notes.push_back("the results have no similarity column");
    return c;
  }
  c.available = true;
  auto rows = paired_rows(m, {base, m.find(id)}, true);
  c.n = static_cast<int64_t>(rows.sim.size());
  c.n_failed = rows.n_failed;
  auto r = pearson(rows.sim, diff(rows.cols[0], rows.cols[1]));
  c.r = r.r, c.p = r.p, c.slope = r.slope, c.intercept = r.intercept;
  if (!r.nan_reason.empty()) c.notes.push_back(r.nan_reason);
  return c;
}

QuartileAnalysis quartiles(const ResultMatrix& m, int base, const ReportSpec& spec) {
  QuartileAnalysis q;
  q.condition = spec.quartile_condition;
  if (auto note = missing_note(m, {q.condition}); !note.empty()) {
    q.notes.push_back(note);
    return q;
  }
  // Bins are cut on the baseline of the rows where both are finite (the study's df had no
  // failures, so this is its sample set).
  auto rows = paired_rows(m, {base, m.find(q.condition)}, false);
  q.n = static_cast<int64_t>(rows.cols[0].size());
  q.n_failed = rows.n_failed;
  const int nbins = static_cast<int>(spec.quartile_labels.size());
  auto cut = qcut(rows.cols[0], nbins);
  if (!cut.error.empty()) {
    q.notes.push_back(cut.error);
    return q;
  }
  q.available = true;
  for (int b = 0; b < nbins; ++b) {
    QuartileRow row;
    row.label = spec.quartile_labels[b];
    row.edge_low = cut.edges[b], row.edge_high = cut.edges[b + 1];
    std::vector<double> d;
    for (size_t i = 0; i < cut.bin.size(); ++i)
      if (cut.bin[i] == b) d.push_back(rows.cols[0][i] - rows.cols[1][i]);
    row.n = static_cast<int64_t>(d.size());
    row.win_rate = win_rate(d);
    row.delta_mean = mean(d);
    q.rows.push_back(row);
  }
  return q;
}

}  // namespace

int ResultMatrix::find(const std::string& id) const {
  for (size_t i = 0; i < condition_ids.size(); ++i)
    if (condition_ids[i] == id) return static_cast<int>(i);
  return -1;
}

int64_t ResultMatrix::num_done() const {
  return std::count(done.begin(), done.end(), true);
}

void validate(const ResultMatrix& m) {
  const size_t C = m.condition_ids.size();
  const auto N = static_cast<size_t>(std::max<int64_t>(m.num_samples, 0));
  auto fail = [](const std::string& what) { throw InputError("result matrix: " + what); };
  if (m.num_samples < 0) fail("num_samples is negative");
  if (C == 0) fail("no conditions");
  if (m.condition_names.size() != C)
    fail("condition_names has " + std::to_string(m.condition_names.size()) + " entries, expected " +
         std::to_string(C) + " (one per condition id)");
  if (m.nll.size() != N * C)
    fail("nll has " + std::to_string(m.nll.size()) + " values, expected [N=" + std::to_string(N) +
         ", C=" + std::to_string(C) + "] = " + std::to_string(N * C));
  if (!m.similarity.empty() && m.similarity.size() != N)
    fail("similarity has " + std::to_string(m.similarity.size()) + " values, expected N=" +
         std::to_string(N) + " (or none)");
  if (m.done.size() != N)
    fail("done has " + std::to_string(m.done.size()) + " flags, expected N=" + std::to_string(N));
  std::unordered_set<std::string> seen;
  for (const auto& id : m.condition_ids)
    if (!seen.insert(id).second) fail("condition id " + id + " appears twice");
}

const ConditionSummary* Reduction::find(const std::string& id) const {
  for (const auto& c : conditions)
    if (c.id == id) return &c;
  return nullptr;
}

const ConditionMarginal* Reduction::find_marginal(const std::string& id) const {
  for (const auto& c : marginals)
    if (c.id == id) return &c;
  return nullptr;
}

void validate(const ReportSpec& spec) {
  auto fail = [](const std::string& key, const std::string& what) {
    throw ConfigError("report." + key + ": " + what);
  };
  if (spec.baseline.empty()) fail("baseline", "expected a condition id, got an empty string");
  if (!(spec.confidence > 0 && spec.confidence < 1))
    fail("confidence", "expected a level in (0, 1), got " + std::to_string(spec.confidence));
  if (spec.quartile_labels.empty()) fail("quartile_labels", "expected one label per bin, got none");
  if (spec.histogram_bins < 1)
    fail("histogram_bins", "expected at least 1, got " + std::to_string(spec.histogram_bins));
}

Reduction reduce(const ResultMatrix& m, const ReportSpec& spec) {
  validate(spec);
  validate(m);
  const int base = m.find(spec.baseline);
  if (base < 0)
    throw InputError("report: baseline condition " + spec.baseline +
                     " is not in the results (conditions: " + [&] {
                       std::string s;
                       for (const auto& id : m.condition_ids) s += (s.empty() ? "" : ", ") + id;
                       return s;
                     }() + "); set report.baseline");
  Reduction r;
  r.baseline = spec.baseline;
  r.num_samples = m.num_samples;
  r.num_done = m.num_done();
  if (r.num_done < r.num_samples)
    r.notes.push_back("partial results: " + std::to_string(r.num_done) + " of " +
                      std::to_string(r.num_samples) + " samples completed; reporting on those");
  if (!m.without_bos.empty()) {
    int64_t without = 0;
    for (auto n : m.without_bos) without += n;
    const int64_t rows = r.num_done * static_cast<int64_t>(m.condition_ids.size());
    if (rows > 0 && without == rows)
      r.notes.push_back("no cache of this run starts with a BOS entry: the tokenizer adds none, so keep_bos "
                        "changes nothing (configs/README.md)");
    else if (without > 0) {
      // Per condition, so that a BOS-only reference among caches of a tokenizer that adds no
      // BOS is not mistaken for cuts with keep_bos: false.
      std::string list;
      for (size_t c = 0; c < m.without_bos.size() && c < m.condition_ids.size(); ++c)
        if (m.without_bos[c] > 0) list += (list.empty() ? "" : ", ") + m.condition_ids[c] + " " + std::to_string(m.without_bos[c]);
      r.notes.push_back(std::to_string(without) + " of " + std::to_string(rows) +
                        " rows' caches start without a BOS entry (the tokenizer adds none, or a cut used keep_bos: "
                        "false), by condition: " + list);
    }
  }

  // Cut rows per condition whose token boundary moved (joint tokenization; NLLs kept, flagged),
  // and mixes that could not be made (NaN): counted in either tokenization mode.
  auto per_condition = [&](const std::vector<int64_t>& counts, const std::string& what) {
    std::string list;
    int64_t total = 0;
    for (size_t c = 0; c < counts.size() && c < m.condition_ids.size(); ++c)
      if (counts[c] > 0) {
        list += (list.empty() ? "" : ", ") + m.condition_ids[c] + " " + std::to_string(counts[c]);
        total += counts[c];
      }
    if (total > 0) r.notes.push_back(what + " (texts.tokenization: " + m.tokenization + "): " + list);
    return total;
  };
  if (per_condition(m.boundary_moved, "rows whose cut followed a moved token boundary, flagged, by condition") == 0 &&
      !m.boundary_moved.empty() && m.tokenization == "matched")
    r.notes.push_back("every cut of this run is exact: no token boundary moved (texts.tokenization: " +
                      m.tokenization + ")");
  per_condition(m.layout_mismatch, "mix rows not scored (their caches differ in length; NaN), by condition");
  if (m.scoring_excluded > 0)
    r.notes.push_back(std::to_string(m.scoring_excluded) +
                      " sample(s) excluded before scoring by scoring.min_answer_tokens (NaN; reason in samples/exclusion)");

  const size_t C = m.condition_ids.size();
  // Per-condition marginals (figure).
  for (size_t c = 0; c < C; ++c) {
    std::vector<double> v;
    for (int64_t s = 0; s < m.num_samples; ++s)
      if (m.done[s] && std::isfinite(m.at(s, c))) v.push_back(m.at(s, c));
    ConditionMarginal mg;
    mg.id = m.condition_ids[c], mg.name = m.condition_names[c];
    mg.n = static_cast<int64_t>(v.size());
    mg.nll_mean = mean(v);
    mg.nll_sem = std_dev(v, 1) / std::sqrt(static_cast<double>(v.size()));
    r.marginals.push_back(mg);
  }

  // Summary table: every condition (the baseline too, as in the study) against the baseline.
  std::vector<double> p_family;
  for (size_t c = 0; c < C; ++c) {
    ConditionSummary s;
    s.id = m.condition_ids[c], s.name = m.condition_names[c];
    auto rows = paired_rows(m, {base, static_cast<int>(c)}, false);
    const auto& b = rows.cols[0];
    const auto& v = rows.cols[1];
    const auto d = diff(b, v);
    s.n_used = static_cast<int64_t>(v.size());
    s.n_failed = rows.n_failed;
    s.nll_mean = mean(v);
    s.nll_std = std_dev(v, 0);
    s.delta_mean = mean(d);
    s.win_rate = win_rate(d);
    auto t = paired_t(b, v, spec.confidence);
    s.t = t.t, s.p = t.p, s.df = t.df, s.ci_low = t.ci_low, s.ci_high = t.ci_high;
    if (!t.nan_reason.empty()) s.notes.push_back("t-test: " + t.nan_reason);
    s.cohens_d = cohens_d_study(d);
    auto w = wilcoxon_signed_rank(d);
    s.wilcoxon_p = w.p, s.wilcoxon_statistic = w.statistic;
    if (!w.nan_reason.empty()) s.notes.push_back("wilcoxon: " + w.nan_reason);
    if (s.n_failed > 0)
      s.notes.push_back(std::to_string(s.n_failed) + " completed samples excluded (NaN NLL)");
    if (!m.non_finite.empty()) s.n_non_finite = m.non_finite[c];
    if (s.n_non_finite > 0)
      s.notes.push_back(std::to_string(s.n_non_finite) +
                        " samples computed a non-finite NLL (NaN/inf without an error; flagged non-finite)");
    // The baseline against itself is not a test: keep it out of the correction family.
    p_family.push_back(static_cast<int>(c) == base ? kNaN : s.p);
    r.conditions.push_back(std::move(s));
  }
  const auto holm = holm_adjust(p_family);
  const auto bh = bh_adjust(p_family);
  for (size_t c = 0; c < C; ++c) r.conditions[c].p_holm = holm[c], r.conditions[c].p_bh = bh[c];
  // Sorted by mean NLL like the study's table; NaN means (no rows) go last.
  std::stable_sort(r.conditions.begin(), r.conditions.end(), [](const auto& x, const auto& y) {
    if (std::isnan(x.nll_mean)) return false;
    if (std::isnan(y.nll_mean)) return true;
    return x.nll_mean < y.nll_mean;
  });

  for (const auto& pair : spec.critical) r.critical.push_back(compare(m, pair));
  for (const auto& pair : spec.ordering) r.ordering.push_back(compare(m, pair));
  for (const auto& pair : spec.full_vs_truncated) r.full_vs_truncated.push_back(compare(m, pair));
  r.surrogate_quality = spec.surrogate_quality;
  for (const auto& id : spec.surrogate_quality)
    if (m.find(id) < 0) r.notes.push_back("surrogate quality: condition " + id + " is not in the results");
  for (const auto& id : spec.similarity_correlation) r.correlations.push_back(correlate(m, base, id));
  r.quartiles = quartiles(m, base, spec);

  r.figure_condition = spec.figure_condition;
  r.figure_critical = spec.figure_critical;
  r.histogram_bins = spec.histogram_bins;
  if (int fc = m.find(spec.figure_condition); fc >= 0) {
    for (int64_t s = 0; s < m.num_samples; ++s) {
      if (!m.done[s] || !std::isfinite(m.at(s, base)) || !std::isfinite(m.at(s, fc))) continue;
      const double d = m.at(s, base) - m.at(s, fc);
      r.figure_delta.push_back(d);
      if (!m.similarity.empty() && std::isfinite(m.similarity[s])) {
        r.figure_delta_similarity.push_back(m.similarity[s]);
        r.figure_scatter_delta.push_back(d);
      }
    }
    r.figure_correlation = correlate(m, base, spec.figure_condition);
  } else {
    r.notes.push_back("figure: condition " + spec.figure_condition + " is not in the results");
  }
  return r;
}

}  // namespace dkv::stats
