// The disk cache cannot be turned against its user: entries that are not regular files are
// misses (never followed, never blocking), an entry holding another kernel's code is refused
// even with its checksums recomputed, a folder other users can write is not used, and the
// folder and the memory cache stay under their limits, least recently used first.

#include "compiler/disk_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <functional>

#include "compiler/cache_file.h"
#include "compiler/kernel_cache.h"
#include "ir/error.h"
#include "tests/compiler/cache_test_util.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::compiler {
namespace {

using namespace kiln::compiler::testing;

// Puts `make_entry(path)` where the entry of `k` goes, then checks that a fresh cache compiles
// `k` (without blocking or failing), counts the entry as rejected and hands out the right code.
void expect_miss(const std::function<void(const fs::path&)>& make_entry) {
  fs::path dir = runtime::testing::temp_dir("disk");
  codegen::Kernel k = runtime::testing::unary_kernel(24);
  FakeBackend backend;
  KernelCache cache(backend, {dir});
  ASSERT_EQ(cache.disk_refusal(), "");
  make_entry(*cache.disk_path(k));
  expect_code_of(cache.get(k), k);
  EXPECT_EQ(backend.compiles, 1);
  EXPECT_EQ(cache.stats().rejected_files, 1);
  fs::remove_all(dir);
}

TEST(DiskCache, AFifoEntryIsAMissThatNeverBlocks) {
  expect_miss([](const fs::path& p) { ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0); });
}

TEST(DiskCache, ALinkIsNeverFollowed) {
  // /dev/zero behind the link would be read until memory runs out.
  expect_miss([](const fs::path& p) { fs::create_symlink("/dev/zero", p); });
  // Nor is a link to a valid entry: the entry's own name is the only one trusted.
  expect_miss([](const fs::path& p) {
    spit(p.string() + ".real", {'x'});
    fs::create_symlink(p.string() + ".real", p);
  });
}

TEST(DiskCache, ADirectoryEntryDoesNotFailTheRun) {
  expect_miss([](const fs::path& p) {
    fs::create_directories(p / "inside");
    spit(p / "inside" / "file", {'x'});
  });
}

TEST(DiskCache, ReplacedEntriesBecomeRegularFilesAgain) {
  fs::path dir = runtime::testing::temp_dir("disk");
  codegen::Kernel k = runtime::testing::unary_kernel(24);
  fs::path path;
  {
    FakeBackend backend;
    KernelCache cache(backend, {dir});
    path = *cache.disk_path(k);
    fs::create_symlink("/dev/zero", path);
    cache.get(k);
  }
  EXPECT_FALSE(fs::is_symlink(path));
  EXPECT_TRUE(fs::is_regular_file(path));
  FakeBackend next;
  KernelCache again(next, {dir});
  expect_code_of(again.get(k), k);
  EXPECT_EQ(next.compiles, 0);
  fs::remove_all(dir);
}

TEST(DiskCache, AnotherKernelsCodeWithRecomputedChecksumsIsRefused) {
  fs::path dir = runtime::testing::temp_dir("disk");
  codegen::Kernel mine = runtime::testing::unary_kernel(24);
  codegen::Kernel other = runtime::testing::unary_kernel(24, ir::OpKind::Exp);
  FakeBackend backend;
  KernelCache cache(backend, {dir});
  const fs::path mine_path = *cache.disk_path(mine);
  const uint64_t mine_key = std::stoull(mine_path.stem().string(), nullptr, 16);
  const std::vector<std::byte> other_code = FakeBackend::object_for(other, "kiln_kernel_x");
  const std::span<const char> payload(reinterpret_cast<const char*>(other_code.data()),
                                      other_code.size());
  CacheEntryHeader h;
  h.kiln_version = "0.1.0";
  h.target = backend.cache_description();
  h.kernel = encode_kernel(mine);
  h.key = mine_key;
  h.symbol = cache_symbol(mine_key);
  {
    // First, that an entry made this way is the real thing: with my own code it is used.
    const std::vector<std::byte> code = FakeBackend::object_for(mine, h.symbol);
    spit(mine_path,
         write_cache_entry(h, {reinterpret_cast<const char*>(code.data()), code.size()}));
    expect_code_of(cache.get(mine), mine);
    ASSERT_EQ(cache.stats().disk_hits, 1);
    cache.clear_memory();
  }
  // The other kernel's whole entry under my key, with every checksum recomputed: the recorded
  // kernel encoding differs from mine byte for byte.
  h.kernel = encode_kernel(other);
  h.key = mine_key;
  h.symbol = cache_symbol(mine_key);
  spit(mine_path, write_cache_entry(h, payload));
  expect_code_of(cache.get(mine), mine);
  EXPECT_EQ(cache.stats().rejected_files, 1);
  // My encoding and key, but the other entry's symbol: refused too.
  cache.clear_memory();
  h.kernel = encode_kernel(mine);
  h.symbol = cache_symbol(h.key ^ 1);
  spit(mine_path, write_cache_entry(h, payload));
  expect_code_of(cache.get(mine), mine);
  EXPECT_EQ(cache.stats().rejected_files, 2);
  EXPECT_EQ(backend.compiles, 2);
  fs::remove_all(dir);
}

TEST(DiskCache, AFolderOthersCanWriteIsRefused) {
  for (mode_t mode : {0777, 0775, 0757, 01777}) {
    fs::path dir = runtime::testing::temp_dir("disk");
    ASSERT_EQ(::chmod(dir.c_str(), mode), 0);
    FakeBackend backend;
    KernelCache cache(backend, {dir});
    EXPECT_NE(cache.disk_refusal().find("[cache] " + dir.string() +
                                        ": the cache folder is writable by other users"),
              std::string::npos)
        << cache.disk_refusal();
    EXPECT_FALSE(cache.config().disk_dir);
    codegen::Kernel k = runtime::testing::unary_kernel(8);
    expect_code_of(cache.get(k), k);
    EXPECT_TRUE(fs::is_empty(dir)) << "nothing is written to a refused folder";
    fs::remove_all(dir);
  }
}

