// The reducer step of a run: results.h5 -> statistics -> summary.csv, report.json, report.md
// and the figure, with the comparisons of the run's own config (its `report:` block over the
// study's defaults). Used by `dkv report` and after `dkv run`.
#pragma once

#include <string>

#include "dkv/experiment/spec.h"
#include "dkv/report/writers.h"
#include "dkv/stats/report_spec.h"

namespace dkv::report {

// stats::ReportSpec{} (the study's comparisons) with the keys the YAML set replaced.
stats::ReportSpec apply_overrides(const experiment::ReportOverrides& overrides);

// Reads a (complete or partial) results file and writes the report into `out_dir` (default:
// the results file's folder). Partial files are reported on their completed samples. Throws
// InputError for a foreign or damaged file, never modifying it.
ReportFiles report_results(const std::string& results_path, const std::string& out_dir);

}  // namespace dkv::report
