// Executors for sample plans. Shapes: B rows, T new tokens, S cached entries, V vocab.
#include "dkv/experiment/scoring.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

#include "dkv/core/error.h"
#include "dkv/experiment/cache_mix.h"
#include "dkv/model/decoder.h"

namespace dkv::experiment {

using at::Tensor;
using cache::KvCache;

namespace {

Tensor ids_row(const std::vector<int64_t>& ids) {
  return at::tensor(ids, at::kLong).view({1, static_cast<int64_t>(ids.size())});
}

// NLL of `targets` under fp32 logits rows [N, V] (log-softmax in fp32).
std::vector<double> token_nlls(const Tensor& logits, const std::vector<int64_t>& targets) {
  auto logp = at::log_softmax(logits.to(at::kFloat), -1);
  auto picked = logp.gather(1, at::tensor(targets, at::kLong).view({-1, 1}).to(logp.device()))
                    .to(at::kDouble).cpu().contiguous();
  std::vector<double> out(picked.numel());
  for (int64_t i = 0; i < picked.numel(); ++i) out[i] = -picked.data_ptr<double>()[i];
  return out;
}

ConditionScore summarize(const std::vector<double>& nll, uint32_t flags) {
  ConditionScore s;
  s.flags = flags;
  s.answer_tokens = static_cast<int32_t>(nll.size());
  double sum = 0;
  for (double v : nll) sum += v;
  s.nll_mean = sum / static_cast<double>(nll.size());
  s.nll_first_token = nll.front();
  return s;
}

// A row that cannot be scored (a mix of caches of different lengths): NaN, never 0.
ConditionScore not_scored(uint32_t flags) {
  ConditionScore s;
  s.nll_mean = s.nll_first_token = std::numeric_limits<double>::quiet_NaN();
  s.flags = flags;
  return s;
}

// Counts forwards; their FLOPs are counted by the decoder itself (see FlopScope).
void count(ScoringStats* st, const model::Decoder&, int64_t, int64_t, int64_t, int64_t) {
  if (st) ++st->forwards;
}

// Routes the decoder's FLOP count into stats->flops for the scope's lifetime.
struct FlopScope {
  FlopScope(const model::Decoder& d, ScoringStats* st) : d_(d), active_(st != nullptr) {
    if (active_) d.count_flops_into(&st->flops);
  }
  ~FlopScope() {
    if (active_) d_.count_flops_into(nullptr);
  }
  const model::Decoder& d_;
  bool active_;
};

// A distinct prefill: ids at positions offset.., possibly extending a shorter one.
struct Prefill {
  std::vector<int64_t> ids;
  int64_t offset = 0;
  int parent = -1;  // index of the prefill whose ids are a prefix of ours (same offset)
  std::unique_ptr<KvCache> cache;
  const CachePlan* biased = nullptr;  // a build with an attention bias (never shared as a prefix)
};

// Build-time bias [B, T, T] of a batch of root prefills (one plan per row, null = unbiased):
// the rows of entries that are not bias columns get plan.bias on the bias columns.
Tensor build_bias(const std::vector<const CachePlan*>& batch, int64_t T) {
  bool any = false;
  for (const auto* plan : batch) any |= plan != nullptr;
  if (!any) return {};
  auto bias = at::zeros({static_cast<int64_t>(batch.size()), T, T}, at::kFloat);
  for (size_t b = 0; b < batch.size(); ++b) {
    const auto* plan = batch[b];
    if (!plan) continue;
    const int64_t n = static_cast<int64_t>(plan->prefill_ids.size());
    std::vector<bool> is_column(static_cast<size_t>(n), false);
    for (auto c : plan->bias_columns) is_column[static_cast<size_t>(c)] = true;
    auto rows = at::zeros({n}, at::kBool), cols = at::zeros({n}, at::kBool);
    for (int64_t e = 0; e < n; ++e) (is_column[static_cast<size_t>(e)] ? cols : rows)[e] = true;
    bias[static_cast<int64_t>(b)].narrow(0, 0, n).narrow(1, 0, n).masked_fill_(
        rows.view({n, 1}) & cols.view({1, n}), plan->bias);
  }
  return bias;
}

// Runs one batch of prefills: roots from empty caches, children as extensions of their parents.
void run_prefill_batch(const model::Decoder& d, std::vector<Prefill>& all, const std::vector<int>& batch,
                       ScoringStats* st) {
  const int64_t B = static_cast<int64_t>(batch.size());
  std::vector<int64_t> start(B);
  int64_t T = 0;
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = all[batch[b]];
    start[b] = p.parent >= 0 ? static_cast<int64_t>(all[p.parent].ids.size()) : 0;
    T = std::max<int64_t>(T, p.ids.size() - start[b]);
  }
  auto ids = at::zeros({B, T}, at::kLong);
  auto pos = at::zeros({B, T}, at::kLong);
  auto mask = at::zeros({B, T}, at::kBool);
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = all[batch[b]];
    const int64_t n = static_cast<int64_t>(p.ids.size()) - start[b];
    ids[b].narrow(0, 0, n).copy_(at::tensor(std::vector<int64_t>(p.ids.begin() + start[b], p.ids.end()), at::kLong));
    pos[b].narrow(0, 0, n).copy_(at::arange(p.offset + start[b], p.offset + start[b] + n, at::kLong));
    mask[b].narrow(0, 0, n).fill_(true);
  }
  const bool roots = all[batch[0]].parent < 0;
  KvCache cache = d.new_cache();
  int64_t past = 0;
  if (!roots) {
    std::vector<const KvCache*> parents;
    for (int idx : batch) parents.push_back(all[all[idx].parent].cache.get());
    cache = KvCache::concat_batch(parents);
    past = cache.capacity();
  }
  // Logits are not needed from a prefill: ask for one row to skip the lm_head.
  model::ForwardInput in{ids, pos, mask, at::zeros({1}, at::kLong)};
  if (roots) {
    std::vector<const CachePlan*> biased;
    for (int idx : batch) biased.push_back(all[idx].biased);
    in.score_bias = build_bias(biased, T);
  }
  d.forward(in, &cache);
  count(st, d, B, T, past, 1);
  if (st) st->prefills += B;
  for (int64_t b = 0; b < B; ++b) {
    auto one = std::make_unique<KvCache>(cache.select_batch({b}));
    one->compact();
    all[batch[b]].cache = std::move(one);
  }
}

