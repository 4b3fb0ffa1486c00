// Keys from one cache, values from another: the study's key/value hybrids (v2-08 on).
#include "dkv/experiment/cache_mix.h"

#include <ATen/ATen.h>

#include <cmath>

#include "dkv/core/error.h"

namespace dkv::experiment {

std::pair<int64_t, int64_t> mix_entry_range(const CachePlan& k, const CachePlan& v, const CacheMix& m) {
  const int64_t doc = k.doc_end - k.doc_begin;
  // Fractions of the document's entries, rounded down at both ends (first quarter of 10
  // entries = [0, 2), last quarter = [7, 10)).
  int64_t begin = k.doc_begin + static_cast<int64_t>(std::floor(m.range_from * static_cast<double>(doc)));
  int64_t end = k.doc_begin + static_cast<int64_t>(std::floor(m.range_to * static_cast<double>(doc)));
  if (m.from_partner) end = std::min(end, k.doc_begin + (v.doc_end - v.doc_begin));  // the overlap
  return {begin, std::max(begin, end)};
}

cache::KvCache mix_caches(const cache::KvCache& keys_side, const CachePlan& keys_plan,
                          const cache::KvCache& values_side, const CachePlan& values_plan, const CacheMix& m) {
  DKV_CHECK(keys_side.batch() == 1 && values_side.batch() == 1, "mix_caches needs single-sequence caches");
  if (!m.from_partner && keys_side.capacity() != values_side.capacity())
    throw InputError("a mix's caches hold " + std::to_string(keys_side.capacity()) + " and " +
                     std::to_string(values_side.capacity()) + " entries");
  auto out = keys_side.clone();
  const auto [begin, end] = mix_entry_range(keys_plan, values_plan, m);
  if (begin >= end) return out;
  // Entry e of the keys side takes the values side's entry e + shift.
  const int64_t shift = m.from_partner ? values_plan.doc_begin - keys_plan.doc_begin : 0;
  std::vector<int64_t> layers = m.layers;
  if (layers.empty())
    for (int64_t l = 0; l < keys_side.num_layers(); ++l) layers.push_back(l);
  for (auto l : layers) {
    DKV_CHECK(l >= 0 && l < keys_side.num_layers(), "mix layer ", l, " out of range");
    auto v = out.values(l).clone();  // [1, H, T, D]
    auto src = values_side.values(l).narrow(2, begin + shift, end - begin);
    auto dst = v.narrow(2, begin, end - begin);
    if (m.alpha == 1) {
      dst.copy_(src);
    } else {
      const auto vk = dst.to(at::kFloat);
      dst.copy_(vk + m.alpha * (src.to(at::kFloat) - vk));
    }
    out.replace_values(l, std::move(v));
  }
  return out;
}

}  // namespace dkv::experiment
