// dkv command-line entry point: parses subcommands and turns dkv errors into one-line messages.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "dkv/core/error.h"
#include "dkv/core/host_memory.h"

int& dkv::cli::exit_code() {
  static int code = 0;
  return code;
}

int main(int argc, char** argv) {
  dkv::keep_freed_host_memory();
  CLI::App app{"dkv: directed KV-cache experiments on decoder LLMs"};
  app.set_version_flag("--version", std::string("dkv ") + DKV_VERSION);
  app.require_subcommand(1);
  dkv::cli::add_make_tiny_model(app);
  dkv::cli::add_forward(app);
  dkv::cli::add_bench(app);
  dkv::cli::add_bench_tokenize(app);
  dkv::cli::add_bench_rotate(app);
  dkv::cli::add_tokenize(app);
  dkv::cli::add_embed(app);
  dkv::cli::add_quantize(app);
  dkv::cli::add_import_gguf(app);
  dkv::cli::add_generate(app);
#ifdef DKV_WITH_EXPERIMENT
  dkv::cli::add_run(app);
  dkv::cli::add_status(app);
  dkv::cli::add_report(app);
  dkv::cli::add_bench_experiment(app);
  dkv::cli::add_bench_quant(app);
  dkv::cli::add_bench_report(app);
  dkv::cli::add_bench_scaling(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const dkv::Error& e) {
    std::cerr << "dkv: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    // LibTorch (c10::Error) and the standard library: reported, not an abort.
    std::cerr << "dkv: unexpected error: " << e.what() << "\n";
    return 1;
  }
  return dkv::cli::exit_code();
}
