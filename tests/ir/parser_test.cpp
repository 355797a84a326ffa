// The text parser on valid input: round trips over every op and the sample files, and the
// attribute and type grammar on its own.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/syntax.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

std::string kir_path(const std::string& name) {
  return std::string(KILN_SOURCE_DIR) + "/tests/ir/kir/" + name;
}

std::string read_kir(const std::string& name) {
  std::ifstream in(kir_path(name), std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Files already in canonical form: printing what they parse to gives them back byte for byte.
const char* const kCanonicalFiles[] = {"all_ops.kir", "softmax.kir"};

TEST(Parser, ParsesTheArchitectureExample) {
  Module m = parse_file(kir_path("mlp.kir"));
  ASSERT_EQ(m.functions.size(), 1u);
  const Function& f = m.functions[0];
  EXPECT_EQ(f.name(), "mlp");
  ASSERT_EQ(f.params().size(), 3u);
  EXPECT_EQ(f.node(f.params()[1]).param_name, "w");
  EXPECT_EQ(f.type(f.params()[1]), (TensorType{DType::F32, {784, 128}}));
  EXPECT_EQ(f.num_nodes(), 9u);
  const Node& dot = f.nodes()[3];
  EXPECT_EQ(dot.op, OpKind::DotGeneral);
  EXPECT_EQ(dot.attrs.get_ints("lhs_contract"), std::vector<int64_t>{1});
  EXPECT_EQ(dot.attrs.get_ints("lhs_batch"), std::vector<int64_t>{});  // filled canonically
  ASSERT_EQ(f.results().size(), 1u);
  EXPECT_EQ(f.node(f.results()[0]).op, OpKind::Max);
  EXPECT_NO_THROW(verify(m));
  // The file is canonical apart from its comment line.
  std::string text = read_kir("mlp.kir");
  EXPECT_EQ(print(m), text.substr(text.find('\n') + 1));
}

TEST(Parser, CanonicalFilesPrintBackByteForByte) {
  for (const char* name : kCanonicalFiles) {
    SCOPED_TRACE(name);
    std::string text = read_kir(name);
    Module m = parse_module(text, name);
    EXPECT_NO_THROW(verify(m));
    EXPECT_EQ(print(m), text);
  }
}

TEST(Parser, SampleFilesCoverEveryOp) {
  std::set<OpKind> seen;
  for (const char* name : kCanonicalFiles)
    for (const Function& f : parse_file(kir_path(name)).functions)
      for (const Node& node : f.nodes())
        seen.insert(node.op);
  for (OpKind op : all_ops())
    EXPECT_TRUE(seen.count(op)) << op_name(op) << " has no sample";
}

TEST(Parser, RoundTripKeepsStructureAndHash) {
  for (const char* name : {"all_ops.kir", "softmax.kir", "mlp.kir", "comments.kir"}) {
    SCOPED_TRACE(name);
    Module first = parse_file(kir_path(name));
    std::string printed = print(first);
    Module second = parse_module(printed);
    EXPECT_EQ(print(second), printed);
    ASSERT_EQ(second.functions.size(), first.functions.size());
    for (size_t i = 0; i < first.functions.size(); ++i) {
      const Function& a = first.functions[i];
      const Function& b = second.functions[i];
      EXPECT_EQ(a.name(), b.name());
      EXPECT_EQ(a.structural_hash(), b.structural_hash()) << a.name();
      EXPECT_EQ(a.num_nodes(), b.num_nodes());
      EXPECT_EQ(a.param_types(), b.param_types());
      EXPECT_EQ(a.result_types(), b.result_types());
    }
  }
}

TEST(Parser, HandWrittenTextBecomesCanonical) {
  // Comments, spacing, attribute order and names are free; identical lines hash-cons, sorted
  // axes and default attributes come out canonical, and an integer f32 constant becomes 1.0.
  EXPECT_EQ(print(parse_file(kir_path("comments.kir"))),
            R"(func @f(%input: f32[2,3], %bias: f32[3]) -> (f32[2,3], f32[]) {
  %0 = broadcast %bias {shape=[2,3], dims=[1]} : f32[2,3]
  %1 = add %input, %0 : f32[2,3]
  %2 = reduce_sum %1 {axes=[0,1]} : f32[]
  %3 = slice %1 {start=[0,0], limit=[2,3]} : f32[2,3]
  return %3, %2
}

func @g() -> f32[] {
  %0 = constant {value=1.0} : f32[]
  return %0
}
)");
}

TEST(Parser, IdenticalLinesAreOneValue) {
  Module m = parse_module(R"(func @f(%x: f32[2]) -> (f32[2], f32[2]) {
  %a = exp %x : f32[2]
  %b = exp %x : f32[2]
  return %a, %b
})");
  const Function& f = m.functions[0];
  EXPECT_EQ(f.num_nodes(), 2u);
  EXPECT_EQ(f.results()[0], f.results()[1]);
}

