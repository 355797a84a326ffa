#include "passes/split_reductions.h"

#include <gtest/gtest.h>

#include <limits>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"

namespace kiln::passes {
namespace {

ir::Function parse_one(const std::string& text) {
  return std::move(ir::parse_module(text, "test.kir").functions.front());
}

TEST(SplitReductions, FullReductionOfALargeValueBecomesRowsThenTotal) {
  ir::Function f = parse_one(R"(func @w5(%x: f32[4194304]) -> f32[] {
  %0 = reduce_sum %x {axes=[0]} : f32[]
  return %0
})");
  EXPECT_EQ(ir::print(split_reductions(f)), R"(func @w5(%x: f32[4194304]) -> f32[] {
  %0 = reshape %x {shape=[1024,4096]} : f32[1024,4096]
  %1 = reduce_sum %0 {axes=[1]} : f32[1024]
  %2 = reduce_sum %1 {axes=[0]} : f32[]
  return %2
}
)");
}

// Rows of f32 products could underflow to 0 (1e-30 * 1e-30) before a later -inf: both steps
// multiply in f64, as the interpreter does in one.
TEST(SplitReductions, FloatProductsAreTakenInF64) {
  ir::Function f = parse_one(R"(func @p(%x: f32[4194304]) -> f32[] {
  %0 = reduce_prod %x {axes=[0]} : f32[]
  return %0
})");
  const ir::Function split = split_reductions(f);
  EXPECT_EQ(ir::print(split), R"(func @p(%x: f32[4194304]) -> f32[] {
  %0 = reshape %x {shape=[1024,4096]} : f32[1024,4096]
  %1 = convert %0 : f64[1024,4096]
  %2 = reduce_prod %1 {axes=[1]} : f64[1024]
  %3 = reduce_prod %2 {axes=[0]} : f64[]
  %4 = convert %3 : f32[]
  return %4
}
)");
  ir::HostArray x(f.param_types()[0]);
  for (int64_t i = 0; i < x.num_elements(); ++i)
    x.set_f64(i, i == 5 || i == 4101 ? 1e-30 : 1.0);  // two rows with one tiny factor each
  x.set_f64(x.num_elements() - 1, -std::numeric_limits<double>::infinity());
  std::vector<ir::HostArray> args{x};
  const ir::HostArray got = ir::interpret(split, args)[0];
  EXPECT_EQ(got.get_f64(0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(got, ir::interpret(f, args)[0]);
}

TEST(SplitReductions, LeavesSmallPartialAndIndivisibleReductionsAlone) {
  for (const char* text :
       {// small
        "func @f(%x: f32[1000]) -> f32[] {\n  %0 = reduce_max %x {axes=[0]} : f32[]\n"
        "  return %0\n}\n",
        // not over every axis
        "func @f(%x: f32[2048,1024]) -> f32[2048] {\n  %0 = reduce_sum %x {axes=[1]} : "
        "f32[2048]\n  return %0\n}\n",
        // a prime count has no row split
        "func @f(%x: f32[1048583]) -> f32[] {\n  %0 = reduce_sum %x {axes=[0]} : f32[]\n"
        "  return %0\n}\n"}) {
    ir::Function f = parse_one(text);
    EXPECT_EQ(ir::print(split_reductions(f)), ir::print(f));
  }
}

TEST(SplitReductions, IntegerAndMaxResultsAreUnchanged) {
  for (const char* op : {"reduce_sum", "reduce_max", "reduce_min", "reduce_prod"}) {
    std::string text = std::string("func @f(%x: i32[64,32768]) -> i32[] {\n  %0 = ") + op +
                       " %x {axes=[0,1]} : i32[]\n  return %0\n}\n";
    ir::Function f = parse_one(text);
    ir::Function split = split_reductions(f);
    ASSERT_NE(ir::print(split), ir::print(f)) << op;
    ir::HostArray x(f.param_types()[0]);
    for (int64_t i = 0; i < x.num_elements(); ++i)
      x.set_i64(i, (i * 7919) % 23 - 11);
    std::vector<ir::HostArray> args{x};
    EXPECT_EQ(ir::interpret(split, args)[0], ir::interpret(f, args)[0]) << op;
  }
}

}  // namespace
}  // namespace kiln::passes
