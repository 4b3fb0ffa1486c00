// `dkv bench experiment`: the demo workload on a ~100M random model, run the notebook's way
// and dkv's way in one process: samples/s, FLOPs, their ratios and the NLL agreement.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/bench_env.h"
#include "cli/commands.h"
#include "dkv/experiment/chunk.h"
#include "dkv/experiment/dataset.h"
#include "dkv/experiment/plan.h"
#include "dkv/experiment/scoring.h"
#include "dkv/model/decoder.h"

namespace dkv::cli {

namespace {

struct Args {
  std::string config = "configs/demo_tiny.yaml";
  std::string tokenizer = "tests/data/tokenizers/mistral_sp";
  std::string model;  // a real checkpoint (HF folder or GGUF file); empty: a random model of the --shape
  int64_t samples = 6, chunk = 4;
  BenchModelShape shape;
};

struct ModeResult {
  double seconds = 0, flops = 0;
  int64_t forwards = 0, prefills = 0;  // scoring only
  double scoring_flops = 0;
  std::vector<std::string> surrogates;
  std::vector<std::vector<experiment::ConditionScore>> scores;
};

void bench_experiment(const Args& a) {
  using namespace experiment;
  auto spec = load_spec(a.config);
  spec.dataset.num_samples = a.samples;
  const auto samples = load_samples(spec.dataset, spec.runtime.seed, nullptr);
  const auto text = load_decoder_text_side(a.model.empty() ? a.tokenizer : a.model, spec.model.chat_template);
  const auto decoder = a.model.empty() ? random_decoder(a.shape.config(model::Architecture::mistral), at::kFloat)
                                       : model::Decoder::load(a.model, {at::kFloat, at::kCPU});
  const auto& mc = decoder.config();
  validate_against_model(spec, mc.num_hidden_layers);

  std::cout << bench_environment() << "\n";
  std::printf("workload: %zu samples of %s x %zu conditions, %s (%s) %lld layers, hidden %lld, vocab %lld, "
              "%.1fM parameters, fp32\n", samples.size(), a.config.c_str(), spec.conditions.size(),
              a.model.empty() ? "random" : a.model.c_str(), mc.architecture_name.c_str(), (long long)mc.num_hidden_layers,
              (long long)mc.hidden_size, (long long)mc.vocab_size, decoder.parameter_count() / 1e6);

  // Both modes make their surrogates and plans as a run does (experiment/chunk.h); the notebook
  // shape generates one sample at a time with logits for every prompt row, as HF 4.43 does.
  auto run_mode = [&](bool naive) {
    ModeResult r;
    RunContext ctx{spec, decoder, nullptr, text, samples, naive};
    decoder.count_flops_into(&r.flops);
    const auto start = std::chrono::steady_clock::now();
    const int64_t group = naive ? 1 : a.chunk;
    for (size_t first = 0; first < samples.size(); first += group) {
      std::vector<int64_t> indices;
      for (size_t i = first; i < std::min(samples.size(), first + group); ++i) indices.push_back(static_cast<int64_t>(i));
      auto chunk = plan_chunk(ctx, indices);
      for (const auto& row : chunk.rows) {
        std::string all = row.surrogate + "\x1f" + row.random_prefix;
        for (const auto& s : row.named_surrogates) all += "\x1f" + s;
        r.surrogates.push_back(all);
      }
      // Scoring counts its own FLOPs into `st`; generation's go straight to r.flops.
      ScoringStats st;
      auto scores = naive ? score_plans_naive(decoder, chunk.plans, &st)
                          : score_plans(decoder, chunk.plans, spec.runtime.token_budget, &st);
      r.flops += st.flops;
      r.scoring_flops += st.flops;
      r.forwards += st.forwards;
      r.prefills += st.prefills;
      decoder.count_flops_into(&r.flops);
      std::vector<std::vector<ConditionScore>> by_row(chunk.rows.size());
      for (size_t p = 0; p < chunk.plans.size(); ++p) by_row[chunk.planned[p]] = std::move(scores[p]);
      for (auto& s : by_row) r.scores.push_back(std::move(s));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    decoder.count_flops_into(nullptr);
    return r;
  };
  const auto naive = run_mode(true);
  const auto fast = run_mode(false);
  const double n = static_cast<double>(samples.size());
  std::printf("naive (notebook shape): %.3f samples/s, %.1f GFLOP, scoring: %.1f forwards and %.1f prefills per sample\n",
              n / naive.seconds, naive.flops / 1e9, naive.forwards / n, naive.prefills / n);
  std::printf("optimized:              %.3f samples/s, %.1f GFLOP, scoring: %.1f forwards and %.1f prefills per sample\n",
              n / fast.seconds, fast.flops / 1e9, fast.forwards / n, fast.prefills / n);
  std::printf("per sample: %.2f GFLOP naive, %.2f GFLOP optimized; scoring alone (no generation): %.2f vs %.2f "
              "GFLOP, ratio %.2f\n", naive.flops / 1e9 / n, fast.flops / 1e9 / n, naive.scoring_flops / 1e9 / n,
              fast.scoring_flops / 1e9 / n, naive.scoring_flops / fast.scoring_flops);
  const double flop_ratio = naive.flops / fast.flops, speed_ratio = naive.seconds / fast.seconds;
  std::printf("FLOP ratio %.2f, speed ratio %.2f (%.0f%% of the FLOP ratio)\n", flop_ratio, speed_ratio,
              100 * speed_ratio / flop_ratio);
  double max_diff = 0;
  size_t same = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (naive.surrogates[i] != fast.surrogates[i]) continue;  // compare like with like
    ++same;
    for (size_t c = 0; c < naive.scores[i].size() && c < fast.scores[i].size(); ++c)
      if (std::isfinite(naive.scores[i][c].nll_mean))
        max_diff = std::max(max_diff, std::abs(naive.scores[i][c].nll_mean - fast.scores[i][c].nll_mean));
  }
  std::printf("surrogates identical in both modes: %zu/%zu; max |dNLL| over those: %.2e\n", same,
              samples.size(), max_diff);
}

}  // namespace

void add_bench_experiment(CLI::App& app) {
  CLI::App* bench = app.get_subcommand("bench");  // registered by add_bench (cmd_bench.cpp)
  auto a = std::make_shared<Args>();
  auto* cmd = bench->add_subcommand("experiment", "the demo workload, notebook-shaped vs optimized");
  cmd->add_option("--config", a->config, "experiment YAML whose dataset, texts and conditions to use");
  cmd->add_option("--tokenizer", a->tokenizer, "HF tokenizer directory (for the random model)");
  cmd->add_option("--model", a->model,
                  "a real model (HF folder or GGUF file, with its own tokenizer) instead of a random one of --shape");
  cmd->add_option("--samples", a->samples, "samples to run in each mode");
  cmd->add_option("--chunk", a->chunk, "samples per optimized work unit");
  a->shape.add_options(cmd);
  cmd->callback([a] { bench_experiment(*a); });
}

}  // namespace dkv::cli