TEST(Parser, ApiBuiltFunctionsRoundTrip) {
  Function f("api");
  Value y = f.add_param("y", {DType::F32, {3}});
  Value c =
      f.add(OpKind::Constant, {}, {{"value", AttrList{1, 2, 3}}}, TensorType{DType::F32, {3}});
  Value x = f.add_param("x", {DType::F32, {3}});  // a parameter after a body value
  Value s = f.add(OpKind::Add, {x, c});
  Value m = f.add(OpKind::Mul, {s, y});
  Value r = f.add(OpKind::ReduceSum, {m}, {{"axes", int_list({0})}});
  f.set_results({r, s});
  std::string text = print(f);
  Module parsed = parse_module(text);
  EXPECT_EQ(print(parsed), text);
  // The parser puts parameters first, so node ids (and the hash) change unless the original
  // already did; reprinting from the parsed function is a fixed point.
  Module again = parse_module(print(parsed));
  EXPECT_EQ(again.functions[0].structural_hash(), parsed.functions[0].structural_hash());
}

TEST(Parser, ZeroParameterFunctionAndExtremeIntegers) {
  Module m = parse_module(R"(func @f() -> i64[2] {
  %0 = constant {value=[-9223372036854775808,9223372036854775807]} : i64[2]
  return %0
})");
  const Attr& value = m.functions[0].nodes()[0].attrs.get("value");
  EXPECT_EQ(value.as_list()[0].as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(value.as_list()[1].as_int(), std::numeric_limits<int64_t>::max());
}

TEST(Parser, ParseFileReportsUnreadableFiles) {
  std::string missing = kir_path("no_such_file.kir");
  try {
    parse_file(missing);
    FAIL() << "no error";
  } catch (const ParseError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": error: cannot open: No such file or directory");
  }
  std::string dir = kir_path("");
  try {
    parse_file(dir);
    FAIL() << "no error";
  } catch (const ParseError& e) {
    EXPECT_EQ(std::string(e.what()), dir + ": error: is a directory, not a regular file");
  }
  // A device that never ends is refused before a byte is read.
  try {
    parse_file("/dev/zero");
    FAIL() << "no error";
  } catch (const ParseError& e) {
    EXPECT_STREQ(e.what(), "/dev/zero: error: is a character device, not a regular file");
  }
}

TEST(Parser, FileNameAppearsInErrors) {
  try {
    parse_module("func @f() -> f32[] {\n  return %y\n}\n", "model.kir");
    FAIL() << "no error";
  } catch (const ParseError& e) {
    EXPECT_STREQ(e.what(), "model.kir:2:10: error: use of undefined value %y");
  }
}

// ----- attribute values and types on their own -----

