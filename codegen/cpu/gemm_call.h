#pragma once
// How the CPU backend runs a Dot phase: as one call to the runtime's GEMM (kiln_matmul_rows,
// runtime/kernel_abi.h) for a block of rows, when the phase's loads and store have one of the
// layouts that GEMM takes (with the kernel's later phases as the GEMM's block epilogue where
// they fit; see KernelEmitter::block_epilogue_fits). Otherwise the emitter runs the phase's
// loops as written.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "codegen/kernel.h"

namespace kiln::codegen::cpu {

// out[b, i, j] = sum_k lhs[b, i, k] * rhs[b, k, j] over the row space [batch, m] (the kernel's
// outer space): lhs laid out [batch, m, k] or transposed [batch, k, m], rhs [batch, k, n] or
// transposed [batch, n, k], either shared by every batch instead of batched, out [batch, m, n].
struct GemmCall {
  int32_t lhs = -1, rhs = -1, out = -1;  // buffers
  ir::DType dtype = ir::DType::F32;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  int32_t flags = 0;  // runtime::MatmulFlags
};

// The call that computes phase `phase` of `kernel`, if it is a Dot phase the GEMM can run:
// exactly the products codegen/dot_layout.h finds, which the Vulkan backend tiles alike.
std::optional<GemmCall> gemm_call(const Kernel& kernel, size_t phase);

}  // namespace kiln::codegen::cpu
