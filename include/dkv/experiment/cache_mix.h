// Mixing two caches of one sample: the keys side's cache with values taken from (or moved
// towards) the values side's on a layer set and a range of document entries.
#pragma once

#include "dkv/cache/kv_cache.h"
#include "dkv/experiment/plan.h"

namespace dkv::experiment {

// `keys_side` and `values_side` are single-sequence caches built for the plans `keys_plan`
// and `values_plan`. Returns the mixed cache (keys_side is copied, not changed). Without
// from_partner both must hold the same number of entries (InputError otherwise).
// alpha = 1 copies the values (bit-exact); otherwise v_k + alpha (v_v - v_k) in fp32, cast back.
cache::KvCache mix_caches(const cache::KvCache& keys_side, const CachePlan& keys_plan,
                          const cache::KvCache& values_side, const CachePlan& values_plan, const CacheMix& mix);

// Kept-entry range [begin, end) of the keys side whose values are replaced.
std::pair<int64_t, int64_t> mix_entry_range(const CachePlan& keys_plan, const CachePlan& values_plan,
                                            const CacheMix& mix);

}  // namespace dkv::experiment