TEST(AttrSyntax, ReadsEveryKind) {
  EXPECT_EQ(parse_attr_string("42"), Attr(42));
  EXPECT_EQ(parse_attr_string("-7"), Attr(-7));
  EXPECT_TRUE(parse_attr_string("1.5").is_float());
  EXPECT_EQ(parse_attr_string("1.5"), Attr(1.5));
  EXPECT_EQ(parse_attr_string("-2e-3"), Attr(-2e-3));
  EXPECT_EQ(parse_attr_string("1e10"), Attr(1e10));
  EXPECT_EQ(parse_attr_string("1E+2"), Attr(100.0));
  EXPECT_TRUE(std::isnan(parse_attr_string("nan").as_float()));
  EXPECT_EQ(parse_attr_string("inf"), Attr(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(parse_attr_string("-inf"), Attr(-std::numeric_limits<double>::infinity()));
  EXPECT_TRUE(std::signbit(parse_attr_string("-0.0").as_float()));
  EXPECT_EQ(parse_attr_string("true"), Attr(true));
  EXPECT_EQ(parse_attr_string("false"), Attr(false));
  EXPECT_EQ(parse_attr_string("bf16"), Attr(DType::BF16));
  EXPECT_EQ(parse_attr_string(R"("a \"q\" \\ \n")"), Attr("a \"q\" \\ \n"));
  EXPECT_EQ(parse_attr_string("[]"), Attr(AttrList{}));
  EXPECT_EQ(parse_attr_string("[[1.0, 2.0], [3.0,4.0]]"),
            Attr(AttrList{Attr(AttrList{1.0, 2.0}), Attr(AttrList{3.0, 4.0})}));
  EXPECT_EQ(parse_attr_string("[1, 2.0, true, f32, \"s\"]"),
            Attr(AttrList{1, 2.0, true, DType::F32, "s"}));
  // Ints and floats stay apart: 1 is not 1.0.
  EXPECT_TRUE(parse_attr_string("1").is_int());
  EXPECT_TRUE(parse_attr_string("1.0").is_float());
}

TEST(AttrSyntax, StringsKeepAnyByteButNewline) {
  std::string bytes = "\x01\xff\x80 \r\t";
  bytes += '\0';
  Attr a(bytes);
  EXPECT_EQ(parse_attr_string(attr_str(a)), a);
}

TEST(AttrSyntax, ErrorsPointIntoTheString) {
  auto error = [](std::string_view text) {
    try {
      parse_attr_string(text);
    } catch (const SyntaxError& e) {
      return std::to_string(e.loc.line) + ":" + std::to_string(e.loc.column) + ": " + e.message;
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("[1, 2"), "1:6: expected ',' or ']', got end of file");
  EXPECT_EQ(error("\"abc"), "1:1: unterminated string");
  EXPECT_EQ(error("\"a\\tb\""), "1:3: unknown escape '\\t' in string (use \\\", \\\\ or \\n)");
  EXPECT_EQ(error("f31"), "1:1: expected an attribute value, got 'f31'");
  EXPECT_EQ(error("1 2"), "1:3: unexpected '2' after the attribute value");
  EXPECT_EQ(error("1."), "1:2: expected a digit after '.' in a number");
  EXPECT_EQ(error("1e"), "1:2: expected digits in the number's exponent");
  EXPECT_EQ(error("1e999"), "1:1: float literal '1e999' is out of range for f64");
  EXPECT_EQ(error("-nan"), "1:1: unexpected character '-'");
  EXPECT_EQ(error(std::string(65, '[') + std::string(65, ']')),
            "1:65: attribute lists nest deeper than 64 levels");
  EXPECT_EQ(error(std::string(64, '[') + std::string(64, ']')), "no error");
}

// Doubles compare by bits (so -0.0 differs from 0.0), but every NaN prints as nan.
bool same_attr(const Attr& a, const Attr& b) {
  if (a.is_float() && b.is_float()) {
    double x = a.as_float(), y = b.as_float();
    return std::isnan(x) ? std::isnan(y) : std::bit_cast<uint64_t>(x) == std::bit_cast<uint64_t>(y);
  }
  if (a.is_list() && b.is_list()) {
    if (a.as_list().size() != b.as_list().size()) return false;
    for (size_t i = 0; i < a.as_list().size(); ++i)
      if (!same_attr(a.as_list()[i], b.as_list()[i])) return false;
    return true;
  }
  return a == b;
}

Attr random_attr(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth < 4 ? 7 : 6)) {
    case 0:
      return Attr(static_cast<int64_t>(rng()));
    case 1:
      return Attr(std::bit_cast<double>(rng()));  // any bit pattern, NaNs and all
    case 2: {
      const double specials[] = {0.0,
                                 -0.0,
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 std::numeric_limits<double>::denorm_min(),
                                 std::numeric_limits<double>::max(),
                                 0.1,
                                 1e-300};
      return Attr(specials[rng() % 8]);
    }
    case 3:
      return Attr(rng() % 2 == 0);
    case 4:
      return Attr(kAllDTypes[rng() % std::size(kAllDTypes)]);
    case 5: {
      std::string s;
      for (size_t n = rng() % 6; n > 0; --n)
        s += static_cast<char>(rng() % 256);
      return Attr(s);
    }
    default: {
      AttrList list;
      for (size_t n = rng() % 4; n > 0; --n)
        list.push_back(random_attr(rng, depth + 1));
      return Attr(list);
    }
  }
}

TEST(AttrSyntax, RandomValuesRoundTripExactly) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 3000; ++i) {
    Attr a = random_attr(rng, 0);
    std::string text = attr_str(a);
    Attr b = parse_attr_string(text);
    ASSERT_TRUE(same_attr(a, b)) << text;
    ASSERT_EQ(attr_str(b), text);
  }
}

TEST(TypeSyntax, ReadsTypes) {
  EXPECT_EQ(parse_type_string("f32[]"), (TensorType{DType::F32, {}}));
  EXPECT_EQ(parse_type_string("bool[0, 3]"), (TensorType{DType::Bool, {0, 3}}));
  EXPECT_EQ(parse_type_string("u8[1099511627776]"), (TensorType{DType::U8, {int64_t{1} << 40}}));
  for (DType d : kAllDTypes) {
    TensorType t{d, {2, 3}};
    EXPECT_EQ(parse_type_string(t.str()), t);
  }
}

}  // namespace
}  // namespace kiln::ir
