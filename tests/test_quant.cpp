// NF4 and int8 weights: properties that hold for any input (nearest code, error bounds set by
// the format), the CPU dequantization loops against plain tensor formulas, entry checks, and
// the quantized decoder against the full-precision one running on the dequantized weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "dkv/model/decoder.h"
#include "dkv/model/int8_weight.h"
#include "dkv/model/nf4_weight.h"
#include "dkv/ops/dequantize.h"
#include "dkv/ops/nf4_matmul.h"
#include "support.h"

namespace dkv::model {
namespace {

at::Tensor nf4_code_tensor() {
  const auto& c = ops::nf4_code();
  return at::tensor(at::ArrayRef<float>(c.data(), c.size()), at::kFloat);
}

// The 4-bit code of every element, unpacked independently of the dequantization loop.
at::Tensor unpack_codes(const Nf4Weight& w) {
  const auto p = w.packed.to(at::kLong);
  return at::stack({p.__rshift__(4), p.__and__(15)}, 1).reshape({-1}).narrow(0, 0, w.numel());
}

// Fresh, non-zero random weights with a few outliers, as trained weights have.
at::Tensor random_weight(std::vector<int64_t> shape, uint64_t seed) {
  at::manual_seed(seed);
  auto w = at::randn(shape) * 0.02;
  auto flat = w.view({-1});
  flat.index_put_({at::randint(flat.numel(), {5}, at::kLong)}, at::randn({5}) * 0.3);
  return w;
}

const std::vector<std::vector<int64_t>> kShapes = {{37, 71}, {64, 64}, {3, 5}, {130, 257}};

TEST(Nf4, EveryValueGetsItsNearestCode) {
  const auto code = nf4_code_tensor();
  for (size_t s = 0; s < kShapes.size(); ++s) {
    const auto w = random_weight(kShapes[s], 10 + s);
    const auto q = quantize_nf4(w, false);
    const auto flat = w.reshape({-1});
    const auto n = flat.numel();
    const auto pad = (q.blocks() * 64 - n);
    auto scaled = at::cat({flat, at::zeros({pad})}).view({q.blocks(), 64}) / q.absmax.unsqueeze(1);
    scaled = scaled.reshape({-1}).narrow(0, 0, n);
    const auto dist = (scaled.unsqueeze(1) - code.unsqueeze(0)).abs();  // [n, 16]
    const auto chosen = dist.gather(1, unpack_codes(q).unsqueeze(1)).squeeze(1);
    // Chosen distance equals the minimum up to the fp32 rounding of x * (1 / absmax).
    EXPECT_LE((chosen - std::get<0>(dist.min(1))).max().item<float>(), 1e-6f) << "shape " << s;
  }
}

TEST(Nf4, DynamicMapFollowsTheBitsandbytesConstruction) {
  // create_dynamic_map(signed=True) in double: for k = 0..6, the 2^k midpoints of
  // linspace(0.1, 1, 2^k + 1) times 10^(k-6), both signs; then 0 and 1. The kept fp32 table
  // agrees to its rounding (a few ulps from fp32 linspace arithmetic: 1e-6 relative).
  std::vector<double> exact;
  for (int k = 0; k < 7; ++k) {
    const int n = (1 << k) + 1;
    for (int i = 0; i + 1 < n; ++i) {
      const double lo = 0.1 + 0.9 * i / (n - 1), hi = 0.1 + 0.9 * (i + 1) / (n - 1);
      exact.push_back(std::pow(10.0, k - 6) * (lo + hi) / 2);
      exact.push_back(-exact.back());
    }
  }
  exact.push_back(0.0);
  exact.push_back(1.0);
  std::sort(exact.begin(), exact.end());
  const auto& dyn = dynamic_map_signed();
  ASSERT_EQ(exact.size(), dyn.size());
  for (size_t i = 0; i < dyn.size(); ++i) EXPECT_NEAR(dyn[i], exact[i], 1e-6 * std::abs(exact[i])) << i;
}

TEST(Nf4, RoundTripErrorIsBoundedByTheCodeGaps) {
  const auto& c = ops::nf4_code();
  double widest = 0;
  for (size_t i = 0; i + 1 < c.size(); ++i) widest = std::max<double>(widest, c[i + 1] - c[i]);
  const auto& dyn = dynamic_map_signed();
  double widest_dyn = 0;
  for (size_t i = 0; i + 1 < dyn.size(); ++i) widest_dyn = std::max<double>(widest_dyn, dyn[i + 1] - dyn[i]);
  for (size_t s = 0; s < kShapes.size(); ++s) {
    const auto w = random_weight(kShapes[s], 20 + s);
    const auto plain = quantize_nf4(w, false);
    const auto nested = quantize_nf4(w, true);
    const auto n = w.numel();
    auto per_value = [&](const at::Tensor& per_block) {
      return per_block.repeat_interleave(64).narrow(0, 0, n).view(w.sizes());
    };
    // Plain: at most half the widest code gap times the block's absmax (+ fp32 rounding).
    const auto bound = per_value(plain.absmax) * (widest / 2 + 1e-6);
    EXPECT_TRUE(((w - dequantize(plain, at::kFloat)).abs() <= bound).all().item<bool>()) << "shape " << s;
    // Double quantization moves each absmax by at most half the widest 8-bit gap times its
    // group's nested absmax; the weight error grows by that much times |code| <= 1.
    const auto absmax_err = (nf4_absmax(nested) - plain.absmax).abs();
    const auto group = nested.nested_absmax.repeat_interleave(256).narrow(0, 0, plain.blocks());
    EXPECT_TRUE((absmax_err <= group * (widest_dyn / 2 + 1e-6)).all().item<bool>());
    const auto nested_bound = per_value(plain.absmax) * (widest / 2 + 1e-6) + per_value(absmax_err) * (1 + 1e-6);
    EXPECT_TRUE(((w - dequantize(nested, at::kFloat)).abs() <= nested_bound).all().item<bool>());
    // Storage: 4 bits per weight plus, per block of 64, a float32 absmax (plain) or one byte
    // (nested: plus a float32 per 256 blocks and the 1 KB 8-bit code table).
    EXPECT_EQ(plain.storage_bytes(), (n + 1) / 2 + plain.blocks() * 4);
    EXPECT_EQ(nested.storage_bytes(), (n + 1) / 2 + plain.blocks() + (plain.blocks() + 255) / 256 * 4 + 1024);
  }
}

TEST(Nf4, CodeValuesRoundTripExactlyAndPackHighNibbleFirst) {
  // Block of 64: the 16 codes times 0.5 (exact), four times over, in order 15, 0, 1, ..., 14.
  std::vector<float> v;
  for (int r = 0; r < 4; ++r)
    for (int k = 0; k < 16; ++k) v.push_back(ops::nf4_code()[(k + 15) % 16] * 0.5f);
  const auto w = at::tensor(v).view({4, 16});
  const auto q = quantize_nf4(w, false);
  EXPECT_TRUE(at::equal(dequantize(q, at::kFloat), w));
  EXPECT_EQ(q.absmax.item<float>(), 0.5f);
  EXPECT_EQ(q.packed[0].item<uint8_t>(), 0xF0);  // element 0 (code 15) high, element 1 (code 0) low
  EXPECT_EQ(q.packed[1].item<uint8_t>(), 0x12);
}

TEST(Dequantize, Nf4LoopMatchesTensorFormula) {
  at::manual_seed(3);
  for (int64_t numel : {1, 2, 63, 64, 65, 1001, 4096 + 7}) {
    const auto packed = at::randint(0, 256, {(numel + 1) / 2}, at::kLong).to(at::kByte);
    const auto absmax = at::rand({(numel + 63) / 64}) + 0.1;
    const auto codes = at::stack({packed.to(at::kLong).__rshift__(4), packed.to(at::kLong).__and__(15)}, 1)
                           .reshape({-1}).narrow(0, 0, numel);
    const auto expected = nf4_code_tensor().index_select(0, codes) *
                          absmax.repeat_interleave(64).narrow(0, 0, numel);
    for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
      const auto got = ops::dequantize_nf4(packed, absmax, numel, 64, dtype);
      EXPECT_EQ(got.scalar_type(), dtype);
      EXPECT_TRUE(at::equal(got, expected.to(dtype))) << numel << " " << dtype;
    }
  }
}

TEST(Dequantize, Blockwise8bitMatchesLoop) {
  at::manual_seed(4);
  for (int64_t n : {1, 255, 256, 257, 1000}) {
    const auto q = at::randint(0, 256, {n}, at::kLong).to(at::kByte);
    const auto code = std::get<0>(at::rand({256}).mul(2).sub(1).sort());
    const auto absmax = at::rand({(n + 255) / 256}) + 0.01;
    EXPECT_TRUE(at::equal(ops::dequantize_blockwise_8bit(q, code, absmax, 256, 0.037f),
                          ops::dequantize_blockwise_8bit_ref(q, code, absmax, 256, 0.037f)));
  }
}

TEST(Dequantize, Int8LoopMatchesTensorFormula) {
  at::manual_seed(5);
  const auto q = at::randint(-127, 128, {33, 77}, at::kLong).to(at::kChar);
  const auto scale = at::rand({33}) * 0.01 + 1e-4;
  const auto expected = q.to(at::kFloat) * scale.unsqueeze(1);
  for (auto dtype : {at::kFloat, at::kHalf, at::kBFloat16})
    EXPECT_TRUE(at::equal(ops::dequantize_int8_rows(q, scale, dtype), expected.to(dtype)));
}

TEST(Dequantize, RejectsMismatchedInputs) {
  const auto packed = at::zeros({5}, at::kByte);
  const auto absmax = at::ones({1});
  test::expect_input_error([&] { ops::dequantize_nf4(packed.to(at::kChar), absmax, 10, 64, at::kFloat); },
                           {"packed NF4 data", "Byte"});
  test::expect_input_error([&] { ops::dequantize_nf4(packed, at::ones({2}), 10, 64, at::kFloat); },
                           {"NF4 absmax", "1 elements", "[2]"});
  test::expect_input_error([&] { ops::dequantize_nf4(packed, absmax, 10, 63, at::kFloat); }, {"even blocksize"});
  test::expect_input_error([&] { ops::dequantize_nf4(packed, absmax, 10, 64, at::kLong); }, {"fp32, fp16 or bf16"});
  test::expect_input_error([&] { ops::dequantize_int8_rows(at::zeros({4}, at::kChar), at::ones({4}), at::kFloat); },
                           {"int8 [rows, cols]"});
  test::expect_input_error([&] { ops::dequantize_int8_rows(at::zeros({4, 2}, at::kChar), at::ones({3}), at::kFloat); },
                           {"int8 row scales"});
}

TEST(Nf4Matmul, CpuExpandsThenMultipliesAndChecksShapes) {
  at::manual_seed(9);
  const auto w = quantize_nf4(at::randn({9, 40}) * 0.02, false);
  const auto x = at::randn({3, 40});
  EXPECT_TRUE(ops::nf4_matmul_is_fused(3, 40, 64));
  EXPECT_FALSE(ops::nf4_matmul_is_fused(9, 40, 64));
  EXPECT_FALSE(ops::nf4_matmul_is_fused(3, 42, 64));
  EXPECT_TRUE(at::equal(ops::nf4_matmul(x, w.packed, w.absmax, 9, 40, 64),
                        at::linear(x, dequantize(w, at::kFloat))));
  test::expect_input_error([&] { ops::nf4_matmul(at::randn({3, 41}), w.packed, w.absmax, 9, 40, 64); },
                           {"[rows, K=40]"});
}

TEST(Int8, RoundTripWithinHalfAStepPerRow) {
  auto w = random_weight({40, 90}, 6);
  w[3].zero_();
  const auto q = quantize_int8_rows(w);
  const auto back = dequantize(q, at::kFloat);
  EXPECT_TRUE(((w - back).abs() <= q.scale.unsqueeze(1) * (0.5 + 1e-5)).all().item<bool>());
  EXPECT_EQ(q.q.abs().amax(1).narrow(0, 0, 3).min().item<int8_t>(), 127);  // each row's max is +-127
  EXPECT_EQ(q.scale[3].item<float>(), 0.0f);
  EXPECT_TRUE(at::equal(back[3], at::zeros({90})));
}

// A decoder whose linear weights are `source`'s, expanded to full precision.
Decoder dequantized_copy(const Decoder& source) {
  DecoderWeights w = source.weights();
  for (auto& layer : w.layers)
    for (LinearWeight* p : linear_weights(layer)) *p = LinearWeight(p->weight().clone());
  return Decoder(source.config(), std::move(w), {at::kFloat, at::kCPU});
}

TEST(QuantizedDecoder, ForwardEqualsFullPrecisionOnDequantizedWeights) {
  const auto dir = test::tiny_model_dir(test::tiny_options(Architecture::mistral, 12), "quant-decoder");
  const auto full = Decoder::load(dir);
  at::manual_seed(8);
  ForwardInput in;
  in.ids = at::randint(3, full.config().vocab_size, {2, 9}, at::kLong);
  const auto reference = full.forward(in);
  for (auto q : {Quantization::nf4, Quantization::int8}) {
    SCOPED_TRACE(quantization_name(q));
    const auto quantized = Decoder::load(dir, {at::kFloat, at::kCPU, q});
    for (const auto& layer : quantized.weights().layers)
      for (const LinearWeight* p : linear_weights(layer)) EXPECT_EQ(p->quantization(), q);
    EXPECT_EQ(quantized.weights().embed_tokens.scalar_type(), at::kFloat);  // never quantized
    EXPECT_EQ(quantized.parameter_count(), full.parameter_count());
    EXPECT_LT(quantized.storage_bytes(), full.storage_bytes());
    // Same ops on the same expanded weights: equal up to nothing but identical arithmetic.
    const auto out = quantized.forward(in);
    EXPECT_LT(test::max_abs_diff(out, dequantized_copy(quantized).forward(in)), 1e-6);
    // ...and actually different from the unquantized model.
    EXPECT_GT(test::max_abs_diff(out, reference), 1e-4);
  }
}

}  // namespace
}  // namespace dkv::model
