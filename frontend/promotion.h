#pragma once
// Type promotion. Among bools and integers, and among floats, kiln follows numpy
// (u8+i8 -> i16, i32+u32 -> i64, f16+f32 -> f32, bf16+f16 -> f32); an integer meeting a float
// takes the float's type (as JAX, MLX and PyTorch do, not numpy's f64). Weakly typed values
// (scalars from C++ numbers) defer to the other operand within their kind, as in JAX:
// x_f16 * 2.0 -> f16, x_u8 + 1 -> u8, x_i32 * 2.5 -> f32 (weak).

#include <span>
#include <string_view>

#include "frontend/tensor.h"

namespace kiln {

inline constexpr DType kDefaultFloat = DType::F32;
inline constexpr DType kDefaultInt = DType::I32;

// Promotion of two strongly typed dtypes. Symmetric and associative.
DType promote_types(DType a, DType b);

struct Promoted {
  DType dtype;
  bool weak;  // true only when every operand was weak
};

// The common type of several operands (at least one), weak types included.
Promoted result_type(std::span<const Tensor> operands);

// `x` as dtype `dtype` for use as an operand of `fn`: itself if it already is; a literal is
// re-made at the new dtype (so x_f64 * 0.1 keeps 0.1 exact) after checking it fits; anything
// else goes through a `convert` node.
Tensor cast_operand(const Tensor& x, DType dtype, std::string_view fn);

}  // namespace kiln
