// `dkv forward`: logits and top-k tokens for given ids and positions, as JSON, so that outside
// tools can compare numbers with dkv.
#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/dtype_option.h"
#include "dkv/core/error.h"
#include "dkv/model/decoder.h"

namespace dkv::cli {

void add_forward(CLI::App& app) {
  struct Args {
    std::string model, out, dtype = "fp32", quantization = "none";
    std::vector<int64_t> ids, positions, rows;
    int64_t top_k = 5;
    bool no_logits = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("forward", "run one sequence through a model and print logits");
  cmd->add_option("--model", args->model, "HF checkpoint directory or GGUF file")->required();
  cmd->add_option("--ids", args->ids, "token ids, comma-separated")->required()->delimiter(',');
  cmd->add_option("--positions", args->positions, "position ids (default 0..n-1)")->delimiter(',');
  cmd->add_option("--out", args->out, "write JSON here instead of stdout");
  cmd->add_option("--top-k", args->top_k, "top tokens listed per position");
  cmd->add_option("--dtype", args->dtype, "fp32, fp16, bf16, or fp64 (for reference comparisons)");
  cmd->add_option("--quantization", args->quantization, "none, nf4 or int8 (decoder-block linear layers)");
  cmd->add_flag("--no-logits", args->no_logits, "omit the full logit rows");
  cmd->add_option("--rows", args->rows,
                  "only these token indices (0-based, comma-separated) get logits and top-k")
      ->delimiter(',');
  cmd->callback([args] {
    // fp64 (reference comparisons only: logits still come out as fp32) besides the run dtypes.
    const auto dtype = args->dtype == "fp64" ? at::kDouble : parse_dtype(args->dtype);
    auto decoder = model::Decoder::load(args->model, {dtype, at::kCPU,
                                                      model::parse_quantization(args->quantization)});
    const auto n = static_cast<int64_t>(args->ids.size());
    model::ForwardInput in;
    in.ids = at::tensor(args->ids, at::kLong).view({1, n});
    if (!args->positions.empty()) {
      if (static_cast<int64_t>(args->positions.size()) != n)
        throw ConfigError("--positions: " + std::to_string(args->positions.size()) +
                          " positions for " + std::to_string(n) + " ids");
      in.positions = at::tensor(args->positions, at::kLong).view({1, n});
    }
    std::vector<int64_t> rows = args->rows;
    if (rows.empty())
      for (int64_t i = 0; i < n; ++i) rows.push_back(i);
    for (auto r : rows)
      if (r < 0 || r >= n) throw ConfigError("--rows: " + std::to_string(r) + " is not in [0, " + std::to_string(n) + ")");
    in.logit_rows = at::tensor(rows, at::kLong);
    auto logits = decoder.forward(in).contiguous();  // [rows, V] fp32
    const auto R = static_cast<int64_t>(rows.size());
    auto [top_val, top_idx] = logits.topk(std::min(args->top_k, logits.size(1)), -1);
    nlohmann::json j;
    j["model"] = args->model;
    j["ids"] = args->ids;
    std::vector<int64_t> positions = args->positions;
    if (positions.empty())
      for (int64_t i = 0; i < n; ++i) positions.push_back(i);
    j["positions"] = positions;
    j["rows"] = rows;
    j["top_k"] = nlohmann::json::array();
    for (int64_t t = 0; t < R; ++t) {
      nlohmann::json row = nlohmann::json::array();
      for (int64_t k = 0; k < top_idx.size(1); ++k)
        row.push_back({{"id", top_idx[t][k].item<int64_t>()}, {"logit", top_val[t][k].item<float>()}});
      j["top_k"].push_back(row);
    }
    if (!args->no_logits) {
      j["logits"] = nlohmann::json::array();
      const float* p = logits.data_ptr<float>();
      for (int64_t t = 0; t < R; ++t)
        j["logits"].push_back(std::vector<float>(p + t * logits.size(1), p + (t + 1) * logits.size(1)));
    }
    if (args->out.empty()) {
      std::cout << j.dump() << "\n";
    } else {
      std::ofstream out(args->out);
      out << j.dump() << "\n";
      if (!out) throw IoError("write failed: " + args->out);
    }
  });
}

}  // namespace dkv::cli
