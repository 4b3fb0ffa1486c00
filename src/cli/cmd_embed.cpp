// `dkv embed --model DIR`: sentence vectors for JSONL {"text": ...} lines (tokenized with the
// model's own tokenizer, truncated as sentence-transformers does) or {"ids": [...]} lines on
// stdin, one {"vector": [...]} line out per line in, so outside tools can compare numbers.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/dtype_option.h"
#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/model/sentence_embedder.h"
#include "dkv/tokenizer/tokenizer.h"

namespace dkv::cli {

namespace {

std::vector<int64_t> read_ids(const std::string& line, int64_t line_no,
                              const tokenizer::Tokenizer* tok, int64_t max_tokens) {
  const auto where = "stdin line " + std::to_string(line_no);
  const auto j = json_util::parse(line, where);
  if (j.is_object() && j.contains("text")) {
    if (!tok) throw InputError(where + ": {\"text\"} needs a tokenizer.json in the model directory");
    return model::truncate_for_embedding(tok->encode(json_util::get_string(j, "text", where), true),
                                         max_tokens);
  }
  const auto& ids = json_util::require(j, "ids", where);
  if (!ids.is_array() || ids.empty())
    throw InputError(where + ": key 'ids': expected a non-empty list of token ids, got " +
                     ids.dump());
  std::vector<int64_t> out;
  for (const auto& id : ids) {
    if (!id.is_number_integer())
      throw InputError(where + ": key 'ids': expected integers, got " + id.dump());
    out.push_back(id.get<int64_t>());
  }
  return out;
}

void write_vectors(const at::Tensor& vectors) {  // vectors: [N, C] fp32, CPU
  const auto v = vectors.contiguous();
  const float* p = v.data_ptr<float>();
  const int64_t C = v.size(1);
  for (int64_t i = 0; i < v.size(0); ++i)
    std::cout << nlohmann::json{{"vector", std::vector<float>(p + i * C, p + (i + 1) * C)}}.dump()
              << "\n";
}

}  // namespace

void add_embed(CLI::App& app) {
  struct Args {
    std::string model, dtype = "fp32";
    int64_t batch_size = 32;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "embed", "sentence vectors: JSONL {\"text\"} or {\"ids\"} on stdin -> {\"vector\": [...]} lines");
  cmd->add_option("--model", args->model, "sentence-transformers model directory")->required();
  cmd->add_option("--batch-size", args->batch_size, "sequences per forward pass")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dtype", args->dtype, "fp32, fp16 or bf16");
  cmd->callback([args] {
    const auto embedder = model::SentenceEmbedder::load(args->model, parse_dtype(args->dtype));
    std::unique_ptr<tokenizer::Tokenizer> tok;
    if (std::filesystem::exists(args->model + "/tokenizer.json"))
      tok = std::make_unique<tokenizer::Tokenizer>(tokenizer::Tokenizer::load(args->model));
    std::vector<std::vector<int64_t>> batch;
    std::string line;
    int64_t line_no = 0;
    // Stream in batches so that output order equals input order and memory stays bounded.
    while (std::getline(std::cin, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      batch.push_back(read_ids(line, line_no, tok.get(), embedder.modules().max_seq_length));
      if (static_cast<int64_t>(batch.size()) == args->batch_size) {
        write_vectors(embedder.embed(batch, args->batch_size));
        batch.clear();
      }
    }
    if (!batch.empty()) write_vectors(embedder.embed(batch, args->batch_size));
  });
}

}  // namespace dkv::cli
