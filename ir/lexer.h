#pragma once
// Tokens of the .kir text form. The lexer reads raw bytes: anything it does not understand,
// NUL and non-UTF-8 bytes included, is a SyntaxError pointing at that byte.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::ir {

struct SourceLoc {
  int line = 1;
  int column = 1;  // 1-based, in bytes
};

// What the readers throw internally. It carries a place but no file name, so that the pieces
// of the grammar (types, attribute values) serve both the text parser, which reports
// FILE:LINE:COL, and the JSON reader, which reports a JSON pointer instead.
struct SyntaxError {
  SourceLoc loc;
  std::string message;
};

[[noreturn]] void syntax_error(SourceLoc loc, std::string message);

enum class TokenKind {
  End,
  Ident,      // func, return, op names, dtypes, true, false, nan, inf
  ValueName,  // %x, %0
  FuncName,   // @main
  Int,
  Float,
  String,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Equal,
  Arrow,
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string_view text;  // the token's bytes in the source, sigil included
  SourceLoc loc;
  int64_t int_value = 0;
  double float_value = 0;
  std::string string_value;  // a String's contents with escapes resolved

  // A ValueName or FuncName without its sigil.
  std::string_view name() const { return text.substr(1); }
  bool is(TokenKind k) const { return kind == k; }
  bool is_ident(std::string_view word) const { return kind == TokenKind::Ident && text == word; }
};

// Character classes of names: identifiers are [A-Za-z_][A-Za-z0-9_.]*.
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c) || c == '.';
}

// How an error message names a token: 'add', '%x', end of file.
std::string describe(const Token& token);
// Source text for a message: quoted, cut short, with unprintable bytes as \xNN.
std::string quote_text(std::string_view text);

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  const Token& peek();
  Token next();
  // Consumes the next token if it has this kind.
  bool accept(TokenKind kind);
  // Consumes the next token, which must have this kind; `what` names it for the error.
  Token expect(TokenKind kind, std::string_view what);

 private:
  Token lex();
  void skip_space_and_comments();
  void advance(size_t count = 1);
  char at(size_t offset) const { return pos_ + offset < text_.size() ? text_[pos_ + offset] : 0; }
  bool at_end() const { return pos_ >= text_.size(); }
  Token make(TokenKind kind, size_t start, SourceLoc loc) const;
  Token lex_number(size_t start, SourceLoc loc);
  Token lex_string(size_t start, SourceLoc loc);
  Token lex_sigil_name(TokenKind kind, size_t start, SourceLoc loc);
  size_t ident_length(size_t from) const;

  std::string_view text_;
  size_t pos_ = 0;
  SourceLoc loc_;
  std::optional<Token> peeked_;
};

}  // namespace kiln::ir
