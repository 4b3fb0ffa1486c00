// Private: the values a Jinja2 template computes with, as Python objects behave under Jinja2
// (str(), repr(), truthiness, ==, <, +), and Python's str methods on UTF-8 strings.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dkv::tokenizer::jinja {

// Thrown by value operations and builtins; the evaluator adds the template position and turns
// it into an InputError.
struct EvalError {
  std::string message;
};

struct Value;
using List = std::vector<Value>;

// A Python dict: insertion-ordered, as Python 3.7+ dicts are. Keys are held as strings; a key
// that is not a str (an int in a literal such as {0: 0, 512: 128}) is held as its dict_key
// encoding, which key_value decodes.
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value v);
};

struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  // Python-style binding: the i-th positional or the keyword `name`, else nullptr.
  const Value* get(size_t i, const char* name) const;
};

struct Callable {
  std::string name;  // for repr and messages
  std::function<Value(const Args&)> fn;
};

enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kCallable };

struct Value {
  Kind kind = Kind::kUndefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;  // the string; for kUndefined, why it is undefined (Jinja2's hint)
  bool tuple = false;  // a kList that Python holds as a tuple (repr "(a, b)")
  std::shared_ptr<List> list;
  std::shared_ptr<Dict> dict;  // kDict and kNamespace (Jinja2's Namespace is mutable)
  std::shared_ptr<Callable> fn;

  static Value undefined(std::string hint = "") { Value v; v.s = std::move(hint); return v; }
  static Value none() { Value v; v.kind = Kind::kNone; return v; }
  static Value boolean(bool x) { Value v; v.kind = Kind::kBool; v.b = x; return v; }
  static Value integer(int64_t x) { Value v; v.kind = Kind::kInt; v.i = x; return v; }
  static Value number(double x) { Value v; v.kind = Kind::kFloat; v.f = x; return v; }
  static Value string(std::string x) { Value v; v.kind = Kind::kString; v.s = std::move(x); return v; }
  static Value make_list(List xs, bool is_tuple = false);
  static Value make_dict(Dict d = {});
  static Value make_namespace(Dict d);
  static Value callable(std::string name, std::function<Value(const Args&)> fn);

  bool is_undefined() const { return kind == Kind::kUndefined; }
  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat || kind == Kind::kBool; }
};

// Python hashing for dict keys: str as itself; int, bool and integral floats as one key (1 ==
// 1.0 == True); other floats and None by value. Throws EvalError for unhashable values.
std::string dict_key(const Value& key);
Value key_value(const std::string& stored);

Value from_json(const nlohmann::ordered_json& j);
const char* type_name(const Value& v);  // Python's type name: str, int, list, dict, ...

// Python semantics: bool(v), str(v) (Undefined prints ''), repr(v), ==, <.
bool truthy(const Value& v);
std::string to_str(const Value& v);
std::string repr(const Value& v);
std::string py_float_repr(double x);
bool equals(const Value& a, const Value& b);
bool less(const Value& a, const Value& b);  // throws EvalError where Python raises TypeError
// Python iteration: list/tuple items, dict keys, string characters; Undefined is empty (as
// Jinja2's Undefined.__iter__). Throws EvalError for a value Python cannot iterate.
List iterate(const Value& v);
int64_t py_len(const Value& v);  // throws EvalError where len() raises

// Python str helpers on UTF-8 (indices and lengths in code points, as Python's str).
std::vector<char32_t> to_cps(const std::string& s);
std::string from_cps(const std::vector<char32_t>& cps, size_t begin = 0, size_t end = SIZE_MAX);
bool py_isspace(char32_t c);  // str.isspace(): Python's _PyUnicode_IsWhitespace
bool py_isprintable(char32_t c);  // str.isprintable(), as repr() uses it
std::string py_strip(const std::string& s, const Value* chars, bool left, bool right);
std::vector<std::string> py_split(const std::string& s, const Value* sep, int64_t maxsplit);
std::vector<std::string> py_splitlines(const std::string& s);
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_capitalize(const std::string& s);
std::string py_title(const std::string& s);  // str.title()
std::string py_replace(const std::string& s, const std::string& old, const std::string& rep,
                       int64_t count);
int64_t py_find(const std::string& s, const std::string& sub);  // code-point index or -1

// json.dumps(v, ensure_ascii, indent, separators, sort_keys), as HF's tojson filter.
std::string json_dumps(const Value& v, bool ensure_ascii, const Value* indent,
                       const Value* separators, bool sort_keys);

}  // namespace dkv::tokenizer::jinja
