// libFuzzer target: a whole GGUF file. Every input must end in a validated GgufFile or
// dkv::InputError; then every tensor dequantizes, and the HF config, tensor names and
// tokenizer built from the metadata either succeed or fail with InputError.
#include <cstdint>
#include <vector>

#include "dkv/core/error.h"
#include "dkv/model/gguf_checkpoint.h"
#include "dkv/model/gguf_file.h"
#include "dkv/tokenizer/tokenizer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dkv::fuzz::input_file(data, size, "model.gguf");
  try {
    const auto file = dkv::model::GgufFile::open(path);
    std::vector<float> out;
    for (const auto& t : file.tensors()) {
      out.resize(static_cast<size_t>(t.numel()));  // bounded: the bytes are inside the file
      dkv::model::dequantize_ggml(t.type, t.data, out.data(), t.numel());
    }
    try {
      const auto config = dkv::model::hf_config_from_gguf(file);
      (void)dkv::model::hf_tensor_names(file, config);
    } catch (const dkv::InputError&) {
    }
    const auto tok = dkv::tokenizer::Tokenizer::load(path);
    (void)tok.decode(tok.encode("a ab Ġa <s> 12 \xe2\x96\x81x", true));
  } catch (const dkv::InputError&) {
  }
  return 0;
}
