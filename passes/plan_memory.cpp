#include "passes/plan_memory.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <numeric>

namespace kiln::passes {

namespace {

size_t align_up(size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

constexpr int64_t kNever = -1;

struct Lifetime {
  int64_t first = kNever;  // the step that defines it (or first touches it)
  int64_t last = kNever;   // the last step that reads or writes it
};

std::vector<Lifetime> lifetimes(const MemoryProblem& problem) {
  std::vector<Lifetime> life(problem.sizes.size());
  auto touch = [&](int32_t b, int64_t t) {
    Lifetime& l = life.at(static_cast<size_t>(b));
    if (l.first == kNever) l.first = t;
    l.first = std::min(l.first, t);
    l.last = std::max(l.last, t);
  };
  for (size_t t = 0; t < problem.steps.size(); ++t) {
    for (int32_t b : problem.steps[t].reads)
      touch(b, static_cast<int64_t>(t));
    for (int32_t b : problem.steps[t].writes)
      touch(b, static_cast<int64_t>(t));
  }
  return life;
}

// Buffers that share memory over time: a chain of in-place updates is one class.
struct SharedBlock {
  std::vector<int32_t> members;
  size_t size = 0;
  Lifetime life;
  size_t offset = 0;
};

bool overlaps(const Lifetime& a, const Lifetime& b) {
  return a.first <= b.last && b.first <= a.last;
}

bool planned(const MemoryProblem& problem, int32_t b) {
  return static_cast<size_t>(b) < problem.planned.size() && problem.planned[b];
}

// Merges each in-place pair whose input dies at the step into one class; returns the class
// of each buffer (or -1 for unplanned and untouched buffers).
std::vector<int32_t> form_classes(const MemoryProblem& problem, const std::vector<Lifetime>& life,
                                  std::vector<SharedBlock>& blocks, MemoryPlan& plan) {
  const size_t n = problem.sizes.size();
  std::vector<int32_t> block_of(n, -1);
  for (size_t b = 0; b < n; ++b) {
    if (!problem.planned[b] || life[b].first == kNever) continue;
    block_of[b] = static_cast<int32_t>(blocks.size());
    blocks.push_back({{static_cast<int32_t>(b)}, align_up(problem.sizes[b]), life[b], 0});
  }
  std::vector<bool> donated(n, false);
  for (size_t t = 0; t < problem.steps.size(); ++t) {
    for (auto [in, out] : problem.steps[t].in_place) {
      if (in == out || !planned(problem, in) || !planned(problem, out)) continue;
      if (donated[in] || life[in].last != static_cast<int64_t>(t)) continue;
      if (life[out].first != static_cast<int64_t>(t) || block_of[out] < 0) continue;
      SharedBlock& target = blocks[block_of[in]];
      SharedBlock& source = blocks[block_of[out]];
      if (&target == &source || source.members.size() != 1) continue;  // out already placed
      donated[in] = true;
      plan.in_place_of[out] = in;
      target.members.push_back(out);
      target.size = std::max(target.size, source.size);
      target.life.last = std::max(target.life.last, source.life.last);
      source.members.clear();
      block_of[out] = block_of[in];
    }
  }
  std::erase_if(blocks, [](const SharedBlock& b) { return b.members.empty(); });
  return block_of;
}

// Largest first, each at the smallest gap between blocks live at the same time that fits it.
void place(std::vector<SharedBlock>& blocks) {
  std::vector<size_t> order(blocks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return blocks[a].size > blocks[b].size; });
  std::vector<size_t> placed;
  for (size_t i : order) {
    SharedBlock& block = blocks[i];
    std::vector<const SharedBlock*> live;
    for (size_t j : placed)
      if (overlaps(blocks[j].life, block.life)) live.push_back(&blocks[j]);
    std::sort(live.begin(), live.end(),
              [](const SharedBlock* a, const SharedBlock* b) { return a->offset < b->offset; });
    size_t best = std::numeric_limits<size_t>::max();
    size_t best_gap = std::numeric_limits<size_t>::max();
    size_t cursor = 0;
    for (const SharedBlock* other : live) {
      if (other->offset >= cursor) {
        size_t gap = other->offset - cursor;
        if (gap >= block.size && gap < best_gap) best = cursor, best_gap = gap;
      }
      cursor = std::max(cursor, other->offset + other->size);
    }
    block.offset = best != std::numeric_limits<size_t>::max() ? best : cursor;
    placed.push_back(i);
  }
}

}  // namespace

MemoryPlan plan_memory(const MemoryProblem& problem) {
  const size_t n = problem.sizes.size();
  assert(problem.planned.size() == n);
  assert(problem.counts_toward_peak.empty() || problem.counts_toward_peak.size() == n);
  MemoryPlan plan;
  plan.offsets.assign(n, std::nullopt);
  plan.in_place_of.assign(n, std::nullopt);
  const std::vector<Lifetime> life = lifetimes(problem);
  std::vector<SharedBlock> blocks;
  form_classes(problem, life, blocks, plan);
  place(blocks);
  for (const SharedBlock& block : blocks) {
    plan.arena_bytes = std::max(plan.arena_bytes, block.offset + block.size);
    for (int32_t b : block.members)
      plan.offsets[b] = block.offset;
  }
  size_t outside = 0;
  for (size_t b = 0; b < n; ++b) {
    if (problem.planned[b] && life[b].first != kNever)
      plan.unshared_bytes += align_up(problem.sizes[b]);
    if (!problem.planned[b] && !problem.counts_toward_peak.empty() && problem.counts_toward_peak[b])
      outside += problem.sizes[b];
  }
  plan.peak_bytes = plan.arena_bytes + outside;
  return plan;
}

}  // namespace kiln::passes
