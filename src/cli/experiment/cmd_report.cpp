// `dkv report results.h5`: statistics, tables and the figure from a complete or partial run.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "dkv/report/report_run.h"

namespace dkv::cli {

void add_report(CLI::App& app) {
  struct Args {
    std::string results, out;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("report", "statistics, tables and figures from results.h5");
  cmd->add_option("results", args->results, "results.h5")->required();
  cmd->add_option("--out", args->out, "output folder (default: the results file's folder)");
  cmd->callback([args] {
    const auto f = report::report_results(args->results, args->out);
    for (const auto& p : {f.summary_csv, f.report_json, f.report_md, f.figure_png, f.figure_svg, f.report_html})
      std::cout << p << "\n";
  });
}

}  // namespace dkv::cli
