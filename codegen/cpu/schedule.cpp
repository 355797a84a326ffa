#include "codegen/cpu/schedule.h"

#include <algorithm>

#include "codegen/cpu/gemm_call.h"

namespace kiln::codegen::cpu {

namespace {

// About this many scalar operations per chunk of a parallel loop: below it, handing work to
// another thread costs more than it saves.
constexpr int64_t kMinWorkPerChunk = int64_t{1} << 15;

int64_t work_per_outer_index(const Kernel& kernel) {
  int64_t work = 0;
  for (const Phase& phase : kernel.phases) {
    int64_t p = 1;
    for (int64_t e : phase.extents)
      p *= e;
    if (phase.kind == PhaseKind::Dot) p *= 2 * phase.contraction;
    work += p;
  }
  return std::max<int64_t>(1, work);
}

}  // namespace

Schedule schedule(const Kernel& kernel) {
  Schedule s;
  s.grain = std::max<int64_t>(1, kMinWorkPerChunk / work_per_outer_index(kernel));
  s.one_block_per_thread = !kernel.phases.empty() && gemm_call(kernel, 0).has_value();
  return s;
}

}  // namespace kiln::codegen::cpu
