// `dkv import-gguf FILE DIR`: the HF folder that describes the same model as a GGUF file
// (config.json, model.safetensors, tokenizer.json, tokenizer_config.json with the chat
// template), for users who want to read or share a GGUF model with HF tools. `dkv` itself
// needs no import: model.path may name the .gguf file.
#include <CLI/CLI.hpp>
#include <ATen/ATen.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/dtype_option.h"
#include "dkv/core/error.h"
#include "dkv/core/file_io.h"
#include "dkv/model/gguf_checkpoint.h"
#include "dkv/model/model_config.h"
#include "dkv/model/safetensors.h"
#include "dkv/tokenizer/gguf_tokenizer.h"
#include "dkv/tokenizer/tokenizer.h"

namespace dkv::cli {

void add_import_gguf(CLI::App& app) {
  struct Args {
    std::string src, dst, dtype = "fp32";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("import-gguf", "write the HF folder of a GGUF model (config, safetensors, tokenizer)");
  cmd->add_option("file", args->src, "GGUF file (llama, qwen2 or gemma3 architecture)")->required();
  cmd->add_option("dir", args->dst, "output directory (created; must not hold a model already)")->required();
  cmd->add_option("--dtype", args->dtype,
                  "stored weight dtype: fp32 (default; every GGUF type dequantizes exactly to it), fp16, bf16");
  cmd->callback([args] {
    const auto dtype = parse_dtype(args->dtype);
    if (!model::is_gguf_path(args->src))
      throw InputError(args->src + ": not a .gguf file");
    namespace fs = std::filesystem;
    if (fs::exists(fs::path(args->dst) / "model.safetensors") || fs::exists(fs::path(args->dst) / "config.json"))
      throw InputError(args->dst + ": already holds a model (config.json or model.safetensors); choose an empty directory");
    const auto file = model::GgufFile::open(args->src);
    auto config = model::hf_config_from_gguf(file);
    model::parse_model_config(config, args->src);  // refused here, not by HF later
    const auto tok = tokenizer::hf_tokenizer_from_gguf(file);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& [name, ref] : model::hf_tensor_names(file, config))
      tensors.emplace_back(name, model::load_gguf_tensor(ref, dtype));
    config["torch_dtype"] = dtype == at::kFloat ? "float32" : dtype == at::kHalf ? "float16" : "bfloat16";
    fs::create_directories(args->dst);
    model::write_safetensors(args->dst + "/model.safetensors", tensors, {{"format", "pt"}});
    // Atomic, with the OS reason on failure (a full disk, a read-only folder).
    write_file_atomic(args->dst + "/config.json", config.dump(2) + "\n");
    write_file_atomic(args->dst + "/tokenizer.json", tok.tokenizer.dump(2) + "\n");
    write_file_atomic(args->dst + "/tokenizer_config.json", tok.config.dump(2) + "\n");
    tokenizer::Tokenizer::load(args->dst);  // what was written loads back
    std::printf("wrote %s (%zu tensors, %s)\n", args->dst.c_str(), tensors.size(), args->dtype.c_str());
  });
}

}  // namespace dkv::cli
