// libFuzzer target: a whole safetensors file (8-byte header length, JSON header, data). Every
// input must end in a validated SafetensorsFile or dkv::InputError; each listed tensor loads.
#include <cstdint>

#include "dkv/core/error.h"
#include "dkv/model/safetensors.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dkv::fuzz::input_file(data, size, "model.safetensors");
  try {
    const auto file = dkv::model::SafetensorsFile::open(path);
    for (const auto& name : file.names()) (void)file.load(name);
  } catch (const dkv::InputError&) {
  }
  return 0;
}
