// What every benchmark prints first (BLAS core and thread counts) and a median timer, so that
// figures are only compared like with like.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "dkv/model/model_config.h"
#include "dkv/model/quantization.h"

namespace CLI {
class App;
}

namespace dkv::model {
class Decoder;
}  // namespace dkv::model

namespace dkv::cli {

// The random model benchmarks run: ~100M parameters by default (8 layers, hidden 768,
// 12/4 heads, vocab 32000), with --layers ... --vocab options to change it, or
// --shape mistral-7b for Mistral-7B's (32 layers, hidden 4096, 14336, 32/8 heads, 32000).
struct BenchModelShape {
  int64_t layers = 8, hidden = 768, intermediate = 2048, heads = 12, kv_heads = 4, vocab = 32000;
  std::string preset;
  void add_options(CLI::App* cmd);
  model::ModelConfig config(model::Architecture arch) const;
};

// A decoder with random weights (N(0, 0.02), norms 1) built in memory for benchmarks, its
// linear layers quantized as `quantization` asks, on `device`.
model::Decoder random_decoder(const model::ModelConfig& config, at::ScalarType dtype,
                              model::Quantization quantization = model::Quantization::none,
                              at::Device device = at::kCPU);

// Waits for the work queued on t's device (a no-op on the CPU), so that timings cover it.
void wait_for(const at::Tensor& t);

// One line: LibTorch version and intra-op threads, the BLAS library's config string, its
// thread count and OPENBLAS_CORETYPE (or "unset").
std::string bench_environment();

// Times several workloads in interleaved rounds (one call of each per round, after one warm-up
// round) and returns each one's median seconds: on a shared, noisy machine the contention then
// hits every workload alike, so their ratios stay meaningful.
std::vector<double> interleaved_median_seconds(int rounds,
                                               const std::vector<std::function<void()>>& fns);

// An [m, k] x [k, n] matrix product through LibTorch (fp32 on the CPU by default), and its
// FLOP count; each call waits for the device.
struct MatmulProbe {
  MatmulProbe(int64_t m, int64_t k, int64_t n, at::ScalarType dtype = at::kFloat, at::Device device = at::kCPU);
  void operator()();
  double flops() const;
  int64_t m, k, n;
  at::Tensor a, b, c;
};

}  // namespace dkv::cli
