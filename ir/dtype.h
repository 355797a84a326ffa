#pragma once
// Element types of the IR and their properties.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kiln::ir {

enum class DType : uint8_t { Bool, I8, I16, I32, I64, U8, U32, F16, BF16, F32, F64 };

inline constexpr DType kAllDTypes[] = {DType::Bool, DType::I8,  DType::I16, DType::I32,
                                       DType::I64,  DType::U8,  DType::U32, DType::F16,
                                       DType::BF16, DType::F32, DType::F64};

std::string_view dtype_name(DType dtype);
std::optional<DType> parse_dtype(std::string_view name);
size_t dtype_size(DType dtype);

inline bool is_float(DType d) {
  return d == DType::F16 || d == DType::BF16 || d == DType::F32 || d == DType::F64;
}
inline bool is_unsigned(DType d) {
  return d == DType::U8 || d == DType::U32;
}
inline bool is_signed_int(DType d) {
  return d == DType::I8 || d == DType::I16 || d == DType::I32 || d == DType::I64;
}
// Integers of either signedness; bool is not an integer here.
inline bool is_integer(DType d) {
  return is_signed_int(d) || is_unsigned(d);
}

}  // namespace kiln::ir
