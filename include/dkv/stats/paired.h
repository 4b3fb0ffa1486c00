// Statistical primitives of the reducer, each defined exactly as the scipy / numpy / pandas /
// statsmodels function it names, so that goldens from tools/gen_stats_golden.py match to 1e-9.
// Distributions come from Boost.Math. No function throws on degenerate input: a result that
// scipy reports as NaN is NaN here too, with the reason in `nan_reason`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dkv::stats {

// numpy.mean: NaN for an empty input. Accumulates in long double (at least as accurate as
// numpy's pairwise sum, so the two agree to a few ulps).
double mean(const std::vector<double>& x);

// numpy.std(x, ddof): sqrt(sum((x - mean)^2) / (n - ddof)); NaN when n - ddof <= 0.
double std_dev(const std::vector<double>& x, int ddof);

// scipy.stats.ttest_rel(a, b) (two-sided) on d = a - b, plus the t-based confidence interval
// of mean(d) as TtestResult.confidence_interval(confidence): mean + t.ppf(tail, n - 1) * se
// for tail = (1 - confidence) / 2 and 1 - tail, se = sd(d, ddof=1) / sqrt(n).
// Degenerate cases follow scipy: n < 2 -> t, p, interval NaN; sd = 0 and mean != 0 ->
// t = +-inf, p = 0; sd = 0 and mean = 0 -> t, p NaN; sd = 0 -> interval [mean, mean].
struct PairedT {
  int64_t n = 0;
  double df = 0;             // n - 1
  double mean_delta = 0;     // mean(a - b)
  double sd_delta = 0;       // std(a - b, ddof=1)
  double t = 0, p = 0;
  double ci_low = 0, ci_high = 0;
  std::string nan_reason;    // empty when t, p and the interval are all finite
};
PairedT paired_t(const std::vector<double>& a, const std::vector<double>& b,
                 double confidence = 0.95);

// The study's Cohen's d: mean(d) / std(d, ddof=1) if np.std(d) > 0 else 0 (notebook cell
// "Build summary table"). NaN only for an empty input; n = 1 gives 0 as the notebook would.
double cohens_d_study(const std::vector<double>& delta);

// scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False, alternative='two-sided',
// method='approx'): zeros dropped, average ranks of |d|, T = min(R+, R-), normal
// approximation with the tie correction of the variance, p = 2 * norm.sf(|z|). We always use
// the normal approximation (scipy's 'auto' would switch to the exact null for n <= 25 without
// ties or zeros); it is a robustness check next to the t-test, not the primary test.
// All-zero or empty d -> NaN (scipy raises ValueError).
struct Wilcoxon {
  int64_t n_nonzero = 0, n_zero = 0;
  double statistic = 0;   // T = min(R+, R-)
  double z = 0, p = 0;
  std::string nan_reason;
};
Wilcoxon wilcoxon_signed_rank(const std::vector<double>& d);

// scipy.stats.pearsonr(x, y), two-sided; p = 2 * beta(n/2-1, n/2-1, loc=-1, scale=2).sf(|r|).
// n < 2 -> NaN (scipy raises); a constant input -> NaN; n = 2 -> r = ±1, p = 1 (as scipy).
// `slope` and `intercept` are numpy.polyfit(x, y, 1) (least squares), for the figure.
struct Pearson {
  int64_t n = 0;
  double r = 0, p = 0;
  double slope = 0, intercept = 0;
  std::string nan_reason;
};
Pearson pearson(const std::vector<double>& x, const std::vector<double>& y);

// statsmodels.stats.multitest.multipletests(p, method='holm' / 'fdr_bh')[1]. NaN entries are
// left out of the family (m counts only finite p values) and stay NaN in the output.
std::vector<double> holm_adjust(const std::vector<double>& p);
std::vector<double> bh_adjust(const std::vector<double>& p);

// numpy.quantile(x, q) with the default 'linear' method, including numpy's two-sided lerp
// (a + (b-a)*g for g < 0.5, b - (b-a)*(1-g) otherwise), so that edges equal numpy's bit for
// bit. Precondition: x non-empty and without NaN.
double numpy_quantile(std::vector<double> x, double q);

// pandas.qcut(x, q) (duplicates='raise'): edges = numpy.quantile(x without NaN,
// linspace(0, 1, q + 1)); bin i is (edge[i], edge[i+1]], the first also holding edge[0].
// bin[k] is -1 for NaN x. Duplicate edges: `error` is set (pandas raises "Bin edges must be
// unique") and bins are empty.
struct Qcut {
  std::vector<double> edges;
  std::vector<int> bin;
  std::string error;
};
Qcut qcut(const std::vector<double>& x, int q);

}  // namespace dkv::stats
