#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace kiln::runtime {
namespace {

TEST(ThreadPool, CoversEveryIndexOnce) {
  ThreadPool pool(4);
  for (int64_t n : {1, 2, 7, 64, 1000, 12345}) {
    for (int64_t grain : {1, 3, 100, 100000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) {
        EXPECT_LT(begin, end);
        for (int64_t i = begin; i < end; ++i)
          hits[static_cast<size_t>(i)]++;
      });
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ThreadPool, EmptyRangeCallsNothing) {
  ThreadPool pool(3);
  bool called = false;
  pool.parallel_for(0, 1, [&](int64_t, int64_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPool, RespectsGrain) {
  ThreadPool pool(4);
  std::atomic<int> short_chunks{0};
  pool.parallel_for(1000, 100, [&](int64_t begin, int64_t end) {
    if (end - begin < 100 && end != 1000) short_chunks++;
  });
  EXPECT_EQ(short_chunks.load(), 0);
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  pool.parallel_for(16, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      pool.parallel_for(100, 1, [&](int64_t b, int64_t e) { total += e - b; });
  });
  EXPECT_EQ(total.load(), 1600);
}

TEST(ThreadPool, ExceptionsPropagateAndPoolStaysUsable) {
  ThreadPool pool(4);
  EXPECT_THROW(pool.parallel_for(100, 1,
                                 [](int64_t begin, int64_t) {
                                   if (begin >= 50) throw std::runtime_error("boom");
                                 }),
               std::runtime_error);
  std::atomic<int64_t> count{0};
  pool.parallel_for(100, 1, [&](int64_t b, int64_t e) { count += e - b; });
  EXPECT_EQ(count.load(), 100);
}

TEST(ThreadPool, ManyCallsInARow) {
  ThreadPool pool(3);
  int64_t sum = 0;
  for (int round = 0; round < 500; ++round) {
    std::atomic<int64_t> s{0};
    pool.parallel_for(37, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        s += i;
    });
    sum += s.load();
  }
  EXPECT_EQ(sum, 500 * (36 * 37 / 2));
}

TEST(ThreadPool, InstanceHasAtLeastOneThread) {
  EXPECT_GE(ThreadPool::instance().num_threads(), 1);
  std::atomic<int64_t> count{0};
  parallel_for(10, 1, [&](int64_t b, int64_t e) { count += e - b; });
  EXPECT_EQ(count.load(), 10);
}

}  // namespace
}  // namespace kiln::runtime
