// Renders a parsed Jinja2 template: statements, scoping and expression semantics as Jinja2's
// compiled code behaves (a for loop body is a fresh scope per iteration, if blocks share their
// parent's, macros see the template's top level), with HF's globals.
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "dkv/core/error.h"
#include "dkv/tokenizer/jinja.h"
#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_builtins.h"

namespace dkv::tokenizer::jinja {

namespace {

struct Scope {
  std::map<std::string, Value> vars;
  const Scope* parent = nullptr;

  const Value* find(const std::string& n) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->vars.find(n);
      if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
  }
};

[[noreturn]] void undefined_error(const Value& u) {
  throw EvalError{u.s.empty() ? "undefined value" : u.s};
}

int64_t int_value(const Value& v) { return v.kind == Kind::kBool ? v.b : v.i; }
double float_value(const Value& v) { return v.kind == Kind::kFloat ? v.f : static_cast<double>(int_value(v)); }

[[noreturn]] void bad_operands(const std::string& op, const Value& a, const Value& b) {
  throw EvalError{"unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" +
                  type_name(b) + "'"};
}

Value repeat(const Value& seq, int64_t n) {
  const size_t unit = seq.kind == Kind::kString ? seq.s.size() : seq.list->size();
  if (n > 0 && unit > 0 && static_cast<uint64_t>(n) > (size_t{64} << 20) / unit)
    throw EvalError{"sequence repetition past 64 MiB refused"};
  if (seq.kind == Kind::kString) {
    std::string out;
    for (int64_t k = 0; k < n; ++k) out += seq.s;
    return Value::string(out);
  }
  List out;
  for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
  return Value::make_list(std::move(out), seq.tuple);
}

// Python's binary operators (int stays int except for /; bool counts as int).
Value arith(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value::string(to_str(a) + to_str(b));
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && a.kind != Kind::kFloat && b.kind != Kind::kFloat;
  if (op == "+") {
    if (ints) return Value::integer(int_value(a) + int_value(b));
    if (nums) return Value::number(float_value(a) + float_value(b));
    if (a.kind == Kind::kString && b.kind == Kind::kString) return Value::string(a.s + b.s);
    if (a.kind == Kind::kList && b.kind == Kind::kList && a.tuple == b.tuple) {
      List out = *a.list;
      out.insert(out.end(), b.list->begin(), b.list->end());
      return Value::make_list(std::move(out), a.tuple);
    }
    if (a.kind == Kind::kString)
      throw EvalError{std::string("can only concatenate str (not \"") + type_name(b) + "\") to str"};
    bad_operands("+", a, b);
  }
  if (op == "*") {
    if (ints) return Value::integer(int_value(a) * int_value(b));
    if (nums) return Value::number(float_value(a) * float_value(b));
    bool a_seq = a.kind == Kind::kString || a.kind == Kind::kList;
    bool b_seq = b.kind == Kind::kString || b.kind == Kind::kList;
    if (a_seq && (b.kind == Kind::kInt || b.kind == Kind::kBool)) return repeat(a, int_value(b));
    if (b_seq && (a.kind == Kind::kInt || a.kind == Kind::kBool)) return repeat(b, int_value(a));
    bad_operands("*", a, b);
  }
  if (!nums) {
    if (op == "%" && a.kind == Kind::kString) return Value::string(py_percent_format(a.s, b));
    bad_operands(op, a, b);
  }
  if (op == "-") return ints ? Value::integer(int_value(a) - int_value(b)) : Value::number(float_value(a) - float_value(b));
  if (op == "**") {
    if (ints && int_value(b) >= 0) {
      int64_t r = 1, base = int_value(a);
      for (int64_t k = 0; k < int_value(b); ++k) r *= base;
      return Value::integer(r);
    }
    return Value::number(std::pow(float_value(a), float_value(b)));
  }
  if (float_value(b) == 0) throw EvalError{ints && op != "/" ? "integer division or modulo by zero" : "division by zero"};
  if (op == "/") return Value::number(float_value(a) / float_value(b));
  if (op == "//") {
    if (ints) {
      int64_t q = int_value(a) / int_value(b);
      if ((int_value(a) % int_value(b) != 0) && ((int_value(a) < 0) != (int_value(b) < 0))) --q;
      return Value::integer(q);
    }
    return Value::number(std::floor(float_value(a) / float_value(b)));
  }
  if (op == "%") {
    if (ints) {
      int64_t m = int_value(a) % int_value(b);
      if (m != 0 && ((m < 0) != (int_value(b) < 0))) m += int_value(b);
      return Value::integer(m);
    }
    double m = std::fmod(float_value(a), float_value(b));
    if (m != 0 && ((m < 0) != (float_value(b) < 0))) m += float_value(b);
    return Value::number(m);
  }
  throw EvalError{"unknown operator '" + op + "'"};
}

bool compare(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equals(a, b);
  if (op == "!=") return !equals(a, b);
  if (op == "in") return py_contains(b, a);
  if (op == "notin") return !py_contains(b, a);
  if (a.is_undefined()) undefined_error(a);
  if (b.is_undefined()) undefined_error(b);
  if (op == "<") return less(a, b);
  if (op == ">") return less(b, a);
  if (op == "<=") return less(a, b) || equals(a, b);
  return less(b, a) || equals(a, b);  // >=
}

class Renderer {
 public:
  explicit Renderer(const Program& p) : prog_(p) {}

