// Runs the real `kiln` binary the way a user does and checks its output, exit status and
// files, including that bad input gives one clear message and leaves nothing half-written.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "tests/tools/cli_fixture.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/npy.h"

namespace {

namespace fs = std::filesystem;
using kiln::testing::Result;

class KilnCli : public kiln::testing::KilnCommandTest {};

const char* kAddProgram = R"(// adds two vectors and scales them
func @scaled_sum(%x: f32[3], %y: f32[3]) -> (f32[3], f32[]) {
  %0 = add %x, %y : f32[3]
  %1 = constant {value=2.0} : f32[]
  %2 = broadcast %1 {shape=[3], dims=[]} : f32[3]
  %3 = mul %0, %2 : f32[3]
  %4 = reduce_sum %3 {axes=[0]} : f32[]
  return %3, %4
}

func @second(%a: i32[2]) -> i32[2] {
  %0 = neg %a : i32[2]
  return %0
}
)";

kiln::ir::HostArray vector_f32(std::vector<float> values) {
  kiln::ir::HostArray a(
      kiln::ir::TensorType{kiln::ir::DType::F32, {static_cast<int64_t>(values.size())}});
  for (size_t i = 0; i < values.size(); ++i)
    a.set_f64(static_cast<int64_t>(i), values[i]);
  return a;
}

TEST_F(KilnCli, DumpIsTheIdentityOnItsOwnOutput) {
  auto file = write("p.kir", kAddProgram);
  Result first = kiln("dump " + file.string());
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out.find("//"), std::string::npos) << "comments are not part of the IR";
  auto again = write("again.kir", first.out);
  Result second = kiln("dump " + again.string());
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_EQ(first.out, second.out);
}

TEST_F(KilnCli, DumpJsonRoundTrips) {
  auto file = write("p.kir", kAddProgram);
  Result json = kiln("dump --json " + file.string());
  ASSERT_EQ(json.status, 0) << json.err;
  auto json_file = write("p.json", json.out);
  Result text = kiln("dump " + json_file.string());
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_EQ(text.out, kiln("dump " + file.string()).out);
}

TEST_F(KilnCli, RunsOnNpyInputsAndWritesResults) {
  auto file = write("p.kir", kAddProgram);
  kiln::io::save_npy(dir_ / "x.npy", vector_f32({1, 2, 3}));
  kiln::io::save_npy(dir_ / "y.npy", vector_f32({10, 20, 30}));
  Result r =
      kiln("run " + file.string() + " --input x=" + (dir_ / "x.npy").string() +
           " --input y=" + (dir_ / "y.npy").string() + " --output-dir " + (dir_ / "out").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("result 0: f32[3]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result 1: f32[]"), std::string::npos) << r.out;
  auto r0 = kiln::io::load_npy(dir_ / "out" / "0.npy");
  Result options_first = kiln("run --input x=" + (dir_ / "x.npy").string() +
                              " --input y=" + (dir_ / "y.npy").string() + " " + file.string() +
                              " --output-dir " + (dir_ / "out2").string());
  ASSERT_EQ(options_first.status, 0) << "options may come before the file: " << options_first.err;
  EXPECT_EQ(r0, vector_f32({22, 44, 66}));
  EXPECT_EQ(kiln::io::load_npy(dir_ / "out" / "1.npy").get_f64(0), 132.0);
}

TEST_F(KilnCli, RandomInputsAreSeededAndFuncSelectsByName) {
  auto file = write("p.kir", kAddProgram);
  auto a = kiln("run " + file.string() + " --func second --random-inputs --seed 7 --output-dir " +
                (dir_ / "a").string());
  auto b = kiln("run " + file.string() + " --func second --random-inputs --seed 7 --output-dir " +
                (dir_ / "b").string());
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_NE(a.out.find("i32[2]"), std::string::npos);
  EXPECT_EQ(slurp(dir_ / "a" / "0.npy"), slurp(dir_ / "b" / "0.npy"));
}

TEST_F(KilnCli, ExamplesWriteKirThatTheCommandDumpsAndRuns) {
  for (std::string example : {KILN_EXAMPLE_MLP, KILN_EXAMPLE_ATTENTION}) {
    fs::path kir = dir_ / (fs::path(example).filename().string() + ".kir");
    ASSERT_EQ(std::system((example + " " + kir.string()).c_str()), 0) << example;
    Result dump = kiln("dump " + kir.string());
    ASSERT_EQ(dump.status, 0) << dump.err;
    EXPECT_EQ(dump.out, slurp(kir)) << "examples print canonical .kir";
    Result run =
        kiln("run " + kir.string() + " --random-inputs --output-dir " + (dir_ / "out").string());
    ASSERT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find("result 0: f32["), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("nan"), std::string::npos) << run.out;
  }
}