// Greedy packing in the given (length-sorted) order: a new batch starts when rows x longest
// would pass the budget, or when padding to the longest would cost more than ~10% over the
// shortest row (padded tokens are computed, so mixing short and long rows wastes FLOPs).
template <typename LengthFn>
std::vector<std::vector<int>> pack(const std::vector<int>& order, int64_t budget, LengthFn length) {
  std::vector<std::vector<int>> batches;
  int64_t longest = 0, shortest = 0;
  for (int i : order) {
    const int64_t len = length(i);
    if (!batches.empty()) {
      const int64_t rows = static_cast<int64_t>(batches.back().size()) + 1;
      const int64_t padded = std::max(longest, len);
      const int64_t low = std::min(shortest, len);
      if (rows * padded <= budget && padded * 10 <= low * 11 + 80) {
        batches.back().push_back(i);
        longest = padded;
        shortest = low;
        continue;
      }
    }
    batches.push_back({i});
    longest = shortest = len;
  }
  return batches;
}

// The cache a condition is scored on, derived from its prefill (computed at `prefill_offset`).
KvCache condition_cache(const KvCache& prefill, int64_t prefill_offset, const CachePlan& plan) {
  std::vector<int64_t> keep = plan.keep;
  if (keep.empty())
    for (int64_t i = 0; i < prefill.capacity(); ++i) keep.push_back(i);
  auto c = prefill.gather(keep);
  std::vector<int64_t> delta = plan.delta;
  delta.resize(keep.size(), 0);
  for (auto& d : delta) d += plan.position_offset - prefill_offset;
  if (std::any_of(delta.begin(), delta.end(), [](int64_t d) { return d != 0; }))
    c.reposition_entries(at::tensor(delta, at::kLong).view({1, -1}));
  return c;
}