TEST(DiskCache, AFolderOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the folder away";
  fs::path dir = runtime::testing::temp_dir("disk");
  ASSERT_EQ(::chown(dir.c_str(), 12345, 12345), 0);
  EXPECT_NE(prepare_cache_folder(dir).find("belongs to user 12345"), std::string::npos);
  fs::remove_all(dir);
}

TEST(DiskCache, ANewFolderIsPrivate) {
  fs::path dir = runtime::testing::temp_dir("disk") / "a" / "cache";
  EXPECT_EQ(prepare_cache_folder(dir), "");
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  fs::remove_all(dir.parent_path().parent_path());
}

// Sets a file's modification time `age_s` seconds into the past.
void age(const fs::path& p, int age_s) {
  struct timespec times[2];
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= age_s;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
}

TEST(DiskCache, EvictsTheLeastRecentlyUsedPastItsLimit) {
  fs::path dir = runtime::testing::temp_dir("disk");
  codegen::Kernel a = runtime::testing::unary_kernel(8), b = runtime::testing::unary_kernel(9),
                  c = runtime::testing::unary_kernel(10);
  fs::path pa, pb, pc;
  {
    FakeBackend backend;
    KernelCache cache(backend, {dir});
    cache.get(a), cache.get(b);
    pa = *cache.disk_path(a), pb = *cache.disk_path(b), pc = *cache.disk_path(c);
  }
  const uint64_t entry = fs::file_size(pa);
  EXPECT_EQ(disk_cache_usage(dir).entries, 2);
  EXPECT_EQ(disk_cache_usage(dir).bytes, fs::file_size(pa) + fs::file_size(pb));
  // a is older than b, but then used: b becomes the least recently used.
  age(pa, 200);
  age(pb, 100);
  KernelCacheConfig config{dir};
  config.disk_max_bytes = 2 * entry + entry / 2;  // room for two entries, not three
  FakeBackend backend;
  KernelCache cache(backend, config);
  cache.get(a);
  EXPECT_EQ(backend.compiles, 0);
  cache.get(c);  // the third entry: b goes
  EXPECT_TRUE(fs::exists(pa));
  EXPECT_FALSE(fs::exists(pb));
  EXPECT_TRUE(fs::exists(pc));
  EXPECT_LE(disk_cache_usage(dir).bytes, config.disk_max_bytes);
  fs::remove_all(dir);
}

TEST(DiskCache, ClearRemovesEntriesOnly) {
  fs::path dir = runtime::testing::temp_dir("disk");
  {
    FakeBackend backend;
    KernelCache cache(backend, {dir});
    cache.get(runtime::testing::unary_kernel(8));
    cache.get(runtime::testing::unary_kernel(9));
  }
  spit(dir / "notes.txt", {'k', 'e', 'e', 'p'});
  spit(dir / "0123456789abcdef.o.tmp-1-2", {'x'});  // left by a crash
  const DiskCacheUsage before = disk_cache_usage(dir);
  const DiskCacheUsage removed = clear_disk_cache(dir);
  EXPECT_EQ(removed.entries, 2);
  EXPECT_EQ(removed.bytes, before.bytes);
  EXPECT_EQ(disk_cache_usage(dir).entries, 0);
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
  EXPECT_FALSE(fs::exists(dir / "0123456789abcdef.o.tmp-1-2"));
  fs::remove_all(dir);
}

TEST(DiskCache, TheMemoryCacheIsBounded) {
  KernelCacheConfig config;
  config.memory_max_bytes = 1;  // below any entry: only the newest stays
  FakeBackend backend;
  KernelCache cache(backend, config);
  codegen::Kernel a = runtime::testing::unary_kernel(8), b = runtime::testing::unary_kernel(9);
  expect_code_of(cache.get(a), a);
  expect_code_of(cache.get(b), b);
  EXPECT_EQ(cache.memory_entries(), 1u);
  cache.get(b);
  EXPECT_EQ(cache.stats().memory_hits, 1);
  cache.get(a);  // evicted: compiled again
  EXPECT_EQ(backend.compiles, 3);
  // The default keeps far more than a few kernels.
  KernelCache roomy(backend, {});
  roomy.get(a), roomy.get(b);
  EXPECT_EQ(roomy.memory_entries(), 2u);
}

TEST(DiskCache, TheLimitComesFromTheEnvironment) {
  ScopedEnv keep("KILN_CACHE_MAX_BYTES");
  ::unsetenv("KILN_CACHE_MAX_BYTES");
  EXPECT_EQ(cache_config_from_env().disk_max_bytes, uint64_t{1} << 30);
  ::setenv("KILN_CACHE_MAX_BYTES", "5000", 1);
  EXPECT_EQ(cache_config_from_env().disk_max_bytes, 5000u);
  ::setenv("KILN_CACHE_MAX_BYTES", "64M", 1);
  EXPECT_EQ(cache_config_from_env().disk_max_bytes, uint64_t{64} << 20);
  for (const char* bad : {"lots", "-1", "12X", "99999999999999999999", "5G5"}) {
    ::setenv("KILN_CACHE_MAX_BYTES", bad, 1);
    EXPECT_THROW(cache_config_from_env(), Error) << bad;
  }
}

}  // namespace
}  // namespace kiln::compiler
