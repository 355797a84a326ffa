// The f32 transcendentals as straight-line SPIR-V, following codegen/cpu/math_approx.cpp line
// by line (its generic path), with LLVM's intrinsics spelled as GLSL.std.450 instructions or
// bit operations: copysign through the sign bit, fptosi.sat as a guarded OpConvertFToS (Vulkan
// leaves out-of-range conversions undefined). One departure from the CPU: sin and cos reduce
// exactly (Payne-Hanek) from 0.78125 up instead of from 8192, as the CPU's four-piece pi/2
// needs a fused Fma (see reduce_for_sin_cos_f32). Special values come out of the arithmetic
// where they can and out of a final select where they cannot. pow is in math_f64.cpp: it
// computes in f64.

#include "codegen/spirv/math.h"
#include "codegen/spirv/math_internal.h"

namespace kiln::codegen::spirv {

namespace {

using namespace math_detail;

// ---- f32: exp (see math_approx.cpp for the derivation)

// exp(x) = 2^n * e^r: a shifter rounds x * log2(e) to n in t's low mantissa bits, so that
// t - shifter is n as a float and t's bits shifted left by 23 are the float 2^(n + bias - 127).
struct ExpParts {
  Id scale;  // 2^(n + bias - 127)
  Id y;      // e^r, NaN when x is
};

ExpParts exp_parts(Builder& b, Id x, int bias) {
  const double shifter = 0x1.8p23 + bias;
  Id t = b.fma(x, c(b, x, 1.44269504088896341), c(b, x, shifter));
  Id n = b.fsub(t, c(b, x, shifter));
  Id r = b.fma(n, c(b, x, -0.693359375), x);
  r = b.fma(n, c(b, x, 2.12194440e-4), r);
  Id p = horner(b, r,
                {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3, 4.1665795894E-2,
                 1.6666665459E-1, 5.0000001201E-1});
  Id scale = as_float(b, b.shl(as_int(b, t), b.u32(23)), 32);
  return {scale, b.fadd(b.fma(p, b.fmul(r, r), r), c(b, x, 1.0))};
}

// For x <= 0 (or NaN), as logistic needs it: clamped at -110, 2^(n + 64) is normal and the
// one rounding is the final multiply by 2^-64 (right for subnormal results too).
Id exp_nonpositive_f32(Builder& b, Id x) {
  x = b.select(lt(b, x, c(b, x, -110.0)), c(b, x, -110.0), x);
  auto [scale, y] = exp_parts(b, x, 127 + 64);
  return b.fmul(b.fmul(y, scale), c(b, x, 0x1p-64));
}

// For a >= 0 (or NaN), as tanh needs it: past 88 tanh is 1 whatever e^a is.
Id exp_nonnegative_for_tanh_f32(Builder& b, Id a) {
  a = b.select(gt(b, a, c(b, a, 88.0)), c(b, a, 88.0), a);
  auto [scale, y] = exp_parts(b, a, 127);
  return b.fmul(y, scale);
}

// ---- f32 sin and cos

struct Reduced {
  Id r;
  Id quadrant;  // j mod 4, i32
};

// The bits of 2/pi after the binary point, behind 32 zero bits that stand for the bits at and
// above 2^0: word i holds bits 32i-31 .. 32i (bit 1 is 2^-1) of 2/pi.
constexpr uint32_t kTwoOverPiBits[] = {0x00000000, 0xa2f9836e, 0x4e441529, 0xfc2757d1,
                                       0xf534ddc0, 0xdb629599, 0x3c439041, 0xfe5163ab};

// Payne-Hanek, exact for every finite f32 (see math_approx.cpp): |x| = m * 2^e, 96 bits of
// 2/pi from 2^(1-e) down times m in 32-bit limbs of 64-bit integers, the fraction of a quarter
// turn times pi/2 in double.
Reduced reduce_half_pi_exact_f32(Builder& b, Id x) {
  need_64_bit(b);
  Id i32 = b.type_int(32), i64 = b.type_int(64), f64 = b.type_float(64);
  auto zext = [&](Id v) { return b.convert(Op::OpUConvert, i64, v); };
  auto d = [&](double v) { return b.f64(v); };
  auto ne64 = [&](Id a, Id z) { return b.compare(Op::OpINotEqual, a, z); };
  Id bits = as_int(b, x);
  Id biased = b.bit_and(b.lshr(bits, b.u32(23)), b.u32(0xff));
  Id m = zext(b.bit_or(b.bit_and(bits, b.u32(0x7fffff)), b.u32(0x800000)));
  // The window starts at table bit biased - 120, clamped so that inputs taking the other path
  // (small, infinite, NaN) still read inside the table.
  Id offset =
      b.glsl(i32, GLSLstd450SMin,
             {b.glsl(i32, GLSLstd450SMax, {b.isub(biased, b.u32(120)), b.u32(0)}), b.u32(135)});
  Id word = b.lshr(offset, b.u32(5));
  Id shift = zext(b.bit_and(offset, b.u32(31)));
  // Word `word + i` of the table, picked by selects among the five starts used (word <= 4).
  auto load_word = [&](uint32_t i) {
    Id picked = b.u64(kTwoOverPiBits[i]);
    for (uint32_t start = 1; start <= 4; ++start)
      picked = b.select(b.compare(Op::OpIEqual, word, b.u32(start)),
                        b.u64(kTwoOverPiBits[start + i]), picked);
    return picked;
  };
  Id t[4] = {load_word(0), load_word(1), load_word(2), load_word(3)};
  Id limb[3];  // the window's three 32-bit limbs, most significant first
  for (int i = 0; i < 3; ++i) {
    Id pair = b.bit_or(b.shl(t[i], b.u64(32)), t[i + 1]);
    limb[i] = b.lshr(b.shl(pair, shift), b.u64(32));
  }
  Id p0 = b.imul(m, limb[0]);
  Id p1 = b.imul(m, limb[1]);
  Id p2 = b.imul(m, limb[2]);
  // m * window mod 2^96 = high * 2^64 + low: the top two bits are the quadrant, the other 94
  // the fraction of a quarter turn.
  Id low = b.iadd(p2, b.shl(b.bit_and(p1, b.u64(0xffffffff)), b.u64(32)));
  Id carry = b.select(b.compare(Op::OpULessThan, low, p2), b.u64(1), b.u64(0));
  Id high = b.bit_and(b.iadd(b.iadd(p0, b.lshr(p1, b.u64(32))), carry), b.u64(0xffffffff));
  Id quadrant = b.bit_and(b.lshr(high, b.u64(30)), b.u64(3));
  // A fraction of a half or more rounds up to the next quadrant: 2^94 - fraction, in limbs.
  Id round_up = b.bit_and(b.lshr(high, b.u64(29)), b.u64(1));
  Id up = ne64(round_up, b.u64(0));
  Id fraction_high = b.bit_and(high, b.u64(0x3fffffff));
  Id borrow = b.select(ne64(low, b.u64(0)), b.u64(1), b.u64(0));
  Id magnitude_high =
      b.select(up, b.isub(b.isub(b.u64(uint64_t{1} << 30), fraction_high), borrow), fraction_high);
  Id magnitude_low = b.select(up, b.ineg(low), low);
  Id fraction = b.fma(b.convert(Op::OpConvertUToF, f64, magnitude_high), d(0x1p-30),
                      b.fmul(b.convert(Op::OpConvertUToF, f64, magnitude_low), d(0x1p-94)));
  Id r = b.fmul(fraction, d(1.5707963267948966));
  r = b.select(up, b.fneg(r), r);
  Id q = b.convert(Op::OpUConvert, i32, b.bit_and(b.iadd(quadrant, round_up), b.u64(3)));
  // sin and cos of -|x|: the quadrant and r change sign.
  Id negative = b.compare(Op::OpSLessThan, bits, b.u32(0));
  r = b.select(negative, b.fneg(r), r);
  q = b.select(negative, b.bit_and(b.isub(b.u32(4), q), b.u32(3)), q);
  return {b.convert(Op::OpFConvert, b.type_float(32), r), q};
}

// The CPU reduces |x| <= 8192 by a four-piece pi/2 whose products must be fused to be exact;
// Vulkan's Fma need not be, and lavapipe's is not (sin and cos were off by up to 2e5 ulp near
// 8192). So every |x| from 0.78125 up takes the exact reduction; below, where the CPU's j is
// 0, r is x itself (keeping -0), as there. inf and NaN give a NaN r.
Reduced reduce_for_sin_cos_f32(Builder& b, Id x) {
  const Reduced exact = reduce_half_pi_exact_f32(b, x);
  Id magnitude = b.fabs(x);
  Id small = lt(b, magnitude, c(b, x, 0.78125));
  Id finite = lt(b, magnitude, c(b, x, kInf));
  Id r = b.select(small, x, b.select(finite, exact.r, c(b, x, kNaN)));
  return {r, b.select(small, b.u32(0), exact.quadrant)};
}

Id sin_poly_f32(Builder& b, Id r) {
  Id z = b.fmul(r, r);
  Id p = horner(b, z, {-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1});
  // sin r has r's sign on [-pi/4, pi/4]; copysign keeps sin(-0) = -0.
  return copysign(b, b.fma(b.fmul(p, z), r, r), r);
}

Id cos_poly_f32(Builder& b, Id r) {
  Id z = b.fmul(r, r);
  Id p = horner(b, z, {2.443315711809948E-5, -1.388731625493765E-3, 4.166664568298827E-2});
  return b.fma(b.fmul(p, z), z, b.fma(c(b, r, -0.5), z, c(b, r, 1.0)));
}

Id sin_cos_f32(Builder& b, Id x, uint32_t shift) {
  const Reduced red = reduce_for_sin_cos_f32(b, x);
  return pick_sin_cos(b, red.quadrant, sin_poly_f32(b, red.r), cos_poly_f32(b, red.r), shift);
}

}  // namespace

// ---- f32

// x is clamped to [-110, 89] (exp is 0 and inf there already; the compare-and-select keeps
// NaN), so n is in [-159, 128]; 2^n is an exact scale into the normal range then one rounding
// multiply by 2^-64 (below 0) or 2 (from 0 up).
Id emit_exp_f32(Builder& b, Id x) {
  x = b.select(lt(b, x, c(b, x, -110.0)), c(b, x, -110.0), x);
  x = b.select(gt(b, x, c(b, x, 89.0)), c(b, x, 89.0), x);
  auto [scale, y] = exp_parts(b, x, 127);
  Id factor = b.select(lt(b, x, c(b, x, 0.0)), c(b, x, 0x1p-64), c(b, x, 2.0));
  Id offset = b.isub(b.u32(127u << 23), as_int(b, factor));
  Id offset_scale = as_float(b, b.iadd(as_int(b, scale), offset), 32);
  return b.fmul(b.fmul(y, offset_scale), factor);
}

// log(x) = e ln 2 + log(1 + m) with 1 + m in [sqrt(1/2), sqrt(2)); subnormals scaled by 2^23.
Id emit_log_f32(Builder& b, Id x) {
  Id subnormal = lt(b, x, c(b, x, 1.17549435e-38));
  Id scaled = b.select(subnormal, b.fmul(x, c(b, x, 8388608.0)), x);
  Id bits = as_int(b, scaled);
  Id e = b.isub(b.bit_and(b.lshr(bits, b.u32(23)), b.u32(0xff)),
                b.select(subnormal, b.u32(126 + 23), b.u32(126)));
  Id m = as_float(b, b.bit_or(b.bit_and(bits, b.u32(0x807fffff)), b.u32(0x3f000000)), 32);
  Id low = lt(b, m, c(b, x, 0.707106781186547524));
  e = b.isub(e, b.select(low, b.u32(1), b.u32(0)));
  m = b.fsub(b.select(low, b.fadd(m, m), m), c(b, x, 1.0));
  Id z = b.fmul(m, m);
  Id p =
      horner(b, m,
             {7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
              -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1});
  Id fe = b.convert(Op::OpConvertSToF, b.type_float(32), e);
  Id y = b.fmul(b.fmul(p, m), z);
  y = b.fma(fe, c(b, x, -2.12194440e-4), y);
  y = b.fma(z, c(b, x, -0.5), y);
  Id result = b.fma(fe, c(b, x, 0.693359375), b.fadd(m, y));
  return log_specials(b, x, result);
}

Id emit_log1p_f32(Builder& b, Id x) {
  return log1p_with(b, x, emit_log_f32);
}

Id emit_expm1_f32(Builder& b, Id x) {
  return expm1_with(b, x, emit_exp_f32, emit_log_f32);
}

Id emit_tanh_f32(Builder& b, Id x) {
  Id ax = b.fabs(x);
  Id s = b.fmul(x, x);
  Id p = horner(b, s,
                {-5.70498872745E-3, 2.06390887954E-2, -5.37397155531E-2, 1.33314422036E-1,
                 -3.33332819422E-1});
  // copysign keeps tanh(-0) = -0 (the polynomial's -0 + +0 would give +0).
  Id small = copysign(b, b.fma(b.fmul(p, s), x, x), x);
  Id e = exp_nonnegative_for_tanh_f32(b, b.fadd(ax, ax));
  Id large = b.fsub(c(b, x, 1.0), b.fdiv(c(b, x, 2.0), b.fadd(e, c(b, x, 1.0))));
  large = copysign(b, large, x);
  return b.select(lt(b, ax, c(b, x, 0.625)), small, large);
}

Id emit_logistic_f32(Builder& b, Id x) {
  return logistic_with(b, x, exp_nonpositive_f32);
}

// Juffa's erff: x * P(x^2) below 0.9277, 1 - exp(Q(|x|)) above.
Id emit_erf_f32(Builder& b, Id x) {
  Id t = b.fabs(x);
  Id s = b.fmul(x, x);
  Id r = b.fma(c(b, x, -1.72853470e-5), t, c(b, x, 3.83197126e-4));
  Id u = b.fma(c(b, x, -3.88396438e-3), t, c(b, x, 2.42546219e-2));
  r = b.fma(r, s, u);
  r = b.fma(r, t, c(b, x, -1.06777877e-1));
  r = b.fma(r, t, c(b, x, -6.34846687e-1));
  r = b.fma(r, t, c(b, x, -1.28717512e-1));
  r = b.fma(r, t, b.fneg(t));
  Id large = copysign(b, b.fsub(c(b, x, 1.0), emit_exp_f32(b, r)), x);
  Id p = horner(b, s,
                {-5.96761703e-4, 4.99119423e-3, -2.67681349e-2, 1.12819925e-1, -3.76125336e-1,
                 1.28379166e-1});
  Id small = b.fma(p, x, x);
  return b.select(gt(b, t, c(b, x, 0.927734375)), large, small);
}

Id emit_sin_f32(Builder& b, Id x) {
  return sin_cos_f32(b, x, 0);
}

Id emit_cos_f32(Builder& b, Id x) {
  return sin_cos_f32(b, x, 1);
}

// |x|^y = e^(y log|x|) in f64: log and exp to about 1 ulp of f64 and |y log|x|| <= 745 where
// the result is finite leave a relative error near 2^-42 before the one rounding to f32.
}  // namespace kiln::codegen::spirv
