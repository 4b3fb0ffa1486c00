// The Jinja2 parser (jinja2/parser.py): statements and the expression grammar with Jinja2's
// precedence (condexpr < or < and < not < compare < + - < ~ < * / // % < ** < unary, then
// postfix, filters and tests). Tags Jinja2 knows but dkv does not implement are rejected by name.
#include <set>

#include "dkv/core/error.h"
#include "tokenizer/jinja_ast.h"

namespace dkv::tokenizer::jinja {

namespace {

class Parser {
 public:
  Parser(std::vector<Token> toks, const std::string& where) : t_(std::move(toks)), where_(where) {}

  Body parse_all() {
    Body body = parse_body({});
    if (cur().type != Token::kEof) fail(cur().pos, "unexpected '{% " + end_tag_ + " %}'");
    return body;
  }

 private:
  std::vector<Token> t_;
  size_t k_ = 0;
  const std::string& where_;
  std::string end_tag_;  // the tag that ended the last parse_body
  // Templates come from model files (untrusted): nesting and operator chains are bounded so
  // that parsing, evaluating and freeing the tree cannot exhaust the stack.
  static constexpr int kMaxNesting = 200, kMaxChain = 200;
  int depth_ = 0;

  struct Nest {
    Parser& p;
    Nest(Parser& parser, Pos ps) : p(parser) {
      if (++p.depth_ > kMaxNesting)
        p.fail(ps, "template nested more than " + std::to_string(kMaxNesting) + " levels deep");
    }
    ~Nest() { --p.depth_; }
  };
  void link(int& n) const {
    if (++n > kMaxChain) fail(cur().pos, "expression chains more than " + std::to_string(kMaxChain) + " operators");
  }

  const Token& cur() const { return t_[k_]; }
  const Token& peek(size_t n = 1) const { return t_[std::min(k_ + n, t_.size() - 1)]; }
  Token next() { return t_[k_ < t_.size() - 1 ? k_++ : k_]; }

  [[noreturn]] void fail(Pos ps, const std::string& msg) const {
    throw InputError(detail::concat(where_, ":", ps.line, ":", ps.col, ": ", msg));
  }

  static std::string describe(const Token& tok) {
    switch (tok.type) {
      case Token::kData: return "template data";
      case Token::kVarBegin: return "'{{'";
      case Token::kVarEnd: return "'}}'";
      case Token::kBlockBegin: return "'{%'";
      case Token::kBlockEnd: return "'%}'";
      case Token::kName: return "'" + tok.text + "'";
      case Token::kString: return "a string";
      case Token::kInt:
      case Token::kFloat: return "a number";
      case Token::kOp: return "'" + tok.text + "'";
      case Token::kEof: return "the end of the template";
    }
    return "?";
  }

  bool is_op(const char* op) const { return cur().type == Token::kOp && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == Token::kName && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) fail(cur().pos, std::string("expected '") + op + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().type != Token::kName) fail(cur().pos, "expected a name, got " + describe(cur()));
    return next().text;
  }
  void expect_block_end() {
    if (cur().type != Token::kBlockEnd) fail(cur().pos, "expected '%}', got " + describe(cur()));
    next();
  }

  // Statements up to one of `ends` (a block tag name), which is consumed into end_tag_ with
  // its '{%' but not its '%}'.
  Body parse_body(const std::set<std::string>& ends) {
    Nest nest(*this, cur().pos);
    Body body;
    while (true) {
      const Token& tok = cur();
      if (tok.type == Token::kEof) {
        if (!ends.empty()) {
          std::string want;
          for (const auto& e : ends) want += (want.empty() ? "" : " or ") + ("'{% " + e + " %}'");
          fail(tok.pos, "unexpected end of template: expected " + want);
        }
        end_tag_.clear();
        return body;
      }
      if (tok.type == Token::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::kData;
        s->pos = tok.pos;
        s->text = tok.text;
        body.push_back(std::move(s));
        next();
      } else if (tok.type == Token::kVarBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::kOutput;
        s->pos = tok.pos;
        next();
        s->expr = parse_tuple(true);
        if (cur().type != Token::kVarEnd) fail(cur().pos, "expected '}}', got " + describe(cur()));
        next();
        body.push_back(std::move(s));
      } else if (tok.type == Token::kBlockBegin) {
        next();
        if (cur().type != Token::kName) fail(cur().pos, "expected a tag name, got " + describe(cur()));
        const std::string tag = cur().text;
        if (ends.count(tag)) {
          end_tag_ = tag;
          next();
          return body;
        }
        if (tag.rfind("end", 0) == 0 || tag == "elif" || tag == "else") {
          std::string want;
          for (const auto& e : ends) want += (want.empty() ? "" : ", ") + e;
          fail(cur().pos, "unexpected '{% " + tag + " %}'" +
                              (want.empty() ? std::string(" outside any block") : "; expected one of: " + want));
        }
        body.push_back(parse_statement());
      } else {
        fail(tok.pos, "unexpected " + describe(tok));
      }
    }
  }

