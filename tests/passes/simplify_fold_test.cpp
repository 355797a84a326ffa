// Constant folding, text in and text out: every folded value must be what the interpreter
// computes unfolded, bit for bit, and must print and parse back exactly.

#include "tests/passes/pass_test_util.h"

namespace kiln::passes {
namespace {

using testing::expect_passes;

void expect_folded(std::string_view input, std::string_view expected) {
  std::string printed = expect_passes("fold-constants", input, expected);
  EXPECT_EQ(ir::print(ir::parse_module(printed)), printed) << "folded text must round-trip";
}

TEST(FoldConstants, ScalarArithmetic) {
  expect_folded(R"(func @f() -> (f32[], i8[], u32[], f32[]) {
  %0 = constant {value=3.0} : f32[]
  %1 = constant {value=4.5} : f32[]
  %2 = add %0, %1 : f32[]
  %3 = constant {value=127} : i8[]
  %4 = constant {value=1} : i8[]
  %5 = add %3, %4 : i8[]
  %6 = constant {value=4294967295} : u32[]
  %7 = constant {value=1} : u32[]
  %8 = add %6, %7 : u32[]
  %9 = exp %2 : f32[]
  return %2, %5, %8, %9
})",
                R"(func @f() -> (f32[], i8[], u32[], f32[]) {
  %0 = constant {value=7.5} : f32[]
  %1 = constant {value=-128} : i8[]
  %2 = constant {value=0} : u32[]
  %3 = constant {value=1808.0423583984375} : f32[]
  return %0, %1, %2, %3
}
)");
}

TEST(FoldConstants, SpecialFloats) {
  expect_folded(R"(func @f() -> (f32[], f32[], f64[], f16[], f32[]) {
  %0 = constant {value=0.0} : f32[]
  %1 = div %0, %0 : f32[]
  %2 = constant {value=1.0} : f32[]
  %3 = div %2, %0 : f32[]
  %4 = constant {value=0.0} : f64[]
  %5 = neg %4 : f64[]
  %6 = constant {value=0.1} : f32[]
  %7 = convert %6 : f16[]
  %8 = constant {value=1e-45} : f32[]
  return %1, %3, %5, %7, %8
})",
                R"(func @f() -> (f32[], f32[], f64[], f16[], f32[]) {
  %0 = constant {value=nan} : f32[]
  %1 = constant {value=inf} : f32[]
  %2 = constant {value=-0.0} : f64[]
  %3 = constant {value=0.0999755859375} : f16[]
  %4 = constant {value=1e-45} : f32[]
  return %0, %1, %2, %3, %4
}
)");
}

TEST(FoldConstants, ListsAndIndexMovement) {
  expect_folded(R"(func @f() -> (i32[3], i32[3,2], i32[2], bool[3], i32[4]) {
  %0 = constant {value=[1, 2, 3]} : i32[3]
  %1 = constant {value=[4, 5, 6]} : i32[3]
  %2 = add %0, %1 : i32[3]
  %3 = constant {value=[[1, 2, 3], [4, 5, 6]]} : i32[2,3]
  %4 = transpose %3 {perm=[1,0]} : i32[3,2]
  %5 = slice %0 {start=[1], limit=[3]} : i32[2]
  %6 = lt %0, %1 : bool[3]
  %7 = eq %0, %0 : bool[3]
  %8 = xor %6, %7 : bool[3]
  %9 = constant {value=[7]} : i32[1]
  %10 = concatenate %0, %9 {axis=0} : i32[4]
  return %2, %4, %5, %8, %10
})",
                R"(func @f() -> (i32[3], i32[3,2], i32[2], bool[3], i32[4]) {
  %0 = constant {value=[5,7,9]} : i32[3]
  %1 = constant {value=[[1,4],[2,5],[3,6]]} : i32[3,2]
  %2 = constant {value=[2,3]} : i32[2]
  %3 = constant {value=false} : bool[]
  %4 = broadcast %3 {shape=[3], dims=[]} : bool[3]
  %5 = constant {value=[1,2,3,7]} : i32[4]
  return %0, %1, %2, %4, %5
}
)");
}

TEST(FoldConstants, SplatResultsStayBroadcastsOfScalars) {
  // Elementwise ops on splats fold whatever their size; a reduction's splat result becomes a
  // broadcast too.
  expect_folded(R"(func @f() -> (f32[2048], i32[2], f32[3]) {
  %0 = constant {value=1.5} : f32[]
  %1 = broadcast %0 {shape=[2048], dims=[]} : f32[2048]
  %2 = constant {value=2.0} : f32[2048]
  %3 = mul %1, %2 : f32[2048]
  %4 = constant {value=[[1, 2], [2, 1]]} : i32[2,2]
  %5 = reduce_sum %4 {axes=[1]} : i32[2]
  %6 = constant {value=[2.0, 2.0, 2.0]} : f32[3]
  return %3, %5, %6
})",
                R"(func @f() -> (f32[2048], i32[2], f32[3]) {
  %0 = constant {value=3.0} : f32[]
  %1 = broadcast %0 {shape=[2048], dims=[]} : f32[2048]
  %2 = constant {value=3} : i32[]
  %3 = broadcast %2 {shape=[2], dims=[]} : i32[2]
  %4 = constant {value=[2.0,2.0,2.0]} : f32[3]
  return %1, %3, %4
}
)");
}

TEST(FoldConstants, LargeResultsAndGeneratorsStay) {
  // 2048 distinct elements are over the limit; iota and a splat broadcast are already minimal.
  std::string input = R"(func @f() -> (f32[2,1024], i32[4], f32[8]) {
  %0 = constant {value=[1.0,2.0]} : f32[2]
  %1 = broadcast %0 {shape=[2,1024], dims=[0]} : f32[2,1024]
  %2 = iota {axis=0} : i32[4]
  %3 = constant {value=1.0} : f32[]
  %4 = broadcast %3 {shape=[8], dims=[]} : f32[8]
  return %1, %2, %4
}
)";
  expect_folded(input, input);
}

TEST(FoldConstants, ReductionAndDotOfConstants) {
  expect_folded(R"(func @f() -> (f32[], f32[2]) {
  %0 = constant {value=[[1.0, 2.0], [3.0, 4.0]]} : f32[2,2]
  %1 = reduce_sum %0 {axes=[0,1]} : f32[]
  %2 = constant {value=[1.0, -1.0]} : f32[2]
  %3 = dot_general %0, %2 {lhs_contract=[1], rhs_contract=[0]} : f32[2]
  return %1, %3
})",
                R"(func @f() -> (f32[], f32[2]) {
  %0 = constant {value=10.0} : f32[]
  %1 = constant {value=-1.0} : f32[]
  %2 = broadcast %1 {shape=[2], dims=[]} : f32[2]
  return %0, %2
}
)");
}

TEST(FoldConstants, OperandsThatAreNotConstantStay) {
  std::string input = R"(func @f(%x: f32[2]) -> f32[2] {
  %0 = constant {value=[1.0,2.0]} : f32[2]
  %1 = add %x, %0 : f32[2]
  return %1
}
)";
  expect_folded(input, input);
}

}  // namespace
}  // namespace kiln::passes
