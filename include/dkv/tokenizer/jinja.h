// dkv::tokenizer::jinja: a Jinja2 interpreter for the subset chat templates use, configured as
// HF transformers 4.43 compiles chat templates (_compile_jinja_template): an
// ImmutableSandboxedEnvironment with trim_blocks=True, lstrip_blocks=True, no autoescape,
// Jinja2's default Undefined, `raise_exception` as a global, `tojson` replaced by json.dumps
// (ensure_ascii=False) and the `{% generation %}` tag. Needs only std, nlohmann json and ICU.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace dkv::tokenizer::jinja {

struct Program;  // the parsed template; defined in src/tokenizer/jinja_ast.h

class Template {
 public:
  // Lexes and parses `source` (`where` prefixes every message, e.g. "dir/tokenizer_config.json:
  // chat_template"). Throws InputError "<where>:<line>:<column>: ..." for a syntax error and for
  // any construct this interpreter does not implement (naming it), never a partial template.
  static Template parse(const std::string& source, const std::string& where);

  // Renders with `vars` (a JSON object; its members become template variables, objects keep
  // their member order as Python dicts do). Throws InputError "<where>:<line>:<column>: ..."
  // where Jinja2 would raise: raise_exception(msg) (the message is quoted), an attribute of an
  // undefined value, a type error, an unknown filter, test or method. Thread-safe.
  std::string render(const nlohmann::ordered_json& vars) const;

 private:
  std::shared_ptr<const Program> program_;
};

}  // namespace dkv::tokenizer::jinja
