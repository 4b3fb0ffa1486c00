// Private: Jinja2 tokens and syntax tree, shared by the lexer, the parser and the evaluator.
// Node kinds follow jinja2.nodes; positions are 1-based line and column (in bytes).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace dkv::tokenizer::jinja {

struct Pos {
  int line = 1, col = 1;
};

struct Token {
  enum Type { kData, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };
  Type type;
  std::string text;  // data, name, operator, or the unescaped string literal
  int64_t i = 0;
  double f = 0;
  Pos pos;
};

// jinja2.lexer with HF's settings: trim_blocks, lstrip_blocks, keep_trailing_newline=False,
// `{%- -%}` / `{%+ +%}` whitespace control, comments dropped, `{% raw %}` bodies as data.
std::vector<Token> lex(const std::string& source, const std::string& where);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum Kind {
    kLiteral,   // value
    kName,      // name
    kList,      // args (tuple: value.tuple)
    kDict,      // kwargs-like pairs in items
    kGetAttr,   // args[0] . name
    kGetItem,   // args[0] [ args[1] ]
    kSlice,     // args[0] [ args[1] : args[2] : args[3] ] (null parts allowed)
    kCall,      // args[0] ( args[1..], kwargs )
    kFilter,    // args[0] | name ( args[1..], kwargs )
    kTest,      // args[0] is [not] name ( args[1..], kwargs )
    kNot,       // not args[0]
    kNeg,       // - args[0]
    kPos,       // + args[0]
    kBinary,    // args[0] op args[1]: + - * / // % ** ~
    kCompare,   // args[0] ops[0] args[1] ops[1] args[2] ... (== != < <= > >= in notin)
    kAnd,       // args[0] and args[1]
    kOr,        // args[0] or args[1]
    kCondExpr,  // args[1] if args[0] else args[2] (args[2] may be null)
    kUnsupported,  // a construct dkv does not implement (name says which): fails when evaluated
  };
  Kind kind;
  Pos pos;
  Value value;
  std::string name;
  bool negated = false;
  bool is_tuple = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
  std::vector<std::string> ops;
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

// An assignment target: a name, a tuple of names, or `ns.attr` (jinja2.nodes.NSRef).
struct Target {
  std::vector<std::string> names;  // one name, or the names of a tuple target
  bool tuple = false;
  std::string attr;                // non-empty for ns.attr (names[0] is the namespace)
};

struct Stmt {
  // kWith: `{% with a = x %}` (params hold the assignments); kUnsupported: a Jinja2 statement
  // dkv does not implement (text names it), an error only if rendering reaches it, as Jinja2
  // itself renders templates whose tool-call branches are never taken.
  enum Kind { kData, kOutput, kIf, kFor, kSet, kSetBlock, kMacro, kFilterBlock, kGeneration, kWith, kUnsupported };
  Kind kind;
  Pos pos;
  std::string text;  // kData; kMacro name
  ExprPtr expr;      // kOutput / kSet value / kFor iterable / kFilterBlock and kSetBlock filter chain
  Target target;     // kSet, kSetBlock, kFor
  ExprPtr loop_filter;  // kFor `if cond`
  // kIf: conditions[i] guards bodies[i]; a trailing body without condition is the else.
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;  // kIf branches; kFor {body, else}; others {body}
  // kMacro: parameter names and defaults (null when none).
  std::vector<std::pair<std::string, ExprPtr>> params;
};

struct Program {
  Body body;
  std::string where;
};

// jinja2.parser over `lex` output. Throws InputError naming the construct and its position.
std::shared_ptr<Program> parse_program(const std::string& source, const std::string& where);

}  // namespace dkv::tokenizer::jinja
