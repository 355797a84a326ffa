// The seeded random graphs of tests/codegen/random_graph.h (elementwise chains, reductions,
// broadcasts, index movement, dots) compiled for Vulkan fused and unfused, against the
// interpreter, as tests/runtime/random_graph_cpu_test.cpp does for the CPU. A mismatch prints
// the graph's .kir as its reproducer (`kiln run FILE --device vulkan --random-inputs`).
// KILN_RANDOM_GRAPHS=N runs N graphs instead of 150.
//
// Tolerance: compare_compiled's, as on the CPU (f32 within 2e-4 of the larger magnitude, at
// least 1: the device's transcendentals are within a few ulp and its reductions combine
// partial sums in a tree, not in order). Its absolute floor also absorbs subnormal flushing
// (vulkan_compile_util.h): the graphs' inputs are in [-2, 2) and their ops (no log, division
// or rsqrt) cannot turn a flushed subnormal into more than a subnormal's difference.

#include <gtest/gtest.h>

#include "ir/printer.h"
#include "tests/codegen/random_graph.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::runtime {
namespace {

TEST(VulkanRandomGraphs, MatchTheInterpreterFusedAndUnfused) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const uint64_t graphs = codegen::testing::random_graph_count();
  for (uint64_t seed = 1; seed <= graphs; ++seed) {
    const ir::Function f = codegen::testing::GraphGenerator(seed).generate(12);
    const std::vector<ir::HostArray> args = codegen::testing::random_args(f, seed);
    const std::vector<ir::HostArray> want = ir::interpret(f, args);
    for (bool fuse : {true, false}) {
      const std::vector<ir::HostArray> got = testing::run_on_vulkan(f, args, fuse);
      ASSERT_EQ(got.size(), want.size());
      for (size_t r = 0; r < want.size(); ++r)
        EXPECT_EQ(codegen::testing::compare_compiled(want[r], got[r]), "")
            << "seed " << seed << (fuse ? ", fused" : ", unfused") << ", result " << r << ", in\n"
            << ir::print(f);
    }
  }
}

}  // namespace
}  // namespace kiln::runtime
