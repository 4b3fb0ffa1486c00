// ForwardInput::score_bias: an additive attention bias over [cache entries, new tokens].
// Properties: a zero bias changes nothing (bit for bit); -inf on some cache columns equals a
// cache with those entries cut; a very negative finite bias equals -inf within fp32 rounding.
#include <gtest/gtest.h>

#include <limits>

#include "dkv/cache/kv_cache.h"
#include "dkv/model/decoder.h"
#include "support.h"

namespace dkv::model {
namespace {

at::Tensor row(const std::vector<int64_t>& v) {
  return at::tensor(v, at::kLong).view({1, static_cast<int64_t>(v.size())});
}

class ScoreBias : public ::testing::TestWithParam<Architecture> {
 protected:
  void SetUp() override {
    auto o = test::tiny_options(GetParam(), 33);
    // A window longer than every input here, so that cutting entries (which renumbers the
    // ordinals the window counts) changes nothing but the cut entries themselves.
    if (GetParam() == Architecture::mistral || GetParam() == Architecture::gemma3) o.sliding_window = 64;
    if (GetParam() == Architecture::gemma3) {  // layer 0 slides (local theta), layer 1 is full
      o.head_dim = 24;
      o.sliding_window_pattern = 2;
    }
    decoder_ = std::make_unique<Decoder>(
        Decoder::load(test::tiny_model_dir(o, "score-bias-" + to_string(GetParam()))));
  }
  std::unique_ptr<Decoder> decoder_;
  const std::vector<int64_t> doc_ = {1, 30, 31, 9, 64, 12, 3, 88, 45};
  const std::vector<int64_t> query_ = {50, 6, 71};
};

TEST_P(ScoreBias, ZeroBiasEqualsNoBiasBitForBit) {
  // Padded batch of two with a cache: every mask path is exercised.
  auto ids = at::zeros({2, 5}, at::kLong);
  ids[0].copy_(at::tensor({1L, 30L, 31L, 9L, 64L}));
  ids[1].narrow(0, 0, 3).copy_(at::tensor({1L, 88L, 45L}));
  auto cache = decoder_->new_cache();
  auto plain_prefill = decoder_->forward({ids, {}, ids.ne(0), {}}, &cache);
  ForwardInput biased{ids, {}, ids.ne(0), {}, at::zeros({2, 5, 5})};
  auto cache2 = decoder_->new_cache();
  EXPECT_TRUE(at::equal(decoder_->forward(biased, &cache2), plain_prefill));
  auto q = at::tensor({50L, 6L, 71L, 50L, 6L, 71L}, at::kLong).view({2, 3});
  auto a = decoder_->forward({q, {}, {}, {}}, &cache, CacheWrite::discard);
  auto b = decoder_->forward({q, {}, {}, {}, at::zeros({2, 3, 8})}, &cache2, CacheWrite::discard);
  EXPECT_TRUE(at::equal(a, b));
}

TEST_P(ScoreBias, MinusInfOnCacheColumnsEqualsCuttingThoseEntries) {
  auto cache = decoder_->new_cache();
  decoder_->forward({row(doc_), {}, {}, {}}, &cache);
  const std::vector<int64_t> cut = {2, 3, 6};
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < static_cast<int64_t>(doc_.size()); ++i)
    if (std::find(cut.begin(), cut.end(), i) == cut.end()) keep.push_back(i);
  auto kept = cache.gather(keep);
  // Same query positions for both: after the full document.
  const int64_t S = static_cast<int64_t>(doc_.size()), T = static_cast<int64_t>(query_.size());
  auto pos = at::arange(S, S + T, at::kLong).view({1, T});
  auto expected = decoder_->forward({row(query_), pos, {}, {}}, &kept, CacheWrite::discard);
  for (float neg : {-std::numeric_limits<float>::infinity(), -1e9f}) {
    auto bias = at::zeros({1, T, S + T});
    for (auto c : cut) bias.select(2, c).fill_(neg);
    auto got = decoder_->forward({row(query_), pos, {}, {}, bias}, &cache, CacheWrite::discard);
    // exp(-inf) = 0 exactly; exp(-1e9 + s) underflows to 0 too: the two differ from the cut
    // cache only in summation over exact zeros and in the matmul grouping: ~1e-6.
    EXPECT_LT(test::max_abs_diff(got, expected), 1e-5) << "bias " << neg;
  }
}

TEST_P(ScoreBias, FiniteBiasChangesLogitsAndWrongShapeIsRefused) {
  auto cache = decoder_->new_cache();
  decoder_->forward({row(doc_), {}, {}, {}}, &cache);
  const int64_t S = static_cast<int64_t>(doc_.size()), T = static_cast<int64_t>(query_.size());
  auto plain = decoder_->forward({row(query_), {}, {}, {}}, &cache, CacheWrite::discard);
  auto bias = at::zeros({1, T, S + T});
  bias.select(2, 4).fill_(2.0);
  auto boosted = decoder_->forward({row(query_), {}, {}, {}, bias}, &cache, CacheWrite::discard);
  EXPECT_GT(test::max_abs_diff(plain, boosted), 1e-3);
  test::expect_input_error(
      [&] { decoder_->forward({row(query_), {}, {}, {}, at::zeros({1, T, T})}, &cache, CacheWrite::discard); },
      {"score_bias", "[1, 3, 12]", "[1, 3, 3]"});
}

INSTANTIATE_TEST_SUITE_P(Architectures, ScoreBias,
                         ::testing::Values(Architecture::llama, Architecture::mistral, Architecture::qwen2,
                                           Architecture::gemma3),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace dkv::model
