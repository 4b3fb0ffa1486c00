// `dkv run CONFIG`: runs or resumes an experiment into one results.h5.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "dkv/experiment/runner.h"
#include "dkv/report/report_run.h"

namespace dkv::cli {

void add_run(CLI::App& app) {
  struct Args {
    std::string config;
    experiment::RunOptions options;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("run", "run (or resume) an experiment from a YAML config");
  cmd->add_option("config", args->config, "experiment YAML (see configs/README.md)")->required();
  cmd->add_option("--out", args->options.out_dir, "output folder (default: output.dir, results/<name>)");
  cmd->add_flag("--fresh", args->options.fresh,
                "set an existing results.h5 aside (renamed, never deleted) and start over");
  cmd->add_option("--chunk", args->options.chunk_size, "samples per work unit");
  cmd->add_flag("--quiet", args->options.quiet, "no progress output");
  cmd->add_flag("--dump-tokens", args->options.dump_tokens,
                "write tokens.jsonl: every row's ids, kept entries and positions");
  cmd->callback([args] {
    auto spec = experiment::load_spec(args->config);
    auto path = experiment::run_experiment(spec, args->options);
    // The reducer runs after the run loop, on the file as written (so it sees exactly what a
    // later `dkv report` would).
    const auto files = report::report_results(path, "");
    if (!args->options.quiet)
      std::cerr << "report: " << files.report_md << ", " << files.figure_png << "\n";
    std::cout << path << "\n";
  });
}

}  // namespace dkv::cli
