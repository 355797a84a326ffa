// The disk cache's file format: a written entry reads back, and every kind of damage or
// mismatch reads as absent.

#include "compiler/cache_file.h"

#include <gtest/gtest.h>

#include "tests/runtime/runtime_test_util.h"

namespace kiln::compiler {
namespace {

CacheEntryHeader header_for(const codegen::Kernel& k) {
  CacheEntryHeader h;
  h.kiln_version = "0.1.0";
  h.target = "llvm 16; skylake-avx512 +avx512f";
  h.kernel = encode_kernel(k);
  h.key = cache_key(h.kernel, h.kiln_version, h.target);
  return h;
}

const std::vector<char> kPayload = {'\x7f', 'E', 'L', 'F', 1, 2, 3, 4, 5, 6, 7, 8, 9};

TEST(CacheFile, RoundTrips) {
  CacheEntryHeader h = header_for(runtime::testing::unary_kernel(8));
  h.symbol = "kiln_kernel_x";
  std::vector<char> file = write_cache_entry(h, kPayload);
  auto payload = read_cache_entry(file, h);
  ASSERT_TRUE(payload);
  EXPECT_EQ(*payload, kPayload);
}

TEST(CacheFile, EveryTruncationIsRejected) {
  CacheEntryHeader h = header_for(runtime::testing::unary_kernel(8));
  h.symbol = "s";
  std::vector<char> file = write_cache_entry(h, kPayload);
  for (size_t size = 0; size < file.size(); ++size)
    EXPECT_FALSE(read_cache_entry(std::span(file).first(size), h)) << size;
}

TEST(CacheFile, EveryFlippedByteIsRejected) {
  CacheEntryHeader h = header_for(runtime::testing::unary_kernel(8));
  h.symbol = "s";
  const std::vector<char> file = write_cache_entry(h, kPayload);
  for (size_t i = 0; i < file.size(); ++i) {
    std::vector<char> bad = file;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_FALSE(read_cache_entry(bad, h)) << "byte " << i;
  }
  std::vector<char> longer = file;
  longer.push_back(0);
  EXPECT_FALSE(read_cache_entry(longer, h));
}

TEST(CacheFile, ForeignEntriesAreRejected) {
  CacheEntryHeader h = header_for(runtime::testing::unary_kernel(8));
  h.symbol = "s";
  CacheEntryHeader other_cpu = h;
  other_cpu.target = "llvm 16; znver4 +avx2";
  EXPECT_FALSE(read_cache_entry(write_cache_entry(other_cpu, kPayload), h));
  CacheEntryHeader other_version = h;
  other_version.kiln_version = "0.0.9";
  EXPECT_FALSE(read_cache_entry(write_cache_entry(other_version, kPayload), h));
  // A hash collision: the same key but another kernel.
  CacheEntryHeader other_kernel = h;
  other_kernel.kernel = encode_kernel(runtime::testing::unary_kernel(9));
  EXPECT_FALSE(read_cache_entry(write_cache_entry(other_kernel, kPayload), h));
  // Another symbol than the one the key gives: the code would not be this kernel's.
  CacheEntryHeader other_symbol = h;
  other_symbol.symbol = "kiln_kernel_other";
  EXPECT_FALSE(read_cache_entry(write_cache_entry(other_symbol, kPayload), h));
}

TEST(CacheFile, KeysSeparateKernelsVersionsAndTargets) {
  std::string a = encode_kernel(runtime::testing::unary_kernel(8));
  std::string b = encode_kernel(runtime::testing::unary_kernel(8, ir::OpKind::Exp));
  EXPECT_NE(a, b);
  EXPECT_EQ(a, encode_kernel(runtime::testing::unary_kernel(8)));
  codegen::Kernel renamed = runtime::testing::unary_kernel(8);
  renamed.name = "other";
  EXPECT_EQ(a, encode_kernel(renamed));  // names do not count
  EXPECT_NE(cache_key(a, "0.1.0", "t"), cache_key(b, "0.1.0", "t"));
  EXPECT_NE(cache_key(a, "0.1.0", "t"), cache_key(a, "0.1.1", "t"));
  EXPECT_NE(cache_key(a, "0.1.0", "t"), cache_key(a, "0.1.0", "u"));
  EXPECT_EQ(cache_file_name(0x1234), "0000000000001234.o");
  EXPECT_EQ(cache_symbol(0x1234), "kiln_kernel_0000000000001234");
}

}  // namespace
}  // namespace kiln::compiler
