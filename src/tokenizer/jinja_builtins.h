// Private: Jinja2's builtin filters and tests (jinja2/filters.py, jinja2/tests.py, with HF's
// tojson), attribute and item access (Environment.getattr / getitem) and the Python methods of
// str, dict and list that chat templates call. All throw EvalError where Jinja2 raises.
#pragma once

#include <string>

#include "tokenizer/jinja_value.h"

namespace dkv::tokenizer::jinja {

bool has_filter(const std::string& name);
bool has_test(const std::string& name);
Value apply_filter(const std::string& name, const Value& input, const Args& args);
bool apply_test(const std::string& name, const Value& input, const Args& args);

// Python's printf-style `fmt % args` for %s %r %d %i %f with flags, width and precision.
std::string py_percent_format(const std::string& fmt, const Value& args);

// Python's `item in container` (substring, element, or dict key).
bool py_contains(const Value& container, const Value& item);

// `obj.name`: Python attribute first (a str/dict/list method), then obj["name"]; Undefined
// when neither exists. Throws EvalError for an attribute of Undefined (jinja2's Undefined).
Value get_attr(const Value& obj, const std::string& name);
// `obj[key]`: item first, then (for a string key) the attribute; Undefined when neither exists.
Value get_item(const Value& obj, const Value& key);
// `obj[start:stop:step]` on str, list and tuple with Python's slice semantics.
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

}  // namespace dkv::tokenizer::jinja
