// Statistical primitives, each matching the scipy / numpy / pandas / statsmodels definition
// named in include/dkv/stats/paired.h. Distributions: Boost.Math.
#include "dkv/stats/paired.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace dkv::stats {
namespace {

namespace bmp = boost::math::policies;
// Degenerate arguments must give NaN / 0 rather than throw: the caller records the reason.
using Policy = bmp::policy<bmp::domain_error<bmp::ignore_error>, bmp::overflow_error<bmp::ignore_error>,
                           bmp::evaluation_error<bmp::ignore_error>, bmp::pole_error<bmp::ignore_error>>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

long double sum_ld(const std::vector<double>& x) {
  long double s = 0;
  for (double v : x) s += v;
  return s;
}

// Sum of squared deviations from the mean, two-pass like numpy.var.
long double sum_sq_dev(const std::vector<double>& x, long double m) {
  long double s = 0;
  for (double v : x) {
    long double d = static_cast<long double>(v) - m;
    s += d * d;
  }
  return s;
}

// Two-sided Student-t tail, as scipy's stdtr(df, -|t|) * 2.
double t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return 0.0;
  boost::math::students_t_distribution<double, Policy> dist(df);
  return 2.0 * boost::math::cdf(dist, -std::fabs(t));
}

}  // namespace

double mean(const std::vector<double>& x) {
  if (x.empty()) return kNaN;
  return static_cast<double>(sum_ld(x) / static_cast<long double>(x.size()));
}

double std_dev(const std::vector<double>& x, int ddof) {
  const int64_t n = static_cast<int64_t>(x.size());
  if (n - ddof <= 0) return kNaN;
  long double m = sum_ld(x) / static_cast<long double>(n);
  return static_cast<double>(std::sqrt(sum_sq_dev(x, m) / static_cast<long double>(n - ddof)));
}

PairedT paired_t(const std::vector<double>& a, const std::vector<double>& b, double confidence) {
  PairedT r;
  const size_t n = std::min(a.size(), b.size());
  std::vector<double> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = a[i] - b[i];
  r.n = static_cast<int64_t>(n);
  r.df = static_cast<double>(r.n) - 1.0;
  r.mean_delta = mean(d);
  r.sd_delta = std_dev(d, 1);
  r.t = r.p = r.ci_low = r.ci_high = kNaN;
  if (r.n < 2) {
    r.nan_reason = "fewer than 2 paired samples (n=" + std::to_string(r.n) + ")";
    return r;
  }
  const double se = r.sd_delta / std::sqrt(static_cast<double>(r.n));
  boost::math::students_t_distribution<double, Policy> dist(r.df);
  // scipy's TtestResult.confidence_interval: stdtrit(df, tail) * se + mean, tail = (1 - level) / 2.
  const double tail = (1 - confidence) / 2;
  r.ci_low = boost::math::quantile(dist, tail) * se + r.mean_delta;
  r.ci_high = boost::math::quantile(dist, 1 - tail) * se + r.mean_delta;
  if (se == 0.0) {
    // scipy: dm / 0 -> ±inf (p = 0) or nan (0 / 0); the interval collapses to [mean, mean].
    if (r.mean_delta == 0.0) {
      r.nan_reason = "all deltas are zero: t = 0/0";
    } else {
      r.t = r.mean_delta > 0 ? kInf : -kInf;
      r.p = 0.0;
      r.nan_reason = "zero-variance deltas: t = +-inf, p = 0";
    }
    return r;
  }
  r.t = r.mean_delta / se;
  r.p = t_two_sided_p(r.t, r.df);
  return r;
}

double cohens_d_study(const std::vector<double>& delta) {
  if (delta.empty()) return kNaN;
  if (!(std_dev(delta, 0) > 0)) return 0.0;
  return mean(delta) / std_dev(delta, 1);
}

Wilcoxon wilcoxon_signed_rank(const std::vector<double>& d_all) {
  Wilcoxon w;
  std::vector<double> d;
  d.reserve(d_all.size());
  for (double v : d_all) {
    if (v == 0.0) ++w.n_zero;
    else d.push_back(v);
  }
  w.n_nonzero = static_cast<int64_t>(d.size());
  if (d.empty()) {
    w.statistic = w.z = w.p = kNaN;
    w.nan_reason = "all differences are zero (scipy raises for zero_method='wilcox')";
    return w;
  }
  // scipy.stats.rankdata(|d|, method='average'), then R+ / R-.
  const size_t n = d.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t i, size_t j) { return std::fabs(d[i]) < std::fabs(d[j]); });
  double r_plus = 0, r_minus = 0, tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && std::fabs(d[order[j]]) == std::fabs(d[order[i]])) ++j;
    const double rank = 0.5 * static_cast<double>(i + 1 + j);  // average of ranks i+1 .. j
    for (size_t k = i; k < j; ++k) (d[order[k]] > 0 ? r_plus : r_minus) += rank;
    const double t = static_cast<double>(j - i);
    if (j - i > 1) tie_term += t * (t * t - 1);
    i = j;
  }
  const double count = static_cast<double>(n);
  const double T = std::min(r_plus, r_minus);
  const double mn = count * (count + 1.) * 0.25;
  double se = count * (count + 1.) * (2. * count + 1.);
  se -= 0.5 * tie_term;
  se = std::sqrt(se / 24);
  w.statistic = T;
  w.z = (T - mn) / se;
  boost::math::normal_distribution<double, Policy> norm;
  w.p = 2.0 * boost::math::cdf(boost::math::complement(norm, std::fabs(w.z)));
  return w;
}

