// The study's 4-panel figure (notebook section 5) drawn with cairo's C API. Layout is in
// points (1/72 in) on a width_in x height_in page; the PNG surface is scaled by dpi / 72 so
// both outputs share one drawing routine. Fonts: DejaVu Sans through cairo's toy text API.
#include "dkv/report/figure.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "dkv/core/error.h"
#include "dkv/core/file_io.h"

namespace dkv::report {
namespace {

using stats::Reduction;

struct Rgb {
  double r, g, b;
};
Rgb hex(const std::string& h) {
  unsigned v = 0;
  std::sscanf(h.c_str() + 1, "%x", &v);
  return {((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0};
}
void colour(cairo_t* cr, Rgb c, double alpha = 1) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }
const Rgb kBlack{0, 0, 0}, kGrey{0.5, 0.5, 0.5}, kBlue{0, 0, 1}, kRed{1, 0, 0}, kGridGrey{0.88, 0.88, 0.88};

std::string fmt(const char* spec, double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

// Font sizes in points, matplotlib's defaults: 10 for labels and ticks, 12 for titles.
constexpr double kTickPt = 10, kLabelPt = 10, kTitlePt = 12, kCategoryPt = 9;

void font(cairo_t* cr, double pt, bool bold = false) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, pt);
}

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

// Draws s with its anchor at (x, y): ax in {0 left, 0.5 centre, 1 right}; ay likewise for
// top / middle / baseline-ish bottom, from the font's ascent.
void text(cairo_t* cr, const std::string& s, double x, double y, double ax, double ay) {
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  const double w = text_width(cr, s);
  const double h = fe.ascent * 0.8;  // cap height is about 0.7-0.75 em; ascent is taller
  cairo_move_to(cr, x - ax * w, y + (1 - ay) * h);
  cairo_show_text(cr, s.c_str());
}

// Breaks a snake_case name into lines of at most max_width points (at the current font),
// cutting at underscores; a single over-long word stays on its own line.
std::string wrap(cairo_t* cr, const std::string& name, double max_width) {
  std::vector<std::string> words;
  size_t start = 0;
  while (true) {
    const auto us = name.find('_', start);
    words.push_back(name.substr(start, us == std::string::npos ? std::string::npos : us - start));
    if (us == std::string::npos) break;
    start = us + 1;
  }
  std::string out, line;
  for (const auto& w : words) {
    const std::string candidate = line.empty() ? w : line + "_" + w;
    if (!line.empty() && text_width(cr, candidate) > max_width) {
      out += (out.empty() ? "" : "\n") + line + "_";
      line = w;
    } else {
      line = candidate;
    }
  }
  return out + (out.empty() ? "" : "\n") + line;
}

struct Range {
  double lo = 0, hi = 1;
};

// Tick step 1, 2, 2.5 or 5 x 10^k giving about `target` intervals (matplotlib's MaxNLocator).
std::vector<double> ticks(Range r, int target = 6) {
  const double span = r.hi - r.lo;
  if (!(span > 0) || !std::isfinite(span)) return {r.lo};
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(r.lo / step - 1e-9) * step; t <= r.hi + step * 1e-9; t += step)
    out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

std::string tick_label(double v, const std::vector<double>& t) {
  const double step = t.size() > 1 ? t[1] - t[0] : 1;
  int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  if (std::fabs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6) ++decimals;
  char spec[16];
  std::snprintf(spec, sizeof spec, "%%.%df", decimals);
  return fmt(spec, v);
}

// Pads a data range by 5% each side (matplotlib's default margins); a flat range gets ±0.5.
Range padded(double lo, double hi, bool from_zero = false) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (from_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  if (hi == lo) return {lo - 0.5, hi + 0.5};
  const double pad = 0.05 * (hi - lo);
  return {from_zero && lo == 0 ? 0 : lo - pad, from_zero && hi == 0 ? 0 : hi + pad};
}

struct Axes {
  double x0, y0, w, h;  // plot area in points, (x0, y0) its top-left
  Range xr, yr;
  bool invert_y = false;
  double px(double x) const { return x0 + (x - xr.lo) / (xr.hi - xr.lo) * w; }
  double py(double y) const {
    const double f = (y - yr.lo) / (yr.hi - yr.lo);
    return invert_y ? y0 + f * h : y0 + h - f * h;
  }
};

void clip(cairo_t* cr, const Axes& a) {
  cairo_save(cr);
  cairo_rectangle(cr, a.x0, a.y0, a.w, a.h);
  cairo_clip(cr);
}

void dashed_line(cairo_t* cr, double x1, double y1, double x2, double y2, Rgb c, double alpha, double width,
                 bool dashed) {
  cairo_save(cr);
  colour(cr, c, alpha);
  cairo_set_line_width(cr, width);
  if (dashed) {
    const double d[] = {3.7 * width, 1.6 * width};
    cairo_set_dash(cr, d, 2, 0);
  }
  cairo_move_to(cr, x1, y1);
  cairo_line_to(cr, x2, y2);
  cairo_stroke(cr);
  cairo_restore(cr);
}

// Frame, ticks with labels (numeric unless category labels are given), axis labels, title.
void frame(cairo_t* cr, const Axes& a, const std::string& title, const std::string& xlabel,
           const std::string& ylabel, const std::vector<std::string>& ycats = {},
           const std::vector<std::string>& xcats = {}, double cat_pt = kTickPt) {
  cairo_set_line_width(cr, 0.8);
  colour(cr, kBlack);
  cairo_rectangle(cr, a.x0, a.y0, a.w, a.h);
  cairo_stroke(cr);
  font(cr, kTickPt);
  const double tick = 3.5;
  double ylabel_room = 0;
  if (xcats.empty()) {
    const auto xt = ticks(a.xr);
    for (double t : xt) {
      const double x = a.px(t);
      if (x < a.x0 - 0.5 || x > a.x0 + a.w + 0.5) continue;
      cairo_move_to(cr, x, a.y0 + a.h);
      cairo_line_to(cr, x, a.y0 + a.h + tick);
      cairo_stroke(cr);
      text(cr, tick_label(t, xt), x, a.y0 + a.h + tick + 3, 0.5, 0);
    }
  } else {
    font(cr, cat_pt);
    for (size_t k = 0; k < xcats.size(); ++k) {
      const double x = a.px(static_cast<double>(k));
      cairo_move_to(cr, x, a.y0 + a.h);
      cairo_line_to(cr, x, a.y0 + a.h + tick);
      cairo_stroke(cr);
      // Category labels may span lines ('\n').
      size_t start = 0;
      for (int line = 0; start <= xcats[k].size(); ++line) {
        const auto nl = xcats[k].find('\n', start);
        text(cr, xcats[k].substr(start, nl == std::string::npos ? std::string::npos : nl - start), x,
             a.y0 + a.h + tick + 3 + 1.25 * cat_pt * line, 0.5, 0);
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    }
  }
  if (ycats.empty()) {
    font(cr, kTickPt);
    const auto yt = ticks(a.yr);
    for (double t : yt) {
      const double y = a.py(t);
      if (y < a.y0 - 0.5 || y > a.y0 + a.h + 0.5) continue;
      cairo_move_to(cr, a.x0 - tick, y);
      cairo_line_to(cr, a.x0, y);
      cairo_stroke(cr);
      const auto s = tick_label(t, yt);
      ylabel_room = std::max(ylabel_room, text_width(cr, s));
      text(cr, s, a.x0 - tick - 3, y, 1, 0.5);
    }
  } else {
    font(cr, cat_pt);
    for (size_t k = 0; k < ycats.size(); ++k) {
      const double y = a.py(static_cast<double>(k));
      cairo_move_to(cr, a.x0 - tick, y);
      cairo_line_to(cr, a.x0, y);
      cairo_stroke(cr);
      ylabel_room = std::max(ylabel_room, text_width(cr, ycats[k]));
      text(cr, ycats[k], a.x0 - tick - 3, y, 1, 0.5);
    }
  }
  font(cr, kLabelPt);
  const double xlabel_drop = xcats.empty() ? 2.6 * kTickPt : 3.6 * cat_pt + 0.5 * kLabelPt;
  if (!xlabel.empty()) text(cr, xlabel, a.x0 + a.w / 2, a.y0 + a.h + tick + xlabel_drop, 0.5, 0);
  if (!ylabel.empty()) {
    cairo_save(cr);
    cairo_translate(cr, a.x0 - tick - 8 - ylabel_room - 0.6 * kLabelPt, a.y0 + a.h / 2);
    cairo_rotate(cr, -M_PI / 2);
    text(cr, ylabel, 0, 0, 0.5, 0.5);
    cairo_restore(cr);
  }
  font(cr, kTitlePt);
  text(cr, title, a.x0 + a.w / 2, a.y0 - 0.7 * kTitlePt, 0.5, 1);
}

// A legend box in the top-right corner: each entry a short line sample and its text.
struct LegendEntry {
  std::string label;
  Rgb c;
  double alpha, width;
  bool dashed;
};
// below_axes: under the x axis, right-aligned, level with the x label (for bar panels whose
// bars reach the top-right corner, where the legend would hide error bars).
void legend(cairo_t* cr, const Axes& a, const std::vector<LegendEntry>& entries, double pt,
            bool below_axes = false) {
  font(cr, pt);
  double w = 0;
  for (const auto& e : entries) w = std::max(w, text_width(cr, e.label));
  const double line = 20, pad = 5, row = 1.5 * pt;
  const double bw = pad * 3 + line + w, bh = pad * 2 + row * entries.size();
  const double bx = below_axes ? a.x0 + a.w - bw : a.x0 + a.w - bw - 6;
  const double by = below_axes ? a.y0 + a.h + 2.2 * kTickPt : a.y0 + 6;
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, bx, by, bw, bh);
  cairo_fill_preserve(cr);
  cairo_set_source_rgba(cr, 0.8, 0.8, 0.8, 1);
  cairo_set_line_width(cr, 0.8);
  cairo_stroke(cr);
  for (size_t k = 0; k < entries.size(); ++k) {
    const auto& e = entries[k];
    const double y = by + pad + row * (k + 0.5);
    dashed_line(cr, bx + pad, y, bx + pad + line, y, e.c, e.alpha, e.width, e.dashed);
    colour(cr, kBlack);
    text(cr, e.label, bx + 2 * pad + line, y, 0, 0.5);
  }
}

void no_data(cairo_t* cr, const Axes& a, const std::string& why) {
  font(cr, kLabelPt);
  colour(cr, kGrey);
  text(cr, why, a.x0 + a.w / 2, a.y0 + a.h / 2, 0.5, 0.5);
}

void error_bar(cairo_t* cr, double x1, double y1, double x2, double y2, bool horizontal) {
  const double cap = 3;
  colour(cr, kBlack);
  cairo_set_line_width(cr, 1.0);
  cairo_move_to(cr, x1, y1);
  cairo_line_to(cr, x2, y2);
  if (horizontal) {
    cairo_move_to(cr, x1, y1 - cap), cairo_line_to(cr, x1, y1 + cap);
    cairo_move_to(cr, x2, y2 - cap), cairo_line_to(cr, x2, y2 + cap);
  } else {
    cairo_move_to(cr, x1 - cap, y1), cairo_line_to(cr, x1 + cap, y1);
    cairo_move_to(cr, x2 - cap, y2), cairo_line_to(cr, x2 + cap, y2);
  }
  cairo_stroke(cr);
}

double finite_or(double v, double fallback) { return std::isfinite(v) ? v : fallback; }

// Panel 1: every condition's mean NLL, first condition at the top.
void panel_all_conditions(cairo_t* cr, const Reduction& r, Axes a) {
  const auto& ms = r.marginals;
  double hi = 0;
  std::vector<std::string> labels;
  for (const auto& m : ms) {
    hi = std::max(hi, finite_or(m.nll_mean, 0) + finite_or(m.nll_sem, 0));
    labels.push_back(m.id + " " + m.name);
  }
  a.xr = {0, hi > 0 ? hi * 1.05 : 1};
  a.yr = {-0.6, static_cast<double>(ms.size()) - 0.4};
  a.invert_y = true;
  clip(cr, a);
  for (size_t k = 0; k < ms.size(); ++k) {
    const auto& m = ms[k];
    if (!std::isfinite(m.nll_mean)) continue;
    const double y = a.py(static_cast<double>(k));
    const double bh = 0.8 * a.h / (a.yr.hi - a.yr.lo);
    colour(cr, hex(condition_colour(m.id, m.name)), 0.8);
    cairo_rectangle(cr, a.px(0), y - bh / 2, a.px(m.nll_mean) - a.px(0), bh);
    cairo_fill(cr);
    if (std::isfinite(m.nll_sem)) error_bar(cr, a.px(m.nll_mean - m.nll_sem), y, a.px(m.nll_mean + m.nll_sem), y, true);
  }
  const auto* base = r.find_marginal(r.baseline);
  const bool has_base = base && std::isfinite(base->nll_mean);
  if (has_base) dashed_line(cr, a.px(base->nll_mean), a.y0, a.px(base->nll_mean), a.y0 + a.h, kBlue, 0.5, 1.5, true);
  cairo_restore(cr);
  frame(cr, a, "All Conditions: Mean NLL (± SEM)", "Mean NLL (lower = better)", "", labels, {}, 8.5);
  if (has_base)
    legend(cr, a, {{"Baseline (" + r.baseline + ") = " + fmt("%.4f", base->nll_mean), kBlue, 0.5, 1.5, true}}, 8.5, true);
}

// Panel 2: the critical comparison bars.
void panel_critical(cairo_t* cr, const Reduction& r, Axes a) {
  std::vector<const stats::ConditionMarginal*> ms;
  std::vector<std::string> labels;
  double hi = 0;
  const double slot = a.w / std::max<size_t>(1, r.figure_critical.size());
  font(cr, kCategoryPt);
  for (const auto& id : r.figure_critical) {
    const auto* m = r.find_marginal(id);
    ms.push_back(m);
    labels.push_back(id + "\n" + wrap(cr, m ? m->name : "(not in results)", 0.92 * slot));
    if (m) hi = std::max(hi, finite_or(m->nll_mean, 0) + finite_or(m->nll_sem, 0));
  }
  a.xr = {-0.6, static_cast<double>(ms.size()) - 0.4};
  a.yr = {0, hi > 0 ? hi * 1.05 : 1};
  clip(cr, a);
  const double bw = 0.8 * a.w / (a.xr.hi - a.xr.lo);
  for (size_t k = 0; k < ms.size(); ++k) {
    if (!ms[k] || !std::isfinite(ms[k]->nll_mean)) continue;
    const double x = a.px(static_cast<double>(k));
    colour(cr, hex(condition_colour(ms[k]->id, ms[k]->name)), 0.8);
    cairo_rectangle(cr, x - bw / 2, a.py(ms[k]->nll_mean), bw, a.py(0) - a.py(ms[k]->nll_mean));
    cairo_fill(cr);
    if (std::isfinite(ms[k]->nll_sem))
      error_bar(cr, x, a.py(ms[k]->nll_mean - ms[k]->nll_sem), x, a.py(ms[k]->nll_mean + ms[k]->nll_sem), false);
  }
  const auto* base = r.find_marginal(r.baseline);
  if (base && std::isfinite(base->nll_mean))
    dashed_line(cr, a.x0, a.py(base->nll_mean), a.x0 + a.w, a.py(base->nll_mean), kBlue, 0.5, 1.5, true);
  cairo_restore(cr);
  frame(cr, a, "Critical Test: RoPE Correction Effect (± SEM)", "", "Mean NLL", {}, labels, kCategoryPt);
}

// Panel 3: histogram of the figure condition's deltas (numpy.histogram bins over [min, max]).
void panel_histogram(cairo_t* cr, const Reduction& r, Axes a, int nbins) {
  const auto& d = r.figure_delta;
  const std::string title = r.figure_condition + " vs Baseline: Delta Distribution (n=" + std::to_string(d.size()) + ")";
  const std::string xlabel = "Delta NLL (positive = " + r.figure_condition + " better than baseline)";
  if (d.empty()) {
    frame(cr, a, title, xlabel, "Count");
    no_data(cr, a, "no samples with both conditions");
    return;
  }
  double lo = *std::min_element(d.begin(), d.end()), hi = *std::max_element(d.begin(), d.end());
  if (lo == hi) lo -= 0.5, hi += 0.5;
  std::vector<int64_t> counts(nbins, 0);
  for (double v : d) counts[std::min<int64_t>(nbins - 1, static_cast<int64_t>((v - lo) / (hi - lo) * nbins))]++;
  const double mean = [&] {
    long double s = 0;
    for (double v : d) s += v;
    return static_cast<double>(s / d.size());
  }();
  const int64_t top = *std::max_element(counts.begin(), counts.end());
  a.xr = padded(std::min(lo, 0.0), std::max(hi, 0.0));
  a.yr = {0, top * 1.05};
  clip(cr, a);
  for (int b = 0; b < nbins; ++b) {
    const double x1 = a.px(lo + (hi - lo) * b / nbins), x2 = a.px(lo + (hi - lo) * (b + 1) / nbins);
    cairo_rectangle(cr, x1, a.py(static_cast<double>(counts[b])), x2 - x1, a.py(0) - a.py(static_cast<double>(counts[b])));
    colour(cr, hex("#FF9800"), 0.7);
    cairo_fill_preserve(cr);
    colour(cr, kBlack);
    cairo_set_line_width(cr, 0.6);
    cairo_stroke(cr);
  }
  dashed_line(cr, a.px(0), a.y0, a.px(0), a.y0 + a.h, kRed, 1, 2, true);
  dashed_line(cr, a.px(mean), a.y0, a.px(mean), a.y0 + a.h, kBlue, 1, 2, false);
  cairo_restore(cr);
  frame(cr, a, title, xlabel, "Count");
  legend(cr, a, {{"Zero", kRed, 1, 2, true}, {"Mean=" + fmt("%.4f", mean), kBlue, 1, 2, false}}, 9);
}

// Panel 4: similarity vs delta with the least-squares line.
void panel_scatter(cairo_t* cr, const Reduction& r, Axes a) {
  const auto& x = r.figure_delta_similarity;
  const auto& y = r.figure_scatter_delta;
  const auto& c = r.figure_correlation;
  // The notebook prints p with %.4f; a p below 1e-4 would show as 0.0000, so switch to %.2e.
  const std::string p_text = std::isfinite(c.p) && c.p < 1e-4 ? fmt("%.2e", c.p) : fmt("%.4f", c.p);
  const std::string title = "Similarity vs " + r.figure_condition + " Benefit (r=" + fmt("%.3f", c.r) +
                            ", p=" + p_text + ", n=" + std::to_string(x.size()) + ")";
  const std::string ylabel = "Delta NLL (positive = " + r.figure_condition + " better)";
  if (x.empty()) {
    frame(cr, a, title, "Surrogate-Query Similarity", ylabel);
    no_data(cr, a, "no samples with similarity and both conditions");
    return;
  }
  const auto [xmin, xmax] = std::minmax_element(x.begin(), x.end());
  const auto [ymin, ymax] = std::minmax_element(y.begin(), y.end());
  a.xr = padded(*xmin, *xmax);
  a.yr = padded(std::min(*ymin, 0.0), std::max(*ymax, 0.0));
  clip(cr, a);
  // matplotlib's s=20 is an area in pt^2: a disc of radius sqrt(20 / pi) ~ 2.5 pt.
  const double radius = std::sqrt(20.0 / M_PI);
  colour(cr, hex("#FF9800"), 0.4);
  for (size_t k = 0; k < x.size(); ++k) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, a.px(x[k]), a.py(y[k]), radius, 0, 2 * M_PI);
  }
  cairo_fill(cr);
  dashed_line(cr, a.x0, a.py(0), a.x0 + a.w, a.py(0), kGrey, 0.5, 1.5, true);
  if (std::isfinite(c.slope) && std::isfinite(c.intercept))
    dashed_line(cr, a.px(*xmin), a.py(c.intercept + c.slope * *xmin), a.px(*xmax),
                a.py(c.intercept + c.slope * *xmax), kRed, 1, 2, false);
  cairo_restore(cr);
  frame(cr, a, title, "Surrogate-Query Similarity", ylabel);
}

