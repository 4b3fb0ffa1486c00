// `dkv bench report`: the whole `dkv report` (read results.h5, reduce, tables, figure, HTML) on
// a random 10,000-sample x 20-condition file, once as exp 01's report and once with every
// declared analysis on (configs/v2_07_analysis.yaml's kinds), timed side by side in one run.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/bench_env.h"
#include "cli/commands.h"
#include "dkv/core/rng.h"
#include "dkv/experiment/spec.h"
#include "dkv/io/results_file.h"
#include "dkv/report/report_run.h"

namespace dkv::cli {

namespace {

// Every analysis kind at the study's sizes: 5 primary comparisons with a bootstrap of 1000,
// hardness quintiles, answer / passage length bins, intent classes, routing K = 1..5 with an
// intent rule, gating at six thresholds and three percentiles, PMI, both exclusions.
constexpr const char* kAllAnalyses = R"(report:
  primary: {comparisons: [[A1, C2], [A1, B1], [A1, C4], [A1, B2], [C1, C2]], correction: bonferroni, alpha: 0.05}
  strata:
    - {name: hardness, quantiles: 5}
    - {name: answer_length, variable: answer_tokens, bins: [0, 5, 16, .inf]}
    - {name: passage_length, variable: passage_words, bins: [0, 80, 201, .inf]}
    - {name: intent, variable: intent}
  routing: {max_k: 5, rules: [{name: by_intent, stratum: intent, choose: {definitional: C4, factual: C2}}]}
  gating: {conditions: [C2, B1], thresholds: [0, 0.3, 0.5, 0.8, 1.0, 1.5], percentiles: [25, 50, 75]}
  pmi: {reference: A2}
  bootstrap: {resamples: 1000, seed: 42}
  exclusions: {min_answer_tokens: 2, any_condition_nan: true}
)";

const char* kQueries[] = {"what is a cell membrane", "how to bake bread", "cost of a new roof", "python vs java",
                          "who wrote hamlet", "symptoms of flu", "rome", "how do magnets work"};

// A results file with `samples` done rows over the study's conditions plus copies of A1 up to
// `conditions`, NLLs ~ N(2 + condition effect, 0.5) from a fixed seed; queries, passages and
// answer token counts for the analyses' strata.
std::string write_random_results(const std::string& dir, int64_t samples, int conditions, bool analyses) {
  auto spec = experiment::parse_spec(std::string("name: bench\nmodel: {path: m}\nembedding: {path: e}\ndataset: {path: d}\n") +
                                         (analyses ? kAllAnalyses : ""),
                                     "bench.yaml");
  while (static_cast<int>(spec.conditions.size()) < conditions) {
    auto c = spec.conditions[0];
    c.id = "X" + std::to_string(spec.conditions.size());
    c.name = "extra_" + c.id;
    spec.conditions.push_back(c);
  }
  spec.conditions.resize(conditions);
  io::RunIdentity id;
  id.config_yaml = experiment::resolved_yaml(spec);
  std::vector<std::string> ids, names;
  for (const auto& c : spec.conditions) {
    ids.push_back(c.id);
    names.push_back(c.name);
  }
  auto table = io::new_table(id, ids, names, samples);
  Rng rng(1);
  for (auto& r : table.rows) {
    r.done = true;
    r.similarity = rng.uniform();
    const double base = 2 + 0.5 * rng.normal();
    for (int c = 0; c < conditions; ++c) r.nll[c] = base + 0.05 * c + 0.2 * rng.normal();
    r.query = kQueries[rng.below(8)];
    r.passage.clear();
    for (uint64_t w = 40 + rng.below(260); w > 0; --w) r.passage += "word ";
    r.answer_tokens.assign(conditions, static_cast<int32_t>(1 + rng.below(30)));
  }
  std::filesystem::create_directories(dir);
  const auto path = dir + "/results.h5";
  io::write_results(path, table);
  return path;
}

double time_report(const std::string& path, const std::string& dir) {
  const auto start = std::chrono::steady_clock::now();
  report::report_results(path, dir);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void add_bench_report(CLI::App& app) {
  struct Args {
    std::string out = "results/bench/report";
    int64_t samples = 10000;
    int conditions = 20;
  };
  auto a = std::make_shared<Args>();
  CLI::App* bench = app.get_subcommand("bench");  // registered by add_bench (cmd_bench.cpp)
  auto* cmd = bench->add_subcommand("report", "dkv report on a random 10,000 x 20 results file, without and with every analysis");
  cmd->add_option("--out", a->out, "where the results files and reports go (exp01/, analyses/)");
  cmd->add_option("--samples", a->samples);
  cmd->add_option("--conditions", a->conditions)->check(CLI::Range(15, 1000));
  cmd->callback([a] {
    std::cout << bench_environment() << "\n";
    const auto plain = write_random_results(a->out + "/exp01", a->samples, a->conditions, false);
    const auto all = write_random_results(a->out + "/analyses", a->samples, a->conditions, true);
    // Alternated twice, best of two each: the first report of a process also pays one-time
    // costs (fontconfig's cache, page faults) that would otherwise land on one side.
    double s_plain = 1e300, s_all = 1e300;
    for (int round = 0; round < 2; ++round) {
      s_plain = std::min(s_plain, time_report(plain, a->out + "/exp01"));
      s_all = std::min(s_all, time_report(all, a->out + "/analyses"));
    }
    std::printf("dkv report on %lld samples x %d conditions (read + reduce + tables + figure + html):\n"
                "  exp 01 report:        %.3f s (target < 2 s; best of 2)\n"
                "  with every analysis:  %.3f s (best of 2; %s/analyses/report.html)\n"
                "  ratio analyses / exp 01: %.2f\n",
                (long long)a->samples, a->conditions, s_plain, s_all, a->out.c_str(), s_all / s_plain);
  });
}

}  // namespace dkv::cli
