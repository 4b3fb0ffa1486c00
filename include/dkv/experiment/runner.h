// One experiment run: samples -> surrogates -> plans -> scores -> results.h5, resumable.
#pragma once

#include <string>

#include "dkv/experiment/spec.h"

namespace dkv::experiment {

struct RunOptions {
  std::string out_dir;       // overrides spec.output.dir when set
  bool fresh = false;        // keep an existing results.h5 aside and start over
  int64_t chunk_size = 4;    // samples per work unit (fixed by sample index, not by rank)
  bool quiet = false;        // no progress lines
  bool dump_tokens = false;  // also write tokens.jsonl (io/token_dump.h) next to results.h5
};

// Runs (or resumes) the experiment. Returns the results file's path. A results file made with
// a different config, model, tokenizer or dataset is refused (ConfigError) unless `fresh`, in
// which case it is renamed aside, never overwritten.
std::string run_experiment(const ExperimentSpec& spec, const RunOptions& options);

}  // namespace dkv::experiment
