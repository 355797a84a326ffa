// One text-in/text-out test per algebraic identity, and the cases that must not fold because
// the identity fails for some float (signed zeros, NaN, infinities) or some value.

#include "tests/passes/pass_test_util.h"

namespace kiln::passes {
namespace {

using testing::expect_passes;

void expect_algebraic(std::string_view input, std::string_view expected) {
  expect_passes("algebraic", input, expected);
}

// Whatever the input, the pass must leave it as it is (printed canonically).
void expect_unchanged(std::string_view passes, std::string_view input) {
  std::string canonical = ir::print(ir::parse_module(input));
  expect_passes(passes, input, canonical);
}

TEST(Algebraic, AddNegativeZeroFloat) {
  expect_algebraic(R"(func @f(%x: f32[3]) -> (f32[3], f32[3]) {
  %0 = constant {value=-0.0} : f32[]
  %1 = broadcast %0 {shape=[3], dims=[]} : f32[3]
  %2 = add %x, %1 : f32[3]
  %3 = add %1, %x : f32[3]
  return %2, %3
})",
                   R"(func @f(%x: f32[3]) -> (f32[3], f32[3]) {
  return %x, %x
}
)");
}

TEST(Algebraic, AddPositiveZeroFloatDoesNotFold) {
  // -0 + +0 is +0, so x + 0.0 is not x.
  expect_unchanged("algebraic", R"(func @f(%x: f32[3]) -> f32[3] {
  %0 = constant {value=0.0} : f32[]
  %1 = broadcast %0 {shape=[3], dims=[]} : f32[3]
  %2 = add %x, %1 : f32[3]
  return %2
})");
}

TEST(Algebraic, AddZeroInteger) {
  expect_algebraic(R"(func @f(%x: i32[2], %s: u8[]) -> (i32[2], u8[]) {
  %0 = constant {value=0} : i32[2]
  %1 = add %0, %x : i32[2]
  %2 = constant {value=0} : u8[]
  %3 = add %s, %2 : u8[]
  return %1, %3
})",
                   R"(func @f(%x: i32[2], %s: u8[]) -> (i32[2], u8[]) {
  return %x, %s
}
)");
}

TEST(Algebraic, SubZero) {
  expect_algebraic(R"(func @f(%x: f64[2], %n: i16[2]) -> (f64[2], i16[2]) {
  %0 = constant {value=0.0} : f64[]
  %1 = broadcast %0 {shape=[2], dims=[]} : f64[2]
  %2 = sub %x, %1 : f64[2]
  %3 = constant {value=0} : i16[2]
  %4 = sub %n, %3 : i16[2]
  return %2, %4
})",
                   R"(func @f(%x: f64[2], %n: i16[2]) -> (f64[2], i16[2]) {
  return %x, %n
}
)");
}

TEST(Algebraic, SubNegativeZeroOrFromZeroDoesNotFold) {
  // x - (-0) is x + 0, which turns -0 into +0; 0 - x is not x.
  expect_unchanged("algebraic", R"(func @f(%x: f32[2]) -> (f32[2], f32[2]) {
  %0 = constant {value=-0.0} : f32[]
  %1 = broadcast %0 {shape=[2], dims=[]} : f32[2]
  %2 = sub %x, %1 : f32[2]
  %3 = constant {value=0.0} : f32[2]
  %4 = sub %3, %x : f32[2]
  return %2, %4
})");
}

TEST(Algebraic, MulOneAndDivOne) {
  expect_algebraic(R"(func @f(%x: bf16[2,2], %n: i64[2,2]) -> (bf16[2,2], bf16[2,2], i64[2,2]) {
  %0 = constant {value=1.0} : bf16[]
  %1 = broadcast %0 {shape=[2,2], dims=[]} : bf16[2,2]
  %2 = mul %1, %x : bf16[2,2]
  %3 = div %x, %1 : bf16[2,2]
  %4 = constant {value=1} : i64[2,2]
  %5 = mul %n, %4 : i64[2,2]
  return %2, %3, %5
})",
                   R"(func @f(%x: bf16[2,2], %n: i64[2,2]) -> (bf16[2,2], bf16[2,2], i64[2,2]) {
  return %x, %x, %n
}
)");
}

TEST(Algebraic, OneOverXDoesNotFold) {
  expect_unchanged("algebraic", R"(func @f(%x: f32[]) -> f32[] {
  %0 = constant {value=1.0} : f32[]
  %1 = div %0, %x : f32[]
  return %1
})");
}

