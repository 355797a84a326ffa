// The text parser on bad input: one exact message and place per error class, then seeded
// random mutations of valid programs, which may only ever raise ParseError.

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <random>
#include <sstream>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

struct ErrorCase {
  const char* name;
  std::string text;
  std::string message;  // after "t.kir:"
};

// A function header for cases about the body.
const std::string kHead = "func @f(%x: f32[2], %y: f32[3]) -> f32[2] {\n";

std::vector<ErrorCase> error_cases() {
  return {
      {"empty file", "", "1:1: error: expected 'func', got end of file"},
      {"only a comment", "// nothing here\n", "2:1: error: expected 'func', got end of file"},
      {"junk at top level", "fun @f", "1:1: error: expected 'func', got 'fun'"},
      {"unexpected character", kHead + "  %0 = neg %x : f32[2] $\n  return %0\n}\n",
       "2:24: error: unexpected character '$'"},
      {"NUL byte", std::string("func @f\0() -> f32[] {", 21),
       "1:8: error: unexpected character '\\x00'"},
      {"non-UTF-8 byte", "\xff\xfe", "1:1: error: unexpected character '\\xff'"},
      {"missing function name", "func f() -> f32[] {",
       "1:6: error: expected a function name like @main, got 'f'"},
      {"bare percent", kHead + "  % = neg %x : f32[2]\n",
       "2:3: error: expected a value name (digits or an identifier) after '%'"},
      {"missing arrow", "func @f() f32[] {",
       "1:11: error: expected '->' and the result types, got 'f32'"},
      {"no results", "func @f() -> () {", "1:15: error: a function returns at least one value"},
      {"attribute separator", kHead + "  %0 = slice %x {start=[0] limit=[2]} : f32[2]\n",
       "2:28: error: expected ',' or '}', got 'limit'"},
      {"list separator", kHead + "  %0 = slice %x {start=[0 1]} : f32[2]\n",
       "2:27: error: expected ',' or ']', got '1'"},
      {"missing result type", kHead + "  %0 = neg %x\n  return %0\n}\n",
       "3:3: error: expected ',', '{' or ':', got 'return'"},
      {"op name is a number", kHead + "  %0 = 12 : f32[2]\n",
       "2:8: error: expected an op name, got '12'"},
      {"unknown op", kHead + "  %0 = foo %x : f32[2]\n", "2:8: error: unknown op 'foo'"},
      {"parameter is not an op", kHead + "  %0 = parameter : f32[2]\n",
       "2:8: error: unknown op 'parameter'"},
      {"unknown dtype", "func @f(%x: f31[2]) -> f32[2] {", "1:13: error: unknown dtype 'f31'"},
      {"unknown result dtype", kHead + "  %0 = convert %x : int[2]\n",
       "2:21: error: unknown dtype 'int'"},
      {"undefined value", kHead + "  %0 = add %x, %z : f32[2]\n",
       "2:16: error: use of undefined value %z"},
      {"value redefined", kHead + "  %a = neg %x : f32[2]\n  %a = exp %x : f32[2]\n",
       "3:3: error: redefinition of value %a (first defined at 2:3)"},
      {"parameter redefined", "func @f(%x: f32[2], %x: f32[3]) -> f32[2] {",
       "1:21: error: redefinition of value %x (first defined at 1:9)"},
      {"body value named like a parameter", kHead + "  %y = neg %x : f32[2]\n",
       "2:3: error: redefinition of value %y (first defined at 1:21)"},
      {"duplicate attribute", kHead + "  %0 = reduce_sum %x {axes=[0], axes=[0]} : f32[]\n",
       "2:33: error: duplicate attribute 'axes'"},
      {"too few operands", kHead + "  %0 = add %x : f32[2]\n",
       "2:8: error: add takes 2 operands, got 1"},
      {"too many operands", kHead + "  %0 = neg %x, %x : f32[2]\n",
       "2:8: error: neg takes 1 operand, got 2"},
      {"unknown attribute", kHead + "  %0 = neg %x {axis=0} : f32[2]\n",
       "2:16: error: neg has no attribute 'axis'"},
      {"missing attribute", kHead + "  %0 = broadcast %x {shape=[2]} : f32[2]\n",
       "2:8: error: broadcast needs attribute 'dims'"},
      {"attribute of the wrong kind", kHead + "  %0 = iota {axis=[0]} : i32[2]\n",
       "2:8: error: attribute 'axis' of iota must be an integer"},
      {"shape rule", kHead + "  %0 = add %x, %y : f32[2]\n",
       "2:8: error: add expects operands of one shape and dtype, got f32[2] and f32[3]"},
      {"constant value shape", kHead + "  %0 = constant {value=[1.0,2.0,3.0]} : f32[2]\n",
       "2:8: error: constant value has 3 entries at depth 0 but the type f32[2] needs 2"},
      {"result type mismatch", kHead + "  %0 = neg %y : f32[2]\n",
       "2:17: error: neg result type is written f32[2] but the op gives f32[3]"},
      {"missing return", kHead + "  %0 = neg %x : f32[2]\n}\n", "3:1: error: @f has no 'return'"},
      {"return count", kHead + "  return %x, %x\n}\n",
       "2:3: error: return gives 2 values but @f declares 1 result"},
      {"return type", kHead + "  return %y\n}\n",
       "2:10: error: return value %y has type f32[3] but result 0 of @f is declared f32[2]"},
      {"return of undefined value", kHead + "  return %q\n}\n",
       "2:10: error: use of undefined value %q"},
      {"statement after return", kHead + "  return %x\n  %0 = neg %x : f32[2]\n}\n",
       "3:3: error: expected '}' to close @f after its return, got '%0'"},
      {"not a statement", kHead + "  42\n",
       "2:3: error: expected a statement like '%x = op ...' or 'return', got '42'"},
      {"unterminated string", kHead + "  %0 = neg %x {s=\"abc\n  return %0\n}\n",
       "2:18: error: unterminated string"},
      {"unknown escape", kHead + "  %0 = neg %x {s=\"a\\qb\"} : f32[2]\n",
       "2:20: error: unknown escape '\\q' in string (use \\\", \\\\ or \\n)"},
      {"unterminated comment", kHead + "  /* a comment\n  return %x\n}\n",
       "2:3: error: unterminated comment: '/*' has no matching '*/'"},
      {"unterminated body", kHead + "  %0 = neg %x : f32[2]\n",
       "3:1: error: unterminated body of @f (opened at 1:43): expected a statement or 'return'"},
      {"unclosed after return", kHead + "  return %x\n",
       "3:1: error: expected '}' to close @f after its return, got end of file"},
      {"unterminated attribute dict", kHead + "  %0 = neg %x {a=1",
       "2:19: error: expected ',' or '}', got end of file"},
      {"integer overflow", "func @f(%x: f32[99999999999999999999]) -> f32[] {",
       "1:17: error: integer literal '99999999999999999999' does not fit in 64 bits"},
      {"negative integer overflow", kHead + "  %0 = iota {axis=-9223372036854775809} : i32[2]\n",
       "2:19: error: integer literal '-9223372036854775809' does not fit in 64 bits"},
      {"float overflow", kHead + "  %0 = constant {value=1e400} : f32[]\n",
       "2:24: error: float literal '1e400' is out of range for f64"},
      {"negative dimension", "func @f(%x: f32[2,-1]) -> f32[] {",
       "1:19: error: dimension -1 is negative"},
      {"dimension too large", "func @f(%x: f32[2000000000000]) -> f32[] {",
       "1:17: error: dimension 2000000000000 is too large (a tensor holds at most 2^40 elements)"},
      {"too many elements", "func @f(%x: f32[1048576,1048576,2]) -> f32[] {",
       "1:13: error: type f32[1048576,1048576,2] has more than 2^40 elements"},
      {"dimension not an integer", "func @f(%x: f32[2.0]) -> f32[] {",
       "1:17: error: expected a dimension, got '2.0'"},
      {"deeply nested attribute",
       kHead + "  %0 = constant {value=" + std::string(100, '[') + "} : f32[]\n",
       "2:88: error: attribute lists nest deeper than 64 levels"},
      {"duplicate function name",
       "func @g(%x: f32[]) -> f32[] {\n  return %x\n}\nfunc @g(%x: f32[]) -> f32[] {",
       "4:6: error: redefinition of function @g (first defined at 1:6)"},
      {"junk after a function", "func @g(%x: f32[]) -> f32[] {\n  return %x\n}\n}",
       "4:1: error: expected 'func' or end of file, got '}'"},
  };
}

