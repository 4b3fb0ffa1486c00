// libFuzzer target: the MS MARCO line parser (one JSONL line, any bytes) and the line reader
// over a whole file: the number of lines counted must equal the number of '\n'-separated
// lines in the input, whatever bytes (NUL included) they hold.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dkv/core/error.h"
#include "dkv/experiment/dataset.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  dkv::experiment::DatasetSpec spec;
  spec.min_passage_words = 1;
  spec.max_passage_words = 1000;
  dkv::experiment::Sample s;
  std::string why;
  (void)dkv::experiment::parse_sample_line(bytes.substr(0, bytes.find('\n')), spec, s, &why);

  // Whole-file reading: gzip magic would make zlib inflate, which has its own tests.
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return 0;
  spec.path = dkv::fuzz::input_file(data, size, "data.jsonl");
  spec.num_samples = 1 << 20;
  spec.candidate_factor = 1;
  int64_t lines = 0;
  for (size_t i = 0; i < size; ++i) lines += bytes[i] == '\n';
  if (size && bytes.back() != '\n') ++lines;
  dkv::experiment::DatasetReport report;
  try {
    const auto samples = dkv::experiment::load_samples(spec, 1, &report);
    for (const auto& x : samples)
      if (x.source_line < 1 || x.source_line > lines) std::abort();
  } catch (const dkv::InputError&) {
    // no usable sample: still every line counted (checked below)
  }
  if (report.lines != lines) std::abort();
  return 0;
}
