// The reducer's input: one mean-NLL value per (sample, condition), as read from the results
// file by io/ (the lead's glue). Kept free of HDF5 so stats/ and report/ test from memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dkv::stats {

struct ResultMatrix {
  std::vector<std::string> condition_ids;    // [C], e.g. "A1", "C2"; unique
  std::vector<std::string> condition_names;  // [C], e.g. "baseline", "trunc_generated_corrected"
  int64_t num_samples = 0;                   // N
  std::vector<double> nll;                   // [N, C] row-major, nats; NaN = failed (sample, condition)
  std::vector<double> similarity;            // [N] surrogate-query similarity; NaN allowed; may be empty
  std::vector<bool> done;                    // [N] committed rows; only these are reported
  std::vector<int64_t> non_finite;           // [C] done rows computed without error but NaN/inf; may be empty
  std::vector<int64_t> without_bos;          // [C] done rows whose cache starts without a BOS entry; may be empty
  std::vector<int64_t> boundary_moved;       // [C] done rows whose cut followed a moved token boundary (joint); may be empty
  std::vector<int64_t> layout_mismatch;      // [C] done rows of mixes whose two caches differed in length; may be empty
  int64_t scoring_excluded = 0;              // done samples not scored (scoring.min_answer_tokens)
  std::string tokenization = "joint";        // texts.tokenization of the run
  // Per-sample inputs of the declared analyses (analysis_spec.h); each [N] or empty.
  std::vector<double> answer_tokens;         // the baseline condition's scored answer tokens
  std::vector<double> passage_words;         // whitespace-separated words of the passage
  std::vector<std::string> query;            // the query text (intent rules)

  double at(int64_t sample, size_t condition) const {
    return nll[static_cast<size_t>(sample) * condition_ids.size() + condition];
  }
  // Index of a condition id, or -1.
  int find(const std::string& id) const;
  int64_t num_done() const;
  // The per-sample variable `name` (analysis_spec.h kSampleVariables or nll.<id>) as [N]
  // doubles, `baseline` naming the baseline column. query_words counts whitespace-separated
  // words of `query`. Throws InputError when the results do not hold it.
  std::vector<double> variable(const std::string& name, const std::string& baseline) const;
};

// Checks sizes and id uniqueness; throws dkv::InputError naming the field, expected and found.
void validate(const ResultMatrix& m);

}  // namespace dkv::stats
