// take_along_axis and scatter_along_axis compiled for the CPU against the interpreter, every
// scatter mode on floats and integers, indices out of range on both sides and repeated (the
// later set wins, in order), fused and unfused; the gather fuses with what it feeds and with
// what feeds its operand, the scatter is a kernel of its own.

#include <gtest/gtest.h>

#include <random>

#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/parser.h"

namespace kiln::runtime {
namespace {

std::vector<ir::HostArray> arguments(const ir::Function& f, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<ir::HostArray> args;
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray& a = args.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      if (ir::is_float(t.dtype))
        a.set_f64(i, std::uniform_real_distribution<double>(-2, 2)(rng));
      else
        a.set_i64(i, std::uniform_int_distribution<int64_t>(-2, 9)(rng));
    }
  }
  return args;
}

void expect_matches(const std::string& text, size_t fused_kernels) {
  const ir::Function f = std::move(ir::parse_module(text).functions.front());
  const std::vector<ir::HostArray> args = arguments(f, 3);
  const std::vector<ir::HostArray> want = ir::interpret(f, args);
  for (bool fuse : {true, false}) {
    const Executable exe = compiler::compile(f, {.fuse = fuse});
    if (fuse) {
      EXPECT_EQ(exe.num_kernels(), fused_kernels) << text;
    }
    const std::vector<ir::HostArray> got = exe.run(args);
    for (size_t r = 0; r < want.size(); ++r)
      for (int64_t i = 0; i < want[r].num_elements(); ++i) {
        const double w = want[r].get_f64(i), g = got[r].get_f64(i);
        // Float sums and products of repeated indices round per step here, once there.
        ASSERT_NEAR(g, w, 1e-6 * (1 + std::abs(w)))
            << (fuse ? "fused" : "unfused") << " result " << r << " element " << i << "\n"
            << text;
      }
  }
}

TEST(AlongAxisCpu, TakeFusesWithItsProducerAndConsumer) {
  expect_matches(R"(func @f(%x: f32[6,8], %i: i32[6,11]) -> f32[6,11] {
  %0 = exp %x : f32[6,8]
  %1 = take_along_axis %0, %i {axis=1} : f32[6,11]
  %2 = mul %1, %1 : f32[6,11]
  return %2
})",
                 1);
  expect_matches(R"(func @f(%x: i64[5,3,4], %i: i8[7,3,4]) -> i64[7,3,4] {
  %0 = take_along_axis %x, %i {axis=0} : i64[7,3,4]
  return %0
})",
                 1);
}

TEST(AlongAxisCpu, EveryScatterModeMatchesTheInterpreter) {
  for (const char* mode : {"add", "mul", "max", "min", "set"})
    for (const char* dtype : {"f32", "i32", "f64"}) {
      const std::string t = dtype;
      expect_matches("func @f(%x: " + t + "[4,9], %i: i32[4,13], %u: " + t + "[4,13]) -> " + t +
                         "[4,9] {\n  %0 = scatter_along_axis %x, %i, %u {axis=1, mode=\"" + mode +
                         "\"} : " + t + "[4,9]\n  %1 = add %0, %x : " + t +
                         "[4,9]\n  return %1\n}\n",
                     2);
      expect_matches("func @f(%x: " + t + "[9,2,3], %i: u8[12,2,3], %u: " + t + "[12,2,3]) -> " +
                         t + "[9,2,3] {\n  %0 = scatter_along_axis %x, %i, %u {axis=0, mode=\"" +
                         mode + "\"} : " + t + "[9,2,3]\n  return %0\n}\n",
                     1);
    }
}

}  // namespace
}  // namespace kiln::runtime
