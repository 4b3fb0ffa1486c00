// What every benchmark prints first (BLAS core and thread counts) and a median timer, so that
// figures are only compared like with like.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "dkv/model/model_config.h"

namespace CLI {
class App;
}

namespace dkv::model {
class Decoder;
}  // namespace dkv::model

namespace dkv::cli {

// The random model benchmarks run: ~100M parameters by default (8 layers, hidden 768,
// 12/4 heads, vocab 32000), with --layers ... --vocab options to change it.
struct BenchModelShape {
  int64_t layers = 8, hidden = 768, intermediate = 2048, heads = 12, kv_heads = 4, vocab = 32000;
  void add_options(CLI::App* cmd);
  model::ModelConfig config(model::Architecture arch) const;
};

// A decoder with random weights (N(0, 0.02), norms 1) built in memory for benchmarks.
model::Decoder random_decoder(const model::ModelConfig& config, at::ScalarType dtype);

// One line: LibTorch version and intra-op threads, the BLAS library's config string, its
// thread count and OPENBLAS_CORETYPE (or "unset").
std::string bench_environment();

// Times several workloads in interleaved rounds (one call of each per round, after one warm-up
// round) and returns each one's median seconds: on a shared, noisy machine the contention then
// hits every workload alike, so their ratios stay meaningful.
std::vector<double> interleaved_median_seconds(int rounds,
                                               const std::vector<std::function<void()>>& fns);

// A float32 [m, k] x [k, n] matrix product through LibTorch, and its FLOP count.
struct MatmulProbe {
  MatmulProbe(int64_t m, int64_t k, int64_t n);
  void operator()();
  double flops() const;
  int64_t m, k, n;
  at::Tensor a, b, c;
};

}  // namespace dkv::cli
