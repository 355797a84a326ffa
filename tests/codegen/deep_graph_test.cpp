// Graphs as deep as they are long: a chain of 50,000 ops must plan, lower and emit without
// recursing once per op (which overflowed the stack) and in time linear in its length.

#include <gtest/gtest.h>

#include <vector>

#include "codegen/cpu/cpu_compiler.h"
#include "codegen/kernel_eval.h"
#include "codegen/kernel_opt.h"
#include "codegen/lower.h"
#include "ir/interpreter.h"
#include "passes/fusion.h"
#include "tests/codegen/codegen_test_util.h"
#include "tests/codegen/llvm_test_util.h"

namespace kiln::codegen {
namespace {

constexpr int kLength = 50000;
const ir::TensorType kRow{ir::DType::F32, {16}};

// x, then `length` unary ops, each applying the next of `ops` (in turn) to the one before.
ir::Function chain(std::vector<ir::OpKind> ops, int length = kLength) {
  ir::Function f("chain");
  ir::Value v = f.add_param("x", kRow);
  for (int i = 0; i < length; ++i)
    v = f.add(ops[i % ops.size()], {v});
  f.set_results({v});
  return f;
}

TEST(DeepGraphs, LongChainSplitsIntoKernelsOfBoundedSize) {
  const ir::Function f = chain({ir::OpKind::Exp});
  const passes::FusionPlan plan = passes::plan_fusion(f);
  // 512 units per kernel at 8 per exp: 64 exps each, and every exp in exactly one kernel.
  ASSERT_EQ(plan.groups.size(), static_cast<size_t>((kLength + 63) / 64));
  size_t members = 0;
  for (const passes::FusionGroup& g : plan.groups) {
    EXPECT_LE(g.members.size(), 64u);
    members += g.members.size();
  }
  EXPECT_EQ(members, static_cast<size_t>(kLength));
  // Equal runs of the chain lower to kernels of one structure, which compile once.
  const LoweredFunction lowered = lower(f, plan);
  EXPECT_TRUE(lowered.kernels[1].same_structure(lowered.kernels[2]));
}

TEST(DeepGraphs, LongChainMatchesTheInterpreter) {
  // x <- exp(-x) stays finite (it tends to 0.567...), so the values say something.
  testing::expect_matches_interpreter(chain({ir::OpKind::Neg, ir::OpKind::Exp}));
}

TEST(DeepGraphs, LongChainOfFreeOpsLowersToOneKernel) {
  // Free ops cost nothing, so the whole chain fuses into the exp that reads it.
  ir::Function f("chain");
  ir::Value v = f.add_param("x", ir::TensorType{ir::DType::F32, {4, 16}});
  for (int i = 0; i < kLength; ++i)
    v = i % 2 ? f.add(ir::OpKind::Transpose, {v}, {{"perm", ir::int_list({1, 0})}})
              : f.add(ir::OpKind::StopGradient, {v});
  f.set_results({f.add(ir::OpKind::Exp, {v})});
  ASSERT_EQ(f.type(f.results()[0]).shape, (ir::Shape{4, 16}));  // 25,000 transposes
  EXPECT_EQ(passes::plan_fusion(f).groups.size(), 1u);
  testing::expect_matches_interpreter(f);
}

// All of f in one kernel, however fusion would split it.
LoweredFunction lower_as_one_kernel(const ir::Function& f) {
  passes::FusionGroup group;
  for (size_t i = 0; i < f.num_nodes(); ++i)
    if (f.nodes()[i].op != ir::OpKind::Parameter) group.members.push_back(f.value_at(i));
  group.inputs = f.params();
  group.outputs = f.results();
  passes::FusionPlan plan;
  plan.groups.push_back(group);
  return lower(f, plan);
}

TEST(DeepGraphs, OneLongKernelLowersEvaluatesAndCompiles) {
  // Negations, which LLVM folds in pairs, so that compiling the one long kernel stays quick.
  const ir::Function f = chain({ir::OpKind::Neg});
  const LoweredFunction lowered = lower_as_one_kernel(f);
  ASSERT_EQ(lowered.kernels.size(), 1u);
  const Kernel& k = lowered.kernels.front();
  EXPECT_GT(k.exprs.size(), static_cast<size_t>(kLength));
  const std::vector<ir::HostArray> args = testing::random_args(f, 1);
  const ir::HostArray want = ir::interpret(f, args)[0];

  std::vector<ir::HostArray> evaluated{args[0], ir::HostArray(kRow)};
  evaluate_kernel(k, evaluated);
  EXPECT_EQ(evaluated[1], want);

  std::vector<ir::HostArray> compiled{args[0], ir::HostArray(kRow)};
  testing::run_range(testing::compile_kernel(k), compiled, 0, k.outer_count());
  EXPECT_EQ(compiled[1], want);
}

TEST(DeepGraphs, StoringAReducedOperandRewritesALongStoreValue) {
  // p0 sums e = exp(x); p1 stores -(-(...(e / sum))): the rewrite that makes p1 load e back
  // walks the whole chain above e.
  Kernel k;
  k.name = "deep";
  k.buffers = {{kRow, false}, {kRow, true}};
  ExprBuilder b(k.exprs);
  const ExprId i = b.index(LoopLevel::Inner, 0);
  const ExprId e = b.op(ir::OpKind::Exp, ir::DType::F32, {b.load(0, ir::DType::F32, i)});
  Phase sum;
  sum.kind = PhaseKind::Reduce;
  sum.extents = {16};
  sum.value = e;
  k.phases.push_back(sum);
  ExprId y = b.op(ir::OpKind::Div, ir::DType::F32, {e, b.phase_result(0, ir::DType::F32)});
  for (int n = 0; n < kLength; ++n)
    y = b.op(ir::OpKind::Neg, ir::DType::F32, {y});
  Phase store;
  store.kind = PhaseKind::Store;
  store.extents = {16};
  store.stores.push_back({1, i, y});
  k.phases.push_back(store);

  const ir::HostArray x = testing::random_array(kRow, 1);
  std::vector<ir::HostArray> before{x, ir::HostArray(kRow)};
  evaluate_kernel(k, before);
  store_reduced_operands(k);
  ASSERT_EQ(k.phases[0].stores.size(), 1u);
  std::vector<ir::HostArray> after{x, ir::HostArray(kRow)};
  evaluate_kernel(k, after);
  EXPECT_EQ(after[1], before[1]);
}

}  // namespace
}  // namespace kiln::codegen
