// `dkv quantize SRC DST`: saves a checkpoint with NF4 linear weights in bitsandbytes' format,
// so that every rank of a run loads 4-bit weights instead of quantizing fp16 ones itself.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "dkv/model/bnb_checkpoint.h"

namespace dkv::cli {

void add_quantize(CLI::App& app) {
  struct Args {
    std::string src, dst;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("quantize",
                                 "write an HF checkpoint with NF4 (bitsandbytes format) decoder-block weights");
  cmd->add_option("src", args->src, "HF checkpoint directory (fp32/fp16/bf16 safetensors)")->required();
  cmd->add_option("dst", args->dst, "output directory")->required();
  cmd->callback([args] {
    model::save_bnb_nf4_checkpoint(args->src, args->dst);
    std::printf("wrote %s (NF4, double-quantized; load with model.quantization: nf4)\n", args->dst.c_str());
  });
}

}  // namespace dkv::cli
