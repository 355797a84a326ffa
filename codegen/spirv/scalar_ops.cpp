// Every elementwise op as SPIR-V, one case per OpKind and no default. Integer corner cases
// (division by zero, INT_MIN / -1, negative powers) and float ones (NaN-propagating max/min
// with -0 < +0, saturating float -> int, half-to-even rounding) follow the interpreter. Signed
// division and remainder go through unsigned ops on magnitudes: Vulkan leaves OpSRem and
// OpSMod undefined for negative operands.

#include "codegen/spirv/scalar_ops.h"

#include <cassert>
#include <cmath>
#include <utility>

#include "codegen/kernel.h"
#include "codegen/spirv/math.h"
#include "ir/scalar_semantics.h"

namespace kiln::codegen::spirv {

namespace {

using ir::DType;
using ir::OpKind;
using spv::Op;

bool is_unsigned_like(DType d) {
  return d == DType::Bool || ir::is_unsigned(d);
}

bool is_wide(DType d) {
  return d == DType::I64 || d == DType::F64;
}

// An integer constant of the register type of `like`.
Id int_like(Builder& b, Id like, int64_t value) {
  return b.int_constant(b.type_of(like), value);
}

Id float_like(Builder& b, Id like, double value) {
  return b.float_constant(b.type_of(like), value);
}

// The integer type of the same width as a float register, and the bits.
Id bits_of(Builder& b, Id x) {
  return b.bitcast(b.type_int(b.float_width(b.type_of(x))), x);
}

Id copysign(Builder& b, Id magnitude, Id sign) {
  const uint32_t width = b.float_width(b.type_of(magnitude));
  Id it = b.type_int(width);
  const uint64_t sign_bit = uint64_t{1} << (width - 1);
  Id mag = b.bit_and(bits_of(b, magnitude), b.constant_bits(it, sign_bit - 1));
  Id s = b.bit_and(bits_of(b, sign), b.constant_bits(it, sign_bit));
  return b.bitcast(b.type_of(magnitude), b.bit_or(mag, s));
}

// x / y and x % y on integer registers of dtype d, with the interpreter's rules for y == 0
// (x / 0 = all bits set, x % 0 = x) and INT_MIN / -1 (wraps; remainder 0).
Id int_div_rem(Builder& b, Id x, Id y, DType d, bool is_div) {
  Id zero = int_like(b, x, 0);
  Id by_zero = b.compare(Op::OpIEqual, y, zero);
  Id safe_y = b.select(by_zero, int_like(b, y, 1), y);
  Id r;
  if (is_unsigned_like(d)) {
    r = is_div ? b.udiv(x, safe_y) : b.umod(x, safe_y);
  } else {
    Id x_neg = b.compare(Op::OpSLessThan, x, zero);
    Id y_neg = b.compare(Op::OpSLessThan, safe_y, zero);
    Id ax = b.select(x_neg, b.ineg(x), x);  // INT_MIN stays INT_MIN: 2^(w-1) as unsigned
    Id ay = b.select(y_neg, b.ineg(safe_y), safe_y);
    if (is_div) {
      Id q = b.udiv(ax, ay);
      r = b.select(b.emit(Op::OpLogicalNotEqual, b.type_bool(), {x_neg, y_neg}), b.ineg(q), q);
    } else {
      Id m = b.umod(ax, ay);
      r = b.select(x_neg, b.ineg(m), m);  // the dividend's sign, as in C
    }
  }
  r = b.select(by_zero, is_div ? int_like(b, x, -1) : x, r);
  return wrap_to_dtype(b, r, d);
}

// Exponentiation by squaring in the register's own width (wrapping commutes with *), as
// ir::scalar::int_pow; a negative exponent gives 1 / base^-e truncated: 1 for base 1, +-1 for
// base -1 (by the exponent's parity), 0 otherwise. Unsigned exponents are never negative.
Id int_pow(Builder& b, Id x, Id y, DType d) {
  Id t = b.type_of(x);
  const bool u = is_unsigned_like(d);
  Id zero = int_like(b, x, 0), one = int_like(b, x, 1), minus_one = int_like(b, x, -1);
  Id base = b.local_variable(t), exponent = b.local_variable(t), acc = b.local_variable(t);
  b.store(base, x);
  b.store(exponent, y);
  b.store(acc, one);
  b.loop(
      [&] {
        return b.compare(u ? Op::OpUGreaterThan : Op::OpSGreaterThan, b.load(exponent), zero);
      },
      [&] {
        Id e = b.load(exponent);
        Id bv = b.load(base);
        Id odd = b.compare(Op::OpINotEqual, b.bit_and(e, one), zero);
        Id a = b.load(acc);
        b.store(acc, b.select(odd, b.imul(a, bv), a));
        b.store(base, b.imul(bv, bv));
        b.store(exponent, b.lshr(e, one));
      });
  Id positive = wrap_to_dtype(b, b.load(acc), d);
  if (u) return positive;
  Id exp_odd = b.compare(Op::OpINotEqual, b.bit_and(y, one), zero);
  Id negative = b.select(
      b.compare(Op::OpIEqual, x, one), one,
      b.select(b.compare(Op::OpIEqual, x, minus_one), b.select(exp_odd, minus_one, one), zero));
  return b.select(b.compare(Op::OpSLessThan, y, zero), negative, positive);
}

// The bit pattern of integer register x at dtype d's width, zero-extended to the register.
Id int_pattern(Builder& b, Id x, DType d) {
  const uint32_t w = static_cast<uint32_t>(ir::dtype_size(d) * 8);
  if (w == b.int_width(b.type_of(x))) return x;
  return b.bit_and(x, b.u32((uint32_t{1} << w) - 1));
}

// Shifts with the interpreter's rules (ir::scalar::shift_left and the right shifts). SPIR-V
// leaves shifts by the register width or more undefined, so the amount is clamped and the
// out-of-range result selected. Narrow signed registers hold sign-extended values, so any
// negative amount, read as unsigned, is past the width here too.
Id int_shift(Builder& b, OpKind op, Id x, Id amount, DType d) {
  const int64_t w = static_cast<int64_t>(ir::dtype_size(d) * 8);
  Id last = int_like(b, amount, w - 1);
  Id too_far = b.compare(Op::OpUGreaterThan, amount, last);
  Id n = b.select(too_far, last, amount);
  if (op == OpKind::ShiftRightArithmetic) {
    // The pattern read as signed: narrow unsigned registers are zero-extended.
    Id signed_x = x;
    const int64_t spare = b.int_width(b.type_of(x)) - w;
    if (ir::is_unsigned(d) && spare > 0)
      signed_x = b.ashr(b.shl(x, int_like(b, x, spare)), int_like(b, x, spare));
    return wrap_to_dtype(b, b.ashr(signed_x, n), d);
  }
  Id shifted = op == OpKind::ShiftLeft ? b.shl(x, n) : b.lshr(int_pattern(b, x, d), n);
  return b.select(too_far, int_like(b, x, 0), wrap_to_dtype(b, shifted, d));
}

// popcount and clz. Vulkan allows OpBitCount and FindUMsb on 32-bit integers only, so an i64
// is counted as two halves.
Id count_bits(Builder& b, OpKind op, Id x, DType d) {
  Id u32 = b.type_int(32);
  auto count32 = [&](Id v) {
    if (op == OpKind::Popcount) return b.emit(Op::OpBitCount, u32, {v});
    // FindUMsb gives -1 for 0, so 31 - msb is 32 there.
    return b.isub(b.u32(31), b.glsl(u32, GLSLstd450FindUMsb, {v}));
  };
  if (d != DType::I64) {
    Id r = count32(int_pattern(b, x, d));
    const uint32_t spare = 32 - static_cast<uint32_t>(ir::dtype_size(d) * 8);
    return op == OpKind::Clz && spare > 0 ? b.isub(r, b.u32(spare)) : r;
  }
  Id lo = b.convert(Op::OpUConvert, u32, x);
  Id hi = b.convert(Op::OpUConvert, u32, b.lshr(x, b.u64(32)));
  Id r = op == OpKind::Popcount ? b.iadd(count32(lo), count32(hi))
                                : b.select(b.compare(Op::OpIEqual, hi, b.u32(0)),
                                           b.iadd(b.u32(32), count32(lo)), count32(hi));
  return b.convert(Op::OpUConvert, b.type_int(64), r);
}

// fmod, exact as C's (OpFRem need not be): the magnitudes' significands as integers, the
// larger reduced modulo the smaller a chunk of exponent difference at a time (as many bits as
// keep the shifted significand below 2^63), then scaled back. x's sign; NaN for y = 0, an
// infinite x or a NaN; x for an infinite y.
Id float_rem(Builder& b, Id x, Id y) {
  const uint32_t width = b.float_width(b.type_of(x));
  const bool f64 = width == 64;
  const int mantissa_bits = f64 ? 52 : 23;
  const int bias = f64 ? 1023 : 127;
  const uint64_t chunk = f64 ? 10 : 39;  // 63 - (mantissa_bits + 1)
  Id i64 = b.type_int(64), ft = b.type_of(x), f64t = b.type_float(64);
  auto wide_bits = [&](Id v) {
    Id bits = bits_of(b, v);
    return f64 ? bits : b.convert(Op::OpUConvert, i64, bits);
  };
  Id abs_mask = b.u64((uint64_t{1} << (width - 1)) - 1);
  Id ax = b.bit_and(wide_bits(x), abs_mask), ay = b.bit_and(wide_bits(y), abs_mask);
  Id frac_mask = b.u64((uint64_t{1} << mantissa_bits) - 1);
  Id mb = b.u64(static_cast<uint64_t>(mantissa_bits));
  // Exponent fields (subnormals count as exponent 1 without the implicit bit).
  auto split = [&](Id bits, Id& exponent, Id& significand) {
    Id field = b.lshr(bits, mb);
    Id subnormal = b.compare(Op::OpIEqual, field, b.u64(0));
    exponent = b.select(subnormal, b.u64(1), field);
    Id frac = b.bit_and(bits, frac_mask);
    significand = b.select(subnormal, frac, b.bit_or(frac, b.u64(uint64_t{1} << mantissa_bits)));
  };
  Id ex, mx, ey, my;
  split(ax, ex, mx);
  split(ay, ey, my);
  Id safe_my = b.select(b.compare(Op::OpIEqual, my, b.u64(0)), b.u64(1), my);
  Id m = b.local_variable(i64), e = b.local_variable(i64);
  b.store(m, mx);
  b.store(e, ex);
  b.loop([&] { return b.compare(Op::OpUGreaterThan, b.load(e), ey); },
         [&] {
           Id ev = b.load(e);
           Id gap = b.isub(ev, ey);
           Id step = b.select(b.compare(Op::OpULessThan, gap, b.u64(chunk)), gap, b.u64(chunk));
           b.store(m, b.umod(b.shl(b.load(m), step), safe_my));
           b.store(e, b.isub(ev, step));
         });
  Id r = b.umod(b.load(m), safe_my);
  // r * 2^(ey - bias - mantissa_bits): r < 2^53 converts exactly; the power of two is applied
  // in two exact factors so that neither leaves f64's range before the result does.
  Id rf = b.convert(Op::OpConvertUToF, f64t, r);
  Id exponent = b.isub(ey, b.u64(static_cast<uint64_t>(bias + mantissa_bits)));  // may wrap
  Id half = b.ashr(exponent, b.u64(1));
  auto pow2 = [&](Id k) {  // 2^k for k in [-1022, 1023] as f64 bits
    return b.bitcast(f64t, b.shl(b.iadd(k, b.u64(1023)), b.u64(52)));
  };
  Id scaled = b.fmul(b.fmul(rf, pow2(half)), pow2(b.isub(exponent, half)));
  Id result = f64 ? scaled : b.convert(Op::OpFConvert, ft, scaled);
  result = copysign(b, result, x);
  // |x| < |y| (and x = 0) give x; y infinite and x finite give x.
  Id keep_x = b.compare(Op::OpULessThan, ax, ay);
  result = b.select(keep_x, x, result);
  Id inf_bits = b.u64(f64 ? 0x7ff0000000000000ull : 0x7f800000ull);
  Id nan_result = b.logical_or(
      b.logical_or(b.is_nan(x), b.is_nan(y)),
      b.logical_or(b.compare(Op::OpIEqual, ay, b.u64(0)), b.compare(Op::OpIEqual, ax, inf_bits)));
  return b.select(nan_result, b.float_constant(ft, std::nan("")), result);
}

Id float_unary(Builder& b, OpKind op, Id x) {
  const bool f64 = b.float_width(b.type_of(x)) == 64;
  Id t = b.type_of(x);
  auto math = [&](Id (*f32_version)(Builder&, Id), Id (*f64_version)(Builder&, Id)) {
    return f64 ? f64_version(b, x) : f32_version(b, x);
  };
  switch (op) {
    case OpKind::Exp:
      return math(emit_exp_f32, emit_exp_f64);
    case OpKind::Log:
      return math(emit_log_f32, emit_log_f64);
    case OpKind::Log1p:
      return math(emit_log1p_f32, emit_log1p_f64);
    case OpKind::Expm1:
      return math(emit_expm1_f32, emit_expm1_f64);
    case OpKind::Sin:
      return math(emit_sin_f32, emit_sin_f64);
    case OpKind::Cos:
      return math(emit_cos_f32, emit_cos_f64);
    case OpKind::Tanh:
      return math(emit_tanh_f32, emit_tanh_f64);
    case OpKind::Erf:
      return math(emit_erf_f32, emit_erf_f64);
    case OpKind::Logistic:
      return math(emit_logistic_f32, emit_logistic_f64);
    case OpKind::Sqrt:
      return b.glsl(t, GLSLstd450Sqrt, {x});
    case OpKind::Rsqrt:
      return b.fdiv(float_like(b, x, 1.0), b.glsl(t, GLSLstd450Sqrt, {x}));
    case OpKind::Floor:
      return b.glsl(t, GLSLstd450Floor, {x});
    case OpKind::Ceil:
      return b.glsl(t, GLSLstd450Ceil, {x});
    case OpKind::Round:
      return b.glsl(t, GLSLstd450RoundEven, {x});
    default:
      break;
  }
  assert(false && "not a float unary op");
  return 0;
}

Id compare(Builder& b, OpKind op, Id x, Id y, DType d) {
  const bool fp = ir::is_float(d), u = is_unsigned_like(d);
  Op o = Op::OpIEqual;
  switch (op) {
    case OpKind::Eq:
      o = fp ? Op::OpFOrdEqual : Op::OpIEqual;
      break;
    case OpKind::Ne:
      o = fp ? Op::OpFUnordNotEqual : Op::OpINotEqual;
      break;
    case OpKind::Lt:
      o = fp ? Op::OpFOrdLessThan : u ? Op::OpULessThan : Op::OpSLessThan;
      break;
    case OpKind::Le:
      o = fp ? Op::OpFOrdLessThanEqual : u ? Op::OpULessThanEqual : Op::OpSLessThanEqual;
      break;
    case OpKind::Gt:
      o = fp ? Op::OpFOrdGreaterThan : u ? Op::OpUGreaterThan : Op::OpSGreaterThan;
      break;
    case OpKind::Ge:
      o = fp ? Op::OpFOrdGreaterThanEqual : u ? Op::OpUGreaterThanEqual : Op::OpSGreaterThanEqual;
      break;
    default:
      assert(false && "not a comparison");
  }
  return bool_register(b, b.compare(o, x, y));
}

Id bitcast_convert(Builder& b, Id x, DType from, DType to);

Id emit_op_unrounded(Builder& b, OpKind op, DType result, DType d, std::span<const Id> a) {
  const bool fp = ir::is_float(d);
  auto x = [&] { return a[0]; };
  auto y = [&] { return a[1]; };
  switch (op) {
    case OpKind::Neg:
      return fp ? b.fneg(x()) : wrap_to_dtype(b, b.ineg(x()), d);
    case OpKind::Abs:
      if (fp) return b.fabs(x());
      if (is_unsigned_like(d)) return x();
      return wrap_to_dtype(
          b, b.select(b.compare(Op::OpSLessThan, x(), int_like(b, x(), 0)), b.ineg(x()), x()), d);
    case OpKind::Sign: {
      if (fp) {
        Id one = copysign(b, float_like(b, x(), 1.0), x());
        Id zero_or_nan = b.compare(Op::OpFUnordEqual, x(), float_like(b, x(), 0.0));
        return b.select(zero_or_nan, x(), one);
      }
      Id zero = int_like(b, x(), 0);
      Id pos = b.select(b.compare(Op::OpINotEqual, x(), zero), int_like(b, x(), 1), zero);
      if (is_unsigned_like(d)) return pos;
      return b.select(b.compare(Op::OpSLessThan, x(), zero), int_like(b, x(), -1), pos);
    }
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Log1p:
    case OpKind::Expm1:
    case OpKind::Sqrt:
    case OpKind::Rsqrt:
    case OpKind::Sin:
    case OpKind::Cos:
    case OpKind::Tanh:
    case OpKind::Logistic:
    case OpKind::Erf:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
      return float_unary(b, op, x());
    case OpKind::Not:
      if (d == DType::Bool) return b.bit_xor(x(), int_like(b, x(), 1));
      return wrap_to_dtype(b, b.bit_not(x()), d);
    case OpKind::Popcount:
    case OpKind::Clz:
      return count_bits(b, op, x(), d);
    case OpKind::IsFinite:
      return bool_register(
          b, b.compare(Op::OpFOrdLessThan, b.fabs(x()), float_like(b, x(), INFINITY)));

    case OpKind::Add:
      return fp ? b.fadd(x(), y()) : wrap_to_dtype(b, b.iadd(x(), y()), d);
    case OpKind::Sub:
      return fp ? b.fsub(x(), y()) : wrap_to_dtype(b, b.isub(x(), y()), d);
    case OpKind::Mul:
      return fp ? b.fmul(x(), y()) : wrap_to_dtype(b, b.imul(x(), y()), d);
    case OpKind::Div:
      return fp ? b.fdiv(x(), y()) : int_div_rem(b, x(), y(), d, true);
    case OpKind::Rem:
      return fp ? float_rem(b, x(), y()) : int_div_rem(b, x(), y(), d, false);
    case OpKind::Pow:
      if (fp)
        return b.float_width(b.type_of(x())) == 64 ? emit_pow_f64(b, x(), y())
                                                   : emit_pow_f32(b, x(), y());
      return int_pow(b, x(), y(), d);
    case OpKind::Max:
    case OpKind::Min: {
      const bool is_max = op == OpKind::Max;
      if (fp) return float_max_min(b, x(), y(), is_max);
      const bool u = is_unsigned_like(d);
      Op greater = u ? Op::OpUGreaterThan : Op::OpSGreaterThan;
      Id x_wins = b.compare(greater, x(), y());
      if (!is_max) x_wins = b.compare(greater, y(), x());
      return b.select(x_wins, x(), y());
    }
    case OpKind::And:
      return b.bit_and(x(), y());
    case OpKind::Or:
      return b.bit_or(x(), y());
    case OpKind::Xor:
      return b.bit_xor(x(), y());
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
      return int_shift(b, op, x(), y(), d);

    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
      return compare(b, op, x(), y(), d);
    case OpKind::Select:
      return b.select(is_true(b, a[0]), a[1], a[2]);
    case OpKind::Convert:
      return emit_convert(b, x(), d, result);
    case OpKind::BitcastConvert:
      return bitcast_convert(b, x(), d, result);

    // Not scalar ops: lowering turns these into indices, loads, phases or a Dot phase.
    case OpKind::Parameter:
    case OpKind::Constant:
    case OpKind::Iota:
    case OpKind::RngBits:
    case OpKind::Broadcast:
    case OpKind::Reshape:
    case OpKind::Transpose:
    case OpKind::Slice:
    case OpKind::Pad:
    case OpKind::Concatenate:
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
    case OpKind::Argmax:
    case OpKind::Argmin:
    case OpKind::DotGeneral:
    case OpKind::Take:
    case OpKind::ScatterAdd:
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
    case OpKind::TakeAlongAxis:
    case OpKind::ScatterAlongAxis:
    case OpKind::StopGradient:
    case OpKind::Call:
    // Written out by lowering in the ops above (codegen/math_expand.h), never kernel ops.
    case OpKind::Tan:
    case OpKind::Asin:
    case OpKind::Acos:
    case OpKind::Atan:
    case OpKind::Sinh:
    case OpKind::Cosh:
    case OpKind::Asinh:
    case OpKind::Acosh:
    case OpKind::Atanh:
    case OpKind::ErfInv:
    case OpKind::Lgamma:
    case OpKind::Digamma:
    case OpKind::Atan2:
      break;
  }
  assert(false && "not an elementwise op");
  return 0;
}

// f64 -> f32 with round-to-odd (ir::scalar::round_to_odd_f32), so that a later rounding to f16
// or bf16 rounds once.
Id round_to_odd_f32(Builder& b, Id d) {
  Id f32 = b.type_float(32);
  Id f = b.convert(Op::OpFConvert, f32, d);
  Id back = b.convert(Op::OpFConvert, b.type_float(64), f);
  Id inexact = b.compare(Op::OpFOrdNotEqual, back, d);
  Id away = b.compare(Op::OpFOrdGreaterThan, b.fabs(back), b.fabs(d));
  Id bits = bits_of(b, f);
  bits = b.select(b.logical_and(inexact, away), b.isub(bits, b.u32(1)), bits);
  bits = b.select(inexact, b.bit_or(bits, b.u32(1)), bits);
  return b.bitcast(f32, bits);
}

// ir::float_to_f16 on an f32 register: the f16 bit pattern in the low 16 bits of a u32.
Id f16_bits(Builder& b, Id x) {
  Id bits = bits_of(b, x);
  Id sign = b.bit_and(b.lshr(bits, b.u32(16)), b.u32(0x8000));
  Id abs_bits = b.bit_and(bits, b.u32(0x7fffffff));
  // Subnormal or zero results: |x| / 2^-24 rounded to an integer, ties to even.
  Id scaled = b.fmul(b.bitcast(b.type_float(32), abs_bits), b.f32(0x1p24f));
  Id small = b.convert(Op::OpConvertFToU, b.type_int(32),
                       b.glsl(b.type_float(32), GLSLstd450RoundEven, {scaled}));
  Id rounding = b.iadd(b.u32(0xfff), b.bit_and(b.lshr(abs_bits, b.u32(13)), b.u32(1)));
  Id normal = b.lshr(b.isub(b.iadd(abs_bits, rounding), b.u32(0x38000000)), b.u32(13));
  Id r = b.select(b.compare(Op::OpULessThan, abs_bits, b.u32(0x38800000)), small, normal);
  r = b.select(b.compare(Op::OpUGreaterThanEqual, abs_bits, b.u32(0x477ff000)), b.u32(0x7c00), r);
  r = b.select(b.compare(Op::OpUGreaterThan, abs_bits, b.u32(0x7f800000)), b.u32(0x7e00), r);
  return b.bit_or(sign, r);
}

// ir::f16_to_float from the bit pattern in the low 16 bits of a u32.
Id f16_to_float(Builder& b, Id h) {
  Id f32 = b.type_float(32);
  Id sign = b.shl(b.bit_and(h, b.u32(0x8000)), b.u32(16));
  Id exponent = b.bit_and(b.lshr(h, b.u32(10)), b.u32(0x1f));
  Id mantissa = b.bit_and(h, b.u32(0x3ff));
  Id magnitude = b.fmul(b.convert(Op::OpConvertUToF, f32, mantissa), b.f32(0x1p-24f));
  Id subnormal = b.bitcast(f32, b.bit_or(bits_of(b, magnitude), sign));
  Id special = b.bit_or(b.bit_or(sign, b.u32(0x7f800000)), b.shl(mantissa, b.u32(13)));
  Id normal = b.bit_or(b.bit_or(sign, b.shl(b.iadd(exponent, b.u32(112)), b.u32(23))),
                       b.shl(mantissa, b.u32(13)));
  Id r = b.select(b.compare(Op::OpIEqual, exponent, b.u32(0x1f)), special, normal);
  return b.select(b.compare(Op::OpIEqual, exponent, b.u32(0)), subnormal, b.bitcast(f32, r));
}

// f32 -> bf16 bits (low 16 bits of a u32), nearest-even, NaN made quiet: ir::float_to_bf16.
Id bf16_bits(Builder& b, Id x) {
  Id bits = bits_of(b, x);
  Id lsb = b.bit_and(b.lshr(bits, b.u32(16)), b.u32(1));
  Id rounded = b.iadd(bits, b.iadd(lsb, b.u32(0x7fff)));
  Id nan = b.bit_or(bits, b.u32(0x400000));
  return b.lshr(b.select(b.is_nan(x), nan, rounded), b.u32(16));
}

Id bf16_to_float(Builder& b, Id bits16) {
  return b.bitcast(b.type_float(32), b.shl(bits16, b.u32(16)));
}

// Saturating float -> integer truncation (ir::scalar::saturating_trunc) into `to`'s register.
Id float_to_int(Builder& b, Id x, DType to) {
  const auto [lo, hi] = ir::scalar::int_range(to);
  const bool u = ir::is_unsigned(to);
  Id target = register_type(b, to);
  Id converted = b.convert(u ? Op::OpConvertFToU : Op::OpConvertFToS, target, x);
  // Bounds as floats: lo is a power of two (or 0) and exact; hi + 1 likewise.
  Id lo_f = float_like(b, x, static_cast<double>(lo));
  Id above_f = float_like(b, x, std::ldexp(1.0, static_cast<int>(ir::dtype_size(to) * 8) - !u));
  Id r = b.select(b.compare(Op::OpFOrdGreaterThanEqual, x, above_f), b.int_constant(target, hi),
                  converted);
  r = b.select(b.compare(Op::OpFOrdLessThan, x, lo_f), b.int_constant(target, lo), r);
  if (u)  // (-1, 0) truncates to 0 but is outside an unsigned conversion's domain
    r = b.select(b.compare(Op::OpFOrdLessThan, x, float_like(b, x, 1.0)), b.int_constant(target, 0),
                 r);
  return b.select(b.is_nan(x), b.int_constant(target, 0), r);
}

// An element's bits read as another dtype of the same width; f16 and bf16 registers are
// floats, so their bits are their memory form (a NaN's payload is not kept).
Id bitcast_convert(Builder& b, Id x, DType from, DType to) {
  Id bits;
  if (from == DType::F16)
    bits = f16_bits(b, x);
  else if (from == DType::BF16)
    bits = bf16_bits(b, x);
  else if (ir::is_float(from))
    bits = bits_of(b, x);
  else
    bits = int_pattern(b, x, from);
  if (to == DType::F16) return f16_to_float(b, bits);
  if (to == DType::BF16) return bf16_to_float(b, bits);
  if (ir::is_float(to)) return b.bitcast(register_type(b, to), bits);
  return wrap_to_dtype(b, bits, to);
}

}  // namespace

Id register_type(Builder& b, DType dtype) {
  switch (dtype) {
    case DType::Bool:
    case DType::I8:
    case DType::U8:
    case DType::I16:
    case DType::I32:
    case DType::U32:
      return b.type_int(32);
    case DType::I64:
      return b.type_int(64);
    case DType::F16:
    case DType::BF16:
    case DType::F32:
      return b.type_float(32);
    case DType::F64:
      return b.type_float(64);
  }
  return 0;
}

Id memory_type(Builder& b, DType dtype) {
  switch (dtype) {
    case DType::Bool:
    case DType::I8:
    case DType::U8:
      return b.type_int(8);
    case DType::I16:
    case DType::F16:
    case DType::BF16:
      return b.type_int(16);
    case DType::I32:
    case DType::U32:
    case DType::I64:
    case DType::F32:
    case DType::F64:
      return register_type(b, dtype);
  }
  return 0;
}

Id from_memory(Builder& b, Id loaded, DType dtype) {
  switch (dtype) {
    case DType::Bool: {
      Id wide = b.convert(Op::OpUConvert, b.type_int(32), loaded);
      return bool_register(b, b.compare(Op::OpINotEqual, wide, b.u32(0)));
    }
    case DType::I8:
    case DType::I16:
      return b.convert(Op::OpSConvert, b.type_int(32), loaded);
    case DType::U8:
      return b.convert(Op::OpUConvert, b.type_int(32), loaded);
    case DType::F16:
      return f16_to_float(b, b.convert(Op::OpUConvert, b.type_int(32), loaded));
    case DType::BF16:
      return bf16_to_float(b, b.convert(Op::OpUConvert, b.type_int(32), loaded));
    case DType::I32:
    case DType::U32:
    case DType::I64:
    case DType::F32:
    case DType::F64:
      return loaded;
  }
  return loaded;
}

Id to_memory(Builder& b, Id value, DType dtype) {
  switch (dtype) {
    case DType::Bool:
    case DType::I8:
    case DType::U8:
    case DType::I16:
      return b.convert(Op::OpUConvert, memory_type(b, dtype), value);
    case DType::F16:
      return b.convert(Op::OpUConvert, memory_type(b, dtype), f16_bits(b, value));
    case DType::BF16:
      return b.convert(Op::OpUConvert, memory_type(b, dtype), bf16_bits(b, value));
    case DType::I32:
    case DType::U32:
    case DType::I64:
    case DType::F32:
    case DType::F64:
      return value;
  }
  return value;
}

Id wrap_to_dtype(Builder& b, Id x, DType dtype) {
  switch (dtype) {
    case DType::I8:
      return b.ashr(b.shl(x, b.u32(24)), b.u32(24));
    case DType::I16:
      return b.ashr(b.shl(x, b.u32(16)), b.u32(16));
    case DType::U8:
      return b.bit_and(x, b.u32(0xff));
    case DType::Bool:
      return b.bit_and(x, b.u32(1));
    case DType::I32:
    case DType::U32:
    case DType::I64:
    case DType::F16:
    case DType::BF16:
    case DType::F32:
    case DType::F64:
      return x;
  }
  return x;
}

Id round_to_dtype(Builder& b, Id x, DType dtype) {
  if (dtype == DType::F16) return f16_to_float(b, f16_bits(b, x));
  if (dtype == DType::BF16) return bf16_to_float(b, bf16_bits(b, x));
  return x;
}

Id float_max_min(Builder& b, Id x, Id y, bool is_max) {
  Id pick = b.compare(is_max ? Op::OpFOrdGreaterThan : Op::OpFOrdLessThan, x, y);
  Id r = b.select(pick, x, y);
  Id xi = bits_of(b, x), yi = bits_of(b, y);
  Id tie = b.bitcast(b.type_of(x), is_max ? b.bit_and(xi, yi) : b.bit_or(xi, yi));
  r = b.select(b.compare(Op::OpFOrdEqual, x, y), tie, r);
  return b.select(b.logical_or(b.is_nan(x), b.is_nan(y)), b.fadd(x, y), r);
}

Id widen_to_64(Builder& b, Id x, DType from) {
  if (b.int_width(b.type_of(x)) == 64) return x;
  return b.convert(is_unsigned_like(from) ? Op::OpUConvert : Op::OpSConvert, b.type_int(64), x);
}

Id bool_register(Builder& b, Id condition) {
  return b.select(condition, b.u32(1), b.u32(0));
}

Id is_true(Builder& b, Id bool_reg) {
  return b.compare(Op::OpINotEqual, bool_reg, int_like(b, bool_reg, 0));
}

Id emit_constant(Builder& b, DType dtype, double float_value, int64_t int_value) {
  switch (dtype) {
    case DType::F64:
      return b.f64(float_value);
    case DType::F32:
      return b.f32(static_cast<float>(float_value));
    case DType::F16:
    case DType::BF16:
      return b.f32(static_cast<float>(ir::scalar::round_to_float_dtype(float_value, dtype)));
    case DType::Bool:
      return b.u32(int_value != 0);
    case DType::I8:
      return b.u32(static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(int_value))));
    case DType::I16:
      return b.u32(static_cast<uint32_t>(static_cast<int32_t>(static_cast<int16_t>(int_value))));
    case DType::U8:
      return b.u32(static_cast<uint8_t>(int_value));
    case DType::I32:
    case DType::U32:
      return b.u32(static_cast<uint32_t>(int_value));
    case DType::I64:
      return b.u64(static_cast<uint64_t>(int_value));
  }
  return 0;
}

