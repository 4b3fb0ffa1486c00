// One experiment run: samples -> surrogates -> plans -> scores -> results.h5, resumable.
#pragma once

#include <cstdint>
#include <string>

#include "dkv/experiment/spec.h"

namespace dkv::dist {
class World;
}

namespace dkv::experiment {

struct RunOptions {
  std::string out_dir;       // overrides spec.output.dir when set
  bool fresh = false;        // keep an existing results.h5 aside and start over
  int64_t chunk_size = 4;    // samples per work unit (fixed by sample index, not by rank)
  bool quiet = false;        // no progress lines
  bool dump_tokens = false;  // also write tokens.jsonl (tokens.rank<R>.jsonl under MPI) next to results.h5
  double stop_grace_s = 20;  // after a stop signal, how long work in flight may finish (SLURM's KillWait is 30 s)
};

struct RunResult {
  std::string path;       // results.h5
  bool complete = false;  // every sample done (rank 0 only knows)
  int64_t done = 0, total = 0;
};

// Runs (or resumes) the experiment on every rank of `world`: samples go out in chunks of
// chunk_size consecutive indices, dynamically, and rank 0 (which computes too) gathers the rows
// into results.h5. A results file made with a different config, model, tokenizer or dataset is
// refused (ConfigError) unless `fresh`, in which case it is renamed aside, never overwritten.
// A stop signal (dist/stop_signal.h) ends the run early with complete = false; work in flight
// past stop_grace_s is abandoned and the process ends with kExitResubmit (after a flush).
// Throws ConfigError for chunk_size <= 0, ConfigError when another run holds the output
// folder's lock (io/run_lock.h) or the file was computed with another chunk_size, and
// InputError when the first work units give no finite NLL at all.
RunResult run_experiment(const ExperimentSpec& spec, const RunOptions& options, const dist::World& world);

}  // namespace dkv::experiment
