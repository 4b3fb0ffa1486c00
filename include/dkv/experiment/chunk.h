// One work unit: a fixed group of samples taken from surrogates to NLL rows. Everything random
// is keyed by (seed, sample index), and batching depends only on the group, so a sample's row
// is the same whichever rank computes it and whatever else that rank has done.
#pragma once

#include <cstdint>
#include <vector>

#include "dkv/experiment/dataset.h"
#include "dkv/experiment/plan.h"
#include "dkv/experiment/text_side.h"
#include "dkv/io/results_file.h"

namespace dkv::model {
class Decoder;
class SentenceEmbedder;
}  // namespace dkv::model

namespace dkv::experiment {

struct RunContext {
  const ExperimentSpec& spec;
  const model::Decoder& decoder;
  const model::SentenceEmbedder* embedder;  // null: no similarity (benchmarks)
  const TextSide& text;
  const std::vector<Sample>& samples;  // the whole run's list (irrelevant surrogates look across)
  bool notebook_generation = false;    // benchmarks: generate as HF 4.43 does (logits for every prompt row)
};

// Purposes that key the per-sample random streams.
enum class Stream : uint64_t { surrogate = 1, random_prefix = 2, shuffle = 3, named_source = 4, partner = 5 };

// Cleans a generated surrogate as the study did: first line, whitespace and quotes stripped.
std::string clean_surrogate(const std::string& generated);

// A sample's plan, kept for --dump-tokens.
struct PlannedSample {
  int64_t index;
  SamplePlan plan;
};

// The first half of a work unit: surrogates generated and computed, rows filled with the
// samples' texts (NaN numbers), plans made. A sample that fails or is excluded has no plan.
struct ChunkPlans {
  std::vector<io::SampleRow> rows;  // one per index
  std::vector<SamplePlan> plans;
  std::vector<size_t> planned;      // row of each plan
  bool generated = false;           // rows carry generated surrogates
};
ChunkPlans plan_chunk(const RunContext& ctx, const std::vector<int64_t>& indices);

// Rows for samples `indices` (done = true; a sample that fails gets its error text and NaNs).
// When `plans` is given, the plans of the samples that were scored are appended to it.
std::vector<io::SampleRow> process_chunk(const RunContext& ctx, const std::vector<int64_t>& indices,
                                         std::vector<PlannedSample>* plans = nullptr);

}  // namespace dkv::experiment
