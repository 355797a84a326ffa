// The scans compiled for Vulkan (their sequential phase on one invocation per row) against the
// interpreter, every op both ways.

#include <gtest/gtest.h>

#include "ir/parser.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::runtime {
namespace {

TEST(VulkanScan, EveryScanBothWays) {
  KILN_REQUIRE_VULKAN_DEVICE();
  for (const char* op : {"cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"})
    for (const char* reverse : {"false", "true"}) {
      const ir::Module m =
          ir::parse_module("func @f(%x: f32[6,9]) -> f32[6,9] {\n  %0 = " + std::string(op) +
                           " %x {axis=1, reverse=" + reverse + "} : f32[6,9]\n  return %0\n}\n");
      ir::HostArray x(m.functions.front().param_types()[0]);
      for (int64_t i = 0; i < x.num_elements(); ++i)
        x.set_f64(i, static_cast<double>((i * 7) % 13) / 8 - 0.75);
      testing::expect_vulkan_matches(m.functions.front(), {x}, 16, op);
    }
}

}  // namespace
}  // namespace kiln::runtime
