#include "ir/lexer.h"

#include <charconv>
#include <cstdio>
#include <limits>

namespace kiln::ir {

namespace {

std::string byte_str(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string(1, c);
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "\\x%02x", u);
  return buffer;
}

}  // namespace

void syntax_error(SourceLoc loc, std::string message) {
  throw SyntaxError{loc, std::move(message)};
}

std::string quote_text(std::string_view text) {
  // Long tokens (a million digits) would drown the message.
  constexpr size_t kMaxShown = 40;
  std::string s = "'";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i)
    s += byte_str(text[i]);
  if (text.size() > kMaxShown) s += "...";
  return s + "'";
}

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::End:
      return "end of file";
    case TokenKind::String:
      return "string " + quote_text(token.text);
    default:
      return quote_text(token.text);
  }
}

const Token& Lexer::peek() {
  if (!peeked_) peeked_ = lex();
  return *peeked_;
}

Token Lexer::next() {
  peek();
  Token token = std::move(*peeked_);
  peeked_.reset();
  return token;
}

bool Lexer::accept(TokenKind kind) {
  if (peek().kind != kind) return false;
  next();
  return true;
}

Token Lexer::expect(TokenKind kind, std::string_view what) {
  if (peek().kind != kind)
    syntax_error(peek().loc, "expected " + std::string(what) + ", got " + describe(peek()));
  return next();
}

void Lexer::advance(size_t count) {
  for (; count > 0 && pos_ < text_.size(); --count, ++pos_) {
    if (text_[pos_] == '\n') {
      ++loc_.line;
      loc_.column = 1;
    } else {
      ++loc_.column;
    }
  }
}

void Lexer::skip_space_and_comments() {
  while (!at_end()) {
    char c = at(0);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance();
    } else if (c == '/' && at(1) == '/') {
      while (!at_end() && at(0) != '\n')
        advance();
    } else if (c == '/' && at(1) == '*') {
      SourceLoc start = loc_;
      advance(2);
      while (!at_end() && !(at(0) == '*' && at(1) == '/'))
        advance();
      if (at_end()) syntax_error(start, "unterminated comment: '/*' has no matching '*/'");
      advance(2);
    } else {
      return;
    }
  }
}

Token Lexer::make(TokenKind kind, size_t start, SourceLoc loc) const {
  Token token;
  token.kind = kind;
  token.text = text_.substr(start, pos_ - start);
  token.loc = loc;
  return token;
}

size_t Lexer::ident_length(size_t from) const {
  if (from >= text_.size() || !is_ident_start(text_[from])) return 0;
  size_t end = from + 1;
  while (end < text_.size() && is_ident_char(text_[end]))
    ++end;
  return end - from;
}

Token Lexer::lex() {
  skip_space_and_comments();
  SourceLoc loc = loc_;
  size_t start = pos_;
  if (at_end()) return make(TokenKind::End, start, loc);
  char c = at(0);
  if (is_ident_start(c)) {
    advance(ident_length(pos_));
    return make(TokenKind::Ident, start, loc);
  }
  if (is_digit(c) || (c == '-' && is_digit(at(1)))) return lex_number(start, loc);
  if (c == '-' && at(1) == '>') {
    advance(2);
    return make(TokenKind::Arrow, start, loc);
  }
  if (c == '-' && ident_length(pos_ + 1) == 3 && text_.substr(pos_ + 1, 3) == "inf") {
    advance(4);
    Token token = make(TokenKind::Float, start, loc);
    token.float_value = -std::numeric_limits<double>::infinity();
    return token;
  }
  if (c == '%') return lex_sigil_name(TokenKind::ValueName, start, loc);
  if (c == '@') return lex_sigil_name(TokenKind::FuncName, start, loc);
  if (c == '"') return lex_string(start, loc);
  TokenKind kind;
  switch (c) {
    case '(':
      kind = TokenKind::LParen;
      break;
    case ')':
      kind = TokenKind::RParen;
      break;
    case '{':
      kind = TokenKind::LBrace;
      break;
    case '}':
      kind = TokenKind::RBrace;
      break;
    case '[':
      kind = TokenKind::LBracket;
      break;
    case ']':
      kind = TokenKind::RBracket;
      break;
    case ',':
      kind = TokenKind::Comma;
      break;
    case ':':
      kind = TokenKind::Colon;
      break;
    case '=':
      kind = TokenKind::Equal;
      break;
    default:
      syntax_error(loc, "unexpected character '" + byte_str(c) + "'");
  }
  advance();
  return make(kind, start, loc);
}

Token Lexer::lex_sigil_name(TokenKind kind, size_t start, SourceLoc loc) {
  size_t length = ident_length(pos_ + 1);
  if (kind == TokenKind::ValueName && length == 0)
    while (is_digit(at(1 + length)))
      ++length;
  if (length == 0)
    syntax_error(loc, kind == TokenKind::ValueName
                          ? "expected a value name (digits or an identifier) after '%'"
                          : "expected a function name (an identifier) after '@'");
  advance(1 + length);
  return make(kind, start, loc);
}

// Integers: -?[0-9]+. Floats add a fraction .[0-9]+ and/or an exponent [eE][+-]?[0-9]+.
Token Lexer::lex_number(size_t start, SourceLoc loc) {
  if (at(0) == '-') advance();
  while (is_digit(at(0)))
    advance();
  bool is_float = false;
  if (at(0) == '.') {
    if (!is_digit(at(1))) syntax_error(loc_, "expected a digit after '.' in a number");
    advance();
    while (is_digit(at(0)))
      advance();
    is_float = true;
  }
  if (at(0) == 'e' || at(0) == 'E') {
    size_t sign = (at(1) == '+' || at(1) == '-') ? 1 : 0;
    if (!is_digit(at(1 + sign))) syntax_error(loc_, "expected digits in the number's exponent");
    advance(1 + sign);
    while (is_digit(at(0)))
      advance();
    is_float = true;
  }
  Token token = make(is_float ? TokenKind::Float : TokenKind::Int, start, loc);
  const char* first = token.text.data();
  const char* last = first + token.text.size();
  if (is_float) {
    auto [end, ec] = std::from_chars(first, last, token.float_value);
    if (ec != std::errc() || end != last)
      syntax_error(loc, "float literal " + quote_text(token.text) + " is out of range for f64");
  } else {
    auto [end, ec] = std::from_chars(first, last, token.int_value);
    if (ec != std::errc() || end != last)
      syntax_error(loc, "integer literal " + quote_text(token.text) + " does not fit in 64 bits");
  }
  return token;
}

// Strings hold any bytes but a raw newline; escapes are \" \\ and \n, as attr_str writes.
Token Lexer::lex_string(size_t start, SourceLoc loc) {
  advance();
  std::string value;
  while (true) {
    if (at_end() || at(0) == '\n') syntax_error(loc, "unterminated string");
    char c = at(0);
    if (c == '"') break;
    if (c == '\\') {
      char e = at(1);
      if (e == '"' || e == '\\') {
        value += e;
      } else if (e == 'n') {
        value += '\n';
      } else {
        if (pos_ + 1 >= text_.size() || e == '\n') syntax_error(loc, "unterminated string");
        syntax_error(loc_,
                     "unknown escape '\\" + byte_str(e) + "' in string (use \\\", \\\\ or \\n)");
      }
      advance(2);
      continue;
    }
    value += c;
    advance();
  }
  advance();
  Token token = make(TokenKind::String, start, loc);
  token.string_value = std::move(value);
  return token;
}

}  // namespace kiln::ir
