// The kernel cache with a stand-in backend that counts compiles: memory hits, disk reuse as a
// second process sees it, and recompilation of every damaged or foreign entry.

#include "compiler/kernel_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>

#include "compiler/cache_file.h"
#include "ir/error.h"
#include "tests/compiler/cache_test_util.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::compiler {
namespace {

using namespace kiln::compiler::testing;

namespace fs = std::filesystem;

TEST(KernelCache, MemoryOnlyCompilesEachKernelOnce) {
  FakeBackend backend;
  KernelCache cache(backend, {});
  codegen::Kernel k = runtime::testing::unary_kernel(16);
  expect_code_of(cache.get(k), k);
  codegen::Kernel same = runtime::testing::unary_kernel(16);
  same.name = "renamed";
  cache.get(same);
  cache.get(runtime::testing::unary_kernel(16, ir::OpKind::Exp));
  EXPECT_EQ(backend.compiles, 2);
  EXPECT_EQ(cache.stats().memory_hits, 1);
  EXPECT_FALSE(cache.disk_path(k));
}

TEST(KernelCache, ASecondProcessReusesTheDisk) {
  fs::path dir = runtime::testing::temp_dir("cache");
  codegen::Kernel k = runtime::testing::unary_kernel(16);
  {
    FakeBackend backend;
    KernelCache cache(backend, {dir});
    cache.get(k);
    EXPECT_EQ(backend.compiles, 1);
    ASSERT_TRUE(fs::exists(*cache.disk_path(k)));
  }
  // A new cache (as in a new process) finds the entry and compiles nothing.
  FakeBackend backend;
  KernelCache cache(backend, {dir});
  expect_code_of(cache.get(k), k);
  EXPECT_EQ(backend.compiles, 0);
  EXPECT_EQ(cache.stats().disk_hits, 1);
  // clear_memory() makes the same cache go back to the disk.
  cache.clear_memory();
  cache.get(k);
  EXPECT_EQ(cache.stats().disk_hits, 2);
  fs::remove_all(dir);
}

// Damages the entry of `k` with `damage`, then checks that a fresh cache recompiles it,
// rewrites a valid file and never hands out the damaged one.
void expect_recompiled(const std::function<void(std::vector<char>&)>& damage,
                       const std::string& reader_target = "fake-target +x") {
  fs::path dir = runtime::testing::temp_dir("cache");
  codegen::Kernel k = runtime::testing::unary_kernel(32);
  fs::path path;
  {
    FakeBackend backend;
    KernelCache cache(backend, {dir});
    cache.get(k);
    path = *cache.disk_path(k);
  }
  FakeBackend probe(reader_target);
  KernelCache cache(probe, {dir});
  fs::path reader_path = *cache.disk_path(k);
  std::vector<char> bytes = slurp(path);
  damage(bytes);
  spit(reader_path, bytes);
  expect_code_of(cache.get(k), k);
  EXPECT_EQ(probe.compiles, 1);
  EXPECT_EQ(cache.stats().rejected_files, 1);
  // The rewritten entry is whole again: the next process reuses it.
  FakeBackend next(reader_target);
  KernelCache again(next, {dir});
  again.get(k);
  EXPECT_EQ(next.compiles, 0);
  fs::remove_all(dir);
}

TEST(KernelCache, TruncatedEntryIsRecompiled) {
  expect_recompiled([](std::vector<char>& b) { b.resize(b.size() / 2); });
  expect_recompiled([](std::vector<char>& b) { b.pop_back(); });
  expect_recompiled([](std::vector<char>& b) { b.clear(); });
}

TEST(KernelCache, AlteredEntryIsRecompiled) {
  expect_recompiled([](std::vector<char>& b) { b[b.size() - 3] ^= 1; });  // the payload
  expect_recompiled([](std::vector<char>& b) { b[12] ^= 1; });            // the header
}

TEST(KernelCache, ForeignEntryIsRecompiled) {
  // An entry written for another CPU, copied under the name this host would look up.
  expect_recompiled([](std::vector<char>&) {}, "other-cpu +y");
}

TEST(KernelCache, UnwritableFolderLeavesTheCacheInMemory) {
  fs::path dir = runtime::testing::temp_dir("cache");
  fs::path blocker = dir / "file";
  std::ofstream(blocker) << "x";
  FakeBackend backend;
  KernelCache cache(backend, {blocker / "sub"});  // a folder below a file cannot exist
  codegen::Kernel k = runtime::testing::unary_kernel(8);
  expect_code_of(cache.get(k), k);
  expect_code_of(cache.get(k), k);
  EXPECT_EQ(backend.compiles, 1);
  fs::remove_all(dir);
}

TEST(KernelCache, EnvironmentChoosesTheFolder) {
  ScopedEnv keep_dir("KILN_CACHE_DIR"), keep_off("KILN_NO_DISK_CACHE");
  ::setenv("KILN_CACHE_DIR", "/tmp/kiln-cache-env-test", 1);
  ::unsetenv("KILN_NO_DISK_CACHE");
  EXPECT_EQ(cache_config_from_env().disk_dir, fs::path("/tmp/kiln-cache-env-test"));
  ::setenv("KILN_NO_DISK_CACHE", "1", 1);
  EXPECT_FALSE(cache_config_from_env().disk_dir);
  ::unsetenv("KILN_NO_DISK_CACHE");
  ::unsetenv("KILN_CACHE_DIR");
  if (const char* home = std::getenv("HOME")) {
    EXPECT_EQ(cache_config_from_env().disk_dir, fs::path(home) / ".cache" / "kiln");
  }
}

}  // namespace
}  // namespace kiln::compiler
