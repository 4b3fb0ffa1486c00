// Heat map and line chart as plain SVG text (svg_charts.h). Coordinates are in viewBox units;
// the page scales them with CSS (width: 100%).
#include "dkv/report/svg_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace dkv::report {
namespace {

std::string f(double v, const char* spec = "%.1f") {
  char buf[48];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

// Round tick steps (1, 2, 5 x 10^k), about `target` of them over [lo, hi].
std::vector<double> ticks(double lo, double hi, int target = 5) {
  const double span = hi - lo;
  if (!(span > 0)) return {lo};
  const double raw = span / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  return t;
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string series_colour(size_t i) {
  static const char* tab10[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return tab10[i % 10];
}

std::string svg_heat_map(const std::string& title, const std::vector<std::string>& rows,
                         const std::vector<std::string>& cols, const std::vector<std::vector<double>>& values) {
  // Columns as wide as their longest label (about 6.6 units per character at 11 px), so that
  // labels such as "definitional (n=94)" never overlap.
  // A label "name (n=94)" goes on two lines, split before " (".
  auto split = [](const std::string& c) {
    const auto at = c.find(" (");
    return at == std::string::npos ? std::pair{c, std::string()} : std::pair{c.substr(0, at), c.substr(at + 1)};
  };
  size_t longest = 0;
  for (const auto& c : cols) longest = std::max({longest, split(c).first.size(), split(c).second.size()});
  const double cw = std::max(60.0, 6.6 * static_cast<double>(longest) + 10), ch = 22, left = 150, top = 60, legend = 40;
  const double W = left + cw * std::max<size_t>(cols.size(), 1) + 20, H = top + ch * rows.size() + legend;
  double vmax = 0;
  for (const auto& r : values)
    for (double v : r)
      if (std::isfinite(v)) vmax = std::max(vmax, std::fabs(v));
  if (vmax == 0) vmax = 1;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" << f(W, "%.0f") << "\" height=\"" << f(H, "%.0f")
    << "\" viewBox=\"0 0 " << f(W) << " " << f(H)
    << "\" role=\"img\" aria-label=\"" << xml_escape(title) << "\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"11\">"
    << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
    << "<text x=\"" << f(W / 2) << "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">"
    << xml_escape(title) << "</text>";
  for (size_t c = 0; c < cols.size(); ++c) {
    const auto [name, count] = split(cols[c]);
    const double x = left + cw * (c + 0.5);
    o << "<text x=\"" << f(x) << "\" y=\"" << f(count.empty() ? top - 8 : top - 22) << "\" text-anchor=\"middle\">"
      << xml_escape(name) << "</text>";
    if (!count.empty())
      o << "<text x=\"" << f(x) << "\" y=\"" << f(top - 8) << "\" text-anchor=\"middle\" fill=\"#555\">"
        << xml_escape(count) << "</text>";
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const double y = top + ch * r;
    o << "<text x=\"" << f(left - 6) << "\" y=\"" << f(y + ch * 0.68) << "\" text-anchor=\"end\">"
      << xml_escape(rows[r]) << "</text>";
    for (size_t c = 0; c < cols.size(); ++c) {
      const double v = c < values[r].size() ? values[r][c] : NAN;
      std::string fill = "#dddddd";
      bool dark = false;
      if (std::isfinite(v)) {
        // Diverging blue-white-red, linear in |v| / vmax (RdBu-like end points).
        const double t = std::min(1.0, std::fabs(v) / vmax);
        const int R = v >= 0 ? static_cast<int>(255 - t * (255 - 33)) : 255 - static_cast<int>(t * (255 - 178));
        const int G = v >= 0 ? static_cast<int>(255 - t * (255 - 102)) : static_cast<int>(255 - t * (255 - 24));
        const int B = v >= 0 ? static_cast<int>(255 - t * (255 - 172)) : static_cast<int>(255 - t * (255 - 43));
        char buf[8];
        std::snprintf(buf, sizeof buf, "#%02x%02x%02x", R, G, B);
        fill = buf;
        dark = t > 0.6;
      }
      o << "<rect x=\"" << f(left + cw * c) << "\" y=\"" << f(y) << "\" width=\"" << f(cw - 1) << "\" height=\""
        << f(ch - 1) << "\" fill=\"" << fill << "\"><title>" << xml_escape(rows[r] + " / " + cols[c]) << ": "
        << (std::isfinite(v) ? f(v, "%+.3f") : "NaN") << "</title></rect>"
        << "<text x=\"" << f(left + cw * (c + 0.5)) << "\" y=\"" << f(y + ch * 0.68) << "\" text-anchor=\"middle\" fill=\""
        << (dark ? "#fff" : "#000") << "\">" << (std::isfinite(v) ? f(v, "%+.2f") : "NaN") << "</text>";
    }
  }
  const double ly = top + ch * rows.size() + 14;
  o << "<text x=\"" << f(left) << "\" y=\"" << f(ly + 12) << "\">colour: d, red &lt; 0 &lt; blue, |d| up to "
    << f(vmax, "%.3f") << "</text></svg>";
  return o.str();
}

std::string svg_line_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                           const std::vector<Series>& series, bool y_zero) {
  const double W = 560, H = 340, L = 64, R = 150, T = 34, B = 48;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]), y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (y_zero) y0 = std::min(y0, 0.0), y1 = std::max(y1, 0.0);
  if (x1 == x0) x0 -= 0.5, x1 += 0.5;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  const double pad = (y1 - y0) * 0.06;
  y0 -= pad, y1 += pad;
  auto X = [&](double v) { return L + (v - x0) / (x1 - x0) * (W - L - R); };
  auto Y = [&](double v) { return H - B - (v - y0) / (y1 - y0) * (H - T - B); };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" << f(W, "%.0f") << "\" height=\"" << f(H, "%.0f")
    << "\" viewBox=\"0 0 " << f(W) << " " << f(H)
    << "\" role=\"img\" aria-label=\"" << xml_escape(title) << "\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"11\">"
    << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
    << "<text x=\"" << f((L + W - R) / 2) << "\" y=\"20\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">"
    << xml_escape(title) << "</text>"
    << "<rect x=\"" << f(L) << "\" y=\"" << f(T) << "\" width=\"" << f(W - L - R) << "\" height=\"" << f(H - T - B)
    << "\" fill=\"none\" stroke=\"#000\"/>";
  for (double t : ticks(x0, x1))
    o << "<line x1=\"" << f(X(t)) << "\" x2=\"" << f(X(t)) << "\" y1=\"" << f(H - B) << "\" y2=\"" << f(H - B + 4)
      << "\" stroke=\"#000\"/><text x=\"" << f(X(t)) << "\" y=\"" << f(H - B + 16) << "\" text-anchor=\"middle\">"
      << f(t, "%g") << "</text>";
  for (double t : ticks(y0, y1))
    o << "<line x1=\"" << f(L) << "\" x2=\"" << f(W - R) << "\" y1=\"" << f(Y(t)) << "\" y2=\"" << f(Y(t))
      << "\" stroke=\"#e0e0e0\"/><text x=\"" << f(L - 6) << "\" y=\"" << f(Y(t) + 4) << "\" text-anchor=\"end\">"
      << f(t, "%g") << "</text>";
  if (y_zero && y0 < 0 && y1 > 0)
    o << "<line x1=\"" << f(L) << "\" x2=\"" << f(W - R) << "\" y1=\"" << f(Y(0)) << "\" y2=\"" << f(Y(0))
      << "\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>";
  o << "<text x=\"" << f((L + W - R) / 2) << "\" y=\"" << f(H - 10) << "\" text-anchor=\"middle\">" << xml_escape(xlabel)
    << "</text><text transform=\"translate(16 " << f((T + H - B) / 2) << ") rotate(-90)\" text-anchor=\"middle\">"
    << xml_escape(ylabel) << "</text>";
  for (size_t k = 0; k < series.size(); ++k) {
    // Points in x order, so that thresholds given out of order (or as percentiles after a
    // list) still draw one left-to-right line.
    Series s = series[k];
    std::vector<size_t> order(s.x.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s.x[a] < s.x[b]; });
    Series sorted{s.name, s.colour, {}, {}};
    for (auto i : order) sorted.x.push_back(s.x[i]), sorted.y.push_back(s.y[i]);
    s = sorted;
    std::string pts;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) pts += f(X(s.x[i])) + "," + f(Y(s.y[i])) + " ";
    o << "<polyline points=\"" << pts << "\" fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"2\"/>";
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        o << "<circle cx=\"" << f(X(s.x[i])) << "\" cy=\"" << f(Y(s.y[i])) << "\" r=\"3\" fill=\"" << s.colour
          << "\"><title>" << xml_escape(s.name) << ": (" << f(s.x[i], "%g") << ", " << f(s.y[i], "%.4f")
          << ")</title></circle>";
    const double ly = T + 10 + 16 * k;
    o << "<line x1=\"" << f(W - R + 10) << "\" x2=\"" << f(W - R + 28) << "\" y1=\"" << f(ly) << "\" y2=\"" << f(ly)
      << "\" stroke=\"" << s.colour << "\" stroke-width=\"2\"/><text x=\"" << f(W - R + 32) << "\" y=\"" << f(ly + 4)
      << "\">" << xml_escape(s.name) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

}  // namespace dkv::report
