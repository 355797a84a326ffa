#pragma once
// Scalar semantics of kernel IR values in LLVM IR, matching the reference interpreter.
//
// Register form of each dtype: bool is i8 holding 0 or 1 (i1 would wrap 1 + 1 to 0); the
// integers are their own width (unsigned ones use unsigned compares, divisions and
// extensions); f16, bf16 and f32 are `float` (f16 and bf16 values rounded to their dtype after
// every op, as the interpreter does); f64 is `double`. f16 sits in memory as `half`, bf16 as
// its 16-bit pattern.

#include <span>

#include <llvm/IR/IRBuilder.h>

#include "ir/dtype.h"
#include "ir/ops.h"

namespace kiln::codegen::cpu {

llvm::Type* register_type(llvm::LLVMContext& context, ir::DType dtype);
llvm::Type* memory_type(llvm::LLVMContext& context, ir::DType dtype);

// Between a loaded element and its register form, and back.
llvm::Value* from_memory(llvm::IRBuilderBase& b, llvm::Value* loaded, ir::DType dtype);
llvm::Value* to_memory(llvm::IRBuilderBase& b, llvm::Value* value, ir::DType dtype);

// A constant of `dtype` in register form, rounded or wrapped as the interpreter stores it.
llvm::Value* emit_constant(llvm::IRBuilderBase& b, ir::DType dtype, double float_value,
                           int64_t int_value);

// An elementwise op (unary, binary, compare, select, convert) over register values.
// `operand_dtypes` are the operands' dtypes, `result` the op's.
llvm::Value* emit_scalar_op(llvm::IRBuilderBase& b, ir::OpKind op, ir::DType result,
                            std::span<const ir::DType> operand_dtypes,
                            std::span<llvm::Value* const> args);

llvm::Value* emit_convert(llvm::IRBuilderBase& b, llvm::Value* x, ir::DType from, ir::DType to);

// Rounds an f32 register value to f16 or bf16 precision (identity for other dtypes).
llvm::Value* round_to_dtype(llvm::IRBuilderBase& b, llvm::Value* x, ir::DType dtype);

}  // namespace kiln::codegen::cpu