  std::string run(const nlohmann::ordered_json& vars) {
    globals_.vars["raise_exception"] = Value::callable("<function raise_exception>", [](const Args& a) -> Value {
      // HF: raise TemplateError(message)
      throw EvalError{"chat template raised an exception: " + (a.pos.empty() ? std::string() : to_str(a.pos[0]))};
    });
    globals_.vars["namespace"] = Value::callable("<class 'jinja2.utils.Namespace'>", [](const Args& a) {
      Dict d;
      for (const Value& p : a.pos) {
        if (p.kind != Kind::kDict) throw EvalError{"namespace(): positional arguments must be mappings"};
        for (const auto& kv : p.dict->items) d.set(kv.first, kv.second);
      }
      for (const auto& kv : a.kw) d.set(kv.first, kv.second);
      return Value::make_namespace(std::move(d));
    });
    globals_.vars["dict"] = Value::callable("<class 'dict'>", [](const Args& a) {
      Dict d;
      for (const auto& kv : a.kw) d.set(kv.first, kv.second);
      return Value::make_dict(std::move(d));
    });
    globals_.vars["range"] = Value::callable("<class 'range'>", [](const Args& a) {
      auto n = [&](size_t i) {
        if (a.pos[i].kind != Kind::kInt && a.pos[i].kind != Kind::kBool) throw EvalError{"range(): integer arguments expected"};
        return int_value(a.pos[i]);
      };
      if (a.pos.empty() || a.pos.size() > 3) throw EvalError{"range expected 1 to 3 arguments"};
      int64_t start = a.pos.size() > 1 ? n(0) : 0, stop = a.pos.size() > 1 ? n(1) : n(0),
              step = a.pos.size() > 2 ? n(2) : 1;
      if (step == 0) throw EvalError{"range() arg 3 must not be zero"};
      List out;
      for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
        if (out.size() >= 100000) throw EvalError{"Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."};
        out.push_back(Value::integer(k));
      }
      return Value::make_list(std::move(out));
    });
    if (!vars.is_object()) throw InternalError("jinja render: vars must be a JSON object");
    for (auto it = vars.begin(); it != vars.end(); ++it) root_.vars[it.key()] = from_json(it.value());
    root_.parent = &globals_;
    std::string out;
    exec(prog_.body, root_, out);
    return out;
  }

 private:
  const Program& prog_;
  Scope globals_, root_;
  int macro_depth_ = 0;  // Python's recursion limit stops runaway macros in Jinja2
  int eval_depth_ = 0;   // bounds the C++ stack on trees the parser's limits still allow

  [[noreturn]] void fail(Pos ps, const std::string& msg) const {
    throw InputError(detail::concat(prog_.where, ":", ps.line, ":", ps.col, ": ", msg));
  }

  void exec(const Body& body, Scope& scope, std::string& out) {
    for (const auto& s : body) exec_one(*s, scope, out);
  }

