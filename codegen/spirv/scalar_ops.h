#pragma once
// Scalar semantics of kernel IR values in SPIR-V, matching the reference interpreter, as
// codegen/cpu/scalar_ops.h is for LLVM IR.
//
// Register form of each dtype: bool, i8, i16, u8, i32 and u32 are 32-bit integers holding the
// value sign- or zero-extended (bool 0 or 1), re-wrapped to their width after every op that
// can leave it, so the device needs no 8- or 16-bit arithmetic; i64 is a 64-bit integer; f16,
// bf16 and f32 are f32 (f16 and bf16 values rounded to their dtype after every op, as the
// interpreter does, by integer code rather than the device's conversions, so the bits are
// the same everywhere); f64 is f64. In memory, 8- and 16-bit dtypes are 8- and 16-bit
// integers (f16 and bf16 as their bit patterns), needing only the 8/16-bit storage features.

#include <span>

#include "codegen/spirv/builder.h"
#include "ir/dtype.h"
#include "ir/ops.h"

namespace kiln::codegen::spirv {

Id register_type(Builder& b, ir::DType dtype);
Id memory_type(Builder& b, ir::DType dtype);

// Between a loaded element and its register form, and back.
Id from_memory(Builder& b, Id loaded, ir::DType dtype);
Id to_memory(Builder& b, Id value, ir::DType dtype);

// A constant of `dtype` in register form, rounded or wrapped as the interpreter stores it.
Id emit_constant(Builder& b, ir::DType dtype, double float_value, int64_t int_value);

// An elementwise op (unary, binary, compare, select, convert) over register values.
// `operand_dtypes` are the operands' dtypes, `result` the op's.
Id emit_scalar_op(Builder& b, ir::OpKind op, ir::DType result,
                  std::span<const ir::DType> operand_dtypes, std::span<const Id> args);

Id emit_convert(Builder& b, Id x, ir::DType from, ir::DType to);

// Wraps a 32-bit register to `dtype`'s width (identity for 32- and 64-bit dtypes and floats);
// rounds an f32 register to f16 or bf16.
Id wrap_to_dtype(Builder& b, Id x, ir::DType dtype);
Id round_to_dtype(Builder& b, Id x, ir::DType dtype);

// NaN-propagating max/min with -0 < +0 on float registers (ir::scalar::max_f64).
Id float_max_min(Builder& b, Id x, Id y, bool is_max);

// Widens an integer register of `from` to a 64-bit register (sign or zero extension).
Id widen_to_64(Builder& b, Id x, ir::DType from);

// A bool register (0 or 1) from a SPIR-V bool, and back.
Id bool_register(Builder& b, Id condition);
Id is_true(Builder& b, Id bool_reg);

}  // namespace kiln::codegen::spirv
