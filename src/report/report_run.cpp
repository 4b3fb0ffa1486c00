// results.h5 -> stats::ResultMatrix -> report files.
#include "dkv/report/report_run.h"

#include <filesystem>

#include "dkv/core/error.h"
#include "dkv/experiment/plan.h"
#include "dkv/io/results_file.h"
#include "dkv/stats/reduce.h"

namespace dkv::report {

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
  experiment::ReportOverrides overrides;
  try {
    overrides = experiment::parse_spec(table.identity.config_yaml, results_path + " (stored config)").report;
  } catch (const ConfigError& e) {
    throw InputError(results_path + ": its stored config does not parse: " + e.what());
  }
  stats::ResultMatrix m;
  m.condition_ids = table.condition_ids;
  m.condition_names = table.condition_names;
  m.num_samples = static_cast<int64_t>(table.rows.size());
  m.non_finite.assign(table.condition_ids.size(), 0);
  m.without_bos.assign(table.condition_ids.size(), 0);
  for (const auto& r : table.rows) {
    m.nll.insert(m.nll.end(), r.nll.begin(), r.nll.end());
    m.similarity.push_back(r.similarity);
    m.done.push_back(r.done);
    for (size_t c = 0; r.done && c < r.flags.size() && c < m.non_finite.size(); ++c)
      m.non_finite[c] += (r.flags[c] & experiment::kNonFinite) != 0;
    for (size_t c = 0; r.done && c < r.flags.size() && c < m.without_bos.size(); ++c)
      m.without_bos[c] += (r.flags[c] & experiment::kNoBosEntry) != 0;
  }
  auto dir = out_dir.empty() ? std::filesystem::path(results_path).parent_path().string() : out_dir;
  if (dir.empty()) dir = ".";
  std::filesystem::create_directories(dir);
  return write_report(stats::reduce(m, apply_overrides(overrides)), dir);
}

}  // namespace dkv::report
