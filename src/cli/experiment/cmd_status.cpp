// `dkv status results.h5`: progress of a (possibly running or interrupted) run.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "dkv/io/results_file.h"

namespace dkv::cli {

void add_status(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("status", "done/total per condition and the last update time");
  cmd->add_option("results", *path, "results.h5")->required();
  cmd->callback([path] {
    const auto t = io::read_results(*path);
    const auto N = t.rows.size();
    int64_t failed = 0;
    for (const auto& r : t.rows) failed += r.done && !r.error.empty();
    std::printf("%s: %lld/%zu samples done (%lld failed), updated %s, config %s\n", path->c_str(),
                (long long)t.num_done(), N, (long long)failed, t.updated_utc.c_str(),
                t.identity.config_hash.c_str());
    for (size_t c = 0; c < t.condition_ids.size(); ++c) {
      int64_t n = 0;
      for (const auto& r : t.rows) n += r.done && std::isfinite(r.nll[c]);
      std::printf("  %-4s %-32s %lld/%zu\n", t.condition_ids[c].c_str(), t.condition_names[c].c_str(),
                  (long long)n, N);
    }
  });
}

}  // namespace dkv::cli
