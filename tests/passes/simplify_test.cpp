// simplify as a whole: the rules working together to a fixed point, and on every conformance
// program the result computes exactly what the input did and is itself a fixed point.

#include <filesystem>

#include "passes/simplify.h"
#include "tests/passes/pass_test_util.h"

namespace kiln::passes {
namespace {

using testing::expect_passes;

TEST(Simplify, RulesFeedEachOther) {
  // convert(1) folds to a splat 1.0, which the multiply then drops; the slices compose into a
  // full-range slice, which disappears; the dead constant chain goes too.
  expect_passes("simplify", R"(func @f(%x: f32[4]) -> (f32[4], f32[4]) {
  %0 = constant {value=1} : i32[]
  %1 = broadcast %0 {shape=[4], dims=[]} : i32[4]
  %2 = convert %1 : f32[4]
  %3 = mul %x, %2 : f32[4]
  %4 = neg %3 : f32[4]
  %5 = neg %4 : f32[4]
  %6 = slice %x {start=[0], limit=[4]} : f32[4]
  %7 = reshape %6 {shape=[2,2]} : f32[2,2]
  %8 = transpose %7 {perm=[1,0]} : f32[2,2]
  %9 = transpose %8 {perm=[1,0]} : f32[2,2]
  %10 = reshape %9 {shape=[4]} : f32[4]
  %11 = constant {value=2.0} : f32[]
  %12 = exp %11 : f32[]
  return %5, %10
})",
                R"(func @f(%x: f32[4]) -> (f32[4], f32[4]) {
  return %x, %x
}
)");
}

TEST(Simplify, LeavesSimpleCodeAlone) {
  std::string input = R"(func @mlp(%x: f32[2,4], %w: f32[4,3], %b: f32[3]) -> f32[2,3] {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[2,3]
  %1 = broadcast %b {shape=[2,3], dims=[1]} : f32[2,3]
  %2 = add %0, %1 : f32[2,3]
  %3 = constant {value=0.0} : f32[]
  %4 = broadcast %3 {shape=[2,3], dims=[]} : f32[2,3]
  %5 = max %2, %4 : f32[2,3]
  return %5
}
)";
  expect_passes("simplify", input, input);
}

TEST(Simplify, IsIdempotent) {
  ir::Module m = ir::parse_module(R"(func @f(%x: i32[3]) -> i32[3] {
  %0 = constant {value=2} : i32[]
  %1 = constant {value=3} : i32[]
  %2 = mul %0, %1 : i32[]
  %3 = broadcast %2 {shape=[3], dims=[]} : i32[3]
  %4 = add %x, %3 : i32[3]
  return %4
})");
  ir::Function once = simplify(m.functions[0]);
  EXPECT_EQ(ir::print(simplify(once)), ir::print(once));
  EXPECT_NE(ir::print(once).find("constant {value=6} : i32[]"), std::string::npos);
}

TEST(Simplify, ConformanceProgramsComputeTheSame) {
  namespace fs = std::filesystem;
  int checked = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(KILN_SOURCE_DIR) / "tests" / "conformance" / "programs")) {
    if (entry.path().extension() != ".kir") continue;
    SCOPED_TRACE(entry.path().filename().string());
    ir::Module before = ir::parse_file(entry.path());
    PassManager manager;
    manager.add("simplify");
    ir::Module after = manager.run(before);
    for (size_t i = 0; i < before.functions.size(); ++i) {
      testing::expect_same_results(before.functions[i], after.functions[i], 3);
      // A fixed point: simplifying again changes nothing.
      EXPECT_EQ(ir::print(simplify(after.functions[i])), ir::print(after.functions[i]));
    }
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

}  // namespace
}  // namespace kiln::passes
