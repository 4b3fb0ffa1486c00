// Jinja2's builtin filters (jinja2/filters.py) and tests (jinja2/tests.py), each with Jinja2's
// argument names and defaults; `tojson` is HF's override (json.dumps, ensure_ascii=False).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "tokenizer/jinja_builtins.h"

namespace dkv::tokenizer::jinja {

namespace {

using FilterFn = std::function<Value(const Value&, const Args&)>;
using TestFn = std::function<bool(const Value&, const Args&)>;

const Value* arg(const Args& a, size_t i, const char* name) { return a.get(i, name); }

bool arg_bool(const Args& a, size_t i, const char* name, bool dflt) {
  const Value* v = a.get(i, name);
  return v ? truthy(*v) : dflt;
}

double as_double(const Value& v) {
  if (v.kind == Kind::kFloat) return v.f;
  if (v.kind == Kind::kInt) return static_cast<double>(v.i);
  if (v.kind == Kind::kBool) return v.b;
  throw EvalError{std::string("expected a number, got ") + type_name(v)};
}

// jinja2's make_attrgetter: "a.b.0" walks items; parts of digits are indices.
Value attr_path(const Value& item, const std::string& attribute) {
  Value cur = item;
  size_t b = 0;
  while (true) {
    size_t e = attribute.find('.', b);
    std::string part = attribute.substr(b, e == std::string::npos ? std::string::npos : e - b);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = get_item(cur, digits ? Value::integer(std::stoll(part)) : Value::string(part));
    if (e == std::string::npos) return cur;
    b = e + 1;
  }
}

// The sort/unique key: the attribute when given, lower-cased when case-insensitive (strings).
Value sort_key(const Value& item, const Value* attribute, bool case_sensitive) {
  Value k = attribute && attribute->kind != Kind::kNone ? attr_path(item, to_str(*attribute)) : item;
  if (!case_sensitive && k.kind == Kind::kString) k.s = py_lower(k.s);
  return k;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Python int(str): optional sign, digits with single underscores, surrounding whitespace.
bool parse_int(const std::string& text, int64_t& out) {
  std::string s = py_strip(text, nullptr, true, true), d;
  size_t k = 0;
  bool neg = false;
  if (k < s.size() && (s[k] == '+' || s[k] == '-')) neg = s[k++] == '-';
  for (; k < s.size(); ++k) {
    if (std::isdigit(static_cast<unsigned char>(s[k]))) d += s[k];
    else if (s[k] != '_' || d.empty() || k + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[k + 1]))) return false;
  }
  if (d.empty()) return false;
  out = std::strtoll(d.c_str(), nullptr, 10) * (neg ? -1 : 1);
  return true;
}

bool parse_float(const std::string& text, double& out) {
  std::string s = py_strip(text, nullptr, true, true);
  if (s.empty() || s.find('_') != std::string::npos) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// Python's round(x, n): the decimal nearest to the exact binary value, ties to even; glibc's
// printf rounds the exact value the same way.
double py_round(double x, int64_t n) {
  if (n < 0 || n > 300 || !std::isfinite(x)) {
    double m = std::pow(10.0, static_cast<double>(n));
    return std::nearbyint(x * m) / m;
  }
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(n), x);
  return std::strtod(buf, nullptr);
}

List filtered(const Value& seq, const Args& a, bool by_attr, bool keep_if) {
  List out;
  if (!truthy(seq)) return out;  // jinja2's select_or_reject: `if seq:`
  size_t first_test = by_attr ? 1 : 0;
  std::string attribute;
  if (by_attr) {
    const Value* at = arg(a, 0, "attr");
    if (!at) throw EvalError{"selectattr/rejectattr: missing the attribute name"};
    attribute = to_str(*at);
  }
  const Value* test = a.pos.size() > first_test ? &a.pos[first_test] : nullptr;
  Args targs;
  for (size_t k = first_test + 1; k < a.pos.size(); ++k) targs.pos.push_back(a.pos[k]);
  targs.kw = a.kw;
  for (const Value& item : iterate(seq)) {
    Value v = by_attr ? attr_path(item, attribute) : item;
    bool ok = test ? apply_test(to_str(*test), v, targs) : truthy(v);
    if (ok == keep_if) out.push_back(item);
  }
  return out;
}

const std::map<std::string, FilterFn>& filters() {
  static const std::map<std::string, FilterFn> kFilters = [] {
    std::map<std::string, FilterFn> f;
    f["abs"] = [](const Value& v, const Args&) {
      if (v.kind == Kind::kFloat) return Value::number(std::fabs(v.f));
      if (v.kind == Kind::kInt || v.kind == Kind::kBool) return Value::integer(std::llabs(v.kind == Kind::kBool ? v.b : v.i));
      throw EvalError{std::string("bad operand type for abs(): '") + type_name(v) + "'"};
    };
    f["attr"] = [](const Value& v, const Args& a) {
      const Value* n = arg(a, 0, "name");
      if (!n) throw EvalError{"attr: missing the attribute name"};
      return get_attr(v, to_str(*n));
    };
    f["capitalize"] = [](const Value& v, const Args&) { return Value::string(py_capitalize(to_str(v))); };
    f["length"] = [](const Value& v, const Args&) { return Value::integer(py_len(v)); };
    f["count"] = f["length"];
    f["default"] = [](const Value& v, const Args& a) {
      const Value* d = arg(a, 0, "default_value");
      bool boolean = arg_bool(a, 1, "boolean", false);
      if (v.is_undefined() || (boolean && !truthy(v))) return d ? *d : Value::string("");
      return v;
    };
    f["d"] = f["default"];
    f["dictsort"] = [](const Value& v, const Args& a) {
      if (v.kind != Kind::kDict) throw EvalError{"dictsort: expected a mapping"};
      bool cs = arg_bool(a, 0, "case_sensitive", false);
      const Value* by = arg(a, 1, "by");
      bool by_value = by && to_str(*by) == "value";
      if (by && !by_value && to_str(*by) != "key") throw EvalError{"You can only sort by either \"key\" or \"value\""};
      List items;
      for (const auto& kv : v.dict->items) items.push_back(Value::make_list({key_value(kv.first), kv.second}, true));
      bool rev = arg_bool(a, 2, "reverse", false);
      std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
        Value kx = sort_key((*x.list)[by_value ? 1 : 0], nullptr, cs), ky = sort_key((*y.list)[by_value ? 1 : 0], nullptr, cs);
        return rev ? less(ky, kx) : less(kx, ky);
      });
      return Value::make_list(std::move(items));
    };
    f["escape"] = [](const Value& v, const Args&) { return Value::string(html_escape(to_str(v))); };
    f["e"] = f["escape"];
    f["first"] = [](const Value& v, const Args&) {
      List xs = iterate(v);
      return xs.empty() ? Value::undefined("No first item, sequence was empty.") : xs.front();
    };
    f["last"] = [](const Value& v, const Args&) {
      List xs = iterate(v);
      return xs.empty() ? Value::undefined("No last item, sequence was empty.") : xs.back();
    };
    f["float"] = [](const Value& v, const Args& a) {
      const Value* d = arg(a, 0, "default");
      double x;
      if (v.is_number()) return Value::number(as_double(v));
      if (v.kind == Kind::kString && parse_float(v.s, x)) return Value::number(x);
      return d ? *d : Value::number(0.0);
    };
    f["int"] = [](const Value& v, const Args& a) {
      const Value* d = arg(a, 0, "default");
      if (arg(a, 1, "base")) throw EvalError{"int: the base argument is not supported"};
      if (v.kind == Kind::kInt || v.kind == Kind::kBool) return Value::integer(v.kind == Kind::kBool ? v.b : v.i);
      if (v.kind == Kind::kFloat && std::isfinite(v.f)) return Value::integer(static_cast<int64_t>(std::trunc(v.f)));
      if (v.kind == Kind::kString) {  // jinja2: int(value), else int(float(value)), else default
        int64_t i;
        double x;
        if (parse_int(v.s, i)) return Value::integer(i);
        if (parse_float(v.s, x) && std::isfinite(x)) return Value::integer(static_cast<int64_t>(std::trunc(x)));
      }
      return d ? *d : Value::integer(0);
    };
    f["format"] = [](const Value& v, const Args& a) {
      // jinja2 do_format: soft_str(value) % (kwargs or args)
      if (!a.kw.empty()) throw EvalError{"unsupported: format() with keyword arguments"};
      return Value::string(py_percent_format(to_str(v), Value::make_list(a.pos, true)));
    };
    f["indent"] = [](const Value& v, const Args& a) {
      const Value* w = arg(a, 0, "width");
      std::string ind = !w ? "    " : w->kind == Kind::kString ? w->s : std::string(std::max<int64_t>(as_double(*w), 0), ' ');
      bool first = arg_bool(a, 1, "first", false), blank = arg_bool(a, 2, "blank", false);
      // jinja2 3.1 do_indent: appends "\n" before splitlines, then indents the non-first lines
      // (blank ones too only with blank=True).
      auto lines = py_splitlines(to_str(v) + "\n");
      std::string rv;
      if (blank) {
        for (size_t k = 0; k < lines.size(); ++k) rv += (k ? "\n" + ind : "") + lines[k];
      } else {
        rv = lines.empty() ? "" : lines[0];
        for (size_t k = 1; k < lines.size(); ++k) rv += "\n" + (lines[k].empty() ? "" : ind + lines[k]);
      }
      return Value::string(first ? ind + rv : rv);
    };
    f["items"] = [](const Value& v, const Args&) {
      if (v.is_undefined()) return Value::make_list({});
      if (v.kind != Kind::kDict) throw EvalError{"Can only get item pairs from a mapping."};
      List out;
      for (const auto& kv : v.dict->items) out.push_back(Value::make_list({key_value(kv.first), kv.second}, true));
      return Value::make_list(std::move(out));
    };
    f["join"] = [](const Value& v, const Args& a) {
      const Value* d = arg(a, 0, "d");
      const Value* at = arg(a, 1, "attribute");
      std::string sep = d ? to_str(*d) : "", out;
      bool first = true;
      for (const Value& x : iterate(v)) {
        out += (first ? "" : sep) + to_str(at && at->kind != Kind::kNone ? attr_path(x, to_str(*at)) : x);
        first = false;
      }
      return Value::string(out);
    };
    f["list"] = [](const Value& v, const Args&) { return Value::make_list(iterate(v)); };
    f["lower"] = [](const Value& v, const Args&) { return Value::string(py_lower(to_str(v))); };
    f["upper"] = [](const Value& v, const Args&) { return Value::string(py_upper(to_str(v))); };
    f["title"] = [](const Value& v, const Args&) {
      // jinja2 do_title: split on runs of [-\s({[<], upper-case the first character of each
      // piece and lower-case the rest.
      auto cps = to_cps(to_str(v));
      auto sep = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || py_isspace(c); };
      std::string out;
      size_t k = 0;
      while (k < cps.size()) {
        size_t b = k;
        bool s = sep(cps[k]);
        while (k < cps.size() && sep(cps[k]) == s) ++k;
        out += py_upper(from_cps(cps, b, b + 1)) + py_lower(from_cps(cps, b + 1, k));
      }
      return Value::string(out);
    };
    f["trim"] = [](const Value& v, const Args& a) {
      return Value::string(py_strip(to_str(v), arg(a, 0, "chars"), true, true));
    };
    f["map"] = [](const Value& v, const Args& a) {
      List out;
      if (!truthy(v)) return Value::make_list(std::move(out));
      const Value* at = nullptr;
      const Value* dflt = nullptr;
      for (const auto& kv : a.kw) {
        if (kv.first == "attribute") at = &kv.second;
        else if (kv.first == "default") dflt = &kv.second;
      }
      if (at) {
        for (const Value& x : iterate(v)) {
          Value r = attr_path(x, to_str(*at));
          out.push_back(r.is_undefined() && dflt ? *dflt : r);
        }
        return Value::make_list(std::move(out));
      }
      if (a.pos.empty()) throw EvalError{"map requires a filter argument"};
      Args fa;
      fa.pos.assign(a.pos.begin() + 1, a.pos.end());
      fa.kw = a.kw;
      std::string name = to_str(a.pos[0]);
      for (const Value& x : iterate(v)) out.push_back(apply_filter(name, x, fa));
      return Value::make_list(std::move(out));
    };
    auto minmax = [](bool want_max) {
      return [want_max](const Value& v, const Args& a) {
        bool cs = arg_bool(a, 0, "case_sensitive", false);
        const Value* at = arg(a, 1, "attribute");
        List xs = iterate(v);
        if (xs.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
        size_t best = 0;
        for (size_t k = 1; k < xs.size(); ++k) {
          Value kb = sort_key(xs[best], at, cs), kk = sort_key(xs[k], at, cs);
          if (want_max ? less(kb, kk) : less(kk, kb)) best = k;
        }
        return xs[best];
      };
    };
    f["max"] = minmax(true);
    f["min"] = minmax(false);
    f["select"] = [](const Value& v, const Args& a) { return Value::make_list(filtered(v, a, false, true)); };
    f["reject"] = [](const Value& v, const Args& a) { return Value::make_list(filtered(v, a, false, false)); };
    f["selectattr"] = [](const Value& v, const Args& a) { return Value::make_list(filtered(v, a, true, true)); };
    f["rejectattr"] = [](const Value& v, const Args& a) { return Value::make_list(filtered(v, a, true, false)); };
    f["replace"] = [](const Value& v, const Args& a) {
      const Value* o = arg(a, 0, "old");
      const Value* n = arg(a, 1, "new");
      const Value* c = arg(a, 2, "count");
      if (!o || !n) throw EvalError{"replace: needs old and new"};
      return Value::string(py_replace(to_str(v), to_str(*o), to_str(*n),
                                      c && c->kind != Kind::kNone ? static_cast<int64_t>(as_double(*c)) : -1));
    };
    f["reverse"] = [](const Value& v, const Args&) {
      if (v.kind == Kind::kString) {
        auto cps = to_cps(v.s);
        std::reverse(cps.begin(), cps.end());
        return Value::string(from_cps(cps));
      }
      List xs = iterate(v);
      std::reverse(xs.begin(), xs.end());
      return Value::make_list(std::move(xs));
    };
    f["round"] = [](const Value& v, const Args& a) {
      const Value* p = arg(a, 0, "precision");
      const Value* m = arg(a, 1, "method");
      std::string method = m ? to_str(*m) : "common";
      int64_t prec = p ? static_cast<int64_t>(as_double(*p)) : 0;
      double x = as_double(v), s = std::pow(10.0, static_cast<double>(prec));
      if (method == "common") return Value::number(py_round(x, prec));
      if (method == "ceil") return Value::number(std::ceil(x * s) / s);
      if (method == "floor") return Value::number(std::floor(x * s) / s);
      throw EvalError{"method must be common, ceil or floor"};
    };
    f["safe"] = [](const Value& v, const Args&) { return v; };  // Markup: no effect without autoescape
    f["sort"] = [](const Value& v, const Args& a) {
      bool rev = arg_bool(a, 0, "reverse", false), cs = arg_bool(a, 1, "case_sensitive", false);
      const Value* at = arg(a, 2, "attribute");
      List xs = iterate(v);
      std::vector<Value> keys;
      for (const Value& x : xs) keys.push_back(sort_key(x, at, cs));
      std::vector<size_t> idx(xs.size());
      for (size_t k = 0; k < idx.size(); ++k) idx[k] = k;
      std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) {
        return rev ? less(keys[y], keys[x]) : less(keys[x], keys[y]);
      });
      List out;
      for (size_t k : idx) out.push_back(xs[k]);
      return Value::make_list(std::move(out));
    };
    f["string"] = [](const Value& v, const Args&) { return Value::string(to_str(v)); };
    f["sum"] = [](const Value& v, const Args& a) {
      const Value* at = arg(a, 0, "attribute");
      const Value* start = arg(a, 1, "start");
      bool is_float = start && start->kind == Kind::kFloat;
      double fs = start ? as_double(*start) : 0;
      int64_t is = start && !is_float ? static_cast<int64_t>(as_double(*start)) : 0;
      for (const Value& x : iterate(v)) {
        Value y = at && at->kind != Kind::kNone ? attr_path(x, to_str(*at)) : x;
        if (y.kind == Kind::kFloat) is_float = true;
        fs += as_double(y);
        if (!is_float) is += y.kind == Kind::kBool ? y.b : y.i;
      }
      return is_float ? Value::number(fs) : Value::integer(is);
    };
    f["tojson"] = [](const Value& v, const Args& a) {
      // HF: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
      return Value::string(json_dumps(v, arg_bool(a, 0, "ensure_ascii", false), arg(a, 1, "indent"),
                                      arg(a, 2, "separators"), arg_bool(a, 3, "sort_keys", false)));
    };
    f["unique"] = [](const Value& v, const Args& a) {
      bool cs = arg_bool(a, 0, "case_sensitive", false);
      const Value* at = arg(a, 1, "attribute");
      List out, seen;
      for (const Value& x : iterate(v)) {
        Value k = sort_key(x, at, cs);
        if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, k); })) continue;
        seen.push_back(k);
        out.push_back(x);
      }
      return Value::make_list(std::move(out));
    };
    f["wordcount"] = [](const Value& v, const Args&) {
      return Value::integer(static_cast<int64_t>(py_split(to_str(v), nullptr, -1).size()));
    };
    return f;
  }();
  return kFilters;
}

