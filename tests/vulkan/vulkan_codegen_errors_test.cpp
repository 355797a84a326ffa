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
  SpirvTarget t = compiler::generic_spirv_target();
  t.device_name = "small device";
  t.*feature = false;
  return t;
}

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
      {"i8[5]", "add", &SpirvTarget::storage8, "8-bit storage (storageBuffer8BitAccess)"},
      {"u8[5]", "max", &SpirvTarget::storage8, "8-bit storage (storageBuffer8BitAccess)"},
      {"f16[5]", "add", &SpirvTarget::storage16, "16-bit storage (storageBuffer16BitAccess)"},
      {"bf16[5]", "sub", &SpirvTarget::storage16, "16-bit storage (storageBuffer16BitAccess)"},
      {"i16[5]", "mul", &SpirvTarget::storage16, "16-bit storage (storageBuffer16BitAccess)"},
      // f32 pow computes in f64 (codegen/spirv/math.h).
      {"f32[5]", "pow", &SpirvTarget::float64, "64-bit floats (shaderFloat64)"},
  };
  for (const Case& c : cases) {
    const Kernel k = only_kernel(c.type, c.op);
    EXPECT_EQ(refusal(k, lacking(c.feature)), "[vulkan] kernel " + k.name + " needs " + c.needs +
                                                  ", which device 'small device' lacks")
        << c.op << " on " << c.type;
    // The same kernel compiles on a device with the feature.
    EXPECT_EQ(refusal(k, compiler::generic_spirv_target()), "") << c.op << " on " << c.type;
  }
}

// Narrow dtypes need only storage: 8- and 16-bit arithmetic is done in 32-bit registers.
// DISABLED: a known bug. Without Int8/Int16 the module is invalid (an internal error, not a
// refusal): the push-constant block reaches the 8/16-bit arrays through the table's typed
// pointers, and this SPIRV-Tools follows pointers in its small-type checks ("Allocating a
// variable containing a 8-bit element in PushConstant storage class requires an additional
// capability"); storing the addresses as uvec2 and bitcasting moves the error to the bitcast
// ("8- or 16-bit types can only be used with width-only conversions"). lavapipe has Int8/Int16,
// so only such a device would meet it.
TEST(VulkanCodegenErrors, DISABLED_NarrowArithmeticNeedsOnlyStorage) {
  SpirvTarget t = compiler::generic_spirv_target();
  t.int8 = t.int16 = false;
  for (const char* type : {"i8[5]", "u8[5]", "i16[5]", "f16[5]", "bf16[5]"})
    EXPECT_EQ(refusal(only_kernel(type, "mul"), t), "") << type;
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
