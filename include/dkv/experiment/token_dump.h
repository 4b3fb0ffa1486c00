// --dump-tokens: one JSONL line per sample with every id and position dkv used, so an outside
// reference (e.g. HF transformers) can recompute any number in results.h5. In experiment/
// (not io/): it serializes the experiment's plans, and io/ sits below experiment/.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "dkv/experiment/chunk.h"

namespace dkv::experiment {

// Line layout: {"sample", "query_ids", "answer_ids", "conditions": [{"id", "prefill_ids",
// "prefill_positions" (first position; consecutive), "kept_entries" (indices into the prefill),
// "kept_positions" (after re-positioning), "scored_positions" (first position of query_ids +
// answer_ids; consecutive), "flags"}]}. Appends; on a resumed run a sample may appear twice
// (the last line wins: both describe the same deterministic computation).
class TokenDump {
 public:
  explicit TokenDump(const std::string& path);
  void write(const ExperimentSpec& spec, const std::vector<PlannedSample>& plans);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace dkv::experiment
