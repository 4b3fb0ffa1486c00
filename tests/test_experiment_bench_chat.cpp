// Chat templates in experiments: surrogate.system_prompt reaches the surrogate prompt, and
// `dkv bench experiment --config` renders its prompts with the config's model.chat_template (a
// tokenizer without a chat template then still works when the config names a built-in).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/experiment/spec.h"
#include "dkv/experiment/text_side.h"
#include "support.h"

namespace {

namespace fs = std::filesystem;

// mistral_sp without its chat_template.
std::string tokenizer_without_template(const std::string& dir) {
  const std::string src = dkv::test::source_path("tests/data/tokenizers/mistral_sp");
  for (const char* f : {"tokenizer.json", "special_tokens_map.json"})
    if (fs::exists(src + "/" + f)) fs::copy_file(src + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
  auto cfg = dkv::json_util::read_file(src + "/tokenizer_config.json");
  cfg.erase("chat_template");
  std::ofstream(dir + "/tokenizer_config.json") << cfg.dump(1);
  return dir;
}

std::string config_with(const std::string& dir, const std::string& chat_template) {
  const std::string path = dir + "/bench_" + chat_template + ".yaml";
  std::ofstream(path) << "name: bench_chat\n"
                      << "model:\n  path: " << dir << "/no-model\n  chat_template: " << chat_template << "\n"
                      << "embedding:\n  path: " << dir << "/no-embedding\n"
                      << "dataset:\n  path: " << dkv::test::source_path("configs/data/demo_msmarco.jsonl")
                      << "\n  num_samples: 1\n"
                      << "surrogate:\n  max_new_tokens: 2\n";
  return path;
}

int run(const std::string& args, const std::string& log) {
  const std::string cmd = std::string(DKV_BINARY) + " bench experiment " + args + " > " + log + " 2>&1";
  return std::system(cmd.c_str());
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ExperimentChat, SystemPromptIsReadAndStoredOnlyWhenSet) {
  const std::string dir = dkv::test::scratch_dir("chat_spec");
  auto spec_with = [&](const std::string& surrogate_block) {
    const std::string path = dir + "/spec.yaml";
    std::ofstream(path) << "name: chat_spec\nmodel:\n  path: m\nembedding:\n  path: e\ndataset:\n  path: d\n"
                        << surrogate_block;
    return dkv::experiment::load_spec(path);
  };
  const auto plain = spec_with("");
  EXPECT_EQ(plain.surrogate.system_prompt, "");
  // Absent from the resolved config when unset, so existing configs keep their config hash.
  EXPECT_EQ(dkv::experiment::resolved_yaml(plain).find("system_prompt"), std::string::npos);
  const auto set = spec_with("surrogate:\n  system_prompt: \"Be terse.\"\n");
  EXPECT_EQ(set.surrogate.system_prompt, "Be terse.");
  EXPECT_NE(dkv::experiment::resolved_yaml(set).find("system_prompt: \"Be terse.\""), std::string::npos)
      << dkv::experiment::resolved_yaml(set);
}

TEST(ExperimentChat, SystemPromptGoesFirstInTheSurrogatePrompt) {
  const std::string tok = dkv::test::source_path("tests/data/tokenizers/mistral_sp");
  const std::string emb = dkv::test::source_path("tests/data/tokenizers/bert_wp");
  // auto: mistral_sp's own Jinja template (Mistral's, which takes no system message).
  const auto own = dkv::experiment::load_text_side(tok, "auto", emb, 128);
  EXPECT_EQ(own.render_user_turn("", "hi"), "<s>[INST] hi [/INST]");
  EXPECT_THROW(own.render_user_turn("Be terse.", "hi"), dkv::InputError);
  const auto chatml = dkv::experiment::load_text_side(tok, "chatml", emb, 128);
  EXPECT_EQ(chatml.render_user_turn("Be terse.", "hi"),
            "<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(BenchExperiment, UsesTheConfigsChatTemplate) {
  const std::string dir = dkv::test::scratch_dir("bench_chat");
  const std::string tok = tokenizer_without_template(dkv::test::scratch_dir("bench_chat_tok"));
  const std::string shape = " --samples 1 --chunk 1 --layers 1 --hidden 64 --intermediate 128 --heads 2 "
                            "--kv-heads 1 --vocab 1620";
  const std::string log = dir + "/log.txt";
  EXPECT_EQ(run("--config " + config_with(dir, "mistral") + " --tokenizer " + tok + shape, log), 0)
      << slurp(log);
  // With `auto` the tokenizer's own template is asked for, and it has none.
  EXPECT_NE(run("--config " + config_with(dir, "auto") + " --tokenizer " + tok + shape, log), 0);
  EXPECT_NE(slurp(log).find("model.chat_template"), std::string::npos) << slurp(log);
}

}  // namespace
