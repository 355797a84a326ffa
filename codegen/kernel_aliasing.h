#pragma once
// Which buffers of a kernel may share memory. Memory planning lets such an output overwrite a
// dying input in place, and every backend must then not assume the two never alias (the LLVM
// emitter withholds `noalias` from them). Both ask this one analysis, so they always agree.

#include <cstdint>
#include <utility>
#include <vector>

#include "codegen/kernel.h"

namespace kiln::codegen {

// (input buffer, output buffer) pairs of `kernel` that may share memory: the kernel reads the
// input only at the very element it is about to write of the output, in the same iteration
// (every load of the input uses the offset expression of the output's one store, in phases of
// the store's extents), the elements have the same size and count, and the output's store is
// the kernel's last phase and that phase's only store (so no other store reads the input after
// it is overwritten). Conservative: a kernel that does not show this plainly gets no pairs.
std::vector<std::pair<int32_t, int32_t>> in_place_pairs(const Kernel& kernel);

}  // namespace kiln::codegen