TEST_F(KilnCli, MalformedTextNamesFileLineAndColumn) {
  auto bad =
      write("bad.kir",
            "func @f(%x: f32[3]) -> f32[3] {\n  %0 = frobnicate %x : f32[3]\n  return %0\n}\n");
  expect_error(kiln("dump " + bad.string()), bad.string() + ":2:8: error: unknown op 'frobnicate'");
  auto mismatch = write(
      "shape.kir",
      "func @f(%x: f32[3], %y: f32[4]) -> f32[3] {\n  %0 = add %x, %y : f32[3]\n  return %0\n}\n");
  Result r = kiln("run " + mismatch.string() + " --random-inputs");
  expect_error(r, mismatch.string() + ":2:8: error: add expects operands of one shape");
  EXPECT_EQ(r.err.rfind(mismatch.string(), 0), 0u) << "the message starts with the place";
}

TEST_F(KilnCli, InputProblemsAreClearErrors) {
  auto file = write("p.kir", kAddProgram);
  kiln::io::save_npy(dir_ / "x.npy", vector_f32({1, 2, 3}));
  kiln::io::save_npy(dir_ / "four.npy", vector_f32({1, 2, 3, 4}));
  std::string x = " --input x=" + (dir_ / "x.npy").string();
  expect_error(kiln("run " + file.string() + x), "no --input for parameter %y: f32[3]");
  expect_error(kiln("run " + file.string() + x + " --input z=" + (dir_ / "x.npy").string()),
               "--input names 'z', which is not a parameter of @scaled_sum");
  expect_error(kiln("run " + file.string() + x + x), "--input gives parameter %x twice");
  expect_error(kiln("run " + file.string() + x + " --input y=" + (dir_ / "four.npy").string()),
               "holds f32[4] but parameter %y is f32[3]");
  write("corrupt.npy", "\x93NUMPY\x01\x00garbage");
  expect_error(kiln("run " + file.string() + x + " --input y=" + (dir_ / "corrupt.npy").string()),
               "[npy] " + (dir_ / "corrupt.npy").string());
  expect_error(kiln("run " + file.string() + x + " --input y"), "--input takes NAME=FILE.npy");
  expect_error(kiln("run " + file.string() + " --random-inputs --device gpu9"),
               "unknown device 'gpu9'");
  expect_error(kiln("run " + file.string() + " --random-inputs --func nope"), "no function @nope");
  expect_error(kiln("dump " + (dir_ / "missing.kir").string()), "missing.kir");
}

TEST_F(KilnCli, ValuesTooLargeToAllocateAreClearErrors) {
  auto file = write("big.kir",
                    "func @big() -> f32[1000000,1000000] {\n"
                    "  %0 = constant {value=1.0} : f32[1000000,1000000]\n  return %0\n}\n");
  expect_error(
      kiln("run " + file.string() + " --device interp --output-dir " + (dir_ / "out").string()),
      "[interp] @big: constant : f32[1000000,1000000] needs 4000000000000 bytes");
  expect_error(kiln("run " + file.string() + " --output-dir " + (dir_ / "out").string()),
               "[runtime] @big: needs 4000000000000 bytes, more than this machine's memory");
  EXPECT_FALSE(fs::exists(dir_ / "out" / "0.npy"));
}

TEST_F(KilnCli, FailedRunLeavesNoOutput) {
  auto file = write("p.kir", kAddProgram);
  write("out", "a file where the output directory should be");
  Result r =
      kiln("run " + file.string() + " --random-inputs --output-dir " + (dir_ / "out").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("cannot create the output directory"), std::string::npos) << r.err;
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos);
}

TEST_F(KilnCli, UsageErrorsExitOneAndHelpListsOptions) {
  EXPECT_EQ(kiln("").status, 1);
  EXPECT_EQ(kiln("frobnicate").status, 1);
  EXPECT_EQ(kiln("run --no-such-flag x.kir").status, 1);
  Result help = kiln("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("dump"), std::string::npos);
  EXPECT_NE(help.out.find("run"), std::string::npos);
  Result run_help = kiln("run --help");
  EXPECT_EQ(run_help.status, 0);
  for (const char* option :
       {"--func", "--device", "--input", "--random-inputs", "--seed", "--output-dir"})
    EXPECT_NE(run_help.out.find(option), std::string::npos) << option;
  EXPECT_NE(kiln("dump --help").out.find("--json"), std::string::npos);
}

}  // namespace
