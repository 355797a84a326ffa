#pragma once
// Lowering: turns each group of a fusion plan into a Kernel, writing every fused op as scalar
// expressions and every index movement as index arithmetic (no copies).

#include <vector>

#include "codegen/kernel.h"
#include "ir/function.h"
#include "passes/fusion.h"

namespace kiln::codegen {

// What lowering guarantees, for the runtime and the backends:
// - Kernel k's buffers are group k's inputs (in FusionGroup::inputs order), then its one output
//   (the group's root), then its scratch buffers.
// - A constant of more than 16 elements that is not one repeated value is no kernel's member:
//   it appears among kernels' inputs (and maybe among the function's results) as its own
//   ir::Value, and the runtime fills its buffer from the node's attribute (for instance by
//   interpreting that one node). A result that is a parameter or such a constant has no kernel.
// - Every Load reads in bounds, also where a select discards the value (pad, concatenate and
//   take clamp their indices), so a backend may load speculatively.
// - Index arithmetic is i64; Div and Rem on indices always have a positive constant divisor.
//   An index into a dimension of size 1 is the constant 0.
// - Float constants carry their value as written; a backend rounds them to the dtype.
// - A dot_general whose layout fits passes::matmul_layout is a Dot kernel: outer [batch, m],
//   phase 0 the Dot phase over [n] whose loads and store have the canonical row-major offsets
//   (lhs [batch, m, k] or [batch, k, m], rhs [batch, k, n] or [batch, n, k], product
//   [batch, m, n]; a dimension of size 1 contributes nothing), then the epilogue's Store phase
//   when the product is not the kernel's output.
// - A dot_general whose layout fits no MatmulLayout is a Reduce phase (ReduceSum) of products
//   in the dtype's accumulator (dot_accumulator) with the dot's dtype as result_dtype.
// - scatter_add, scatter_along_axis: phase 0 copies the operand, phase 1 (marked sequential)
//   loads and stores the output buffer at indices read from memory; duplicates must combine
//   in order (the last `set` wins).
struct LoweredFunction {
  std::vector<Kernel> kernels;  // in execution order (the plan's group order)
  // kernel_values[k][i]: the function value that buffer i of kernel k holds (a parameter or a
  // group output); an invalid Value for the kernel's scratch buffers.
  std::vector<std::vector<ir::Value>> kernel_values;
};

LoweredFunction lower(const ir::Function& function, const passes::FusionPlan& plan);

}  // namespace kiln::codegen
