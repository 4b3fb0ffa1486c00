// dkv's Jinja interpreter: one or a few small templates per construct against transformers'
// compiled chat template (tests/golden/jinja_templates.json, tools/gen_jinja_golden.py), and
// the errors for templates dkv cannot render.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "dkv/core/error.h"
#include "dkv/tokenizer/jinja.h"
#include "support.h"

namespace {

using dkv::tokenizer::jinja::Template;
using nlohmann::ordered_json;

// ordered_json, not json_util::read_file's json: the context's dicts keep their key order, as
// the Python dicts transformers rendered with do (tojson and items() show it).
const ordered_json& golden() {
  static const ordered_json g = [] {
    std::ifstream in(dkv::test::source_path("tests/golden/jinja_templates.json"));
    return ordered_json::parse(in);
  }();
  return g;
}

std::string render(const std::string& tmpl, const ordered_json& vars = ordered_json::object()) {
  return Template::parse(tmpl, "t").render(vars);
}

// The InputError message of rendering `tmpl`, or "" when it renders.
std::string error_of(const std::string& tmpl, const ordered_json& vars = ordered_json::object()) {
  try {
    render(tmpl, vars);
  } catch (const dkv::InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Jinja, ConstructsRenderAsTransformersApplyChatTemplate) {
  const auto& g = golden();
  const ordered_json& ctx = g["context"];
  size_t texts = 0, errors = 0;
  for (const auto& c : g["cases"]) {
    const std::string name = c["name"], tmpl = c["template"];
    if (c.contains("text")) {
      std::string got;
      try {
        got = render(tmpl, ctx);
      } catch (const dkv::Error& e) {
        ADD_FAILURE() << name << ": " << e.what() << "; golden from " << g["header"]["regenerate"];
        continue;
      }
      EXPECT_EQ(got, c["text"].get<std::string>()) << name << "\n" << tmpl
                                                   << "\nregenerate: " << g["header"]["regenerate"];
      ++texts;
    } else {
      EXPECT_NE(error_of(tmpl, ctx), "") << name << ": transformers raises " << c["error"];
      ++errors;
    }
  }
  EXPECT_GE(texts, 70u);
  EXPECT_GE(errors, 10u);
}

TEST(Jinja, UnknownFilterNamesItAndItsLine) {
  const std::string msg = error_of("{% for m in messages %}\n  {{ m.content | frobnicate }}\n{% endfor %}");
  EXPECT_NE(msg.find("t:2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown filter 'frobnicate'"), std::string::npos) << msg;
  EXPECT_NE(error_of("{{ 3 is prime }}").find("unknown test 'prime'"), std::string::npos);
}

TEST(Jinja, UnknownStatementNamesItAndItsLine) {
  const std::string msg = error_of("{% for m in [1] %}\n\n{% break %}{% endfor %}");
  EXPECT_NE(msg.find("t:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'{% break %}'"), std::string::npos) << msg;  // HF 4.43 enables no loopcontrols
  EXPECT_NE(error_of("{% if x %}a{% endfor %}").find("endfor"), std::string::npos);
  EXPECT_NE(error_of("{% if x %}a").find("endif"), std::string::npos);
  EXPECT_NE(error_of("{{ 'a' ").find("t:1:"), std::string::npos);
}

// Jinja2 resolves filters in if branches only when reached (compiler "soft" frames), and dkv
// parses past the statements it does not implement: both fail only when rendering reaches them.
TEST(Jinja, UnimplementedConstructsFailOnlyWhenReached) {
  const std::string tmpl =
      "{% if tools %}{{ tools | fromjson }}{% call m() %}x{% endcall %}{{ f(*tools) }}{% endif %}ok";
  EXPECT_EQ(render(tmpl, {{"tools", nullptr}}), "ok");
  const std::string msg = error_of(tmpl, {{"tools", {1}}});
  EXPECT_NE(msg.find("unknown filter 'fromjson'"), std::string::npos) << msg;
  EXPECT_NE(error_of("{% call m() %}x{% endcall %}").find("unsupported Jinja statement '{% call %}'"),
            std::string::npos);
  EXPECT_NE(error_of("{{ f(*xs) }}").find("*args"), std::string::npos);
  EXPECT_NE(error_of("{{ {[1]: 2} }}").find("unhashable type: 'list'"), std::string::npos);
}

// Templates come from model files: nesting, chains, recursion and repetition are bounded, and
// each limit is an InputError, not a crash.
TEST(Jinja, HostileTemplatesAreErrorsNotCrashes) {
  EXPECT_NE(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}").find("nested more than"), std::string::npos);
  std::string chain = "{{ 1";
  for (int k = 0; k < 5000; ++k) chain += " + 1";
  EXPECT_NE(error_of(chain + " }}").find("chains more than"), std::string::npos);
  std::string ifs;
  for (int k = 0; k < 1000; ++k) ifs += "{% if true %}";
  EXPECT_NE(error_of(ifs).find("nested more than"), std::string::npos);
  EXPECT_NE(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("maximum recursion depth"),
            std::string::npos);
  EXPECT_NE(error_of("{{ 'x' * 1000000000 }}").find("64 MiB"), std::string::npos);
  EXPECT_NE(error_of("{{ range(1000000) | length }}").find("MAX_RANGE"), std::string::npos);
}

TEST(Jinja, RaiseExceptionCarriesTheMessageAndLine) {
  const std::string msg = error_of("\n{{ raise_exception('Only user and assistant roles are supported!') }}");
  EXPECT_NE(msg.find("t:2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Only user and assistant roles are supported!"), std::string::npos) << msg;
}

TEST(Jinja, UndefinedPrintsEmptyButItsAttributesRaise) {
  EXPECT_EQ(render("[{{ missing }}][{{ missing | length }}][{{ missing is defined }}]"), "[][0][False]");
  EXPECT_NE(error_of("{{ missing.role }}").find("'missing' is undefined"), std::string::npos);
  EXPECT_EQ(render("{{ m.nope }}|{{ m['nope'] is defined }}", {{"m", {{"role", "user"}}}}), "|False");
}

TEST(Jinja, VariablesKeepTheirKeyOrder) {
  ordered_json m = ordered_json::object();
  m["role"] = "user";
  m["content"] = "é";
  EXPECT_EQ(render("{{ m | tojson }} {{ m }}", {{"m", m}}), "{\"role\": \"user\", \"content\": \"é\"} "
                                                           "{'role': 'user', 'content': 'é'}");
}

}  // namespace