void draw(cairo_t* cr, const Reduction& r, double w, double h) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  font(cr, 13, true);
  colour(cr, kBlack);
  std::string head = "Directed KV cache: " + std::to_string(r.num_done) + " completed samples";
  if (r.num_done < r.num_samples) head += " of " + std::to_string(r.num_samples) + " (partial results)";
  text(cr, head, w / 2, 14, 0.5, 0);
  // 2 x 2 grid; left panels leave room for category labels (panel 1) and tick labels.
  const double top = 52, mid_gap = 96, bottom = 62, right = 24;
  const double ph = (h - top - mid_gap - bottom) / 2;
  // Panel 1's left margin fits its longest "id name" label (within a third of the page).
  font(cr, 8.5);
  double widest = 0;
  for (const auto& m : r.marginals) widest = std::max(widest, text_width(cr, m.id + " " + m.name));
  const double left1 = std::clamp(widest + 30, 100.0, w / 3), left2 = 80, gap = 90;  // left2: numeric ticks
  const double pw = (w - left1 - gap - right) / 2;
  const double xl = left1, xr = left1 + pw + gap;
  const double yt = top, yb = top + ph + mid_gap;
  panel_all_conditions(cr, r, Axes{xl, yt, pw, ph, {}, {}});
  panel_critical(cr, r, Axes{xr, yt, pw, ph, {}, {}});
  panel_histogram(cr, r, Axes{left2, yb, xl + pw - left2, ph, {}, {}}, r.histogram_bins);
  panel_scatter(cr, r, Axes{xr, yb, pw, ph, {}, {}});
}

