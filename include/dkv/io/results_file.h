// ResultsFile: the HDF5 schema of one run's results, read and written whole.
//
// Crash safety: a writer never modifies results.h5 in place. Each flush writes a complete new
// file next to it (results.h5.tmp), fsyncs it, renames it over results.h5 and fsyncs the
// folder. rename(2) is atomic, so at any instant results.h5 is the last complete flush: a
// kill -9 (or a node loss) at any moment loses only rows not yet flushed, and HDF5's own
// behaviour on a writer dying mid-write (a file with a torn metadata cache) never applies to
// the file users and resumes read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dkv::io {

// What a run's numbers depend on; a resume must match it exactly.
struct RunIdentity {
  std::string dkv_version;
  std::string config_yaml;  // the resolved config
  std::string config_hash;  // of config_yaml and every fingerprint below
  std::string model_fingerprint, tokenizer_fingerprint, embedding_fingerprint, dataset_fingerprint;
};

struct SampleRow {
  bool done = false;  // committed: the row's numbers are final
  std::string query_id, query, passage, answer, surrogate, random_prefix, error;
  int64_t source_line = 0;
  double similarity = 0, seconds = 0;
  std::vector<double> nll, first_token_nll;  // [C], nats; NaN when failed
  std::vector<int32_t> answer_tokens;        // [C]
  std::vector<uint32_t> flags;               // [C], experiment::PlanFlag bits
};

struct ResultsTable {
  RunIdentity identity;
  std::vector<std::string> condition_ids, condition_names;
  std::vector<SampleRow> rows;  // [N], index = sample index
  std::string created_utc, updated_utc;

  int64_t num_done() const;
};

// The schema tag stored in every dkv results file; files without it are foreign.
inline constexpr const char* kSchema = "dkv-results/1";

// A table for a new run: N rows not done, NaN numbers.
ResultsTable new_table(RunIdentity identity, std::vector<std::string> ids,
                       std::vector<std::string> names, int64_t num_samples);

// Writes the whole table atomically (see the file comment). Throws IoError naming the call.
void write_results(const std::string& path, ResultsTable& table);

// Reads a results file. Throws InputError when it is not HDF5, not a dkv results file, or its
// datasets have inconsistent shapes (naming the dataset); never modifies the file.
ResultsTable read_results(const std::string& path);

// Current UTC time as ISO 8601.
std::string utc_now();

}  // namespace dkv::io
