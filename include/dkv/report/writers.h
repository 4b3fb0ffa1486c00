// Report writers: summary.csv, report.json, report.md and the figure, all formatted from one
// stats::Reduction (they compute nothing themselves).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "dkv/stats/reduce.h"

namespace dkv::report {

struct ReportFiles {
  std::string summary_csv, report_json, report_md, figure_png, figure_svg;
};

// Creates out_dir if needed and writes all five files into it (summary.csv, report.json,
// report.md, figure.png, figure.svg). Throws dkv::IoError naming the path on failure.
ReportFiles write_report(const stats::Reduction& r, const std::string& out_dir);

// The two halves of write_report (timed apart by bench_report): the three tables, then the
// figure's PNG and SVG at the paths in `files`.
ReportFiles write_tables(const stats::Reduction& r, const std::string& out_dir);
void write_figures(const stats::Reduction& r, const ReportFiles& files);

// One row per condition in the Reduction's order (sorted by mean NLL). Numbers are written
// with 17 significant digits; NaN as "nan", infinities as "inf" / "-inf" (pandas reads all).
void write_summary_csv(const stats::Reduction& r, std::ostream& out);

// Every number of the Reduction. NaN -> null (the reason is in the neighbouring "notes"),
// +-infinity -> "inf" / "-inf".
nlohmann::json to_json(const stats::Reduction& r);

// The study's analysis sections as Markdown tables (4 decimals, p in %.2e), plus the notes.
void write_report_md(const stats::Reduction& r, std::ostream& out);

}  // namespace dkv::report
