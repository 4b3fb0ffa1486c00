// `dkv make-tiny-model DIR`: a random-weight HF checkpoint for tests and the demo.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "dkv/core/error.h"
#include "dkv/model/tiny_bert.h"
#include "dkv/model/tiny_model.h"
#include "dkv/tokenizer/tokenizer.h"

namespace dkv::cli {

void add_make_tiny_model(CLI::App& app) {
  struct Args {
    std::string dir, arch = "llama";
    model::TinyModelOptions o;
    int64_t sliding_window = 0;
    double query_pre_attn_scalar = 0, final_logit_softcapping = 0;
    std::string tokenizer;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("make-tiny-model", "write a random-weight HF-format checkpoint");
  cmd->add_option("dir", args->dir, "output directory")->required();
  cmd->add_option("--arch", args->arch,
                  "llama, mistral, qwen2, gemma3, or bert (a sentence-transformers model, all-MiniLM layout)")
      ->check(CLI::IsMember({"llama", "mistral", "qwen2", "gemma3", "bert"}));
  cmd->add_option("--seed", args->o.seed, "weight seed");
  cmd->add_option("--vocab", args->o.vocab_size, "vocab_size");
  cmd->add_option("--hidden", args->o.hidden_size, "hidden_size");
  cmd->add_option("--intermediate", args->o.intermediate_size, "intermediate_size");
  cmd->add_option("--layers", args->o.num_hidden_layers, "num_hidden_layers");
  cmd->add_option("--heads", args->o.num_attention_heads, "num_attention_heads");
  cmd->add_option("--kv-heads", args->o.num_key_value_heads, "num_key_value_heads");
  cmd->add_option("--rope-theta", args->o.rope_theta, "rope_theta");
  cmd->add_option("--sliding-window", args->sliding_window,
                  "sliding_window (0 = none): Mistral every layer, Gemma 3 its sliding layers");
  cmd->add_option("--head-dim", args->o.head_dim, "gemma3: head_dim (default hidden / heads)");
  cmd->add_option("--sliding-window-pattern", args->o.sliding_window_pattern,
                  "gemma3: every N-th layer is full attention, the others slide (default 3)");
  cmd->add_option("--rope-local-theta", args->o.rope_local_base_freq, "gemma3: rope_local_base_freq");
  cmd->add_option("--query-pre-attn-scalar", args->query_pre_attn_scalar,
                  "gemma3: query_pre_attn_scalar (default head_dim)");
  cmd->add_option("--rope-scaling-factor", args->o.rope_scaling_factor,
                  "gemma3: linear rope_scaling factor of the full layers (1 = none)");
  cmd->add_option("--final-logit-softcapping", args->final_logit_softcapping,
                  "gemma3: final_logit_softcapping (0 = none)");
  cmd->add_flag("--tie-embeddings", args->o.tie_word_embeddings, "tie_word_embeddings");
  cmd->add_option("--init-scale", args->o.init_scale, "std of the random weights");
  cmd->add_option("--tokenizer", args->tokenizer,
                  "copy this HF tokenizer directory in; vocab_size becomes its size");
  cmd->callback([args, cmd] {
    if (args->arch == "bert") {
      // The BERT vocabulary is the built-in WordPiece list; decoder-only options would be
      // silently meaningless, so they are refused.
      for (const char* opt : {"--vocab", "--kv-heads", "--rope-theta", "--sliding-window",
                              "--tie-embeddings"})
        if (cmd->count(opt) > 0)
          throw ConfigError(std::string("make-tiny-model: ") + opt + " does not apply to --arch bert");
      model::TinyBertOptions b;
      b.seed = args->o.seed;
      b.hidden_size = args->o.hidden_size;
      b.intermediate_size = args->o.intermediate_size;
      b.num_hidden_layers = args->o.num_hidden_layers;
      b.num_attention_heads = args->o.num_attention_heads;
      b.init_scale = args->o.init_scale;
      model::write_tiny_bert(args->dir, b);
      std::cerr << "wrote bert sentence-transformers model to " << args->dir << "\n";
      return;
    }
    const std::map<std::string, model::Architecture> archs{{"llama", model::Architecture::llama},
                                                           {"mistral", model::Architecture::mistral},
                                                           {"qwen2", model::Architecture::qwen2},
                                                           {"gemma3", model::Architecture::gemma3}};
    args->o.architecture = archs.at(args->arch);
    if (args->arch != "gemma3")
      for (const char* opt : {"--head-dim", "--sliding-window-pattern", "--rope-local-theta",
                              "--query-pre-attn-scalar", "--rope-scaling-factor", "--final-logit-softcapping"})
        if (cmd->count(opt) > 0)
          throw ConfigError(std::string("make-tiny-model: ") + opt + " applies to --arch gemma3 only");
    if (args->sliding_window > 0) args->o.sliding_window = args->sliding_window;
    if (args->query_pre_attn_scalar > 0) args->o.query_pre_attn_scalar = args->query_pre_attn_scalar;
    if (args->final_logit_softcapping > 0) args->o.final_logit_softcapping = args->final_logit_softcapping;
    if (!args->tokenizer.empty()) {
      if (cmd->count("--vocab") > 0)
        throw ConfigError("make-tiny-model: --vocab and --tokenizer both set the vocabulary size");
      args->o.vocab_size = static_cast<int64_t>(tokenizer::Tokenizer::load(args->tokenizer).vocab_size());
    }
    model::write_tiny_model(args->dir, args->o);
    if (!args->tokenizer.empty())
      for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
        const auto from = std::filesystem::path(args->tokenizer) / f;
        if (std::filesystem::exists(from))
          std::filesystem::copy_file(from, std::filesystem::path(args->dir) / f,
                                     std::filesystem::copy_options::overwrite_existing);
      }
    std::cerr << "wrote " << args->arch << " checkpoint to " << args->dir << "\n";
  });
}

}  // namespace dkv::cli
