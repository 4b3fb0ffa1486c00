// The Jinja2 parser (jinja2/parser.py), expressions, with Jinja2's precedence: condexpr < or <
// and < not < compare < + - < ~ < * / // % < ** < unary, then postfix (attribute, subscript,
// slice, call), filters and tests.
#include "tokenizer/jinja_parser.h"

namespace dkv::tokenizer::jinja {

// parse_tuple: `a, b` without brackets is a tuple (in {{ }}, set, if and for).
ExprPtr Parser::parse_tuple(bool with_condexpr, bool explicit_parens) {
  Pos ps = cur().pos;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) {
      if (!skip_op(",")) break;
      is_tuple = true;
    }
    if (explicit_parens && is_op(")")) break;
    if (!items.empty() && (cur().type == Token::kVarEnd || cur().type == Token::kBlockEnd ||
                           is_name("if") || is_name("in")))
      break;
    items.push_back(with_condexpr ? parse_expression() : parse_or());
  }
  if (!is_tuple) {
    if (items.empty()) {
      if (!explicit_parens) fail(ps, "expected an expression, got " + describe(cur()));
      is_tuple = true;  // "()" is the empty tuple
    } else {
      return std::move(items[0]);
    }
  }
  auto e = make(Expr::kList, ps);
  e->is_tuple = true;
  e->args = std::move(items);
  return e;
}

ExprPtr Parser::parse_expression() {
  Nest nest(*this, cur().pos);
  ExprPtr e = parse_or();
  int n = 0;
  while (is_name("if")) {
    link(n);
    Pos ps = cur().pos;
    next();
    auto c = make(Expr::kCondExpr, ps);
    c->args.push_back(parse_or());
    c->args.push_back(std::move(e));
    if (is_name("else")) {
      next();
      c->args.push_back(parse_expression());
    } else {
      c->args.push_back(nullptr);
    }
    e = std::move(c);
  }
  return e;
}

ExprPtr Parser::binary(Expr::Kind k, Pos ps, ExprPtr a, ExprPtr b, std::string op) {
  auto e = make(k, ps);
  e->name = std::move(op);
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

ExprPtr Parser::parse_or() {
  ExprPtr e = parse_and();
  int n = 0;
  while (is_name("or")) {
    link(n);
    Pos ps = next().pos;
    e = binary(Expr::kOr, ps, std::move(e), parse_and());
  }
  return e;
}

ExprPtr Parser::parse_and() {
  ExprPtr e = parse_not();
  int n = 0;
  while (is_name("and")) {
    link(n);
    Pos ps = next().pos;
    e = binary(Expr::kAnd, ps, std::move(e), parse_not());
  }
  return e;
}

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    Nest nest(*this, cur().pos);
    auto e = make(Expr::kNot, next().pos);
    e->args.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
  Pos ps = cur().pos;
  ExprPtr e = parse_math1();
  std::vector<ExprPtr> operands;
  std::vector<std::string> ops;
  while (true) {
    std::string op;
    if (cur().type == Token::kOp &&
        (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
         cur().text == ">" || cur().text == ">=")) {
      op = next().text;
    } else if (is_name("in")) {
      next();
      op = "in";
    } else if (is_name("not") && peek().type == Token::kName && peek().text == "in") {
      next();
      next();
      op = "notin";
    } else {
      break;
    }
    if (operands.empty()) operands.push_back(std::move(e));
    ops.push_back(op);
    if (static_cast<int>(ops.size()) > kMaxChain) fail(cur().pos, "too many chained comparisons");
    operands.push_back(parse_math1());
  }
  if (ops.empty()) return e;
  auto c = make(Expr::kCompare, ps);
  c->args = std::move(operands);
  c->ops = std::move(ops);
  return c;
}

ExprPtr Parser::parse_math1() {
  ExprPtr e = parse_concat();
  int n = 0;
  while (is_op("+") || is_op("-")) {
    link(n);
    Token op = next();
    e = binary(Expr::kBinary, op.pos, std::move(e), parse_concat(), op.text);
  }
  return e;
}

