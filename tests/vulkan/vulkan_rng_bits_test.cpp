// rng_bits and the integer bit ops compiled for Vulkan: the same bits as the interpreter (and so
// as the CPU), fused into the kernel that turns them into floats and unfused, with a batch of
// keys.

#include <gtest/gtest.h>

#include "ir/parser.h"
#include "tests/common/require_device.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::runtime {
namespace {

using testing::expect_vulkan_matches;

ir::HostArray u32s(ir::Shape shape, const std::vector<uint32_t>& values) {
  ir::HostArray a(ir::TensorType{ir::DType::U32, std::move(shape)});
  for (size_t i = 0; i < values.size(); ++i)
    a.set_i64(static_cast<int64_t>(i), values[i]);
  return a;
}

TEST(VulkanRngBits, BitsAndFloatsMatchTheInterpreterExactly) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Module m = ir::parse_module(R"(
func @uniform(%keys: u32[3,2]) -> (u32[3,50,7], f32[3,50,7]) {
  %bits = rng_bits %keys {shape=[50,7]} : u32[3,50,7]
  %c9 = constant {value=9} : u32[]
  %nine = broadcast %c9 {shape=[3,50,7], dims=[]} : u32[3,50,7]
  %mant = shift_right_logical %bits, %nine : u32[3,50,7]
  %cone = constant {value=1065353216} : u32[]
  %one_bits = broadcast %cone {shape=[3,50,7], dims=[]} : u32[3,50,7]
  %or = or %mant, %one_bits : u32[3,50,7]
  %f = bitcast_convert %or : f32[3,50,7]
  %c1 = constant {value=1.0} : f32[]
  %one = broadcast %c1 {shape=[3,50,7], dims=[]} : f32[3,50,7]
  %u = sub %f, %one : f32[3,50,7]
  return %bits, %u
}
)");
  expect_vulkan_matches(m.functions.front(),
                        {u32s({3, 2}, {0x13198a2e, 0x03707344, 0xffffffff, 0xffffffff, 0, 0})}, 0,
                        "rng_bits");
}

}  // namespace
}  // namespace kiln::runtime
