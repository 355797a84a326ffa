// The issue's workloads at small sizes: how many kernels each compiles to, fused (one per
// workload; one per MLP layer; two for a sum split across cores) and that the fused code still
// matches the interpreter.

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "tests/common/workloads_kir.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::runtime {
namespace {

using namespace kiln::testing::workloads;

void expect_kernels(const char* text, size_t fused_kernels, double abs_tol = 1e-5) {
  ir::Function f = std::move(ir::parse_module(text).functions.front());
  Executable fused = compiler::compile(f);
  EXPECT_EQ(fused.num_kernels(), fused_kernels) << "@" << f.name();
  Executable unfused = compiler::compile(f, {.fuse = false});
  EXPECT_GE(unfused.num_kernels(), fused.num_kernels()) << "@" << f.name();

  std::vector<ir::HostArray> args;
  std::mt19937 rng(5);
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray& a = args.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, std::uniform_real_distribution<double>(-1, 1)(rng));
  }
  const ir::HostArray want = ir::interpret(f, args)[0];
  for (const Executable* exe : {&fused, &unfused}) {
    const ir::HostArray got = exe->run(args)[0];
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      double w = want.get_f64(i);
      ASSERT_NEAR(got.get_f64(i), w, abs_tol + 1e-4 * std::abs(w)) << "@" << f.name() << " " << i;
    }
  }
}

TEST(KernelCount, W1IsOneKernel) {
  expect_kernels(kW1, 1);
}
TEST(KernelCount, SoftmaxIsOneKernel) {
  expect_kernels(kW2, 1);
}
TEST(KernelCount, LayernormIsOneKernel) {
  expect_kernels(kW3, 1);
}
TEST(KernelCount, EachMlpLayerIsOneKernel) {
  expect_kernels(kW4, 2);
}
TEST(KernelCount, ALargeSumSplitsAcrossCoresInTwoKernels) {
  expect_kernels(kW5, 2, 0.05);  // 2^21 terms summed in f32, in another order
}

}  // namespace
}  // namespace kiln::runtime
