// The declared analyses (analyses.h): exclusions, primary comparisons, strata, routing,
// gating, PMI. Sample sets: the done rows of the (excluded) matrix where the baseline is
// finite ("analysis rows"); each number then drops the rows where its own inputs are not
// finite, as the reducer does.
#include "dkv/stats/analyses.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <tuple>

#include "dkv/core/error.h"
#include "dkv/core/rng.h"
#include "dkv/stats/paired.h"

namespace dkv::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int column(const ResultMatrix& m, const std::string& id, const std::string& what) {
  const int c = m.find(id);
  if (c < 0) throw InputError("report." + what + ": condition " + id + " is not in the results");
  return c;
}

std::string edge_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

StratumResult stratum(const ResultMatrix& m, const std::vector<int64_t>& rows, int base, const StratumSpec& spec,
                      const std::vector<int>& conds, const std::string& baseline) {
  StratumResult out;
  out.name = spec.name, out.variable = spec.variable;
  std::vector<std::string> labels;
  std::vector<double> lo, hi;
  if (spec.variable == "intent") {
    if (m.query.size() != static_cast<size_t>(m.num_samples))
      throw InputError("report.strata: " + spec.name + ": the results hold no query texts");
    const auto& rules = spec.rules.empty() ? default_intent_rules() : spec.rules;
    std::vector<std::string> q;
    for (auto s : rows) q.push_back(m.query[s]);
    out.bin_of = intent_classes(q, rules);
    for (const auto& r : rules) labels.push_back(r.label);
    labels.push_back(spec.other);
    lo.assign(labels.size(), kNaN), hi.assign(labels.size(), kNaN);
  } else {
    const auto all = m.variable(spec.variable, baseline);
    std::vector<double> x;
    for (auto s : rows) x.push_back(all[s]);
    std::vector<double> edges = spec.bins;
    if (spec.quantiles > 0) {
      // pandas.qcut(x, k): edges from numpy.quantile of the non-NaN values; bin 0 closed below.
      auto qc = qcut(x, spec.quantiles);
      if (!qc.error.empty()) {
        out.notes.push_back(qc.error);
        return out;
      }
      out.bin_of = qc.bin;
      edges = qc.edges;
      for (int b = 0; b < spec.quantiles; ++b) labels.push_back("Q" + std::to_string(b + 1));
    } else {
      out.bin_of = cut_bins(x, edges, spec.right);
      for (size_t b = 0; b + 1 < edges.size(); ++b)
        labels.push_back(spec.right ? "(" + edge_text(edges[b]) + ", " + edge_text(edges[b + 1]) + "]"
                                    : "[" + edge_text(edges[b]) + ", " + edge_text(edges[b + 1]) + ")");
    }
    for (size_t b = 0; b + 1 < edges.size(); ++b) lo.push_back(edges[b]), hi.push_back(edges[b + 1]);
  }
  if (!spec.labels.empty()) labels = spec.labels;  // count checked at parse time
  const size_t nb = labels.size();
  out.bins.resize(nb);
  std::vector<std::vector<std::vector<double>>> deltas(nb, std::vector<std::vector<double>>(conds.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    const int b = out.bin_of[i];
    if (b < 0) {
      ++out.n_outside;
      continue;
    }
    ++out.n;
    ++out.bins[b].n;
    const double vb = m.at(rows[i], base);
    for (size_t k = 0; k < conds.size(); ++k) {
      const double vc = m.at(rows[i], conds[k]);
      if (std::isfinite(vc)) deltas[b][k].push_back(vb - vc);
    }
  }
  for (size_t b = 0; b < nb; ++b) {
    out.bins[b].label = labels[b];
    out.bins[b].edge_low = lo[b], out.bins[b].edge_high = hi[b];
    for (size_t k = 0; k < conds.size(); ++k)
      out.bins[b].cells.push_back({m.condition_ids[conds[k]], delta_stats(deltas[b][k])});
  }
  if (out.n_outside > 0)
    out.notes.push_back(std::to_string(out.n_outside) + " samples in no bin (NaN or outside the edges)");
  return out;
}

}  // namespace

DeltaStats delta_stats(const std::vector<double>& delta) {
  DeltaStats s;
  s.n = static_cast<int64_t>(delta.size());
  if (delta.empty()) return s;
  s.delta_mean = mean(delta);
  s.d = cohens_d_study(delta);
  int64_t wins = 0;
  for (double v : delta) wins += v > 0;
  s.win_rate = static_cast<double>(wins) / static_cast<double>(delta.size());
  return s;
}

