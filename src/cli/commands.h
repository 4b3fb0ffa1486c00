// Subcommand registration for the dkv tool: one file per subcommand under src/cli/.
#pragma once

namespace CLI {
class App;
}

namespace dkv::cli {

// The process exit code a subcommand asks for (0 unless set), returned by main.
int& exit_code();

void add_make_tiny_model(CLI::App& app);
void add_forward(CLI::App& app);
void add_bench(CLI::App& app);
void add_tokenize(CLI::App& app);
void add_bench_tokenize(CLI::App& app);  // after add_bench: adds `bench tokenize`
void add_bench_rotate(CLI::App& app);    // after add_bench: adds `bench rotate`
void add_embed(CLI::App& app);
void add_quantize(CLI::App& app);
void add_import_gguf(CLI::App& app);
void add_generate(CLI::App& app);

#ifdef DKV_WITH_EXPERIMENT
// src/cli/experiment/: need yaml-cpp, HDF5 and MPI.
void add_run(CLI::App& app);
void add_status(CLI::App& app);
void add_report(CLI::App& app);
void add_bench_experiment(CLI::App& app);  // after add_bench: adds `bench experiment`
void add_bench_quant(CLI::App& app);       // after add_bench: adds `bench quant`
void add_bench_report(CLI::App& app);      // after add_bench: adds `bench report`
void add_bench_scaling(CLI::App& app);     // after add_bench: adds `bench scaling`
#endif

}  // namespace dkv::cli
