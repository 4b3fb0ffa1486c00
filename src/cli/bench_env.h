// What every benchmark prints first (BLAS core and thread counts) and a median timer, so that
// figures are only compared like with like.
#pragma once

#include <functional>
#include <string>

namespace dkv::cli {

// One line: LibTorch version and intra-op threads, the BLAS library's config string, its
// thread count and OPENBLAS_CORETYPE (or "unset").
std::string bench_environment();

// Median wall time in seconds of `repeats` calls of `fn`, after one untimed warm-up call.
double median_seconds(int repeats, const std::function<void()>& fn);

// FLOP rate (GFLOP/s) of a float32 [m, k] x [k, n] matrix product through LibTorch.
double matmul_gflops(int64_t m, int64_t k, int64_t n, int repeats);

}  // namespace dkv::cli
