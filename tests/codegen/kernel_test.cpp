// Kernel IR utilities: hash-consing, structural hash and equality, the printed form.

#include <gtest/gtest.h>

#include "codegen/kernel.h"
#include "codegen/lower.h"
#include "tests/codegen/codegen_test_util.h"

namespace kiln::codegen {
namespace {

using ir::DType;
using ir::OpKind;

Kernel add_one_kernel() {
  Kernel k;
  k.name = "add_one";
  k.buffers = {{{DType::F32, {4, 8}}, false}, {{DType::F32, {4, 8}}, true}};
  k.outer = {4};
  ExprBuilder b(k.exprs);
  const ExprId row = b.index(LoopLevel::Outer, 0);
  const ExprId col = b.index(LoopLevel::Inner, 0);
  const ExprId offset =
      b.op(OpKind::Add, DType::I64, {b.op(OpKind::Mul, DType::I64, {row, b.constant_int(8)}), col});
  const ExprId x = b.load(0, DType::F32, offset);
  const ExprId y = b.op(OpKind::Add, DType::F32, {x, b.constant_float(1.0, DType::F32)});
  Phase p;
  p.kind = PhaseKind::Store;
  p.extents = {8};
  p.stores = {{1, offset, y}};
  k.phases.push_back(p);
  return k;
}

TEST(ExprBuilder, EqualExpressionsAreOneEntry) {
  std::vector<Expr> pool;
  ExprBuilder b(pool);
  const ExprId i = b.index(LoopLevel::Inner, 0);
  EXPECT_EQ(b.index(LoopLevel::Inner, 0), i);
  EXPECT_NE(b.index(LoopLevel::Outer, 0), i);
  const ExprId c = b.constant_int(3);
  const ExprId sum = b.op(OpKind::Add, DType::I64, {i, c});
  EXPECT_EQ(b.op(OpKind::Add, DType::I64, {i, c}), sum);
  EXPECT_NE(b.op(OpKind::Add, DType::I64, {c, i}), sum);
  EXPECT_NE(b.constant_float(0.0, DType::F32), b.constant_float(-0.0, DType::F32));
  EXPECT_EQ(b.load(0, DType::F32, sum), b.load(0, DType::F32, sum));
  EXPECT_EQ(b.phase_result(0, DType::F32), b.phase_result(0, DType::F32));
  EXPECT_EQ(pool.size(), 9u);
}

TEST(Kernel, HashAndStructureIgnoreTheName) {
  Kernel a = add_one_kernel(), b = add_one_kernel();
  b.name = "other";
  EXPECT_TRUE(a.same_structure(b));
  EXPECT_EQ(a.hash(), b.hash());
  b.outer = {2};
  EXPECT_FALSE(a.same_structure(b));
  EXPECT_NE(a.hash(), b.hash());
  EXPECT_EQ(a.outer_count(), 4);
}

TEST(Kernel, PrintsAStableReadableForm) {
  EXPECT_EQ(print_kernel(add_one_kernel()),
            "kernel @add_one {\n"
            "  %b0: f32[4,8] in\n"
            "  %b1: f32[4,8] out\n"
            "  outer [4]\n"
            "  p0: store over [8] {\n"
            "    e0 = index outer 0 : i64\n"
            "    e1 = index inner 0 : i64\n"
            "    e2 = const 8 : i64\n"
            "    e3 = mul e0, e2 : i64\n"
            "    e4 = add e3, e1 : i64\n"
            "    e5 = load b0[e4] : f32\n"
            "    e6 = const 1.0 : f32\n"
            "    e7 = add e5, e6 : f32\n"
            "    store b1[e4] = e7\n"
            "  }\n"
            "}\n");
}

TEST(Kernel, SoftmaxPrintsTwoReducePhasesAndAStore) {
  const ir::Function f = testing::parse_one(R"(
func @softmax(%x: f32[4,16]) -> f32[4,16] {
  %m = reduce_max %x {axes=[1]} : f32[4]
  %mb = broadcast %m {shape=[4,16], dims=[0]} : f32[4,16]
  %d = sub %x, %mb : f32[4,16]
  %e = exp %d : f32[4,16]
  %s = reduce_sum %e {axes=[1]} : f32[4]
  %sb = broadcast %s {shape=[4,16], dims=[0]} : f32[4,16]
  %y = div %e, %sb : f32[4,16]
  return %y
}
)");
  const LoweredFunction lowered = lower(f, passes::plan_fusion(f));
  ASSERT_EQ(lowered.kernels.size(), 1u);
  const std::string text = print_kernel(lowered.kernels[0]);
  EXPECT_NE(text.find("kernel @softmax_k0 {\n  %b0: f32[4,16] in\n  %b1: f32[4,16] out\n"
                      "  outer [4]\n  p0: reduce max over [16] -> f32 {"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("p1: reduce sum over [16] -> f32 {"), std::string::npos) << text;
  EXPECT_NE(text.find("p2: store over [16] {"), std::string::npos) << text;
  EXPECT_NE(text.find("= exp "), std::string::npos) << text;
  EXPECT_NE(text.find("= result p1 : f32"), std::string::npos) << text;
}

TEST(Kernel, DotKernelHasADotPhaseAndAnEpilogue) {
  const ir::Function f = testing::parse_one(R"(
func @layer(%x: f32[8,16], %w: f32[16,4], %b: f32[4]) -> f32[8,4] {
  %p = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[8,4]
  %bb = broadcast %b {shape=[8,4], dims=[1]} : f32[8,4]
  %h = add %p, %bb : f32[8,4]
  %y = tanh %h : f32[8,4]
  return %y
}
)");
  const LoweredFunction lowered = lower(f, passes::plan_fusion(f));
  ASSERT_EQ(lowered.kernels.size(), 1u);
  const Kernel& k = lowered.kernels[0];
  ASSERT_EQ(k.phases.size(), 2u);
  const Phase& dot = k.phases[0];
  EXPECT_EQ(dot.kind, PhaseKind::Dot);
  EXPECT_EQ(k.outer, (std::vector<int64_t>{1, 8}));
  EXPECT_EQ(dot.extents, std::vector<int64_t>{4});
  EXPECT_EQ(dot.contraction, 16);
  EXPECT_EQ(dot.accumulator, ir::DType::F32);
  EXPECT_EQ(k.exprs[dot.dot_lhs].buffer, 0);
  EXPECT_EQ(k.exprs[dot.dot_rhs].buffer, 1);
  ASSERT_EQ(dot.stores.size(), 1u);
  EXPECT_EQ(dot.stores[0].buffer, 4);
  EXPECT_EQ(k.phases[1].kind, PhaseKind::Store);
  EXPECT_EQ(k.scratch, std::vector<int32_t>{4});
  EXPECT_FALSE(lowered.kernel_values[0][4].valid());
  const std::string text = print_kernel(k);
  EXPECT_NE(text.find("%b4: f32[8,4] scratch"), std::string::npos) << text;
  EXPECT_NE(text.find("p0: dot over [4] contracting 16 in f32 -> f32 {"), std::string::npos)
      << text;
  EXPECT_NE(text.find("= index contraction 0 : i64"), std::string::npos) << text;
  EXPECT_NE(text.find("product e"), std::string::npos) << text;
  EXPECT_NE(text.find("p1: store over [4] {"), std::string::npos) << text;
}

}  // namespace
}  // namespace kiln::codegen
