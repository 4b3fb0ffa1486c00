// `dkv generate`: greedy continuation of one prompt given as ids, as JSON, so that outside
// tools (HF generate) can be compared with dkv's generation loop token for token.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/dtype_option.h"
#include "dkv/model/decoder.h"
#include "dkv/model/generate.h"

namespace dkv::cli {

void add_generate(CLI::App& app) {
  struct Args {
    std::string model, dtype = "fp32";
    std::vector<int64_t> ids, eos;
    int64_t max_new_tokens = 45;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("generate", "greedy continuation of token ids (JSON out)");
  cmd->add_option("--model", args->model, "HF checkpoint directory or GGUF file")->required();
  cmd->add_option("--ids", args->ids, "prompt token ids, comma-separated")->required()->delimiter(',');
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "tokens to generate at most")->check(CLI::PositiveNumber);
  cmd->add_option("--eos", args->eos, "stop after any of these ids (default: the model's eos_token_id)")->delimiter(',');
  cmd->add_option("--dtype", args->dtype, "fp32, fp16 or bf16");
  cmd->callback([args] {
    const auto decoder = model::Decoder::load(args->model, {parse_dtype(args->dtype), at::kCPU});
    model::GenerateOptions o;
    o.max_new_tokens = args->max_new_tokens;
    o.eos_token_ids = args->eos.empty() ? decoder.config().eos_token_ids : args->eos;
    const auto out = model::generate(decoder, {args->ids}, o, {0});
    std::cout << nlohmann::json{{"prompt", args->ids}, {"generated", out[0]}}.dump() << "\n";
  });
}

}  // namespace dkv::cli