// The cache a plan is scored on: its own prefill's, or for a mix, the mix of its two sides'.
template <typename CacheOf>
KvCache scored_cache(const SamplePlan& sp, size_t cond, const CacheOf& cache_of) {
  const auto& plan = sp.conditions[cond];
  if (!plan.mix) return cache_of(plan, false, cond);
  const auto& m = *plan.mix;
  const auto& kp = sp.conditions[m.keys];
  const auto& vp = m.from_partner ? sp.partner[m.values] : sp.conditions[m.values];
  return mix_caches(cache_of(kp, false, static_cast<size_t>(m.keys)), kp,
                    cache_of(vp, m.from_partner, static_cast<size_t>(m.values)), vp, m);
}

Tensor continuation_positions(const KvCache& c, QueryPositions where, int64_t n) {
  const int64_t first = where == QueryPositions::after_last
                            ? c.positions().max().item<int64_t>() + 1
                            : c.lengths()[0].item<int64_t>();
  return at::arange(first, first + n, at::kLong);
}

}  // namespace

std::vector<std::vector<ConditionScore>> score_plans(const model::Decoder& d,
                                                     const std::vector<SamplePlan>& plans,
                                                     int64_t budget, ScoringStats* st) {
  FlopScope flops(d, st);
  // 1. Distinct prefills, keyed by (offset, ids): decided by token ids and positions, never by
  //    condition names, so a boundary that tokenizes differently gets its own prefill.
  //    A prefill that differs from another only by a constant position offset is not recomputed:
  //    RoPE attention depends only on relative positions, so re-rotating every key by the
  //    offset gives the same cache up to fp32 rounding of the keys (checked against the
  //    notebook-shaped executor, which prefills at the offset, in tests and the benchmark).
  //    Mixes have no prefill of their own: they are made from their sides' caches.
  std::vector<Prefill> prefills;
  std::map<std::vector<int64_t>, int> index;
  std::vector<std::vector<int>> which(plans.size()), which_partner(plans.size());
  auto add_prefill = [&](const CachePlan& c) {
    if (c.mix) return -1;
    auto key = c.prefill_ids;
    if (c.bias != 0) {  // a biased build is its own prefill: key = ids, a separator, bias, columns
      key.push_back(-1);
      int64_t bits = 0;
      std::memcpy(&bits, &c.bias, sizeof bits);
      key.push_back(bits);
      key.insert(key.end(), c.bias_columns.begin(), c.bias_columns.end());
    }
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, static_cast<int>(prefills.size())).first;
      prefills.push_back({c.prefill_ids, c.position_offset, -1, nullptr, c.bias != 0 ? &c : nullptr});
    }
    return it->second;
  };
  for (size_t s = 0; s < plans.size(); ++s) {
    for (const auto& c : plans[s].conditions) which[s].push_back(add_prefill(c));
    for (const auto& c : plans[s].partner) which_partner[s].push_back(add_prefill(c));
  }
  // 2. Prefix extension: a prefill whose ids start with another's (same offset) extends that
  //    cache (e.g. B4 = A1 + suffix), so their shared entries are the very same tensors.
  for (size_t i = 0; i < prefills.size(); ++i) {
    size_t best = 0;
    for (size_t j = 0; j < prefills.size(); ++j) {
      const auto& a = prefills[i].ids;
      const auto& b = prefills[j].ids;
      if (j == i || prefills[j].offset != prefills[i].offset || b.size() >= a.size() || b.size() <= best ||
          prefills[i].biased || prefills[j].biased)
        continue;
      if (std::equal(b.begin(), b.end(), a.begin())) {
        best = b.size();
        prefills[i].parent = static_cast<int>(j);
      }
    }
  }
  // Depth order: parents before children; within a depth, first-seen order.
  std::vector<int> depth(prefills.size(), 0);
  for (size_t i = 0; i < prefills.size(); ++i)
    for (int p = prefills[i].parent; p >= 0; p = prefills[p].parent) ++depth[i];
  const int max_depth = prefills.empty() ? 0 : *std::max_element(depth.begin(), depth.end());
  for (int level = 0; level <= max_depth; ++level) {
    std::vector<int> order;
    for (size_t i = 0; i < prefills.size(); ++i)
      if (depth[i] == level) order.push_back(static_cast<int>(i));
    // Length order keeps padding small; ties keep first-seen order, so batches depend only on
    // the plans.
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
      return prefills[x].ids.size() < prefills[y].ids.size();
    });
    for (const auto& batch : pack(order, budget, [&](int i) {
           return static_cast<int64_t>(prefills[i].ids.size());
         }))
      run_prefill_batch(d, prefills, batch, st);
  }

  // 3. Scoring rows: (sample, condition), continuation = query prompt + answer.
  //    Condition caches are derived batch by batch, so only one batch of them is alive.
  struct Row {
    size_t sample, cond;
    int64_t entries;
  };
  std::vector<Row> rows;
  std::vector<std::vector<ConditionScore>> out(plans.size());
  for (size_t s = 0; s < plans.size(); ++s) out[s].resize(plans[s].conditions.size());
  for (size_t s = 0; s < plans.size(); ++s)
    for (size_t c = 0; c < plans[s].conditions.size(); ++c) {
      const auto* cp = &plans[s].conditions[c];
      if (cp->flags & kLayoutMismatch) {
        out[s][c] = not_scored(cp->flags);
        continue;
      }
      if (cp->mix) cp = &plans[s].conditions[cp->mix->keys];
      rows.push_back({s, c, static_cast<int64_t>(cp->keep.empty() ? cp->prefill_ids.size() : cp->keep.size())});
    }
  auto cont_len = [&](const Row& r) {
    return static_cast<int64_t>(plans[r.sample].query_ids.size() + plans[r.sample].answer_ids.size());
  };
  std::vector<int> order(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return rows[x].entries + cont_len(rows[x]) < rows[y].entries + cont_len(rows[y]);
  });
  for (const auto& batch : pack(order, budget, [&](int i) {
         return rows[i].entries + cont_len(rows[i]);
       })) {
    const int64_t B = static_cast<int64_t>(batch.size());
    int64_t T = 0;
    for (int i : batch) T = std::max(T, cont_len(rows[i]));
    auto ids = at::zeros({B, T}, at::kLong);
    auto pos = at::zeros({B, T}, at::kLong);
    auto mask = at::zeros({B, T}, at::kBool);
    std::vector<int64_t> logit_rows, targets;
    std::vector<KvCache> caches;
    for (int64_t b = 0; b < B; ++b) {
      const auto& r = rows[batch[b]];
      const auto& p = plans[r.sample];
      caches.push_back(scored_cache(p, r.cond, [&](const CachePlan& plan, bool partner, size_t i) {
        const auto& pre = prefills[(partner ? which_partner : which)[r.sample][i]];
        return condition_cache(*pre.cache, pre.offset, plan);
      }));
      std::vector<int64_t> cont = p.query_ids;
      cont.insert(cont.end(), p.answer_ids.begin(), p.answer_ids.end());
      const int64_t n = static_cast<int64_t>(cont.size());
      ids[b].narrow(0, 0, n).copy_(at::tensor(cont, at::kLong));
      pos[b].narrow(0, 0, n).copy_(continuation_positions(caches.back(), p.conditions[r.cond].query_positions, n));
      mask[b].narrow(0, 0, n).fill_(true);
      // The first answer token is predicted from the last query-prompt position.
      const int64_t lq = static_cast<int64_t>(p.query_ids.size());
      for (size_t k = 0; k < p.answer_ids.size(); ++k) {
        logit_rows.push_back(b * T + lq - 1 + static_cast<int64_t>(k));
        targets.push_back(p.answer_ids[k]);
      }
    }
    std::vector<const KvCache*> parts;
    for (const auto& c : caches) parts.push_back(&c);
    auto batch_cache = KvCache::concat_batch(parts);
    auto logits = d.forward({ids, pos, mask, at::tensor(logit_rows, at::kLong)}, &batch_cache,
                            model::CacheWrite::discard);
    count(st, d, B, T, batch_cache.capacity(), static_cast<int64_t>(logit_rows.size()));
    const auto nll = token_nlls(logits, targets);
    size_t at_row = 0;
    for (int i : batch) {
      const auto& r = rows[i];
      const size_t n = plans[r.sample].answer_ids.size();
      out[r.sample][r.cond] = summarize({nll.begin() + at_row, nll.begin() + at_row + n},
                                        plans[r.sample].conditions[r.cond].flags);
      at_row += n;
    }
  }
  return out;
}

