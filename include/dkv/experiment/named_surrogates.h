// The `surrogates:` block computed for a group of samples: every source's text per sample.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dkv/experiment/chunk.h"

namespace dkv::experiment {

// The other sample a sample is paired with (keywords_of_other, mixes with values_sample: other):
// uniform over the other N - 1 samples, keyed by (seed, index), so it is fixed by the config.
// Throws InputError when N < 2.
int64_t partner_of(uint64_t seed, int64_t index, int64_t num_samples);

// Texts of spec.surrogates for samples `indices`, in block order. `builtin[k]` holds sample
// indices[k]'s built-in surrogates by name (generated, perfect, static) for sources that use
// them (shuffled.of, random_tokens.match_tokens). LLM sources run one batched generation each.
// A random_tokens source whose decoded ids do not re-encode to the same count is redrawn from
// the same stream, up to 100 times; then the sample gets an InputError (stored as its error).
// Returns, per sample, the texts, or an error text in `errors[k]`.
std::vector<std::map<std::string, std::string>> named_surrogates(
    const RunContext& ctx, const std::vector<int64_t>& indices,
    const std::vector<std::map<std::string, std::string>>& builtin, std::vector<std::string>& errors);

}  // namespace dkv::experiment