std::pair<double, double> bootstrap_d(const std::vector<double>& delta, int resamples, uint64_t seed,
                                      double confidence) {
  if (delta.size() < 2 || resamples < 1) return {kNaN, kNaN};
  Rng rng(seed);
  const auto n = delta.size();
  std::vector<double> ds;
  ds.reserve(resamples);
  for (int b = 0; b < resamples; ++b) {
    // Welford's one-pass mean and sum of squared deviations (Knuth, TAOCP vol. 2, 4.2.2): the
    // study d without storing the resample, within ~1e-15 of the two-pass numpy value, and
    // exactly 0 for a constant resample as np.std's "> 0" test gives.
    double mean = 0, m2 = 0;
    for (size_t i = 0; i < n; ++i) {
      const double x = delta[rng.below(n)];
      const double dx = x - mean;
      mean += dx / static_cast<double>(i + 1);
      m2 += dx * (x - mean);
    }
    const double d = m2 > 0 ? mean / std::sqrt(m2 / static_cast<double>(n - 1)) : 0.0;
    if (std::isfinite(d)) ds.push_back(d);
  }
  if (ds.empty()) return {kNaN, kNaN};
  const double tail = (1 - confidence) / 2;
  return {numpy_quantile(ds, tail), numpy_quantile(ds, 1 - tail)};
}

void multipletests(const std::vector<double>& p, double alpha, const std::string& method,
                   std::vector<bool>& reject, std::vector<double>& adjusted) {
  // statsmodels.stats.multitest.multipletests: bonferroni rejects p <= alpha / m; holm (Holm
  // 1979) steps down the sorted p, rejecting while p_(i) <= alpha / (m - i), i from 0.
  std::vector<size_t> idx;
  for (size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) idx.push_back(i);
  const double m = static_cast<double>(idx.size());
  reject.assign(p.size(), false);
  adjusted.assign(p.size(), kNaN);
  if (method == "bonferroni") {
    for (auto i : idx) {
      reject[i] = p[i] <= alpha / m;
      adjusted[i] = std::min(1.0, p[i] * m);
    }
    return;
  }
  if (method != "holm") throw InternalError("multipletests: unknown method " + method + " (this is a bug)");
  adjusted = holm_adjust(p);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  for (size_t r = 0; r < idx.size(); ++r) {
    if (!(p[idx[r]] <= alpha / (m - static_cast<double>(r)))) break;
    reject[idx[r]] = true;
  }
}

ResultMatrix apply_exclusions(const ResultMatrix& m, const ExclusionSpec& spec, const std::string& baseline,
                              Exclusions& counts) {
  counts = {};
  counts.done = m.num_done();
  const size_t C = m.condition_ids.size();
  const bool by_tokens = spec.min_answer_tokens > 0;
  if (by_tokens && m.answer_tokens.size() != static_cast<size_t>(m.num_samples))
    throw InputError("report.exclusions.min_answer_tokens: the results hold no answer token counts");
  (void)baseline;
  std::vector<int64_t> keep;
  for (int64_t s = 0; s < m.num_samples; ++s) {
    if (m.done[s]) {
      if (by_tokens && !(m.answer_tokens[s] >= static_cast<double>(spec.min_answer_tokens))) {
        ++counts.min_answer_tokens;
        continue;
      }
      if (spec.any_condition_nan) {
        bool all = true;
        for (size_t c = 0; c < C; ++c) all = all && std::isfinite(m.at(s, c));
        if (!all) {
          ++counts.any_condition_nan;
          continue;
        }
      }
    }
    keep.push_back(s);
  }
  ResultMatrix out;
  out.condition_ids = m.condition_ids, out.condition_names = m.condition_names;
  out.non_finite = m.non_finite, out.without_bos = m.without_bos;
  out.boundary_moved = m.boundary_moved, out.layout_mismatch = m.layout_mismatch;
  out.scoring_excluded = m.scoring_excluded, out.tokenization = m.tokenization;
  out.num_samples = static_cast<int64_t>(keep.size());
  auto pick = [&](const auto& v, auto& dst) {
    if (v.size() != static_cast<size_t>(m.num_samples)) return;
    for (auto s : keep) dst.push_back(v[s]);
  };
  for (auto s : keep)
    out.nll.insert(out.nll.end(), m.nll.begin() + s * C, m.nll.begin() + (s + 1) * C);
  pick(m.similarity, out.similarity);
  pick(m.done, out.done);
  pick(m.answer_tokens, out.answer_tokens);
  pick(m.passage_words, out.passage_words);
  pick(m.query, out.query);
  counts.kept = out.num_done();
  return out;
}

