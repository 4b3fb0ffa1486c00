// Attribute, item and slice access as jinja2's Environment.getattr / getitem resolve them, and
// the Python methods of str, dict and list that chat templates call. Methods that mutate are
// refused, as HF's ImmutableSandboxedEnvironment refuses them (SecurityError).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "tokenizer/jinja_builtins.h"

namespace dkv::tokenizer::jinja {

namespace {

[[noreturn]] void undefined_error(const Value& u) {
  throw EvalError{u.s.empty() ? "undefined value" : u.s};
}

int64_t as_int(const Value& v, const char* what) {
  if (v.kind == Kind::kInt) return v.i;
  if (v.kind == Kind::kBool) return v.b;
  throw EvalError{std::string(what) + ": expected an integer, got " + type_name(v)};
}

const std::string& as_str(const Value* v, const char* what) {
  if (!v || v->kind != Kind::kString)
    throw EvalError{std::string(what) + ": expected a string argument" +
                    (v ? std::string(", got ") + type_name(*v) : std::string())};
  return v->s;
}

bool affix_match(const std::string& s, const Value* arg, bool prefix, const char* what) {
  if (!arg) throw EvalError{std::string(what) + "() takes at least 1 argument"};
  std::vector<std::string> cands;
  if (arg->kind == Kind::kList && arg->tuple) {
    for (const Value& v : *arg->list) cands.push_back(as_str(&v, what));
  } else {
    cands.push_back(as_str(arg, what));
  }
  for (const auto& c : cands) {
    if (c.size() > s.size()) continue;
    if (prefix ? s.compare(0, c.size(), c) == 0 : s.compare(s.size() - c.size(), c.size(), c) == 0)
      return true;
  }
  return false;
}

List strings(const std::vector<std::string>& parts) {
  List out;
  for (const auto& p : parts) out.push_back(Value::string(p));
  return out;
}

// str.format with positional ({} {0}) and keyword ({name}) fields, !s / !r conversions and
// no format spec.
std::string py_format(const std::string& fmt, const Args& a) {
  std::string out;
  size_t auto_idx = 0;
  for (size_t k = 0; k < fmt.size(); ++k) {
    char c = fmt[k];
    if (c == '}' ) {
      if (k + 1 < fmt.size() && fmt[k + 1] == '}') { out += '}'; ++k; continue; }
      throw EvalError{"str.format: single '}' encountered in format string"};
    }
    if (c != '{') { out += c; continue; }
    if (k + 1 < fmt.size() && fmt[k + 1] == '{') { out += '{'; ++k; continue; }
    size_t e = fmt.find('}', k);
    if (e == std::string::npos) throw EvalError{"str.format: single '{' encountered in format string"};
    std::string field = fmt.substr(k + 1, e - k - 1);
    k = e;
    char conv = 's';
    size_t bang = field.find('!');
    if (field.find(':') != std::string::npos) throw EvalError{"str.format: format specs are not supported"};
    if (bang != std::string::npos) {
      conv = field.size() > bang + 1 ? field[bang + 1] : 's';
      field.resize(bang);
    }
    const Value* v = nullptr;
    if (field.empty()) {
      if (auto_idx >= a.pos.size()) throw EvalError{"str.format: replacement index out of range"};
      v = &a.pos[auto_idx++];
    } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
      size_t i = std::stoul(field);
      if (i >= a.pos.size()) throw EvalError{"str.format: replacement index out of range"};
      v = &a.pos[i];
    } else {
      for (const auto& kv : a.kw)
        if (kv.first == field) v = &kv.second;
      if (!v) throw EvalError{"str.format: no argument '" + field + "'"};
    }
    out += conv == 'r' ? repr(*v) : to_str(*v);
  }
  return out;
}

}  // namespace

