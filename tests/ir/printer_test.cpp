// The printer's canonical form: numbering, attribute order and defaults, layout.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ir/function.h"
#include "ir/parser.h"
#include "ir/printer.h"

namespace kiln::ir {
namespace {

TensorType f32(Shape shape) {
  return {DType::F32, std::move(shape)};
}

Function build_mlp() {
  Function f("mlp");
  Value x = f.add_param("x", f32({32, 784}));
  Value w = f.add_param("w", f32({784, 128}));
  Value b = f.add_param("b", f32({128}));
  Value mm = f.add(OpKind::DotGeneral, {x, w},
                   {{"lhs_contract", int_list({1})}, {"rhs_contract", int_list({0})}});
  Value bb =
      f.add(OpKind::Broadcast, {b}, {{"shape", int_list({32, 128})}, {"dims", int_list({1})}});
  Value sum = f.add(OpKind::Add, {mm, bb});
  Value zero = f.add(OpKind::Constant, {}, {{"value", 0.0}}, f32({}));
  Value zeros =
      f.add(OpKind::Broadcast, {zero}, {{"shape", int_list({32, 128})}, {"dims", int_list({})}});
  f.set_results({f.add(OpKind::Max, {sum, zeros})});
  return f;
}

constexpr char kMlpText[] =
    R"(func @mlp(%x: f32[32,784], %w: f32[784,128], %b: f32[128]) -> f32[32,128] {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[32,128]
  %1 = broadcast %b {shape=[32,128], dims=[1]} : f32[32,128]
  %2 = add %0, %1 : f32[32,128]
  %3 = constant {value=0.0} : f32[]
  %4 = broadcast %3 {shape=[32,128], dims=[]} : f32[32,128]
  %5 = max %2, %4 : f32[32,128]
  return %5
}
)";

TEST(Printer, PrintsTheArchitectureExample) {
  EXPECT_EQ(print(build_mlp()), kMlpText);
}

TEST(Printer, ParsingThePrintedTextRebuildsTheSameGraph) {
  Function f = build_mlp();
  Module m = parse_module(print(f));
  ASSERT_EQ(m.functions.size(), 1u);
  EXPECT_EQ(m.functions[0].structural_hash(), f.structural_hash());
  EXPECT_EQ(print(m), print(f));
}

TEST(Printer, AttributesFollowTheSchemaOrderNotTheAlphabet) {
  Function f("order");
  Value l = f.add_param("l", f32({8, 2, 3}));
  Value r = f.add_param("r", f32({8, 3, 4}));
  Value x = f.add_param("x", f32({10}));
  Value z = f.add_param("z", f32({}));
  Value dot = f.add(OpKind::DotGeneral, {l, r},
                    {{"rhs_contract", int_list({1})},
                     {"lhs_contract", int_list({2})},
                     {"rhs_batch", int_list({0})},
                     {"lhs_batch", int_list({0})}});
  Value sl = f.add(OpKind::Slice, {x},
                   {{"stride", int_list({3})}, {"limit", int_list({9})}, {"start", int_list({1})}});
  Value pd = f.add(OpKind::Pad, {x, z},
                   {{"interior", int_list({2})}, {"high", int_list({1})}, {"low", int_list({0})}});
  f.set_results({dot, sl, pd});
  EXPECT_EQ(
      print(f),
      R"(func @order(%l: f32[8,2,3], %r: f32[8,3,4], %x: f32[10], %z: f32[]) -> (f32[8,2,4], f32[3], f32[29]) {
  %0 = dot_general %l, %r {lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]} : f32[8,2,4]
  %1 = slice %x {start=[1], limit=[9], stride=[3]} : f32[3]
  %2 = pad %x, %z {low=[0], high=[1], interior=[2]} : f32[29]
  return %0, %1, %2
}
)");
}

TEST(Printer, LeavesOutOptionalAttributesEqualToTheirDefault) {
  Function f("defaults");
  Value a = f.add_param("a", f32({4, 5}));
  Value b = f.add_param("b", f32({5, 6}));
  Value z = f.add_param("z", f32({}));
  Value dot = f.add(OpKind::DotGeneral, {a, b},
                    {{"lhs_batch", int_list({})},
                     {"rhs_batch", int_list({})},
                     {"lhs_contract", int_list({1})},
                     {"rhs_contract", int_list({0})}});
  Value sl = f.add(
      OpKind::Slice, {a},
      {{"start", int_list({0, 1})}, {"limit", int_list({4, 5})}, {"stride", int_list({1, 1})}});
  Value pd = f.add(
      OpKind::Pad, {a, z},
      {{"low", int_list({1, 0})}, {"high", int_list({0, 2})}, {"interior", int_list({0, 0})}});
  f.set_results({dot, sl, pd});
  EXPECT_EQ(
      print(f),
      R"(func @defaults(%a: f32[4,5], %b: f32[5,6], %z: f32[]) -> (f32[4,6], f32[4,4], f32[5,7]) {
  %0 = dot_general %a, %b {lhs_contract=[1], rhs_contract=[0]} : f32[4,6]
  %1 = slice %a {start=[0,1], limit=[4,5]} : f32[4,4]
  %2 = pad %a, %z {low=[1,0], high=[0,2]} : f32[5,7]
  return %0, %1, %2
}
)");
}

TEST(Printer, ZeroParametersAndSeveralResults) {
  Function f("consts");
  Value i = f.add(OpKind::Iota, {}, {{"axis", 0}}, TensorType{DType::I32, {3}});
  Value c = f.add(OpKind::Constant, {}, {{"value", true}}, TensorType{DType::Bool, {}});
  f.set_results({i, c, i});
  EXPECT_EQ(print(f), R"(func @consts() -> (i32[3], bool[], i32[3]) {
  %0 = iota {axis=0} : i32[3]
  %1 = constant {value=true} : bool[]
  return %0, %1, %0
}
)");
}

