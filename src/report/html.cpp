// report.html: one self-contained file (inline CSS, script and SVG; a CSP that forbids any
// fetch) with every table of report.md, sortable, the study's figure, the analyses' figures,
// the run's identity and resolved config. Formatting only: every number comes from the
// Reduction / AnalysesResult that report.md and report.json print.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "dkv/core/error.h"
#include "dkv/core/file_io.h"
#include "dkv/report/svg_charts.h"
#include "dkv/report/writers.h"
#include "report/number_format.h"

namespace dkv::report {
namespace {

using stats::AnalysesResult;
using stats::Reduction;


// One table cell: shown text and, for numbers, the value the sort uses (NaN sorts last).
struct Cell {
  std::string text;
  double value = NAN;
  bool numeric = false;
};
Cell txt(const std::string& s) { return {s}; }
Cell num(double v, const char* spec = "%.4f") { return {fmt(v, spec), v, true}; }
Cell pct(double v) { return {std::isnan(v) ? "NaN" : fmt(100 * v, "%.1f") + "%", v, true}; }
Cell count(int64_t n) { return {std::to_string(n), static_cast<double>(n), true}; }

std::string join(const std::vector<std::string>& v, const char* sep = "; ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

void table(std::ostream& o, const std::string& id, const std::vector<std::string>& head,
           const std::vector<std::vector<Cell>>& rows) {
  o << "<div class=\"scroll\"><table class=\"sortable\" id=\"" << id << "\"><thead><tr>";
  for (const auto& h : head) o << "<th tabindex=\"0\">" << xml_escape(h) << "</th>";
  o << "</tr></thead><tbody>\n";
  for (const auto& r : rows) {
    o << "<tr>";
    for (const auto& c : r) {
      o << "<td";
      if (c.numeric) {
        o << " class=\"n\" data-v=\"";
        if (std::isfinite(c.value)) o << fmt(c.value, "%.17g");
        else if (std::isinf(c.value)) o << (c.value > 0 ? "Infinity" : "-Infinity");
        o << "\"";
      }
      o << ">" << xml_escape(c.text) << "</td>";
    }
    o << "</tr>\n";
  }
  o << "</tbody></table></div>\n";
}

void pair_rows(std::ostream& o, const std::string& id, const std::vector<stats::PairComparison>& pairs) {
  std::vector<std::vector<Cell>> rows;
  for (const auto& c : pairs)
    rows.push_back({txt(c.a), txt(c.b), count(c.n), num(c.mean_a), num(c.mean_b), num(c.diff, "%+.4f"),
                    num(c.t, "%.3f"), num(c.p, "%.2e"), txt(join(c.notes))});
  table(o, id, {"A", "B", "n", "Mean NLL A", "Mean NLL B", "A − B", "t", "p", "Notes"}, rows);
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1200px;padding:0 12px 40px;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5em 0}
table{border-collapse:collapse;font-size:.85em;white-space:nowrap}
th,td{border:1px solid #ddd;padding:3px 6px}th{background:#f3f3f3;cursor:pointer;user-select:none;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums}tbody tr:nth-child(even){background:#fafafa}
svg.chart{max-width:100%;height:auto;display:block;margin:.5em 0}.figure svg:not(.chart){width:100%;height:auto;display:block}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:.8em}.note{color:#8a4b00}
dl.id{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:.85em}dl.id dd{margin:0;word-break:break-all}
)";

// Click (or Enter on) a header: sort the body by that column, numbers by data-v, NaN last;
// a second click reverses.
constexpr const char* kScript = R"(
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    function sort(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[i],y=b.cells[i];
        if(x.hasAttribute('data-v')){
          var u=x.getAttribute('data-v'),v=y.getAttribute('data-v');
          if(u===''&&v==='')return 0;if(u==='')return 1;if(v==='')return -1;
          return asc?parseFloat(u)-parseFloat(v):parseFloat(v)-parseFloat(u);
        }
        var c=x.textContent.localeCompare(y.textContent);return asc?c:-c;
      });
      rows.forEach(function(r){body.appendChild(r)});
    }
    th.addEventListener('click',sort);
    th.addEventListener('keydown',function(e){if(e.key==='Enter')sort()});
  });
});
)";

std::string read_svg(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("open: " + path + ": cannot read the figure for report.html");
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ss.str();
  const auto start = s.find("<svg");
  return start == std::string::npos ? s : s.substr(start);  // drop the <?xml?> prolog
}

