// Compiled code is safe from any number of threads at once and deterministic: one compiled
// matrix product shared by 8 user threads gives every caller the single-threaded bits; 1,000
// calls give the same bits; pools of 1, 2 and 4 threads give the same bits.

#include <gtest/gtest.h>

#include <thread>

#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "runtime/context.h"
#include "runtime/executable.h"
#include "tests/common/workloads_kir.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::runtime {
namespace {

const char* kSmallMatmul = R"(func @xw(%x: f32[2,1024], %w: f32[1024,32]) -> f32[2,32] {
  %y = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[2,32]
  return %y
})";

TEST(Determinism, OneMatmulSharedByEightUserThreads) {
  const ir::Function f = testing::parse_function(kSmallMatmul);
  const Executable exe = compiler::compile(f);
  constexpr int kThreads = 8, kCallsPerThread = 40;
  // Each thread has inputs of its own; the expected bits come from one thread, one call each.
  std::vector<std::vector<ir::HostArray>> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(testing::uniform_args(f, 100 + t));
    expected.push_back(exe.run(inputs.back()));
    const ir::HostArray oracle = ir::interpret(f, inputs.back())[0];
    for (int64_t i = 0; i < oracle.num_elements(); ++i)
      ASSERT_NEAR(expected.back()[0].get_f64(i), oracle.get_f64(i), 1e-4);
  }
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int call = 0; call < kCallsPerThread; ++call)
        if (exe.run(inputs[t])[0] != expected[t][0]) ++wrong[t];
    });
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(wrong, std::vector<int>(kThreads, 0));
}

TEST(Determinism, AThousandCallsGiveTheSameBits) {
  for (const char* text : {kiln::testing::workloads::kW4, kiln::testing::workloads::kW2}) {
    const ir::Function f = testing::parse_function(text);
    const Executable exe = compiler::compile(f);
    const std::vector<ir::HostArray> args = testing::uniform_args(f, 9);
    const ir::HostArray first = exe.run(args)[0];
    int differing = 0;
    for (int call = 0; call < 1000; ++call)
      differing += exe.run(args)[0] != first;
    EXPECT_EQ(differing, 0) << f.name();
  }
}

TEST(Determinism, ThreadCountsDoNotChangeBits) {
  for (const char* text : kiln::testing::workloads::kAll) {
    const ir::Function f = testing::parse_function(text);
    const Plan plan = compiler::compile_plan(f);
    const std::vector<ir::HostArray> args = testing::uniform_args(f, 21);
    std::vector<ir::HostArray> first;
    for (int threads : {1, 2, 4, 3}) {
      Context context(threads);
      const std::vector<ir::HostArray> got = Executable::load(plan, context).run(args);
      if (first.empty())
        first = got;
      else
        EXPECT_EQ(got, first) << f.name() << " at " << threads << " threads";
    }
  }
}

// Contention: user threads calling at once while the pool is busy run some steps inline on
// their own thread; the bits stay the same.
TEST(Determinism, ContentionDoesNotChangeBits) {
  const ir::Function f = testing::parse_function(kiln::testing::workloads::kW4);
  const Executable exe = compiler::compile(f);
  const std::vector<ir::HostArray> args = testing::uniform_args(f, 4);
  const ir::HostArray want = exe.run(args)[0];
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int call = 0; call < 50; ++call)
        wrong[t] += exe.run(args)[0] != want;
    });
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace kiln::runtime
