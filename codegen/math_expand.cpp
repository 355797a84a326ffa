#include "codegen/math_expand.h"

#include <cassert>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <numbers>

namespace kiln::codegen {

namespace {

using ir::DType;
using ir::OpKind;

constexpr double kPi = std::numbers::pi;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Kernel expressions of one float dtype, spelled as arithmetic.
class Math {
 public:
  Math(ExprBuilder& b, DType t) : b_(b), t_(t) {}

  DType dtype() const { return t_; }
  bool f64() const { return t_ == DType::F64; }

  ExprId c(double v) { return b_.constant_float(v, t_); }
  ExprId op(OpKind k, std::initializer_list<ExprId> xs) { return b_.op(k, t_, xs); }
  ExprId add(ExprId a, ExprId b) { return op(OpKind::Add, {a, b}); }
  ExprId sub(ExprId a, ExprId b) { return op(OpKind::Sub, {a, b}); }
  ExprId mul(ExprId a, ExprId b) { return op(OpKind::Mul, {a, b}); }
  ExprId div(ExprId a, ExprId b) { return op(OpKind::Div, {a, b}); }
  ExprId neg(ExprId a) { return op(OpKind::Neg, {a}); }
  ExprId abs(ExprId a) { return op(OpKind::Abs, {a}); }
  ExprId sign(ExprId a) { return op(OpKind::Sign, {a}); }
  ExprId sqrt(ExprId a) { return op(OpKind::Sqrt, {a}); }
  ExprId exp(ExprId a) { return op(OpKind::Exp, {a}); }
  ExprId expm1(ExprId a) { return op(OpKind::Expm1, {a}); }
  ExprId log(ExprId a) { return op(OpKind::Log, {a}); }
  ExprId log1p(ExprId a) { return op(OpKind::Log1p, {a}); }
  ExprId sin(ExprId a) { return op(OpKind::Sin, {a}); }
  ExprId cos(ExprId a) { return op(OpKind::Cos, {a}); }
  ExprId erf(ExprId a) { return op(OpKind::Erf, {a}); }
  ExprId round(ExprId a) { return op(OpKind::Round, {a}); }
  ExprId floor(ExprId a) { return op(OpKind::Floor, {a}); }
  ExprId cmp(OpKind k, ExprId a, ExprId b) { return b_.op(k, DType::Bool, {a, b}); }
  ExprId both(ExprId p, ExprId q) { return b_.op(OpKind::And, DType::Bool, {p, q}); }
  ExprId either(ExprId p, ExprId q) { return b_.op(OpKind::Or, DType::Bool, {p, q}); }
  ExprId select(ExprId p, ExprId a, ExprId b) { return b_.op(OpKind::Select, t_, {p, a, b}); }
  // Horner's rule: coefficients from the highest power down.
  ExprId poly(ExprId x, std::initializer_list<double> coefficients) {
    auto it = coefficients.begin();
    ExprId r = c(*it);
    for (++it; it != coefficients.end(); ++it)
      r = add(mul(r, x), c(*it));
    return r;
  }
  // Whether x is negative, -0 included (1 / -0 = -inf).
  ExprId sign_bit(ExprId x) {
    return either(cmp(OpKind::Lt, x, c(0)), cmp(OpKind::Lt, div(c(1), x), c(0)));
  }

