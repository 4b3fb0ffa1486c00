// Batched text generation (greedy or sampled) over a Decoder with its KV cache.
#pragma once

#include <cstdint>
#include <vector>

namespace dkv {
class Rng;
}

namespace dkv::model {

class Decoder;

struct GenerateOptions {
  int64_t max_new_tokens = 45;
  double temperature = 0.0;  // 0 = greedy (argmax, lowest id on ties)
  int64_t top_k = 0;         // 0 = off; HF's generate() defaults to 50 when sampling
  double top_p = 1.0;        // 1 = off
  std::vector<int64_t> eos_token_ids;  // generation stops after emitting one of these
  // Benchmarks only: compute logits for every prompt position, as HF transformers 4.43's
  // generate() does, instead of only the last one. Same tokens, more FLOPs.
  bool logits_for_whole_prompt = false;
};

// Continues each prompt. Sampling draws from dkv::Rng seeded by `seeds[i]` for prompt i, so a
// sequence's tokens depend only on its own prompt and seed, never on the batch it runs in
// (up to floating-point effects of padding on logits). Returned lists exclude the prompt and
// include the EOS token when one ended the sequence.
std::vector<std::vector<int64_t>> generate(const Decoder& decoder,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerateOptions& options,
                                           const std::vector<uint64_t>& seeds);

// Picks the next token from one row of logits ([V] fp32) per the options; `rng` advances only
// when sampling. Exposed for tests.
int64_t pick_token(const float* logits, int64_t vocab, const GenerateOptions& options, Rng& rng);

}  // namespace dkv::model
