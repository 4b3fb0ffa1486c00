// libFuzzer target: the results-file opener on arbitrary bytes. Every input must give a table
// or dkv::InputError (never a crash, a hang or another exception type); a table that opens
// re-serializes and reads back equal.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dkv/core/error.h"
#include "dkv/io/results_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  dkv::io::ResultsTable t;
  try {
    t = dkv::io::read_results_image(bytes, "fuzz.h5");
  } catch (const dkv::InputError&) {
    return 0;
  }
  auto again = t;
  const auto image = dkv::io::results_image(again);
  const auto back = dkv::io::read_results_image(image, "fuzz-again.h5");
  if (back.rows.size() != t.rows.size() || back.condition_ids != t.condition_ids) std::abort();
  return 0;
}
