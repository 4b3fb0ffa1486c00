// The reducer step of a run: results.h5 -> statistics -> summary.csv, report.json, report.md
// and the figure. Used by `dkv report` and at the end of `dkv run`.
#pragma once

#include <string>

#include "dkv/report/writers.h"

namespace dkv::experiment {

// Reads a (complete or partial) results file and writes the report next to it or into
// `out_dir`. Partial files are reported on their completed samples. Throws InputError for a
// foreign or damaged file (never modifying it).
report::ReportFiles report_results(const std::string& results_path, const std::string& out_dir);

}  // namespace dkv::experiment
