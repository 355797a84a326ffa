#pragma once
// Memory planning: places the buffers a schedule of kernels uses in one arena so that buffers
// whose lifetimes do not overlap share memory, and lets a kernel write its output over an
// input that dies in that kernel (in place). It sees only buffer sizes and which step reads
// and writes which buffer, so it serves any backend; the backend says which (input, output)
// pairs of a kernel may share memory, since only it can read the kernel's index arithmetic.
//
// The placement is greedy by size, largest first, each buffer at the lowest offset where it
// overlaps no already placed buffer that is live at the same time (TFLite's arena planner).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace kiln::passes {

inline constexpr size_t kArenaAlignment = 64;

struct MemoryStep {
  std::vector<int32_t> reads;   // buffer ids the step reads
  std::vector<int32_t> writes;  // buffer ids the step writes (defines)
  // (input, output) pairs where the step reads `input` only at the element it writes of
  // `output`, so `output` may take `input`'s memory if `input` is not needed afterwards.
  std::vector<std::pair<int32_t, int32_t>> in_place;
};

struct MemoryProblem {
  std::vector<size_t> sizes;  // bytes, per buffer id
  // Buffers the arena holds. The others (parameters, results, constants) live elsewhere and
  // never share memory with anything; results still count toward the peak.
  std::vector<bool> planned;
  std::vector<bool> counts_toward_peak;  // unplanned buffers that count (results); optional
  std::vector<MemoryStep> steps;
};

struct MemoryPlan {
  std::vector<std::optional<size_t>> offsets;  // per buffer id: its arena offset, if planned
  // Per buffer id: the buffer whose memory it reuses in place, if any.
  std::vector<std::optional<int32_t>> in_place_of;
  size_t arena_bytes = 0;
  size_t peak_bytes = 0;  // arena_bytes plus the unplanned buffers that count toward the peak
  // The arena's size if every planned buffer had memory of its own (what planning saved).
  size_t unshared_bytes = 0;
};

MemoryPlan plan_memory(const MemoryProblem& problem);

}  // namespace kiln::passes