TEST(Algebraic, MulZeroIntegerGivesZero) {
  expect_algebraic(R"(func @f(%x: i32[3]) -> i32[3] {
  %0 = constant {value=0} : i32[]
  %1 = broadcast %0 {shape=[3], dims=[]} : i32[3]
  %2 = mul %x, %1 : i32[3]
  return %2
})",
                   R"(func @f(%x: i32[3]) -> i32[3] {
  %0 = constant {value=0} : i32[]
  %1 = broadcast %0 {shape=[3], dims=[]} : i32[3]
  return %1
}
)");
}

TEST(Algebraic, MulZeroFloatDoesNotFold) {
  // NaN * 0, inf * 0 and -1 * 0 are not +0.
  expect_unchanged("simplify", R"(func @f(%x: f32[3]) -> f32[3] {
  %0 = constant {value=0.0} : f32[]
  %1 = broadcast %0 {shape=[3], dims=[]} : f32[3]
  %2 = mul %x, %1 : f32[3]
  return %2
})");
}

TEST(Algebraic, DoubleNegAndDoubleNot) {
  expect_algebraic(
      R"(func @f(%x: f32[2], %b: bool[2], %n: i8[2]) -> (f32[2], bool[2], i8[2], f32[2]) {
  %0 = neg %x : f32[2]
  %1 = neg %0 : f32[2]
  %2 = not %b : bool[2]
  %3 = not %2 : bool[2]
  %4 = not %n : i8[2]
  %5 = not %4 : i8[2]
  %6 = neg %1 : f32[2]
  return %1, %3, %5, %6
})",
      R"(func @f(%x: f32[2], %b: bool[2], %n: i8[2]) -> (f32[2], bool[2], i8[2], f32[2]) {
  %0 = neg %x : f32[2]
  return %x, %b, %n, %0
}
)");
}

TEST(Algebraic, ConvertToSameDtype) {
  expect_algebraic(R"(func @f(%x: f16[2]) -> f16[2] {
  %0 = convert %x : f16[2]
  return %0
})",
                   R"(func @f(%x: f16[2]) -> f16[2] {
  return %x
}
)");
}

TEST(Algebraic, ConvertChainThroughWiderType) {
  expect_algebraic(
      R"(func @f(%x: i8[2], %y: f32[2], %u: u8[2]) -> (f32[2], f32[2], f32[2], bool[2]) {
  %0 = convert %x : i32[2]
  %1 = convert %0 : f32[2]
  %2 = convert %y : f64[2]
  %3 = convert %2 : f32[2]
  %4 = convert %u : bf16[2]
  %5 = convert %4 : f32[2]
  %6 = convert %y : f64[2]
  %7 = convert %6 : bool[2]
  return %1, %3, %5, %7
})",
      R"(func @f(%x: i8[2], %y: f32[2], %u: u8[2]) -> (f32[2], f32[2], f32[2], bool[2]) {
  %0 = convert %x : f32[2]
  %1 = convert %u : f32[2]
  %2 = convert %y : bool[2]
  return %0, %y, %1, %2
}
)");
}

TEST(Algebraic, ConvertChainThroughNarrowerTypeDoesNotFold) {
  // f16 rounds f32 values; f32 rounds large i32s; f16 cannot hold every i16; bool is lossy.
  expect_unchanged(
      "algebraic",
      R"(func @f(%x: f32[2], %n: i32[2], %s: i16[2]) -> (f32[2], i32[2], f32[2], i32[2]) {
  %0 = convert %x : f16[2]
  %1 = convert %0 : f32[2]
  %2 = convert %n : f32[2]
  %3 = convert %2 : i32[2]
  %4 = convert %s : f16[2]
  %5 = convert %4 : f32[2]
  %6 = convert %n : bool[2]
  %7 = convert %6 : i32[2]
  return %1, %3, %5, %7
})");
}

TEST(Algebraic, BroadcastOfBroadcast) {
  expect_algebraic(R"(func @f(%x: f32[3], %y: f32[1]) -> (f32[4,2,3], f32[2,3]) {
  %0 = broadcast %x {shape=[2,3], dims=[1]} : f32[2,3]
  %1 = broadcast %0 {shape=[4,2,3], dims=[1,2]} : f32[4,2,3]
  %2 = broadcast %y {shape=[3], dims=[0]} : f32[3]
  %3 = broadcast %2 {shape=[2,3], dims=[1]} : f32[2,3]
  return %1, %3
})",
                   R"(func @f(%x: f32[3], %y: f32[1]) -> (f32[4,2,3], f32[2,3]) {
  %0 = broadcast %x {shape=[4,2,3], dims=[2]} : f32[4,2,3]
  %1 = broadcast %y {shape=[2,3], dims=[1]} : f32[2,3]
  return %0, %1
}
)");
}

