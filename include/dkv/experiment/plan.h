// Conditions -> token-level cache plans for one sample: which ids are prefilled at which
// positions, which entries are kept, how kept keys are re-rotated, and what is scored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dkv/experiment/spec.h"

namespace dkv::experiment {

// The one thing the planner needs from a tokenizer: HF `encode(text, add_special_tokens)`.
using EncodeFn = std::function<std::vector<int64_t>(const std::string& text, bool add_special)>;

// Per (sample, condition) flags stored with the results.
enum PlanFlag : uint32_t {
  kBoundaryMismatch = 1u << 0,  // a segment prefix did not tokenize as a prefix of the joint text
  kFailed = 1u << 1,            // the row could not be computed (see the sample's error text)
  kNonFinite = 1u << 2,         // computed without error, but the NLL is NaN or infinite
  kNoBosEntry = 1u << 3,        // the cache does not start with a BOS entry (none added, or cut)
};

struct CachePlan {
  std::vector<int64_t> prefill_ids;  // joint tokenization of all segments, with special tokens
  int64_t position_offset = 0;       // prefill positions: offset .. offset + len - 1
  std::vector<int64_t> keep;         // kept entry indices, increasing; empty = keep all
  std::vector<int64_t> delta;        // per kept entry RoPE delta; empty = no re-rotation
  QueryPositions query_positions = QueryPositions::cache_length;
  uint32_t flags = 0;
};

struct SamplePlan {
  std::vector<CachePlan> conditions;  // in spec order
  std::vector<int64_t> query_ids;     // tok(query prompt, no special tokens)
  std::vector<int64_t> answer_ids;    // tok(answer, no special tokens)
};

// Texts one sample needs: its fields and one surrogate text per kind used.
struct SampleTexts {
  std::string passage, query, answer;
  std::map<SurrogateKind, std::string> surrogates;
};

// Fills a template: {document} -> passage, {surrogate} -> surrogate, {query} -> query, in one
// pass (text inserted for one placeholder is never scanned for another).
std::string fill_template(const std::string& tmpl, const std::string& passage,
                          const std::string& surrogate, const std::string& query);

// Builds the sample's plans. Cut semantics (shared/notes conditions.md): the document's tokens
// are those of the joint tokenization after the prefix tokenized alone (with BOS); when that
// prefix is not a prefix of the joint ids, the cut follows their longest common prefix and the
// row is flagged kBoundaryMismatch. Cut caches keep BOS (entry 0) when keep_bos; re-positioning
// moves each kept entry back by the number of entries cut before it.
SamplePlan plan_sample(const ExperimentSpec& spec, const SampleTexts& texts, const EncodeFn& encode,
                       std::optional<int64_t> bos_id);

}  // namespace dkv::experiment
