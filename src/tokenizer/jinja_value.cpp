// Jinja2 values with Python's semantics: conversion from JSON, truthiness, str()/repr(),
// comparisons, iteration and HF's json.dumps-based tojson.
#include "tokenizer/jinja_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace dkv::tokenizer::jinja {

const Value* Dict::find(const std::string& key) const {
  for (const auto& kv : items)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

void Dict::set(const std::string& key, Value v) {
  for (auto& kv : items)
    if (kv.first == key) {
      kv.second = std::move(v);
      return;
    }
  items.emplace_back(key, std::move(v));
}

const Value* Args::get(size_t i, const char* name) const {
  if (i < pos.size()) return &pos[i];
  for (const auto& kv : kw)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

// Non-str keys are prefixed with a control byte no template text carries.
std::string dict_key(const Value& k) {
  switch (k.kind) {
    case Kind::kString: return k.s;
    case Kind::kBool: return "\x02" + std::to_string(int{k.b});
    case Kind::kInt: return "\x02" + std::to_string(k.i);
    case Kind::kFloat:
      if (std::isfinite(k.f) && k.f == std::trunc(k.f) && std::fabs(k.f) < 9e18)
        return "\x02" + std::to_string(static_cast<int64_t>(k.f));
      return "\x03" + py_float_repr(k.f);
    case Kind::kNone: return "\x04";
    default: throw EvalError{std::string("unhashable type: '") + type_name(k) + "'"};
  }
}

Value key_value(const std::string& s) {
  if (s.empty() || s[0] > '\x04' || s[0] < '\x02') return Value::string(s);
  if (s[0] == '\x02') return Value::integer(std::strtoll(s.c_str() + 1, nullptr, 10));
  if (s[0] == '\x03') return Value::number(std::strtod(s.c_str() + 1, nullptr));
  return Value::none();
}

Value Value::make_list(List xs, bool is_tuple) {
  Value v;
  v.kind = Kind::kList;
  v.tuple = is_tuple;
  v.list = std::make_shared<List>(std::move(xs));
  return v;
}

Value Value::make_dict(Dict d) {
  Value v;
  v.kind = Kind::kDict;
  v.dict = std::make_shared<Dict>(std::move(d));
  return v;
}

Value Value::make_namespace(Dict d) {
  Value v = make_dict(std::move(d));
  v.kind = Kind::kNamespace;
  return v;
}

Value Value::callable(std::string name, std::function<Value(const Args&)> fn) {
  Value v;
  v.kind = Kind::kCallable;
  v.fn = std::make_shared<Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

Value from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List xs;
      for (const auto& e : j) xs.push_back(from_json(e));
      return Value::make_list(std::move(xs));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), from_json(it.value()));
      return Value::make_dict(std::move(d));
    }
    default: throw EvalError{"unsupported JSON value for a template variable"};
  }
}

const char* type_name(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return v.tuple ? "tuple" : "list";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kCallable: return "function";
  }
  return "?";
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return v.b;
    case Kind::kInt: return v.i != 0;
    case Kind::kFloat: return v.f != 0;
    case Kind::kString: return !v.s.empty();
    case Kind::kList: return !v.list->empty();
    case Kind::kDict: return !v.dict->items.empty();
    case Kind::kNamespace:
    case Kind::kCallable: return true;
  }
  return false;
}

// Python's float.__repr__: the shortest digit string that round-trips, in fixed notation for
// decimal exponents -4 <= e < 16 and scientific ("1e+16", "1e-05") otherwise.
std::string py_float_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[40];
  int prec = 1;
  for (; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  std::string s(buf);
  bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  size_t e = s.find('e');
  int exp10 = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t k = 0; k < e; ++k)
    if (s[k] != '.') digits += s[k];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int decpt = exp10 + 1;
  std::string out;
  if (decpt <= -4 || decpt > 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[8];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += eb;
  } else if (decpt <= 0) {
    out = "0." + std::string(-decpt, '0') + digits;
  } else if (decpt >= static_cast<int>(digits.size())) {
    out = digits + std::string(decpt - digits.size(), '0') + ".0";
  } else {
    out = digits.substr(0, decpt) + "." + digits.substr(decpt);
  }
  return neg ? "-" + out : out;
}