TEST(Algebraic, BroadcastToSameShape) {
  expect_algebraic(R"(func @f(%x: i32[2,3]) -> i32[2,3] {
  %0 = broadcast %x {shape=[2,3], dims=[0,1]} : i32[2,3]
  return %0
})",
                   R"(func @f(%x: i32[2,3]) -> i32[2,3] {
  return %x
}
)");
}

TEST(Algebraic, ReshapeOfReshape) {
  expect_algebraic(R"(func @f(%x: f32[2,3,4]) -> (f32[24], f32[2,3,4], f32[2,3,4]) {
  %0 = reshape %x {shape=[6,4]} : f32[6,4]
  %1 = reshape %0 {shape=[24]} : f32[24]
  %2 = reshape %1 {shape=[2,3,4]} : f32[2,3,4]
  %3 = reshape %x {shape=[2,3,4]} : f32[2,3,4]
  return %1, %2, %3
})",
                   R"(func @f(%x: f32[2,3,4]) -> (f32[24], f32[2,3,4], f32[2,3,4]) {
  %0 = reshape %x {shape=[24]} : f32[24]
  return %0, %x, %x
}
)");
}

TEST(Algebraic, TransposeOfTranspose) {
  expect_algebraic(R"(func @f(%x: f32[2,3,4]) -> (f32[4,2,3], f32[2,3,4], f32[2,3,4]) {
  %0 = transpose %x {perm=[1,2,0]} : f32[3,4,2]
  %1 = transpose %0 {perm=[1,2,0]} : f32[4,2,3]
  %2 = transpose %0 {perm=[2,0,1]} : f32[2,3,4]
  %3 = transpose %x {perm=[0,1,2]} : f32[2,3,4]
  return %1, %2, %3
})",
                   R"(func @f(%x: f32[2,3,4]) -> (f32[4,2,3], f32[2,3,4], f32[2,3,4]) {
  %0 = transpose %x {perm=[2,0,1]} : f32[4,2,3]
  return %0, %x, %x
}
)");
}

TEST(Algebraic, DotGeneralReadsATransposeInPlace) {
  // x^T @ w and a @ a^T: the transposes fold into the dimension numbers.
  expect_algebraic(R"(func @f(%x: f32[5,3], %w: f32[5,4], %a: f32[3,5]) -> (f32[3,4], f32[3,3]) {
  %0 = transpose %x {perm=[1,0]} : f32[3,5]
  %1 = dot_general %0, %w {lhs_contract=[1], rhs_contract=[0]} : f32[3,4]
  %2 = transpose %a {perm=[1,0]} : f32[5,3]
  %3 = dot_general %a, %2 {lhs_contract=[1], rhs_contract=[0]} : f32[3,3]
  return %1, %3
})",
                   R"(func @f(%x: f32[5,3], %w: f32[5,4], %a: f32[3,5]) -> (f32[3,4], f32[3,3]) {
  %0 = dot_general %x, %w {lhs_contract=[0], rhs_contract=[0]} : f32[3,4]
  %1 = dot_general %a, %a {lhs_contract=[1], rhs_contract=[1]} : f32[3,3]
  return %0, %1
}
)");
  // Batched: the batch dimension moves with the permutation too.
  expect_algebraic(R"(func @f(%x: f32[3,2,5], %y: f32[2,5,4]) -> f32[2,3,4] {
  %0 = transpose %x {perm=[1,0,2]} : f32[2,3,5]
  %1 = dot_general %0, %y {lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]} : f32[2,3,4]
  return %1
})",
                   R"(func @f(%x: f32[3,2,5], %y: f32[2,5,4]) -> f32[2,3,4] {
  %0 = dot_general %x, %y {lhs_batch=[1], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]} : f32[2,3,4]
  return %0
}
)");
}

TEST(Algebraic, DotGeneralKeepsATransposeThatReordersFreeDimensions) {
  // The result lists x's free dimensions in operand order: folding would swap them.
  expect_unchanged("algebraic", R"(func @f(%x: f32[2,3,5], %w: f32[5,4]) -> f32[3,2,4] {
  %0 = transpose %x {perm=[1,0,2]} : f32[3,2,5]
  %1 = dot_general %0, %w {lhs_contract=[2], rhs_contract=[0]} : f32[3,2,4]
  return %1
})");
}

