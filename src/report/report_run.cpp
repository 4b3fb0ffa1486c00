// results.h5 -> stats::ResultMatrix -> report files.
#include "dkv/report/report_run.h"

#include <cctype>
#include <filesystem>
#include <limits>

#include "dkv/core/error.h"
#include "dkv/experiment/plan.h"
#include "dkv/io/results_file.h"
#include "dkv/stats/analyses.h"
#include "dkv/stats/reduce.h"

namespace dkv::report {
namespace {
int64_t word_count(const std::string& s) {  // Python's str.split(): runs of ASCII whitespace
  int64_t n = 0;
  bool in_word = false;
  for (unsigned char ch : s) {
    const bool space = std::isspace(ch) != 0;
    n += !space && !in_word;
    in_word = !space;
  }
  return n;
}
}  // namespace

stats::ReportSpec apply_overrides(const experiment::ReportOverrides& o) {
  stats::ReportSpec s;
  auto pairs = [](const std::vector<experiment::IdPair>& v) {
    std::vector<stats::ConditionPair> out;
    for (const auto& [a, b] : v) out.push_back({a, b});
    return out;
  };
  if (o.baseline) s.baseline = *o.baseline;
  if (o.critical) s.critical = pairs(*o.critical);
  if (o.surrogate_quality) s.surrogate_quality = *o.surrogate_quality;
  if (o.full_vs_truncated) s.full_vs_truncated = pairs(*o.full_vs_truncated);
  if (o.ordering) s.ordering = pairs(*o.ordering);
  if (o.similarity_correlation) s.similarity_correlation = *o.similarity_correlation;
  if (o.quartile_condition) s.quartile_condition = *o.quartile_condition;
  if (o.figure_critical) s.figure_critical = *o.figure_critical;
  if (o.figure_condition) s.figure_condition = *o.figure_condition;
  return s;
}

ReportFiles report_results(const std::string& results_path, const std::string& out_dir) {
  const auto table = io::read_results(results_path);
  experiment::ExperimentSpec stored;
  try {
    stored = experiment::parse_spec(table.identity.config_yaml, results_path + " (stored config)");
  } catch (const ConfigError& e) {
    throw InputError(results_path + ": its stored config does not parse: " + e.what());
  }
  const auto& overrides = stored.report;
  stats::ResultMatrix m;
  m.condition_ids = table.condition_ids;
  m.condition_names = table.condition_names;
  m.num_samples = static_cast<int64_t>(table.rows.size());
  m.non_finite.assign(table.condition_ids.size(), 0);
  m.without_bos.assign(table.condition_ids.size(), 0);
  m.boundary_moved.assign(table.condition_ids.size(), 0);
  m.layout_mismatch.assign(table.condition_ids.size(), 0);
  m.tokenization = stored.texts.tokenization;
  const auto spec = apply_overrides(overrides);
  const int base = m.find(spec.baseline);
  for (const auto& r : table.rows) {
    m.nll.insert(m.nll.end(), r.nll.begin(), r.nll.end());
    m.similarity.push_back(r.similarity);
    m.done.push_back(r.done);
    // The analyses' per-sample variables: the baseline's answer token count (the answer is the
    // same text in every condition) and str.split() word counts.
    m.answer_tokens.push_back(base >= 0 && static_cast<size_t>(base) < r.answer_tokens.size()
                                  ? static_cast<double>(r.answer_tokens[base])
                                  : std::numeric_limits<double>::quiet_NaN());
    m.passage_words.push_back(static_cast<double>(word_count(r.passage)));
    m.query.push_back(r.query);
    for (size_t c = 0; r.done && c < r.flags.size() && c < m.non_finite.size(); ++c)
      m.non_finite[c] += (r.flags[c] & experiment::kNonFinite) != 0;
    for (size_t c = 0; r.done && c < r.flags.size() && c < m.without_bos.size(); ++c) {
      m.without_bos[c] += (r.flags[c] & experiment::kNoBosEntry) != 0;
      m.boundary_moved[c] += (r.flags[c] & experiment::kBoundaryMismatch) != 0;
      m.layout_mismatch[c] += (r.flags[c] & experiment::kLayoutMismatch) != 0;
    }
    m.scoring_excluded += r.done && !r.exclusion.empty();
  }
  auto dir = out_dir.empty() ? std::filesystem::path(results_path).parent_path().string() : out_dir;
  if (dir.empty()) dir = ".";
  std::filesystem::create_directories(dir);
  stats::Exclusions excluded;
  const auto kept = stats::apply_exclusions(m, overrides.analyses.exclusions, spec.baseline, excluded);
  const auto reduction = stats::reduce(kept, spec);
  auto analyses = stats::analyze(kept, spec, overrides.analyses);
  analyses.exclusions = excluded;
  RunInfo info;
  const auto& id = table.identity;
  info.results_path = results_path;
  info.dkv_version = id.dkv_version, info.config_hash = id.config_hash, info.config_yaml = id.config_yaml;
  info.created_utc = table.created_utc, info.updated_utc = table.updated_utc;
  info.fingerprints = {{"model", id.model_fingerprint}, {"tokenizer", id.tokenizer_fingerprint},
                       {"embedding", id.embedding_fingerprint}, {"dataset", id.dataset_fingerprint}};
  info.chunk_size = id.chunk_size, info.blas_threads = id.blas_threads;
  return write_report(reduction, dir, &analyses, &info);
}

}  // namespace dkv::report