namespace {

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Python's unicode_repr: single quotes unless the text has ' and no ", escapes for the quote,
// backslash, \t \n \r and for characters str.isprintable() rejects.
std::string repr_string(const std::string& s) {
  const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (char32_t c : to_cps(s)) {
    char buf[16];
    if (c == static_cast<char32_t>(q) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c < 0x7F || py_isprintable(c)) {
      append_utf8(out, c);
    } else {
      if (c <= 0xFF)
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      else if (c <= 0xFFFF)
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      else
        std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out + q;
}

std::string repr_items(const List& xs) {
  std::string out;
  for (size_t k = 0; k < xs.size(); ++k) out += (k ? ", " : "") + repr(xs[k]);
  return out;
}

std::string repr_dict(const Dict& d) {
  std::string out = "{";
  for (size_t k = 0; k < d.items.size(); ++k)
    out += (k ? ", " : "") + repr(key_value(d.items[k].first)) + ": " + repr(d.items[k].second);
  return out + "}";
}

}  // namespace

std::string repr(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "None";
    case Kind::kBool: return v.b ? "True" : "False";
    case Kind::kInt: return std::to_string(v.i);
    case Kind::kFloat: return py_float_repr(v.f);
    case Kind::kString: return repr_string(v.s);
    case Kind::kList:
      if (v.tuple) return "(" + repr_items(*v.list) + (v.list->size() == 1 ? ",)" : ")");
      return "[" + repr_items(*v.list) + "]";
    case Kind::kDict: return repr_dict(*v.dict);
    case Kind::kNamespace: return "<Namespace " + repr_dict(*v.dict) + ">";
    case Kind::kCallable: return v.fn->name;
  }
  return "?";
}

std::string to_str(const Value& v) {
  if (v.kind == Kind::kUndefined) return "";
  if (v.kind == Kind::kString) return v.s;
  return repr(v);
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind == Kind::kFloat || b.kind == Kind::kFloat) {
      auto d = [](const Value& x) {
        return x.kind == Kind::kFloat ? x.f : static_cast<double>(x.kind == Kind::kBool ? x.b : x.i);
      };
      return d(a) == d(b);
    }
    auto n = [](const Value& x) { return x.kind == Kind::kBool ? int64_t{x.b} : x.i; };
    return n(a) == n(b);
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return a.s == b.s;
    case Kind::kList:
      if (a.tuple != b.tuple || a.list->size() != b.list->size()) return false;
      for (size_t k = 0; k < a.list->size(); ++k)
        if (!equals((*a.list)[k], (*b.list)[k])) return false;
      return true;
    case Kind::kDict:
      if (a.dict->items.size() != b.dict->items.size()) return false;
      for (const auto& kv : a.dict->items) {
        const Value* o = b.dict->find(kv.first);
        if (!o || !equals(kv.second, *o)) return false;
      }
      return true;
    case Kind::kNamespace: return a.dict == b.dict;
    case Kind::kCallable: return a.fn == b.fn;
    default: return false;
  }
}

bool less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    auto d = [](const Value& x) {
      return x.kind == Kind::kFloat ? x.f : static_cast<double>(x.kind == Kind::kBool ? x.b : x.i);
    };
    if (a.kind != Kind::kFloat && b.kind != Kind::kFloat) {
      auto n = [](const Value& x) { return x.kind == Kind::kBool ? int64_t{x.b} : x.i; };
      return n(a) < n(b);
    }
    return d(a) < d(b);
  }
  if (a.kind == Kind::kString && b.kind == Kind::kString) return a.s < b.s;  // UTF-8 order = code point order
  if (a.kind == Kind::kList && b.kind == Kind::kList && a.tuple == b.tuple) {
    const List &x = *a.list, &y = *b.list;
    for (size_t k = 0; k < x.size() && k < y.size(); ++k) {
      if (equals(x[k], y[k])) continue;
      return less(x[k], y[k]);
    }
    return x.size() < y.size();
  }
  throw EvalError{std::string("'<' not supported between instances of '") + type_name(a) +
                  "' and '" + type_name(b) + "'"};
}

List iterate(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return {};
    case Kind::kList: return *v.list;
    case Kind::kDict: {
      List keys;
      for (const auto& kv : v.dict->items) keys.push_back(key_value(kv.first));
      return keys;
    }
    case Kind::kString: {
      List chars;
      for (char32_t c : to_cps(v.s)) {
        std::string one;
        append_utf8(one, c);
        chars.push_back(Value::string(std::move(one)));
      }
      return chars;
    }
    default: throw EvalError{std::string("'") + type_name(v) + "' object is not iterable"};
  }
}

int64_t py_len(const Value& v) {
  switch (v.kind) {
    case Kind::kUndefined: return 0;
    case Kind::kString: return static_cast<int64_t>(to_cps(v.s).size());
    case Kind::kList: return static_cast<int64_t>(v.list->size());
    case Kind::kDict: return static_cast<int64_t>(v.dict->items.size());
    default: throw EvalError{std::string("object of type '") + type_name(v) + "' has no len()"};
  }
}

