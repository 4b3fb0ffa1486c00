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
#include "dkv/core/rng.h"
#include "dkv/experiment/chunk.h"
#include "dkv/experiment/dataset.h"
#include "dkv/experiment/plan.h"
#include "dkv/experiment/scoring.h"
#include "dkv/model/decoder.h"
#include "dkv/model/generate.h"
#include "dkv/tokenizer/chat_template.h"
#include "dkv/tokenizer/tokenizer.h"

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
  std::vector<std::string> surrogates;
  std::vector<std::vector<experiment::ConditionScore>> scores;
};

void bench_experiment(const Args& a) {
  using namespace experiment;
  auto spec = load_spec(a.config);
  spec.dataset.num_samples = a.samples;
  const auto samples = load_samples(spec.dataset, spec.runtime.seed, nullptr);
  const auto tok = tokenizer::Tokenizer::load(a.model.empty() ? a.tokenizer : a.model);
  const auto chat = tokenizer::ChatTemplate::for_tokenizer(tok, spec.model.chat_template);
  const auto decoder = a.model.empty() ? random_decoder(a.shape.config(model::Architecture::mistral), at::kFloat)
                                       : model::Decoder::load(a.model, {at::kFloat, at::kCPU});
  const auto& mc = decoder.config();
  EncodeFn encode = [&](const std::string& t, bool sp) { return tok.encode(t, sp); };

  std::cout << bench_environment() << "\n";
  std::printf("workload: %zu demo samples x %zu conditions, %s (%s) %lld layers, hidden %lld, vocab %lld, "
              "%.1fM parameters, fp32\n", samples.size(), spec.conditions.size(),
              a.model.empty() ? "random" : a.model.c_str(), mc.architecture_name.c_str(), (long long)mc.num_hidden_layers,
              (long long)mc.hidden_size, (long long)mc.vocab_size, decoder.parameter_count() / 1e6);

  auto run_mode = [&](bool naive) {
    ModeResult r;
    decoder.count_flops_into(&r.flops);
    const auto start = std::chrono::steady_clock::now();
    const int64_t group = naive ? 1 : a.chunk;
    for (size_t first = 0; first < samples.size(); first += group) {
      std::vector<std::vector<int64_t>> prompts;
      std::vector<uint64_t> seeds;
      const size_t last = std::min(samples.size(), first + group);
      for (size_t i = first; i < last; ++i) {
        const auto user = spec.surrogate.instruction +
                          fill_template(spec.surrogate.document_block, samples[i].passage, "", "");
        std::vector<tokenizer::ChatMessage> msgs;  // as generate_surrogates builds them
        if (!spec.surrogate.system_prompt.empty()) msgs.push_back({"system", spec.surrogate.system_prompt});
        msgs.push_back({"user", user});
        prompts.push_back(tok.encode(chat.render(msgs, true), false));
        seeds.push_back(Rng::keyed({spec.runtime.seed, i, static_cast<uint64_t>(Stream::surrogate)}).next_u64());
      }
      model::GenerateOptions g;
      g.max_new_tokens = spec.surrogate.max_new_tokens;
      g.temperature = spec.surrogate.temperature;
      g.top_k = spec.surrogate.top_k;
      g.eos_token_ids = {*tok.eos_id()};
      g.logits_for_whole_prompt = naive;
      const auto gen = model::generate(decoder, prompts, g, seeds);
      std::vector<SamplePlan> plans;
      for (size_t i = first; i < last; ++i) {
        const auto surrogate = clean_surrogate(tok.decode(gen[i - first], true));
        r.surrogates.push_back(surrogate);
        SampleTexts t{samples[i].passage, samples[i].query, samples[i].answer, {}};
        t.surrogates = {{SurrogateKind::generated, surrogate}, {SurrogateKind::perfect, samples[i].query},
                        {SurrogateKind::static_query, spec.surrogate.static_query},
                        {SurrogateKind::random, "random prefix text " + std::to_string(i)}};
        plans.push_back(plan_sample(spec, t, encode, tok.bos_id()));
      }
      // Scoring counts its own FLOPs into `st`; generation's go straight to r.flops.
      ScoringStats st;
      auto scores = naive ? score_plans_naive(decoder, plans, &st)
                          : score_plans(decoder, plans, spec.runtime.token_budget, &st);
      r.flops += st.flops;
      decoder.count_flops_into(&r.flops);
      for (auto& s : scores) r.scores.push_back(std::move(s));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    decoder.count_flops_into(nullptr);
    return r;
  };
  const auto naive = run_mode(true);
  const auto fast = run_mode(false);
  const double n = static_cast<double>(samples.size());
  std::printf("naive (notebook shape): %.3f samples/s, %.1f GFLOP\n", n / naive.seconds, naive.flops / 1e9);
  std::printf("optimized:              %.3f samples/s, %.1f GFLOP\n", n / fast.seconds, fast.flops / 1e9);
  const double flop_ratio = naive.flops / fast.flops, speed_ratio = naive.seconds / fast.seconds;
  std::printf("FLOP ratio %.2f, speed ratio %.2f (%.0f%% of the FLOP ratio)\n", flop_ratio, speed_ratio,
              100 * speed_ratio / flop_ratio);
  double max_diff = 0;
  size_t same = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (naive.surrogates[i] != fast.surrogates[i]) continue;  // compare like with like
    ++same;
    for (size_t c = 0; c < naive.scores[i].size(); ++c)
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
