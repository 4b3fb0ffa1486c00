// Benchmark behind `dkv bench report`: reduce and write the whole report for a random
// samples x conditions matrix, timing each stage.
#pragma once

#include <cstdint>
#include <string>

namespace dkv::report {

struct ReportBenchTimings {
  int64_t samples = 0, conditions = 0;
  double generate_s = 0;  // building the random matrix (not part of the total)
  double reduce_s = 0;    // stats::reduce
  double tables_s = 0;    // summary.csv, report.json, report.md
  double figure_s = 0;    // figure.png and figure.svg
  double total_s = 0;     // reduce + tables + figure: the `dkv report` cost after reading
};

// Writes the report into out_dir (created if needed). Target: total_s < 2 for 10,000 x 20.
ReportBenchTimings bench_report(const std::string& out_dir, int64_t samples = 10000,
                                int conditions = 20, uint64_t seed = 1);

}  // namespace dkv::report
