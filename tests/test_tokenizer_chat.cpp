// Chat templates: built-in and Jinja renders against transformers' apply_chat_template
// (tokenize=False) outputs committed in tests/golden/chat_templates.json
// (tools/gen_tokenizer_golden.py).
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

// The built-ins mirror their family's Jinja source: the interpreter on that source renders the
// same text for every golden conversation.
TEST(ChatTemplate, BuiltinsEqualTheirJinjaSourceThroughTheInterpreter) {
  json g = golden();
  const std::string bos = g["header"]["bos_token"], eos = g["header"]["eos_token"];
  nlohmann::ordered_json specials = {{"bos_token", bos}, {"eos_token", eos}};
  size_t n = 0;
  for (auto it = g["templates"].begin(); it != g["templates"].end(); ++it) {
    auto jinja = ChatTemplate::from_jinja(it.value(), specials, it.key());
    auto builtin = ChatTemplate::by_name(it.key(), bos, eos);
    for (auto c = g["conversations"].begin(); c != g["conversations"].end(); ++c) {
      for (bool gen : {false, true}) {
        std::string a, b;
        try {
          a = builtin.render(messages(c.value()), gen);
        } catch (const dkv::InputError&) {
          EXPECT_THROW(jinja.render(messages(c.value()), gen), dkv::InputError) << it.key() << " / " << c.key();
          continue;
        }
        EXPECT_EQ(jinja.render(messages(c.value()), gen), a) << it.key() << " / " << c.key();
        ++n;
      }
    }
  }
  EXPECT_GE(n, 20u);
}

TEST(ChatTemplate, TokenizerConfigTemplateRendersThroughJinja) {
  auto tok = dkv::tokenizer::Tokenizer::load(
      dkv::test::source_path("tests/data/tokenizers/mistral_sp"));
  auto t = ChatTemplate::for_tokenizer(tok);
  EXPECT_STREQ(t.name(), "auto");
  EXPECT_EQ(t.family(), dkv::tokenizer::ChatFamily::kJinja);
  EXPECT_EQ(t.render({{"user", "hi"}}, true), "<s>[INST] hi [/INST]");
  EXPECT_STREQ(ChatTemplate::for_tokenizer(tok, "auto").name(), "auto");
  EXPECT_STREQ(ChatTemplate::for_tokenizer(tok, "chatml").name(), "chatml");
}

TEST(ChatTemplate, MissingOrBrokenTemplatesAreErrors) {
  auto tok = dkv::tokenizer::Tokenizer::load(
      dkv::test::source_path("tests/data/tokenizers/bert_wp"));  // has no chat_template
  try {
    ChatTemplate::for_tokenizer(tok);
    FAIL() << "expected InputError";
  } catch (const dkv::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.chat_template"), std::string::npos) << e.what();
  }
  EXPECT_STREQ(ChatTemplate::for_tokenizer(tok, "llama3").name(), "llama3");
  EXPECT_THROW(ChatTemplate::by_name("vicuna", "", ""), dkv::ConfigError);
  try {
    ChatTemplate::from_jinja("{% for m in messages %}\n{{ m.content | shout }}{% endfor %}",
                             nlohmann::ordered_json::object(), "tok/tokenizer_config.json");
    FAIL() << "expected InputError";
  } catch (const dkv::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tok/tokenizer_config.json:2:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'shout'"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, RaisesWhereTheJinjaTemplateRaises) {
  auto mistral = ChatTemplate::by_name("mistral", "<s>", "</s>");
  EXPECT_THROW(mistral.render({{"system", "s"}, {"user", "u"}}, false), dkv::InputError);
  EXPECT_THROW(mistral.render({{"user", "a"}, {"user", "b"}}, false), dkv::InputError);
  auto llama2 = ChatTemplate::by_name("llama2", "<s>", "</s>");
  EXPECT_THROW(llama2.render({{"assistant", "a"}}, false), dkv::InputError);
  auto jinja = ChatTemplate::for_tokenizer(dkv::tokenizer::Tokenizer::load(
      dkv::test::source_path("tests/data/tokenizers/mistral_sp")));
  try {
    jinja.render({{"system", "s"}, {"user", "u"}}, false);
    FAIL() << "expected InputError";
  } catch (const dkv::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Conversation roles must alternate"), std::string::npos) << e.what();
  }
}

}  // namespace
