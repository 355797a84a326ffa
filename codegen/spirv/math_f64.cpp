// The f64 transcendentals as straight-line SPIR-V, after fdlibm, made branch-free: every range
// is computed and the result selected; and pow for both widths, which computes in f64.

#include "codegen/spirv/math.h"
#include "codegen/spirv/math_internal.h"

namespace kiln::codegen::spirv {

namespace {

using namespace math_detail;

// ---- f64 building blocks

// Error-free transformations, from adds and multiplies alone: each is NoContraction and
// correctly rounded, while Vulkan's Fma need not be fused. a + b = s + e exactly (Knuth).
struct DD {
  Id hi, lo;
};

DD two_sum(Builder& b, Id x, Id y) {
  Id s = b.fadd(x, y);
  Id yy = b.fsub(s, x);
  Id e = b.fadd(b.fsub(x, b.fsub(s, yy)), b.fsub(y, yy));
  return {s, e};
}

// x = hi + lo with 26-bit halves (Veltkamp); |x| must stay below about 2^995.
DD split(Builder& b, Id x) {
  Id t = b.fmul(x, b.f64(134217729.0));
  Id hi = b.fsub(t, b.fsub(t, x));
  return {hi, b.fsub(x, hi)};
}

// x * y = p + e exactly (Dekker).
DD two_prod(Builder& b, Id x, Id y) {
  Id p = b.fmul(x, y);
  DD xs = split(b, x), ys = split(b, y);
  Id e = b.fadd(b.fsub(b.fmul(xs.hi, ys.hi), p), b.fmul(xs.hi, ys.lo));
  e = b.fadd(e, b.fmul(xs.lo, ys.hi));
  e = b.fadd(e, b.fmul(xs.lo, ys.lo));
  return {p, e};
}

// 2^k as a double from its exponent field.
Id pow2_f64(Builder& b, Id k) {
  Id biased = b.convert(Op::OpUConvert, b.type_int(64), b.iadd(k, b.u32(1023)));
  return as_float(b, b.shl(biased, b.u64(52)), 64);
}

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000: 21 zero bits
constexpr double kLn2Lo = 1.90821492927058770002e-10;

// e^(hi + lo) with |lo| <= ulp(hi) (lo is ignored where hi is clamped). hi is clamped to
// [-746, 710], beyond which exp is 0 and inf, so n = round(hi / ln 2) is in [-1076, 1024];
// r = hi - n ln2 (n * kLn2Hi and the difference exact) + lo, |r| <= 0.35, and e^r by Taylor to
// r^13 (truncation 2^-57.8 relative). 2^n = 2^n1 * 2^n2 with both factors normal: y * 2^n1 is
// exact and the multiply by 2^n2 rounds once, to inf, to a subnormal or to 0 as needed.
Id exp_dd_f64(Builder& b, Id hi, Id lo) {
  need_64_bit(b);
  Id nan = b.is_nan(hi);
  Id clamped = b.logical_or(lt(b, hi, b.f64(-746.0)), gt(b, hi, b.f64(710.0)));
  Id xs = b.select(lt(b, hi, b.f64(-746.0)), b.f64(-746.0),
                   b.select(gt(b, hi, b.f64(710.0)), b.f64(710.0), b.select(nan, b.f64(0.0), hi)));
  lo = b.select(b.logical_or(clamped, nan), b.f64(0.0), lo);
  Id n = round_even(b, b.fmul(xs, b.f64(1.44269504088896338700e+00)));
  Id r_hi = b.fsub(xs, b.fmul(n, b.f64(kLn2Hi)));
  Id r = b.fadd(r_hi, b.fsub(lo, b.fmul(n, b.f64(kLn2Lo))));
  Id q = horner(
      b, r,
      {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
       1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5});
  Id y = b.fadd(b.f64(1.0), b.fma(b.fmul(r, r), q, r));
  Id ni = b.convert(Op::OpConvertFToS, b.type_int(32), n);
  Id n1 = b.ashr(ni, b.u32(1));
  Id n2 = b.isub(ni, n1);
  Id result = b.fmul(b.fmul(y, pow2_f64(b, n1)), pow2_f64(b, n2));
  return b.select(nan, hi, result);
}

// x > 0 finite as 2^k * m with m in [sqrt(1/2), sqrt(2)) (subnormals scaled by 2^54 first):
// adding 1 - 0x3fe6a09e to the exponent word moves the binade boundary to sqrt(1/2) (musl).
struct LogArgument {
  Id k;  // f64
  Id m;
};

LogArgument log_argument_f64(Builder& b, Id x) {
  need_64_bit(b);
  Id subnormal = lt(b, x, b.f64(0x1p-1022));
  Id xs = b.select(subnormal, b.fmul(x, b.f64(0x1p54)), x);
  Id bits = b.iadd(as_int(b, xs), b.u64(uint64_t{0x3ff00000 - 0x3fe6a09e} << 32));
  Id e = b.convert(Op::OpUConvert, b.type_int(32), b.lshr(bits, b.u64(52)));
  e = b.isub(e, b.select(subnormal, b.u32(1023 + 54), b.u32(1023)));
  Id m_bits = b.iadd(b.bit_and(bits, b.u64(0x000fffffffffffff)), b.u64(uint64_t{0x3fe6a09e} << 32));
  return {b.convert(Op::OpConvertSToF, b.type_float(64), e), as_float(b, m_bits, 64)};
}

Id exp_nonpositive_f64(Builder& b, Id x) {
  return emit_exp_f64(b, x);
}

// x = j * pi/2 + (y0 + y1) for the f64 sin and cos. pi/2's three 33-bit pieces (fdlibm's
// pio2_1, pio2_2, pio2_3) times j are exact for |j| < 2^20; x - j * p1 is exact (Sterbenz),
// and the other two are subtracted error-free, leaving pi/2's tail times j as the only
// rounding (about 2^-136 absolute).
struct ReducedF64 {
  Id y0, y1;
  Id quadrant;
};

ReducedF64 reduce_half_pi_f64(Builder& b, Id x) {
  need_64_bit(b);
  Id j = round_even(b, b.fmul(x, b.f64(6.36619772367581382433e-01)));
  Id r1 = b.fsub(x, b.fmul(j, b.f64(1.57079632673412561417e+00)));
  DD s = two_sum(b, r1, b.fneg(b.fmul(j, b.f64(6.07710050630396597660e-11))));
  DD s2 = two_sum(b, s.hi, b.fneg(b.fmul(j, b.f64(2.02226624871116645580e-21))));
  Id tail = b.fsub(b.fadd(s.lo, s2.lo), b.fmul(j, b.f64(8.47842766036889956997e-32)));
  DD y = two_sum(b, s2.hi, tail);
  // Below pi/4 the argument is x itself (which keeps -0).
  Id small = eq(b, j, b.f64(0.0));
  return {b.select(small, x, y.hi), b.select(small, b.f64(0.0), y.lo),
          b.bit_and(to_i32(b, j), b.u32(3))};
}

// 2/pi after the binary point as in kTwoOverPiBits, behind 64 zero bits (f64 windows start
// up to 2^32 above 2^0 for |x| >= 2^20), through bit 1216: word i holds bits 32i-63 .. 32i-32.
constexpr uint32_t kTwoOverPiBits64[] = {
    0x00000000, 0x00000000, 0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0, 0xdb629599,
    0x3c439041, 0xfe5163ab, 0xdebbc561, 0xb7246e3a, 0x424dd2e0, 0x06492eea, 0x09d1921c,
    0xfe1deb1c, 0xb129a73e, 0xe88235f5, 0x2ebb4484, 0xe99c7026, 0xb45f7e41, 0x3991d639,
    0x835339f4, 0x9c845f8b, 0xbdf9283b, 0x1ff897ff, 0xde05980f, 0xef2f118b, 0x5a0a6d1f,
    0x6d367ecf, 0x27cb09b7, 0x4f463f66, 0x9e5fea2d, 0x7527bac7, 0xebe5f17b, 0x3d0739f7,
    0x8a5292ea, 0x6bfb5fb1, 0x1f8d5d08, 0x56033046, 0xfc7b6bab, 0xf0cfbc20, 0x9af4361d};

// Payne-Hanek for f64, exact for every finite x with |x| >= 2^20 (the f32 scheme, wider):
// |x| = m * 2^e with m < 2^53, and x * 2/pi mod 4 needs the bits of 2/pi from 2^(1-e) down;
// 192 of them (table bit biased - 1013 on) times m, mod 2^192, in 32-bit columns of 64-bit
// integers, leave an error below 2^-126 of a quarter turn, where no double comes closer to a
// multiple of pi/2 than about 2^-61 relative. The top two bits are the quadrant, the next 126
// the fraction, turned into a double-double and times pi/2.
ReducedF64 reduce_half_pi_exact_f64(Builder& b, Id x) {
  need_64_bit(b);
  Id i32 = b.type_int(32), i64 = b.type_int(64), f64 = b.type_float(64);
  auto u = [&](uint64_t v) { return b.u64(v); };
  Id bits = as_int(b, x);
  Id biased = b.convert(Op::OpUConvert, i32, b.bit_and(b.lshr(bits, u(52)), u(0x7ff)));
  Id m = b.bit_or(b.bit_and(bits, u(0x000fffffffffffff)), u(uint64_t{1} << 52));
  // Clamped so that the inputs taking the other path still read inside the table.
  Id offset =
      b.glsl(i32, GLSLstd450SMin,
             {b.glsl(i32, GLSLstd450SMax, {b.isub(biased, b.u32(1013)), b.u32(0)}), b.u32(1033)});
  Id word = b.lshr(offset, b.u32(5));
  Id shift = b.convert(Op::OpUConvert, i64, b.bit_and(offset, b.u32(31)));
  constexpr uint32_t kStarts = 33;  // words 0 .. 32
  auto load_word = [&](uint32_t i) {
    Id picked = u(kTwoOverPiBits64[i]);
    for (uint32_t start = 1; start < kStarts; ++start)
      picked = b.select(b.compare(Op::OpIEqual, word, b.u32(start)), u(kTwoOverPiBits64[start + i]),
                        picked);
    return picked;
  };
  Id t[7];
  for (uint32_t i = 0; i < 7; ++i)
    t[i] = load_word(i);
  Id limb[6];  // the window's 32-bit limbs, most significant first
  for (int i = 0; i < 6; ++i)
    limb[i] = b.lshr(b.shl(b.bit_or(b.shl(t[i], u(32)), t[i + 1]), shift), u(32));
  // m = mh * 2^32 + ml; column p holds the bits 32p .. 32p + 31 of m * window mod 2^192.
  Id mh = b.lshr(m, u(32)), ml = b.bit_and(m, u(0xffffffff));
  Id column[6];
  for (Id& col : column)
    col = u(0);
  auto add_product = [&](Id a, Id limb_value, int position) {
    Id p = b.imul(a, limb_value);
    column[position] = b.iadd(column[position], b.bit_and(p, u(0xffffffff)));
    if (position < 5) column[position + 1] = b.iadd(column[position + 1], b.lshr(p, u(32)));
  };
  for (int k = 0; k < 6; ++k)
    add_product(ml, limb[k], 5 - k);
  for (int k = 1; k < 6; ++k)
    add_product(mh, limb[k], 6 - k);
  for (int p = 0; p < 5; ++p) {
    column[p + 1] = b.iadd(column[p + 1], b.lshr(column[p], u(32)));
    column[p] = b.bit_and(column[p], u(0xffffffff));
  }
  Id top = b.bit_and(column[5], u(0xffffffff));
  Id quadrant = b.convert(Op::OpUConvert, i32, b.bit_and(b.lshr(top, u(30)), u(3)));
  Id up = b.compare(Op::OpINotEqual, b.bit_and(b.lshr(top, u(29)), u(1)), u(0));
  // The fraction a * 2^-62 + c * 2^-126: a's rounding to double is kept in the low part.
  Id a = b.bit_or(b.shl(b.bit_and(top, u(0x3fffffff)), u(32)), column[4]);
  Id c_bits = b.bit_or(b.shl(column[3], u(32)), column[2]);
  Id a_double = b.convert(Op::OpConvertUToF, f64, a);
  Id a_error = b.isub(a, b.convert(Op::OpConvertFToU, i64, a_double));
  Id hi = b.fmul(a_double, b.f64(0x1p-62));
  Id lo = b.fadd(b.fmul(b.convert(Op::OpConvertSToF, f64, a_error), b.f64(0x1p-62)),
                 b.fmul(b.convert(Op::OpConvertUToF, f64, c_bits), b.f64(0x1p-126)));
  // A fraction of a half or more rounds up to the next quadrant (hi - 1 is exact).
  hi = b.select(up, b.fsub(hi, b.f64(1.0)), hi);
  Id q = b.bit_and(b.iadd(quadrant, b.select(up, b.u32(1), b.u32(0))), b.u32(3));
  // (hi + lo) * pi/2 in double-double.
  DD p = two_prod(b, hi, b.f64(1.5707963267948966));
  Id p_lo = b.fadd(p.lo, b.fadd(b.fmul(hi, b.f64(6.123233995736766e-17)),
                                b.fmul(lo, b.f64(1.5707963267948966))));
  DD y = two_sum(b, p.hi, p_lo);
  // sin and cos of -|x|: the quadrant and the argument change sign.
  Id negative = b.compare(Op::OpSLessThan, bits, u(0));
  return {b.select(negative, b.fneg(y.hi), y.hi), b.select(negative, b.fneg(y.lo), y.lo),
          b.select(negative, b.bit_and(b.isub(b.u32(4), q), b.u32(3)), q)};
}

// Cody-Waite below 2^20 (also inf and NaN, which it turns into NaN), Payne-Hanek from there.
ReducedF64 reduce_for_sin_cos_f64(Builder& b, Id x) {
  const ReducedF64 fast = reduce_half_pi_f64(b, x);
  const ReducedF64 exact = reduce_half_pi_exact_f64(b, x);
  Id magnitude = b.fabs(x);
  Id large = b.logical_and(ge(b, magnitude, b.f64(0x1p20)), lt(b, magnitude, b.f64(kInf)));
  return {b.select(large, exact.y0, fast.y0), b.select(large, exact.y1, fast.y1),
          b.select(large, exact.quadrant, fast.quadrant)};
}

// fdlibm's __kernel_sin and __kernel_cos on [-pi/4, pi/4], x + y the argument.
Id kernel_sin_f64(Builder& b, Id x, Id y) {
  Id z = b.fmul(x, x);
  Id v = b.fmul(z, x);
  Id r =
      horner(b, z,
             {1.58969099521155010221e-10, -2.50507602534068634195e-08, 2.75573137070700676789e-06,
              -1.98412698298579493134e-04, 8.33333333332248946124e-03});
  // x - ((z * (y/2 - v * r) - y) - v * S1)
  Id inner = b.fsub(b.fmul(b.f64(0.5), y), b.fmul(v, r));
  inner = b.fsub(b.fsub(b.fmul(z, inner), y), b.fmul(v, b.f64(-1.66666666666666324348e-01)));
  return b.fsub(x, inner);
}

Id kernel_cos_f64(Builder& b, Id x, Id y) {
  Id z = b.fmul(x, x);
  Id r = b.fmul(z, horner(b, z,
                          {-1.13596475577881948265e-11, 2.08757232129817482790e-09,
                           -2.75573143513906633035e-07, 2.48015872894767294178e-05,
                           -1.38888888888741095749e-03, 4.16666666666666019037e-02}));
  Id hz = b.fmul(b.f64(0.5), z);
  Id w = b.fsub(b.f64(1.0), hz);
  // w + (((1 - w) - hz) + (z * r - x * y))
  Id correction = b.fadd(b.fsub(b.fsub(b.f64(1.0), w), hz), b.fsub(b.fmul(z, r), b.fmul(x, y)));
  return b.fadd(w, correction);
}

Id sin_cos_f64(Builder& b, Id x, uint32_t shift) {
  const ReducedF64 red = reduce_for_sin_cos_f64(b, x);
  return pick_sin_cos(b, red.quadrant, kernel_sin_f64(b, red.y0, red.y1),
                      kernel_cos_f64(b, red.y0, red.y1), shift);
}

// ---- pow

// C99 Annex F pow around `magnitude`, |x|^y for |x| in [0, inf] or NaN and any y, which must
// give 0 and inf where log|x| * y is -inf and inf. It fixes the signs (negative x, odd integer
// y), the NaN of a negative finite x to a non-integer finite power, and the ones: pow(x, +-0),
// pow(+1, y) and pow(-1, +-inf) are 1 even through NaN.
Id pow_specials(Builder& b, Id x, Id y, Id magnitude) {
  const uint32_t w = width(b, x);
  Id one = c(b, x, 1.0);
  Id inf = c(b, x, kInf);
  Id abs_y = b.fabs(y);
  Id y_finite = lt(b, abs_y, inf);
  Id y_integer = b.logical_and(eq(b, b.glsl(b.type_of(y), GLSLstd450Trunc, {y}), y), y_finite);
  // Odd: an integer whose half is not one (every float from 2^(p+1) up is even).
  Id half = b.fmul(y, c(b, y, 0.5));
  Id y_odd = b.logical_and(
      y_integer,
      b.compare(Op::OpFOrdNotEqual, b.glsl(b.type_of(y), GLSLstd450Trunc, {half}), half));
  Id x_sign = b.compare(Op::OpSLessThan, as_int(b, x), b.int_constant(b.type_int(w), 0));
  Id result = b.select(b.logical_and(x_sign, y_odd), b.fneg(magnitude), magnitude);
  Id x_negative_finite = b.logical_and(lt(b, x, c(b, x, 0.0)), gt(b, x, c(b, x, -kInf)));
  result =
      b.select(b.logical_and(x_negative_finite, b.logical_and(y_finite, b.logical_not(y_integer))),
               c(b, x, kNaN), result);
  result = b.select(b.logical_and(eq(b, b.fabs(x), one), eq(b, abs_y, inf)), one, result);
  result = b.select(eq(b, x, one), one, result);
  return b.select(eq(b, y, c(b, y, 0.0)), one, result);
}

// log(a) for a > 0 finite as hi + lo, to about 2^-66 relative (pow needs y * log a to 2^-56
// absolute with |y log a| up to 745): log m = 2 atanh(s) = 2s (1 + s^2/3 + s^4/5 + ...) with
// s = f / (2 + f) = (m - 1) / (m + 1), |s| <= 0.1716; s, s^2, the 1/3 and the products are
// double-double, the series tail from s^4/5 (to s^26/27, truncation below 2^-70) plain.
DD log_dd_f64(Builder& b, Id a) {
  auto [k, m] = log_argument_f64(b, a);
  Id one = b.f64(1.0);
  Id f = b.fsub(m, one);  // exact
  DD d = two_sum(b, m, one);
  Id s = b.fdiv(f, d.hi);
  DD p = two_prod(b, s, d.hi);
  Id residual = b.fsub(b.fsub(b.fsub(f, p.hi), p.lo), b.fmul(s, d.lo));
  Id s_lo = b.fdiv(residual, d.hi);
  DD z = two_prod(b, s, s);
  z.lo = b.fadd(z.lo, b.fmul(b.f64(2.0), b.fmul(s, s_lo)));
  Id tail = horner(b, z.hi,
                   {1.0 / 27, 1.0 / 25, 1.0 / 23, 1.0 / 21, 1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13,
                    1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5});
  // Q = 1/3 + z * tail; 1/3 = third + 2^-54 / 3 exactly.
  DD q = two_sum(b, b.f64(1.0 / 3), b.fmul(z.hi, tail));
  q.lo = b.fadd(q.lo, b.f64(0x1p-54 / 3));
  // t = z * Q, then 1 + t.
  DD t = two_prod(b, z.hi, q.hi);
  t.lo = b.fadd(t.lo, b.fadd(b.fmul(z.hi, q.lo), b.fmul(z.lo, q.hi)));
  DD o = two_sum(b, one, t.hi);
  o.lo = b.fadd(o.lo, t.lo);
  // L = 2 s (1 + t).
  DD l = two_prod(b, s, o.hi);
  l.lo = b.fadd(l.lo, b.fadd(b.fmul(s, o.lo), b.fmul(s_lo, o.hi)));
  // k ln2 + L, k * kLn2Hi exact.
  DD g = two_sum(b, b.fmul(k, b.f64(kLn2Hi)), b.fmul(b.f64(2.0), l.hi));
  g.lo = b.fadd(g.lo, b.fadd(b.fmul(b.f64(2.0), l.lo), b.fmul(k, b.f64(kLn2Lo))));
  Id hi = b.fadd(g.hi, g.lo);
  return {hi, b.fsub(g.lo, b.fsub(hi, g.hi))};
}

}  // namespace

Id emit_pow_f32(Builder& b, Id x, Id y) {
  need_64_bit(b);
  Id f64 = b.type_float(64);
  Id ax = b.convert(Op::OpFConvert, f64, b.fabs(x));
  Id yd = b.convert(Op::OpFConvert, f64, y);
  Id magnitude = emit_exp_f64(b, b.fmul(yd, emit_log_f64(b, ax)));
  return pow_specials(b, x, y, b.convert(Op::OpFConvert, b.type_float(32), magnitude));
}

// ---- f64

Id emit_exp_f64(Builder& b, Id x) {
  return exp_dd_f64(b, x, b.f64(0.0));
}

// fdlibm's log: f = m - 1, s = f / (2 + f), log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2))).
Id emit_log_f64(Builder& b, Id x) {
  auto [k, m] = log_argument_f64(b, x);
  Id f = b.fsub(m, b.f64(1.0));
  Id hfsq = b.fmul(b.f64(0.5), b.fmul(f, f));
  Id s = b.fdiv(f, b.fadd(b.f64(2.0), f));
  Id z = b.fmul(s, s);
  Id w = b.fmul(z, z);
  Id t1 = b.fmul(
      w,
      horner(b, w, {1.531383769920937332e-01, 2.222219843214978396e-01, 3.999999999940941908e-01}));
  Id t2 = b.fmul(z, horner(b, w,
                           {1.479819860511658591e-01, 1.818357216161805012e-01,
                            2.857142874366239149e-01, 6.666666666666735130e-01}));
  Id r = b.fadd(t2, t1);
  // k ln2_hi - ((hfsq - (s (hfsq + R) + k ln2_lo)) - f)
  Id inner = b.fadd(b.fmul(s, b.fadd(hfsq, r)), b.fmul(k, b.f64(kLn2Lo)));
  inner = b.fsub(b.fsub(hfsq, inner), f);
  Id result = b.fsub(b.fmul(k, b.f64(kLn2Hi)), inner);
  return log_specials(b, x, result);
}

Id emit_log1p_f64(Builder& b, Id x) {
  return log1p_with(b, x, emit_log_f64);
}

Id emit_expm1_f64(Builder& b, Id x) {
  return expm1_with(b, x, emit_exp_f64, emit_log_f64);
}

// fdlibm: -t / (t + 2) with t = expm1(-2|x|) below 1, 1 - 2 / (expm1(2|x|) + 2) from 1 up
// (|x| clamped at 22, where tanh is 1 in double), the sign copied back.
Id emit_tanh_f64(Builder& b, Id x) {
  Id a = b.fabs(x);
  Id small = lt(b, a, b.f64(1.0));
  Id clamped = b.select(gt(b, a, b.f64(22.0)), b.f64(22.0), a);
  Id two_a = b.fmul(b.f64(2.0), clamped);
  Id t = emit_expm1_f64(b, b.select(small, b.fneg(two_a), two_a));
  Id t2 = b.fadd(t, b.f64(2.0));
  Id result = b.select(small, b.fdiv(b.fneg(t), t2), b.fsub(b.f64(1.0), b.fdiv(b.f64(2.0), t2)));
  return copysign(b, result, x);
}

Id emit_logistic_f64(Builder& b, Id x) {
  return logistic_with(b, x, exp_nonpositive_f64);
}

// fdlibm's erf: x + x P/Q below 0.84375, erx + P/Q on [0.84375, 1.25) (s = |x| - 1), and
// 1 - exp(-z^2 - 0.5625) exp((z - a)(z + a) + R/S) / a from 1.25 (R/S from two coefficient
// sets split at 1/0.35, picked by selects; a clamped at 6, where erf is 1 in double; z is a
// with its low word cleared, so z^2 is exact).
Id emit_erf_f64(Builder& b, Id x) {
  need_64_bit(b);
  Id a = b.fabs(x);
  Id z2 = b.fmul(x, x);
  Id pp =
      horner(b, z2,
             {-2.37630166566501626084e-05, -5.77027029648944159157e-03, -2.84817495755985104766e-02,
              -3.25042107247001499370e-01, 1.28379167095512558561e-01});
  Id qq =
      horner(b, z2,
             {-3.96022827877536812320e-06, 1.32494738004321644526e-04, 5.08130628187576562776e-03,
              6.50222499887672944485e-02, 3.97917223959155352819e-01, 1.0});
  Id small = b.fma(x, b.fdiv(pp, qq), x);

  Id s = b.fsub(a, b.f64(1.0));
  Id pa =
      horner(b, s,
             {-2.16637559486879084300e-03, 3.54783043256182359371e-02, -1.10894694282396677476e-01,
              3.18346619901161753674e-01, -3.72207876035701323847e-01, 4.14856118683748331666e-01,
              -2.36211856075265944077e-03});
  Id qa = horner(
      b, s,
      {1.19844998467991074170e-02, 1.36370839120290507362e-02, 1.26171219808761642112e-01,
       7.18286544141962662868e-02, 5.40397917702171048937e-01, 1.06420880400844228286e-01, 1.0});
  Id middle = b.fadd(b.f64(8.45062911510467529297e-01), b.fdiv(pa, qa));

  Id ac =
      b.select(lt(b, a, b.f64(1.25)), b.f64(1.25), b.select(lt(b, a, b.f64(6.0)), a, b.f64(6.0)));
  Id w = b.fdiv(b.f64(1.0), b.fmul(ac, ac));
  Id near = lt(b, ac, as_float(b, b.u64(0x4006DB6D00000000), 64));  // 1/0.35
  auto pick = [&](std::initializer_list<double> near_set, std::initializer_list<double> far_set) {
    std::vector<Id> ids;
    auto n = near_set.begin(), f = far_set.begin();
    for (; n != near_set.end(); ++n, ++f)
      ids.push_back(b.select(near, b.f64(*n), b.f64(*f)));
    return horner(b, w, ids);
  };
  // The far set has one coefficient fewer in each; a leading 0 pads it.
  Id rr =
      pick({-9.81432934416914548592e+00, -8.12874355063065934246e+01, -1.84605092906711035994e+02,
            -1.62396669462573470355e+02, -6.23753324503260060396e+01, -1.05586262253232909814e+01,
            -6.93858572707181764372e-01, -9.86494403484714822705e-03},
           {0.0, -4.83519191608651397019e+02, -1.02509513161107724954e+03,
            -6.37566443368389627722e+02, -1.60636384855821916062e+02, -1.77579549177547519889e+01,
            -7.99283237680523006574e-01, -9.86494292470009928597e-03});
  Id ss = pick({-6.04244152148580987438e-02, 6.57024977031928170135e+00, 1.08635005541779435134e+02,
                4.29008140027567833386e+02, 6.45387271733267880336e+02, 4.34565877475229228821e+02,
                1.37657754143519042600e+02, 1.96512716674392571292e+01, 1.0},
               {0.0, -2.24409524465858183362e+01, 4.74528541206955367215e+02,
                2.55305040643316442583e+03, 3.19985821950859553908e+03, 1.53672958608443695994e+03,
                3.25792512996573918826e+02, 3.03380607434824582924e+01, 1.0});
  Id z = as_float(b, b.bit_and(as_int(b, ac), b.u64(0xffffffff00000000)), 64);
  Id e1 = emit_exp_f64(b, b.fsub(b.fneg(b.fmul(z, z)), b.f64(0.5625)));
  Id e2 = emit_exp_f64(b, b.fadd(b.fmul(b.fsub(z, ac), b.fadd(z, ac)), b.fdiv(rr, ss)));
  Id large = b.fsub(b.f64(1.0), b.fdiv(b.fmul(e1, e2), ac));

  Id result = b.select(lt(b, a, b.f64(1.25)), copysign(b, middle, x), copysign(b, large, x));
  result = b.select(lt(b, a, b.f64(0.84375)), small, result);
  return b.select(b.is_nan(x), x, result);
}

Id emit_sin_f64(Builder& b, Id x) {
  return sin_cos_f64(b, x, 0);
}

Id emit_cos_f64(Builder& b, Id x) {
  return sin_cos_f64(b, x, 1);
}

// |x|^y = e^(y log|x|) with log|x| and the product in double-double (Dekker's products, so
// nothing depends on Fma being fused): the product's error stays near 2^-60 absolute, the
// result within about 1 ulp. |y| is clamped to 2^64 (the splits need |y| < 2^995), where
// |y log|x|| >= 2^11 for every |x| != 1, so the result still overflows or underflows.
Id emit_pow_f64(Builder& b, Id x, Id y) {
  need_64_bit(b);
  Id ax = b.fabs(x);
  Id finite_positive = b.logical_and(gt(b, ax, b.f64(0.0)), lt(b, ax, b.f64(kInf)));
  // Inputs outside (0, inf) take a harmless 1 through the double-double log.
  DD l = log_dd_f64(b, b.select(finite_positive, ax, b.f64(1.0)));
  Id log_hi = b.select(finite_positive, l.hi, emit_log_f64(b, ax));
  Id log_lo = b.select(finite_positive, l.lo, b.f64(0.0));
  Id yc = b.select(gt(b, y, b.f64(0x1p64)), b.f64(0x1p64),
                   b.select(lt(b, y, b.f64(-0x1p64)), b.f64(-0x1p64), y));
  // A split of +-inf or NaN would spread NaN into w.lo; past 1000 the clamp ignores it.
  Id log_split = b.select(finite_positive, log_hi, b.f64(0.0));
  DD w = two_prod(b, yc, log_split);
  Id w_hi = b.fmul(yc, log_hi);
  Id w_lo = b.fadd(w.lo, b.fmul(yc, log_lo));
  w_lo = b.select(lt(b, b.fabs(w_hi), b.f64(1000.0)), w_lo, b.f64(0.0));
  return pow_specials(b, x, y, exp_dd_f64(b, w_hi, w_lo));
}

}  // namespace kiln::codegen::spirv
