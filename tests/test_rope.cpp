// RoPE rotation and key re-rotation: identities that hold for the exact math, and a check that
// the two pairing conventions are not interchangeable.
#include <gtest/gtest.h>

#include "dkv/cache/rope.h"
#include "dkv/core/error.h"
#include "dkv/ops/rotate_keys.h"
#include "support.h"

namespace dkv::cache {
namespace {

RopeSpec spec(RopePairing pairing, int64_t d = 16) {
  RopeSpec s;
  s.head_dim = s.rotary_dim = d;
  s.theta = 10000.0;
  s.pairing = pairing;
  return s;
}

at::Tensor positions(int64_t b, int64_t t, int64_t lo, int64_t hi) {
  return at::randint(lo, hi, {b, t}, at::kLong);
}

class RopePairingTest : public ::testing::TestWithParam<RopePairing> {};

TEST_P(RopePairingTest, RotateThenInverseIsIdentity) {
  at::manual_seed(1);
  auto s = spec(GetParam());
  auto k = at::randn({2, 3, 11, 16});
  auto p = positions(2, 11, 0, 512);
  auto back = rotate(rotate(k, p, s), -p, s);
  // Two fp32 rotations of unit-scale values: a few ulps of |k| (~1e-7 each).
  EXPECT_LT(test::max_abs_diff(back, k), 1e-5);
}

TEST_P(RopePairingTest, RepositionEqualsRotationAtShiftedPosition) {
  at::manual_seed(2);
  auto s = spec(GetParam());
  auto k = at::randn({2, 3, 13, 16});
  auto p = positions(2, 13, 0, 200);
  auto delta = positions(2, 13, -100, 100);
  auto moved = rotate(k, p, s);
  ops::rotate_keys_(moved, delta, s);
  auto fresh = rotate(k, p + delta, s);
  // R(d)R(p) vs R(p+d) differ only by fp32 rounding of the angles: |angle error| <= ~|p| * 2^-24
  // rad for p < 300, so the keys differ by < |k|max * 300 * 6e-8 + ulps ~ 1e-4 worst case.
  const double bound = k.abs().max().item<double>() * 300 * 6e-8 + 1e-5;
  EXPECT_LT(test::max_abs_diff(moved, fresh), bound);
}

INSTANTIATE_TEST_SUITE_P(BothPairings, RopePairingTest,
                         ::testing::Values(RopePairing::half_split, RopePairing::interleaved));

TEST(Rope, PairingsAreNotInterchangeable) {
  at::manual_seed(3);
  auto k = at::randn({1, 2, 9, 16});
  auto p = positions(1, 9, 1, 100);
  auto half = rotate(k, p, spec(RopePairing::half_split));
  auto inter = rotate(k, p, spec(RopePairing::interleaved));
  EXPECT_GT(test::max_abs_diff(half, inter), 1e-2);
  // Re-positioning a half-split key with the interleaved convention does not move it to p + d.
  auto d = at::full({1, 9}, 17, at::kLong);
  auto wrong = half.clone();
  ops::rotate_keys_(wrong, d, spec(RopePairing::interleaved));
  EXPECT_GT(test::max_abs_diff(wrong, rotate(k, p + d, spec(RopePairing::half_split))), 1e-2);
}

TEST(Rope, HalfSplitPairsCoordinateIWithIPlusHalf) {
  // Independent statement of HF rotate_half at one position: x' = x*cos + rotate_half(x)*sin,
  // rotate_half(x) = cat(-x[D/2:], x[:D/2]), angle_i = p * theta^(-2i/D).
  auto s = spec(RopePairing::half_split, 4);
  auto x = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({1, 1, 1, 4});
  const double p = 5;
  auto y = rotate(x, at::full({1, 1}, 5, at::kLong), s).flatten();
  const double a0 = p, a1 = p / 100.0;  // theta^(-2*1/4) = 1/100
  const double expect[4] = {1 * std::cos(a0) - 3 * std::sin(a0), 2 * std::cos(a1) - 4 * std::sin(a1),
                            3 * std::cos(a0) + 1 * std::sin(a0), 4 * std::cos(a1) + 2 * std::sin(a1)};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i].item<double>(), expect[i], 1e-5) << i;
}

TEST(Rope, InterleavedPairsAdjacentCoordinates) {
  auto s = spec(RopePairing::interleaved, 4);
  auto x = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({1, 1, 1, 4});
  const double p = 5, a0 = p, a1 = p / 100.0;
  auto y = rotate(x, at::full({1, 1}, 5, at::kLong), s).flatten();
  const double expect[4] = {1 * std::cos(a0) - 2 * std::sin(a0), 2 * std::cos(a0) + 1 * std::sin(a0),
                            3 * std::cos(a1) - 4 * std::sin(a1), 4 * std::cos(a1) + 3 * std::sin(a1)};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i].item<double>(), expect[i], 1e-5) << i;
}

TEST(Rope, Llama3ScalingMatchesHfFormula) {
  // HF _compute_llama3_parameters with Llama-3.1's values, written out independently in fp64.
  RopeSpec s = spec(RopePairing::half_split, 128);
  s.theta = 500000.0;
  s.scaling = {RopeScalingType::llama3, 8.0, 1.0, 4.0, 8192};
  auto got = inv_freq(s);
  for (int64_t i = 0; i < 64; ++i) {
    const double base = 1.0 / std::pow(500000.0, 2.0 * i / 128.0);
    const double wavelen = 2 * M_PI / base;
    double expect;
    if (wavelen < 8192 / 4.0) expect = base;
    else if (wavelen > 8192 / 1.0) expect = base / 8.0;
    else {
      const double smooth = (8192 / wavelen - 1.0) / (4.0 - 1.0);
      expect = (1 - smooth) * base / 8.0 + smooth * base;
    }
    EXPECT_NEAR(got[i].item<double>() / expect, 1.0, 1e-6) << i;  // fp32 relative precision
  }
}

TEST(Rope, DeltaRotationRefusedWhereInexact) {
  RopeSpec s = spec(RopePairing::half_split);
  for (auto t : {RopeScalingType::dynamic, RopeScalingType::yarn, RopeScalingType::longrope}) {
    s.scaling.type = t;
    EXPECT_FALSE(supports_delta_rotation(s));
  }
  for (auto t : {RopeScalingType::none, RopeScalingType::linear, RopeScalingType::llama3}) {
    s.scaling.type = t;
    EXPECT_TRUE(supports_delta_rotation(s));
  }
}

TEST(RotateKeys, RejectsBadShapes) {
  auto s = spec(RopePairing::half_split);
  auto k = at::randn({1, 2, 5, 16});
  auto bad_delta = at::zeros({1, 4}, at::kLong);
  EXPECT_THROW(ops::rotate_keys_(k, bad_delta, s), InputError);
  auto int_delta = at::zeros({1, 5}, at::kInt);
  EXPECT_THROW(ops::rotate_keys_(k, int_delta, s), InputError);
  auto wrong_d = at::randn({1, 2, 5, 8});
  auto delta = at::zeros({1, 5}, at::kLong);
  EXPECT_THROW(ops::rotate_keys_(wrong_d, delta, s), InputError);
}

}  // namespace
}  // namespace dkv::cache
