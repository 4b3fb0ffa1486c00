// Conditions -> token-level cache plans for one sample: which ids are prefilled at which
// positions, which entries are kept, how kept keys are re-rotated, and what is scored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
  kExcluded = 1u << 4,          // the sample was excluded before scoring (reason stored; NLL NaN)
  kLayoutMismatch = 1u << 5,    // a mix's caches held different entry counts (joint tokenization); NLL NaN
};

// A cache made from caches other conditions of the sample built (no prefill of its own): the
// keys side's cache, with values replaced on `layers` x kept entries [entry_begin, entry_end):
// v = v_keys + alpha (v_values - v_keys).
struct CacheMix {
  int keys = -1;              // index into SamplePlan::conditions
  int values = -1;            // index into SamplePlan::conditions, or SamplePlan::partner when from_partner
  bool from_partner = false;  // values from another sample's cache: entry e <-> the partner's
                              // entry e - doc_begin + partner doc_begin, on the overlap
  std::vector<int64_t> layers;  // empty = all
  double range_from = 0, range_to = 1;  // fractions of the keys side's document entries
  double alpha = 1;
};

struct CachePlan {
  std::vector<int64_t> prefill_ids;  // joint tokenization of all segments, with special tokens
  int64_t position_offset = 0;       // prefill positions: offset .. offset + len - 1
  std::vector<int64_t> keep;         // kept entry indices, increasing; empty = keep all
  std::vector<int64_t> delta;        // per kept entry RoPE delta; empty = no re-rotation
  QueryPositions query_positions = QueryPositions::cache_length;
  uint32_t flags = 0;
  // The document segment's entries in the scored cache (kept-entry indices [begin, end)).
  int64_t doc_begin = 0, doc_end = 0;
  // Build-time attention bias: added to the scores of kept rows on the columns of these
  // (cut) prefill entries (the study's attention-bias experiments).
  double bias = 0;
  std::vector<int64_t> bias_columns;
  std::optional<CacheMix> mix;  // set: prefill_ids, keep and delta are unused
};

struct SamplePlan {
  std::vector<CachePlan> conditions;  // in spec order
  std::vector<CachePlan> partner;     // caches built from another sample's texts (CacheMix::from_partner)
  std::vector<int64_t> query_ids;     // tok(query prompt, no special tokens)
  std::vector<int64_t> answer_ids;    // tok(answer template, no special tokens)
  std::string exclusion;              // non-empty: not scored, for this reason (scoring.min_answer_tokens)
};

// Texts one sample needs: its fields and one surrogate text per kind used.
struct SampleTexts {
  std::string passage, query, answer;
  std::map<SurrogateKind, std::string> surrogates;
  std::map<std::string, std::string> named;  // sources of the surrogates block, by name
  // Passages of other samples for pad_to_tokens: k = 1, 2, ... (the samples after this one, cyclically).
  std::function<std::string(int64_t k)> unrelated_passage;
  // Another sample's texts, for mixes whose values come from another sample.
  std::shared_ptr<const SampleTexts> partner;
};

// Fills a template: {document} -> passage, {surrogate} -> surrogate, {query} -> query, in one
// pass (text inserted for one placeholder is never scanned for another).
std::string fill_template(const std::string& tmpl, const std::string& passage,
                          const std::string& surrogate, const std::string& query);

// Builds the sample's plans. texts.tokenization = matched: every segment tokenized alone
// without special tokens, joined after the tokenizer's leading special tokens; cuts are exact.
// joint (the study's exp 01): cut semantics (shared/notes conditions.md): the document's tokens
// are those of the joint tokenization after the prefix tokenized alone (with BOS); when that
// prefix is not a prefix of the joint ids, the cut follows their longest common prefix and the
// row is flagged kBoundaryMismatch. Cut caches keep BOS (entry 0) when keep_bos; re-positioning
// moves each kept entry back by the number of entries cut before it.
SamplePlan plan_sample(const ExperimentSpec& spec, const SampleTexts& texts, const EncodeFn& encode,
                       std::optional<int64_t> bos_id);

}  // namespace dkv::experiment
