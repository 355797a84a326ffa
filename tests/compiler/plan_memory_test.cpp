// Memory planning on hand-made schedules: sharing, in-place reuse and the peak.

#include "passes/plan_memory.h"

#include <gtest/gtest.h>

namespace kiln::passes {
namespace {

struct Interval {
  size_t offset, size;
};

bool disjoint(Interval a, Interval b) {
  return a.offset + a.size <= b.offset || b.offset + b.size <= a.offset;
}

// A chain a -> b -> c -> d of equal buffers: each dies in the step that makes the next.
MemoryProblem chain(size_t bytes, bool allow_in_place) {
  MemoryProblem p;
  p.sizes = {bytes, bytes, bytes, bytes};
  p.planned = {false, true, true, false};  // a is a parameter, d a result
  p.counts_toward_peak = {false, false, false, true};
  for (int32_t s = 0; s < 3; ++s) {
    MemoryStep step{{s}, {s + 1}, {}};
    if (allow_in_place) step.in_place.emplace_back(s, s + 1);
    p.steps.push_back(step);
  }
  return p;
}

TEST(PlanMemory, BuffersLiveTogetherDoNotOverlap) {
  MemoryPlan plan = plan_memory(chain(1000, false));
  ASSERT_TRUE(plan.offsets[1] && plan.offsets[2]);
  EXPECT_FALSE(plan.offsets[0]);
  EXPECT_FALSE(plan.offsets[3]);
  // b and c are both live in step 1.
  EXPECT_TRUE(disjoint({*plan.offsets[1], 1024}, {*plan.offsets[2], 1024}));
  EXPECT_EQ(plan.arena_bytes, 2048u);
  EXPECT_EQ(plan.peak_bytes, 2048u + 1000u);
}

TEST(PlanMemory, InPlaceWhenTheInputDies) {
  MemoryPlan plan = plan_memory(chain(1000, true));
  ASSERT_TRUE(plan.offsets[1] && plan.offsets[2]);
  EXPECT_EQ(*plan.offsets[1], *plan.offsets[2]);
  EXPECT_EQ(plan.in_place_of[2], 1);
  EXPECT_FALSE(plan.in_place_of[1]);  // a is a parameter: never overwritten
  EXPECT_EQ(plan.arena_bytes, 1024u);
  EXPECT_EQ(plan.unshared_bytes, 2048u);
}

TEST(PlanMemory, NoInPlaceWhenTheInputIsReadLater) {
  MemoryProblem p = chain(1000, true);
  p.steps[2].reads.push_back(1);  // b is still needed when d is made
  MemoryPlan plan = plan_memory(p);
  EXPECT_FALSE(plan.in_place_of[2]);
  EXPECT_TRUE(disjoint({*plan.offsets[1], 1024}, {*plan.offsets[2], 1024}));
}

TEST(PlanMemory, DeadBuffersAreReused) {
  // t0: x -> a; t1: a -> b; t2: b -> c; t3: c -> y. a and c never live together.
  MemoryProblem p;
  p.sizes = {64, 4096, 4096, 4096, 64};
  p.planned = {false, true, true, true, false};
  p.counts_toward_peak = {false, false, false, false, true};
  p.steps = {{{0}, {1}, {}}, {{1}, {2}, {}}, {{2}, {3}, {}}, {{3}, {4}, {}}};
  MemoryPlan plan = plan_memory(p);
  EXPECT_EQ(plan.arena_bytes, 8192u);
  EXPECT_EQ(*plan.offsets[1], *plan.offsets[3]);
  EXPECT_EQ(plan.peak_bytes, 8192u + 64u);
}

TEST(PlanMemory, SmallBuffersFillGaps) {
  // A big buffer live throughout; two small ones live at different times share one slot.
  MemoryProblem p;
  p.sizes = {1 << 16, 100, 100};
  p.planned = {true, true, true};
  p.steps = {{{}, {0}, {}}, {{0}, {1}, {}}, {{1}, {}, {}}, {{0}, {2}, {}}, {{0, 2}, {}, {}}};
  MemoryPlan plan = plan_memory(p);
  EXPECT_EQ(*plan.offsets[1], *plan.offsets[2]);
  EXPECT_EQ(plan.arena_bytes, (1u << 16) + 128u);
}

TEST(PlanMemory, EveryPairLiveAtOnceIsDisjoint) {
  // A pseudo-random schedule: check the invariant rather than a layout.
  MemoryProblem p;
  const int n = 40;
  uint64_t seed = 12345;
  auto next = [&] { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
  for (int b = 0; b < n; ++b) {
    p.sizes.push_back(64 + next() % 5000);
    p.planned.push_back(b % 7 != 0);
  }
  for (int t = 0; t < n; ++t) {
    MemoryStep step;
    step.writes.push_back(t);
    for (int r = 0; r < 3 && t > 0; ++r)
      step.reads.push_back(static_cast<int32_t>(next() % static_cast<uint64_t>(t)));
    if (t > 0) step.in_place.emplace_back(step.reads[0], t);
    p.steps.push_back(step);
  }
  MemoryPlan plan = plan_memory(p);
  std::vector<int> first(n, n), last(n, -1);
  for (int t = 0; t < n; ++t) {
    for (int32_t b : p.steps[t].reads)
      first[b] = std::min(first[b], t), last[b] = std::max(last[b], t);
    for (int32_t b : p.steps[t].writes)
      first[b] = std::min(first[b], t), last[b] = std::max(last[b], t);
  }
  // Buffers of one in-place chain share memory by design; distinct chains live at the same
  // time must not overlap.
  auto root = [&](int b) {
    while (plan.in_place_of[b])
      b = *plan.in_place_of[b];
    return b;
  };
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b) {
      if (!p.planned[a] || !p.planned[b] || root(a) == root(b)) continue;
      if (first[a] <= last[b] && first[b] <= last[a]) {
        EXPECT_TRUE(disjoint({*plan.offsets[a], p.sizes[a]}, {*plan.offsets[b], p.sizes[b]}))
            << a << " and " << b;
      }
    }
  for (int b = 0; b < n; ++b) {
    if (p.planned[b]) {
      EXPECT_LE(*plan.offsets[b] + p.sizes[b], plan.arena_bytes);
    }
  }
}

}  // namespace
}  // namespace kiln::passes