std::string py_percent_format(const std::string& fmt, const Value& args) {
  // printf-style `fmt % args`: a tuple/list supplies the values in order, anything else is the
  // single value (Python treats a dict as a mapping; dkv refuses %(name)s below).
  List vals = args.kind == Kind::kList && args.tuple ? *args.list : List{args};
  size_t next = 0;
  std::string out;
  for (size_t k = 0; k < fmt.size(); ++k) {
    if (fmt[k] != '%') {
      out += fmt[k];
      continue;
    }
    size_t b = ++k;
    while (k < fmt.size() && std::string("-+ 0#").find(fmt[k]) != std::string::npos) ++k;
    while (k < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[k]))) ++k;
    if (k < fmt.size() && fmt[k] == '.') {
      ++k;
      while (k < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[k]))) ++k;
    }
    if (k >= fmt.size()) throw EvalError{"incomplete format"};
    const char conv = fmt[k];
    const std::string spec = fmt.substr(b, k - b);
    if (conv == '%' && spec.empty()) {
      out += '%';
      continue;
    }
    if (std::string("sridf").find(conv) == std::string::npos || conv == '(')
      throw EvalError{std::string("unsupported: printf-style conversion '%") + spec + conv + "'"};
    if (next >= vals.size()) throw EvalError{"not enough arguments for format string"};
    const Value& v = vals[next++];
    std::string piece;
    char buf[64];
    if (conv == 's' || conv == 'r') {
      piece = conv == 's' ? to_str(v) : repr(v);
      if (!spec.empty()) {
        std::snprintf(buf, sizeof buf, ("%" + spec + "s").c_str(), "");
        size_t width = std::strlen(buf);
        size_t n = to_cps(piece).size();
        if (n < width) piece = spec[0] == '-' ? piece + std::string(width - n, ' ') : std::string(width - n, ' ') + piece;
      }
    } else {
      if (!v.is_number()) throw EvalError{std::string("%") + conv + " format: a real number is required, not " + type_name(v)};
      double x = v.kind == Kind::kFloat ? v.f : static_cast<double>(v.kind == Kind::kBool ? v.b : v.i);
      if (conv == 'f') std::snprintf(buf, sizeof buf, ("%" + spec + "f").c_str(), x);
      else std::snprintf(buf, sizeof buf, ("%" + spec + "lld").c_str(), static_cast<long long>(std::trunc(x)));
      piece = buf;
    }
    out += piece;
  }
  if (next < vals.size()) throw EvalError{"not all arguments converted during string formatting"};
  return out;
}