  void bind(const Target& tg, const Value& v, Scope& scope, Pos ps) {
    if (!tg.tuple) {
      scope.vars[tg.names[0]] = v;
      return;
    }
    List parts;
    try {
      parts = iterate(v);
    } catch (const EvalError& e) {
      fail(ps, "cannot unpack: " + e.message);
    }
    if (parts.size() != tg.names.size())
      fail(ps, detail::concat("cannot unpack ", parts.size(), " values into ", tg.names.size(), " names"));
    for (size_t k = 0; k < parts.size(); ++k) scope.vars[tg.names[k]] = parts[k];
  }

  void exec_one(const Stmt& s, Scope& scope, std::string& out) {
    switch (s.kind) {
      case Stmt::kData: out += s.text; return;
      case Stmt::kOutput: out += to_str(eval(*s.expr, scope)); return;
      case Stmt::kIf:
        for (size_t k = 0; k < s.bodies.size(); ++k) {
          if (k < s.conditions.size() && !truthy(eval(*s.conditions[k], scope))) continue;
          exec(s.bodies[k], scope, out);
          return;
        }
        return;
      case Stmt::kFor: exec_for(s, scope, out); return;
      case Stmt::kSet: {
        Value v = eval(*s.expr, scope);
        if (!s.target.attr.empty()) {
          const Value* ns = scope.find(s.target.names[0]);
          if (!ns || ns->kind != Kind::kNamespace)
            fail(s.pos, "cannot assign attribute on non-namespace object '" + s.target.names[0] + "'");
          ns->dict->set(s.target.attr, std::move(v));
          return;
        }
        bind(s.target, v, scope, s.pos);
        return;
      }
      case Stmt::kSetBlock: {
        Scope inner{{}, &scope};
        std::string body;
        exec(s.bodies[0], inner, body);
        scope.vars[s.target.names[0]] = apply_body_filters(*s.expr, body, scope);
        return;
      }
      case Stmt::kFilterBlock: {
        Scope inner{{}, &scope};
        std::string body;
        exec(s.bodies[0], inner, body);
        out += to_str(apply_body_filters(*s.expr, body, scope));
        return;
      }
      case Stmt::kGeneration: {
        Scope inner{{}, &scope};
        exec(s.bodies[0], inner, out);
        return;
      }
      case Stmt::kWith: {
        Scope inner{{}, &scope};
        for (const auto& p : s.params) inner.vars[p.first] = eval(*p.second, scope);
        exec(s.bodies[0], inner, out);
        return;
      }
      case Stmt::kUnsupported: fail(s.pos, s.text);
      case Stmt::kMacro: {
        const Stmt* m = &s;
        scope.vars[s.text] = Value::callable("<Macro '" + s.text + "'>", [this, m](const Args& a) {
          return call_macro(*m, a);
        });
        return;
      }
    }
  }

  Value apply_body_filters(const Expr& chain, const std::string& body, const Scope& scope) {
    Scope holder{{{"\x01body", Value::string(body)}}, &scope};
    return eval(chain, holder);
  }

  Value call_macro(const Stmt& m, const Args& a) {
    struct Depth {
      int& d;
      ~Depth() { --d; }
    } depth{++macro_depth_};
    if (macro_depth_ > 100) throw EvalError{"maximum recursion depth exceeded in macro '" + m.text + "'"};
    Scope frame{{}, &root_};
    List varargs;
    for (size_t k = 0; k < a.pos.size(); ++k) {
      if (k < m.params.size()) frame.vars[m.params[k].first] = a.pos[k];
      else varargs.push_back(a.pos[k]);
    }
    Dict kwargs;
    for (const auto& kv : a.kw) {
      bool is_param = false;
      for (const auto& p : m.params) is_param |= p.first == kv.first;
      if (is_param) frame.vars[kv.first] = kv.second;
      else kwargs.set(kv.first, kv.second);
    }
    for (const auto& p : m.params) {
      if (frame.vars.count(p.first)) continue;
      frame.vars[p.first] = p.second ? eval(*p.second, frame)
                                     : Value::undefined("parameter '" + p.first + "' was not provided");
    }
    frame.vars["varargs"] = Value::make_list(std::move(varargs));
    frame.vars["kwargs"] = Value::make_dict(std::move(kwargs));
    std::string out;
    exec(m.bodies[0], frame, out);
    return Value::string(out);
  }

