#pragma once
// The scalar rules of kiln's numeric model, where C and numpy leave a choice or differ from
// StableHLO: wrapping integer arithmetic, integer division and remainder by zero and
// INT_MIN / -1, integer powers with negative exponents, NaN-propagating max and min with
// -0 < +0, half-to-even rounding, saturating float-to-integer truncation, and the round-to-odd
// steps that keep double -> f32 -> f16/bf16 from rounding twice. The reference interpreter
// and the kernel evaluator both compute with these, so the two cannot drift apart; compiled
// backends are tested against them.

#include <cstdint>
#include <utility>

#include "ir/dtype.h"

namespace kiln::ir::scalar {

// Integer arithmetic without signed-overflow UB: two's-complement wrap at 64 bits (stores
// then wrap again to the dtype's width, which commutes with + - *).
inline int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t wrap_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
inline int64_t wrap_mul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// The lowest and highest value of an integer or bool dtype.
std::pair<int64_t, int64_t> int_range(DType d);

// IEEE 754-2019 maximum/minimum: NaN if either is NaN, and -0 < +0.
double max_f64(double a, double b);
double min_f64(double a, double b);

// sign keeps NaN and signed zeros (StableHLO), else -1 or 1.
double sign_f64(double x);
int64_t sign_i64(int64_t x);
// Half to even, whatever the floating-point environment's rounding mode.
double round_half_even(double x);

// Integer division truncates toward zero and the remainder takes the dividend's sign (C).
// The cases C leaves undefined follow StableHLO: x / 0 is -1 (all bits set, so the largest
// value for unsigned dtypes) and x % 0 is x; INT_MIN / -1 wraps to INT_MIN and its remainder
// is 0.
int64_t int_div(int64_t a, int64_t b);
int64_t int_rem(int64_t a, int64_t b);
// Exponentiation by squaring, wrapping. A negative exponent gives 1 / base^-e truncated toward
// zero: 1 for base 1, +-1 for base -1, and 0 otherwise.
int64_t int_pow(int64_t base, int64_t exponent);

// Rounds to f32 with round-to-odd: exact values stay, inexact ones become the neighbour toward
// zero with its last bit set, so a following round to f16 or bf16 rounds only once.
float round_to_odd_f32(double value);
// int64 -> double with round-to-odd, for the same reason.
double round_to_odd_f64(int64_t value);
// A double rounded once to f16 / bf16 (through round_to_odd_f32), as its bit pattern: the one
// definition of storing a value into a half-precision element.
uint16_t to_f16_bits(double value);
uint16_t to_bf16_bits(double value);
// A double rounded once to the nearest value of float dtype `d` (F64 leaves it as it is).
double round_to_float_dtype(double value, DType d);
// Truncates toward zero; NaN becomes 0 and out-of-range values the nearest end of [lo, hi]
// (XLA's choice; C leaves it undefined).
int64_t saturating_trunc(double v, int64_t lo, int64_t hi);

}  // namespace kiln::ir::scalar