ExprPtr Parser::parse_concat() {
  ExprPtr e = parse_math2();
  int n = 0;
  while (is_op("~")) {
    link(n);
    Token op = next();
    e = binary(Expr::kBinary, op.pos, std::move(e), parse_math2(), "~");
  }
  return e;
}

ExprPtr Parser::parse_math2() {
  ExprPtr e = parse_pow();
  int n = 0;
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    link(n);
    Token op = next();
    e = binary(Expr::kBinary, op.pos, std::move(e), parse_pow(), op.text);
  }
  return e;
}

ExprPtr Parser::parse_pow() {
  ExprPtr e = parse_unary(true);
  int n = 0;
  while (is_op("**")) {
    link(n);
    Token op = next();
    e = binary(Expr::kBinary, op.pos, std::move(e), parse_unary(true), "**");
  }
  return e;
}

ExprPtr Parser::parse_unary(bool with_filter) {
  Nest nest(*this, cur().pos);
  ExprPtr e;
  if (is_op("-") || is_op("+")) {
    Token op = next();
    e = make(op.text == "-" ? Expr::kNeg : Expr::kPos, op.pos);
    e->args.push_back(parse_unary(false));
  } else {
    e = parse_primary();
  }
  e = parse_postfix(std::move(e));
  if (with_filter) e = parse_filter_expr(std::move(e));
  return e;
}

ExprPtr Parser::parse_primary() {
  const Token tok = cur();
  switch (tok.type) {
    case Token::kName: {
      next();
      auto e = make(Expr::kLiteral, tok.pos);
      const std::string& n = tok.text;
      if (n == "true" || n == "True") e->value = Value::boolean(true);
      else if (n == "false" || n == "False") e->value = Value::boolean(false);
      else if (n == "none" || n == "None") e->value = Value::none();
      else {
        e->kind = Expr::kName;
        e->name = n;
      }
      return e;
    }
    case Token::kString: {
      std::string s;
      while (cur().type == Token::kString) s += next().text;  // adjacent literals concatenate
      auto e = make(Expr::kLiteral, tok.pos);
      e->value = Value::string(std::move(s));
      return e;
    }
    case Token::kInt:
    case Token::kFloat: {
      next();
      auto e = make(Expr::kLiteral, tok.pos);
      e->value = tok.type == Token::kInt ? Value::integer(tok.i) : Value::number(tok.f);
      return e;
    }
    case Token::kOp:
      if (tok.text == "(") {
        next();
        ExprPtr e = parse_tuple(true, true);
        expect_op(")");
        return e;
      }
      if (tok.text == "[") {
        next();
        auto e = make(Expr::kList, tok.pos);
        while (!is_op("]")) {
          if (!e->args.empty()) expect_op(",");
          if (is_op("]")) break;
          e->args.push_back(parse_expression());
        }
        expect_op("]");
        return e;
      }
      if (tok.text == "{") {
        next();
        auto e = make(Expr::kDict, tok.pos);
        while (!is_op("}")) {
          if (!e->items.empty()) expect_op(",");
          if (is_op("}")) break;
          ExprPtr key = parse_expression();
          expect_op(":");
          e->items.emplace_back(std::move(key), parse_expression());
        }
        expect_op("}");
        return e;
      }
      break;
    default: break;
  }
  fail(tok.pos, "unexpected " + describe(tok) + " in an expression");
}

ExprPtr Parser::parse_postfix(ExprPtr e) {
  for (int n = 0;; link(n)) {
    if (is_op(".") || is_op("[")) e = parse_subscript(std::move(e));
    else if (is_op("(")) e = parse_call(std::move(e));
    else return e;
  }
}

ExprPtr Parser::parse_filter_expr(ExprPtr e) {
  for (int n = 0;; link(n)) {
    if (is_op("|")) e = parse_filter(std::move(e), true);
    else if (is_name("is")) e = parse_test(std::move(e));
    else if (is_op("(")) e = parse_call(std::move(e));
    else return e;
  }
}

