// KvCache invariants on real tiny models (fp32): incremental decoding, offsets undone by
// re-positioning, cuts that keep BOS, batching with padding.
#include <gtest/gtest.h>

#include "dkv/cache/kv_cache.h"
#include "dkv/core/error.h"
#include "dkv/model/decoder.h"
#include "support.h"

namespace dkv::cache {
namespace {

using model::Architecture;
using model::Decoder;
using model::ForwardInput;

at::Tensor row(const std::vector<int64_t>& v) {
  return at::tensor(v, at::kLong).view({1, static_cast<int64_t>(v.size())});
}

// Same-model fp32 paths that differ only in summation grouping (cache concat vs one pass):
// logits of magnitude ~10 agree to ~1e-6; the bound is 1e-4.
constexpr double kTol = 1e-4;

class CacheOnModel : public ::testing::TestWithParam<Architecture> {
 protected:
  void SetUp() override {
    auto o = test::tiny_options(GetParam(), 21);
    if (GetParam() == Architecture::mistral) o.sliding_window = 6;  // window smaller than inputs
    decoder_ = std::make_unique<Decoder>(
        Decoder::load(test::tiny_model_dir(o, "cache-" + model::to_string(GetParam()))));
  }
  std::unique_ptr<Decoder> decoder_;
  const std::vector<int64_t> doc_ = {1, 30, 31, 9, 64, 12, 3, 88, 45, 21, 60};  // BOS + doc
};

TEST_P(CacheOnModel, TokenByTokenDecodingMatchesFullForward) {
  auto full = decoder_->forward({row(doc_), {}, {}, {}}).squeeze(0);
  auto cache = decoder_->new_cache();
  const int64_t prefill = 4;
  std::vector<at::Tensor> steps{decoder_->forward(
      {row({doc_.begin(), doc_.begin() + prefill}), {}, {}, {}}, &cache).squeeze(0)};
  for (size_t i = prefill; i < doc_.size(); ++i)
    steps.push_back(decoder_->forward({row({doc_[i]}), {}, {}, {}}, &cache).squeeze(0));
  EXPECT_LT(test::max_abs_diff(at::cat(steps, 0), full), kTol);
  EXPECT_EQ(cache.capacity(), static_cast<int64_t>(doc_.size()));
}

TEST_P(CacheOnModel, OffsetCacheRepositionedContinuesLikeZeroBased) {
  const std::vector<int64_t> query = {50, 6, 71, 33};
  const int64_t S = 37;
  auto base = decoder_->new_cache();
  decoder_->forward({row(doc_), {}, {}, {}}, &base);
  auto shifted = decoder_->new_cache();
  auto pos = at::arange(S, S + static_cast<int64_t>(doc_.size()), at::kLong).view({1, -1});
  decoder_->forward({row(doc_), pos, {}, {}}, &shifted);
  shifted.reposition({-S});
  EXPECT_TRUE(at::equal(shifted.positions(), base.positions()));
  auto a = decoder_->forward({row(query), {}, {}, {}}, &base);
  auto b = decoder_->forward({row(query), {}, {}, {}}, &shifted);
  EXPECT_LT(test::max_abs_diff(a, b), kTol);
}

TEST_P(CacheOnModel, CutKeepsBosAndRepositionedKeysEqualFreshRotation) {
  const std::vector<int64_t> prefix = {17, 42, 8, 77, 5};
  std::vector<int64_t> full{1};
  full.insert(full.end(), prefix.begin(), prefix.end());
  full.insert(full.end(), doc_.begin() + 1, doc_.end());
  auto cache = decoder_->new_cache();
  decoder_->forward({row(full), {}, {}, {}}, &cache);
  // Un-rotated keys of the same pass, recomputed independently: rotate the cached keys back by
  // their own positions.
  std::vector<int64_t> keep{0};
  const int64_t P = 1 + static_cast<int64_t>(prefix.size());
  for (int64_t i = P; i < static_cast<int64_t>(full.size()); ++i) keep.push_back(i);
  std::vector<at::Tensor> raw;
  for (int64_t l = 0; l < cache.num_layers(); ++l)
    raw.push_back(rotate(cache.keys(l), -cache.positions(), cache.rope()));
  cache.keep(keep);
  cache.reposition({-(P - 1)}, /*first_entry=*/1);
  auto expected_pos = at::arange(static_cast<int64_t>(keep.size()), at::kLong).view({1, -1});
  EXPECT_TRUE(at::equal(cache.positions(), expected_pos)) << cache.positions();
  auto idx = at::tensor(keep, at::kLong);
  for (int64_t l = 0; l < cache.num_layers(); ++l) {
    auto fresh = rotate(raw[l].index_select(2, idx), expected_pos, cache.rope());
    // Two fp32 rotations at positions < 20 vs one: a few ulps.
    EXPECT_LT(test::max_abs_diff(cache.keys(l), fresh), 1e-5) << "layer " << l;
  }
}

TEST_P(CacheOnModel, BrokenCutDiffersFromCorrected) {
  std::vector<int64_t> full{1, 17, 42, 8, 77, 5};
  full.insert(full.end(), doc_.begin() + 1, doc_.end());
  auto cache = decoder_->new_cache();
  decoder_->forward({row(full), {}, {}, {}}, &cache);
  std::vector<int64_t> keep{0};
  for (int64_t i = 6; i < static_cast<int64_t>(full.size()); ++i) keep.push_back(i);
  cache.keep(keep);
  auto corrected = cache.clone();
  corrected.reposition({-5}, 1);
  // HF default: the query lands at the number of entries, whatever the kept positions are.
  EXPECT_TRUE(at::equal(cache.next_positions(1), corrected.next_positions(1)));
  auto a = decoder_->forward({row({50, 6}), {}, {}, {}}, &cache);
  auto b = decoder_->forward({row({50, 6}), {}, {}, {}}, &corrected);
  EXPECT_GT(test::max_abs_diff(a, b), 1e-3);
}

TEST_P(CacheOnModel, PaddedBatchMatchesSingleSequences) {
  const std::vector<int64_t> a = {1, 30, 31, 9, 64, 12, 3}, b = {1, 88, 45};
  auto ids = at::zeros({2, 7}, at::kLong);
  ids[0].copy_(row(a)[0]);
  ids[1].narrow(0, 0, 3).copy_(row(b)[0]);
  auto mask = ids.ne(0);
  auto cache = decoder_->new_cache();
  auto batched = decoder_->forward({ids, {}, mask, {}}, &cache);
  auto cont = decoder_->forward({at::tensor({5L, 6L}, at::kLong).view({2, 1}), {}, {}, {}}, &cache);
  for (int s = 0; s < 2; ++s) {
    const auto& seq = s == 0 ? a : b;
    auto single = decoder_->new_cache();
    auto one = decoder_->forward({row(seq), {}, {}, {}}, &single).squeeze(0);
    EXPECT_LT(test::max_abs_diff(batched[s].narrow(0, 0, seq.size()), one), kTol);
    auto next = decoder_->forward({row({s == 0 ? 5L : 6L}), {}, {}, {}}, &single);
    EXPECT_LT(test::max_abs_diff(cont[s], next[0]), kTol) << "sequence " << s;
  }
}

TEST_P(CacheOnModel, ConcatBatchOfCachesMatchesSeparateContinuations) {
  auto c1 = decoder_->new_cache();
  decoder_->forward({row({1, 30, 31, 9, 64}), {}, {}, {}}, &c1);
  auto c2 = decoder_->new_cache();
  decoder_->forward({row({1, 88}), {}, {}, {}}, &c2);
  auto both = KvCache::concat_batch({&c1, &c2});
  EXPECT_EQ(both.lengths()[1].item<int64_t>(), 2);
  auto q = at::tensor({50L, 6L, 71L, 50L, 6L, 71L}, at::kLong).view({2, 3});
  auto joint = decoder_->forward({q, {}, {}, {}}, &both, model::CacheWrite::discard);
  auto a = decoder_->forward({row({50, 6, 71}), {}, {}, {}}, &c1, model::CacheWrite::discard);
  auto b = decoder_->forward({row({50, 6, 71}), {}, {}, {}}, &c2, model::CacheWrite::discard);
  EXPECT_LT(test::max_abs_diff(joint[0], a[0]), kTol);
  EXPECT_LT(test::max_abs_diff(joint[1], b[0]), kTol);
  EXPECT_EQ(c1.capacity(), 5);  // discard left the source caches alone
}

TEST_P(CacheOnModel, SelectedLogitRowsEqualFullRows) {
  auto full = decoder_->forward({row(doc_), {}, {}, {}});
  auto some = decoder_->forward({row(doc_), {}, {}, at::tensor({2L, 7L}, at::kLong)});
  EXPECT_LT(test::max_abs_diff(some[0], full[0][2]), 1e-5);
  EXPECT_LT(test::max_abs_diff(some[1], full[0][7]), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Architectures, CacheOnModel,
                         ::testing::Values(Architecture::llama, Architecture::mistral),
                         [](const auto& info) { return model::to_string(info.param); });

TEST(KvCache, KeepRejectsUnorderedOrOutOfRange) {
  auto o = test::tiny_options(Architecture::llama, 21);
  auto decoder = Decoder::load(test::tiny_model_dir(o, "cache-llama-keep"));
  auto cache = decoder.new_cache();
  decoder.forward({row({1, 2, 3, 4}), {}, {}, {}}, &cache);
  EXPECT_THROW(cache.keep({0, 2, 1}), InputError);
  EXPECT_THROW(cache.keep({0, 4}), InputError);
}

TEST(KvCache, RepositionRefusedForDynamicNtk) {
  auto o = test::tiny_options(Architecture::llama, 21);
  auto decoder = Decoder::load(test::tiny_model_dir(o, "cache-llama-keep"));
  auto cache = decoder.new_cache();
  decoder.forward({row({1, 2, 3}), {}, {}, {}}, &cache);
  auto rope = cache.rope();
  rope.scaling.type = RopeScalingType::dynamic;
  KvCache dyn(cache.num_layers(), rope);
  for (int64_t l = 0; l < cache.num_layers(); ++l)
    dyn.extend_layer(l, cache.keys(l), cache.values(l), true);
  dyn.commit_entries(cache.positions(), cache.valid());
  EXPECT_THROW(dyn.reposition({1}), Error);
}

}  // namespace
}  // namespace dkv::cache

namespace dkv::model {
namespace {

// Keys or values taken from another cache of the same shape (cache mixes): the other cache's
// numbers exactly; a tensor of another shape is refused, the cache unchanged.
TEST(KvCacheReplace, SwappedLayersAreTheOtherCachesAndShapesAreChecked) {
  auto o = test::tiny_options(Architecture::llama, 22);
  const auto d = Decoder::load(test::tiny_model_dir(o, "cache-replace"));
  auto a = d.new_cache(), b = d.new_cache();
  d.forward({at::tensor(std::vector<int64_t>{1, 30, 31, 9}, at::kLong).view({1, 4}), {}, {}, {}}, &a);
  d.forward({at::tensor(std::vector<int64_t>{1, 77, 5, 12}, at::kLong).view({1, 4}), {}, {}, {}}, &b);
  auto mixed = a.clone();
  mixed.replace_values(1, b.values(1).clone());
  mixed.replace_keys(0, b.keys(0).clone());
  EXPECT_TRUE(at::equal(mixed.values(1), b.values(1)));
  EXPECT_TRUE(at::equal(mixed.keys(0), b.keys(0)));
  EXPECT_TRUE(at::equal(mixed.values(0), a.values(0)));
  EXPECT_TRUE(at::equal(mixed.keys(1), a.keys(1)));
  EXPECT_FALSE(at::equal(a.values(1), b.values(1)));
  EXPECT_THROW(mixed.replace_values(0, b.values(0).narrow(2, 0, 3).clone()), Error);
  EXPECT_THROW(mixed.replace_keys(0, b.keys(0).to(at::kDouble)), Error);
  EXPECT_TRUE(at::equal(mixed.values(0), a.values(0)));
}

}  // namespace
}  // namespace dkv::model
