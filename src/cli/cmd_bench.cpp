// `dkv bench ...`: benchmarks that print ratios measured side by side in one run.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "cli/bench_env.h"
#include "cli/commands.h"
#include "cli/dtype_option.h"
#include "dkv/model/decoder.h"
#include "dkv/model/tiny_model.h"

namespace dkv::cli {

namespace {

struct ForwardBenchArgs {
  int64_t layers = 8, hidden = 768, intermediate = 2048, heads = 12, kv_heads = 4, vocab = 32000;
  int64_t seq = 256, batch = 8;
  int repeats = 5;
  std::string dtype = "fp32";
};

void bench_forward(const ForwardBenchArgs& a) {
  model::TinyModelOptions o;
  o.vocab_size = a.vocab;
  o.hidden_size = a.hidden;
  o.intermediate_size = a.intermediate;
  o.num_hidden_layers = a.layers;
  o.num_attention_heads = a.heads;
  o.num_key_value_heads = a.kv_heads;
  const auto config = model::tiny_model_config(o);
  const auto dtype = parse_dtype(a.dtype);
  auto decoder = random_decoder(config, dtype);
  const int64_t B = a.batch, T = a.seq, tokens = B * T;

  std::cout << bench_environment() << "\n";
  std::printf("model: llama, %lld layers, hidden %lld, heads %lld/%lld, vocab %lld, %.1fM parameters, %s\n",
              (long long)a.layers, (long long)a.hidden, (long long)a.heads, (long long)a.kv_heads,
              (long long)a.vocab, decoder.parameter_count() / 1e6, a.dtype.c_str());

  at::manual_seed(1);
  model::ForwardInput in;
  in.ids = at::randint(3, a.vocab, {B, T}, at::kLong);
  in.logit_rows = at::arange(B, at::kLong) * T + (T - 1);  // prefill: last position only
  MatmulProbe mm_model(tokens, a.hidden, a.intermediate), mm_cube(1024, 1024, 1024);
  const auto secs = interleaved_median_seconds(
      a.repeats, {[&] {
                    auto cache = decoder.new_cache();
                    decoder.forward(in, &cache);
                  },
                  [&] { mm_model(); }, [&] { mm_cube(); }});
  const double s = secs[0];

  // FLOPs: every linear layer (2 per weight per token), attention scores and mixing over the
  // full T x T square, and the lm_head on the B scored rows.
  const double D = static_cast<double>(config.head_dim);
  const double per_layer_weights = static_cast<double>(a.hidden) * D *
                                       (a.heads * 2 + a.kv_heads * 2) +
                                   3.0 * a.hidden * a.intermediate;
  const double linear_flops = 2.0 * tokens * per_layer_weights * a.layers;
  const double attn_flops = 4.0 * B * a.heads * T * T * D * a.layers;
  const double head_flops = 2.0 * B * a.hidden * a.vocab;
  const double flops = linear_flops + attn_flops + head_flops;
  const double model_rate = flops / s / 1e9;

  const double mm_model_rate = mm_model.flops() / secs[1] / 1e9;
  const double mm_cube_rate = mm_cube.flops() / secs[2] / 1e9;
  std::printf("prefill: batch %lld x seq %lld = %lld tokens in %.3f s -> %.0f tokens/s, %.1f GFLOP/s\n",
              (long long)B, (long long)T, (long long)tokens, s, tokens / s, model_rate);
  std::printf("matmul fp32 [%lld x %lld] x [%lld x %lld]: %.1f GFLOP/s; 1024^3: %.1f GFLOP/s\n",
              (long long)tokens, (long long)a.hidden, (long long)a.hidden, (long long)a.intermediate,
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
  fwd->add_option("--layers", fa->layers);
  fwd->add_option("--hidden", fa->hidden);
  fwd->add_option("--intermediate", fa->intermediate);
  fwd->add_option("--heads", fa->heads);
  fwd->add_option("--kv-heads", fa->kv_heads);
  fwd->add_option("--vocab", fa->vocab);
  fwd->add_option("--seq", fa->seq);
  fwd->add_option("--batch", fa->batch);
  fwd->add_option("--repeats", fa->repeats);
  fwd->add_option("--dtype", fa->dtype);
  fwd->callback([fa] { bench_forward(*fa); });
}

}  // namespace dkv::cli
