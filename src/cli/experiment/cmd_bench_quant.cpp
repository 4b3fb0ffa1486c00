// `dkv bench quant`: what NF4 and int8 weights cost and change on a real checkpoint (the demo
// model by default): bytes per parameter, weight round-trip error, and the NLL drift of every
// condition against fp32 on the same plans (surrogates generated once, in fp32), side by side.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

#include "cli/bench_env.h"
#include "cli/commands.h"
#include "dkv/experiment/chunk.h"
#include "dkv/experiment/dataset.h"
#include "dkv/experiment/scoring.h"
#include "dkv/experiment/spec.h"
#include "dkv/model/decoder.h"
#include "dkv/model/sentence_embedder.h"

namespace dkv::cli {

namespace {

struct Args {
  std::string config = "configs/demo_tiny.yaml";
  int64_t samples = 24;
  int rounds = 3;
};

struct WeightError {
  double relative_rms = 0;   // ||W - Q(W)|| / ||W|| over every quantized weight
  double max_relative = 0;   // max |W - Q(W)| / max |W|, worst weight
};

WeightError weight_error(const model::Decoder& full, const model::Decoder& quantized) {
  double diff2 = 0, norm2 = 0, worst = 0;
  for (size_t l = 0; l < full.weights().layers.size(); ++l) {
    const auto a = model::linear_weights(full.weights().layers[l]);
    const auto b = model::linear_weights(quantized.weights().layers[l]);
    for (size_t i = 0; i < a.size(); ++i) {
      const auto w = a[i]->weight().to(at::kDouble), q = b[i]->weight().to(at::kDouble);
      diff2 += (w - q).pow(2).sum().item<double>();
      norm2 += w.pow(2).sum().item<double>();
      worst = std::max(worst, ((w - q).abs().max() / w.abs().max()).item<double>());
    }
  }
  return {std::sqrt(diff2 / norm2), worst};
}

int64_t linear_parameters(const model::Decoder& d) {
  int64_t n = 0;
  for (const auto& l : d.weights().layers)
    for (const auto* p : model::linear_weights(l)) n += p->numel();
  return n;
}

int64_t linear_bytes(const model::Decoder& d) {
  int64_t n = 0;
  for (const auto& l : d.weights().layers)
    for (const auto* p : model::linear_weights(l)) n += p->storage_bytes();
  return n;
}

void bench_quant(const Args& a) {
  using namespace experiment;
  auto spec = load_spec(a.config);
  spec.dataset.num_samples = a.samples;
  const auto samples = load_samples(spec.dataset, spec.runtime.seed, nullptr);
  const model::Quantization schemes[] = {model::Quantization::none, model::Quantization::nf4,
                                         model::Quantization::int8};
  std::vector<model::Decoder> decoders;
  for (auto q : schemes) decoders.push_back(model::Decoder::load(spec.model.path, {at::kFloat, at::kCPU, q}));
  const auto& fp32 = decoders[0];

  // Plans (and so surrogates) come from the fp32 model only: every scheme scores the same tokens.
  const auto embedder = model::SentenceEmbedder::load(spec.embedding.path);
  const auto text = load_text_side(spec.model.path, spec.model.chat_template, spec.embedding.path,
                                   embedder.modules().max_seq_length);
  RunContext ctx{spec, fp32, &embedder, text, samples};
  std::vector<int64_t> indices(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) indices[i] = static_cast<int64_t>(i);
  std::vector<PlannedSample> planned;
  process_chunk(ctx, indices, &planned);
  std::vector<SamplePlan> plans;
  for (auto& p : planned) plans.push_back(std::move(p.plan));

  std::cout << bench_environment() << "\n";
  std::printf("model: %s (%lld layers, hidden %lld), %.2fM parameters, %.2fM in quantizable linear layers\n",
              spec.model.path.c_str(), (long long)fp32.config().num_hidden_layers,
              (long long)fp32.config().hidden_size, fp32.parameter_count() / 1e6, linear_parameters(fp32) / 1e6);
  std::printf("workload: %zu samples x %zu conditions, fp32 compute on the CPU\n\n", plans.size(),
              spec.conditions.size());

  std::vector<std::vector<std::vector<ConditionScore>>> scores(decoders.size());
  std::vector<std::function<void()>> runs;
  for (size_t s = 0; s < decoders.size(); ++s)
    runs.push_back([&, s] { scores[s] = score_plans(decoders[s], plans, spec.runtime.token_budget, nullptr); });
  const auto secs = interleaved_median_seconds(a.rounds, runs);

  std::printf("%-6s %14s %14s %16s %14s %10s\n", "scheme", "bytes/param", "bytes/param", "weight error", "max |dW|", "scoring");
  std::printf("%-6s %14s %14s %16s %14s %10s\n", "", "(linear)", "(model)", "(relative RMS)", "/ max |W|", "seconds");
  for (size_t s = 0; s < decoders.size(); ++s) {
    const auto& d = decoders[s];
    const auto err = s == 0 ? WeightError{} : weight_error(fp32, d);
    std::printf("%-6s %14.4f %14.4f %16.4e %14.4e %10.3f\n", model::quantization_name(schemes[s]).c_str(),
                double(linear_bytes(d)) / linear_parameters(d), double(d.storage_bytes()) / d.parameter_count(),
                err.relative_rms, err.max_relative, secs[s]);
  }

  std::printf("\n|NLL(scheme) - NLL(fp32)| per condition, nats, over %zu samples\n", plans.size());
  std::printf("%-28s %12s %12s %12s %12s %12s\n", "condition", "nf4 max", "nf4 mean", "int8 max", "int8 mean",
              "fp32 NLL");
  const size_t C = spec.conditions.size();
  for (size_t c = 0; c < C; ++c) {
    std::printf("%-28s", (spec.conditions[c].id + " " + spec.conditions[c].name).substr(0, 28).c_str());
    for (size_t s = 1; s < decoders.size(); ++s) {
      double worst = 0, sum = 0;
      int64_t n = 0;
      for (size_t i = 0; i < plans.size(); ++i) {
        const double d = std::abs(scores[s][i][c].nll_mean - scores[0][i][c].nll_mean);
        if (std::isnan(d)) continue;
        worst = std::max(worst, d);
        sum += d;
        ++n;
      }
      std::printf(" %12.4e %12.4e", worst, n ? sum / n : 0.0);
    }
    double mean_nll = 0;
    for (size_t i = 0; i < plans.size(); ++i) mean_nll += scores[0][i][c].nll_mean / plans.size();
    std::printf(" %12.4f\n", mean_nll);
  }
}

}  // namespace

void add_bench_quant(CLI::App& app) {
  CLI::App* bench = app.get_subcommand("bench");  // registered by add_bench (cmd_bench.cpp)
  auto a = std::make_shared<Args>();
  auto* cmd = bench->add_subcommand("quant", "NF4/int8 weights: bytes per parameter, round-trip error, NLL drift");
  cmd->add_option("--config", a->config, "experiment YAML whose model, data and conditions to use");
  cmd->add_option("--samples", a->samples, "samples to score");
  cmd->add_option("--rounds", a->rounds, "timed scoring rounds per scheme (median)");
  cmd->callback([a] { bench_quant(*a); });
}

}  // namespace dkv::cli