TEST(Algebraic, SliceOfSlice) {
  // x[1:9:2] takes 1,3,5,7 and [1:4] of that takes 3,5,7; the 2-D case also slices rows.
  expect_algebraic(R"(func @f(%x: f32[10], %y: i32[6,5]) -> (f32[3], i32[2,2], f32[0]) {
  %0 = slice %x {start=[1], limit=[9], stride=[2]} : f32[4]
  %1 = slice %0 {start=[1], limit=[4]} : f32[3]
  %2 = slice %y {start=[1,0], limit=[6,5], stride=[1,2]} : i32[5,3]
  %3 = slice %2 {start=[2,1], limit=[5,3], stride=[2,1]} : i32[2,2]
  %4 = slice %0 {start=[4], limit=[4]} : f32[0]
  return %1, %3, %4
})",
                   R"(func @f(%x: f32[10], %y: i32[6,5]) -> (f32[3], i32[2,2], f32[0]) {
  %0 = slice %x {start=[3], limit=[8], stride=[2]} : f32[3]
  %1 = slice %y {start=[3,2], limit=[6,5], stride=[2,2]} : i32[2,2]
  %2 = slice %x {start=[0], limit=[0]} : f32[0]
  return %0, %1, %2
}
)");
}

TEST(Algebraic, FullRangeSlice) {
  expect_algebraic(R"(func @f(%x: f32[4,1]) -> (f32[4,1], f32[4,1]) {
  %0 = slice %x {start=[0,0], limit=[4,1]} : f32[4,1]
  %1 = slice %x {start=[0,0], limit=[4,1], stride=[1,5]} : f32[4,1]
  return %0, %1
})",
                   R"(func @f(%x: f32[4,1]) -> (f32[4,1], f32[4,1]) {
  return %x, %x
}
)");
}

TEST(Algebraic, ReductionsOverSizeOneAxes) {
  expect_algebraic(
      R"(func @f(%x: f32[3,1,4], %y: i32[1], %z: f16[2]) -> (f32[3,4], f32[3], i32[], f16[2], f32[3,4]) {
  %0 = reduce_sum %x {axes=[1]} : f32[3,4]
  %1 = reduce_max %0 {axes=[]} : f32[3,4]
  %2 = reduce_prod %y {axes=[0]} : i32[]
  %3 = reduce_min %z {axes=[]} : f16[2]
  %4 = reduce_min %x {axes=[1]} : f32[3,4]
  %5 = reduce_sum %x {axes=[1,2]} : f32[3]
  return %1, %5, %2, %3, %4
})",
      R"(func @f(%x: f32[3,1,4], %y: i32[1], %z: f16[2]) -> (f32[3,4], f32[3], i32[], f16[2], f32[3,4]) {
  %0 = reshape %x {shape=[3,4]} : f32[3,4]
  %1 = reshape %y {shape=[]} : i32[]
  %2 = reduce_sum %x {axes=[1,2]} : f32[3]
  return %0, %2, %1, %z, %0
}
)");
}

TEST(Algebraic, SelectWithSplatPredicateOrEqualBranches) {
  expect_algebraic(R"(func @f(%p: bool[2], %a: f32[2], %b: f32[2]) -> (f32[2], f32[2], f32[2]) {
  %0 = constant {value=true} : bool[]
  %1 = broadcast %0 {shape=[2], dims=[]} : bool[2]
  %2 = select %1, %a, %b : f32[2]
  %3 = constant {value=false} : bool[2]
  %4 = select %3, %a, %b : f32[2]
  %5 = select %p, %b, %b : f32[2]
  return %2, %4, %5
})",
                   R"(func @f(%p: bool[2], %a: f32[2], %b: f32[2]) -> (f32[2], f32[2], f32[2]) {
  return %a, %b, %b
}
)");
}

TEST(Algebraic, SelectWithMixedConstantPredicateDoesNotFold) {
  expect_unchanged("algebraic", R"(func @f(%a: f32[2], %b: f32[2]) -> f32[2] {
  %0 = constant {value=[true, false]} : bool[2]
  %1 = select %0, %a, %b : f32[2]
  return %1
})");
}

// The cases above that must not fold really would change a result: the interpreter says so.
TEST(Algebraic, RefusedIdentitiesReallyFail) {
  ir::Module m = ir::parse_module(R"(func @f(%x: f32[]) -> (f32[], f32[], f32[]) {
  %0 = constant {value=0.0} : f32[]
  %1 = add %x, %0 : f32[]
  %2 = mul %x, %0 : f32[]
  %3 = convert %x : f16[]
  %4 = convert %3 : f32[]
  return %1, %2, %4
})");
  auto run = [&](double x) {
    ir::HostArray a(ir::TensorType{ir::DType::F32, {}});
    a.set_f64(0, x);
    return ir::interpret(m.functions[0], std::vector<ir::HostArray>{a});
  };
  EXPECT_FALSE(std::signbit(run(-0.0)[0].get_f64(0)));  // -0 + 0 is +0
  EXPECT_TRUE(std::isnan(run(std::numeric_limits<double>::infinity())[1].get_f64(0)));
  EXPECT_NE(run(0.1)[2].get_f64(0), static_cast<double>(0.1f));
}

}  // namespace
}  // namespace kiln::passes