 private:
  ExprBuilder& b_;
  DType t_;
};

// atan of z >= 0 (or NaN). z > 1 inverts (atan z = pi/2 - atan(1/z)), z > tan(pi/8) shifts
// (atan z = pi/4 + atan((z - 1)/(z + 1))), leaving |w| <= tan(pi/8) for Cephes' atanf
// polynomial (about 2 ulp in f32). f64 refines that estimate by two Newton steps on
// tan(r) = z (quadratic: 1e-7, 1e-14, then the rounding of sin and cos), which every backend
// evaluates with its own f64 sin and cos.
ExprId atan_nonnegative(Math& m, ExprId z) {
  const ExprId inverted = m.cmp(OpKind::Gt, z, m.c(1));
  const ExprId u = m.select(inverted, m.div(m.c(1), z), z);
  const ExprId shifted = m.cmp(OpKind::Gt, u, m.c(0.41421356237309503));
  const ExprId w = m.select(shifted, m.div(m.sub(u, m.c(1)), m.add(u, m.c(1))), u);
  const ExprId w2 = m.mul(w, w);
  const ExprId p =
      m.poly(w2, {8.05374449538e-2, -1.38776856032e-1, 1.99777106478e-1, -3.33329491539e-1});
  ExprId r = m.add(m.select(shifted, m.c(kPi / 4), m.c(0)), m.add(m.mul(m.mul(p, w2), w), w));
  if (m.f64())
    for (int step = 0; step < 2; ++step) {
      const ExprId cr = m.cos(r);
      r = m.sub(r, m.mul(cr, m.sub(m.sin(r), m.mul(u, cr))));
    }
  return m.select(inverted, m.sub(m.c(kPi / 2), r), r);
}

ExprId atan(Math& m, ExprId x) {
  return m.mul(m.sign(x), atan_nonnegative(m, m.abs(x)));
}

// IEEE atan2 with its special cases: (+-0, +-0) and (+-inf, +-inf) by quadrant and the
// signs of the zeros.
ExprId atan2(Math& m, ExprId y, ExprId x) {
  const ExprId ay = m.abs(y), ax = m.abs(x);
  ExprId r = atan_nonnegative(m, m.div(ay, ax));
  r = m.select(m.both(m.cmp(OpKind::Eq, ay, m.c(0)), m.cmp(OpKind::Eq, ax, m.c(0))), m.c(0), r);
  r = m.select(m.both(m.cmp(OpKind::Eq, ay, m.c(kInf)), m.cmp(OpKind::Eq, ax, m.c(kInf))),
               m.c(kPi / 4), r);
  r = m.select(m.sign_bit(x), m.sub(m.c(kPi), r), r);
  return m.select(m.sign_bit(y), m.neg(r), r);
}

// sqrt(1 - x^2) as sqrt((1 - x)(1 + x)), exact in its factors near |x| = 1.
ExprId cosine_of_asin(Math& m, ExprId x) {
  return m.sqrt(m.mul(m.sub(m.c(1), x), m.add(m.c(1), x)));
}

// Where e^-2|x| falls below half an ulp, sinh and cosh are e^|x| / 2, taken as
// (e^(|x|/2) / 2) e^(|x|/2) so that it overflows only where the result does.
double hyperbolic_cutoff(const Math& m) {
  return m.f64() ? 19.0 : 9.0;
}

ExprId half_exp(Math& m, ExprId a) {
  const ExprId h = m.exp(m.mul(a, m.c(0.5)));
  return m.mul(m.mul(h, m.c(0.5)), h);
}

ExprId sinh(Math& m, ExprId x) {
  const ExprId a = m.abs(x);
  const ExprId t = m.expm1(a);  // sinh = (t + t / (t + 1)) / 2, exact near 0
  const ExprId small = m.mul(m.c(0.5), m.add(t, m.div(t, m.add(t, m.c(1)))));
  const ExprId r = m.select(m.cmp(OpKind::Lt, a, m.c(hyperbolic_cutoff(m))), small, half_exp(m, a));
  return m.mul(m.sign(x), r);
}

ExprId cosh(Math& m, ExprId x) {
  const ExprId a = m.abs(x);
  const ExprId e = m.exp(a);
  const ExprId small = m.mul(m.c(0.5), m.add(e, m.div(m.c(1), e)));
  return m.select(m.cmp(OpKind::Lt, a, m.c(hyperbolic_cutoff(m))), small, half_exp(m, a));
}

// Above this, x^2 + 1 rounds to x^2: asinh and acosh are log(x) + log 2.
double square_cutoff(const Math& m) {
  return m.f64() ? 0x1p26 : 0x1p12;
}

ExprId asinh(Math& m, ExprId x) {
  const ExprId a = m.abs(x);
  const ExprId a2 = m.mul(a, a);
  // log(a + sqrt(a^2 + 1)) = log1p(a + a^2 / (1 + sqrt(1 + a^2))), exact near 0.
  const ExprId small = m.log1p(m.add(a, m.div(a2, m.add(m.c(1), m.sqrt(m.add(m.c(1), a2))))));
  const ExprId large = m.add(m.log(a), m.c(std::numbers::ln2));
  return m.mul(m.sign(x), m.select(m.cmp(OpKind::Lt, a, m.c(square_cutoff(m))), small, large));
}

ExprId acosh(Math& m, ExprId x) {
  const ExprId t = m.sub(x, m.c(1));
  const ExprId small = m.log1p(m.add(t, m.sqrt(m.add(m.add(t, t), m.mul(t, t)))));
  const ExprId large = m.add(m.log(x), m.c(std::numbers::ln2));
  const ExprId r = m.select(m.cmp(OpKind::Gt, x, m.c(square_cutoff(m))), large, small);
  // Below 1 t(t + 2) is negative only down to -1; past it the square root is real again.
  return m.select(m.cmp(OpKind::Lt, x, m.c(1)), m.c(std::numeric_limits<double>::quiet_NaN()), r);
}

ExprId atanh(Math& m, ExprId x) {
  const ExprId a = m.abs(x);
  const ExprId r = m.mul(m.c(0.5), m.log1p(m.div(m.add(a, a), m.sub(m.c(1), a))));
  return m.mul(m.sign(x), r);
}

// Giles' single-precision erfinv ("Approximating the erfinv function", 2010); f64 refines it
// by two Newton steps on erf. +-1 give +-inf; beyond them log of a negative gives NaN.
ExprId erf_inv(Math& m, ExprId y) {
  const ExprId w = m.neg(m.log(m.mul(m.sub(m.c(1), y), m.add(m.c(1), y))));
  const ExprId central = m.poly(
      m.sub(w, m.c(2.5)), {2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                           0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941});
  const ExprId tail = m.poly(m.sub(m.sqrt(w), m.c(3)),
                             {-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                              0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682});
  ExprId x = m.mul(m.select(m.cmp(OpKind::Lt, w, m.c(5)), central, tail), y);
  if (m.f64()) {
    const double slope = 2.0 / std::sqrt(kPi);
    for (int step = 0; step < 2; ++step)
      x = m.sub(x, m.div(m.sub(m.erf(x), y), m.mul(m.c(slope), m.exp(m.neg(m.mul(x, x))))));
  }
  const ExprId infinity = m.select(m.sign_bit(y), m.c(-kInf), m.c(kInf));
  return m.select(m.cmp(OpKind::Eq, m.abs(y), m.c(1)), infinity, x);
}

// What lgamma and digamma share: x below 1/2 reflects to z = 1 - x; z below 8 moves up
// by 8 through the recurrence; `r` is x minus its nearest integer, so sin(pi r) is exact in
// its argument's reduction.
struct GammaArgument {
  ExprId reflect, z, shift, w, r;
};

GammaArgument gamma_argument(Math& m, ExprId x) {
  GammaArgument g;
  g.reflect = m.cmp(OpKind::Lt, x, m.c(0.5));
  g.z = m.select(g.reflect, m.sub(m.c(1), x), x);
  g.shift = m.cmp(OpKind::Lt, g.z, m.c(8));
  g.w = m.select(g.shift, m.add(g.z, m.c(8)), g.z);
  g.r = m.sub(x, m.round(x));
  return g;
}

// log |Gamma(x)|: Stirling's series at w >= 8 (to the w^-15 term), less log of the
// recurrence's product, and log(pi / |sin(pi x)|) - lgamma(1 - x) below 1/2. Near its zeros
// at 1 and 2 the error is absolute (a few ulps of 10, from the subtraction).
ExprId lgamma(Math& m, ExprId x) {
  const GammaArgument g = gamma_argument(m, x);
  ExprId product = g.z;
  for (int i = 1; i < 8; ++i)
    product = m.mul(product, m.add(g.z, m.c(i)));
  const ExprId log_product = m.select(g.shift, m.log(product), m.c(0));
  const ExprId v = m.div(m.c(1), g.w), v2 = m.mul(v, v);
  const ExprId series =
      m.mul(v, m.poly(v2, {-3617.0 / 122400, 1.0 / 156, -691.0 / 360360, 1.0 / 1188, -1.0 / 1680,
                           1.0 / 1260, -1.0 / 360, 1.0 / 12}));
  const ExprId stirling = m.add(m.sub(m.mul(m.sub(g.w, m.c(0.5)), m.log(g.w)), g.w),
                                m.add(m.c(0.5 * std::log(2 * kPi)), series));
  const ExprId positive = m.sub(stirling, log_product);
  const ExprId sin_pi_r = m.abs(m.sin(m.mul(g.r, m.c(kPi))));
  const ExprId reflected = m.sub(m.log(m.div(m.c(kPi), sin_pi_r)), positive);
  const ExprId result = m.select(g.reflect, reflected, positive);
  return m.select(m.cmp(OpKind::Eq, m.abs(x), m.c(kInf)), m.c(kInf), result);
}

// Gamma'/Gamma: the asymptotic series at w >= 8 (to the w^-14 term), less the recurrence's
// 1/(z + i), and psi(1 - x) - pi cos(pi r) / sin(pi r) below 1/2; NaN at the poles.
ExprId digamma(Math& m, ExprId x) {
  const GammaArgument g = gamma_argument(m, x);
  ExprId sum = m.div(m.c(1), g.z);
  for (int i = 1; i < 8; ++i)
    sum = m.add(sum, m.div(m.c(1), m.add(g.z, m.c(i))));
  const ExprId v = m.div(m.c(1), g.w), v2 = m.mul(v, v);
  const ExprId series = m.mul(v2, m.poly(v2, {1.0 / 12, -691.0 / 32760, 1.0 / 132, -1.0 / 240,
                                              1.0 / 252, -1.0 / 120, 1.0 / 12}));
  const ExprId asymptotic = m.sub(m.sub(m.log(g.w), m.mul(v, m.c(0.5))), series);
  const ExprId positive = m.sub(asymptotic, m.select(g.shift, sum, m.c(0)));
  const ExprId pi_r = m.mul(g.r, m.c(kPi));
  const ExprId reflected = m.sub(positive, m.div(m.mul(m.c(kPi), m.cos(pi_r)), m.sin(pi_r)));
  const ExprId result = m.select(g.reflect, reflected, positive);
  const ExprId pole = m.both(m.cmp(OpKind::Le, x, m.c(0)), m.cmp(OpKind::Eq, m.floor(x), x));
  return m.select(pole, m.c(std::numeric_limits<double>::quiet_NaN()), result);
}

ExprId expand(Math& m, OpKind op, std::span<const ExprId> in) {
  switch (op) {
    case OpKind::Tan:
      return m.div(m.sin(in[0]), m.cos(in[0]));
    case OpKind::Asin:
      return atan2(m, in[0], cosine_of_asin(m, in[0]));
    case OpKind::Acos:
      return atan2(m, cosine_of_asin(m, in[0]), in[0]);
    case OpKind::Atan:
      return atan(m, in[0]);
    case OpKind::Atan2:
      return atan2(m, in[0], in[1]);
    case OpKind::Sinh:
      return sinh(m, in[0]);
    case OpKind::Cosh:
      return cosh(m, in[0]);
    case OpKind::Asinh:
      return asinh(m, in[0]);
    case OpKind::Acosh:
      return acosh(m, in[0]);
    case OpKind::Atanh:
      return atanh(m, in[0]);
    case OpKind::ErfInv:
      return erf_inv(m, in[0]);
    case OpKind::Lgamma:
      return lgamma(m, in[0]);
    case OpKind::Digamma:
      return digamma(m, in[0]);
    default:
      break;
  }
  assert(false && "not an op lowering writes out");
  return 0;
}

}  // namespace

bool expanded_by_lowering(ir::OpKind op) {
  switch (op) {
    case OpKind::Tan:
    case OpKind::Asin:
    case OpKind::Acos:
    case OpKind::Atan:
    case OpKind::Atan2:
    case OpKind::Sinh:
    case OpKind::Cosh:
    case OpKind::Asinh:
    case OpKind::Acosh:
    case OpKind::Atanh:
    case OpKind::ErfInv:
    case OpKind::Lgamma:
    case OpKind::Digamma:
      return true;
    default:
      return false;
  }
}

ExprId expand_math(ExprBuilder& b, ir::OpKind op, ir::DType dtype,
                   std::span<const ExprId> operands) {
  const bool half = dtype == DType::F16 || dtype == DType::BF16;
  Math m(b, half ? DType::F32 : dtype);
  std::vector<ExprId> in(operands.begin(), operands.end());
  if (half)
    for (ExprId& x : in)
      x = b.op(OpKind::Convert, DType::F32, {x});
  const ExprId result = expand(m, op, in);
  return half ? b.op(OpKind::Convert, dtype, {result}) : result;
}

}  // namespace kiln::codegen