  std::unique_ptr<Stmt> parse_statement() {
    const Token tag = next();
    auto s = std::make_unique<Stmt>();
    s->pos = tag.pos;
    const std::string& n = tag.text;
    if (n == "if") {
      s->kind = Stmt::kIf;
      s->conditions.push_back(parse_tuple(true));
      expect_block_end();
      while (true) {
        s->bodies.push_back(parse_body({"elif", "else", "endif"}));
        if (end_tag_ == "elif") {
          s->conditions.push_back(parse_tuple(true));
          expect_block_end();
        } else if (end_tag_ == "else") {
          expect_block_end();
          s->bodies.push_back(parse_body({"endif"}));
          expect_block_end();
          break;
        } else {
          expect_block_end();
          break;
        }
      }
    } else if (n == "for") {
      s->kind = Stmt::kFor;
      s->target = parse_target(false);
      if (!is_name("in")) fail(cur().pos, "expected 'in' in the for tag, got " + describe(cur()));
      next();
      s->expr = parse_tuple(false);  // jinja2: no condexpr here, so `if` starts the loop filter
      if (is_name("if")) {
        next();
        s->loop_filter = parse_expression();
      }
      if (is_name("recursive")) fail(cur().pos, "unsupported: recursive for loops");
      expect_block_end();
      s->bodies.push_back(parse_body({"else", "endfor"}));
      if (end_tag_ == "else") {
        expect_block_end();
        s->bodies.push_back(parse_body({"endfor"}));
      }
      expect_block_end();
    } else if (n == "set") {
      s->target = parse_target(true);
      if (skip_op("=")) {
        s->kind = Stmt::kSet;
        s->expr = parse_tuple(true);
        expect_block_end();
      } else {
        s->kind = Stmt::kSetBlock;
        if (s->target.tuple || !s->target.attr.empty())
          fail(s->pos, "a block set needs a single name as its target");
        s->expr = parse_filter_chain(s->pos);
        expect_block_end();
        s->bodies.push_back(parse_body({"endset"}));
        expect_block_end();
      }
    } else if (n == "macro") {
      s->kind = Stmt::kMacro;
      s->text = expect_name();
      expect_op("(");
      while (!is_op(")")) {
        if (!s->params.empty()) expect_op(",");
        if (is_op(")")) break;
        std::string p = expect_name();
        ExprPtr def;
        if (skip_op("=")) def = parse_expression();
        s->params.emplace_back(p, std::move(def));
      }
      expect_op(")");
      expect_block_end();
      s->bodies.push_back(parse_body({"endmacro"}));
      if (cur().type == Token::kName && cur().text == s->text) next();
      expect_block_end();
    } else if (n == "filter") {
      s->kind = Stmt::kFilterBlock;
      s->expr = parse_filter_chain(s->pos, /*require=*/true);
      expect_block_end();
      s->bodies.push_back(parse_body({"endfilter"}));
      expect_block_end();
    } else if (n == "generation") {  // HF's AssistantTracker extension: renders its body
      s->kind = Stmt::kGeneration;
      expect_block_end();
      s->bodies.push_back(parse_body({"endgeneration"}));
      expect_block_end();
    } else if (n == "with") {
      s->kind = Stmt::kWith;
      while (cur().type != Token::kBlockEnd) {
        if (!s->params.empty()) expect_op(",");
        std::string v = expect_name();
        expect_op("=");
        s->params.emplace_back(v, parse_expression());
      }
      expect_block_end();
      s->bodies.push_back(parse_body({"endwith"}));
      expect_block_end();
    } else {
      // Jinja2's other tags: parsed past (with their bodies) and refused when reached.
      static const std::set<std::string> kSingle = {"extends", "print", "include", "from", "import"};
      static const std::set<std::string> kPaired = {"block", "autoescape", "call"};
      if (!kSingle.count(n) && !kPaired.count(n))
        // Jinja2 too rejects these (HF enables no loopcontrols extension in transformers 4.43).
        fail(tag.pos, "unknown Jinja statement '{% " + n + " %}'");
      s->kind = Stmt::kUnsupported;
      s->text = "unsupported Jinja statement '{% " + n + " %}'";
      while (cur().type != Token::kBlockEnd && cur().type != Token::kEof) next();
      expect_block_end();
      if (kPaired.count(n)) {
        s->bodies.push_back(parse_body({"end" + n}));
        while (cur().type != Token::kBlockEnd && cur().type != Token::kEof) next();
        expect_block_end();
      }
    }
    return s;
  }