namespace {

Value string_method(const std::string& s, const std::string& m, const Args& a) {
  auto arg = [&](size_t i, const char* n) { return a.get(i, n); };
  if (m == "strip" || m == "lstrip" || m == "rstrip")
    return Value::string(py_strip(s, arg(0, "chars"), m != "rstrip", m != "lstrip"));
  if (m == "split") {
    const Value* mx = arg(1, "maxsplit");
    return Value::make_list(strings(py_split(s, arg(0, "sep"), mx ? as_int(*mx, "split") : -1)));
  }
  if (m == "splitlines") return Value::make_list(strings(py_splitlines(s)));
  if (m == "startswith") return Value::boolean(affix_match(s, arg(0, "prefix"), true, "startswith"));
  if (m == "endswith") return Value::boolean(affix_match(s, arg(0, "suffix"), false, "endswith"));
  if (m == "upper") return Value::string(py_upper(s));
  if (m == "lower") return Value::string(py_lower(s));
  if (m == "title") return Value::string(py_title(s));
  if (m == "capitalize") return Value::string(py_capitalize(s));
  if (m == "replace") {
    const Value* n = arg(2, "count");
    return Value::string(py_replace(s, as_str(arg(0, "old"), "replace"), as_str(arg(1, "new"), "replace"),
                                    n ? as_int(*n, "replace") : -1));
  }
  if (m == "find") return Value::integer(py_find(s, as_str(arg(0, "sub"), "find")));
  if (m == "count") {
    const std::string& sub = as_str(arg(0, "sub"), "count");
    if (sub.empty()) return Value::integer(static_cast<int64_t>(to_cps(s).size()) + 1);
    int64_t n = 0;
    for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
    return Value::integer(n);
  }
  if (m == "join") {
    const Value* it = arg(0, "iterable");
    if (!it) throw EvalError{"join() takes exactly one argument"};
    std::string out;
    bool first = true;
    for (const Value& v : iterate(*it)) {
      if (!first) out += s;
      out += as_str(&v, "join");
      first = false;
    }
    return Value::string(out);
  }
  if (m == "format") return Value::string(py_format(s, a));
  auto all = [&](auto pred) {
    auto cps = to_cps(s);
    return Value::boolean(!cps.empty() && std::all_of(cps.begin(), cps.end(), pred));
  };
  if (m == "isspace") return all(py_isspace);
  if (m == "isdigit") return all([](char32_t c) { return c >= '0' && c <= '9'; });
  if (m == "isalpha") return all([](char32_t c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; });
  if (m == "isupper") return Value::boolean(py_upper(s) == s && py_lower(s) != s);
  if (m == "islower") return Value::boolean(py_lower(s) == s && py_upper(s) != s);
  throw EvalError{"unsupported str method '" + m + "'"};
}

const std::set<std::string> kStrMethods = {
    "strip", "lstrip", "rstrip", "split", "splitlines", "startswith", "endswith", "upper",
    "lower", "title", "capitalize", "replace", "find", "count", "join", "format", "isspace",
    "isdigit", "isalpha", "isupper", "islower"};
const std::set<std::string> kDictMethods = {"get", "items", "keys", "values", "copy"};
const std::set<std::string> kListMethods = {"index", "count", "copy"};
// Python's mutating methods: an attribute, but the sandbox refuses to call them.
const std::set<std::string> kMutators = {"append", "extend", "insert", "pop", "remove", "reverse",
                                         "sort", "clear", "update", "setdefault", "popitem"};

Value dict_method(const Value& d, const std::string& m, const Args& a) {
  if (m == "get") {
    const Value* k = a.get(0, "key");
    if (!k) throw EvalError{"get expected at least 1 argument, got 0"};
    const Value* dflt = a.get(1, "default");
    if (const Value* v = d.dict->find(dict_key(*k))) return *v;
    return dflt ? *dflt : Value::none();
  }
  List out;
  for (const auto& kv : d.dict->items) {
    if (m == "items") out.push_back(Value::make_list({key_value(kv.first), kv.second}, true));
    else if (m == "keys") out.push_back(key_value(kv.first));
    else if (m == "values") out.push_back(kv.second);
  }
  if (m == "copy") return Value::make_dict(*d.dict);
  return Value::make_list(std::move(out));
}

Value list_method(const Value& l, const std::string& m, const Args& a) {
  if (m == "copy") return Value::make_list(*l.list, l.tuple);
  const Value* x = a.get(0, "value");
  if (!x) throw EvalError{m + "() takes exactly one argument"};
  int64_t n = 0;
  for (size_t k = 0; k < l.list->size(); ++k) {
    if (!equals((*l.list)[k], *x)) continue;
    if (m == "index") return Value::integer(static_cast<int64_t>(k));
    ++n;
  }
  if (m == "index") throw EvalError{repr(*x) + " is not in list"};
  return Value::integer(n);
}

Value bound(const Value& obj, const std::string& m) {
  const std::string owner = type_name(obj);
  if (kMutators.count(m))
    return Value::callable("<built-in method " + m + ">", [owner, m](const Args&) -> Value {
      throw EvalError{"access to attribute '" + m + "' of '" + owner +
                      "' object is unsafe (templates cannot modify values)"};
    });
  return Value::callable("<built-in method " + m + " of " + owner + " object>",
                         [obj, m](const Args& a) -> Value {
                           if (obj.kind == Kind::kString) return string_method(obj.s, m, a);
                           if (obj.kind == Kind::kDict) return dict_method(obj, m, a);
                           return list_method(obj, m, a);
                         });
}

bool has_method(const Value& obj, const std::string& m) {
  switch (obj.kind) {
    case Kind::kString: return kStrMethods.count(m) > 0;
    case Kind::kDict: return kDictMethods.count(m) > 0 || kMutators.count(m) > 0;
    case Kind::kList:
      return kListMethods.count(m) > 0 || (!obj.tuple && kMutators.count(m) > 0 && m != "update" &&
                                           m != "setdefault" && m != "popitem");
    default: return false;
  }
}

Value missing(const Value& obj, const std::string& what) {
  return Value::undefined("'" + std::string(type_name(obj)) + " object' has no attribute '" + what + "'");
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) undefined_error(obj);
  if (has_method(obj, name)) return bound(obj, name);
  if (obj.kind == Kind::kDict || obj.kind == Kind::kNamespace)
    if (const Value* v = obj.dict->find(name)) return *v;
  return missing(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.kind == Kind::kDict && key.kind != Kind::kString) {
    if (key.kind == Kind::kList || key.kind == Kind::kDict)  // unhashable: TypeError, so undefined
      return Value::undefined("'dict object' has no attribute " + repr(key));
    if (const Value* v = obj.dict->find(dict_key(key))) return *v;
    return Value::undefined("'dict object' has no attribute " + repr(key));
  }
  if (key.kind == Kind::kInt || key.kind == Kind::kBool) {
    int64_t i = key.kind == Kind::kBool ? key.b : key.i;
    if (obj.kind == Kind::kList || obj.kind == Kind::kString) {
      int64_t n = obj.kind == Kind::kList ? static_cast<int64_t>(obj.list->size()) : py_len(obj);
      int64_t j = i < 0 ? i + n : i;
      if (j >= 0 && j < n) {
        if (obj.kind == Kind::kList) return (*obj.list)[j];
        auto cps = to_cps(obj.s);
        return Value::string(from_cps(cps, j, j + 1));
      }
      return Value::undefined(std::string(type_name(obj)) + " object has no element " + std::to_string(i));
    }
    return Value::undefined("'" + std::string(type_name(obj)) + " object' has no attribute '" +
                            std::to_string(i) + "'");
  }
  if (key.kind == Kind::kString) {
    if (obj.kind == Kind::kDict || obj.kind == Kind::kNamespace)
      if (const Value* v = obj.dict->find(key.s)) return *v;
    return get_attr(obj, key.s);
  }
  return Value::undefined("'" + std::string(type_name(obj)) + " object' has no attribute " + repr(key));
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) undefined_error(obj);
  if (obj.kind != Kind::kList && obj.kind != Kind::kString)
    return Value::undefined(std::string(type_name(obj)) + " object is not subscriptable");
  auto opt = [](const Value& v, const char* what, bool& present) -> int64_t {
    present = !(v.is_undefined() || v.kind == Kind::kNone);
    return present ? as_int(v, what) : 0;
  };
  bool has_start, has_stop, has_step;
  int64_t a = opt(start, "slice start", has_start), b = opt(stop, "slice stop", has_stop),
          st = opt(step, "slice step", has_step);
  if (!has_step) st = 1;
  if (st == 0) throw EvalError{"slice step cannot be zero"};
  std::vector<char32_t> cps;
  if (obj.kind == Kind::kString) cps = to_cps(obj.s);
  const int64_t n = obj.kind == Kind::kList ? static_cast<int64_t>(obj.list->size())
                                            : static_cast<int64_t>(cps.size());
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](int64_t v, bool present, bool is_start) {
    if (!present) return is_start ? (st < 0 ? n - 1 : 0) : (st < 0 ? int64_t{-1} : n);
    if (v < 0) {
      v += n;
      if (v < 0) v = st < 0 ? -1 : 0;
    } else if (v >= n) {
      v = st < 0 ? n - 1 : n;
    }
    return v;
  };
  a = adjust(a, has_start, true);
  b = adjust(b, has_stop, false);
  List items;
  std::vector<char32_t> out_cps;
  for (int64_t i = a; st > 0 ? i < b : i > b; i += st) {
    if (obj.kind == Kind::kList) items.push_back((*obj.list)[i]);
    else out_cps.push_back(cps[i]);
  }
  if (obj.kind == Kind::kString) return Value::string(from_cps(out_cps));
  return Value::make_list(std::move(items), obj.tuple);
}

}  // namespace dkv::tokenizer::jinja
