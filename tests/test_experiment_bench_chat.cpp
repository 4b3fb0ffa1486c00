// `dkv bench experiment --config` renders its prompts with the config's model.chat_template (a
// tokenizer without a chat template then still works when the config names a built-in).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "dkv/core/json_util.h"
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

TEST(BenchExperiment, UsesTheConfigsChatTemplate) {
  const std::string dir = dkv::test::scratch_dir("bench_chat");
  if (run("--help", dir + "/help.txt") != 0) GTEST_SKIP() << "dkv built without the experiment module";
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
