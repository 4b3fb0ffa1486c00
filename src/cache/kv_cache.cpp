// KvCache operations; every key re-rotation goes through ops::rotate_keys_.
#include "dkv/cache/kv_cache.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "dkv/core/error.h"
#include "dkv/ops/rotate_keys.h"

namespace dkv::cache {

KvCache::KvCache(int64_t num_layers, RopeSpec rope)
    // One spec even for a layer-less cache, so that rope() is always defined.
    : ropes_(static_cast<size_t>(std::max<int64_t>(num_layers, 1)), rope), keys_(num_layers),
      values_(num_layers) {}

KvCache::KvCache(std::vector<RopeSpec> layer_ropes)
    : ropes_(std::move(layer_ropes)), keys_(ropes_.size()), values_(ropes_.size()) {
  DKV_CHECK(!ropes_.empty(), "KvCache with no layers");
}

int64_t KvCache::batch() const { return empty() ? 0 : positions_.size(0); }
int64_t KvCache::capacity() const { return empty() ? 0 : positions_.size(1); }

at::Tensor KvCache::lengths() const {
  DKV_CHECK(!empty(), "lengths() of an empty cache");
  return valid_.sum(1, /*keepdim=*/false, at::kLong);
}

at::Tensor KvCache::ordinals() const {
  DKV_CHECK(!empty(), "ordinals() of an empty cache");
  return valid_.to(at::kLong).cumsum(1) - 1;
}

at::Tensor KvCache::next_positions(int64_t n) const {
  DKV_CHECK(!empty(), "next_positions() of an empty cache");
  return lengths().unsqueeze(1) + at::arange(n, positions_.options());
}

std::pair<at::Tensor, at::Tensor> KvCache::extend_layer(int64_t layer, const at::Tensor& k,
                                                        const at::Tensor& v, bool store) {
  auto& ck = keys_.at(layer);
  auto& cv = values_.at(layer);
  at::Tensor all_k = ck.defined() ? at::cat({ck, k}, 2) : k;
  at::Tensor all_v = cv.defined() ? at::cat({cv, v}, 2) : v;
  if (store) {
    ck = all_k;
    cv = all_v;
  }
  return {all_k, all_v};
}

void KvCache::commit_entries(const at::Tensor& positions, const at::Tensor& valid) {
  positions_ = positions_.defined() ? at::cat({positions_, positions}, 1) : positions.clone();
  valid_ = valid_.defined() ? at::cat({valid_, valid}, 1) : valid.clone();
  for (size_t l = 0; l < keys_.size(); ++l)
    DKV_CHECK(keys_[l].defined() && keys_[l].size(2) == positions_.size(1),
              "layer ", l, " was not extended before commit_entries");
}

void KvCache::keep(const std::vector<int64_t>& indices) { *this = gather(indices); }

void KvCache::compact() {
  DKV_CHECK(batch() == 1, "compact() needs a single-sequence cache, got ", batch());
  auto idx = valid_[0].nonzero().flatten().to(at::kCPU).contiguous();  // read on the host
  std::vector<int64_t> v(idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel());
  if (static_cast<int64_t>(v.size()) != capacity()) keep(v);
}

KvCache KvCache::gather(const std::vector<int64_t>& indices) const {
  DKV_CHECK(!empty(), "gather() on an empty cache");
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= capacity() || (i > 0 && indices[i] <= indices[i - 1]))
      throw InputError(detail::concat("KvCache::keep: indices must increase within [0, ",
                                      capacity(), "); got ", indices[i], " at position ", i));
  }
  auto idx = at::tensor(indices, at::kLong).to(positions_.device());
  KvCache out(ropes_);
  for (size_t l = 0; l < keys_.size(); ++l) {
    out.keys_[l] = keys_[l].index_select(2, idx);
    out.values_[l] = values_[l].index_select(2, idx);
  }
  out.positions_ = positions_.index_select(1, idx);
  out.valid_ = valid_.index_select(1, idx);
  return out;
}

void KvCache::reposition(const std::vector<int64_t>& delta, int64_t first_entry) {
  DKV_CHECK(!empty(), "reposition() on an empty cache");
  if (static_cast<int64_t>(delta.size()) != batch())
    throw InputError(detail::concat("KvCache::reposition: ", delta.size(),
                                    " deltas for a batch of ", batch()));
  auto d = at::tensor(delta, at::kLong).to(positions_.device()).unsqueeze(1);
  auto from = at::arange(capacity(), positions_.options()).ge(first_entry).unsqueeze(0);
  reposition_entries(d * (from & valid_).to(at::kLong));
}

