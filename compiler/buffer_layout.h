#pragma once
// Turns a lowered function into plan_memory's problem (which values live in the arena, when
// each is written and read, and which kernel outputs may overwrite a dying input in place) and
// its answer into the plan's slots.

#include <cstdint>
#include <utility>
#include <vector>

#include "codegen/kernel.h"
#include "codegen/kernel_aliasing.h"
#include "codegen/lower.h"
#include "ir/function.h"
#include "passes/plan_memory.h"
#include "runtime/plan.h"

namespace kiln::compiler {

using runtime::Slot;

struct BufferLayout {
  std::vector<std::vector<Slot>> kernel_slots;  // [kernel][buffer]
  std::vector<Slot> result_slots;               // where each function result is read from
  std::vector<ir::Value> constants;             // values materialized at compile time
  passes::MemoryPlan plan;
};

// `function` is the one `lowered` came from. A result produced by a kernel is written straight
// into result buffer k, k its first position among the results; parameters are the caller's;
// values read by kernels but produced by none (constants) are listed in `constants`.
//
// Donated parameters (indices into the parameters) may become a result's storage: a kernel
// result of the same type is written into the parameter's buffer when no later kernel reads the
// parameter and the writing kernel reads it, if at all, only at the element it writes
// (codegen::in_place_pairs). The result slot then names the parameter: the caller's donated
// array comes back as that result, updated in place (optimizer state, KV caches).
BufferLayout layout_buffers(const ir::Function& function, const codegen::LoweredFunction& lowered,
                            const std::vector<size_t>& donated = {});

}  // namespace kiln::compiler
