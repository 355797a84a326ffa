// Which lowered Dot phases the CPU backend hands to its GEMM, and with which layout flags.

#include <gtest/gtest.h>

#include "codegen/cpu/gemm_call.h"
#include "codegen/cpu/schedule.h"
#include "codegen/lower.h"
#include "runtime/kernel_abi.h"
#include "tests/codegen/codegen_test_util.h"

namespace kiln::codegen::cpu {
namespace {

// The one kernel of a function whose dot_general (with the given dimension numbers) is the
// result.
Kernel dot_kernel(const std::string& lhs, const std::string& rhs, const std::string& dims,
                  const std::string& out) {
  const ir::Function f = testing::parse_one("func @f(%a: " + lhs + ", %b: " + rhs + ") -> " + out +
                                            " {\n  %p = dot_general %a, %b {" + dims +
                                            "} : " + out + "\n  return %p\n}\n");
  const LoweredFunction lowered = lower(f, passes::plan_fusion(f));
  EXPECT_EQ(lowered.kernels.size(), 1u);
  return lowered.kernels.at(0);
}

TEST(GemmCall, EveryCanonicalLayoutRunsOnTheGemm) {
  struct Case {
    std::string lhs, rhs, dims, out;
    int32_t flags;
  };
  const int32_t both = runtime::kLhsBatched | runtime::kRhsBatched;
  const Case cases[] = {
      {"f32[8,16]", "f32[16,4]", "lhs_contract=[1], rhs_contract=[0]", "f32[8,4]", both},
      {"f32[16,8]", "f32[16,4]", "lhs_contract=[0], rhs_contract=[0]", "f32[8,4]",
       both | runtime::kTransposeLhs},
      {"f32[8,16]", "f32[4,16]", "lhs_contract=[1], rhs_contract=[1]", "f32[8,4]",
       both | runtime::kTransposeRhs},
      {"f64[3,8,16]", "f64[3,16,4]",
       "lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]", "f64[3,8,4]", both},
      {"bf16[2,5,8,16]", "bf16[2,5,4,16]",
       "lhs_batch=[0,1], rhs_batch=[0,1], lhs_contract=[3], rhs_contract=[3]", "bf16[2,5,8,4]",
       both | runtime::kTransposeRhs},
  };
  for (const Case& c : cases) {
    const Kernel k = dot_kernel(c.lhs, c.rhs, c.dims, c.out);
    const std::optional<GemmCall> call = gemm_call(k, 0);
    ASSERT_TRUE(call) << print_kernel(k);
    EXPECT_EQ(call->flags, c.flags) << print_kernel(k);
    EXPECT_EQ(call->out, static_cast<int32_t>(k.buffers.size()) - 1);
    EXPECT_TRUE(schedule(k).one_block_per_thread);
  }
}

TEST(GemmCall, OnlyTheFirstPhaseOfARowSpaceKernel) {
  Kernel k = dot_kernel("f32[8,16]", "f32[16,4]", "lhs_contract=[1], rhs_contract=[0]", "f32[8,4]");
  ASSERT_TRUE(gemm_call(k, 0));
  Kernel wrong_accumulator = k;
  wrong_accumulator.phases[0].accumulator = ir::DType::F64;
  EXPECT_FALSE(gemm_call(wrong_accumulator, 0));
  Kernel flat = k;
  flat.outer = {8};
  EXPECT_FALSE(gemm_call(flat, 0));
  Kernel second = k;
  second.phases.insert(second.phases.begin(), Phase{});
  EXPECT_FALSE(gemm_call(second, 1));
}

}  // namespace
}  // namespace kiln::codegen::cpu
