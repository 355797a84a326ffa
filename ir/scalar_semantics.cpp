#include "ir/scalar_semantics.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

#include "ir/half.h"

namespace kiln::ir::scalar {

std::pair<int64_t, int64_t> int_range(DType d) {
  switch (d) {
    case DType::Bool:
      return {0, 1};
    case DType::I8:
      return {INT8_MIN, INT8_MAX};
    case DType::I16:
      return {INT16_MIN, INT16_MAX};
    case DType::I32:
      return {INT32_MIN, INT32_MAX};
    case DType::I64:
      return {INT64_MIN, INT64_MAX};
    case DType::U8:
      return {0, UINT8_MAX};
    case DType::U32:
      return {0, UINT32_MAX};
    case DType::F16:
    case DType::BF16:
    case DType::F32:
    case DType::F64:
      break;
  }
  assert(false && "not an integer dtype");
  return {0, 0};
}

double max_f64(double a, double b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a == b) return std::signbit(a) ? b : a;  // only differs for -0 vs +0
  return a > b ? a : b;
}

double min_f64(double a, double b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// sign keeps NaN and signed zeros (StableHLO), else -1 or 1.
double sign_f64(double x) {
  return std::isnan(x) || x == 0.0 ? x : std::copysign(1.0, x);
}
int64_t sign_i64(int64_t x) {
  return (x > 0) - (x < 0);
}

// Half to even without depending on the floating-point environment's rounding mode.
double round_half_even(double x) {
  if (std::fabs(x - std::trunc(x)) == 0.5) return 2.0 * std::round(x / 2.0);
  return std::round(x);
}

// Integer division truncates toward zero and the remainder takes the dividend's sign (C).
// The cases C leaves undefined follow StableHLO: x / 0 is -1 (all bits set, so the largest
// value for unsigned dtypes) and x % 0 is x; INT_MIN / -1 wraps to INT_MIN and its remainder
// is 0. Unsigned operands are non-negative int64s here, so -1 only ever comes from a signed
// dtype.
int64_t int_div(int64_t a, int64_t b) {
  if (b == 0) return -1;
  if (b == -1) return wrap_sub(0, a);
  return a / b;
}
int64_t int_rem(int64_t a, int64_t b) {
  if (b == 0) return a;
  if (b == -1) return 0;
  return a % b;
}

// Exponentiation by squaring, wrapping. A negative exponent gives 1 / base^-e truncated
// toward zero: 1 for base 1, +-1 for base -1, and 0 otherwise (0 for base 0, too).
int64_t int_pow(int64_t base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exponent & 1) ? -1 : 1;
    return 0;
  }
  int64_t result = 1;
  for (; exponent > 0; exponent >>= 1) {
    if (exponent & 1) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
  }
  return result;
}

// Rounds to f32 with round-to-odd: exact values stay, inexact ones become the neighbour toward
// zero with its last bit set. Rounding that to nearest-even at f16's or bf16's precision
// gives the same result as rounding the double there directly, which a plain double -> f32
// -> half chain does not (it can round twice across a tie).
float round_to_odd_f32(double value) {
  float f = static_cast<float>(value);
  if (std::isnan(value) || static_cast<double>(f) == value) return f;
  if (std::fabs(static_cast<double>(f)) > std::fabs(value)) f = std::nextafter(f, 0.0f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(f) | 1u);
}

// int64 -> double with round-to-odd, for the same reason: a later rounding to f32 or a half
// type then rounds once. (int64 -> f64 itself uses the correctly rounded static_cast.)
uint16_t to_f16_bits(double value) {
  return float_to_f16(round_to_odd_f32(value));
}

uint16_t to_bf16_bits(double value) {
  return float_to_bf16(round_to_odd_f32(value));
}

double round_to_float_dtype(double value, DType d) {
  switch (d) {
    case DType::F16:
      return f16_to_float(to_f16_bits(value));
    case DType::BF16:
      return bf16_to_float(to_bf16_bits(value));
    case DType::F32:
      return static_cast<double>(static_cast<float>(value));
    case DType::F64:
      return value;
    case DType::Bool:
    case DType::I8:
    case DType::I16:
    case DType::I32:
    case DType::I64:
    case DType::U8:
    case DType::U32:
      break;  // not float dtypes
  }
  assert(false && "round_to_float_dtype takes a float dtype");
  return value;
}

