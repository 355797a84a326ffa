// take_along_axis and scatter_along_axis compiled for Vulkan against the interpreter: the
// gather as index arithmetic, each scatter mode in its sequential phase.

#include <gtest/gtest.h>

#include "ir/parser.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::runtime {
namespace {

using testing::expect_vulkan_matches;

ir::HostArray values(ir::TensorType type, int64_t modulo, int64_t offset) {
  ir::HostArray a(type);
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const int64_t v = (i * 7 + 3) % modulo - offset;
    if (ir::is_float(type.dtype))
      a.set_f64(i, static_cast<double>(v) / 4);
    else
      a.set_i64(i, v);
  }
  return a;
}

TEST(VulkanAlongAxis, GatherAndEveryScatterMode) {
  KILN_REQUIRE_VULKAN_DEVICE();
  for (const char* mode : {"add", "mul", "max", "min", "set"}) {
    const ir::Module m = ir::parse_module(std::string(R"(
func @f(%x: f32[4,9], %i: i32[4,13], %u: f32[4,13]) -> (f32[4,13], f32[4,9]) {
  %0 = take_along_axis %x, %i {axis=1} : f32[4,13]
  %1 = exp %0 : f32[4,13]
  %2 = scatter_along_axis %x, %i, %u {axis=1, mode=")") +
                                          mode + R"("} : f32[4,9]
  return %1, %2
}
)");
    const ir::Function& f = m.functions.front();
    expect_vulkan_matches(f,
                          {values(f.param_types()[0], 17, 8), values(f.param_types()[1], 12, 2),
                           values(f.param_types()[2], 13, 6)},
                          4, std::string("along axis, mode ") + mode);
  }
}

}  // namespace
}  // namespace kiln::runtime
