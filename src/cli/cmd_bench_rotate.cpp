// `dkv bench rotate`: key re-rotation (ops::rotate_keys_, the CUDA kernel on a GPU) next to a
// plain device-to-device copy of the same keys: both read and write every byte once, so the
// copy's bandwidth is the ceiling the kernel is measured against.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "cli/bench_env.h"
#include "cli/commands.h"
#include "cli/dtype_option.h"
#include "dkv/cache/rope.h"
#include "dkv/ops/rotate_keys.h"

namespace dkv::cli {

namespace {

struct RotateBenchArgs {
  int64_t batch = 8, kv_heads = 8, entries = 4096, head_dim = 128;  // Mistral-7B's kv heads, head_dim
  int repeats = 20;
  std::string dtype = "fp32", device = "cpu", pairing = "half-split";
};

void bench_rotate(const RotateBenchArgs& a) {
  const auto dtype = parse_dtype(a.dtype);
  const auto device = parse_device(a.device);
  const auto opts = at::TensorOptions().dtype(dtype).device(device);
  cache::RopeSpec spec;
  spec.head_dim = spec.rotary_dim = a.head_dim;
  spec.theta = 1e6;
  spec.pairing = a.pairing == "interleaved" ? cache::RopePairing::interleaved : cache::RopePairing::half_split;
  at::manual_seed(2);
  auto keys = at::randn({a.batch, a.kv_heads, a.entries, a.head_dim}, opts);
  auto copy = at::empty_like(keys);
  // Every entry moves (a cut of a 37-token prefix): no early exits.
  const auto delta = at::full({a.batch, a.entries}, -37, at::TensorOptions().dtype(at::kLong).device(device));
  const auto secs = interleaved_median_seconds(a.repeats, {[&] {
                                                             ops::rotate_keys_(keys, delta, spec);
                                                             wait_for(keys);
                                                           },
                                                           [&] {
                                                             copy.copy_(keys);
                                                             wait_for(copy);
                                                           }});
  // On a GPU, one rotation checked against the CPU reference (the kernel tests' bounds apply).
  double parity = 0;
  if (!device.is_cpu()) {
    auto on_device = keys.clone();
    auto on_host = keys.cpu().to(at::kFloat);
    ops::rotate_keys_(on_device, delta, spec);
    ops::rotate_keys_ref_(on_host, delta.cpu(), spec);
    parity = (on_device.cpu().to(at::kFloat) - on_host).abs().max().item<double>() /
             on_host.abs().max().item<double>();
  }
  const double bytes = 2.0 * keys.numel() * keys.element_size();  // read + write
  std::cout << bench_environment() << "\n";
  std::printf("keys [%lld, %lld, %lld, %lld] %s on %s, %s pairs: %.1f MB\n", (long long)a.batch,
              (long long)a.kv_heads, (long long)a.entries, (long long)a.head_dim, a.dtype.c_str(), a.device.c_str(),
              a.pairing.c_str(), keys.numel() * keys.element_size() / 1e6);
  std::printf("rotate_keys_: %.3f ms, %.1f GB/s\n", secs[0] * 1e3, bytes / secs[0] / 1e9);
  std::printf("copy:         %.3f ms, %.1f GB/s\n", secs[1] * 1e3, bytes / secs[1] / 1e9);
  std::printf("ratio: rotate / copy bandwidth = %.2f\n", secs[1] / secs[0]);
  if (!device.is_cpu())
    std::printf("parity: max |GPU - CPU reference| / max |k| = %.2e (fp32 reference on the same %s inputs)\n",
                parity, a.dtype.c_str());
}

}  // namespace

void add_bench_rotate(CLI::App& app) {
  CLI::App* bench = app.get_subcommand("bench");  // registered by add_bench (cmd_bench.cpp)
  auto a = std::make_shared<RotateBenchArgs>();
  auto* cmd = bench->add_subcommand("rotate", "key re-rotation bandwidth next to a device copy's");
  cmd->add_option("--batch", a->batch);
  cmd->add_option("--kv-heads", a->kv_heads);
  cmd->add_option("--entries", a->entries, "cached entries per sequence");
  cmd->add_option("--head-dim", a->head_dim);
  cmd->add_option("--repeats", a->repeats);
  cmd->add_option("--dtype", a->dtype, "fp32, fp16 or bf16");
  cmd->add_option("--device", a->device, "cpu, cuda or cuda:N");
  cmd->add_option("--pairing", a->pairing)->check(CLI::IsMember({"half-split", "interleaved"}));
  cmd->callback([a] { bench_rotate(*a); });
}

}  // namespace dkv::cli
