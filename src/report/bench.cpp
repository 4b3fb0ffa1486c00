// `dkv bench report`: time reduce + write on a random study-shaped matrix.
#include "dkv/report/bench.h"

#include <chrono>
#include <random>

#include "dkv/report/writers.h"
#include "dkv/stats/reduce.h"

namespace dkv::report {

ReportBenchTimings bench_report(const std::string& out_dir, int64_t samples, int conditions, uint64_t seed) {
  using clock = std::chrono::steady_clock;
  auto seconds = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  ReportBenchTimings t;
  t.samples = samples, t.conditions = conditions;

  const auto t0 = clock::now();
  stats::ResultMatrix m;
  // Ids cycle through the study's letters so every spec entry (A1, B1, C1, C2, ...) exists.
  const char* letters = "ABCDE";
  for (int c = 0; c < conditions; ++c) {
    m.condition_ids.push_back(std::string(1, letters[c / 4 % 5]) + std::to_string(c % 4 + 1) +
                              (c >= 20 ? "_" + std::to_string(c / 20) : ""));
    m.condition_names.push_back("condition_" + std::to_string(c));
  }
  m.num_samples = samples;
  m.nll.resize(static_cast<size_t>(samples) * conditions);
  m.similarity.resize(samples);
  m.done.assign(samples, true);
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> base_dist(4.0, 0.5);
  std::normal_distribution<double> noise(0.0, 0.25);
  std::uniform_real_distribution<double> sim(0.2, 0.95);
  for (int64_t s = 0; s < samples; ++s) {
    const double b = base_dist(rng);
    for (int c = 0; c < conditions; ++c)
      m.nll[s * conditions + c] = c == 0 ? b : std::max(0.01, b + 0.01 * (c - 10) + noise(rng));
    m.similarity[s] = sim(rng);
  }
  const auto t1 = clock::now();
  const auto r = stats::reduce(m);
  const auto t2 = clock::now();
  const auto files = write_tables(r, out_dir);  // write_report = write_tables + write_figures
  const auto t3 = clock::now();
  write_figures(r, files);
  const auto t4 = clock::now();
  t.generate_s = seconds(t0, t1);
  t.reduce_s = seconds(t1, t2);
  t.tables_s = seconds(t2, t3);
  t.figure_s = seconds(t3, t4);
  t.total_s = seconds(t1, t4);
  return t;
}

}  // namespace dkv::report