  // `{% set x | f | g %}` / `{% filter f | g %}`: a filter chain applied to the rendered body,
  // held as filters over a placeholder name no template can write.
  ExprPtr parse_filter_chain(Pos ps, bool require = false) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::kName;
    e->pos = ps;
    e->name = "\x01body";
    if (require) return parse_filter(std::move(e));
    while (is_op("|")) e = parse_filter(std::move(e), /*single=*/true);
    return e;
  }

  Target parse_target(bool allow_ns) {
    Target tg;
    Pos ps = cur().pos;
    tg.names.push_back(expect_name());
    if (allow_ns && is_op(".")) {
      next();
      tg.attr = expect_name();
      return tg;
    }
    while (skip_op(",")) {
      tg.tuple = true;
      if (cur().type != Token::kName) break;
      tg.names.push_back(expect_name());
    }
    for (const auto& nm : tg.names)
      if (nm == "true" || nm == "false" || nm == "none" || nm == "True" || nm == "False" || nm == "None")
        fail(ps, "cannot assign to '" + nm + "'");
    return tg;
  }

  ExprPtr make(Expr::Kind k, Pos ps) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->pos = ps;
    return e;
  }

  // parse_tuple: `a, b` without brackets is a tuple (in {{ }}, set, if and for).
  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens = false) {
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

  ExprPtr parse_expression() {
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

  ExprPtr binary(Expr::Kind k, Pos ps, ExprPtr a, ExprPtr b, std::string op = "") {
    auto e = make(k, ps);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    int n = 0;
    while (is_name("or")) {
      link(n);
      Pos ps = next().pos;
      e = binary(Expr::kOr, ps, std::move(e), parse_and());
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    int n = 0;
    while (is_name("and")) {
      link(n);
      Pos ps = next().pos;
      e = binary(Expr::kAnd, ps, std::move(e), parse_not());
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      Nest nest(*this, cur().pos);
      auto e = make(Expr::kNot, next().pos);
      e->args.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
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

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    int n = 0;
    while (is_op("+") || is_op("-")) {
      link(n);
      Token op = next();
      e = binary(Expr::kBinary, op.pos, std::move(e), parse_concat(), op.text);
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    int n = 0;
    while (is_op("~")) {
      link(n);
      Token op = next();
      e = binary(Expr::kBinary, op.pos, std::move(e), parse_math2(), "~");
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    int n = 0;
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      link(n);
      Token op = next();
      e = binary(Expr::kBinary, op.pos, std::move(e), parse_pow(), op.text);
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    int n = 0;
    while (is_op("**")) {
      link(n);
      Token op = next();
      e = binary(Expr::kBinary, op.pos, std::move(e), parse_unary(true), "**");
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
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

  ExprPtr parse_primary() {
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

  ExprPtr parse_postfix(ExprPtr e) {
    for (int n = 0;; link(n)) {
      if (is_op(".") || is_op("[")) e = parse_subscript(std::move(e));
      else if (is_op("(")) e = parse_call(std::move(e));
      else return e;
    }
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    for (int n = 0;; link(n)) {
      if (is_op("|")) e = parse_filter(std::move(e), true);
      else if (is_name("is")) e = parse_test(std::move(e));
      else if (is_op("(")) e = parse_call(std::move(e));
      else return e;
    }
  }

  ExprPtr parse_subscript(ExprPtr e) {
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

  void parse_args(Expr& e) {
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

  ExprPtr parse_call(ExprPtr callee) {
    auto c = make(Expr::kCall, cur().pos);
    c->args.push_back(std::move(callee));
    parse_args(*c);
    return c;
  }

  // `| name(args)`; with `single` one filter, else the whole chain `| a | b`.
  ExprPtr parse_filter(ExprPtr e, bool single = false) {
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

  ExprPtr parse_test(ExprPtr e) {
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
};

}  // namespace

std::shared_ptr<Program> parse_program(const std::string& source, const std::string& where) {
  auto prog = std::make_shared<Program>();
  prog->where = where;
  prog->body = Parser(lex(source, where), where).parse_all();
  return prog;
}

}  // namespace dkv::tokenizer::jinja
