// `dkv tokenize`: JSONL {"text": ...} on stdin -> {"ids": [...]} lines on stdout, so that outside
// tools can compare dkv's token ids with HF's.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/commands.h"
#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/tokenizer/tokenizer.h"

namespace dkv::cli {

void add_tokenize(CLI::App& app) {
  struct Args {
    std::string tokenizer;
    bool no_special = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("tokenize", "encode JSONL {\"text\": ...} lines from stdin");
  cmd->add_option("--tokenizer", args->tokenizer, "HF tokenizer directory (tokenizer.json)")
      ->required();
  cmd->add_flag("--no-special", args->no_special,
                "do not add the post-processor's special tokens (BOS, [CLS]/[SEP])");
  cmd->callback([args] {
    auto tok = tokenizer::Tokenizer::load(args->tokenizer);
    std::ios::sync_with_stdio(false);
    std::string line;
    for (size_t n = 1; std::getline(std::cin, line); ++n) {
      if (line.empty()) continue;
      const std::string where = "stdin:" + std::to_string(n);
      auto j = json_util::parse(line, where);
      if (!j.is_object()) throw InputError(where + ": expected a JSON object {\"text\": ...}");
      auto ids = tok.encode(json_util::get_string(j, "text", where), !args->no_special);
      std::cout << nlohmann::json{{"ids", ids}}.dump() << "\n";
    }
    std::cout.flush();
    if (!std::cout) throw IoError("write to stdout failed");
  });
}

}  // namespace dkv::cli
