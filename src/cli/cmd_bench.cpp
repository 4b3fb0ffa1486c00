// `dkv bench ...`: benchmarks that print ratios measured side by side in one run.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "cli/bench_env.h"
#include "cli/commands.h"
#include "cli/dtype_option.h"
#include "dkv/model/decoder.h"
#include "dkv/model/flops.h"
#include "dkv/model/tiny_model.h"

namespace dkv::cli {

namespace {

struct ForwardBenchArgs {
  BenchModelShape shape;
  int64_t seq = 256, batch = 8;
  int repeats = 5;
  std::string dtype = "fp32";
};

void bench_forward(const ForwardBenchArgs& a) {
  const auto& m = a.shape;
  const auto config = m.config(model::Architecture::llama);
  const auto dtype = parse_dtype(a.dtype);
  auto decoder = random_decoder(config, dtype);
  const int64_t B = a.batch, T = a.seq, tokens = B * T;

  std::cout << bench_environment() << "\n";
  std::printf("model: llama, %lld layers, hidden %lld, heads %lld/%lld, vocab %lld, %.1fM parameters, %s\n",
              (long long)m.layers, (long long)m.hidden, (long long)m.heads, (long long)m.kv_heads,
              (long long)m.vocab, decoder.parameter_count() / 1e6, a.dtype.c_str());

  at::manual_seed(1);
  model::ForwardInput in;
  in.ids = at::randint(3, m.vocab, {B, T}, at::kLong);
  in.logit_rows = at::arange(B, at::kLong) * T + (T - 1);  // prefill: last position only
  MatmulProbe mm_model(tokens, m.hidden, m.intermediate), mm_cube(1024, 1024, 1024);
  const auto secs = interleaved_median_seconds(
      a.repeats, {[&] {
                    auto cache = decoder.new_cache();
                    decoder.forward(in, &cache);
                  },
                  [&] { mm_model(); }, [&] { mm_cube(); }});
  const double s = secs[0];

  // The full T x T attention square is counted: the prefill computes it before masking.
  const double flops = model::forward_flops(config, B, T, /*past=*/0, /*logit_rows=*/B);
  const double model_rate = flops / s / 1e9;

  const double mm_model_rate = mm_model.flops() / secs[1] / 1e9;
  const double mm_cube_rate = mm_cube.flops() / secs[2] / 1e9;
  std::printf("prefill: batch %lld x seq %lld = %lld tokens in %.3f s -> %.0f tokens/s, %.1f GFLOP/s\n",
              (long long)B, (long long)T, (long long)tokens, s, tokens / s, model_rate);
  std::printf("matmul fp32 [%lld x %lld] x [%lld x %lld]: %.1f GFLOP/s; 1024^3: %.1f GFLOP/s\n",
              (long long)tokens, (long long)m.hidden, (long long)m.hidden, (long long)m.intermediate,
              mm_model_rate, mm_cube_rate);
  std::printf("ratio: forward / matmul = %.2f (model-shaped), %.2f (1024^3)\n",
              model_rate / mm_model_rate, model_rate / mm_cube_rate);
}

}  // namespace

void add_bench(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "benchmarks (ratios measured in one run)");
  bench->require_subcommand(1);
  auto fa = std::make_shared<ForwardBenchArgs>();
  auto* fwd = bench->add_subcommand("forward", "prefill tokens/s next to the matmul FLOP rate");
  fa->shape.add_options(fwd);
  fwd->add_option("--seq", fa->seq);
  fwd->add_option("--batch", fa->batch);
  fwd->add_option("--repeats", fa->repeats);
  fwd->add_option("--dtype", fa->dtype);
  fwd->callback([fa] { bench_forward(*fa); });
}

}  // namespace dkv::cli
