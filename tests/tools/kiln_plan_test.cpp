// The compile/run seam as a user meets it: `kiln opt --stats` reports exactly the kernels
// `kiln run` executes; a plan saved by `kiln run --save-plan` runs in `kiln-plan`, which links
// no LLVM, with the same bits; and results are bit-identical across processes and thread
// counts.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/common/workloads_kir.h"
#include "tests/tools/cli_fixture.h"

namespace kiln::testing {
namespace {

class KilnPlanTest : public KilnCommandTest {
 protected:
  // Runs a shell command (for ldd and readelf), returning its stdout.
  std::string shell(const std::string& command) {
    const fs::path out = dir_ / "shell_out";
    const int raw = std::system((command + " >" + out.string() + " 2>&1").c_str());
    EXPECT_EQ(raw, 0) << command;
    return slurp(out);
  }
  // Every line that starts with `key`.
  static std::string lines_with(const std::string& text, const std::string& key) {
    std::string found;
    size_t at = 0;
    while ((at = text.find(key, at)) != std::string::npos) {
      if (at == 0 || text[at - 1] == '\n')
        found += text.substr(at, text.find('\n', at) - at) + "\n";
      at += key.size();
    }
    return found;
  }
  Result plan(const std::string& args) { return run_binary(KILN_PLAN_BINARY, args); }
};

TEST_F(KilnPlanTest, OptStatsReportsTheKernelsRunExecutes) {
  int index = 1;
  for (const char* text : workloads::kAll) {
    const fs::path file = write("w" + std::to_string(index++) + ".kir", text);
    Result opt = kiln("opt " + file.string() + " --passes=simplify --stats");
    ASSERT_EQ(opt.status, 0) << opt.err;
    Result run =
        kiln("run " + file.string() + " --device cpu --random-inputs --stats --output-dir " +
             (dir_ / "out").string());
    ASSERT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(lines_with(opt.err, "kernels: "), lines_with(run.out, "kernels: ")) << text;
    EXPECT_EQ(lines_with(opt.err, "peak_bytes: "), lines_with(run.out, "peak_bytes: ")) << text;
  }
}

TEST_F(KilnPlanTest, TheRunnerLinksNoLlvm) {
  const std::string needed = shell("readelf -d " + std::string(KILN_PLAN_BINARY));
  EXPECT_NE(needed.find("NEEDED"), std::string::npos) << needed;
  EXPECT_EQ(needed.find("LLVM"), std::string::npos) << needed;
  const std::string libraries = shell("ldd " + std::string(KILN_PLAN_BINARY));
  EXPECT_EQ(libraries.find("LLVM"), std::string::npos) << libraries;
  // The compiler does need it: the check above is not vacuous.
  EXPECT_NE(shell("ldd " + std::string(KILN_BINARY)).find("LLVM"), std::string::npos);
}

TEST_F(KilnPlanTest, ASavedPlanRunsTheSameWithoutTheCompiler) {
  int index = 1;
  for (const char* text : workloads::kAll) {
    const std::string name = "w" + std::to_string(index++);
    const fs::path file = write(name + ".kir", text);
    const fs::path plan_file = dir_ / (name + ".kplan");
    Result run =
        kiln("run " + file.string() + " --device cpu --random-inputs --seed 7 --save-plan " +
             plan_file.string() + " --output-dir " + (dir_ / "compiled").string());
    ASSERT_EQ(run.status, 0) << run.err;
    Result ran = plan(plan_file.string() + " --random-inputs --seed 7 --output-dir " +
                      (dir_ / "loaded").string());
    ASSERT_EQ(ran.status, 0) << ran.err;
    EXPECT_EQ(slurp(dir_ / "compiled" / "0.npy"), slurp(dir_ / "loaded" / "0.npy")) << name;
  }
}

TEST_F(KilnPlanTest, CorruptPlansAreRefusedWithOneClearError) {
  const fs::path file = write("w2.kir", workloads::kW2);
  const fs::path plan_file = dir_ / "w2.kplan";
  ASSERT_EQ(kiln("run " + file.string() + " --device cpu --random-inputs --save-plan " +
                 plan_file.string() + " --output-dir " + (dir_ / "o").string())
                .status,
            0);
  const std::string bytes = slurp(plan_file);
  const fs::path bad = dir_ / "bad.kplan";
  for (size_t at : {size_t{0}, size_t{9}, size_t{30}, bytes.size() / 2, bytes.size() - 1}) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
    write("bad.kplan", damaged);
    Result r = plan(bad.string() + " --random-inputs --output-dir " + (dir_ / "x").string());
    EXPECT_EQ(r.status, 1) << at;
    EXPECT_EQ(r.err.rfind("[plan] " + bad.string() + ": ", 0), 0u) << at << ": " << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "x" / "0.npy")) << "no output from a refused plan";
  }
  write("bad.kplan", bytes.substr(0, bytes.size() / 3));
  Result truncated = plan(bad.string() + " --random-inputs");
  EXPECT_EQ(truncated.status, 1);
  EXPECT_NE(truncated.err.find("[plan]"), std::string::npos) << truncated.err;
  Result missing = plan((dir_ / "nothing.kplan").string() + " --random-inputs");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
}

// 20 processes at 1, 2 and 4 threads: the same inputs give the same bits, the matrix products
// included.
TEST_F(KilnPlanTest, ResultsAreBitIdenticalAcrossProcessesAndThreadCounts) {
  const fs::path mlp = write("w4.kir", workloads::kW4);
  const fs::path sum = write("w5.kir", workloads::kW5);
  for (const fs::path& file : {mlp, sum}) {
    std::string first;
    for (int p = 0; p < 20; ++p) {
      const int threads = 1 << (p % 3);
      const fs::path out = dir_ / ("run" + std::to_string(p));
      Result r = kiln("run " + file.string() +
                          " --device cpu --random-inputs --seed 3 --output-dir " + out.string(),
                      "KILN_NO_DISK_CACHE=1 KILN_NUM_THREADS=" + std::to_string(threads));
      ASSERT_EQ(r.status, 0) << r.err;
      const std::string bits = slurp(out / "0.npy");
      if (p == 0)
        first = bits;
      else
        EXPECT_EQ(bits, first) << file.filename() << " differs in process " << p << " at "
                               << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace kiln::testing