AnalysesResult analyze(const ResultMatrix& m, const ReportSpec& report, const AnalysesSpec& spec) {
  AnalysesResult out;
  out.empty = spec.empty();
  out.baseline = report.baseline;
  out.exclusions.done = out.exclusions.kept = m.num_done();
  if (out.empty) return out;
  const int base = column(m, report.baseline, "baseline");
  std::vector<int> conds;
  for (size_t c = 0; c < m.condition_ids.size(); ++c)
    if (static_cast<int>(c) != base) conds.push_back(static_cast<int>(c)), out.conditions.push_back(m.condition_ids[c]);
  std::vector<int64_t> rows;  // analysis rows
  for (int64_t s = 0; s < m.num_samples; ++s)
    if (m.done[s] && std::isfinite(m.at(s, base))) rows.push_back(s);

  // Primary comparisons.
  out.primary.correction = spec.primary.correction;
  out.primary.alpha = spec.primary.alpha;
  std::vector<double> ps;
  for (const auto& pair : spec.primary.comparisons) {
    PrimaryRow row;
    row.a = pair.a, row.b = pair.b;
    const int ca = column(m, pair.a, "primary"), cb = column(m, pair.b, "primary");
    std::vector<double> a, b, d;
    for (int64_t s = 0; s < m.num_samples; ++s)
      if (m.done[s] && std::isfinite(m.at(s, ca)) && std::isfinite(m.at(s, cb)))
        a.push_back(m.at(s, ca)), b.push_back(m.at(s, cb)), d.push_back(m.at(s, ca) - m.at(s, cb));
    const auto ds = delta_stats(d);
    row.n = ds.n, row.delta_mean = ds.delta_mean, row.d = ds.d, row.win_rate = ds.win_rate;
    const auto t = paired_t(a, b, report.confidence);
    row.t = t.t, row.p = t.p, row.ci_low = t.ci_low, row.ci_high = t.ci_high;
    if (!t.nan_reason.empty()) row.notes.push_back("t-test: " + t.nan_reason);
    if (spec.bootstrap.resamples > 0)
      std::tie(row.d_boot_low, row.d_boot_high) =
          bootstrap_d(d, spec.bootstrap.resamples, spec.bootstrap.seed, spec.bootstrap.confidence);
    ps.push_back(row.p);
    out.primary.rows.push_back(std::move(row));
  }
  std::vector<bool> reject;
  std::vector<double> adjusted;
  multipletests(ps, spec.primary.alpha, spec.primary.correction, reject, adjusted);
  for (size_t i = 0; i < ps.size(); ++i) {
    out.primary.rows[i].reject = reject[i], out.primary.rows[i].p_adjusted = adjusted[i];
    out.primary.family += !std::isnan(ps[i]);
  }

  // Strata, with the hardness-benefit correlation next to them.
  for (const auto& st : spec.strata) out.strata.push_back(stratum(m, rows, base, st, conds, report.baseline));
  if (!spec.strata.empty())
    for (int c : conds) {
      std::vector<double> b, d;
      for (auto s : rows)
        if (std::isfinite(m.at(s, c))) b.push_back(m.at(s, base)), d.push_back(m.at(s, base) - m.at(s, c));
      const auto r = pearson(b, d);
      out.hardness.push_back({m.condition_ids[c], r.n, r.r, r.p});
    }

  // Routing: one sample set for every K (baseline and every candidate finite), so the curve
  // compares like with like; candidates ranked by d over that set.
  if (spec.routing.enabled) {
    auto& rt = out.routing;
    rt.enabled = true;
    std::vector<int> cand;
    if (spec.routing.candidates.empty()) cand = conds;
    for (const auto& id : spec.routing.candidates) cand.push_back(column(m, id, "routing.candidates"));
    std::vector<int64_t> rrows;
    for (auto s : rows) {
      bool ok = true;
      for (int c : cand) ok = ok && std::isfinite(m.at(s, c));
      if (ok) rrows.push_back(s);
    }
    rt.n = static_cast<int64_t>(rrows.size());
    std::vector<std::pair<double, int>> ranked;
    for (int c : cand) {
      std::vector<double> d;
      for (auto s : rrows) d.push_back(m.at(s, base) - m.at(s, c));
      ranked.push_back({d.empty() ? kNaN : cohens_d_study(d), c});
    }
    // Best d first; ties keep the results' order; NaN last.
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) {
      if (std::isnan(x.first)) return false;
      if (std::isnan(y.first)) return true;
      return x.first > y.first;
    });
    for (const auto& [d, c] : ranked) rt.ranking.push_back({m.condition_ids[c], d});
    const int kmax = spec.routing.max_k > 0 ? std::min<int>(spec.routing.max_k, static_cast<int>(cand.size()))
                                            : static_cast<int>(cand.size());
    std::vector<double> best(rrows.size(), std::numeric_limits<double>::infinity());
    for (int k = 1; k <= kmax; ++k) {
      RoutingStep step;
      step.k = k;
      const int c = ranked[k - 1].second;
      for (int j = 0; j < k; ++j) step.pool.push_back(m.condition_ids[ranked[j].second]);
      std::vector<double> d(rrows.size());
      for (size_t i = 0; i < rrows.size(); ++i) {
        best[i] = std::min(best[i], m.at(rrows[i], c));
        d[i] = m.at(rrows[i], base) - best[i];
      }
      step.stats = delta_stats(d);
      step.nll_mean = mean(best);
      rt.oracle.push_back(std::move(step));
    }
    for (const auto& rule : spec.routing.rules) {
      RoutedRule rr;
      rr.name = rule.name, rr.stratum = rule.stratum;
      const StratumResult* st = nullptr;
      for (size_t i = 0; i < spec.strata.size(); ++i)
        if (spec.strata[i].name == rule.stratum) st = &out.strata[i];
      if (!st) throw InternalError("routing rule " + rule.name + ": stratum " + rule.stratum + " (checked at parse; this is a bug)");
      const int fallback = rule.fallback.empty() ? base : column(m, rule.fallback, "routing.rules.fallback");
      std::vector<int> by_bin(st->bins.size(), fallback);
      for (const auto& [label, id] : rule.choose) {
        bool used = false;
        for (size_t b = 0; b < st->bins.size(); ++b)
          if (st->bins[b].label == label) by_bin[b] = column(m, id, "routing.rules.choose"), used = true;
        if (!used) rr.notes.push_back("label '" + label + "' is not a bin of stratum " + rule.stratum);
      }
      std::vector<double> d, nll;
      std::vector<int64_t> counts(m.condition_ids.size(), 0);
      int64_t lost = 0;
      for (size_t i = 0; i < rows.size(); ++i) {
        const int b = st->bin_of.empty() ? -1 : st->bin_of[i];
        const int c = b < 0 ? fallback : by_bin[b];
        const double v = m.at(rows[i], c);
        if (!std::isfinite(v)) {
          ++lost;
          continue;
        }
        ++counts[c];
        d.push_back(m.at(rows[i], base) - v), nll.push_back(v);
      }
      rr.stats = delta_stats(d);
      rr.nll_mean = mean(nll);
      for (size_t c = 0; c < counts.size(); ++c)
        if (counts[c]) rr.chosen.push_back({m.condition_ids[c], counts[c]});
      if (lost) rr.notes.push_back(std::to_string(lost) + " samples whose routed condition is NaN excluded");
      rt.rules.push_back(std::move(rr));
    }
  }

  // Gating: the condition where baseline NLL >= threshold, the baseline elsewhere.
  for (const auto& id : spec.gating.conditions) {
    GatingCurve g;
    g.condition = id;
    const int c = column(m, id, "gating.conditions");
    std::vector<double> b, v;
    for (auto s : rows)
      if (std::isfinite(m.at(s, c))) b.push_back(m.at(s, base)), v.push_back(m.at(s, c));
    g.n = static_cast<int64_t>(b.size());
    auto point = [&](double thr, double pct) {
      GatingPoint p;
      p.threshold = thr, p.percentile = pct;
      std::vector<double> d(b.size());
      int64_t primed = 0;
      for (size_t i = 0; i < b.size(); ++i) {
        const bool on = b[i] >= thr;
        primed += on;
        d[i] = on ? b[i] - v[i] : 0.0;
      }
      p.share_primed = b.empty() ? kNaN : static_cast<double>(primed) / static_cast<double>(b.size());
      p.stats = delta_stats(d);
      g.points.push_back(p);
    };
    for (double t : spec.gating.thresholds) point(t, kNaN);
    for (double pc : spec.gating.percentiles) point(b.empty() ? kNaN : numpy_quantile(b, pc / 100.0), pc);
    out.gating.push_back(std::move(g));
  }

  // PMI against the reference condition.
  if (!spec.pmi_reference.empty()) {
    out.pmi_reference = spec.pmi_reference;
    const int ref = column(m, spec.pmi_reference, "pmi.reference");
    for (size_t c = 0; c < m.condition_ids.size(); ++c) {
      if (static_cast<int>(c) == ref) continue;
      std::vector<double> pmi, gain;
      for (int64_t s = 0; s < m.num_samples; ++s)
        if (m.done[s] && std::isfinite(m.at(s, c)) && std::isfinite(m.at(s, ref)))
          pmi.push_back(m.at(s, c) - m.at(s, ref)), gain.push_back(m.at(s, ref) - m.at(s, c));
      PmiRow row;
      row.condition = m.condition_ids[c];
      row.n = static_cast<int64_t>(pmi.size());
      row.pmi_mean = mean(pmi), row.pmi_sd = std_dev(pmi, 1);
      row.d = gain.empty() ? kNaN : cohens_d_study(gain);
      out.pmi.push_back(row);
    }
  }
  return out;
}

}  // namespace dkv::stats
