// The Jinja2 parser (jinja2/parser.py), statements: if/elif/else, for (with loop filter and
// else), set (plain, namespace attribute, block), macro, filter, with and HF's generation tag.
// Tags Jinja2 knows but dkv does not implement are parsed past and refused when reached.
#include "tokenizer/jinja_parser.h"

namespace dkv::tokenizer::jinja {

Body Parser::parse_all() {
  Body body = parse_body({});
  if (cur().type != Token::kEof) fail(cur().pos, "unexpected '{% " + end_tag_ + " %}'");
  return body;
}

std::string Parser::describe(const Token& tok) {
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

void Parser::expect_op(const char* op) {
  if (!skip_op(op)) fail(cur().pos, std::string("expected '") + op + "', got " + describe(cur()));
}

std::string Parser::expect_name() {
  if (cur().type != Token::kName) fail(cur().pos, "expected a name, got " + describe(cur()));
  return next().text;
}

void Parser::expect_block_end() {
  if (cur().type != Token::kBlockEnd) fail(cur().pos, "expected '%}', got " + describe(cur()));
  next();
}

// Statements up to one of `ends` (a block tag name), which is consumed into end_tag_ with
// its '{%' but not its '%}'.
Body Parser::parse_body(const std::set<std::string>& ends) {
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

std::unique_ptr<Stmt> Parser::parse_statement() {
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
ExprPtr Parser::parse_filter_chain(Pos ps, bool require) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::kName;
  e->pos = ps;
  e->name = "\x01body";
  if (require) return parse_filter(std::move(e));
  while (is_op("|")) e = parse_filter(std::move(e), /*single=*/true);
  return e;
}

Target Parser::parse_target(bool allow_ns) {
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

std::shared_ptr<Program> parse_program(const std::string& source, const std::string& where) {
  auto prog = std::make_shared<Program>();
  prog->where = where;
  prog->body = Parser(lex(source, where), where).parse_all();
  return prog;
}

}  // namespace dkv::tokenizer::jinja
