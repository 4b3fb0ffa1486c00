// libFuzzer target: experiment YAML -> ExperimentSpec, and the resolved config it stores
// (resolved_yaml) parses back to the same resolved config. Errors must be ConfigError.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dkv/core/error.h"
#include "dkv/experiment/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  dkv::experiment::ExperimentSpec spec;
  try {
    spec = dkv::experiment::parse_spec(text, "fuzz.yaml");
  } catch (const dkv::ConfigError&) {
    return 0;
  }
  const auto resolved = dkv::experiment::resolved_yaml(spec);
  try {
    const auto again = dkv::experiment::parse_spec(resolved, "resolved.yaml");
    if (dkv::experiment::resolved_yaml(again) != resolved) std::abort();  // the stored config must round-trip
  } catch (const dkv::ConfigError&) {
    std::abort();  // a config dkv accepted and wrote must read back
  }
  return 0;
}