std::vector<char32_t> to_cps(const std::string& s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t k = 0; k < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[k]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || k + n > s.size()) {  // not UTF-8: kept as U+FFFD, as Python's 'replace'
      out.push_back(0xFFFD);
      ++k;
      continue;
    }
    char32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (int m = 1; m < n; ++m) cp = (cp << 6) | (static_cast<unsigned char>(s[k + m]) & 0x3F);
    out.push_back(cp);
    k += n;
  }
  return out;
}

std::string from_cps(const std::vector<char32_t>& cps, size_t begin, size_t end) {
  std::string out;
  end = std::min(end, cps.size());
  for (size_t k = begin; k < end; ++k) append_utf8(out, cps[k]);
  return out;
}

namespace {

// Python json's py_encode_basestring(_ascii): the escapes json.dumps writes.
std::string json_string(const std::string& s, bool ensure_ascii) {
  std::string out = "\"";
  char buf[16];
  for (char32_t c : to_cps(s)) {
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c > 0x7E && c != 0x7F)) {
      if (c >= 0x10000) {
        char32_t v = c - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 | (v >> 10)),
                      static_cast<unsigned>(0xDC00 | (v & 0x3FF)));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      }
      out += buf;
    } else {
      append_utf8(out, c);
    }
  }
  return out + "\"";
}

struct JsonStyle {
  bool ensure_ascii, sort_keys, pretty;
  std::string indent, item_sep, key_sep;
};

void dump(const Value& v, const JsonStyle& st, int level, std::string& out) {
  auto newline = [&](int lv) {
    out += "\n";
    for (int k = 0; k < lv; ++k) out += st.indent;
  };
  switch (v.kind) {
    case Kind::kNone: out += "null"; return;
    case Kind::kBool: out += v.b ? "true" : "false"; return;
    case Kind::kInt: out += std::to_string(v.i); return;
    case Kind::kFloat:
      if (std::isnan(v.f)) out += "NaN";
      else if (std::isinf(v.f)) out += v.f > 0 ? "Infinity" : "-Infinity";
      else out += py_float_repr(v.f);
      return;
    case Kind::kString: out += json_string(v.s, st.ensure_ascii); return;
    case Kind::kList: {
      if (v.list->empty()) { out += "[]"; return; }
      out += "[";
      for (size_t k = 0; k < v.list->size(); ++k) {
        if (k) out += st.item_sep;
        if (st.pretty) newline(level + 1);
        dump((*v.list)[k], st, level + 1, out);
      }
      if (st.pretty) newline(level);
      out += "]";
      return;
    }
    case Kind::kDict: {
      if (v.dict->items.empty()) { out += "{}"; return; }
      auto items = v.dict->items;
      if (st.sort_keys)
        std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
          return less(key_value(a.first), key_value(b.first));
        });
      out += "{";
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += st.item_sep;
        if (st.pretty) newline(level + 1);
        const Value key = key_value(items[k].first);
        std::string key_text = key.kind == Kind::kString ? key.s : key.kind == Kind::kNone ? "null"
                             : key.kind == Kind::kInt ? std::to_string(key.i) : py_float_repr(key.f);
        out += json_string(key_text, st.ensure_ascii) + st.key_sep;
        dump(items[k].second, st, level + 1, out);
      }
      if (st.pretty) newline(level);
      out += "}";
      return;
    }
    default:
      throw EvalError{std::string("Object of type ") + type_name(v) + " is not JSON serializable"};
  }
}

}  // namespace

std::string json_dumps(const Value& v, bool ensure_ascii, const Value* indent,
                       const Value* separators, bool sort_keys) {
  JsonStyle st{ensure_ascii, sort_keys, false, "", ", ", ": "};
  if (indent && indent->kind != Kind::kNone) {
    st.pretty = true;
    st.item_sep = ",";  // json.dumps: (',', ': ') when indent is not None
    if (indent->kind == Kind::kString) st.indent = indent->s;
    else if (indent->kind == Kind::kInt) st.indent = std::string(std::max<int64_t>(indent->i, 0), ' ');
    else throw EvalError{"tojson: indent must be an int or a string"};
  }
  if (separators && separators->kind != Kind::kNone) {
    if (separators->kind != Kind::kList || separators->list->size() != 2 ||
        (*separators->list)[0].kind != Kind::kString || (*separators->list)[1].kind != Kind::kString)
      throw EvalError{"tojson: separators must be a pair of strings"};
    st.item_sep = (*separators->list)[0].s;
    st.key_sep = (*separators->list)[1].s;
  }
  std::string out;
  dump(v, st, 0, out);
  return out;
}

}  // namespace dkv::tokenizer::jinja