void analyses_html(std::ostream& o, const AnalysesResult& a) {
  if (!a.primary.rows.empty()) {
    const auto& p = a.primary;
    o << "<h2 id=\"primary\">Primary comparisons</h2><p>" << xml_escape(p.correction) << " over m = " << p.family
      << " comparisons at α = " << fmt(p.alpha, "%g")
      << ". Delta = A − B; d = mean/sd (ddof 1); CI: t interval of the mean delta; d CI: percentile bootstrap.</p>";
    std::vector<std::vector<Cell>> rows;
    for (const auto& r : p.rows)
      rows.push_back({txt(r.a), txt(r.b), count(r.n), num(r.delta_mean, "%+.4f"), num(r.ci_low, "%+.4f"),
                      num(r.ci_high, "%+.4f"), num(r.d, "%+.3f"), num(r.d_boot_low, "%+.3f"), num(r.d_boot_high, "%+.3f"),
                      pct(r.win_rate), num(r.t, "%.3f"), num(r.p, "%.2e"), num(r.p_adjusted, "%.2e"),
                      txt(r.reject ? "significant" : "not significant")});
    table(o, "primary-table", {"A", "B", "n", "Mean delta", "CI low", "CI high", "d", "d CI low", "d CI high", "Win rate",
                               "t", "p", "p adjusted", "Verdict"}, rows);
  }
  for (size_t k = 0; k < a.strata.size(); ++k) {
    const auto& s = a.strata[k];
    o << "<h2 id=\"stratum-" << k << "\">Stratum: " << xml_escape(s.name) << " (" << xml_escape(s.variable) << ")</h2><p>"
      << s.n << " samples assigned" << (s.n_outside ? ", " + std::to_string(s.n_outside) + " in no bin" : "") << ".</p>";
    for (const auto& n : s.notes) o << "<p class=\"note\">" << xml_escape(n) << "</p>";
    if (s.bins.empty()) continue;
    std::vector<std::string> cols;
    for (const auto& b : s.bins) cols.push_back(b.label + " (n=" + std::to_string(b.n) + ")");
    std::vector<std::vector<double>> d(a.conditions.size());
    std::vector<std::vector<Cell>> rows;
    for (size_t c = 0; c < a.conditions.size(); ++c) {
      for (const auto& b : s.bins) d[c].push_back(b.cells[c].stats.d);
      for (const auto& b : s.bins)
        rows.push_back({txt(a.conditions[c]), txt(b.label), count(b.cells[c].stats.n), num(b.cells[c].stats.delta_mean, "%+.4f"),
                        num(b.cells[c].stats.d, "%+.3f"), pct(b.cells[c].stats.win_rate)});
    }
    o << "<div class=\"figure\">" << svg_heat_map("d by " + s.name + " (rows: conditions)", a.conditions, cols, d) << "</div>";
    // One row per (condition, bin): long, so folded under the heat map that shows the same d.
    o << "<details><summary>Table: n, mean delta, d and win rate per condition and bin</summary>";
    table(o, "stratum-table-" + std::to_string(k), {"Condition", "Bin", "n", "Mean delta", "d", "Win rate"}, rows);
    o << "</details>";
  }
  if (!a.hardness.empty()) {
    o << "<h2 id=\"hardness\">Hardness and benefit</h2><p>Pearson r of the baseline NLL with baseline − condition.</p>";
    std::vector<std::vector<Cell>> rows;
    for (const auto& h : a.hardness) rows.push_back({txt(h.condition), count(h.n), num(h.r, "%.3f"), num(h.p, "%.2e")});
    table(o, "hardness-table", {"Condition", "n", "r", "p"}, rows);
  }
  if (a.routing.enabled) {
    const auto& rt = a.routing;
    o << "<h2 id=\"routing\">Oracle routing</h2><p>Per sample, the lowest NLL among the top K conditions by d, over "
      << rt.n << " samples where the baseline and every candidate are finite.</p>";
    Series dk{"oracle best of K", series_colour(0), {}, {}};
    std::vector<std::vector<Cell>> rows;
    for (const auto& s : rt.oracle) {
      dk.x.push_back(s.k), dk.y.push_back(s.stats.d);
      rows.push_back({count(s.k), txt(join(s.pool, ", ")), num(s.nll_mean), num(s.stats.delta_mean, "%+.4f"),
                      num(s.stats.d, "%+.3f"), pct(s.stats.win_rate)});
    }
    std::vector<Series> series{dk};
    for (size_t i = 0; i < rt.rules.size(); ++i)
      series.push_back({"routed: " + rt.rules[i].name, series_colour(i + 1),
                        {1.0, static_cast<double>(std::max<size_t>(rt.oracle.size(), 1))},
                        {rt.rules[i].stats.d, rt.rules[i].stats.d}});
    o << "<div class=\"figure\">" << svg_line_chart("Routing: d vs K", "K (conditions in the pool)", "d vs baseline", series)
      << "</div>";
    table(o, "routing-table", {"K", "Pool", "Mean NLL", "Mean delta", "d", "Win rate"}, rows);
    if (!rt.rules.empty()) {
      std::vector<std::vector<Cell>> rr;
      for (const auto& r : rt.rules) {
        std::vector<std::string> chosen;
        for (const auto& [id, n] : r.chosen) chosen.push_back(id + " ×" + std::to_string(n));
        rr.push_back({txt(r.name), txt(r.stratum), count(r.stats.n), num(r.nll_mean), num(r.stats.delta_mean, "%+.4f"),
                      num(r.stats.d, "%+.3f"), pct(r.stats.win_rate), txt(join(chosen, ", ")), txt(join(r.notes))});
      }
      table(o, "routed-table", {"Rule", "Stratum", "n", "Mean NLL", "Mean delta", "d", "Win rate", "Chosen", "Notes"}, rr);
    }
  }
  if (!a.gating.empty()) {
    o << "<h2 id=\"gating\">Hardness gate</h2><p>The condition where the baseline NLL ≥ threshold, the baseline "
         "elsewhere.</p>";
    std::vector<Series> d, share;
    std::vector<std::vector<Cell>> rows;
    for (size_t g = 0; g < a.gating.size(); ++g) {
      const auto& c = a.gating[g];
      Series sd{c.condition, series_colour(g), {}, {}}, ss{c.condition, series_colour(g), {}, {}};
      for (const auto& p : c.points) {
        sd.x.push_back(p.threshold), sd.y.push_back(p.stats.d);
        ss.x.push_back(p.threshold), ss.y.push_back(p.share_primed);
        rows.push_back({txt(c.condition), num(p.threshold),
                        std::isnan(p.percentile) ? Cell{"", NAN, true} : num(p.percentile, "%g"), pct(p.share_primed),
                        num(p.stats.delta_mean, "%+.4f"), num(p.stats.d, "%+.3f"), pct(p.stats.win_rate)});
      }
      d.push_back(sd), share.push_back(ss);
    }
    o << "<div class=\"figure\">" << svg_line_chart("Gating: d vs threshold", "baseline NLL threshold (nats)", "d vs baseline", d)
      << svg_line_chart("Gating: share primed vs threshold", "baseline NLL threshold (nats)", "share primed", share, false)
      << "</div>";
    table(o, "gating-table", {"Condition", "Threshold", "Percentile", "Share primed", "Mean delta", "d", "Win rate"}, rows);
  }
  if (!a.pmi_reference.empty()) {
    o << "<h2 id=\"pmi\">PMI against " << xml_escape(a.pmi_reference) << "</h2><p>PMI = NLL(condition) − NLL("
      << xml_escape(a.pmi_reference) << "); d of the reference − condition.</p>";
    std::vector<std::vector<Cell>> rows;
    for (const auto& p : a.pmi)
      rows.push_back({txt(p.condition), count(p.n), num(p.pmi_mean, "%+.4f"), num(p.pmi_sd), num(p.d, "%+.3f")});
    table(o, "pmi-table", {"Condition", "n", "Mean PMI", "SD", "d"}, rows);
  }
}

}  // namespace

