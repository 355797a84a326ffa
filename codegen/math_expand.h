#pragma once
// The math ops lowering writes out in other kernel ops instead of handing to the backends:
// tan, asin, acos, atan, atan2, sinh, cosh, asinh, acosh, atanh, erf_inv, lgamma, digamma.
// Each is a straight-line formula over ops every backend already has (exp, log, log1p, expm1,
// sin, cos, erf, sqrt, division, selects), written once, so the CPU and Vulkan compute the
// same thing and vectorize it like any fused chain. f16 and bf16 compute in f32 and round
// once; f32 and f64 in their own precision. The bounds the tests hold them to are in
// tests/codegen/math_expand_test.cpp.

#include <span>

#include "codegen/kernel.h"
#include "ir/ops.h"

namespace kiln::codegen {

// Whether lowering writes `op` out (so no backend ever sees it in a kernel).
bool expanded_by_lowering(ir::OpKind op);

// op(operands) of dtype `dtype` as kernel expressions.
ExprId expand_math(ExprBuilder& b, ir::OpKind op, ir::DType dtype,
                   std::span<const ExprId> operands);

}  // namespace kiln::codegen
