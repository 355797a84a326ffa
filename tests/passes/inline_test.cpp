// Inlining: calls disappear, hash-consing merges repeated calls, marked calls stay when asked,
// and the flat function computes what the module did.

#include <gtest/gtest.h>

#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/inline.h"

namespace kiln::passes {
namespace {

const char* const kModule = R"(func @main(%x: f32[3]) -> (f32[3], f32[]) {
  %0 = call @outer(%x) : f32[3]
  %1 = call @outer(%x) {result=1} : f32[]
  %2 = call @inner(%0) {vjp="inner_bwd"} : f32[3]
  return %2, %1
}

func @outer(%a: f32[3]) -> (f32[3], f32[]) {
  %0 = call @inner(%a) : f32[3]
  %1 = reduce_sum %0 {axes=[0]} : f32[]
  return %0, %1
}

func @inner(%a: f32[3]) -> f32[3] {
  %0 = exp %a : f32[3]
  return %0
}

func @inner_bwd(%a: f32[3], %c: f32[3]) -> f32[3] {
  %0 = exp %a : f32[3]
  %1 = mul %0, %c : f32[3]
  return %1
}
)";

TEST(Inline, CallsDisappearAndRepeatedCallsMerge) {
  ir::Module m = ir::parse_module(kModule, "t.kir");
  ir::verify(m);
  ir::Function flat = inline_calls(m, m.functions[0]);
  EXPECT_FALSE(has_calls(flat));
  EXPECT_EQ(ir::print(flat), R"(func @main(%x: f32[3]) -> (f32[3], f32[]) {
  %0 = exp %x : f32[3]
  %1 = reduce_sum %0 {axes=[0]} : f32[]
  %2 = exp %0 : f32[3]
  return %2, %1
}
)");
  ir::HostArray x(ir::TensorType{ir::DType::F32, {3}});
  for (int i = 0; i < 3; ++i)
    x.set_f64(i, 0.25 * i);
  std::vector<ir::HostArray> args = {x};
  auto want = ir::interpret(m, m.functions[0], args);
  auto got = ir::interpret(flat, args);
  for (size_t k = 0; k < want.size(); ++k)
    for (int64_t i = 0; i < want[k].num_elements(); ++i)
      EXPECT_EQ(want[k].get_f64(i), got[k].get_f64(i));
}

TEST(Inline, MarkedCallsStayWhenAsked) {
  ir::Module m = ir::parse_module(kModule, "t.kir");
  ir::Function kept = inline_calls(m, m.functions[0], {.keep_marked_calls = true});
  EXPECT_EQ(ir::print(kept), R"(func @main(%x: f32[3]) -> (f32[3], f32[]) {
  %0 = exp %x : f32[3]
  %1 = reduce_sum %0 {axes=[0]} : f32[]
  %2 = call @inner(%0) {vjp="inner_bwd"} : f32[3]
  return %2, %1
}
)");
}

}  // namespace
}  // namespace kiln::passes
