// `dkv run CONFIG`: runs or resumes an experiment into one results.h5.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "dkv/core/error.h"
#include "dkv/dist/stop_signal.h"
#include "dkv/dist/world.h"
#include "dkv/experiment/runner.h"
#include "dkv/report/report_run.h"

namespace dkv::cli {

namespace {
// An integer option >= `min`; CLI11's own range checks print the whole double range.
CLI::Validator whole_number(int64_t min, const std::string& expected) {
  return CLI::Validator(
      [min, expected](std::string& v) {
        try {
          size_t end = 0;
          const long long x = std::stoll(v, &end);
          if (end == v.size() && x >= min) return std::string();
        } catch (const std::exception&) {
        }
        return "expected " + expected + ", got '" + v + "'";
      },
      "INT");
}
}  // namespace

void add_run(CLI::App& app) {
  struct Args {
    int64_t threads = -1;
    std::string config;
    experiment::RunOptions options;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("run", "run (or resume) an experiment from a YAML config");
  cmd->add_option("config", args->config, "experiment YAML (see configs/README.md)")->required();
  cmd->add_option("--out", args->options.out_dir, "output folder (default: output.dir, results/<name>)");
  cmd->add_flag("--fresh", args->options.fresh,
                "set an existing results.h5 aside (renamed, never deleted) and start over");
  cmd->add_option("--chunk", args->options.chunk_size, "samples per work unit (stored; a resume must use the same)")
      ->check(whole_number(1, "a positive number of samples"));
  cmd->add_option("--stop-grace", args->options.stop_grace_s,
                  "seconds the work in flight may take to finish after a stop signal (default 20)")
      ->check(CLI::Validator(
          [](std::string& v) {
            try {
              size_t end = 0;
              const double x = std::stod(v, &end);
              if (end == v.size() && x >= 0 && x < 1e9) return std::string();
            } catch (const std::exception&) {
            }
            return "expected seconds >= 0, got '" + v + "'";
          },
          "SECONDS"));
  cmd->add_flag("--quiet", args->options.quiet, "no progress output");
  cmd->add_option("--threads", args->threads, "BLAS threads per rank (overrides runtime.threads; 0 = cores / ranks)")
      ->check(whole_number(0, "0 (cores / ranks) or a positive number of threads"));
  cmd->add_flag("--dump-tokens", args->options.dump_tokens,
                "write tokens.jsonl: every row's ids, kept entries and positions");
  cmd->callback([args] {
    dist::World world;  // MPI only under a launcher (mpirun, srun)
    try {
      auto spec = experiment::load_spec(args->config);
      if (args->threads >= 0) spec.runtime.threads = args->threads;
      const auto result = experiment::run_experiment(spec, args->options, world);
      if (world.rank() != 0) return;
      if (!result.complete) {
        std::cerr << "stopped early: " << result.done << "/" << result.total
                  << " samples done and saved; run the same command again to resume\n";
        std::cout << result.path << "\n";
        exit_code() = dist::kExitResubmit;  // main returns it after ~World (MPI_Finalize)
        return;
      }
      // The reducer runs on rank 0 after the run loop, on the file as written (so it sees
      // exactly what a later `dkv report` would).
      const auto files = report::report_results(result.path, "");
      if (!args->options.quiet)
        std::cerr << "report: " << files.report_md << ", " << files.figure_png << "\n";
      std::cout << result.path << "\n";
    } catch (const Error& e) {
      if (!world.mpi() || world.size() == 1) throw;
      std::cerr << "dkv: rank " << world.rank() << ": error: " << e.what() << "\n";
      world.abort(1);  // no rank may hang waiting for this one
    }
  });
}

}  // namespace dkv::cli
