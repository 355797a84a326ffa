#include "frontend/promotion.h"

#include <limits>

#include "frontend/ops.h"

namespace kiln {

namespace {

enum class Kind { Bool, Int, Float };

Kind kind_of(DType d) {
  if (d == DType::Bool) return Kind::Bool;
  return ir::is_float(d) ? Kind::Float : Kind::Int;
}

int bits(DType d) {
  return static_cast<int>(ir::dtype_size(d)) * 8;
}

DType signed_int_of_bits(int b) {
  switch (b) {
    case 8:
      return DType::I8;
    case 16:
      return DType::I16;
    case 32:
      return DType::I32;
    default:
      return DType::I64;
  }
}

DType promote_ints(DType a, DType b) {
  bool ua = ir::is_unsigned(a), ub = ir::is_unsigned(b);
  if (ua == ub) return bits(a) >= bits(b) ? a : b;
  DType u = ua ? a : b, s = ua ? b : a;
  // A signed type holds the unsigned one only if it is wider; else go one size up.
  if (bits(s) > bits(u)) return s;
  return signed_int_of_bits(2 * bits(u));
}

DType promote_floats(DType a, DType b) {
  // f16 and bf16 do not hold each other: their join is f32.
  if (bits(a) == 16 && bits(b) == 16) return DType::F32;
  return bits(a) >= bits(b) ? a : b;
}

Promoted join(Promoted a, Promoted b) {
  if (a.weak == b.weak) return {promote_types(a.dtype, b.dtype), a.weak};
  Promoted weak = a.weak ? a : b, strong = a.weak ? b : a;
  Kind kw = kind_of(weak.dtype), ks = kind_of(strong.dtype);
  if (kw <= ks) return strong;
  // The weak value outranks the strong one's kind (weak float meets an int, weak int meets a
  // bool): it keeps its own (default) type and stays weak, as in JAX.
  return weak;
}

bool fits(int64_t v, DType d) {
  auto in = [v](auto lo, auto hi) {
    return v >= static_cast<int64_t>(lo) && v <= static_cast<int64_t>(hi);
  };
  switch (d) {
    case DType::I8:
      return in(INT8_MIN, INT8_MAX);
    case DType::I16:
      return in(INT16_MIN, INT16_MAX);
    case DType::I32:
      return in(INT32_MIN, INT32_MAX);
    case DType::U8:
      return in(0, UINT8_MAX);
    case DType::U32:
      return in(0, UINT32_MAX);
    default:
      return true;
  }
}

}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  Kind ka = kind_of(a), kb = kind_of(b);
  if (ka != kb) return ka > kb ? a : b;
  if (ka == Kind::Int) return promote_ints(a, b);
  return promote_floats(a, b);
}

Promoted result_type(std::span<const Tensor> operands) {
  Promoted p{operands[0].dtype(), operands[0].is_weak()};
  for (size_t i = 1; i < operands.size(); ++i)
    p = join(p, {operands[i].dtype(), operands[i].is_weak()});
  return p;
}

Tensor cast_operand(const Tensor& x, DType dtype, std::string_view fn) {
  if (x.dtype() == dtype) return x;
  const auto& literal = x.node()->literal;
  if (!literal) return astype(x, dtype);
  if (const int64_t* i = std::get_if<int64_t>(&*literal); i && !fits(*i, dtype))
    detail::fail(
        fn, "scalar " + std::to_string(*i) + " does not fit " + std::string(ir::dtype_name(dtype)));
  return Tensor::scalar(*literal, dtype);
}

}  // namespace kiln
