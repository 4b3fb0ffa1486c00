// The CUDA paths through LibTorch, against the CPU references: key re-rotation, NF4 and int8
// expansion, and whole decoder forwards. Skipped (visibly) where LibTorch sees no GPU, as with
// Debian's CPU-only build; runs wherever the suite is built against a LibTorch with CUDA.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "dkv/model/decoder.h"
#include "dkv/ops/dequantize.h"
#include "dkv/ops/nf4_matmul.h"
#include "dkv/ops/rotate_keys.h"
#include "support.h"

namespace dkv {
namespace {

bool have_gpu() { return at::hasCUDA() && at::getNumGPUs() > 0; }

#define DKV_REQUIRE_GPU() \
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device visible to LibTorch"

TEST(CudaOps, RotateKeysMatchesCpuReference) {
  DKV_REQUIRE_GPU();
  at::manual_seed(11);
  for (auto pairing : {cache::RopePairing::half_split, cache::RopePairing::interleaved})
    for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
      cache::RopeSpec spec;
      spec.head_dim = spec.rotary_dim = 128;
      spec.theta = 1e6;
      spec.pairing = pairing;
      const auto keys = at::randn({3, 5, 37, 128}).to(dtype);
      const auto delta = at::randint(-200, 200, {3, 37}, at::kLong);
      auto gpu = keys.cuda();
      ops::rotate_keys_(gpu, delta.cuda(), spec);
      auto cpu = keys.to(at::kFloat);
      ops::rotate_keys_ref_(cpu, delta, spec);
      // fp32: a few ulps of sin/cos and products; fp16/bf16: one output rounding (2^-11, 2^-8).
      const double tol = dtype == at::kFloat ? 2e-5 : dtype == at::kHalf ? 4e-3 : 3e-2;
      EXPECT_LT(test::max_abs_diff(gpu.cpu().to(at::kFloat), cpu), tol) << dtype;
    }
}

TEST(CudaOps, ExpansionMatchesCpuReferenceBitForBit) {
  DKV_REQUIRE_GPU();
  at::manual_seed(12);
  const int64_t numel = 64 * 301 + 17;
  const auto packed = at::randint(0, 256, {(numel + 1) / 2}, at::kLong).to(at::kByte);
  const auto absmax = at::rand({(numel + 63) / 64}) + 0.1;
  const auto q = at::randint(-127, 128, {67, 129}, at::kLong).to(at::kChar);
  const auto scale = at::rand({67}) * 0.01 + 1e-4;
  for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    EXPECT_TRUE(at::equal(ops::dequantize_nf4(packed.cuda(), absmax.cuda(), numel, 64, dtype).cpu(),
                          ops::dequantize_nf4_ref(packed, absmax, numel, 64, dtype)));
    EXPECT_TRUE(at::equal(ops::dequantize_int8_rows(q.cuda(), scale.cuda(), dtype).cpu(),
                          ops::dequantize_int8_rows_ref(q, scale, dtype)));
  }
  // Double-quantized absmax, undone inside the kernel: the same float32 product and sum.
  const auto w = model::quantize_nf4(at::randn({301, 64}) * 0.02, /*double_quant=*/true);
  for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16})
    EXPECT_TRUE(at::equal(model::dequantize(w.to(at::kCUDA), dtype).cpu(), model::dequantize(w, dtype)));
}

TEST(CudaOps, FusedNf4MatmulMatchesExpandThenMultiply) {
  DKV_REQUIRE_GPU();
  at::manual_seed(14);
  const int64_t N = 37, K = 4096;
  for (bool double_quant : {false, true}) {
    const auto w = model::quantize_nf4(at::randn({N, K}) * 0.02, double_quant);
    const auto wg = w.to(at::kCUDA);
    for (int64_t rows : {1, 4, 8})
      for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
        ASSERT_TRUE(ops::nf4_matmul_is_fused(rows, K, 64));
        const auto x = at::randn({rows, K}).to(dtype);
        const auto fused = ops::nf4_matmul(x.cuda(), wg.packed, wg.scales(), N, K, 64).cpu().to(at::kFloat);
        const auto expected = at::linear(x.to(at::kFloat), model::dequantize(w, at::kFloat));
        // fp32 accumulation in another order; fp16/bf16 add one rounding of the output.
        const double tol = (dtype == at::kFloat ? 1e-5 : dtype == at::kHalf ? 2e-3 : 1e-2) *
                           expected.abs().max().item<double>();
        EXPECT_LT(test::max_abs_diff(fused, expected), tol) << rows << " " << dtype << " " << double_quant;
      }
  }
}

TEST(CudaOps, DecoderForwardMatchesCpu) {
  DKV_REQUIRE_GPU();
  const auto dir = test::tiny_model_dir(test::tiny_options(model::Architecture::mistral, 13), "cuda-forward");
  model::ForwardInput in;
  in.ids = at::randint(3, 200, {2, 11}, at::kLong);
  model::ForwardInput one_row = in;  // a decode-sized input: the fused NF4 product runs
  one_row.ids = in.ids.narrow(0, 0, 1).narrow(1, 0, 1);
  for (auto q : {model::Quantization::none, model::Quantization::nf4}) {
    const auto cpu = model::Decoder::load(dir, {at::kFloat, at::kCPU, q});
    const auto gpu = model::Decoder::load(dir, {at::kFloat, at::kCUDA, q});
    // fp32 on both; TF32 is off by default for LibTorch matmuls, so only summation order differs.
    EXPECT_LT(test::max_abs_diff(gpu.forward(in).cpu(), cpu.forward(in)), 1e-4) << model::quantization_name(q);
    EXPECT_LT(test::max_abs_diff(gpu.forward(one_row).cpu(), cpu.forward(one_row)), 1e-4);
  }
}

}  // namespace
}  // namespace dkv
