// Report writers and the figure: files exist, parse, and the PNG decodes at 16 x 12 in, 150 dpi.
#include <gtest/gtest.h>

#include <cairo.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "dkv/report/bench.h"
#include "dkv/report/figure.h"
#include "dkv/report/writers.h"
#include "dkv/stats/reduce.h"
#include "support.h"

namespace {

// A matrix shaped like the study: its 15 conditions and effects, 300 samples, a few failed
// cells and 12 uncommitted rows.
dkv::stats::ResultMatrix study_like(int64_t n = 300, uint64_t seed = 11) {
  dkv::stats::ResultMatrix m;
  m.condition_ids = {"A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "C5", "D1", "E1", "E2"};
  m.condition_names = {"baseline", "bare_doc", "baseline_offset", "full_generated", "full_perfect",
                       "full_static", "full_suffix", "trunc_generated_broken", "trunc_generated_corrected",
                       "trunc_perfect_broken", "trunc_perfect_corrected", "trunc_static_corrected",
                       "trunc_suffix_corrected", "random_prefix_trunc_corrected", "full_random_prefix"};
  const double effect[] = {0, -0.05, -0.01, 0.12, 0.2, 0.05, 0.08, -0.6, 0.06, -0.55, 0.1, 0.03, 0.02, -0.02, -0.04};
  m.num_samples = n;
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> base(4.0, 0.5);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(0.2, 0.95);
  for (int64_t s = 0; s < n; ++s) {
    const double b = base(rng), sim = u(rng);
    for (size_t c = 0; c < m.condition_ids.size(); ++c)
      // Benefit grows with similarity so that panel 4 shows a trend.
      m.nll.push_back(c == 0 ? b : std::max(0.01, b - effect[c] - 0.3 * (sim - 0.55) * (effect[c] > 0) + 0.25 * z(rng)));
    m.similarity.push_back(sim);
  }
  m.done.assign(n, true);
  for (int64_t s = n - 12; s < n; ++s) m.done[s] = false;
  m.nll[5 * 15 + 8] = NAN;
  m.nll[9 * 15 + 0] = NAN;
  m.similarity[17] = NAN;
  return m;
}

std::string out_dir(const std::string& name) {
  // DKV_REPORT_KEEP=dir keeps the output for a look at the figure.
  if (const char* keep = std::getenv("DKV_REPORT_KEEP")) return std::string(keep) + "/" + name;
  return dkv::test::scratch_dir(name);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReportFigure, PngDecodesWithExpectedSizeAndSvgIsWritten) {
  const auto r = dkv::stats::reduce(study_like());
  const auto files = dkv::report::write_report(r, out_dir("report_study_like"));
  cairo_surface_t* png = cairo_image_surface_create_from_png(files.figure_png.c_str());
  ASSERT_EQ(cairo_surface_status(png), CAIRO_STATUS_SUCCESS) << files.figure_png;
  EXPECT_EQ(cairo_image_surface_get_width(png), 2400);   // 16 in x 150 dpi
  EXPECT_EQ(cairo_image_surface_get_height(png), 1800);  // 12 in x 150 dpi
  // Not blank: some pixels are neither white nor black (the coloured bars).
  cairo_surface_flush(png);
  const unsigned char* px = cairo_image_surface_get_data(png);
  const int stride = cairo_image_surface_get_stride(png);
  int64_t coloured = 0;
  for (int y = 0; y < 1800; y += 7)
    for (int x = 0; x < 2400; x += 7) {
      const unsigned char* p = px + y * stride + 4 * x;
      coloured += (p[0] != p[1] || p[1] != p[2]);
    }
  EXPECT_GT(coloured, 1000);
  cairo_surface_destroy(png);
  const auto svg = slurp(files.figure_svg);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"1152pt\""), std::string::npos);
}

TEST(ReportTables, CsvJsonAndMarkdownHoldEveryCondition) {
  const auto m = study_like();
  const auto r = dkv::stats::reduce(m);
  const auto files = dkv::report::write_report(r, out_dir("report_tables"));
  // CSV: header + one row per condition, in the table's order.
  std::ifstream csv(files.summary_csv);
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line.rfind("condition_id,condition_name,n_used,n_failed,nll_mean,nll_std,delta_mean,win_rate,t,p,cohens_d,df,ci95_low,ci95_high,p_holm,p_bh,wilcoxon_p", 0), 0u);
  int rows = 0;
  while (std::getline(csv, line)) {
    EXPECT_EQ(line.rfind(r.conditions[rows].id + ",", 0), 0u) << line;
    ++rows;
  }
  EXPECT_EQ(rows, 15);
  // JSON: every number, full precision.
  const auto j = nlohmann::json::parse(slurp(files.report_json));
  EXPECT_EQ(j.at("num_done").get<int64_t>(), 288);
  EXPECT_EQ(j.at("num_samples").get<int64_t>(), 300);
  ASSERT_EQ(j.at("conditions").size(), 15u);
  EXPECT_EQ(j.at("conditions")[0].at("nll_mean").get<double>(), r.conditions[0].nll_mean);
  EXPECT_TRUE(j.at("conditions")[0].contains("p_holm"));
  EXPECT_EQ(j.at("critical").size(), 2u);
  EXPECT_TRUE(j.at("quartiles").at("available").get<bool>());
  // Markdown: the study's sections and the partial-input count.
  const auto md = slurp(files.report_md);
  for (const char* s : {"## All conditions vs baseline", "## Critical test", "## Surrogate quality",
                        "## Full context vs truncated", "## Ordering effects", "## Surrogate similarity correlation",
                        "## Win rate by baseline quality", "288 completed of 300", "partial results"})
    EXPECT_NE(md.find(s), std::string::npos) << s;
}

TEST(ReportFigure, DegenerateInputStillDraws) {
  // Two samples, one condition pair, no similarity: every panel must draw without throwing.
  dkv::stats::ResultMatrix m;
  m.condition_ids = {"A1", "C2"};
  m.condition_names = {"baseline", "trunc_generated_corrected"};
  m.num_samples = 2;
  m.nll = {1.0, 1.0, 2.0, 2.0};
  m.done = {true, true};
  const auto r = dkv::stats::reduce(m);
  const auto files = dkv::report::write_report(r, out_dir("report_degenerate"));
  cairo_surface_t* png = cairo_image_surface_create_from_png(files.figure_png.c_str());
  EXPECT_EQ(cairo_surface_status(png), CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy(png);
}

TEST(ReportBench, TenThousandByTwentyReportsInUnderTwoSeconds) {
  const auto t = dkv::report::bench_report(out_dir("report_bench"), 10000, 20);
  std::printf("[ bench  ] report %lld x %lld: reduce %.3f s, tables %.3f s, figure %.3f s, total %.3f s\n",
              static_cast<long long>(t.samples), static_cast<long long>(t.conditions), t.reduce_s,
              t.tables_s, t.figure_s, t.total_s);
#ifdef NDEBUG
  EXPECT_LT(t.total_s, 2.0);  // the target, on the 2-core build box
#endif
}

}  // namespace