TEST(Printer, ParametersAddedBetweenOpsPrintInTheHeaderAndAreNotCounted) {
  Function f("late");
  Value x = f.add_param("x", f32({2}));
  Value e = f.add(OpKind::Exp, {x});
  Value y = f.add_param("y", f32({2}));
  Value s = f.add(OpKind::Add, {e, y});
  f.set_results({s});
  EXPECT_EQ(print(f), R"(func @late(%x: f32[2], %y: f32[2]) -> f32[2] {
  %0 = exp %x : f32[2]
  %1 = add %0, %y : f32[2]
  return %1
}
)");
}

TEST(Printer, BodyNumbersSkipDigitNamesThatParametersUse) {
  Function f("digits");
  Value p1 = f.add_param("1", f32({2}));
  Value p0 = f.add_param("0", f32({2}));
  Value p3 = f.add_param("3", f32({2}));
  Value a = f.add(OpKind::Add, {p1, p0});
  Value b = f.add(OpKind::Mul, {a, p3});
  Value c = f.add(OpKind::Sub, {b, a});
  f.set_results({c});
  std::string text = print(f);
  EXPECT_EQ(text, R"(func @digits(%1: f32[2], %0: f32[2], %3: f32[2]) -> f32[2] {
  %2 = add %1, %0 : f32[2]
  %4 = mul %2, %3 : f32[2]
  %5 = sub %4, %2 : f32[2]
  return %5
}
)");
  EXPECT_EQ(print(parse_module(text)), text);
}

TEST(Printer, DeadValuesStillPrintInBodyOrder) {
  Function f("dead");
  Value x = f.add_param("x", f32({2}));
  f.add(OpKind::Neg, {x});
  Value e = f.add(OpKind::Exp, {x});
  f.add(OpKind::Log, {e});
  f.set_results({e});
  EXPECT_EQ(print(f), R"(func @dead(%x: f32[2]) -> f32[2] {
  %0 = neg %x : f32[2]
  %1 = exp %x : f32[2]
  %2 = log %1 : f32[2]
  return %1
}
)");
}

TEST(Printer, ModuleSeparatesFunctionsWithABlankLine) {
  Module m;
  Function a("a");
  a.set_results({a.add_param("x", f32({}))});
  Function b("b");
  b.set_results({b.add(OpKind::Constant, {}, {{"value", 2}}, TensorType{DType::I64, {}})});
  m.functions = {a, b};
  EXPECT_EQ(print(m), R"(func @a(%x: f32[]) -> f32[] {
  return %x
}

func @b() -> i64[] {
  %0 = constant {value=2} : i64[]
  return %0
}
)");
  EXPECT_EQ(print(Module{}), "");
}

TEST(Printer, AFunctionWithoutResultsStillPrints) {
  // The verifier rejects it, but a debugging dump must not.
  Function f("none");
  f.add_param("x", f32({1}));
  EXPECT_EQ(print(f), "func @none(%x: f32[1]) -> () {\n  return\n}\n");
}

TEST(Printer, FloatConstantsAlwaysPrintAsFloats) {
  Function f("c");
  AttrList rows{Attr(AttrList{1, 2}), Attr(AttrList{-3, 0})};
  Value ints_as_floats = f.add(OpKind::Constant, {}, {{"value", rows}}, f32({2, 2}));
  const double inf = std::numeric_limits<double>::infinity();
  AttrList specials{std::nan(""), inf, -inf, -0.0, 0.1, 1e300, 5e-324, 123456789.0};
  Value special = f.add(OpKind::Constant, {}, {{"value", specials}}, TensorType{DType::F64, {8}});
  Value ints =
      f.add(OpKind::Constant, {}, {{"value", AttrList{-128, 127}}}, TensorType{DType::I8, {2}});
  f.set_results({ints_as_floats, special, ints});
  EXPECT_EQ(print(f), R"(func @c() -> (f32[2,2], f64[8], i8[2]) {
  %0 = constant {value=[[1.0,2.0],[-3.0,0.0]]} : f32[2,2]
  %1 = constant {value=[nan,inf,-inf,-0.0,0.1,1e+300,5e-324,123456789.0]} : f64[8]
  %2 = constant {value=[-128,127]} : i8[2]
  return %0, %1, %2
}
)");
}

TEST(Printer, AttributeValueForms) {
  EXPECT_EQ(attr_str(Attr(int64_t{-9223372036854775807 - 1})), "-9223372036854775808");
  EXPECT_EQ(attr_str(Attr(1.5)), "1.5");
  EXPECT_EQ(attr_str(Attr(-2e-3)), "-0.002");
  EXPECT_EQ(attr_str(Attr(1e10)), "1e+10");
  EXPECT_EQ(attr_str(Attr(100.0)), "100.0");
  EXPECT_EQ(attr_str(Attr(1e22)), "1e+22");
  EXPECT_EQ(attr_str(Attr(DType::BF16)), "bf16");
  EXPECT_EQ(attr_str(Attr(false)), "false");
  EXPECT_EQ(attr_str(Attr("say \"hi\"\\\n")), R"("say \"hi\"\\\n")");
  EXPECT_EQ(attr_str(Attr(AttrList{})), "[]");
  EXPECT_EQ(attr_str(Attr(AttrList{1, 2.0, Attr(AttrList{DType::I8, "s"})})),
            R"([1,2.0,[i8,"s"]])");
}

}  // namespace
}  // namespace kiln::ir