TEST(ParseErrors, ExactMessageAndPlace) {
  for (const ErrorCase& c : error_cases()) {
    SCOPED_TRACE(c.name);
    try {
      Module m = parse_module(c.text, "t.kir");
      ADD_FAILURE() << "parsed without error:\n" << print(m);
    } catch (const ParseError& e) {
      EXPECT_EQ(std::string(e.what()), "t.kir:" + c.message);
    }
  }
}

// ----- fuzzing -----

std::vector<std::string> seed_programs() {
  std::vector<std::string> seeds;
  for (const char* name : {"all_ops.kir", "softmax.kir", "mlp.kir", "comments.kir"}) {
    std::ifstream in(std::string(KILN_SOURCE_DIR) + "/tests/ir/kir/" + name, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    // One function at a time keeps each parse small, so thousands of mutants stay fast.
    std::string all = text.str();
    for (size_t start = 0; start < all.size();) {
      size_t end = all.find("\n\n", start);
      if (end == std::string::npos) end = all.size();
      seeds.push_back(all.substr(start, end - start + 1));
      start = end + 2;
    }
  }
  return seeds;
}

const char* const kDictionary[] = {"%0",
                                   "%x",
                                   "%",
                                   "@f",
                                   "@",
                                   "func ",
                                   "return ",
                                   "{",
                                   "}",
                                   "[",
                                   "]",
                                   "(",
                                   ")",
                                   ",",
                                   ":",
                                   "=",
                                   "->",
                                   "-",
                                   "\"",
                                   "\\",
                                   "/*",
                                   "*/",
                                   "//",
                                   "\n",
                                   " ",
                                   "f32[",
                                   "i32[]",
                                   "bool",
                                   "1e999",
                                   "99999999999999999999",
                                   "-9223372036854775808",
                                   "1099511627777",
                                   "-1",
                                   "0",
                                   "1.5",
                                   "nan",
                                   "-inf",
                                   "true",
                                   "constant",
                                   "broadcast",
                                   "dot_general",
                                   "{value=",
                                   "dims=[0]",
                                   "axis=0",
                                   "[[[[[[[[[[[[[[[[[[[[",
                                   "\xff",
                                   "\x80"};

const char* const kNumbers[] = {
    "0", "1", "2", "3", "4", "-1", "7", "64", "1099511627776", "4294967296", "9223372036854775807"};

std::string mutate(std::string text, std::mt19937& rng) {
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  int count = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < count; ++i) {
    size_t pos = pick(text.size() + 1);
    switch (rng() % 8) {
      case 0:
        text.erase(pos, 1 + pick(8));
        break;
      case 1:
        text.insert(pos, 1, static_cast<char>(rng() % 256));
        break;
      case 2:
        if (pos < text.size()) text[pos] = static_cast<char>(rng() % 256);
        break;
      case 3:
        text.insert(pos, kDictionary[pick(std::size(kDictionary))]);
        break;
      case 4:
        text.resize(pos);
        break;
      case 5: {  // duplicate the line around pos
        size_t begin = text.rfind('\n', pos == 0 ? 0 : pos - 1);
        begin = begin == std::string::npos ? 0 : begin + 1;
        size_t end = text.find('\n', pos);
        end = end == std::string::npos ? text.size() : end + 1;
        text.insert(begin, text.substr(begin, end - begin));
        break;
      }
      default: {  // a number replaced: reaches the shape rules rather than the lexer
        size_t start = pos;
        while ((start = text.find_first_of("0123456789", start)) != std::string::npos &&
               start > 0 && std::isalnum(static_cast<unsigned char>(text[start - 1])))
          ++start;
        if (start == std::string::npos) break;
        size_t end = text.find_first_not_of("0123456789", start);
        text.replace(start, (end == std::string::npos ? text.size() : end) - start,
                     kNumbers[pick(std::size(kNumbers))]);
      }
    }
  }
  return text;
}

