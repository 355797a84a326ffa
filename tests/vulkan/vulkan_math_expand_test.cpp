// The math ops lowering writes out (codegen/math_expand.h), compiled for Vulkan, against the
// interpreter over their domains (tests/common/math_check.h): f32 and f16/bf16 everywhere,
// f64 where the device has it. kiln's own f32 transcendentals on Vulkan are within 2.4 ulp
// (codegen/spirv/math.h), so the bounds are the CPU's.

#include <gtest/gtest.h>

#include "codegen/math_expand.h"
#include "tests/common/math_check.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::runtime {
namespace {

using ir::DType;
using ir::OpKind;
using kiln::testing::math::Bound;

Bound vulkan_bound(OpKind op, DType d) {
  const bool f64 = d == DType::F64;
  const bool half = d == DType::F16 || d == DType::BF16;
  switch (op) {
    case OpKind::Lgamma:
    case OpKind::Digamma:
      return half ? Bound{1, 0.004} : f64 ? Bound{8, 8e-15} : Bound{8, 4e-6};
    case OpKind::ErfInv:
      return half ? Bound{1, 0} : f64 ? Bound{8, 4e-12} : Bound{8, 0};
    default:
      return half ? Bound{1, 0} : f64 ? Bound{8, 0} : Bound{8, 0};
  }
}

TEST(VulkanMathExpand, EveryOpOnEveryFloatDtypeWithinItsBound) {
  KILN_REQUIRE_VULKAN_DEVICE();
  for (OpKind op : ir::all_ops()) {
    if (!codegen::expanded_by_lowering(op)) continue;
    for (DType d : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
      SCOPED_TRACE(std::string(ir::op_name(op)) + " " + std::string(ir::dtype_name(d)));
      kiln::testing::math::check_expanded_op(op, d, vulkan_bound(op, d), testing::run_on_vulkan);
    }
  }
}

}  // namespace
}  // namespace kiln::runtime
