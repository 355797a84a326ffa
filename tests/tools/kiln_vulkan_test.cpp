// `kiln` and the Vulkan backend as a user meets them: `kiln run --device vulkan` without any
// Vulkan driver says how to get one, and `kiln opt --emit=spirv --output-dir` writes modules
// that the Khronos validator (spirv-val, SPIRV-Tools' command) accepts for Vulkan 1.3.

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/tools/cli_fixture.h"

namespace kiln::testing {
namespace {

class KilnVulkan : public KilnCommandTest {
 protected:
  // Softmax, a dot with a bias, an integer reduction, f16 and f64: kernels of every strategy
  // (flat, rows, a Dot phase) and the dtypes that need optional features.
  fs::path program() {
    return write(
        "p.kir",
        R"(func @f(%x: f32[4, 300], %w: f32[300, 5], %b: f32[5]) -> (f32[4, 300], f32[4, 5]) {
  %m = reduce_max %x {axes=[1]} : f32[4]
  %mb = broadcast %m {shape=[4, 300], dims=[0]} : f32[4, 300]
  %d = sub %x, %mb : f32[4, 300]
  %e = exp %d : f32[4, 300]
  %s = reduce_sum %e {axes=[1]} : f32[4]
  %sb = broadcast %s {shape=[4, 300], dims=[0]} : f32[4, 300]
  %p = div %e, %sb : f32[4, 300]
  %h = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[4, 5]
  %bb = broadcast %b {shape=[4, 5], dims=[1]} : f32[4, 5]
  %y = add %h, %bb : f32[4, 5]
  return %p, %y
}
func @g(%a: i8[7, 9], %h: f16[9], %z: f64[9]) -> (i8[9], f16[9], f64[9], i64[7]) {
  %0 = reduce_sum %a {axes=[0]} : i8[9]
  %1 = tanh %h : f16[9]
  %2 = sin %z : f64[9]
  %w = convert %a : i64[7, 9]
  %3 = reduce_prod %w {axes=[1]} : i64[7]
  return %0, %1, %2, %3
}
)");
  }
};

TEST_F(KilnVulkan, RunWithoutADriverSaysHowToInstallLavapipe) {
  const fs::path p = program();
  // No driver at all (the loader itself would report that under validation, so it is off).
  const Result r = kiln("run " + p.string() + " --device vulkan --random-inputs",
                        "KILN_CACHE_DIR=" + (dir_ / "cache").string() +
                            " VK_DRIVER_FILES=/nonexistent VK_ICD_FILENAMES=/nonexistent"
                            " KILN_VULKAN_VALIDATE=0");
  expect_error(r,
               "[run] --device vulkan: no Vulkan device found; install Mesa's lavapipe (apt "
               "install mesa-vulkan-drivers)");
  EXPECT_EQ(r.out, "");
}

TEST_F(KilnVulkan, EmittedModulesPassSpirvVal) {
  if (std::system("command -v spirv-val >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "spirv-val is not installed (Debian: spirv-tools)";
  const fs::path p = program();
  for (const char* func : {"f", "g"}) {
    const fs::path out = dir_ / (std::string("spv_") + func);
    const Result r = kiln("opt " + p.string() + " --func " + func + " --emit=spirv --output-dir " +
                          out.string());
    ASSERT_EQ(r.status, 0) << r.err;
    int modules = 0;
    for (const fs::directory_entry& e : fs::directory_iterator(out)) {
      ASSERT_EQ(e.path().extension(), ".spv") << e.path();
      ++modules;
      const Result v =
          shell("spirv-val --target-env vulkan1.3 --scalar-block-layout " + e.path().string());
      EXPECT_EQ(v.status, 0) << e.path() << ":\n" << v.out << v.err;
    }
    EXPECT_GE(modules, func == std::string("f") ? 2 : 4) << func;
  }
}

}  // namespace
}  // namespace kiln::testing
