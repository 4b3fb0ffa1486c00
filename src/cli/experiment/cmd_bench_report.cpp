// `dkv bench report`: the whole `dkv report` (read results.h5, reduce, tables, figure) on a
// random 10,000-sample x 20-condition file.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "dkv/core/rng.h"
#include "dkv/experiment/spec.h"
#include "dkv/io/results_file.h"
#include "dkv/report/report_run.h"

namespace dkv::cli {

namespace {

// A results file with `samples` done rows over the study's conditions plus copies of A1 up to
// `conditions`, NLLs ~ N(2 + condition effect, 0.5) from a fixed seed.
std::string write_random_results(const std::string& dir, int64_t samples, int conditions) {
  auto spec = experiment::parse_spec(
      "name: bench\nmodel: {path: m}\nembedding: {path: e}\ndataset: {path: d}\n", "bench.yaml");
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
  }
  std::filesystem::create_directories(dir);
  const auto path = dir + "/results.h5";
  io::write_results(path, table);
  return path;
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
  auto* cmd = bench->add_subcommand("report", "dkv report on a random 10,000 x 20 results file");
  cmd->add_option("--out", a->out, "where the results file and report go");
  cmd->add_option("--samples", a->samples);
  cmd->add_option("--conditions", a->conditions)->check(CLI::Range(15, 1000));
  cmd->callback([a] {
    const auto path = write_random_results(a->out, a->samples, a->conditions);
    const auto start = std::chrono::steady_clock::now();
    report::report_results(path, a->out);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("dkv report on %lld samples x %d conditions (read + reduce + tables + figure): %.3f s "
                "(target < 2 s)\n", (long long)a->samples, a->conditions, s);
  });
}

}  // namespace dkv::cli
