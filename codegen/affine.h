#pragma once
// Affine index analysis: an i64 index expression as constant + sum of coefficient * loop index,
// when it is one. Backends use it to see a Load's access pattern (the CPU maps a Dot phase whose
// loads have a GEMM's strides onto its GEMM; a GPU backend can check coalescing the same way)
// without caring how lowering spelled the arithmetic.

#include <cstdint>
#include <optional>
#include <vector>

#include "codegen/kernel.h"

namespace kiln::codegen {

struct AffineTerm {
  LoopLevel loop = LoopLevel::Outer;
  int32_t axis = 0;
  int64_t coefficient = 0;
  bool operator==(const AffineTerm&) const = default;
};

struct AffineIndex {
  int64_t constant = 0;
  std::vector<AffineTerm> terms;  // one per distinct loop index, none with coefficient 0

  int64_t coefficient(LoopLevel loop, int32_t axis) const;
};

// nullopt when `id` is not affine in the loop indices: it uses Div, Rem, Min, Max, a Load or a
// product of two indices, or its coefficients overflow i64.
std::optional<AffineIndex> affine_index(const Kernel& kernel, ExprId id);

}  // namespace kiln::codegen
