#pragma once
// What the two halves of the SPIR-V transcendentals share (math_f32.cpp, math_f64.cpp):
// constants of either width, bit views, Horner, copysign, and the compensations over exp and
// log that both widths apply. Inside codegen/spirv only.

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <vector>

#include "codegen/spirv/builder.h"

namespace kiln::codegen::spirv::math_detail {

using spv::Op;

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- shared helpers; `like` picks the float type of a constant

inline Id c(Builder& b, Id like, double v) {
  return b.float_constant(b.type_of(like), v);
}

inline uint32_t width(Builder& b, Id v) {
  return b.float_width(b.type_of(v));
}

inline Id int_type(Builder& b, Id like) {
  return b.type_int(width(b, like));
}

inline Id as_int(Builder& b, Id x) {
  return b.bitcast(int_type(b, x), x);
}

inline Id as_float(Builder& b, Id bits, uint32_t w) {
  return b.bitcast(b.type_float(w), bits);
}

inline Id lt(Builder& b, Id x, Id y) {
  return b.compare(Op::OpFOrdLessThan, x, y);
}
inline Id gt(Builder& b, Id x, Id y) {
  return b.compare(Op::OpFOrdGreaterThan, x, y);
}
inline Id ge(Builder& b, Id x, Id y) {
  return b.compare(Op::OpFOrdGreaterThanEqual, x, y);
}
inline Id eq(Builder& b, Id x, Id y) {
  return b.compare(Op::OpFOrdEqual, x, y);
}

// Horner through Fma, fused where the device fuses: ((c0 * x + c1) * x + c2) ...
inline Id horner(Builder& b, Id x, std::span<const Id> coeffs) {
  Id p = coeffs[0];
  for (size_t i = 1; i < coeffs.size(); ++i)
    p = b.fma(p, x, coeffs[i]);
  return p;
}

inline Id horner(Builder& b, Id x, std::initializer_list<double> coeffs) {
  std::vector<Id> ids;
  for (double v : coeffs)
    ids.push_back(c(b, x, v));
  return horner(b, x, ids);
}

// |mag| with the sign bit of `sign` (LLVM's copysign): keeps -0 and the sign of NaN apart.
inline Id copysign(Builder& b, Id mag, Id sign) {
  const uint32_t w = width(b, mag);
  Id t = int_type(b, mag);
  Id sign_bit = b.constant_bits(t, uint64_t{1} << (w - 1));
  Id bits = b.bit_or(b.bit_and(as_int(b, mag), b.bit_not(sign_bit)),
                     b.bit_and(as_int(b, sign), sign_bit));
  return as_float(b, bits, w);
}

inline Id round_even(Builder& b, Id x) {
  return b.glsl(b.type_of(x), GLSLstd450RoundEven, {x});
}

// An integral float as i32, 0 where it is NaN or beyond +-2^30 (where OpConvertFToS would be
// undefined): only the low bits of quadrant numbers are used, and only where they fit.
inline Id to_i32(Builder& b, Id j) {
  Id safe = b.select(lt(b, b.fabs(j), c(b, j, 0x1p30)), j, c(b, j, 0.0));
  return b.convert(Op::OpConvertFToS, b.type_int(32), safe);
}

inline void need_64_bit(Builder& b) {
  b.capability(spv::Capability::Int64);
  b.capability(spv::Capability::Float64);
}

// ---- shared by both widths: compensations over exp and log, logistic, sin/cos quadrants

using Unary = Id (*)(Builder&, Id);

// log1p(x) = log(u) * x / (u - 1) with u = 1 + x (Goldberg): the rounding error of u cancels.
inline Id log1p_with(Builder& b, Id x, Unary log) {
  Id one = c(b, x, 1.0);
  Id u = b.fadd(x, one);
  Id ratio = b.fdiv(x, b.fsub(u, one));
  Id result = b.fmul(log(b, u), ratio);
  result = b.select(eq(b, u, one), x, result);
  return b.select(eq(b, x, c(b, x, kInf)), x, result);
}

// expm1(x) = (u - 1) * x / log(u) with u = exp(x) (Kahan): the error of u cancels.
inline Id expm1_with(Builder& b, Id x, Unary exp, Unary log) {
  Id one = c(b, x, 1.0);
  Id u = exp(b, x);
  Id um1 = b.fsub(u, one);
  Id result = b.fmul(um1, b.fdiv(x, log(b, u)));
  result = b.select(eq(b, u, c(b, x, kInf)), u, result);
  result = b.select(eq(b, um1, c(b, x, -1.0)), um1, result);
  result = b.select(eq(b, u, one), x, result);
  return b.select(b.is_nan(x), x, result);
}

// 1 / (1 + e^-|x|) for x >= 0 and e^-|x| / (1 + e^-|x|) below: e never overflows and tiny
// results keep their precision. `exp_nonpositive` need only handle arguments <= 0 or NaN.
inline Id logistic_with(Builder& b, Id x, Unary exp_nonpositive) {
  Id one = c(b, x, 1.0);
  Id e = exp_nonpositive(b, b.fneg(b.fabs(x)));
  Id numerator = b.select(ge(b, x, c(b, x, 0.0)), one, e);
  return b.fdiv(numerator, b.fadd(e, one));
}

// sin or cos of x from r = x - q * pi/2 (as i32 quadrant q) and the kernels' values sin r and
// cos r; `shift` is 0 for sin and 1 for cos.
inline Id pick_sin_cos(Builder& b, Id quadrant, Id s, Id co, uint32_t shift) {
  Id q = b.bit_and(b.iadd(quadrant, b.u32(shift)), b.u32(3));
  Id odd = b.compare(Op::OpINotEqual, b.bit_and(q, b.u32(1)), b.u32(0));
  Id value = b.select(odd, co, s);
  Id negate = b.compare(Op::OpUGreaterThanEqual, q, b.u32(2));
  return b.select(negate, b.fneg(value), value);
}

// log's special values over `result`: log(+inf) = inf, log(+-0) = -inf, log(x < 0) = NaN,
// NaN stays.
inline Id log_specials(Builder& b, Id x, Id result) {
  result = b.select(eq(b, x, c(b, x, kInf)), x, result);
  result = b.select(eq(b, x, c(b, x, 0.0)), c(b, x, -kInf), result);
  result = b.select(lt(b, x, c(b, x, 0.0)), c(b, x, kNaN), result);
  return b.select(b.is_nan(x), x, result);
}

}  // namespace kiln::codegen::spirv::math_detail
