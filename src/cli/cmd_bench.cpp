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
#include "dkv/ops/nf4_matmul.h"

#include <functional>

namespace dkv::cli {

namespace {

struct ForwardBenchArgs {
  BenchModelShape shape;
  int64_t seq = 256, batch = 8;
  int repeats = 5;
  std::string dtype = "fp32", quantization = "none", device = "cpu";
};

// Decode-sized products with one real NF4 weight (layer 0's gate_proj): the fused kernel
// against expanding the weight and multiplying, the choice LinearWeight::apply makes by rows.
void bench_decode_product(const model::Decoder& decoder, at::ScalarType dtype, int repeats) {
  const auto& w = *decoder.weights().layers[0].gate_proj.nf4();
  const auto scales = w.scales();
  const int64_t N = w.shape[0], K = w.shape[1];
  for (int64_t rows : {1, 4, 8}) {
    const auto x = at::randn({rows, K}, w.packed.options().dtype(dtype));
    const auto secs = interleaved_median_seconds(
        repeats * 10, {[&] { wait_for(ops::nf4_matmul(x, w.packed, scales, N, K, w.blocksize)); },
                       [&] { wait_for(ops::nf4_matmul_ref(x, w.packed, scales, N, K, w.blocksize)); }});
    std::printf("decode product [%lld x %lld] x NF4 [%lld x %lld]^T: fused %.1f us (%.0f GB/s of codes), "
                "expand + matmul %.1f us: %.2fx\n", (long long)rows, (long long)K, (long long)N, (long long)K,
                secs[0] * 1e6, w.packed.numel() / secs[0] / 1e9, secs[1] * 1e6, secs[1] / secs[0]);
  }
}

void bench_forward(const ForwardBenchArgs& a) {
  const auto config = a.shape.config(model::Architecture::llama);
  const auto dtype = parse_dtype(a.dtype);
  const auto quantization = model::parse_quantization(a.quantization);
  const auto device = parse_device(a.device);
  auto decoder = random_decoder(config, dtype, quantization, device);
  const int64_t B = a.batch, T = a.seq, tokens = B * T;

  std::cout << bench_environment() << "\n";
  std::printf("model: llama, %lld layers, hidden %lld, intermediate %lld, heads %lld/%lld, vocab %lld, "
              "%.1fM parameters, %s on %s, linear layers %s (%.2f GB of weights)\n",
              (long long)config.num_hidden_layers, (long long)config.hidden_size,
              (long long)config.intermediate_size, (long long)config.num_attention_heads,
              (long long)config.num_key_value_heads, (long long)config.vocab_size, decoder.parameter_count() / 1e6,
              a.dtype.c_str(), a.device.c_str(), a.quantization.c_str(), decoder.storage_bytes() / 1e9);

  at::manual_seed(1);
  model::ForwardInput in;
  in.ids = at::randint(3, config.vocab_size, {B, T}, at::kLong);
  in.logit_rows = at::arange(B, at::kLong) * T + (T - 1);  // prefill: last position only
  // The roofline: the model's own MLP-shaped product, and a large square one (1024^3 on the
  // CPU, 8192^3 on a GPU), in the run dtype on the run device.
  const int64_t cube = device.is_cpu() ? 1024 : 8192;
  MatmulProbe mm_model(tokens, config.hidden_size, config.intermediate_size, dtype, device),
      mm_cube(cube, cube, cube, dtype, device);
  std::vector<std::function<void()>> work = {[&] {
                                               auto cache = decoder.new_cache();
                                               wait_for(decoder.forward(in, &cache));
                                             },
                                             [&] { mm_model(); }, [&] { mm_cube(); }};
  if (quantization != model::Quantization::none)
    work.push_back([&] {  // what each forward spends expanding the quantized weights
      for (const auto& layer : decoder.weights().layers)
        for (const auto* p : model::linear_weights(layer)) wait_for(p->weight());
    });
  const auto secs = interleaved_median_seconds(a.repeats, work);
  const double s = secs[0];

  // The full T x T attention square is counted: the prefill computes it before masking.
  const double flops = model::forward_flops(config, B, T, /*past=*/0, /*logit_rows=*/B);
  const double model_rate = flops / s / 1e9;
  const double mm_model_rate = mm_model.flops() / secs[1] / 1e9;
  const double mm_cube_rate = mm_cube.flops() / secs[2] / 1e9;
  std::printf("prefill: batch %lld x seq %lld = %lld tokens in %.4f s -> %.0f tokens/s, %.1f GFLOP/s\n",
              (long long)B, (long long)T, (long long)tokens, s, tokens / s, model_rate);
  std::printf("matmul %s [%lld x %lld] x [%lld x %lld]: %.1f GFLOP/s; %lld^3: %.1f GFLOP/s\n", a.dtype.c_str(),
              (long long)tokens, (long long)config.hidden_size, (long long)config.hidden_size,
              (long long)config.intermediate_size, mm_model_rate, (long long)cube, mm_cube_rate);
  std::printf("ratio: forward / matmul = %.2f (model-shaped), %.2f (%lld^3)\n", model_rate / mm_model_rate,
              model_rate / mm_cube_rate, (long long)cube);
  if (secs.size() > 3) {
    std::printf("expanding every quantized weight once: %.4f s (%.0f%% of the forward)\n", secs[3],
                100 * secs[3] / s);
    if (!device.is_cpu()) {  // the kernel against the CPU loop on one real weight
      const auto& p = decoder.weights().layers[0].down_proj;
      const auto host = p.nf4() ? model::dequantize(p.nf4()->to(at::kCPU), dtype)
                                : model::dequantize(p.int8()->to(at::kCPU), dtype);
      std::printf("parity: max |GPU - CPU| expansion of layer 0 down_proj = %.3g\n",
                  (p.weight().cpu().to(at::kFloat) - host.to(at::kFloat)).abs().max().item<double>());
    }
  }
  if (quantization == model::Quantization::nf4 && !device.is_cpu()) bench_decode_product(decoder, dtype, a.repeats);
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
  fwd->add_option("--dtype", fa->dtype, "fp32, fp16 or bf16");
  fwd->add_option("--quantization", fa->quantization, "none, nf4 or int8 (decoder-block linear layers)");
  fwd->add_option("--device", fa->device, "cpu, cuda or cuda:N");
  fwd->callback([fa] { bench_forward(*fa); });
}

}  // namespace dkv::cli