void write_html(const Reduction& r, const AnalysesResult* a, const RunInfo* info, const ReportFiles& files) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       // Everything is inline: the policy makes any fetch (script, style, image, font) fail.
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; img-src data:\">"
       "<title>dkv report</title><link rel=\"icon\" href=\"data:,\"><style>"
    << kStyle << "</style></head><body>\n<h1>Directed KV cache: report</h1>\n";
  o << "<p>Samples: " << r.num_done << " completed of " << r.num_samples << ". Baseline: " << xml_escape(r.baseline) << ".</p>";
  if (a) {
    const auto& e = a->exclusions;
    o << "<p id=\"exclusions\">Exclusions: " << e.done << " completed samples; " << e.min_answer_tokens
      << " excluded for too few answer tokens, " << e.any_condition_nan << " for a non-finite NLL in any condition; "
      << e.kept << " kept.</p>";
  }
  for (const auto& n : r.notes) o << "<p class=\"note\">Note: " << xml_escape(n) << "</p>";

  o << "<h2 id=\"summary\">All conditions vs baseline</h2><p>Delta = baseline − condition (positive = condition "
       "better); t, p: paired t-test; p (Holm), p (BH) over the non-baseline conditions; d = mean/sd (ddof 1). "
       "Click a header to sort.</p>";
  std::vector<std::vector<Cell>> rows;
  for (const auto& c : r.conditions)
    rows.push_back({txt(c.id), txt(c.name), count(c.n_used), num(c.nll_mean), num(c.nll_std), num(c.delta_mean, "%+.4f"),
                    num(c.ci_low, "%+.4f"), num(c.ci_high, "%+.4f"), pct(c.win_rate), num(c.t, "%.3f"), num(c.p, "%.2e"),
                    num(c.p_holm, "%.2e"), num(c.p_bh, "%.2e"), num(c.cohens_d, "%.3f"), num(c.wilcoxon_p, "%.2e"),
                    txt(join(c.notes))});
  table(o, "summary-table", {"Id", "Condition", "n", "Mean NLL", "Std NLL", "Mean delta", "CI low", "CI high", "Win rate",
                             "t", "p", "p (Holm)", "p (BH)", "Cohen's d", "Wilcoxon p", "Notes"}, rows);
  o << "<h2 id=\"critical\">Critical test</h2>";
  pair_rows(o, "critical-table", r.critical);
  o << "<h2 id=\"full-vs-truncated\">Full context vs truncated</h2>";
  pair_rows(o, "full-table", r.full_vs_truncated);
  o << "<h2 id=\"ordering\">Ordering effects</h2>";
  pair_rows(o, "ordering-table", r.ordering);
  o << "<h2 id=\"similarity\">Surrogate similarity correlation</h2>";
  rows.clear();
  for (const auto& c : r.correlations)
    rows.push_back({txt(c.condition), count(c.n), num(c.r, "%.3f"), num(c.p, "%.4f"), txt(join(c.notes))});
  table(o, "similarity-table", {"Condition", "n", "r", "p", "Notes"}, rows);
  o << "<h2 id=\"quartiles\">Win rate by baseline quality (" << xml_escape(r.quartiles.condition) << ")</h2>";
  rows.clear();
  for (const auto& q : r.quartiles.rows)
    rows.push_back({txt(q.label), num(q.edge_low), num(q.edge_high), count(q.n), pct(q.win_rate), num(q.delta_mean, "%+.4f")});
  if (!r.quartiles.available) o << "<p class=\"note\">Not available: " << xml_escape(join(r.quartiles.notes)) << "</p>";
  table(o, "quartile-table", {"Bin", "Low", "High", "n", "Win rate", "Mean delta"}, rows);
  o << "<h2 id=\"figure\">Figure</h2><div class=\"figure\">" << read_svg(files.figure_svg) << "</div>\n";

  if (a && !a->empty) analyses_html(o, *a);

  if (info) {
    o << "<h2 id=\"run\">Run</h2><dl class=\"id\"><dt>results</dt><dd>" << xml_escape(info->results_path)
      << "</dd><dt>dkv</dt><dd>" << xml_escape(info->dkv_version) << "</dd><dt>config hash</dt><dd>"
      << xml_escape(info->config_hash) << "</dd>";
    for (const auto& [k, v] : info->fingerprints) o << "<dt>" << xml_escape(k) << "</dt><dd>" << xml_escape(v) << "</dd>";
    o << "<dt>chunk size</dt><dd>" << info->chunk_size << "</dd><dt>BLAS threads</dt><dd>" << info->blas_threads
      << "</dd><dt>created</dt><dd>" << xml_escape(info->created_utc) << "</dd><dt>updated</dt><dd>"
      << xml_escape(info->updated_utc) << "</dd></dl>"
      << "<details><summary>Resolved config</summary><pre id=\"config\">" << xml_escape(info->config_yaml)
      << "</pre></details>";
  }
  o << "<script>" << kScript << "</script></body></html>\n";
  write_file_atomic(files.report_html, o.str());
}

}  // namespace dkv::report