std::vector<std::vector<ConditionScore>> score_plans_naive(const model::Decoder& d,
                                                           const std::vector<SamplePlan>& plans,
                                                           ScoringStats* st) {
  FlopScope flops(d, st);
  std::vector<std::vector<ConditionScore>> out(plans.size());
  for (size_t s = 0; s < plans.size(); ++s) {
    const auto& p = plans[s];
    for (size_t ci = 0; ci < p.conditions.size(); ++ci) {
      const auto& c = p.conditions[ci];
      if (c.flags & kLayoutMismatch) {
        out[s].push_back(not_scored(c.flags));
        continue;
      }
      // Each condition's own prefill; a mix prefills both of its sides again (no sharing).
      auto cond_cache = scored_cache(p, ci, [&](const CachePlan& plan, bool, size_t) {
        const int64_t L = static_cast<int64_t>(plan.prefill_ids.size());
        auto cache = d.new_cache();
        auto pos = at::arange(plan.position_offset, plan.position_offset + L, at::kLong).view({1, L});
        model::ForwardInput in{ids_row(plan.prefill_ids), pos, {}, {}};
        if (plan.bias != 0) in.score_bias = build_bias({&plan}, L);
        d.forward(in, &cache);
        count(st, d, 1, L, 0, L);
        if (st) ++st->prefills;
        return condition_cache(cache, plan.position_offset, plan);
      });
      const int64_t lq = static_cast<int64_t>(p.query_ids.size());
      const int64_t la = static_cast<int64_t>(p.answer_ids.size());
      auto qpos = continuation_positions(cond_cache, c.query_positions, lq + la);
      const int64_t past = cond_cache.capacity();
      auto q_logits = d.forward({ids_row(p.query_ids), qpos.narrow(0, 0, lq).view({1, lq}), {}, {}}, &cond_cache);
      count(st, d, 1, lq, past, lq);
      auto a_logits = d.forward({ids_row(p.answer_ids), qpos.narrow(0, lq, la).view({1, la}), {}, {}},
                                &cond_cache, model::CacheWrite::discard);
      count(st, d, 1, la, past + lq, la);
      // Answer token k is predicted by the query's last row (k = 0) or answer row k - 1.
      auto rows = at::cat({q_logits[0].narrow(0, lq - 1, 1), a_logits[0].narrow(0, 0, la - 1)}, 0);
      out[s].push_back(summarize(token_nlls(rows, p.answer_ids), c.flags));
    }
  }
  return out;
}

}  // namespace dkv::experiment
