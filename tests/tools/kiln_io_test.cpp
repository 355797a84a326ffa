// The `kiln` command at its edges: input that is too large or not a file is refused with one
// message and exit status 1 (never a crash or a hang), results and stdout are never left
// half-written, `-` reads stdin, and the options say what they mean.

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include "tests/tools/cli_fixture.h"

#include <filesystem>
#include <regex>
#include <string>

#include "io/npy.h"

namespace {

namespace fs = std::filesystem;
using kiln::testing::Result;

class KilnIo : public kiln::testing::KilnCommandTest {
 protected:
  void SetUp() override {
    KilnCommandTest::SetUp();
    program_ = write("p.kir", R"(func @f(%x: f32[3], %y: f32[3]) -> (f32[3], f32[3]) {
  %0 = add %x, %y : f32[3]
  %1 = mul %x, %y : f32[3]
  return %0, %1
}
)");
    kiln::ir::HostArray x(kiln::ir::TensorType{kiln::ir::DType::F32, {3}});
    for (int64_t i = 0; i < 3; ++i)
      x.set_f64(i, static_cast<double>(i + 1));
    kiln::io::save_npy(dir_ / "x.npy", x);
  }

  std::string out_dir() const { return " --output-dir " + (dir_ / "out").string(); }

  fs::path program_;
};

// ---- bad input is refused before anything is allocated or read -------------------------------

TEST_F(KilnIo, RandomInputsLargerThanMemoryAreRefused) {
  auto big = write("big.kir",
                   "func @big(%x: f32[100000,1000000]) -> f32[100000,1000000] {\n"
                   "  %0 = neg %x : f32[100000,1000000]\n  return %0\n}\n");
  const std::string what =
      "--random-inputs: parameter %x: f32[100000,1000000] needs 400000000000 bytes, more than "
      "this machine's memory";
  for (const char* device : {"cpu", "interp"})
    expect_error(kiln("run " + big.string() + " --random-inputs --device " + device + out_dir()),
                 "[run] " + what);
  expect_error(kiln("bench " + big.string()), "[bench] " + what);
}

TEST_F(KilnIo, AHugeVmapBatchIsRefused) {
  // The batch is a valid type (4e9 x 3 elements); running it with random data is what cannot be.
  Result r = shell("$KILN transform " + program_.string() +
                   " --vmap --batch-size=4000000000 | $KILN run - --random-inputs" + out_dir());
  expect_error(r, "[run] --random-inputs: parameter %x: f32[4000000000,3] needs 48000000000 bytes");
}

