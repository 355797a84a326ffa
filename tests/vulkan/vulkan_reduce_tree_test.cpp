// A row sum of random floats on Vulkan is the Rows strategy's fixed tree bit for bit: each
// invocation's partial sum in index order, then pairs at strides 1, 2, 4, ... whether a level
// runs through subgroup shuffles or shared memory, so the same on every subgroup size (ctest
// runs this at lavapipe's 8 and, vulkan.subgroup4, 4).

#include <gtest/gtest.h>

#include <bit>
#include <random>

#include "codegen/lower.h"
#include "codegen/spirv/spirv_compiler.h"
#include "compiler/vulkan_backend.h"
#include "ir/parser.h"
#include "passes/fusion.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::runtime {
namespace {

TEST(VulkanReduceTree, RandomFloatSumIsTheFixedTree) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const int64_t rows = 3, n = 1000;
  const ir::Function f =
      std::move(ir::parse_module("func @s(%x: f32[3,1000]) -> f32[3] {\n"
                                 "  %0 = reduce_sum %x {axes=[1]} : f32[3]\n  return %0\n}\n")
                    .functions.front());
  const std::vector<codegen::Kernel> kernels = codegen::lower(f, passes::plan_fusion(f)).kernels;
  ASSERT_EQ(kernels.size(), 1u);
  const codegen::spirv::DispatchPlan plan =
      codegen::spirv::plan_dispatch(kernels[0], compiler::vulkan_target());
  ASSERT_EQ(plan.strategy, codegen::spirv::DispatchPlan::Strategy::Rows);
  const uint32_t w = plan.workgroup_size;
  ir::HostArray x(f.param_types()[0]);
  std::mt19937_64 rng(5);
  for (int64_t i = 0; i < x.num_elements(); ++i)
    x.set_f64(i, static_cast<float>(std::uniform_real_distribution<double>(-1, 1)(rng)));
  for (bool fuse : {true, false}) {
    const ir::HostArray got = testing::run_on_vulkan(f, {x}, fuse)[0];
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> partial(w, -0.0f);
      for (uint32_t i = 0; i < w; ++i)
        for (int64_t j = i; j < n; j += w)
          partial[i] = partial[i] + static_cast<float>(x.get_f64(r * n + j));
      for (uint32_t s = 1; s < w; s *= 2)
        for (uint32_t i = 0; i + s < w; i += 2 * s)
          partial[i] = partial[i] + partial[i + s];
      const float g = static_cast<float>(got.get_f64(r));
      EXPECT_EQ(std::bit_cast<uint32_t>(g), std::bit_cast<uint32_t>(partial[0]))
          << (fuse ? "fused" : "unfused") << " row " << r << ": got " << g << ", want "
          << partial[0] << " (W = " << w << ")";
    }
  }
}

}  // namespace
}  // namespace kiln::runtime
