// Greedy and temperature / top-k / top-p sampling with portable, per-sequence seeded draws.
#include "dkv/model/generate.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "dkv/core/error.h"
#include "dkv/core/rng.h"
#include "dkv/model/decoder.h"

namespace dkv::model {

int64_t pick_token(const float* logits, int64_t vocab, const GenerateOptions& opt, Rng& rng) {
  if (opt.temperature <= 0.0) {
    return std::max_element(logits, logits + vocab) - logits;  // first maximum on ties
  }
  // Sampling in fp64 on the host: the draw is then a pure function of (logits, seed).
  std::vector<int64_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  int64_t keep = vocab;
  if (opt.top_k > 0) keep = std::min<int64_t>(keep, opt.top_k);
  std::vector<double> p(keep);
  const double top = logits[order[0]] / opt.temperature;
  double total = 0;
  for (int64_t i = 0; i < keep; ++i) total += p[i] = std::exp(logits[order[i]] / opt.temperature - top);
  if (opt.top_p < 1.0) {
    // Smallest prefix whose mass reaches top_p (the most likely token always stays).
    double mass = 0;
    int64_t n = 0;
    while (n < keep && (n == 0 || mass < opt.top_p * total)) mass += p[n++];
    keep = n;
    total = mass;
  }
  const double u = rng.uniform() * total;
  double cdf = 0;
  for (int64_t i = 0; i < keep; ++i) {
    cdf += p[i];
    if (u < cdf) return order[i];
  }
  return order[keep - 1];
}

std::vector<std::vector<int64_t>> generate(const Decoder& decoder,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerateOptions& opt,
                                           const std::vector<uint64_t>& seeds) {
  const auto B = static_cast<int64_t>(prompts.size());
  DKV_CHECK(static_cast<int64_t>(seeds.size()) == B, "one seed per prompt");
  std::vector<std::vector<int64_t>> out(B);
  if (B == 0 || opt.max_new_tokens <= 0) return out;
  for (const auto& p : prompts)
    if (p.empty()) throw InputError("generate: empty prompt");
  // Each prompt is prefilled alone (no padding FLOPs, and its cache and first logits do not
  // depend on the batch); the caches are then stacked, right-padded, for batched decoding.
  std::vector<cache::KvCache> caches;
  std::vector<at::Tensor> first;
  for (const auto& p : prompts) {
    const auto n = static_cast<int64_t>(p.size());
    auto ids = at::tensor(p, at::kLong).view({1, n});
    caches.push_back(decoder.new_cache());
    first.push_back(opt.logits_for_whole_prompt
                        ? decoder.forward({ids, {}, {}, {}}, &caches.back())[0].narrow(0, n - 1, 1)
                        : decoder.forward({ids, {}, {}, at::full({1}, n - 1, at::kLong)}, &caches.back()));
  }
  std::vector<const cache::KvCache*> parts;
  for (const auto& c : caches) parts.push_back(&c);
  auto cache = cache::KvCache::concat_batch(parts);
  caches.clear();
  auto logits = at::cat(first, 0).cpu().contiguous();  // [B, V]; sampling runs on the host
  std::vector<Rng> rngs;
  for (auto s : seeds) rngs.emplace_back(s);
  std::vector<bool> done(B, false);
  const auto V = logits.size(1);
  for (int64_t step = 0; step < opt.max_new_tokens; ++step) {
    auto next = at::zeros({B, 1}, at::kLong);
    auto alive = at::zeros({B, 1}, at::kBool);
    const float* rows = logits.data_ptr<float>();
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;
      const auto tok = pick_token(rows + b * V, V, opt, rngs[b]);
      out[b].push_back(tok);
      done[b] = std::find(opt.eos_token_ids.begin(), opt.eos_token_ids.end(), tok) !=
                opt.eos_token_ids.end();
      next[b][0] = tok;
      alive[b][0] = !done[b];
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; }) ||
        step + 1 == opt.max_new_tokens)
      break;
    // Finished sequences ride along as padding; their cache entries stay invalid.
    logits = decoder.forward({next, {}, alive, {}}, &cache).view({B, V}).cpu().contiguous();
  }
  return out;
}

}  // namespace dkv::model
