// `dkv bench scaling`: the demo workload under mpirun at 1 and R ranks (one BLAS thread per
// rank), samples/s of each run's compute loop and the parallel efficiency, in one invocation.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <limits.h>
#include <regex>
#include <string>

#include "cli/bench_env.h"
#include "cli/commands.h"
#include "dkv/core/error.h"

namespace dkv::cli {

namespace {

std::string self_path() {
  char buf[PATH_MAX];
  const auto n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw IoError("readlink(/proc/self/exe) failed");
  return std::string(buf, static_cast<size_t>(n));
}

// Runs `dkv run` under mpirun with `ranks` ranks and returns the samples/s it reports for its
// compute loop (model loading and MPI start-up excluded).
double run_rate(const std::string& config, int ranks, const std::string& out) {
  const auto cmd = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np " +
                   std::to_string(ranks) + " " + self_path() + " run " + config + " --threads 1 --fresh --out " +
                   out + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw IoError("popen(" + cmd + ") failed");
  std::string text;
  std::array<char, 4096> buf;
  while (fgets(buf.data(), buf.size(), p)) text += buf.data();
  if (pclose(p) != 0) throw Error("bench scaling: the run failed:\n" + text);
  std::smatch m;
  std::string last;
  const std::regex rate(R"(([0-9.]+) samples/s)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), rate); it != std::sregex_iterator(); ++it)
    last = (*it)[1];
  if (last.empty()) throw Error("bench scaling: no samples/s line in the run's output:\n" + text);
  return std::stod(last);
}

}  // namespace

void add_bench_scaling(CLI::App& app) {
  struct Args {
    std::string config = "configs/demo_tiny.yaml", out = "results/bench/scaling";
    int ranks = 2;
  };
  auto a = std::make_shared<Args>();
  CLI::App* bench = app.get_subcommand("bench");  // registered by add_bench (cmd_bench.cpp)
  auto* cmd = bench->add_subcommand("scaling", "samples/s at 1 and N ranks, parallel efficiency");
  cmd->add_option("--config", a->config, "experiment YAML (its models must exist: tools/demo.sh)");
  cmd->add_option("--ranks", a->ranks, "ranks of the second run")->check(CLI::Range(2, 64));
  cmd->add_option("--out", a->out, "scratch output folder");
  cmd->callback([a] {
    std::printf("%s\n", bench_environment().c_str());
    const double one = run_rate(a->config, 1, a->out + "-1");
    const double many = run_rate(a->config, a->ranks, a->out + "-" + std::to_string(a->ranks));
    std::printf("1 rank: %.3f samples/s; %d ranks: %.3f samples/s (1 BLAS thread per rank)\n", one, a->ranks,
                many);
    std::printf("speed-up %.2f, parallel efficiency %.0f%%\n", many / one, 100 * many / one / a->ranks);
  });
}

}  // namespace dkv::cli
