// `kiln opt` run as a user runs it: the printed IR, dumps after passes, and clear errors.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "tests/tools/cli_fixture.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using kiln::testing::Result;

class KilnOpt : public kiln::testing::KilnCommandTest {
 protected:
  void SetUp() override {
    KilnCommandTest::SetUp();
    program_ = write("p.kir", kProgram);
  }

  static constexpr const char* kProgram = R"(func @f(%x: f32[3]) -> f32[3] {
  %0 = neg %x : f32[3]
  %1 = neg %0 : f32[3]
  %2 = constant {value=2.0} : f32[]
  %3 = constant {value=3.0} : f32[]
  %4 = mul %2, %3 : f32[]
  %5 = broadcast %4 {shape=[3], dims=[]} : f32[3]
  %6 = add %1, %5 : f32[3]
  %7 = exp %x : f32[3]
  return %6
}

func @g(%y: i32[]) -> i32[] {
  %0 = constant {value=0} : i32[]
  %1 = add %y, %0 : i32[]
  return %1
}
)";

  fs::path program_;
};

const char* kSimplifiedF = R"(func @f(%x: f32[3]) -> f32[3] {
  %0 = constant {value=6.0} : f32[]
  %1 = broadcast %0 {shape=[3], dims=[]} : f32[3]
  %2 = add %x, %1 : f32[3]
  return %2
}
)";

const char* kSimplifiedG = R"(func @g(%y: i32[]) -> i32[] {
  return %y
}
)";

TEST_F(KilnOpt, SimplifyPrintsTheResult) {
  Result r = kiln("opt " + program_.string() + " --passes=simplify");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kSimplifiedF) + "\n" + kSimplifiedG);
  EXPECT_EQ(r.err, "");
  // The output is .kir that reads back, and simplify is a fixed point.
  fs::path again = write("again.kir", r.out);
  Result r2 = kiln("opt " + again.string() + " --passes=simplify");
  EXPECT_EQ(r2.out, r.out);
}

TEST_F(KilnOpt, FuncPicksOneFunction) {
  Result r = kiln("opt " + program_.string() + " --passes=simplify --func g");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kSimplifiedG);
}

TEST_F(KilnOpt, PrintAfterAllShowsEachPass) {
  Result r =
      kiln("opt " + program_.string() + " --passes=dce,algebraic --func f --print-after-all");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, R"(// ----- after dce -----
func @f(%x: f32[3]) -> f32[3] {
  %0 = neg %x : f32[3]
  %1 = neg %0 : f32[3]
  %2 = constant {value=2.0} : f32[]
  %3 = constant {value=3.0} : f32[]
  %4 = mul %2, %3 : f32[]
  %5 = broadcast %4 {shape=[3], dims=[]} : f32[3]
  %6 = add %1, %5 : f32[3]
  return %6
}
// ----- after algebraic -----
func @f(%x: f32[3]) -> f32[3] {
  %0 = constant {value=2.0} : f32[]
  %1 = constant {value=3.0} : f32[]
  %2 = mul %0, %1 : f32[]
  %3 = broadcast %2 {shape=[3], dims=[]} : f32[3]
  %4 = add %x, %3 : f32[3]
  return %4
}
)");
}

TEST_F(KilnOpt, PrintAfterOnePassThenTheFinalResult) {
  Result r = kiln("opt " + program_.string() + " --passes=algebraic,fold-constants --func f " +
                  "--print-after=algebraic");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("// ----- after algebraic -----\n", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find("after fold-constants"), std::string::npos);
  EXPECT_TRUE(r.out.ends_with(kSimplifiedF)) << r.out;
}

TEST_F(KilnOpt, UnknownPassListsTheKnownOnes) {
  Result r = kiln("opt " + program_.string() + " --passes=simplify,fusion");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "[opt] unknown pass 'fusion' (known: simplify, fold-constants, algebraic, dce, inline, "
            "split-reductions; pipelines: cpu)\n");
}

TEST_F(KilnOpt, PrintAfterAPassNotRunIsAnError) {
  Result r = kiln("opt " + program_.string() + " --passes=dce --print-after=simplify");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("[opt] --print-after=simplify"), std::string::npos) << r.err;
}

TEST_F(KilnOpt, BadInputAndUsage) {
  fs::path bad = write("bad.kir", "func @f(%x: f32[3]) -> f32[3] {\n  %0 = bogus %x : f32[3]\n}\n");
  Result r = kiln("opt " + bad.string() + " --passes=simplify");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("bad.kir:2:8: error:"), std::string::npos) << r.err;
  EXPECT_EQ(kiln("opt " + program_.string()).status, 1);  // --passes is required
  EXPECT_EQ(
      kiln("opt " + program_.string() + " --passes=dce --print-after-all --print-after=dce").status,
      1);
  Result missing = kiln("opt " + program_.string() + " --passes=dce --func nope");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("no function @nope"), std::string::npos) << missing.err;
}

}  // namespace

namespace {

const char* kUnfusedSoftmax = R"(func @sm(%x: f32[8,16]) -> f32[8,16] {
  %m = reduce_max %x {axes=[1]} : f32[8]
  %mb = broadcast %m {shape=[8,16], dims=[0]} : f32[8,16]
  %d = sub %x, %mb : f32[8,16]
  %e = exp %d : f32[8,16]
  %s = reduce_sum %e {axes=[1]} : f32[8]
  %sb = broadcast %s {shape=[8,16], dims=[0]} : f32[8,16]
  %y = div %e, %sb : f32[8,16]
  return %y
}
)";

class KilnOptMemory : public kiln::testing::KilnCommandTest {};

TEST_F(KilnOptMemory, PlanMemoryPrintsTheArenaAsCommentsAndStatsGoToStderr) {
  auto file = write("sm.kir", kUnfusedSoftmax);
  Result r = kiln("opt " + file.string() + " --passes=simplify,plan-memory --no-fuse --stats");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("// memory plan @sm: arena 1088 bytes (2176 without sharing), peak 1600"),
            std::string::npos)
      << r.out;
  // The output is still .kir: dumping it gives back the plain function.
  auto printed = write("printed.kir", r.out);
  Result again = kiln("dump " + printed.string());
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(r.err, "kernels: 7\npeak_bytes: 1600\n");
  Result fused = kiln("opt " + file.string() + " --passes=simplify --stats");
  EXPECT_EQ(fused.err, "kernels: 1\npeak_bytes: 512\n");
  EXPECT_EQ(fused.out.find("// kernel"), std::string::npos) << "--stats alone keeps plain IR";
}

TEST_F(KilnOptMemory, AnalysesMustComeLast) {
  auto file = write("sm.kir", kUnfusedSoftmax);
  Result r = kiln("opt " + file.string() + " --passes=plan-memory,simplify");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("[opt] plan-memory must come last in --passes"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