TEST_F(KilnIo, InputsThatAreNotRegularFilesAreRefusedUnread) {
  fs::create_directories(dir_ / "folder.npy");
  ASSERT_EQ(::mkfifo((dir_ / "fifo.npy").c_str(), 0600), 0);
  const std::string y = " --input y=" + (dir_ / "x.npy").string();
  // `timeout` turns a hang into a failure instead of a stuck test.
  auto run_with = [&](const std::string& x) {
    return shell("timeout 60 $KILN run " + program_.string() + " --input x=" + x + y + out_dir());
  };
  expect_error(run_with("/dev/zero"), "[npy] /dev/zero: is a character device, not a regular file");
  expect_error(run_with((dir_ / "fifo.npy").string()),
               "[npy] " + (dir_ / "fifo.npy").string() + ": is a FIFO, not a regular file");
  expect_error(run_with((dir_ / "folder.npy").string()),
               "[npy] " + (dir_ / "folder.npy").string() + ": is a directory, not a regular file");
  expect_error(run_with("/proc/self/mem"), "[npy] /proc/self/mem: cannot read");
  expect_error(kiln("dump /dev/zero"),
               "/dev/zero: error: is a character device, not a regular file");
  expect_error(kiln("run " + (dir_ / "folder.npy").string()), "is a directory");
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

// ---- stdin ---------------------------------------------------------------------------------

TEST_F(KilnIo, DashReadsTheProgramOrOneInputFromStdin) {
  Result piped = shell("$KILN transform " + program_.string() +
                       " --vmap --batch-size=2 | $KILN run - --random-inputs" + out_dir());
  ASSERT_EQ(piped.status, 0) << piped.err;
  EXPECT_NE(piped.out.find("result 0: f32[2,3]"), std::string::npos) << piped.out;
  Result dumped = run_binary(KILN_BINARY, "dump -", "", program_.string());
  ASSERT_EQ(dumped.status, 0) << dumped.err;
  EXPECT_EQ(dumped.out, kiln("dump " + program_.string()).out);
  Result input = run_binary(KILN_BINARY,
                            "run " + program_.string() +
                                " --input x=- --input y=" + (dir_ / "x.npy").string() + out_dir(),
                            "", (dir_ / "x.npy").string());
  ASSERT_EQ(input.status, 0) << input.err;
  EXPECT_EQ(kiln::io::load_npy(dir_ / "out" / "1.npy").get_f64(2), 9.0);
  expect_error(kiln("run " + program_.string() + " --input x=- --input y=-"),
               "[run] --input: only one input can come from stdin (-)");
  Result both = run_binary(KILN_BINARY, "run - --input x=- --random-inputs" + out_dir(), "",
                           program_.string());
  expect_error(both, "[run] --input x=-: stdin (-) already holds the program");
  Result bad = run_binary(KILN_BINARY, "dump -", "", (dir_ / "x.npy").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.err.rfind("<stdin>:1:", 0), 0u) << bad.err;
}

// ---- output ----------------------------------------------------------------------------------

TEST_F(KilnIo, AFailedRenameKeepsTheOldResults) {
  fs::create_directories(dir_ / "out" / "1.npy" / "inside");  // result 1 cannot go there
  write("out/0.npy", "the user's old result");
  Result r = kiln("run " + program_.string() + " --random-inputs" + out_dir());
  expect_error(r, "[run] " + (dir_ / "out" / "1.npy").string() +
                      ": cannot move the finished file into place: Is a directory");
  EXPECT_EQ(r.err.find("Success"), std::string::npos);
  EXPECT_EQ(slurp(dir_ / "out" / "0.npy"), "the user's old result");
  for (const auto& e : fs::directory_iterator(dir_ / "out"))
    EXPECT_TRUE(e.path().filename() == "0.npy" || e.path().filename() == "1.npy") << e.path();
  // Where there was no old result, the new one is removed again.
  fs::remove(dir_ / "out" / "0.npy");
  EXPECT_EQ(kiln("run " + program_.string() + " --random-inputs" + out_dir()).status, 1);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "0.npy"));
}

TEST_F(KilnIo, AFullStdoutIsAnError) {
  auto t = write("t.kir",
                 "func @f(%x: f32[3]) -> f32[] {\n  %0 = reduce_sum %x {axes=[0]} : "
                 "f32[]\n  return %0\n}\n");
  for (const std::string& args :
       {"dump " + program_.string(), "dump --json " + program_.string(),
        "opt " + program_.string() + " --passes=simplify", "transform " + t.string() + " --grad",
        "run " + program_.string() + " --random-inputs" + out_dir(),
        "bench " + program_.string() + " --repeat 1", std::string("--version")}) {
    Result r = run_binary(KILN_BINARY, args, "", "/dev/null", "/dev/full");
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_NE(r.err.find("[kiln] cannot write to standard output: No space left on device"),
              std::string::npos)
        << args << ": " << r.err;
  }
}

// ---- the command line ------------------------------------------------------------------------

TEST_F(KilnIo, UnknownOptionsAreNamed) {
  Result r = kiln("opt " + program_.string() + " -p simplify");
  expect_error(r, "[opt] unknown option -p");
  EXPECT_EQ(r.err.find("required"), std::string::npos) << r.err;
  expect_error(kiln("dump -z"), "[dump] unknown option -z");
  expect_error(kiln("run " + program_.string() + " --no-such-flag"),
               "[run] unknown option --no-such-flag");
  expect_error(kiln("compile " + program_.string() + " -o x.kbundle --no-such-flag"),
               "[compile] unknown option --no-such-flag");
  expect_error(kiln("--no-such-flag"), "[kiln] unknown option --no-such-flag");
}

TEST_F(KilnIo, EmitAloneMeansTheDefaultPipeline) {
  Result r = kiln("opt " + program_.string() + " --emit=kernel");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kiln("opt " + program_.string() + " --passes=cpu --emit=kernel").out);
  EXPECT_FALSE(r.out.empty());
  expect_error(kiln("opt " + program_.string()), "[opt] --passes is required unless --emit");
}

