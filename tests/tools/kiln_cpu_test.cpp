// `kiln run --device cpu` and `kiln bench` as a user runs them, and the disk kernel cache
// across processes: a second run reuses it; a damaged entry is detected and recompiled.

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include "tests/tools/cli_fixture.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "io/npy.h"

namespace {

namespace fs = std::filesystem;
using kiln::testing::Result;

const char* kProgram = R"(func @f(%x: f32[64, 32], %b: f32[32]) -> (f32[64, 32], f32[64]) {
  %bb = broadcast %b {shape=[64, 32], dims=[1]} : f32[64, 32]
  %0 = add %x, %bb : f32[64, 32]
  %1 = tanh %0 : f32[64, 32]
  %2 = exp %1 : f32[64, 32]
  %3 = reduce_sum %2 {axes=[1]} : f32[64]
  return %2, %3
}
)";

class KilnCpu : public kiln::testing::KilnCommandTest {
 protected:
  void SetUp() override {
    KilnCommandTest::SetUp();
    program_ = write("p.kir", kProgram);
  }

  std::string run_args(const std::string& device, const std::string& out) {
    return "run " + program_.string() + " --random-inputs --seed 4 --device " + device +
           " --output-dir " + (dir_ / out).string();
  }

  void expect_same_results(const std::string& a, const std::string& b) {
    for (int k = 0; k < 2; ++k) {
      auto x = kiln::io::load_npy(dir_ / a / (std::to_string(k) + ".npy"));
      auto y = kiln::io::load_npy(dir_ / b / (std::to_string(k) + ".npy"));
      ASSERT_EQ(x.type(), y.type());
      for (int64_t i = 0; i < x.num_elements(); ++i)
        ASSERT_NEAR(x.get_f64(i), y.get_f64(i), 1e-4 * (1 + std::abs(y.get_f64(i))))
            << a << " vs " << b << " result " << k << " element " << i;
    }
  }

  std::vector<fs::path> cache_files() {
    std::vector<fs::path> files;
    if (!fs::exists(dir_ / "cache")) return files;
    for (const auto& e : fs::directory_iterator(dir_ / "cache"))
      files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
  }

  fs::path program_;
};

TEST_F(KilnCpu, RunPrintsStatsAndMatchesTheInterpreter) {
  Result interp = kiln(run_args("interp", "interp"));
  ASSERT_EQ(interp.status, 0) << interp.err;
  Result cpu = kiln(run_args("cpu", "cpu") + " --stats --repeat 3");
  ASSERT_EQ(cpu.status, 0) << cpu.err;
  expect_same_results("cpu", "interp");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cpu.out, m, std::regex("\nkernels: (\\d+)\n"))) << cpu.out;
  EXPECT_GE(std::stoi(m[1]), 1);
  EXPECT_TRUE(std::regex_search(cpu.out, std::regex("\ncompile_ms: [0-9]+\\.[0-9]+\n")));
  EXPECT_TRUE(std::regex_search(cpu.out, std::regex("\nrun_ms: [0-9]+\\.[0-9]+\n")));
  EXPECT_TRUE(std::regex_search(cpu.out, std::regex("\npeak_bytes: [1-9][0-9]*\n")));

  Result unfused = kiln(run_args("cpu", "unfused") + " --no-fuse --stats");
  ASSERT_EQ(unfused.status, 0) << unfused.err;
  expect_same_results("unfused", "interp");
  std::smatch u;
  ASSERT_TRUE(std::regex_search(unfused.out, u, std::regex("\nkernels: (\\d+)\n")));
  EXPECT_GT(std::stoi(u[1]), std::stoi(m[1]));
}

