// The scans compiled for the CPU against the interpreter: every op along the first, a middle
// and the last axis, forwards and reversed, floats and integers, NaNs propagating, fused with
// the elementwise op that feeds them (one kernel) and unfused.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/parser.h"

namespace kiln::runtime {
namespace {

void expect_matches(const std::string& text, size_t fused_kernels) {
  const ir::Function f = std::move(ir::parse_module(text).functions.front());
  std::mt19937 rng(11);
  std::vector<ir::HostArray> args;
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray& a = args.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, std::uniform_real_distribution<double>(0.5, 1.5)(rng) *
                       (ir::is_float(t.dtype) ? 1.0 : 7.0));
    if (ir::is_float(t.dtype) && a.num_elements() > 7) a.set_f64(7, NAN);
  }
  const std::vector<ir::HostArray> want = ir::interpret(f, args);
  for (bool fuse : {true, false}) {
    const Executable exe = compiler::compile(f, {.fuse = fuse});
    if (fuse) {
      EXPECT_EQ(exe.num_kernels(), fused_kernels) << text;
    }
    const std::vector<ir::HostArray> got = exe.run(args);
    for (int64_t i = 0; i < want[0].num_elements(); ++i) {
      const double w = want[0].get_f64(i), g = got[0].get_f64(i);
      if (std::isnan(w) && std::isnan(g)) continue;
      // The interpreter carries the running value in double; compiled code in the dtype.
      ASSERT_NEAR(g, w, 1e-5 * (1 + std::abs(w)))
          << (fuse ? "fused" : "unfused") << " element " << i << "\n"
          << text;
    }
  }
}

TEST(ScanCpu, EveryScanOnEveryAxisBothWays) {
  for (const char* op : {"cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"})
    for (int axis : {0, 1, 2})
      for (const char* reverse : {"false", "true"}) {
        const std::string name(op);
        expect_matches(
            "func @f(%x: f32[5,6,7]) -> f32[5,6,7] {\n  %0 = exp %x : f32[5,6,7]\n"
            "  %1 = " +
                name + " %0 {axis=" + std::to_string(axis) + ", reverse=" + reverse +
                "} : f32[5,6,7]\n  return %1\n}\n",
            1);
      }
  for (const char* op : {"cumsum", "cumprod", "cummax", "cummin"})
    expect_matches("func @f(%x: i32[4,9]) -> i32[4,9] {\n  %0 = " + std::string(op) +
                       " %x {axis=1} : i32[4,9]\n  return %0\n}\n",
                   1);
  // A long axis, as the cumsum of a vector.
  expect_matches(
      "func @f(%x: f32[100000]) -> f32[100000] {\n  %0 = cumsum %x {axis=0} : "
      "f32[100000]\n  return %0\n}\n",
      1);
}

}  // namespace
}  // namespace kiln::runtime
