#pragma once
// Which Dot phases are a plain matrix product, read from the loads' affine offsets (affine.h):
// the analysis every backend's matrix engine starts from (the CPU's GEMM call, gemm_call.h;
// the Vulkan backend's tiled strategy, spirv_compiler.h), written once so they cannot disagree.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "codegen/kernel.h"

namespace kiln::codegen {

// out[b, i, j] = sum_k lhs[b, i, k] * rhs[b, k, j] over the row space [batch, m] (the kernel's
// outer space) and the phase's one inner axis n: lhs laid out [batch, m, k] or transposed
// [batch, k, m], rhs [batch, k, n] or transposed [batch, n, k], either shared by every batch
// instead of batched, out [batch, m, n], every buffer large enough for the whole product.
struct DotLayout {
  int32_t lhs = -1, rhs = -1, out = -1;  // buffers
  ir::DType dtype = ir::DType::F32;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool lhs_batched = false, lhs_transposed = false;
  bool rhs_batched = false, rhs_transposed = false;
};

// The layout of phase `phase` of `kernel`, if it is such a product: the kernel's first phase
// (so a backend may finish a block of the product before any other phase of its rows runs), a
// Dot phase with the dtype's own accumulator (dot_accumulator), not over bool, in a kernel
// whose outer space is [batch, m], whose one store writes the product at [b, i, j].
std::optional<DotLayout> dot_layout(const Kernel& kernel, size_t phase);

// Whether the kernel's later phases can run on any block of the product as soon as the block
// is final: all are store phases over the product's columns (extents {n}) that read nothing the
// kernel writes (outputs, scratch) but the product at the element being finished, and no
// earlier phase's result. Then each element's epilogue needs only that element's product.
bool dot_epilogue_fits(const Kernel& kernel, const DotLayout& layout);

}  // namespace kiln::codegen
