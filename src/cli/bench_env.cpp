// Benchmark environment report and timing helpers.
#include "cli/bench_env.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>
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

double median_seconds(int repeats, const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double matmul_gflops(int64_t m, int64_t k, int64_t n, int repeats) {
  auto a = at::randn({m, k});
  auto b = at::randn({k, n});
  auto c = at::empty({m, n});
  const double s = median_seconds(repeats, [&] { at::mm_out(c, a, b); });
  return 2.0 * m * k * n / s / 1e9;
}

}  // namespace dkv::cli