ExprPtr Parser::parse_subscript(ExprPtr e) {
  Token tok = next();
  if (tok.text == ".") {
    if (cur().type == Token::kName) {
      auto g = make(Expr::kGetAttr, tok.pos);
      g->name = next().text;
      g->args.push_back(std::move(e));
      return g;
    }
    if (cur().type == Token::kInt) {
      auto g = make(Expr::kGetItem, tok.pos);
      auto idx = make(Expr::kLiteral, cur().pos);
      idx->value = Value::integer(next().i);
      g->args.push_back(std::move(e));
      g->args.push_back(std::move(idx));
      return g;
    }
    fail(cur().pos, "expected an attribute name after '.', got " + describe(cur()));
  }
  // '[': an index or a slice.
  ExprPtr parts[3];
  bool slice = false;
  int part = 0;
  while (!is_op("]")) {
    if (is_op(":")) {
      next();
      slice = true;
      if (++part > 2) fail(tok.pos, "too many ':' in a slice");
      continue;
    }
    if (is_op(",")) fail(cur().pos, "unsupported: tuple subscripts");
    if (parts[part]) fail(cur().pos, "expected ']' or ':', got " + describe(cur()));
    parts[part] = parse_expression();
  }
  expect_op("]");
  if (!slice) {
    if (!parts[0]) fail(tok.pos, "empty subscript");
    auto g = make(Expr::kGetItem, tok.pos);
    g->args.push_back(std::move(e));
    g->args.push_back(std::move(parts[0]));
    return g;
  }
  auto g = make(Expr::kSlice, tok.pos);
  g->args.push_back(std::move(e));
  for (auto& p : parts) g->args.push_back(std::move(p));
  return g;
}

void Parser::parse_args(Expr& e) {
  expect_op("(");
  bool any = false;
  while (!is_op(")")) {
    if (any) expect_op(",");
    if (is_op(")")) break;
    any = true;
    if (is_op("*") || is_op("**")) {  // parsed, refused when evaluated
      next();
      parse_expression();
      e.kind = Expr::kUnsupported;
      e.name = "unsupported: *args / **kwargs in a call";
      continue;
    }
    if (cur().type == Token::kName && peek().type == Token::kOp && peek().text == "=") {
      std::string key = next().text;
      next();
      e.kwargs.emplace_back(key, parse_expression());
    } else {
      if (!e.kwargs.empty()) fail(cur().pos, "positional argument after a keyword argument");
      e.args.push_back(parse_expression());
    }
  }
  expect_op(")");
}

ExprPtr Parser::parse_call(ExprPtr callee) {
  auto c = make(Expr::kCall, cur().pos);
  c->args.push_back(std::move(callee));
  parse_args(*c);
  return c;
}

// `| name(args)`; with `single` one filter, else the whole chain `| a | b`.
ExprPtr Parser::parse_filter(ExprPtr e, bool single) {
  do {
    if (!skip_op("|") && single) fail(cur().pos, "expected '|'");
    auto f = make(Expr::kFilter, cur().pos);
    f->name = expect_name();
    while (is_op(".")) {
      next();
      f->name += "." + expect_name();
    }
    f->args.push_back(std::move(e));
    if (is_op("(")) parse_args(*f);
    e = std::move(f);
  } while (!single && is_op("|"));
  return e;
}

ExprPtr Parser::parse_test(ExprPtr e) {
  next();  // 'is'
  auto t = make(Expr::kTest, cur().pos);
  if (is_name("not")) {
    next();
    t->negated = true;
  }
  t->name = expect_name();
  t->args.push_back(std::move(e));
  if (is_op("(")) {
    parse_args(*t);
  } else if ((cur().type == Token::kName || cur().type == Token::kString || cur().type == Token::kInt ||
              cur().type == Token::kFloat || is_op("(") || is_op("[") || is_op("{")) &&
             !is_name("else") && !is_name("or") && !is_name("and")) {
    // jinja2: `x is divisibleby 3`, `x is sameas none`: one argument without parentheses
    t->args.push_back(parse_postfix(parse_primary()));
  }
  return t;
}

}  // namespace dkv::tokenizer::jinja
