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

// Bit operations on an integer of dtype `d`, read as its width's bit pattern (values as the
// interpreter holds them: int64, unsigned ones non-negative) and wrapped back to `d`. The shift
// amount is read as an unsigned number of that width, so a negative amount is a huge one; a
// shift by the width or more gives 0, or, arithmetic, copies of the top bit (on unsigned
// dtypes as well: the arithmetic shift reads the pattern as signed). As StableHLO.
int64_t shift_left(int64_t value, int64_t amount, DType d);
int64_t shift_right_logical(int64_t value, int64_t amount, DType d);
int64_t shift_right_arithmetic(int64_t value, int64_t amount, DType d);
int64_t popcount(int64_t value, DType d);
int64_t count_leading_zeros(int64_t value, DType d);  // the width for 0

// Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
// and Random123's threefry2x32): rotations 13, 15, 26, 6, 17, 29, 16, 24; key schedule word
// k0 ^ k1 ^ 0x1BD11BDA; the key injected every 4 rounds with the injection count added to the
// second word. rng_bits' element i (row-major, as a 64-bit counter with high word h and low
// word l) is a ^ b for (a, b) = threefry2x32(key, {h, l}): the one definition the interpreter
// uses and lowering's expansion is tested against.
std::pair<uint32_t, uint32_t> threefry2x32(uint32_t key0, uint32_t key1, uint32_t counter0,
                                           uint32_t counter1);
uint32_t rng_bits_element(uint32_t key0, uint32_t key1, uint64_t index);
inline constexpr int kThreefryRotations[8] = {13, 15, 26, 6, 17, 29, 16, 24};
inline constexpr uint32_t kThreefryParity = 0x1BD11BDA;

}  // namespace kiln::ir::scalar
