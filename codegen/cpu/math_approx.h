#pragma once
// Inline f32 approximations of the transcendental ops, emitted as plain arithmetic, bitcasts
// and selects so that a loop using them still vectorizes (no calls into libm). Each takes and
// returns an f32 scalar. Worst errors measured against a double reference are stated in
// tests/codegen/llvm_math_test.cpp; the reductions assume the host fuses multiply-adds
// (llvm.fmuladd becomes an FMA wherever the target has one).

#include <llvm/IR/IRBuilder.h>

#include "ir/ops.h"

namespace kiln::codegen::cpu {

// The ops whose f32 form is one of the approximations below (tens of instructions each).
bool is_inline_transcendental(ir::OpKind op);

// On AVX-512 targets exp's 2^n is applied by vscalefps. LLVM 16's loop vectorizer cannot widen
// a target intrinsic, so the approximation calls a scalar helper function that names vector
// variants of itself (the `vector-function-abi-variant` attribute); the helpers, named with
// this prefix, stay noinline through the kernel pipeline and are inlined after it:
// prepare_vector_helpers_for_inlining marks them always-inline and says whether there are any.
inline constexpr const char* kVectorHelperPrefix = "kiln.vector_helper.";
bool prepare_vector_helpers_for_inlining(llvm::Module& module);

llvm::Value* emit_exp_f32(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_log_f32(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_log1p_f32(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_expm1_f32(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_tanh_f32(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_logistic_f32(llvm::IRBuilderBase& b, llvm::Value* x);

// logistic(x) as numerator / denominator before its division: the numerator in [0, 1] (NaN for
// NaN x), the denominator in [1, 2]. The emitter multiplies such quotients together before
// dividing once (see KernelEmitter::emit_product).
struct Quotient {
  llvm::Value* numerator;
  llvm::Value* denominator;
};
Quotient emit_logistic_quotient_f32(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_erf_f32(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_sin_f32(llvm::IRBuilderBase& b, llvm::Value* x);
llvm::Value* emit_cos_f32(llvm::IRBuilderBase& b, llvm::Value* x);

}  // namespace kiln::codegen::cpu