void check(cairo_status_t s, const std::string& call, const std::string& path) {
  if (s != CAIRO_STATUS_SUCCESS) throw IoError(call + ": " + path + ": " + cairo_status_to_string(s));
}

}  // namespace

std::string condition_colour(const std::string& id, const std::string& name) {
  // The notebook's palette: baselines blue, full-context green, truncated orange (red when the
  // RoPE positions are left broken), suffix purple, random-prefix controls brown.
  if (name.find("broken") != std::string::npos) return "#F44336";
  switch (id.empty() ? '?' : id[0]) {
    case 'A': return "#2196F3";
    case 'B': return "#4CAF50";
    case 'C': return "#FF9800";
    case 'D': return "#9C27B0";
    case 'E': return "#795548";
    default: return "#9E9E9E";
  }
}

namespace {
// Cairo writes through this into memory; write_file_atomic then puts the bytes on disk, so a
// full disk never leaves a partial figure and reports the OS reason.
cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}
}  // namespace

void write_figure_png(const Reduction& r, const std::string& path, const FigureOptions& opt) {
  const int W = static_cast<int>(std::lround(opt.width_in * opt.dpi));
  const int H = static_cast<int>(std::lround(opt.height_in * opt.dpi));
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t* cr = cairo_create(s);
  cairo_scale(cr, opt.dpi / 72.0, opt.dpi / 72.0);
  draw(cr, r, opt.width_in * 72, opt.height_in * 72);
  const cairo_status_t draw_status = cairo_status(cr);
  cairo_destroy(cr);
  std::string bytes;
  const cairo_status_t write_status =
      draw_status == CAIRO_STATUS_SUCCESS ? cairo_surface_write_to_png_stream(s, append_bytes, &bytes) : draw_status;
  cairo_surface_destroy(s);
  check(draw_status, "cairo drawing", path);
  check(write_status, "cairo_surface_write_to_png_stream", path);
  write_file_atomic(path, bytes);
}

void write_figure_svg(const Reduction& r, const std::string& path, const FigureOptions& opt) {
  std::string bytes;
  cairo_surface_t* s = cairo_svg_surface_create_for_stream(append_bytes, &bytes, opt.width_in * 72, opt.height_in * 72);
  check(cairo_surface_status(s), "cairo_svg_surface_create_for_stream", path);
  cairo_t* cr = cairo_create(s);
  draw(cr, r, opt.width_in * 72, opt.height_in * 72);
  const cairo_status_t draw_status = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(s);
  const cairo_status_t write_status = cairo_surface_status(s);
  cairo_surface_destroy(s);
  check(draw_status, "cairo drawing", path);
  check(write_status, "cairo_svg_surface_finish", path);
  write_file_atomic(path, bytes);
}

}  // namespace dkv::report
