// Private: the Jinja2 parser's state and grammar (jinja2/parser.py), shared by
// jinja_parser.cpp (statements) and jinja_parse_expr.cpp (expressions).
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "dkv/core/error.h"
#include "tokenizer/jinja_ast.h"

namespace dkv::tokenizer::jinja {

class Parser {
 public:
  Parser(std::vector<Token> toks, const std::string& where) : t_(std::move(toks)), where_(where) {}

  Body parse_all();

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

  static std::string describe(const Token& tok);

  bool is_op(const char* op) const { return cur().type == Token::kOp && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == Token::kName && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  void expect_op(const char* op);
  std::string expect_name();
  void expect_block_end();

  // Statements up to one of `ends` (a block tag name), which is consumed into end_tag_ with
  // its '{%' but not its '%}'.
  Body parse_body(const std::set<std::string>& ends);
  std::unique_ptr<Stmt> parse_statement();

  // `{% set x | f | g %}` / `{% filter f | g %}`: a filter chain applied to the rendered body,
  // held as filters over a placeholder name no template can write.
  ExprPtr parse_filter_chain(Pos ps, bool require = false);
  Target parse_target(bool allow_ns);

  ExprPtr make(Expr::Kind k, Pos ps) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->pos = ps;
    return e;
  }

  // parse_tuple: `a, b` without brackets is a tuple (in {{ }}, set, if and for).
  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens = false);
  ExprPtr parse_expression();
  ExprPtr binary(Expr::Kind k, Pos ps, ExprPtr a, ExprPtr b, std::string op = "");
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_postfix(ExprPtr e);
  ExprPtr parse_filter_expr(ExprPtr e);
  ExprPtr parse_subscript(ExprPtr e);
  void parse_args(Expr& e);
  ExprPtr parse_call(ExprPtr callee);

  // `| name(args)`; with `single` one filter, else the whole chain `| a | b`.
  ExprPtr parse_filter(ExprPtr e, bool single = false);
  ExprPtr parse_test(ExprPtr e);
};

}  // namespace dkv::tokenizer::jinja
