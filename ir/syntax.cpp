#include "ir/syntax.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "ir/error.h"

namespace kiln::ir {

namespace {

void expect_end(Lexer& lexer, std::string_view after) {
  if (!lexer.peek().is(TokenKind::End))
    syntax_error(lexer.peek().loc,
                 "unexpected " + describe(lexer.peek()) + " after the " + std::string(after));
}

// True when canonical_attrs, given the node's attributes without `name`, fills in exactly
// `value`: then writing it adds nothing.
bool is_default(const Node& node, std::string_view name, const Attr& value) {
  Attrs without;
  for (const auto& [key, attr] : node.attrs)
    if (key != name) without.set(key, attr);
  Attrs filled = canonical_attrs(node.op, std::move(without), node.type);
  const Attr* default_value = filled.find(std::string(name));
  return default_value && *default_value == value;
}

Attr read_attr_word(const Token& token) {
  std::string_view word = token.text;
  if (word == "true") return Attr(true);
  if (word == "false") return Attr(false);
  if (word == "nan") return Attr(std::numeric_limits<double>::quiet_NaN());
  if (word == "inf") return Attr(std::numeric_limits<double>::infinity());
  if (auto dtype = parse_dtype(word)) return Attr(*dtype);
  syntax_error(token.loc, "expected an attribute value, got " + describe(token));
}

}  // namespace

bool is_identifier(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0])) return false;
  return std::all_of(s.begin(), s.end(), is_ident_char);
}

bool is_value_name(std::string_view s) {
  return is_identifier(s) || (!s.empty() && std::all_of(s.begin(), s.end(), is_digit));
}

std::optional<int64_t> bounded_num_elements(const Shape& shape) {
  if (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; })) return std::nullopt;
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d > kMaxElements / count) return std::nullopt;
    count *= d;
  }
  return count;
}

std::vector<std::string> value_names(const Function& function) {
  std::unordered_set<std::string_view> taken;
  for (Value p : function.params())
    taken.insert(function.node(p).param_name);
  std::vector<std::string> names(function.num_nodes());
  uint64_t next = 0;
  for (size_t i = 0; i < function.num_nodes(); ++i) {
    const Node& node = function.nodes()[i];
    if (node.op == OpKind::Parameter) {
      names[i] = node.param_name;
      continue;
    }
    do
      names[i] = std::to_string(next++);
    while (taken.count(names[i]));
  }
  return names;
}

std::vector<std::pair<std::string_view, const Attr*>> written_attrs(const Node& node) {
  std::vector<std::pair<std::string_view, const Attr*>> out;
  const OpInfo& info = op_info(node.op);
  for (const AttrSpec& spec : info.attrs) {
    const Attr* value = node.attrs.find(spec.name);
    if (value && (spec.required() || !is_default(node, spec.name, *value)))
      out.emplace_back(spec.name, value);
  }
  // A node built through Function::add has only schema attributes; anything else still
  // prints, so that a dump of a broken graph hides nothing.
  for (const auto& [name, value] : node.attrs)
    if (std::none_of(info.attrs.begin(), info.attrs.end(),
                     [&](const AttrSpec& spec) { return spec.name == name; }))
      out.emplace_back(name, &value);
  return out;
}

TensorType read_type(Lexer& lexer) {
  Token dtype_token = lexer.next();
  if (!dtype_token.is(TokenKind::Ident))
    syntax_error(dtype_token.loc, "expected a type like f32[2,3], got " + describe(dtype_token));
  std::optional<DType> dtype = parse_dtype(dtype_token.text);
  if (!dtype) syntax_error(dtype_token.loc, "unknown dtype " + quote_text(dtype_token.text));
  lexer.expect(TokenKind::LBracket, "'[' after the dtype");
  Shape shape;
  if (!lexer.accept(TokenKind::RBracket)) {
    do {
      Token dim = lexer.expect(TokenKind::Int, "a dimension");
      if (dim.int_value < 0)
        syntax_error(dim.loc, "dimension " + std::to_string(dim.int_value) + " is negative");
      if (dim.int_value > kMaxElements)
        syntax_error(dim.loc, "dimension " + std::to_string(dim.int_value) +
                                  " is too large (a tensor holds at most 2^40 elements)");
      shape.push_back(dim.int_value);
    } while (lexer.accept(TokenKind::Comma));
    lexer.expect(TokenKind::RBracket, "',' or ']'");
  }
  TensorType type{*dtype, std::move(shape)};
  if (!bounded_num_elements(type.shape))
    syntax_error(dtype_token.loc, "type " + type.str() + " has more than 2^40 elements");
  return type;
}

Attr read_attr(Lexer& lexer, int depth) {
  Token token = lexer.next();
  switch (token.kind) {
    case TokenKind::Int:
      return Attr(token.int_value);
    case TokenKind::Float:
      return Attr(token.float_value);
    case TokenKind::String:
      return Attr(std::move(token.string_value));
    case TokenKind::Ident:
      return read_attr_word(token);
    case TokenKind::LBracket: {
      if (depth >= kMaxAttrDepth)
        syntax_error(token.loc, "attribute lists nest deeper than " +
                                    std::to_string(kMaxAttrDepth) + " levels");
      AttrList list;
      if (lexer.accept(TokenKind::RBracket)) return Attr(std::move(list));
      do
        list.push_back(read_attr(lexer, depth + 1));
      while (lexer.accept(TokenKind::Comma));
      lexer.expect(TokenKind::RBracket, "',' or ']'");
      return Attr(std::move(list));
    }
    default:
      syntax_error(token.loc, "expected an attribute value, got " + describe(token));
  }
}

TensorType parse_type_string(std::string_view text) {
  Lexer lexer(text);
  TensorType type = read_type(lexer);
  expect_end(lexer, "type");
  return type;
}

Attr parse_attr_string(std::string_view text) {
  Lexer lexer(text);
  Attr attr = read_attr(lexer);
  expect_end(lexer, "attribute value");
  return attr;
}

Value add_written_op(Function& function, OpKind op, std::vector<Value> operands, Attrs attrs,
                     const TensorType& written) {
  Value value;
  try {
    value = function.add(op, std::move(operands), std::move(attrs), written);
  } catch (const TypeError& e) {
    throw OpRuleError{false, e.what()};
  }
  const TensorType& given = function.type(value);
  if (given != written)
    throw OpRuleError{true, std::string(op_name(op)) + " result type is written " + written.str() +
                                " but the op gives " + given.str()};
  return value;
}

}  // namespace kiln::ir