  void exec_for(const Stmt& s, Scope& scope, std::string& out) {
    Value seq = eval(*s.expr, scope);
    List items;
    try {
      items = iterate(seq);
    } catch (const EvalError& e) {
      fail(s.expr->pos, e.message);
    }
    if (s.loop_filter) {
      List kept;
      for (const Value& it : items) {
        Scope probe{{}, &scope};
        bind(s.target, it, probe, s.pos);
        if (truthy(eval(*s.loop_filter, probe))) kept.push_back(it);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      if (s.bodies.size() > 1) exec(s.bodies[1], scope, out);
      return;
    }
    const int64_t n = static_cast<int64_t>(items.size());
    auto shared_items = std::make_shared<List>(items);
    for (int64_t k = 0; k < n; ++k) {
      Scope iter{{}, &scope};
      bind(s.target, items[k], iter, s.pos);
      Dict loop;  // jinja2.runtime.LoopContext
      loop.set("index", Value::integer(k + 1));
      loop.set("index0", Value::integer(k));
      loop.set("revindex", Value::integer(n - k));
      loop.set("revindex0", Value::integer(n - k - 1));
      loop.set("first", Value::boolean(k == 0));
      loop.set("last", Value::boolean(k == n - 1));
      loop.set("length", Value::integer(n));
      loop.set("depth", Value::integer(1));
      loop.set("depth0", Value::integer(0));
      loop.set("previtem", k > 0 ? items[k - 1] : Value::undefined("there is no previous item"));
      loop.set("nextitem", k + 1 < n ? items[k + 1] : Value::undefined("there is no next item"));
      loop.set("cycle", Value::callable("<bound method LoopContext.cycle>", [k](const Args& a) {
        if (a.pos.empty()) throw EvalError{"no items for cycling given"};
        return a.pos[static_cast<size_t>(k) % a.pos.size()];
      }));
      iter.vars["loop"] = Value::make_dict(std::move(loop));
      exec(s.bodies[0], iter, out);
    }
  }

  Args eval_args(const Expr& e, size_t first, const Scope& scope) {
    Args a;
    for (size_t k = first; k < e.args.size(); ++k) a.pos.push_back(eval(*e.args[k], scope));
    for (const auto& kv : e.kwargs) a.kw.emplace_back(kv.first, eval(*kv.second, scope));
    return a;
  }

  // EvalErrors get the position of the innermost node they came from.
  Value eval(const Expr& e, const Scope& scope) {
    struct Depth {
      int& d;
      ~Depth() { --d; }
    } depth{++eval_depth_};
    try {
      if (eval_depth_ > 2000) throw EvalError{"expression nested too deeply to evaluate"};
      return eval_node(e, scope);
    } catch (const EvalError& err) {
      fail(e.pos, err.message);
    }
  }

  Value eval_node(const Expr& e, const Scope& scope) {
    switch (e.kind) {
      case Expr::kLiteral: return e.value;
      case Expr::kName: {
        const Value* v = scope.find(e.name);
        return v ? *v : Value::undefined("'" + e.name + "' is undefined");
      }
      case Expr::kList: {
        List xs;
        for (const auto& a : e.args) xs.push_back(eval(*a, scope));
        return Value::make_list(std::move(xs), e.is_tuple);
      }
      case Expr::kDict: {
        Dict d;
        for (const auto& kv : e.items) {
          Value k = eval(*kv.first, scope);
          d.set(dict_key(k), eval(*kv.second, scope));
        }
        return Value::make_dict(std::move(d));
      }
      case Expr::kGetAttr: return get_attr(eval(*e.args[0], scope), e.name);
      case Expr::kGetItem: {
        Value obj = eval(*e.args[0], scope);
        return get_item(obj, eval(*e.args[1], scope));
      }
      case Expr::kSlice: {
        Value obj = eval(*e.args[0], scope);
        Value parts[3];
        for (int k = 0; k < 3; ++k) parts[k] = e.args[k + 1] ? eval(*e.args[k + 1], scope) : Value::none();
        return get_slice(obj, parts[0], parts[1], parts[2]);
      }
      case Expr::kCall: {
        Value fn = eval(*e.args[0], scope);
        Args a = eval_args(e, 1, scope);
        if (fn.is_undefined()) undefined_error(fn);
        if (fn.kind != Kind::kCallable) throw EvalError{std::string("'") + type_name(fn) + "' object is not callable"};
        return fn.fn->fn(a);
      }
      case Expr::kFilter: {
        Value in = eval(*e.args[0], scope);
        return apply_filter(e.name, in, eval_args(e, 1, scope));
      }
      case Expr::kTest: {
        Value in = eval(*e.args[0], scope);
        return Value::boolean(apply_test(e.name, in, eval_args(e, 1, scope)) != e.negated);
      }
      case Expr::kNot: return Value::boolean(!truthy(eval(*e.args[0], scope)));
      case Expr::kNeg:
      case Expr::kPos: {
        Value v = eval(*e.args[0], scope);
        if (v.is_undefined()) undefined_error(v);
        if (!v.is_number()) throw EvalError{std::string("bad operand type for unary ") + (e.kind == Expr::kNeg ? "-" : "+") + ": '" + type_name(v) + "'"};
        if (e.kind == Expr::kPos) return v.kind == Kind::kBool ? Value::integer(v.b) : v;
        return v.kind == Kind::kFloat ? Value::number(-v.f) : Value::integer(-int_value(v));
      }
      case Expr::kBinary: {
        Value a = eval(*e.args[0], scope);
        return arith(e.name, a, eval(*e.args[1], scope));
      }
      case Expr::kCompare: {
        Value left = eval(*e.args[0], scope);
        for (size_t k = 0; k < e.ops.size(); ++k) {
          Value right = eval(*e.args[k + 1], scope);
          if (!compare(e.ops[k], left, right)) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case Expr::kAnd: {
        Value a = eval(*e.args[0], scope);
        return truthy(a) ? eval(*e.args[1], scope) : a;
      }
      case Expr::kOr: {
        Value a = eval(*e.args[0], scope);
        return truthy(a) ? a : eval(*e.args[1], scope);
      }
      case Expr::kCondExpr:
        if (truthy(eval(*e.args[0], scope))) return eval(*e.args[1], scope);
        if (e.args[2]) return eval(*e.args[2], scope);
        return Value::undefined(detail::concat("the inline if-expression on line ", e.pos.line,
                                               " evaluated to false and no else section was defined."));
      case Expr::kUnsupported: throw EvalError{e.name};
    }
    throw InternalError("jinja: unknown expression kind");
  }
};

// Jinja2 resolves filter and test names when it compiles the template: an unknown one is a
// TemplateAssertionError before anything renders, except in a "soft" frame (the branches of an
// if statement or an inline if, jinja2.compiler Frame.soft()), where it fails only if reached.
void check_names(const Expr& e, bool soft, const std::string& where) {
  if (e.kind == Expr::kCondExpr) soft = true;
  if (!soft && ((e.kind == Expr::kFilter && !has_filter(e.name)) || (e.kind == Expr::kTest && !has_test(e.name))))
    throw InputError(detail::concat(where, ":", e.pos.line, ":", e.pos.col, ": unknown ",
                                    e.kind == Expr::kFilter ? "filter" : "test", " '", e.name,
                                    "' (not a Jinja2 builtin dkv implements)"));
  for (const auto& a : e.args)
    if (a) check_names(*a, soft, where);
  for (const auto& kv : e.kwargs) check_names(*kv.second, soft, where);
  for (const auto& kv : e.items) {
    check_names(*kv.first, soft, where);
    check_names(*kv.second, soft, where);
  }
}

// Loop, macro and block bodies are inner frames, which are not soft again.
void check_names(const Body& body, bool soft, const std::string& where) {
  for (const auto& s : body) {
    if (s->expr) check_names(*s->expr, soft, where);
    if (s->loop_filter) check_names(*s->loop_filter, false, where);
    for (const auto& c : s->conditions) check_names(*c, true, where);  // kIf tests are soft too
    for (const auto& p : s->params)
      if (p.second) check_names(*p.second, s->kind == Stmt::kWith && soft, where);
    for (const auto& b : s->bodies) check_names(b, s->kind == Stmt::kIf, where);
  }
}

}  // namespace

Template Template::parse(const std::string& source, const std::string& where) {
  auto prog = parse_program(source, where);
  check_names(prog->body, false, where);
  Template t;
  t.program_ = std::move(prog);
  return t;
}

std::string Template::render(const nlohmann::ordered_json& vars) const {
  Renderer r(*program_);
  return r.run(vars);
}

}  // namespace dkv::tokenizer::jinja
