// MS MARCO v1.1 samples: reading (Microsoft's JSONL or the HF export, gzip or plain), the
// study's filters, and a seeded shuffle that fixes which samples a run uses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dkv/experiment/spec.h"

namespace dkv::experiment {

struct Sample {
  int64_t index = 0;       // position in the run's sample list: the row in results.h5
  int64_t source_line = 0; // 1-based line in the dataset file
  std::string query_id, query, answer, passage;
};

struct DatasetReport {
  int64_t lines = 0, malformed = 0, no_answer = 0, no_passage = 0, candidates = 0;
  std::vector<std::string> malformed_examples;  // "file:line: reason", the first few
};

// Reads candidates in file order until candidate_factor x num_samples are found, shuffles them
// with dkv::Rng keyed by (seed, "dataset") (Fisher-Yates) and keeps the first num_samples.
// Answer: the first well-formed answer unless absent or "[]", else the first answer unless it
// is "No Answer Present.". Passage: the first with is_selected == 1 whose whitespace word count
// lies in [min_passage_words, max_passage_words]. Malformed lines are skipped and counted.
// Throws InputError when the file cannot be read or yields no sample.
std::vector<Sample> load_samples(const DatasetSpec& spec, uint64_t seed, DatasetReport* report);

// One dataset line (JSON, without its '\n') judged by the rules above; fills `s` (not its
// index or source_line) when the verdict is `sample`, and `why` when `malformed`. Never throws.
enum class LineVerdict { sample, malformed, no_answer, no_passage };
LineVerdict parse_sample_line(const std::string& line, const DatasetSpec& spec, Sample& s, std::string* why);

// Whitespace-separated word count, as Python's len(text.split()).
int64_t word_count(const std::string& text);

}  // namespace dkv::experiment
