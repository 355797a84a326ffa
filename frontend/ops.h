#pragma once
// Elementwise numpy-style functions and C++ operators. Operands are promoted to a common type
// (frontend/promotion.h) and broadcast to a common shape (numpy rules); both appear in the
// graph as `convert` and `broadcast` nodes, since IR elementwise ops take identical types.
//
// Transcendental functions of integer or bool inputs compute in f32 (as JAX does); floor,
// ceil and round leave integers as they are. operator== and friends return bool Tensors.

#include <optional>

#include "frontend/tensor.h"

namespace kiln {

Tensor astype(const Tensor& x, DType dtype);

// Unary math.
Tensor negative(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);  // IR `logistic`
inline Tensor logistic(const Tensor& x) {
  return sigmoid(x);
}
Tensor erf(const Tensor& x);
// numpy's and MLX's names; lowering writes these out in the ops above (codegen/math_expand.h).
Tensor tan(const Tensor& x);
Tensor arcsin(const Tensor& x);
Tensor arccos(const Tensor& x);
Tensor arctan(const Tensor& x);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor arcsinh(const Tensor& x);
Tensor arccosh(const Tensor& x);
Tensor arctanh(const Tensor& x);
Tensor erfinv(const Tensor& x);
Tensor lgamma(const Tensor& x);   // log |Gamma(x)|
Tensor digamma(const Tensor& x);  // Gamma'(x) / Gamma(x)
// The angle of the point (b, a) in [-pi, pi], with IEEE's signed zeros and infinities.
Tensor arctan2(const Tensor& a, const Tensor& b);
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);  // half to even, as numpy
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);

// Binary arithmetic.
Tensor add(const Tensor& a, const Tensor& b);
Tensor subtract(const Tensor& a, const Tensor& b);
Tensor multiply(const Tensor& a, const Tensor& b);
// True division: integer operands divide in f32 (numpy/JAX semantics).
Tensor divide(const Tensor& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, const Tensor& b);
// Python's %: the result takes the divisor's sign. fmod takes the dividend's (IR `rem`).
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, const Tensor& b);
Tensor power(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi);

// log(exp(a) + exp(b)) without overflow: max(a, b) + log1p(exp(-|a - b|)). As numpy:
// logaddexp(-inf, -inf) is -inf, logaddexp(inf, inf) is inf, and NaN propagates. Integer and
// bool inputs compute in f32.
Tensor logaddexp(const Tensor& a, const Tensor& b);
// Comparisons (bool results).
Tensor equal(const Tensor& a, const Tensor& b);
Tensor not_equal(const Tensor& a, const Tensor& b);
Tensor less(const Tensor& a, const Tensor& b);
Tensor less_equal(const Tensor& a, const Tensor& b);
Tensor greater(const Tensor& a, const Tensor& b);
Tensor greater_equal(const Tensor& a, const Tensor& b);
Tensor isnan(const Tensor& x);
Tensor isinf(const Tensor& x);
Tensor isfinite(const Tensor& x);

// numpy isclose: |a - b| <= atol + rtol * |b| elementwise (not symmetric in a and b, as in
// numpy), computed in the operands' common float type (f32 for integers and bools). Equal
// infinities are close, NaN is close to NaN only with equal_nan. allclose is all of it: a
// bool scalar, as mx.allclose returns.
Tensor isclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
               bool equal_nan = false);
Tensor allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
                bool equal_nan = false);

// numpy nan_to_num: NaN becomes `nan`, inf `posinf` and -inf `neginf`, by default the largest
// and the lowest finite value of x's dtype. Integers and bools are returned as they are.
Tensor nan_to_num(const Tensor& x, double nan = 0.0, std::optional<double> posinf = std::nullopt,
                  std::optional<double> neginf = std::nullopt);

// Logical ops take any dtype (nonzero is true) and return bool; bitwise ops take bool or
// integers.
Tensor logical_not(const Tensor& x);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor bitwise_not(const Tensor& x);
Tensor bitwise_and(const Tensor& a, const Tensor& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b);
// Integer shifts. The amount reads as unsigned: a negative one, or one of the bit width or
// more, shifts everything out (0, or copies of the sign bit for the arithmetic shift).
// right_shift is numpy's: arithmetic on signed dtypes, logical on unsigned ones.
Tensor left_shift(const Tensor& a, const Tensor& b);
Tensor right_shift(const Tensor& a, const Tensor& b);
Tensor right_shift_logical(const Tensor& a, const Tensor& b);
Tensor right_shift_arithmetic(const Tensor& a, const Tensor& b);
// Set bits and leading zero bits of integers, in their own dtype (numpy's bitwise_count, lax's
// clz; clz(0) is the bit width).
Tensor popcount(const Tensor& x);
Tensor clz(const Tensor& x);
// The same bits read as another dtype of one width (numpy's and MLX's view; IR bitcast_convert).
Tensor view(const Tensor& x, DType dtype);

// cond ? a : b elementwise; cond is made bool (nonzero is true), all three broadcast.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

inline Tensor operator-(const Tensor& x) {
  return negative(x);
}
inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return subtract(a, b);
}
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return multiply(a, b);
}
inline Tensor operator/(const Tensor& a, const Tensor& b) {
  return divide(a, b);
}
inline Tensor operator%(const Tensor& a, const Tensor& b) {
  return remainder(a, b);
}
inline Tensor operator==(const Tensor& a, const Tensor& b) {
  return equal(a, b);
}
inline Tensor operator!=(const Tensor& a, const Tensor& b) {
  return not_equal(a, b);
}
inline Tensor operator<(const Tensor& a, const Tensor& b) {
  return less(a, b);
}
inline Tensor operator<=(const Tensor& a, const Tensor& b) {
  return less_equal(a, b);
}
inline Tensor operator>(const Tensor& a, const Tensor& b) {
  return greater(a, b);
}
inline Tensor operator>=(const Tensor& a, const Tensor& b) {
  return greater_equal(a, b);
}
inline Tensor operator~(const Tensor& x) {
  return bitwise_not(x);
}
inline Tensor operator&(const Tensor& a, const Tensor& b) {
  return bitwise_and(a, b);
}
inline Tensor operator|(const Tensor& a, const Tensor& b) {
  return bitwise_or(a, b);
}
inline Tensor operator<<(const Tensor& a, const Tensor& b) {
  return left_shift(a, b);
}
inline Tensor operator>>(const Tensor& a, const Tensor& b) {
  return right_shift(a, b);
}
inline Tensor operator^(const Tensor& a, const Tensor& b) {
  return bitwise_xor(a, b);
}
inline Tensor operator!(const Tensor& x) {
  return logical_not(x);
}
// Compound assignment rebinds the handle to a new node; other handles to the old node keep it.
inline Tensor& operator+=(Tensor& a, const Tensor& b) {
  return a = a + b;
}
inline Tensor& operator-=(Tensor& a, const Tensor& b) {
  return a = a - b;
}
inline Tensor& operator*=(Tensor& a, const Tensor& b) {
  return a = a * b;
}
inline Tensor& operator/=(Tensor& a, const Tensor& b) {
  return a = a / b;
}

}  // namespace kiln
