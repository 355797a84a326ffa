// Donation: a parameter compiled as donated gives its storage to a result of its type when
// that is safe, so an update (an optimizer step, a KV cache write) happens in place.

#include <gtest/gtest.h>

#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "runtime/executable.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::runtime {
namespace {

ir::HostArray filled(const ir::TensorType& type, double start) {
  ir::HostArray a(type);
  for (int64_t i = 0; i < a.num_elements(); ++i)
    a.set_f64(i, start + 0.25 * static_cast<double>(i % 17));
  return a;
}

const char* kSgd = R"(func @sgd(%w: f32[4096], %g: f32[4096]) -> f32[4096] {
  %lr = constant {value=0.5} : f32[4096]
  %u = mul %g, %lr : f32[4096]
  %w2 = sub %w, %u : f32[4096]
  return %w2
})";

TEST(Donation, AnUpdateIsWrittenIntoTheDonatedArgument) {
  const ir::Function f = testing::parse_function(kSgd);
  const Executable exe = compiler::compile(f, {.donate = {0}});
  EXPECT_EQ(exe.plan().written_params, (std::vector<uint32_t>{0}));
  const ir::HostArray w = filled(f.param_types()[0], 1.0), g = filled(f.param_types()[1], -2.0);
  const ir::HostArray want = ir::interpret(f, std::vector<ir::HostArray>{w, g})[0];

  // The caller keeps its array through the const overload.
  const ir::HostArray w_before = w;
  const std::vector<ir::HostArray> copied = exe.run(std::vector<const ir::HostArray*>{&w, &g});
  EXPECT_EQ(copied[0], want);
  EXPECT_EQ(w, w_before);

  // Handed over, the argument's own storage comes back updated: no copy, no new allocation.
  std::vector<ir::HostArray> args = {filled(w.type(), 1.0), g};
  const std::byte* storage = args[0].data();
  const std::vector<ir::HostArray> updated = exe.run(std::move(args));
  EXPECT_EQ(updated[0], want);
  EXPECT_EQ(updated[0].data(), storage);
}

TEST(Donation, ANonDonatedPlanNeverWritesItsArguments) {
  const ir::Function f = testing::parse_function(kSgd);
  const Executable exe = compiler::compile(f);
  EXPECT_TRUE(exe.plan().written_params.empty());
  std::vector<ir::HostArray> args = {filled(f.param_types()[0], 1.0),
                                     filled(f.param_types()[1], 3.0)};
  const std::byte* storage = args[0].data();
  const std::vector<ir::HostArray> out = exe.run(std::move(args));
  EXPECT_NE(out[0].data(), storage);
}

// A transpose reads other elements than it writes: taking the parameter's storage would
// overwrite values still to be read, so the result gets storage of its own.
TEST(Donation, UnsafeDonationsAreDeclined) {
  const ir::Function f = testing::parse_function(R"(func @t(%w: f32[64,64]) -> f32[64,64] {
  %t = transpose %w {perm=[1,0]} : f32[64,64]
  %one = constant {value=1.0} : f32[64,64]
  %y = add %t, %one : f32[64,64]
  return %y
})");
  const Executable exe = compiler::compile(f, {.donate = {0}});
  EXPECT_TRUE(exe.plan().written_params.empty());
  const ir::HostArray w = filled(f.param_types()[0], 0.5);
  EXPECT_EQ(exe.run(std::vector<ir::HostArray>{w})[0],
            ir::interpret(f, std::vector<ir::HostArray>{w})[0]);

  // A parameter returned as it is keeps its value, donated or not.
  const ir::Function same = testing::parse_function(R"(func @same(%w: f32[8]) -> (f32[8], f32[8]) {
  %y = neg %w : f32[8]
  return %w, %y
})");
  EXPECT_TRUE(compiler::compile(same, {.donate = {0}}).plan().written_params.empty());
}

}  // namespace
}  // namespace kiln::runtime
