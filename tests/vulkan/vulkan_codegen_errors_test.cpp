// A kernel needing a feature the device lacks is refused when it compiles, with one message
// naming the kernel, the feature and the device, never an invalid module or a crash on the
// device. Needs no device: compile_kernel runs on a SpirvTarget made here.

#include <gtest/gtest.h>

#include "codegen/spirv/spirv_compiler.h"
#include "compiler/pipeline.h"
#include "compiler/vulkan_backend.h"
#include "ir/error.h"
#include "ir/parser.h"

namespace kiln::codegen::spirv {
namespace {

// The one kernel of `body` (ops over %x, %y of type `t`), lowered as compile_plan lowers it.
Kernel only_kernel(const std::string& t, const std::string& op) {
  const ir::Function f =
      std::move(ir::parse_module("func @f(%x: " + t + ", %y: " + t + ") -> " + t +
                                 " {\n  %0 = " + op + " %x, %y : " + t + "\n  return %0\n}\n")
                    .functions.front());
  compiler::LoweredProgram p = compiler::lower_program(f);
  EXPECT_EQ(p.lowered.kernels.size(), 1u);
  return p.lowered.kernels.front();
}

// The message compile_kernel throws, or "" when it compiles.
std::string refusal(const Kernel& k, const SpirvTarget& target) {
  try {
    const SpirvKernel code = compile_kernel(k, target, "main");
    EXPECT_EQ(validate(code.words), "");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

SpirvTarget lacking(bool SpirvTarget::*feature) {
  SpirvTarget t = compiler::portable_spirv_target();
  t.device_name = "small device";
  t.*feature = false;
  return t;
}

constexpr const char* k8Bit = "8-bit storage and integers (storageBuffer8BitAccess, shaderInt8)";
constexpr const char* k16Bit =
    "16-bit storage and integers (storageBuffer16BitAccess, shaderInt16)";

TEST(VulkanCodegenErrors, FeatureTheDeviceLacksIsRefusedWithOneMessage) {
  struct Case {
    const char* type;
    const char* op;
    bool SpirvTarget::*feature;
    const char* needs;
  };
  const Case cases[] = {
      {"i64[5]", "add", &SpirvTarget::int64, "64-bit integers (shaderInt64)"},
      {"f64[5]", "mul", &SpirvTarget::float64, "64-bit floats (shaderFloat64)"},
      {"i8[5]", "add", &SpirvTarget::storage8, k8Bit},
      {"u8[5]", "max", &SpirvTarget::int8, k8Bit},
      {"f16[5]", "add", &SpirvTarget::storage16, k16Bit},
      {"bf16[5]", "sub", &SpirvTarget::int16, k16Bit},
      {"i16[5]", "mul", &SpirvTarget::storage16, k16Bit},
      // f32 pow computes in f64 (codegen/spirv/math.h).
      {"f32[5]", "pow", &SpirvTarget::float64, "64-bit floats (shaderFloat64)"},
  };
  for (const Case& c : cases) {
    const Kernel k = only_kernel(c.type, c.op);
    EXPECT_EQ(refusal(k, lacking(c.feature)), "[vulkan] kernel " + k.name + " needs " + c.needs +
                                                  ", which device 'small device' lacks")
        << c.op << " on " << c.type;
    // The same kernel compiles on a device with the feature.
    EXPECT_EQ(refusal(k, compiler::portable_spirv_target()), "") << c.op << " on " << c.type;
  }
}

// A device without f64 still runs f32 and integer kernels that do not need it.
TEST(VulkanCodegenErrors, KernelsWithoutTheFeatureStillCompile) {
  for (bool SpirvTarget::*feature :
       {&SpirvTarget::float64, &SpirvTarget::storage8, &SpirvTarget::storage16}) {
    EXPECT_EQ(refusal(only_kernel("f32[5]", "add"), lacking(feature)), "");
    EXPECT_EQ(refusal(only_kernel("i32[5]", "mul"), lacking(feature)), "");
  }
}

}  // namespace
}  // namespace kiln::codegen::spirv