Id emit_convert(Builder& b, Id x, DType from, DType to) {
  if (from == to) return x;
  Id target = register_type(b, to);
  if (ir::is_float(from) && ir::is_float(to)) {
    if (to == DType::F64) return b.convert(Op::OpFConvert, target, x);
    if (from == DType::F64)
      return to == DType::F32 ? b.convert(Op::OpFConvert, target, x)
                              : round_to_dtype(b, round_to_odd_f32(b, x), to);
    return round_to_dtype(b, x, to);  // f32-class to f32-class: one rounding
  }
  if (ir::is_float(from)) {
    if (to == DType::Bool)
      return bool_register(b, b.compare(Op::OpFUnordNotEqual, x, float_like(b, x, 0.0)));
    return float_to_int(b, x, to);
  }
  const bool u = is_unsigned_like(from);
  if (ir::is_float(to)) {
    auto cvt = [&](Id t) { return b.convert(u ? Op::OpConvertUToF : Op::OpConvertSToF, t, x); };
    if (to == DType::F64 || to == DType::F32) return cvt(target);
    // Up to 16 bits converts exactly to f32; wider integers go through f64 and round to odd so
    // the value rounds once, as on the CPU.
    if (ir::dtype_size(from) <= 2) return round_to_dtype(b, cvt(b.type_float(32)), to);
    return round_to_dtype(b, round_to_odd_f32(b, cvt(b.type_float(64))), to);
  }
  if (to == DType::Bool) return bool_register(b, b.compare(Op::OpINotEqual, x, int_like(b, x, 0)));
  if (to == DType::I64) return widen_to_64(b, x, from);
  if (is_wide(from)) x = b.convert(Op::OpUConvert, b.type_int(32), x);
  return wrap_to_dtype(b, x, to);
}

Id emit_scalar_op(Builder& b, OpKind op, DType result, std::span<const DType> operand_dtypes,
                  std::span<const Id> args) {
  // Select's dtype is its branches'; every other op's operands share one dtype.
  const DType d = op == OpKind::Select ? operand_dtypes[1] : operand_dtypes[0];
  Id v = emit_op_unrounded(b, op, result, d, args);
  if (op == OpKind::Convert || exact_in_rounded_dtype(op)) return v;
  return round_to_dtype(b, v, result);
}

}  // namespace kiln::codegen::spirv