TEST_F(KilnCpu, BadDeviceAndRepeatAreClearErrors) {
  Result r = kiln(run_args("gpu9", "o"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown device 'gpu9' (available: cpu, vulkan, interp)"), std::string::npos)
      << r.err;
  r = kiln(run_args("cpu", "o") + " --repeat 0");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--repeat must be at least 1"), std::string::npos) << r.err;
}

TEST_F(KilnCpu, BenchPrintsATable) {
  Result r = kiln("bench " + program_.string() + " --repeat 3");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string row = "\\s+\\d+(\\s+[0-9]+\\.[0-9]{3}){4}\n";
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(
          "variant\\s+kernels\\s+compile_ms\\s+median_(ms|us)\\s+min_(ms|us)\\s+max_(ms|us)\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nfused" + row))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nunfused" + row))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nspeedup: [0-9]+\\.[0-9]{2}x\n"))) << r.out;
}

// A rewritten entry is a new file renamed into place (a new inode) or new bytes; a hit only
// moves the entry's modification time (the disk cache's least-recently-used order).
struct FileId {
  ino_t inode;
  std::string bytes;
  bool operator==(const FileId&) const = default;
};

FileId file_id(const fs::path& p) {
  struct stat s {};
  ::stat(p.c_str(), &s);
  std::ifstream in(p, std::ios::binary);
  return {s.st_ino, std::string(std::istreambuf_iterator<char>(in), {})};
}

TEST_F(KilnCpu, ASecondProcessReusesTheDiskCache) {
  ASSERT_EQ(kiln(run_args("interp", "interp")).status, 0);
  Result first = kiln(run_args("cpu", "first"));
  ASSERT_EQ(first.status, 0) << first.err;
  std::vector<fs::path> files = cache_files();
  ASSERT_FALSE(files.empty());
  for (const fs::path& f : files)
    EXPECT_EQ(f.extension(), ".o") << f;
  std::vector<FileId> ids;
  for (const fs::path& f : files)
    ids.push_back(file_id(f));

  Result second = kiln(run_args("cpu", "second"));
  ASSERT_EQ(second.status, 0) << second.err;
  expect_same_results("second", "interp");
  EXPECT_EQ(cache_files(), files);
  for (size_t i = 0; i < files.size(); ++i)
    EXPECT_EQ(file_id(files[i]), ids[i]) << files[i] << " was rewritten, not reused";
}

TEST_F(KilnCpu, TruncatedOrAlteredEntriesAreRecompiled) {
  ASSERT_EQ(kiln(run_args("interp", "interp")).status, 0);
  ASSERT_EQ(kiln(run_args("cpu", "first")).status, 0);
  std::vector<fs::path> files = cache_files();
  ASSERT_FALSE(files.empty());
  // Damages every entry, runs again: the results are still right and each entry is rewritten.
  auto rerun_after = [&](const std::string& tag, const std::function<void(std::string&)>& damage) {
    std::vector<std::string> damaged;
    for (const fs::path& f : files) {
      std::string bytes = slurp(f);
      damage(bytes);
      std::ofstream(f, std::ios::binary | std::ios::trunc) << bytes;
      damaged.push_back(bytes);
    }
    Result r = kiln(run_args("cpu", tag));
    ASSERT_EQ(r.status, 0) << tag << ": " << r.err;
    expect_same_results(tag, "interp");
    for (size_t i = 0; i < files.size(); ++i)
      EXPECT_NE(slurp(files[i]), damaged[i]) << tag << ": " << files[i] << " not rewritten";
  };
  rerun_after("truncated", [](std::string& b) { b.resize(b.size() / 2); });
  rerun_after("flipped", [](std::string& b) { b[b.size() - 100] ^= 0x5a; });
  rerun_after("header", [](std::string& b) { b[20] ^= 0x01; });
  rerun_after("empty", [](std::string& b) { b.clear(); });
}

TEST_F(KilnCpu, NoDiskCacheWritesNothing) {
  Result r = kiln(run_args("cpu", "o"),
                  "KILN_NO_DISK_CACHE=1 KILN_CACHE_DIR=" + (dir_ / "cache").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(cache_files().empty());
}

TEST_F(KilnCpu, UnwritableCacheFolderStillRuns) {
  std::ofstream(dir_ / "blocker") << "a file where the cache folder would go";
  Result r = kiln(run_args("cpu", "o"), "KILN_CACHE_DIR=" + (dir_ / "blocker" / "sub").string());
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