bool is_int(const Value& v) { return v.kind == Kind::kInt; }

int64_t int_of(const Value& v, const char* test) {
  if (v.kind == Kind::kInt) return v.i;
  if (v.kind == Kind::kBool) return v.b;
  throw EvalError{std::string("test '") + test + "' needs an integer, got " + type_name(v)};
}

const Value& test_arg(const Args& a, const char* test) {
  const Value* v = a.get(0, "other");
  if (!v) v = a.get(0, "num");
  if (!v) v = a.get(0, "seq");
  if (!v) throw EvalError{std::string("test '") + test + "' needs an argument"};
  return *v;
}

const std::map<std::string, TestFn>& tests() {
  static const std::map<std::string, TestFn> kTests = [] {
    std::map<std::string, TestFn> t;
    t["defined"] = [](const Value& v, const Args&) { return !v.is_undefined(); };
    t["undefined"] = [](const Value& v, const Args&) { return v.is_undefined(); };
    t["none"] = [](const Value& v, const Args&) { return v.kind == Kind::kNone; };
    t["boolean"] = [](const Value& v, const Args&) { return v.kind == Kind::kBool; };
    t["false"] = [](const Value& v, const Args&) { return v.kind == Kind::kBool && !v.b; };
    t["true"] = [](const Value& v, const Args&) { return v.kind == Kind::kBool && v.b; };
    t["integer"] = [](const Value& v, const Args&) { return is_int(v); };
    t["float"] = [](const Value& v, const Args&) { return v.kind == Kind::kFloat; };
    t["number"] = [](const Value& v, const Args&) { return v.is_number(); };  // bool is a Number
    t["string"] = [](const Value& v, const Args&) { return v.kind == Kind::kString; };
    t["mapping"] = [](const Value& v, const Args&) { return v.kind == Kind::kDict; };
    // Undefined defines __iter__ and __len__/__getitem__, so it is iterable and a sequence.
    t["iterable"] = [](const Value& v, const Args&) {
      return v.is_undefined() || v.kind == Kind::kString || v.kind == Kind::kList || v.kind == Kind::kDict;
    };
    t["sequence"] = t["iterable"];
    t["callable"] = [](const Value& v, const Args&) { return v.kind == Kind::kCallable; };
    t["escaped"] = [](const Value&, const Args&) { return false; };
    t["odd"] = [](const Value& v, const Args&) { return ((int_of(v, "odd") % 2) + 2) % 2 == 1; };
    t["even"] = [](const Value& v, const Args&) { return int_of(v, "even") % 2 == 0; };
    t["divisibleby"] = [](const Value& v, const Args& a) {
      int64_t n = int_of(test_arg(a, "divisibleby"), "divisibleby");
      if (n == 0) throw EvalError{"integer division or modulo by zero"};
      return int_of(v, "divisibleby") % n == 0;
    };
    t["eq"] = [](const Value& v, const Args& a) { return equals(v, test_arg(a, "eq")); };
    t["equalto"] = t["=="] = t["eq"];
    t["ne"] = [](const Value& v, const Args& a) { return !equals(v, test_arg(a, "ne")); };
    t["!="] = t["ne"];
    t["lt"] = [](const Value& v, const Args& a) { return less(v, test_arg(a, "lt")); };
    t["lessthan"] = t["<"] = t["lt"];
    t["le"] = [](const Value& v, const Args& a) { return !less(test_arg(a, "le"), v); };
    t["<="] = t["le"];
    t["gt"] = [](const Value& v, const Args& a) { return less(test_arg(a, "gt"), v); };
    t["greaterthan"] = t[">"] = t["gt"];
    t["ge"] = [](const Value& v, const Args& a) { return !less(v, test_arg(a, "ge")); };
    t[">="] = t["ge"];
    t["in"] = [](const Value& v, const Args& a) { return py_contains(test_arg(a, "in"), v); };
    t["sameas"] = [](const Value& v, const Args& a) {
      const Value& o = test_arg(a, "sameas");
      if (v.kind != o.kind) return false;
      switch (v.kind) {
        case Kind::kNone:
        case Kind::kUndefined: return true;
        case Kind::kBool: return v.b == o.b;
        case Kind::kList: return v.list == o.list;
        case Kind::kDict:
        case Kind::kNamespace: return v.dict == o.dict;
        default: return equals(v, o);  // small ints and interned strings are identical in CPython
      }
    };
    t["lower"] = [](const Value& v, const Args&) { return v.kind == Kind::kString && py_lower(v.s) == v.s; };
    t["upper"] = [](const Value& v, const Args&) { return v.kind == Kind::kString && py_upper(v.s) == v.s; };
    t["filter"] = [](const Value& v, const Args&) { return v.kind == Kind::kString && has_filter(v.s); };
    t["test"] = [](const Value& v, const Args&) { return v.kind == Kind::kString && has_test(v.s); };
    return t;
  }();
  return kTests;
}

}  // namespace

