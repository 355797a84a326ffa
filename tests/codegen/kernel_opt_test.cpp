#include "codegen/kernel_opt.h"

#include <gtest/gtest.h>

#include "codegen/kernel_eval.h"
#include "codegen/lower.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "passes/fusion.h"

namespace kiln::codegen {
namespace {

const char* kSoftmax = R"(func @sm(%x: f32[8,16]) -> f32[8,16] {
  %m = reduce_max %x {axes=[1]} : f32[8]
  %mb = broadcast %m {shape=[8,16], dims=[0]} : f32[8,16]
  %d = sub %x, %mb : f32[8,16]
  %e = exp %d : f32[8,16]
  %s = reduce_sum %e {axes=[1]} : f32[8]
  %sb = broadcast %s {shape=[8,16], dims=[0]} : f32[8,16]
  %y = div %e, %sb : f32[8,16]
  return %y
})";

size_t count(const std::string& text, const std::string& word) {
  size_t n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1))
    ++n;
  return n;
}

TEST(KernelOpt, SoftmaxComputesItsExpOnceAndStoresItInTheSumPhase) {
  ir::Function f = std::move(ir::parse_module(kSoftmax, "sm.kir").functions.front());
  LoweredFunction lowered = lower(f, passes::plan_fusion(f));
  ASSERT_EQ(lowered.kernels.size(), 1u);
  const Kernel& k = lowered.kernels.front();
  ASSERT_EQ(k.phases.size(), 3u);
  EXPECT_EQ(k.phases[1].stores.size(), 1u) << print_kernel(k);
  EXPECT_EQ(count(print_kernel(k), " exp "), 1u) << print_kernel(k);

  // Bit-identical to the interpreter through the kernel evaluator, which rounds as it does.
  ir::HostArray x(f.param_types()[0]);
  for (int64_t i = 0; i < x.num_elements(); ++i)
    x.set_f64(i, 0.37 * static_cast<double>(i % 23) - 3);
  std::vector<ir::HostArray> buffers{x, ir::HostArray(k.buffers[1].type)};
  evaluate_kernel(k, buffers);
  std::vector<ir::HostArray> args{x};
  EXPECT_EQ(buffers[1], ir::interpret(f, args)[0]);
}

TEST(KernelOpt, LeavesKernelsWithoutARecomputedReductionAlone) {
  // layernorm's variance phase accumulates (x-mean)^2, which the store does not recompute.
  const char* text = R"(func @f(%x: f32[4,8]) -> f32[4,8] {
  %s = reduce_sum %x {axes=[1]} : f32[4]
  %sb = broadcast %s {shape=[4,8], dims=[0]} : f32[4,8]
  %y = sub %x, %sb : f32[4,8]
  return %y
})";
  ir::Function f = std::move(ir::parse_module(text, "f.kir").functions.front());
  LoweredFunction lowered = lower(f, passes::plan_fusion(f));
  for (const Kernel& k : lowered.kernels)
    for (size_t p = 0; p + 1 < k.phases.size(); ++p)
      EXPECT_TRUE(k.phases[p].stores.empty());
}

}  // namespace
}  // namespace kiln::codegen
