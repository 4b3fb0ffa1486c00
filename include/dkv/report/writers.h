// Report writers: summary.csv, report.json, report.md and the figure, all formatted from one
// stats::Reduction (they compute nothing themselves).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "dkv/stats/analyses.h"
#include "dkv/stats/reduce.h"

namespace dkv::report {

struct ReportFiles {
  std::string summary_csv, report_json, report_md, figure_png, figure_svg, report_html;
};

// What the HTML report shows about the run besides its numbers (io::RunIdentity's fields, as
// strings so that report/ needs no io/ header).
struct RunInfo {
  std::string results_path, dkv_version, config_hash, config_yaml, created_utc, updated_utc;
  std::vector<std::pair<std::string, std::string>> fingerprints;  // name -> value
  int64_t chunk_size = 0, blas_threads = 0;
};

// Creates out_dir if needed and writes all six files into it (summary.csv, report.json,
// report.md, figure.png, figure.svg, report.html). `a` (the declared analyses) adds sections to
// report.json, report.md and report.html when it is not empty; without it (or empty) the first
// five files are exactly exp 01's. Throws dkv::IoError naming the path on failure.
ReportFiles write_report(const stats::Reduction& r, const std::string& out_dir,
                         const stats::AnalysesResult* a = nullptr, const RunInfo* info = nullptr);

// The parts of write_report (timed apart by bench_report): the three tables, the figure's PNG
// and SVG at the paths in `files`, then report.html (which inlines the SVG written before).
ReportFiles write_tables(const stats::Reduction& r, const std::string& out_dir,
                         const stats::AnalysesResult* a = nullptr);
void write_figures(const stats::Reduction& r, const ReportFiles& files);
void write_html(const stats::Reduction& r, const stats::AnalysesResult* a, const RunInfo* info,
                const ReportFiles& files);

// One row per condition in the Reduction's order (sorted by mean NLL). Numbers are written
// with 17 significant digits; NaN as "nan", infinities as "inf" / "-inf" (pandas reads all).
void write_summary_csv(const stats::Reduction& r, std::ostream& out);

// Every number of the Reduction. NaN -> null (the reason is in the neighbouring "notes"),
// +-infinity -> "inf" / "-inf".
nlohmann::json to_json(const stats::Reduction& r);
// The declared analyses as the "analyses" object of report.json (analyses_writers.cpp).
nlohmann::json analyses_json(const stats::AnalysesResult& a);

// The study's analysis sections as Markdown tables (4 decimals, p in %.2e), plus the notes.
// `a`, when given and not empty, adds its sections before the figure.
void write_report_md(const stats::Reduction& r, std::ostream& out, const stats::AnalysesResult* a = nullptr);
void write_analyses_md(const stats::AnalysesResult& a, std::ostream& out);

}  // namespace dkv::report
