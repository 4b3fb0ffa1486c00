// report.html as text: self-contained (a CSP forbidding fetches, no URL but SVG namespaces),
// every section and figure present, analyses sections only when declared. Rendering itself is
// checked in headless Chromium by tests/report_html/ (ctest report.html_in_chromium).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "dkv/report/writers.h"
#include "dkv/stats/analyses.h"
#include "support.h"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

dkv::stats::ResultMatrix matrix(int64_t n = 200) {
  dkv::stats::ResultMatrix m;
  m.condition_ids = {"A1", "A2", "B1", "C1", "C2", "C4", "D1", "E1", "B2", "B3", "B4", "C5"};
  for (const auto& id : m.condition_ids) m.condition_names.push_back("cond_" + id);
  m.num_samples = n;
  std::mt19937_64 rng(5);
  std::gamma_distribution<double> base(4.0, 0.5);
  std::normal_distribution<double> z(0, 0.25);
  const char* queries[] = {"what is x", "how to y", "rome", "cost of z"};
  for (int64_t s = 0; s < n; ++s) {
    const double b = base(rng);
    for (size_t c = 0; c < m.condition_ids.size(); ++c) m.nll.push_back(c == 0 ? b : b - 0.02 * c + z(rng));
    m.similarity.push_back(0.5);
    m.done.push_back(true);
    m.answer_tokens.push_back(static_cast<double>(1 + s % 20));
    m.passage_words.push_back(static_cast<double>(50 + s % 200));
    m.query.push_back(queries[s % 4]);
  }
  return m;
}

dkv::stats::AnalysesSpec all_analyses() {
  dkv::stats::AnalysesSpec a;
  a.primary.comparisons = {{"A1", "C2"}, {"A1", "B1"}};
  a.strata.push_back({});
  a.strata.back().name = "hardness", a.strata.back().quantiles = 5;
  a.strata.push_back({});
  a.strata.back().name = "intent", a.strata.back().variable = "intent";
  a.routing.enabled = true, a.routing.max_k = 5;
  a.gating.conditions = {"C2"}, a.gating.thresholds = {0, 0.3, 0.5, 0.8, 1.0, 1.5};
  a.pmi_reference = "A2";
  a.bootstrap.resamples = 100, a.bootstrap.seed = 1;
  return a;
}

TEST(ReportHtml, SelfContainedWithEverySectionAndFigure) {
  const auto m = matrix();
  const auto r = dkv::stats::reduce(m);
  const auto a = dkv::stats::analyze(m, {}, all_analyses());
  dkv::report::RunInfo info;
  info.config_yaml = "name: <x>\n";
  info.config_hash = "abc123";
  const auto dir = dkv::test::scratch_dir("report_html_all");
  const auto files = dkv::report::write_report(r, dir, &a, &info);
  const auto html = slurp(files.report_html);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
  // No URL that a browser would fetch: every http(s) string is an SVG/XLink namespace.
  const std::regex url("(https?:|//)[^\"' <>)]*");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator(); ++it) {
    const auto u = it->str();
    if (u.rfind("//", 0) == 0) continue;  // comment-like text inside the script, checked below
    EXPECT_TRUE(u == "http://www.w3.org/2000/svg" || u == "http://www.w3.org/1999/xlink") << u;
  }
  EXPECT_EQ(html.find("src=\""), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  for (const char* id : {"summary-table", "critical-table", "quartile-table", "primary-table", "stratum-table-0",
                         "stratum-table-1", "hardness-table", "routing-table", "gating-table", "pmi-table",
                         "id=\"exclusions\"", "id=\"config\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  EXPECT_NE(html.find("name: &lt;x&gt;"), std::string::npos);  // config escaped
  EXPECT_NE(html.find("aria-label=\"d by hardness"), std::string::npos);
  EXPECT_NE(html.find("aria-label=\"Routing: d vs K\""), std::string::npos);
  EXPECT_NE(html.find("aria-label=\"Gating: d vs threshold\""), std::string::npos);
  EXPECT_NE(html.find("aria-label=\"Gating: share primed vs threshold\""), std::string::npos);
  EXPECT_EQ(html.find("<?xml"), std::string::npos);  // the figure's SVG inlined without its prolog
  // The JSON carries the same analyses.
  const auto j = nlohmann::json::parse(slurp(files.report_json));
  ASSERT_TRUE(j.contains("analyses"));
  EXPECT_EQ(j["analyses"]["routing"]["oracle"].size(), 5u);
  EXPECT_DOUBLE_EQ(j["analyses"]["primary"]["rows"][0]["d"].get<double>(), a.primary.rows[0].d);
}

TEST(ReportHtml, WithoutAnalysesNoAnalysesSections) {
  const auto m = matrix(50);
  const auto r = dkv::stats::reduce(m);
  const auto dir = dkv::test::scratch_dir("report_html_plain");
  const auto files = dkv::report::write_report(r, dir);
  const auto html = slurp(files.report_html);
  EXPECT_NE(html.find("summary-table"), std::string::npos);
  EXPECT_EQ(html.find("primary-table"), std::string::npos);
  EXPECT_EQ(html.find("routing-table"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(slurp(files.report_json)).contains("analyses"));
}

}  // namespace
