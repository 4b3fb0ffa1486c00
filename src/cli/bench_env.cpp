// Benchmark environment report and timing helpers.
#include "cli/bench_env.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <CLI/CLI.hpp>

#include "dkv/model/decoder.h"
#include "dkv/model/tiny_model.h"
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace dkv::cli {

std::string bench_environment() {
  std::ostringstream out;
  out << "env: libtorch " << TORCH_VERSION << ", torch intra-op threads " << at::get_num_threads();
  // OpenBLAS is found at run time (Debian's libblas.so.3 alternative), so ask it by symbol.
  using ConfigFn = char* (*)();
  using ThreadsFn = int (*)();
  auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  auto core = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  auto threads = reinterpret_cast<ThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (config) {
    out << ", BLAS " << config();
    if (core) out << " core " << core();
    if (threads) out << ", BLAS threads " << threads();
  } else {
    out << ", BLAS not OpenBLAS (no openblas_get_config symbol)";
  }
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  out << ", OPENBLAS_CORETYPE=" << (coretype ? coretype : "unset");
  return out.str();
}

std::vector<double> interleaved_median_seconds(int rounds,
                                               const std::vector<std::function<void()>>& fns) {
  for (const auto& fn : fns) fn();
  std::vector<std::vector<double>> times(fns.size());
  for (int r = 0; r < std::max(1, rounds); ++r)
    for (size_t i = 0; i < fns.size(); ++i) {
      auto start = std::chrono::steady_clock::now();
      fns[i]();
      times[i].push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  std::vector<double> out;
  for (auto& t : times) {
    std::sort(t.begin(), t.end());
    out.push_back(t[t.size() / 2]);
  }
  return out;
}

MatmulProbe::MatmulProbe(int64_t m_, int64_t k_, int64_t n_, at::ScalarType dtype, at::Device device)
    : m(m_), k(k_), n(n_) {
  const auto opts = at::TensorOptions().dtype(dtype).device(device);
  a = at::randn({m, k}, opts);
  b = at::randn({k, n}, opts);
  c = at::empty({m, n}, opts);
}

void MatmulProbe::operator()() {
  at::mm_out(c, a, b);
  wait_for(c);
}

void wait_for(const at::Tensor& t) {
  // Reading one element back synchronizes with the tensor's stream; CPU work is already done.
  if (!t.device().is_cpu()) (void)t.reshape({-1})[0].item();
}

double MatmulProbe::flops() const { return 2.0 * m * k * n; }

// Random weights straight in memory (a ~100M model is 400 MB of fp32: not worth writing out).
void BenchModelShape::add_options(CLI::App* cmd) {
  cmd->add_option("--layers", layers, "num_hidden_layers");
  cmd->add_option("--hidden", hidden, "hidden_size");
  cmd->add_option("--intermediate", intermediate, "intermediate_size");
  cmd->add_option("--heads", heads, "num_attention_heads");
  cmd->add_option("--kv-heads", kv_heads, "num_key_value_heads");
  cmd->add_option("--vocab", vocab, "vocab_size");
  cmd->add_option("--shape", preset, "a preset shape instead: mistral-7b")
      ->check(CLI::IsMember({"mistral-7b"}));
}

model::ModelConfig BenchModelShape::config(model::Architecture arch) const {
  if (preset == "mistral-7b") {
    BenchModelShape m{32, 4096, 14336, 32, 8, 32000, ""};
    return m.config(arch);
  }
  model::TinyModelOptions o;
  o.architecture = arch;
  o.vocab_size = vocab;
  o.hidden_size = hidden;
  o.intermediate_size = intermediate;
  o.num_hidden_layers = layers;
  o.num_attention_heads = heads;
  o.num_key_value_heads = kv_heads;
  return model::tiny_model_config(o);
}

model::Decoder random_decoder(const model::ModelConfig& config, at::ScalarType dtype,
                              model::Quantization quantization, at::Device device) {
  at::manual_seed(0);
  model::DecoderWeights w;
  w.layers.resize(config.num_hidden_layers);
  for (const auto& slot : model::decoder_weight_table(config)) {
    if (slot.kind == model::WeightKind::linear && quantization != model::Quantization::none) {
      // Quantization runs on the CPU (as at load), one weight at a time.
      slot.linear(w) = model::LinearWeight::make(at::randn(slot.shape) * 0.02, quantization, dtype, device);
      continue;
    }
    const auto opts = at::TensorOptions().device(device);
    auto t = slot.kind == model::WeightKind::norm ? at::ones(slot.shape, opts) : at::randn(slot.shape, opts) * 0.02;
    slot.assign(w, t.to(dtype));
  }
  if (config.tie_word_embeddings) w.lm_head = w.embed_tokens;
  return model::Decoder(config, std::move(w), {dtype, device, quantization});
}


}  // namespace dkv::cli