bool py_contains(const Value& container, const Value& item) {
  switch (container.kind) {
    case Kind::kUndefined: return false;  // iterates as empty
    case Kind::kString:
      if (item.kind != Kind::kString)
        throw EvalError{std::string("'in <string>' requires string as left operand, not ") + type_name(item)};
      return container.s.find(item.s) != std::string::npos;
    case Kind::kList:
      return std::any_of(container.list->begin(), container.list->end(),
                         [&](const Value& x) { return equals(x, item); });
    case Kind::kDict: return container.dict->find(dict_key(item)) != nullptr;
    default:
      throw EvalError{std::string("argument of type '") + type_name(container) + "' is not iterable"};
  }
}

bool has_filter(const std::string& name) { return filters().count(name) > 0; }
bool has_test(const std::string& name) { return tests().count(name) > 0; }

Value apply_filter(const std::string& name, const Value& input, const Args& args) {
  auto it = filters().find(name);
  if (it == filters().end()) throw EvalError{"unknown filter '" + name + "'"};
  return it->second(input, args);
}

bool apply_test(const std::string& name, const Value& input, const Args& args) {
  auto it = tests().find(name);
  if (it == tests().end()) throw EvalError{"unknown test '" + name + "'"};
  return it->second(input, args);
}

}  // namespace dkv::tokenizer::jinja
