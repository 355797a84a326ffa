#include "ir/parser.h"

#include <algorithm>
#include <unordered_map>

#include "ir/buffer_pool.h"
#include "ir/file_io.h"
#include "ir/lexer.h"
#include "ir/syntax.h"
#include "ir/verifier.h"

// Grammar (comments are // to the end of the line, or /* ... */):
//   module    := function+
//   function  := 'func' @name '(' [param (',' param)*] ')' '->' results '{' statement*
//                'return' [%value (',' %value)*] '}'
//   param     := %name ':' type
//   results   := type | '(' type (',' type)* ')'
//   statement := %name '=' op [%value (',' %value)*] ['{' [attr (',' attr)*] '}'] ':' type
//   attr      := identifier '=' value
//
// Limits keep any input cheap and safe: a type holds at most 2^40 elements and attribute lists
// nest at most 64 deep (ir/syntax.h); nothing else recurses.
//
// A parameter may be named with digits (%0); the printer then numbers body values around it,
// so printed text never defines a name twice and every Function the API can build prints
// into text that parses back. A body value named like a parameter is a redefinition.

namespace kiln::ir {

namespace {

std::string loc_str(SourceLoc loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

std::string count_str(size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// The names a function has defined so far and where.
class Scope {
 public:
  void check_new(const Token& name) const {
    auto it = values_.find(std::string(name.name()));
    if (it != values_.end())
      syntax_error(name.loc, "redefinition of value " + std::string(name.text) +
                                 " (first defined at " + loc_str(it->second.loc) + ")");
  }
  void define(const Token& name, Value value) {
    check_new(name);
    values_.emplace(std::string(name.name()), Binding{value, name.loc});
  }
  Value lookup(const Token& name) const {
    auto it = values_.find(std::string(name.name()));
    if (it == values_.end())
      syntax_error(name.loc, "use of undefined value " + std::string(name.text));
    return it->second.value;
  }

 private:
  struct Binding {
    Value value;
    SourceLoc loc;
  };
  std::unordered_map<std::string, Binding> values_;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) {}
  Module parse_module();

 private:
  Function parse_function();
  void parse_params(Function& f, Scope& scope);
  std::vector<TensorType> parse_result_types();
  void parse_body(Function& f, Scope& scope, SourceLoc open);
  void parse_statement(Function& f, Scope& scope);
  std::vector<Value> parse_operands(const Scope& scope);
  Attrs parse_attr_dict(OpKind op);
  void parse_return(Function& f, const Scope& scope, const std::vector<TensorType>& declared);

  void check_calls(const Module& module) const;

  struct CallSite {
    size_t function;
    Value value;
    SourceLoc loc;  // the callee's name
  };

  Lexer lexer_;
  std::unordered_map<std::string, SourceLoc> function_locs_;
  std::vector<CallSite> calls_;
  size_t function_index_ = 0;
};

Module Parser::parse_module() {
  Module module;
  do {
    const Token& token = lexer_.peek();
    if (!token.is_ident("func"))
      syntax_error(token.loc, module.functions.empty()
                                  ? "expected 'func', got " + describe(token)
                                  : "expected 'func' or end of file, got " + describe(token));
    function_index_ = module.functions.size();
    module.functions.push_back(parse_function());
  } while (!lexer_.peek().is(TokenKind::End));
  check_calls(module);
  return module;
}

// Calls may name functions defined further down, so they are checked once the whole file is
// read.
void Parser::check_calls(const Module& module) const {
  for (const CallSite& site : calls_) {
    const Function& f = module.functions[site.function];
    const Node& node = f.node(site.value);
    std::vector<TensorType> args;
    for (Value v : node.operands)
      args.push_back(f.type(v));
    if (auto rule = call_rule_broken(module, node, args)) syntax_error(site.loc, *rule);
  }
  if (auto cycle = recursion_in(module))
    syntax_error(
        function_locs_.at(cycle->first),
        "@" + cycle->first + " calls itself (" + cycle->second + "); recursion is not allowed");
}

Function Parser::parse_function() {
  lexer_.next();  // 'func'
  Token name = lexer_.expect(TokenKind::FuncName, "a function name like @main");
  auto [previous, is_new] = function_locs_.emplace(std::string(name.name()), name.loc);
  if (!is_new)
    syntax_error(name.loc, "redefinition of function " + std::string(name.text) +
                               " (first defined at " + loc_str(previous->second) + ")");
  Function f{std::string(name.name())};
  Scope scope;
  lexer_.expect(TokenKind::LParen, "'(' after the function name");
  parse_params(f, scope);
  lexer_.expect(TokenKind::Arrow, "'->' and the result types");
  std::vector<TensorType> results = parse_result_types();
  Token open = lexer_.expect(TokenKind::LBrace, "'{' to open the function body");
  parse_body(f, scope, open.loc);
  parse_return(f, scope, results);
  lexer_.expect(TokenKind::RBrace, "'}' to close @" + f.name() + " after its return");
  return f;
}

void Parser::parse_params(Function& f, Scope& scope) {
  if (lexer_.accept(TokenKind::RParen)) return;
  do {
    Token name = lexer_.expect(TokenKind::ValueName, "a parameter like %x: f32[2]");
    scope.check_new(name);
    lexer_.expect(TokenKind::Colon, "':' and the parameter's type");
    TensorType type = read_type(lexer_);
    scope.define(name, f.add_param(std::string(name.name()), std::move(type)));
  } while (lexer_.accept(TokenKind::Comma));
  lexer_.expect(TokenKind::RParen, "',' or ')'");
}

std::vector<TensorType> Parser::parse_result_types() {
  if (!lexer_.accept(TokenKind::LParen)) return {read_type(lexer_)};
  if (lexer_.peek().is(TokenKind::RParen))
    syntax_error(lexer_.peek().loc, "a function returns at least one value");
  std::vector<TensorType> types;
  do
    types.push_back(read_type(lexer_));
  while (lexer_.accept(TokenKind::Comma));
  lexer_.expect(TokenKind::RParen, "',' or ')'");
  return types;
}

void Parser::parse_body(Function& f, Scope& scope, SourceLoc open) {
  while (!lexer_.peek().is_ident("return")) {
    const Token& token = lexer_.peek();
    if (token.is(TokenKind::ValueName)) {
      parse_statement(f, scope);
    } else if (token.is(TokenKind::RBrace)) {
      syntax_error(token.loc, "@" + f.name() + " has no 'return'");
    } else if (token.is(TokenKind::End)) {
      syntax_error(token.loc, "unterminated body of @" + f.name() + " (opened at " + loc_str(open) +
                                  "): expected a statement or 'return'");
    } else {
      syntax_error(token.loc,
                   "expected a statement like '%x = op ...' or 'return', got " + describe(token));
    }
  }
}

void Parser::parse_statement(Function& f, Scope& scope) {
  Token name = lexer_.next();
  scope.check_new(name);
  lexer_.expect(TokenKind::Equal, "'=' after " + std::string(name.text));
  Token op_token = lexer_.expect(TokenKind::Ident, "an op name");
  std::optional<OpKind> op = op_from_name(op_token.text);
  if (!op) syntax_error(op_token.loc, "unknown op " + quote_text(op_token.text));
  Attrs attrs;
  std::vector<Value> operands;
  std::optional<Token> callee;
  if (*op == OpKind::Call) {
    // call @f(%a, %b): the callee is written after the op name, its arguments in parentheses.
    callee = lexer_.expect(TokenKind::FuncName, "the called function like @f after 'call'");
    lexer_.expect(TokenKind::LParen, "'(' and the call's arguments");
    if (!lexer_.accept(TokenKind::RParen)) {
      operands = parse_operands(scope);
      lexer_.expect(TokenKind::RParen, "',' or ')' after the call's arguments");
    }
  } else {
    operands = parse_operands(scope);
  }
  if (lexer_.peek().is(TokenKind::LBrace)) {
    Token open = lexer_.peek();
    attrs = parse_attr_dict(*op);
    if (callee && attrs.has(std::string(CallAttrs::callee_name)))
      syntax_error(open.loc, "the callee is written after 'call' as @name, not as an attribute");
    lexer_.expect(TokenKind::Colon, "':' and the result type");
  } else if (!lexer_.accept(TokenKind::Colon)) {
    syntax_error(lexer_.peek().loc, (operands.empty() ? "expected an operand, '{' or ':', got "
                                                      : "expected ',', '{' or ':', got ") +
                                        describe(lexer_.peek()));
  }
  if (callee) attrs.set(std::string(CallAttrs::callee_name), std::string(callee->name()));
  SourceLoc type_loc = lexer_.peek().loc;
  TensorType type = read_type(lexer_);
  try {
    Value value = add_written_op(f, *op, std::move(operands), std::move(attrs), type);
    scope.define(name, value);
    if (callee) calls_.push_back({function_index_, value, callee->loc});
  } catch (const OpRuleError& e) {
    syntax_error(e.at_type ? type_loc : op_token.loc, e.message);
  }
}

std::vector<Value> Parser::parse_operands(const Scope& scope) {
  std::vector<Value> operands;
  if (!lexer_.peek().is(TokenKind::ValueName)) return operands;
  do
    operands.push_back(scope.lookup(lexer_.expect(TokenKind::ValueName, "an operand like %x")));
  while (lexer_.accept(TokenKind::Comma));
  return operands;
}

Attrs Parser::parse_attr_dict(OpKind op) {
  lexer_.next();  // '{'
  Attrs attrs;
  if (lexer_.accept(TokenKind::RBrace)) return attrs;
  std::vector<Token> keys;
  do {
    Token key = lexer_.expect(TokenKind::Ident, "an attribute name");
    std::string name(key.text);
    if (attrs.has(name)) syntax_error(key.loc, "duplicate attribute " + quote_text(name));
    lexer_.expect(TokenKind::Equal, "'=' after the attribute name");
    attrs.set(name, read_attr(lexer_));
    keys.push_back(key);
  } while (lexer_.accept(TokenKind::Comma));
  lexer_.expect(TokenKind::RBrace, "',' or '}'");
  // The op table checks names too; here, once the dict is well-formed, the error can point at
  // the unknown name itself.
  const auto& schema = op_info(op).attrs;
  for (const Token& key : keys)
    if (std::none_of(schema.begin(), schema.end(),
                     [&](const AttrSpec& spec) { return spec.name == key.text; }))
      syntax_error(key.loc, std::string(op_name(op)) + " has no attribute " + quote_text(key.text));
  return attrs;
}

void Parser::parse_return(Function& f, const Scope& scope,
                          const std::vector<TensorType>& declared) {
  Token ret = lexer_.next();
  std::vector<Token> tokens;
  if (lexer_.peek().is(TokenKind::ValueName)) {
    do
      tokens.push_back(lexer_.expect(TokenKind::ValueName, "a value like %x"));
    while (lexer_.accept(TokenKind::Comma));
  }
  if (tokens.size() != declared.size())
    syntax_error(ret.loc, "return gives " + count_str(tokens.size(), "value") + " but @" +
                              f.name() + " declares " + count_str(declared.size(), "result"));
  std::vector<Value> results;
  for (size_t i = 0; i < tokens.size(); ++i) {
    Value v = scope.lookup(tokens[i]);
    if (f.type(v) != declared[i])
      syntax_error(tokens[i].loc, "return value " + std::string(tokens[i].text) + " has type " +
                                      f.type(v).str() + " but result " + std::to_string(i) +
                                      " of @" + f.name() + " is declared " + declared[i].str());
    results.push_back(v);
  }
  f.set_results(std::move(results));
}

}  // namespace

Module parse_module(std::string_view text, std::string_view filename) {
  try {
    return Parser(text).parse_module();
  } catch (const SyntaxError& e) {
    throw ParseError(std::string(filename) + ":" + loc_str(e.loc) + ": error: " + e.message);
  }
}

std::string read_program_text(const std::filesystem::path& path) {
  try {
    InputFile file(path, (path == "-" ? "<stdin>" : path.string()) + ": error");
    return file.read_to_end(physical_memory_bytes());
  } catch (const Error& e) {
    throw ParseError(e.what());
  }
}

Module parse_file(const std::filesystem::path& path) {
  const std::string text = read_program_text(path);
  return parse_module(text, path == "-" ? "<stdin>" : path.string());
}

}  // namespace kiln::ir
