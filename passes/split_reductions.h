#pragma once
// split-reductions: a reduction over every axis of a large value becomes two, over the rows
// and then over the row results:
//   reduce(x) -> reduce(reduce(reshape(x, [P, N/P]), axes=[1]), axes=[0])
// A full reduction has no outer loop to share among threads; after the split the first stage
// has P independent rows, so it runs on every core, and the second is tiny. Sums and products
// of floats are reassociated by this (as every parallel or vectorized reduction is); max, min
// and integer results are unchanged. Runs before fusion in the CPU compile pipeline.

#include <cstdint>

#include "ir/function.h"

namespace kiln::passes {

// Reductions with fewer elements are left alone: one thread finishes them quickly.
inline constexpr int64_t kMinSplitElements = int64_t{1} << 20;
// On a GPU a full reduction is otherwise one workgroup: anything past two rows of 4096 splits.
inline constexpr int64_t kMinSplitElementsGpu = int64_t{1} << 13;

ir::Function split_reductions(const ir::Function& function,
                              int64_t min_elements = kMinSplitElements);

}  // namespace kiln::passes