TEST_F(KilnIo, RunCompilesByDefaultAndSaysWhereKernelsCameFrom) {
  const std::string run = "run " + program_.string() + " --random-inputs --stats" + out_dir();
  Result first = kiln(run);
  ASSERT_EQ(first.status, 0) << first.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(first.out, m, std::regex("\nkernels_compiled: ([0-9]+)\n")))
      << first.out;
  const std::string compiled = m[1];
  EXPECT_NE(compiled, "0");
  EXPECT_NE(first.out.find("\nkernels_from_disk_cache: 0\n"), std::string::npos);
  EXPECT_TRUE(std::regex_search(first.out, std::regex("\nrun_ms: [0-9.]+\nkernel_ms: [0-9.]+\n")))
      << first.out;
  Result second = kiln(run);
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(second.out.find("\nkernels_compiled: 0\nkernels_from_disk_cache: " + compiled),
            std::string::npos)
      << second.out;
  // The interpreter, the oracle, is one option away and compiles nothing.
  Result interp = kiln(run + " --device interp");
  ASSERT_EQ(interp.status, 0) << interp.err;
  EXPECT_EQ(interp.out.find("kernels"), std::string::npos) << interp.out;
}

TEST_F(KilnIo, BenchPrintsMicrosecondsForSmallFunctions) {
  Result r = kiln("bench " + program_.string() + " --repeat 3");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("median_us"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("\nfused\\s+\\d+\\s+\\S+\\s+(\\S+)")))
      << r.out;
  EXPECT_GT(std::stod(m[1]), 0.0) << r.out;
}

TEST_F(KilnIo, VersionNamesKilnLlvmAndTheHostCpu) {
  Result r = kiln("--version");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("^kiln [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nLLVM [0-9]+\\.[0-9]+"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nhost code: x86_64\\S* \\S+ \\+"))) << r.out;
}

// ---- `kiln cache` and the cache folder ----------------------------------------------------------

TEST_F(KilnIo, CacheStatsAndClear) {
  ASSERT_EQ(kiln("run " + program_.string() + " --random-inputs" + out_dir()).status, 0);
  Result stats = kiln("cache stats",
                      "KILN_CACHE_DIR=" + (dir_ / "cache").string() + " KILN_CACHE_MAX_BYTES=64M");
  ASSERT_EQ(stats.status, 0) << stats.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(stats.out, m,
                                std::regex("^folder: (.*)\nentries: ([1-9][0-9]*)\nbytes: "
                                           "([1-9][0-9]*)\nlimit: 67108864\n$")))
      << stats.out;
  EXPECT_EQ(m[1], (dir_ / "cache").string());
  Result cleared = kiln("cache clear");
  ASSERT_EQ(cleared.status, 0) << cleared.err;
  EXPECT_NE(cleared.out.find("removed " + m[2].str() + " entries (" + m[3].str() + " bytes)"),
            std::string::npos)
      << cleared.out;
  EXPECT_NE(kiln("cache stats").out.find("\nentries: 0\nbytes: 0\n"), std::string::npos);
  expect_error(kiln("cache frobnicate"), "frobnicate");
}

TEST_F(KilnIo, AFolderOthersCanWriteIsNotUsed) {
  fs::create_directories(dir_ / "cache");
  ASSERT_EQ(::chmod((dir_ / "cache").c_str(), 0777), 0);
  Result r = kiln("run " + program_.string() + " --random-inputs" + out_dir());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "[cache] " + (dir_ / "cache").string() +
                       ": the cache folder is writable by other users (mode 0777); it holds code "
                       "kiln runs, so kiln does not use it (chmod go-w to allow); the disk cache "
                       "is off\n");
  EXPECT_TRUE(fs::is_empty(dir_ / "cache"));
  expect_error(kiln("cache stats"), "[cache] " + (dir_ / "cache").string() +
                                        ": the cache folder is writable by other users");
}

TEST_F(KilnIo, CacheEntriesThatAreNotFilesAreMisses) {
  const std::string run =
      "timeout 120 $KILN run " + program_.string() + " --random-inputs" + out_dir();
  ASSERT_EQ(shell(run).status, 0);
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir_ / "cache"))
    entries.push_back(e.path());
  ASSERT_FALSE(entries.empty());
  for (const char* kind : {"fifo", "link", "directory"}) {
    for (const fs::path& p : entries) {
      fs::remove_all(p);
      if (std::string(kind) == "fifo")
        ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
      else if (std::string(kind) == "link")
        fs::create_symlink("/dev/zero", p);
      else
        fs::create_directories(p / "inside");
    }
    Result r = shell(run + " --stats");
    ASSERT_EQ(r.status, 0) << kind << ": " << r.err;
    EXPECT_EQ(r.err, "") << kind;
    EXPECT_NE(r.out.find("kernels_from_disk_cache: 0\n"), std::string::npos) << kind << r.out;
  }
}

}  // namespace
