#pragma once
// The simplify pass and its parts. Each keeps the function's name, parameters and result
// types, gives bit-identical results on the interpreter (all NaNs alike), and drops dead code.
//
//  - fold-constants: an op whose operands are all constants is evaluated on the interpreter
//    and replaced by a constant when the result has at most kMaxFoldedElements elements. A
//    splat (every element alike) is written broadcast(constant scalar), the form the frontend
//    uses and the algebraic rules recognize; elementwise ops on splats fold whatever their size.
//  - algebraic: identities that hold exactly, signed zeros and NaN included (see
//    simplify_algebra.cpp for the list).
//  - simplify: both, over and over until nothing changes (at most kMaxSimplifyRounds rounds).

#include <cstdint>

#include "ir/function.h"

namespace kiln::passes {

inline constexpr int64_t kMaxFoldedElements = 1024;
inline constexpr int kMaxSimplifyRounds = 16;

ir::Function simplify(const ir::Function& function);
ir::Function fold_constants(const ir::Function& function);
ir::Function simplify_algebra(const ir::Function& function);

}  // namespace kiln::passes
