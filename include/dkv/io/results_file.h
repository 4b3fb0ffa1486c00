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

// What a run's numbers depend on; a resume must match it exactly, except blas_threads.
struct RunIdentity {
  std::string dkv_version;
  std::string config_yaml;  // the resolved config, runtime.threads left out (see blas_threads)
  std::string config_hash;  // of config_yaml and every fingerprint below
  std::string model_fingerprint, tokenizer_fingerprint, embedding_fingerprint, dataset_fingerprint;
  int64_t chunk_size = 0;    // --chunk: batching is per work unit, so it changes the numbers
  int64_t blas_threads = 0;  // per rank when the file was created: changes only the last bits
};

struct SampleRow {
  bool done = false;  // committed: the row's numbers are final
  // Stored as UTF-8 C strings: a NUL byte is written as U+FFFD (HDF5 would cut the string there).
  std::string query_id, query, passage, answer, surrogate, random_prefix, error;
  std::string exclusion;  // why the sample was not scored (scoring.min_answer_tokens); its NLLs are NaN
  std::vector<std::string> named_surrogates;  // [K] texts of the `surrogates:` sources, in surrogate_names order
  int64_t source_line = 0;
  double similarity = 0, seconds = 0;
  std::vector<double> nll, first_token_nll;  // [C], nats; NaN when failed
  std::vector<int32_t> answer_tokens;        // [C]
  std::vector<uint32_t> flags;               // [C], experiment::PlanFlag bits
};

struct ResultsTable {
  RunIdentity identity;
  std::vector<std::string> condition_ids, condition_names;
  std::vector<std::string> surrogate_names;  // [K] the `surrogates:` sources (stored under surrogates/<name>)
  std::vector<SampleRow> rows;  // [N], index = sample index
  std::string created_utc, updated_utc;

  int64_t num_done() const;
};

// The schema tag stored in every dkv results file; files without it are foreign. /2 added the
// checksums (Fletcher-32 on numeric datasets, FNV-1a on strings and attributes), chunk_size and
// blas_threads; /1 files are still read, without checksums (chunk_size and blas_threads 0).
inline constexpr const char* kSchema = "dkv-results/2";
inline constexpr const char* kSchemaUnchecked = "dkv-results/1";

// A table for a new run: N rows not done, NaN numbers.
ResultsTable new_table(RunIdentity identity, std::vector<std::string> ids,
                       std::vector<std::string> names, int64_t num_samples);

// Writes the whole table atomically (see the file comment). Throws IoError naming the call and
// the OS reason ("write(DIR/results.h5.tmp): No space left on device"); the .tmp is removed.
void write_results(const std::string& path, ResultsTable& table);
// The bytes of the HDF5 file write_results writes.
std::string results_image(ResultsTable& table);

// Reads a results file. Throws InputError when it is not HDF5, not a dkv results file, its
// datasets have inconsistent shapes, or a checksum fails (naming the dataset); never modifies
// the file. read_results_image parses bytes already read (`path` only names them in messages).
ResultsTable read_results(const std::string& path);
ResultsTable read_results_image(const std::string& bytes, const std::string& path);

// Renames `path` aside as PATH.STAMP.old (PATH.STAMP.2.old, .3.old, ... when taken) and
// returns the new name. Never replaces an existing file: the rename fails rather than
// overwrite (renameat2 RENAME_NOREPLACE, or link+unlink where the filesystem lacks it).
// Throws IoError with the OS reason.
std::string set_aside(const std::string& path, const std::string& stamp);

// Current UTC time as ISO 8601.
std::string utc_now();

}  // namespace dkv::io