Pearson pearson(const std::vector<double>& x, const std::vector<double>& y) {
  Pearson r;
  const size_t n = std::min(x.size(), y.size());
  r.n = static_cast<int64_t>(n);
  r.r = r.p = r.slope = r.intercept = kNaN;
  if (n < 2) {
    r.nan_reason = "fewer than 2 samples (n=" + std::to_string(n) + ")";
    return r;
  }
  const bool x_const = std::all_of(x.begin(), x.begin() + n, [&](double v) { return v == x[0]; });
  const bool y_const = std::all_of(y.begin(), y.begin() + n, [&](double v) { return v == y[0]; });
  long double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= n;
  my /= n;
  long double sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) {
    long double dx = x[i] - mx, dy = y[i] - my;
    sxx += dx * dx, syy += dy * dy, sxy += dx * dy;
  }
  // The least-squares line exists unless x is constant (a constant y gives slope 0).
  if (!x_const) {
    r.slope = static_cast<double>(sxy / sxx);
    r.intercept = static_cast<double>(my - (sxy / sxx) * mx);
  }
  if (x_const || y_const) {
    r.nan_reason = "an input is constant: correlation undefined";
    return r;
  }
  if (n == 2) {
    // scipy: r = sign(dx) * sign(dy), p = 1.
    r.r = ((x[1] > x[0]) == (y[1] > y[0])) ? 1.0 : -1.0;
    r.p = 1.0;
    return r;
  }
  double rr = static_cast<double>(sxy / std::sqrt(sxx * syy));
  rr = std::max(std::min(rr, 1.0), -1.0);
  r.r = rr;
  const double ab = static_cast<double>(n) / 2.0 - 1.0;
  boost::math::beta_distribution<double, Policy> dist(ab, ab);
  // beta(ab, ab, loc=-1, scale=2).sf(|r|): scipy standardises x as (|r| - (-1)) / 2.
  r.p = 2.0 * boost::math::cdf(boost::math::complement(dist, (std::fabs(rr) + 1.0) / 2.0));
  return r;
}

namespace {
std::vector<size_t> finite_sorted_indices(const std::vector<double>& p) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t i, size_t j) { return p[i] < p[j]; });
  return idx;
}
}  // namespace

std::vector<double> holm_adjust(const std::vector<double>& p) {
  // statsmodels: maximum.accumulate(p_sorted * [m, m-1, ..., 1]), clipped at 1.
  std::vector<double> out(p.size(), kNaN);
  const auto idx = finite_sorted_indices(p);
  const double m = static_cast<double>(idx.size());
  double running = -kInf;
  for (size_t k = 0; k < idx.size(); ++k) {
    running = std::max(running, p[idx[k]] * (m - static_cast<double>(k)));
    out[idx[k]] = std::min(running, 1.0);
  }
  return out;
}

std::vector<double> bh_adjust(const std::vector<double>& p) {
  // statsmodels: minimum.accumulate from the top of p_sorted / (i / m), clipped at 1.
  std::vector<double> out(p.size(), kNaN);
  const auto idx = finite_sorted_indices(p);
  const size_t m = idx.size();
  double running = kInf;
  for (size_t k = m; k-- > 0;) {
    const double ecdf = static_cast<double>(k + 1) / static_cast<double>(m);
    running = std::min(running, p[idx[k]] / ecdf);
    out[idx[k]] = std::min(running, 1.0);
  }
  return out;
}

double numpy_quantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  const double virtual_index = (n - 1) * q;
  const double prev = std::floor(virtual_index);
  const size_t last = x.size() - 1;
  const size_t i = std::min(static_cast<size_t>(prev), last);
  const size_t j = std::min(i + 1, last);
  const double gamma = virtual_index - prev;
  const double a = x[i], b = x[j];
  const double diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

Qcut qcut(const std::vector<double>& x, int q) {
  Qcut out;
  std::vector<double> finite;
  for (double v : x)
    if (!std::isnan(v)) finite.push_back(v);
  if (q < 1) {
    out.error = "q must be at least 1, got " + std::to_string(q);
    return out;
  }
  if (finite.empty()) {
    out.error = "no finite values to bin";
    return out;
  }
  std::sort(finite.begin(), finite.end());
  for (int k = 0; k <= q; ++k) {
    // numpy.linspace(0, 1, q + 1): k * (1 / q) with the last point set to 1 exactly.
    const double level = k == q ? 1.0 : static_cast<double>(k) * (1.0 / q);
    out.edges.push_back(numpy_quantile(finite, level));
  }
  for (size_t k = 1; k < out.edges.size(); ++k) {
    if (out.edges[k] == out.edges[k - 1] && out.edges.size() != 2) {
      out.error = "bin edges are not unique (pandas.qcut raises 'Bin edges must be unique')";
      return out;
    }
  }
  out.bin.resize(x.size());
  for (size_t k = 0; k < x.size(); ++k) {
    if (std::isnan(x[k])) {
      out.bin[k] = -1;
      continue;
    }
    // searchsorted(edges, x, side='left'), then x == edge[0] -> 1 (include_lowest).
    int id = static_cast<int>(std::lower_bound(out.edges.begin(), out.edges.end(), x[k]) - out.edges.begin());
    if (x[k] == out.edges[0]) id = 1;
    out.bin[k] = (id == 0 || id == static_cast<int>(out.edges.size())) ? -1 : id - 1;
  }
  return out;
}

}  // namespace dkv::stats
