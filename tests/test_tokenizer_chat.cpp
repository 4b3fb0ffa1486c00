// Chat templates: native renders against transformers' apply_chat_template(tokenize=False)
// outputs committed in tests/golden/chat_templates.json (tools/gen_tokenizer_golden.py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dkv/core/error.h"
#include "dkv/core/json_util.h"
#include "dkv/tokenizer/chat_template.h"
#include "dkv/tokenizer/tokenizer.h"
#include "support.h"

namespace {

using dkv::tokenizer::ChatMessage;
using dkv::tokenizer::ChatTemplate;
using nlohmann::json;

json golden() {
  return dkv::json_util::read_file(dkv::test::source_path("tests/golden/chat_templates.json"));
}

std::vector<ChatMessage> messages(const json& conv) {
  std::vector<ChatMessage> out;
  for (const json& m : conv) out.push_back({m["role"], m["content"]});
  return out;
}

TEST(ChatTemplate, RendersMatchTransformersApplyChatTemplate) {
  json g = golden();
  const std::string bos = g["header"]["bos_token"], eos = g["header"]["eos_token"];
  size_t n = 0;
  for (const json& r : g["renders"]) {
    auto t = ChatTemplate::by_name(r["template"], bos, eos);
    EXPECT_EQ(t.render(messages(g["conversations"][r["conversation"].get<std::string>()]),
                       r["add_generation_prompt"]),
              r["text"].get<std::string>())
        << r["template"] << " / " << r["conversation"]
        << "; regenerate with tools/gen_tokenizer_golden.py goldens";
    ++n;
  }
  EXPECT_GE(n, 20u);  // 4 families x one-turn, two-turn (x system) x generation prompt on/off
}

TEST(ChatTemplate, KnownTemplateStringsAreDetected) {
  json g = golden();
  for (auto it = g["templates"].begin(); it != g["templates"].end(); ++it)
    EXPECT_STREQ(ChatTemplate::detect(it.value(), "<s>", "</s>", "x").name(), it.key().c_str());
}

TEST(ChatTemplate, TokenizerConfigTemplateIsDetected) {
  auto tok = dkv::tokenizer::Tokenizer::load(
      dkv::test::source_path("tests/data/tokenizers/mistral_sp"));
  auto t = ChatTemplate::for_tokenizer(tok);
  EXPECT_STREQ(t.name(), "mistral");
  EXPECT_EQ(t.render({{"user", "hi"}}, true), "<s>[INST] hi [/INST]");
  EXPECT_STREQ(ChatTemplate::for_tokenizer(tok, "chatml").name(), "chatml");
}

TEST(ChatTemplate, UnknownTemplateNamesTheYamlKey) {
  try {
    ChatTemplate::detect("{% for m in messages %}{{ m.content }}{% endfor %}", "<s>", "</s>",
                         "tok/tokenizer_config.json");
    FAIL() << "expected InputError";
  } catch (const dkv::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tok/tokenizer_config.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("model.chat_template"), std::string::npos) << e.what();
  }
  auto tok = dkv::tokenizer::Tokenizer::load(
      dkv::test::source_path("tests/data/tokenizers/bert_wp"));  // has no chat_template
  EXPECT_THROW(ChatTemplate::for_tokenizer(tok), dkv::InputError);
  EXPECT_THROW(ChatTemplate::by_name("vicuna", "", ""), dkv::ConfigError);
}

TEST(ChatTemplate, RaisesWhereTheJinjaTemplateRaises) {
  auto mistral = ChatTemplate::by_name("mistral", "<s>", "</s>");
  EXPECT_THROW(mistral.render({{"system", "s"}, {"user", "u"}}, false), dkv::InputError);
  EXPECT_THROW(mistral.render({{"user", "a"}, {"user", "b"}}, false), dkv::InputError);
  auto llama2 = ChatTemplate::by_name("llama2", "<s>", "</s>");
  EXPECT_THROW(llama2.render({{"assistant", "a"}}, false), dkv::InputError);
}

}  // namespace