// Runs the parser on `text`; only ParseError may come out, and what does parse must print,
// verify and reparse to the same text.
void check_parse(const std::string& text) {
  try {
    Module m = parse_module(text);
    verify(m);
    std::string printed = print(m);
    ASSERT_EQ(print(parse_module(printed)), printed) << "input:\n" << text;
  } catch (const ParseError& e) {
    ASSERT_EQ(std::string(e.what()).rfind("<input>:", 0), 0u) << e.what();
  } catch (const std::exception& e) {
    FAIL() << "unexpected exception: " << e.what() << "\ninput:\n" << text;
  } catch (...) {
    FAIL() << "unexpected non-standard exception\ninput:\n" << text;
  }
}

TEST(ParserFuzz, MutatedProgramsOnlyRaiseParseError) {
  std::vector<std::string> seeds = seed_programs();
  ASSERT_GT(seeds.size(), 50u);
  std::mt19937 rng(20261122);
  for (int i = 0; i < 8000; ++i) {
    std::string text = mutate(seeds[rng() % seeds.size()], rng);
    ASSERT_NO_FATAL_FAILURE(check_parse(text)) << "mutant " << i;
  }
}

TEST(ParserFuzz, PathologicalInputs) {
  check_parse(std::string(200000, '['));
  check_parse("func @f() -> f32[] {\n  %0 = constant {value=" + std::string(100000, '[') +
              "} : f32[]");
  check_parse(std::string(100000, '9'));
  check_parse(std::string(1000, '\0'));
  check_parse(std::string(50000, '('));
  check_parse("func @f(" + std::string(100000, '%'));
  check_parse("\"" + std::string(100000, 'a'));
  check_parse("/*" + std::string(100000, '*'));
  std::string shape = "func @f(%x: f32[";
  for (int i = 0; i < 10000; ++i)
    shape += "1,";
  check_parse(shape + "1]) -> f32[] {\n  %0 = reduce_sum %x {axes=[]} : f32[]\n  return %0\n}\n");
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    std::string noise(rng() % 200, '\0');
    for (char& c : noise)
      c = static_cast<char>(rng() % 256);
    check_parse(noise);
  }
}

}  // namespace
}  // namespace kiln::ir
