// Whole programs on Vulkan: the workloads W1-W5 compile to as many kernels as on the CPU (the
// fusion decisions are the compiler's, not the backend's; W1, softmax and layernorm are one
// kernel each) and match the interpreter, and functions transformed by grad, jvp, vjp and vmap
// compile for Vulkan and match the interpreter run on the transformed function.

#include <gtest/gtest.h>

#include <optional>
#include <random>

#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/autodiff.h"
#include "passes/vmap.h"
#include "tests/codegen/random_graph.h"
#include "tests/common/workloads_kir.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::runtime {
namespace {

using namespace kiln::testing::workloads;

ir::Function parse(const char* text) {
  return std::move(ir::parse_module(text).functions.front());
}

std::vector<ir::HostArray> uniform_args(const ir::Function& f, uint32_t seed = 5) {
  std::vector<ir::HostArray> args;
  std::mt19937 rng(seed);
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray& a = args.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, std::uniform_real_distribution<double>(-1, 1)(rng));
  }
  return args;
}

// Kernels on Vulkan fused = on the CPU fused (and `vulkan_fused` when given); the results
// within the CPU kernel-count test's tolerance of the interpreter, fused and unfused.
void expect_workload(const char* text, std::optional<size_t> vulkan_fused, double abs_tol = 1e-5) {
  const ir::Function f = parse(text);
  const compiler::CompileOptions vulkan{.device = compiler::Device::Vulkan};
  const Executable fused = compiler::compile(f, vulkan);
  EXPECT_EQ(fused.num_kernels(), compiler::compile(f).num_kernels()) << "@" << f.name();
  if (vulkan_fused) {
    EXPECT_EQ(fused.num_kernels(), *vulkan_fused) << "@" << f.name();
  }
  const Executable unfused =
      compiler::compile(f, {.device = compiler::Device::Vulkan, .fuse = false});
  EXPECT_EQ(unfused.num_kernels(), compiler::compile(f, {.fuse = false}).num_kernels())
      << "@" << f.name();
  const std::vector<ir::HostArray> args = uniform_args(f);
  const ir::HostArray want = ir::interpret(f, args)[0];
  for (const Executable* exe : {&fused, &unfused}) {
    const ir::HostArray got = exe->run(args)[0];
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      const double w = want.get_f64(i);
      ASSERT_NEAR(got.get_f64(i), w, abs_tol + 1e-4 * std::abs(w))
          << "@" << f.name() << (exe == &fused ? " fused" : " unfused") << ", element " << i;
    }
  }
}

TEST(VulkanKernelCount, W1IsOneKernel) {
  KILN_REQUIRE_VULKAN_DEVICE();
  expect_workload(kW1, 1);
}
TEST(VulkanKernelCount, SoftmaxIsOneKernel) {
  KILN_REQUIRE_VULKAN_DEVICE();
  expect_workload(kW2, 1);
}
TEST(VulkanKernelCount, LayernormIsOneKernel) {
  KILN_REQUIRE_VULKAN_DEVICE();
  expect_workload(kW3, 1);
}
TEST(VulkanKernelCount, MlpAsOnTheCpu) {
  KILN_REQUIRE_VULKAN_DEVICE();
  expect_workload(kW4, std::nullopt);
}
TEST(VulkanKernelCount, LargeSumAsOnTheCpu) {
  KILN_REQUIRE_VULKAN_DEVICE();
  expect_workload(kW5, std::nullopt, 0.05);  // 2^21 terms summed in f32, in another order
}

// ---- transforms

// A small network's loss: tanh(x w + b), squared error against t, summed, with a softmax
// over its rows on the way so that reductions, broadcasts and a dot all differentiate.
constexpr const char* kLoss =
    R"(func @loss(%x: f32[6, 5], %w: f32[5, 4], %b: f32[4], %t: f32[6, 4]) -> f32[] {
  %h = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[6, 4]
  %bb = broadcast %b {shape=[6, 4], dims=[1]} : f32[6, 4]
  %z = add %h, %bb : f32[6, 4]
  %a = tanh %z : f32[6, 4]
  %m = reduce_max %a {axes=[1]} : f32[6]
  %mb = broadcast %m {shape=[6, 4], dims=[0]} : f32[6, 4]
  %d = sub %a, %mb : f32[6, 4]
  %e = exp %d : f32[6, 4]
  %s = reduce_sum %e {axes=[1]} : f32[6]
  %sb = broadcast %s {shape=[6, 4], dims=[0]} : f32[6, 4]
  %p = div %e, %sb : f32[6, 4]
  %r = sub %p, %t : f32[6, 4]
  %r2 = mul %r, %r : f32[6, 4]
  %l = reduce_sum %r2 {axes=[0, 1]} : f32[]
  return %l
})";

void expect_transformed(const ir::Function& g) {
  const std::vector<ir::HostArray> args = uniform_args(g, 9);
  const std::vector<ir::HostArray> want = ir::interpret(g, args);
  for (bool fuse : {true, false}) {
    const std::vector<ir::HostArray> got = testing::run_on_vulkan(g, args, fuse);
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < want.size(); ++r)
      EXPECT_EQ(codegen::testing::compare_compiled(want[r], got[r]), "")
          << (fuse ? "fused" : "unfused") << ", result " << r << ", in\n"
          << ir::print(g);
  }
}

TEST(VulkanTransforms, GradAndValueAndGrad) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Function f = parse(kLoss);
  expect_transformed(passes::grad(f));
  const int wrt[] = {1, 2};
  expect_transformed(passes::value_and_grad(f, wrt));
}

TEST(VulkanTransforms, JvpAndVjp) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Function f = parse(kLoss);
  expect_transformed(passes::jvp(f));
  expect_transformed(passes::vjp(parse(kW3)));  // layernorm's backward pass
  expect_transformed(passes::jvp(parse(kW1)));
}

TEST(VulkanTransforms, VmapOverDifferentAxes) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Function f = parse(kLoss);
  // x batched in front, w batched at its end, b and t shared; the losses out in front.
  const std::optional<int> in_axes[] = {0, 2, std::nullopt, std::nullopt};
  const int out_axes[] = {0};
  expect_transformed(passes::vmap(f, in_axes, out_axes, 3));
  // A per-example gradient: vmap of grad, as JAX's vmap(grad(f)).
  const ir::Function g = passes::grad(f, std::vector<int>{1});
  const std::optional<int> g_axes[] = {0, std::nullopt, std::nullopt, 1};
  expect_transformed(passes::vmap(g, g_axes, out_axes, 4));
  // Softmax batched along its last axis.
  const std::optional<int> s_axes[] = {2};
  const int s_out[] = {-1};
  expect_transformed(passes::vmap(parse(kW2), s_axes, s_out, 2));
}

}  // namespace
}  // namespace kiln::runtime
