// libFuzzer target: tokenizer.json loading, then encode/decode of fixed and fuzzed text.
// Input: tokenizer.json bytes, optionally followed by "\n\x01\n" and a text to encode.
// Every input must load or throw dkv::InputError; a loaded tokenizer must encode any valid
// UTF-8 text and decode its own ids.
#include <cstdint>
#include <string>

#include "dkv/core/error.h"
#include "dkv/tokenizer/tokenizer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string all(reinterpret_cast<const char*>(data), size);
  std::string text = "Hello world, héllo ✓ 12345 <s> </s>";
  const auto sep = all.find("\n\x01\n");
  if (sep != std::string::npos) {
    text = all.substr(sep + 3);
    all.resize(sep);
  }
  const auto path = dkv::fuzz::input_file(reinterpret_cast<const uint8_t*>(all.data()), all.size(), "tokenizer.json");
  std::optional<dkv::tokenizer::Tokenizer> tok;
  try {
    tok = dkv::tokenizer::Tokenizer::from_file(path);
  } catch (const dkv::InputError&) {
    return 0;
  }
  for (bool special : {false, true}) {
    try {
      const auto ids = tok->encode(text, special);
      (void)tok->decode(ids, false);
      (void)tok->decode(ids, true);
    } catch (const dkv::InputError&) {
      // invalid UTF-8 text, or a tokenizer whose vocabulary cannot cover it (named)
    }
  }
  return 0;
}
