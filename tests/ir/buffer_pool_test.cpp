#include "ir/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace kiln::ir {
namespace {

TEST(BufferPool, BlocksAre64ByteAligned) {
  BufferPool pool;
  for (size_t bytes : {0, 1, 63, 64, 65, 1000, 4096, 4097, 1 << 20, (1 << 20) + 3}) {
    Buffer b = pool.allocate(bytes);
    ASSERT_NE(b.data(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u) << bytes;
    EXPECT_EQ(b.size(), bytes);
    EXPECT_GE(b.capacity(), bytes);
    std::memset(b.data(), 0xab, bytes);  // the whole request is writable
  }
}

TEST(BufferPool, FreedBlocksAreReused) {
  BufferPool pool;
  void* first = nullptr;
  {
    Buffer b = pool.allocate(10000);
    first = b.data();
  }
  EXPECT_EQ(pool.cached_bytes(), BufferPool::size_class(10000));
  Buffer again = pool.allocate(9999);  // the same size class
  EXPECT_EQ(again.data(), first);
  EXPECT_EQ(pool.cached_bytes(), 0u);
}

TEST(BufferPool, SizeClassesBoundTheSlack) {
  for (size_t bytes = 1; bytes < (size_t{1} << 24); bytes = bytes * 3 / 2 + 1) {
    size_t c = BufferPool::size_class(bytes);
    EXPECT_GE(c, bytes);
    EXPECT_EQ(c % 64, 0u);
    if (bytes > 4096) {
      EXPECT_LE(c, bytes + bytes / 4 + 64) << bytes;
    }
  }
}

TEST(BufferPool, MovedHandlesReturnOnce) {
  BufferPool pool;
  {
    Buffer a = pool.allocate(256);
    Buffer b = std::move(a);
    EXPECT_EQ(a.data(), nullptr);
    Buffer c;
    c = std::move(b);
  }
  EXPECT_EQ(pool.cached_bytes(), 256u);
  pool.trim();
  EXPECT_EQ(pool.cached_bytes(), 0u);
}

TEST(BufferPool, CacheIsBounded) {
  BufferPool pool(1000);
  { Buffer b = pool.allocate(4096); }
  EXPECT_EQ(pool.cached_bytes(), 0u);  // larger than the bound: freed
}

}  // namespace
}  // namespace kiln::ir
