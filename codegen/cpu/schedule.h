#pragma once
// The CPU backend's schedule step: how a kernel's outer iteration space is cut into chunks for
// the thread pool. A CPU decision, kept out of the kernel IR; it changes speed only, since every
// kernel computes each outer index the same way whichever chunk it falls in.

#include <cstdint>

#include "codegen/kernel.h"

namespace kiln::codegen::cpu {

struct Schedule {
  int64_t grain = 1;  // the smallest chunk worth handing to another thread
  // A kernel whose Dot phase runs on the GEMM gets one block of rows per thread: every GEMM call
  // packs its whole right operand again, so more, smaller calls cost more than uneven blocks ever
  // would.
  bool one_block_per_thread = false;
};

Schedule schedule(const Kernel& kernel);

}  // namespace kiln::codegen::cpu