void KvCache::reposition_entries(const at::Tensor& delta) {
  for (const auto& rope : ropes_)
    if (!supports_delta_rotation(rope))
      throw Error("KvCache::reposition: RoPE scaling '" + to_string(rope.scaling.type) +
                  "' has position-dependent angles, so cached keys cannot be moved by a delta "
                  "rotation; rebuild the cache at the wanted positions instead");
  DKV_CHECK(delta.sizes() == positions_.sizes(), "delta ", delta.sizes(), " vs positions ",
            positions_.sizes());
  const auto d = delta.to(positions_.device());  // callers may build deltas on the host
  for (size_t l = 0; l < keys_.size(); ++l) ops::rotate_keys_(keys_[l], d, ropes_[l]);
  positions_ = positions_ + d;
}

namespace {
void check_same_layout(const at::Tensor& held, const at::Tensor& given, const char* what, int64_t layer) {
  DKV_CHECK(held.defined() && given.defined(), what, " of layer ", layer, ": the cache holds none yet");
  DKV_CHECK(held.sizes() == given.sizes() && held.scalar_type() == given.scalar_type() &&
                held.device() == given.device(),
            what, " of layer ", layer, ": expected ", held.sizes(), " ", held.scalar_type(), " on ",
            held.device(), ", got ", given.sizes(), " ", given.scalar_type(), " on ", given.device());
}
}  // namespace

void KvCache::replace_keys(int64_t layer, at::Tensor keys) {
  check_same_layout(keys_.at(layer), keys, "keys", layer);
  keys_[layer] = std::move(keys);
}

void KvCache::replace_values(int64_t layer, at::Tensor values) {
  check_same_layout(values_.at(layer), values, "values", layer);
  values_[layer] = std::move(values);
}

KvCache KvCache::clone() const {
  KvCache out(ropes_);
  for (size_t l = 0; l < keys_.size(); ++l) {
    if (keys_[l].defined()) out.keys_[l] = keys_[l].clone();
    if (values_[l].defined()) out.values_[l] = values_[l].clone();
  }
  if (!empty()) {
    out.positions_ = positions_.clone();
    out.valid_ = valid_.clone();
  }
  return out;
}

namespace {
at::Tensor pad_entries(const at::Tensor& t, int64_t dim, int64_t target) {
  const auto missing = target - t.size(dim);
  if (missing == 0) return t;
  auto shape = t.sizes().vec();
  shape[dim] = missing;
  return at::cat({t, at::zeros(shape, t.options())}, dim);
}
}  // namespace

KvCache KvCache::concat_batch(const std::vector<const KvCache*>& parts) {
  DKV_CHECK(!parts.empty(), "concat_batch of nothing");
  const auto& first = *parts.front();
  int64_t target = 0;
  for (auto* p : parts) {
    DKV_CHECK(!p->empty() && p->num_layers() == first.num_layers(), "incompatible caches");
    target = std::max(target, p->capacity());
  }
  KvCache out(first.ropes_);
  auto gather = [&](auto&& get, int64_t dim) {
    std::vector<at::Tensor> padded;
    for (auto* p : parts) padded.push_back(pad_entries(get(*p), dim, target));
    return at::cat(padded, 0);
  };
  for (int64_t l = 0; l < first.num_layers(); ++l) {
    out.keys_[l] = gather([l](const KvCache& c) { return c.keys_[l]; }, 2);
    out.values_[l] = gather([l](const KvCache& c) { return c.values_[l]; }, 2);
  }
  out.positions_ = gather([](const KvCache& c) { return c.positions_; }, 1);
  out.valid_ = gather([](const KvCache& c) { return c.valid_; }, 1);
  return out;
}

KvCache KvCache::select_batch(const std::vector<int64_t>& rows) const {
  DKV_CHECK(!empty(), "select_batch() on an empty cache");
  auto idx = at::tensor(rows, at::kLong).to(positions_.device());
  KvCache out(ropes_);
  for (size_t l = 0; l < keys_.size(); ++l) {
    out.keys_[l] = keys_[l].index_select(0, idx);
    out.values_[l] = values_[l].index_select(0, idx);
  }
  out.positions_ = positions_.index_select(0, idx);
  out.valid_ = valid_.index_select(0, idx);
  return out;
}

}  // namespace dkv::cache
