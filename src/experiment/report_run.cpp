// results.h5 -> stats::ResultMatrix -> report files.
#include "dkv/experiment/report_run.h"

#include <filesystem>

#include "dkv/io/results_file.h"
#include "dkv/stats/reduce.h"

namespace dkv::experiment {

report::ReportFiles report_results(const std::string& results_path, const std::string& out_dir) {
  const auto table = io::read_results(results_path);
  stats::ResultMatrix m;
  m.condition_ids = table.condition_ids;
  m.condition_names = table.condition_names;
  m.num_samples = static_cast<int64_t>(table.rows.size());
  for (const auto& r : table.rows) {
    m.nll.insert(m.nll.end(), r.nll.begin(), r.nll.end());
    m.similarity.push_back(r.similarity);
    m.done.push_back(r.done);
  }
  const auto dir = out_dir.empty() ? std::filesystem::path(results_path).parent_path().string() : out_dir;
  std::filesystem::create_directories(dir.empty() ? "." : dir);
  return report::write_report(stats::reduce(m), dir.empty() ? "." : dir);
}

}  // namespace dkv::experiment