double round_to_odd_f64(int64_t value) {
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  double result = static_cast<double>(magnitude);
  int width = std::bit_width(magnitude);
  if (width > 53) {
    int dropped = width - 53;
    uint64_t kept = magnitude >> dropped;
    if (magnitude & ((uint64_t{1} << dropped) - 1)) kept |= 1;
    result = std::ldexp(static_cast<double>(kept), dropped);
  }
  return value < 0 ? -result : result;
}

// Truncates toward zero; NaN becomes 0 and out-of-range values the nearest end of the range
// (XLA's choice; C leaves it undefined). lo and hi + 1 are powers of two, so exact doubles.
int64_t saturating_trunc(double v, int64_t lo, int64_t hi) {
  if (std::isnan(v)) return 0;
  if (v < static_cast<double>(lo)) return lo;
  if (v >= static_cast<double>(hi) + 1.0) return hi;
  return static_cast<int64_t>(v);
}

namespace {
int bit_width(DType d) {
  return static_cast<int>(dtype_size(d) * 8);
}
// The value's bit pattern at its dtype's width, zero-extended.
uint64_t pattern(int64_t value, DType d) {
  const int w = bit_width(d);
  const uint64_t bits = static_cast<uint64_t>(value);
  return w == 64 ? bits : bits & ((uint64_t{1} << w) - 1);
}
// A pattern of d's width back to the interpreter's value of d (sign-extended when signed).
int64_t from_pattern(uint64_t bits, DType d) {
  const int w = bit_width(d);
  if (w == 64) return static_cast<int64_t>(bits);
  bits &= (uint64_t{1} << w) - 1;
  if (is_signed_int(d) && (bits >> (w - 1)) != 0) bits |= ~uint64_t{0} << w;
  return static_cast<int64_t>(bits);
}
}  // namespace

int64_t shift_left(int64_t value, int64_t amount, DType d) {
  const uint64_t n = pattern(amount, d);
  if (n >= static_cast<uint64_t>(bit_width(d))) return 0;
  return from_pattern(pattern(value, d) << n, d);
}

int64_t shift_right_logical(int64_t value, int64_t amount, DType d) {
  const uint64_t n = pattern(amount, d);
  if (n >= static_cast<uint64_t>(bit_width(d))) return 0;
  return from_pattern(pattern(value, d) >> n, d);
}

int64_t shift_right_arithmetic(int64_t value, int64_t amount, DType d) {
  const int w = bit_width(d);
  const uint64_t n = std::min<uint64_t>(pattern(amount, d), static_cast<uint64_t>(w - 1));
  // The pattern sign-extended from its top bit to 64 bits, shifted, and cut back to w bits.
  uint64_t bits = pattern(value, d);
  if (w < 64 && (bits >> (w - 1)) != 0) bits |= ~uint64_t{0} << w;
  return from_pattern(static_cast<uint64_t>(static_cast<int64_t>(bits) >> n), d);
}

int64_t popcount(int64_t value, DType d) {
  return std::popcount(pattern(value, d));
}

int64_t count_leading_zeros(int64_t value, DType d) {
  return std::countl_zero(pattern(value, d)) - (64 - bit_width(d));
}

std::pair<uint32_t, uint32_t> threefry2x32(uint32_t key0, uint32_t key1, uint32_t counter0,
                                           uint32_t counter1) {
  const uint32_t ks[3] = {key0, key1, key0 ^ key1 ^ kThreefryParity};
  uint32_t x0 = counter0 + ks[0], x1 = counter1 + ks[1];
  for (int round = 0; round < 20; ++round) {
    x0 += x1;
    x1 = std::rotl(x1, kThreefryRotations[round % 8]) ^ x0;
    if (round % 4 == 3) {
      const uint32_t s = static_cast<uint32_t>(round / 4 + 1);
      x0 += ks[s % 3];
      x1 += ks[(s + 1) % 3] + s;
    }
  }
  return {x0, x1};
}

uint32_t rng_bits_element(uint32_t key0, uint32_t key1, uint64_t index) {
  const auto [a, b] =
      threefry2x32(key0, key1, static_cast<uint32_t>(index >> 32), static_cast<uint32_t>(index));
  return a ^ b;
}

}  // namespace kiln::ir::scalar
