#include "frontend/ops.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "frontend/promotion.h"
#include "frontend/reductions.h"
#include "frontend/shape_ops.h"

namespace kiln {

namespace {

using detail::fail;
using detail::make;
using ir::OpKind;

struct Prepared {
  std::vector<Tensor> operands;  // one dtype, one shape
  Promoted type;
};

void check_valid(const std::vector<Tensor>& xs, std::string_view fn) {
  for (const Tensor& x : xs)
    if (!x.valid()) fail(fn, "an operand is an empty (default-constructed) Tensor");
}

// Promotes the operands to their common type, then broadcasts them to their common shape
// (converting first, so the convert works on the smaller tensor).
Prepared prepare(std::vector<Tensor> xs, std::string_view fn,
                 std::optional<DType> force = std::nullopt) {
  check_valid(xs, fn);
  Promoted type = result_type(xs);
  if (force) type = {*force, false};
  Shape shape = xs[0].shape();
  for (size_t i = 1; i < xs.size(); ++i)
    shape = broadcast_shapes(shape, xs[i].shape(), fn);
  for (Tensor& x : xs)
    x = broadcast_to(cast_operand(x, type.dtype, fn), shape);
  return {std::move(xs), type};
}

Tensor binary(OpKind op, const Tensor& a, const Tensor& b, std::string_view fn,
              std::optional<DType> force = std::nullopt) {
  Prepared p = prepare({a, b}, fn, force);
  return make(op, p.operands, {}, std::nullopt, fn, p.type.weak);
}

Tensor compare(OpKind op, const Tensor& a, const Tensor& b, std::string_view fn) {
  Prepared p = prepare({a, b}, fn);
  return make(op, p.operands, {}, std::nullopt, fn);
}

// Float-only IR ops: integer and bool inputs compute in the default float type.
Tensor float_unary(OpKind op, const Tensor& x, std::string_view fn) {
  check_valid({x}, fn);
  Tensor y = ir::is_float(x.dtype()) ? x : cast_operand(x, kDefaultFloat, fn);
  return make(op, {y}, {}, std::nullopt, fn, x.is_weak());
}

Tensor unary(OpKind op, const Tensor& x, std::string_view fn) {
  check_valid({x}, fn);
  return make(op, {x}, {}, std::nullopt, fn, x.is_weak());
}

// Rounding leaves integers alone.
Tensor rounding(OpKind op, const Tensor& x, std::string_view fn) {
  check_valid({x}, fn);
  if (!ir::is_float(x.dtype())) return x;
  return unary(op, x, fn);
}

Tensor to_bool(const Tensor& x) {
  return x.dtype() == DType::Bool ? x : not_equal(x, 0);
}

Tensor bitwise(OpKind op, const Tensor& a, const Tensor& b, std::string_view fn) {
  check_valid({a, b}, fn);
  for (const Tensor& x : {a, b})
    if (ir::is_float(x.dtype()))
      fail(fn,
           "expects bool or integer operands, got " + a.type().str() + " and " + b.type().str());
  return binary(op, a, b, fn);
}

Tensor integer_only(OpKind op, const Tensor& a, const Tensor& b, std::string_view fn) {
  check_valid({a, b}, fn);
  for (const Tensor& x : {a, b})
    if (!ir::is_integer(x.dtype()))
      fail(fn, "expects integer operands, got " + a.type().str() + " and " + b.type().str());
  return binary(op, a, b, fn);
}

Tensor integer_unary(OpKind op, const Tensor& x, std::string_view fn) {
  check_valid({x}, fn);
  if (!ir::is_integer(x.dtype())) fail(fn, "expects an integer operand, got " + x.type().str());
  return unary(op, x, fn);
}

// Where the truncating IR result r (of a / b) has the sign opposite to b, Python-style
// floor semantics need a correction.
Tensor needs_floor_fix(const Tensor& r, const Tensor& b) {
  return logical_and(r != 0, (r < 0) != (b < 0));
}

// The operands of a float-valued binary function (logaddexp, isclose) in their common type,
// or the default float type where that is not a float. Checks that they broadcast, so that
// an error names `fn` rather than an op it is made of.
std::pair<Tensor, Tensor> as_float_pair(const Tensor& a, const Tensor& b, std::string_view fn) {
  check_valid({a, b}, fn);
  broadcast_shapes(a.shape(), b.shape(), fn);
  DType common = result_type(std::vector<Tensor>{a, b}).dtype;
  DType d = ir::is_float(common) ? common : kDefaultFloat;
  return {cast_operand(a, d, fn), cast_operand(b, d, fn)};
}

// The largest finite value of a float dtype.
double float_max(DType d) {
  switch (d) {
    case DType::F16:
      return 65504.0;
    case DType::BF16:
      return 3.3895313892515355e38;  // (2 - 2^-7) * 2^127
    case DType::F32:
      return std::numeric_limits<float>::max();
    default:
      return std::numeric_limits<double>::max();
  }
}

}  // namespace

Tensor astype(const Tensor& x, DType dtype) {
  check_valid({x}, "astype");
  if (x.dtype() == dtype && !x.is_weak()) return x;
  if (const auto& literal = x.node()->literal) {
    Tensor t = Tensor::scalar(*literal, dtype);
    // The literal must say what the converted scalar holds (2.7 as i32 is 2).
    const ir::HostArray& a = *t.node()->data;
    if (dtype == DType::Bool)
      t.node()->literal = a.get_i64(0) != 0;
    else if (ir::is_float(dtype))
      t.node()->literal = a.get_f64(0);
    else
      t.node()->literal = a.get_i64(0);
    return t;
  }
  return make(OpKind::Convert, {x}, {}, ir::TensorType{dtype, x.shape()}, "astype");
}

Tensor negative(const Tensor& x) {
  return unary(OpKind::Neg, x, "negative");
}
Tensor abs(const Tensor& x) {
  return unary(OpKind::Abs, x, "abs");
}
Tensor sign(const Tensor& x) {
  return unary(OpKind::Sign, x, "sign");
}
Tensor exp(const Tensor& x) {
  return float_unary(OpKind::Exp, x, "exp");
}
Tensor log(const Tensor& x) {
  return float_unary(OpKind::Log, x, "log");
}
Tensor log1p(const Tensor& x) {
  return float_unary(OpKind::Log1p, x, "log1p");
}
Tensor expm1(const Tensor& x) {
  return float_unary(OpKind::Expm1, x, "expm1");
}
Tensor sqrt(const Tensor& x) {
  return float_unary(OpKind::Sqrt, x, "sqrt");
}
Tensor rsqrt(const Tensor& x) {
  return float_unary(OpKind::Rsqrt, x, "rsqrt");
}
Tensor sin(const Tensor& x) {
  return float_unary(OpKind::Sin, x, "sin");
}
Tensor cos(const Tensor& x) {
  return float_unary(OpKind::Cos, x, "cos");
}
Tensor tanh(const Tensor& x) {
  return float_unary(OpKind::Tanh, x, "tanh");
}
Tensor sigmoid(const Tensor& x) {
  return float_unary(OpKind::Logistic, x, "sigmoid");
}
Tensor erf(const Tensor& x) {
  return float_unary(OpKind::Erf, x, "erf");
}
Tensor tan(const Tensor& x) {
  return float_unary(OpKind::Tan, x, "tan");
}
Tensor arcsin(const Tensor& x) {
  return float_unary(OpKind::Asin, x, "arcsin");
}
Tensor arccos(const Tensor& x) {
  return float_unary(OpKind::Acos, x, "arccos");
}
Tensor arctan(const Tensor& x) {
  return float_unary(OpKind::Atan, x, "arctan");
}
Tensor sinh(const Tensor& x) {
  return float_unary(OpKind::Sinh, x, "sinh");
}
Tensor cosh(const Tensor& x) {
  return float_unary(OpKind::Cosh, x, "cosh");
}
Tensor arcsinh(const Tensor& x) {
  return float_unary(OpKind::Asinh, x, "arcsinh");
}
Tensor arccosh(const Tensor& x) {
  return float_unary(OpKind::Acosh, x, "arccosh");
}
Tensor arctanh(const Tensor& x) {
  return float_unary(OpKind::Atanh, x, "arctanh");
}
Tensor erfinv(const Tensor& x) {
  return float_unary(OpKind::ErfInv, x, "erfinv");
}
Tensor lgamma(const Tensor& x) {
  return float_unary(OpKind::Lgamma, x, "lgamma");
}
Tensor digamma(const Tensor& x) {
  return float_unary(OpKind::Digamma, x, "digamma");
}
Tensor arctan2(const Tensor& a, const Tensor& b) {
  check_valid({a, b}, "arctan2");
  const DType d = result_type(std::vector<Tensor>{a, b}).dtype;
  return binary(OpKind::Atan2, a, b, "arctan2", ir::is_float(d) ? d : kDefaultFloat);
}
Tensor floor(const Tensor& x) {
  return rounding(OpKind::Floor, x, "floor");
}
Tensor ceil(const Tensor& x) {
  return rounding(OpKind::Ceil, x, "ceil");
}
Tensor round(const Tensor& x) {
  return rounding(OpKind::Round, x, "round");
}
Tensor square(const Tensor& x) {
  check_valid({x}, "square");
  return multiply(x, x);
}
Tensor reciprocal(const Tensor& x) {
  check_valid({x}, "reciprocal");
  return divide(1, x);
}

Tensor add(const Tensor& a, const Tensor& b) {
  // numpy: bool + bool is logical or, bool * bool logical and.
  if (a.valid() && b.valid() && a.dtype() == DType::Bool && b.dtype() == DType::Bool)
    return binary(OpKind::Or, a, b, "add");
  return binary(OpKind::Add, a, b, "add");
}

Tensor subtract(const Tensor& a, const Tensor& b) {
  return binary(OpKind::Sub, a, b, "subtract");
}

Tensor multiply(const Tensor& a, const Tensor& b) {
  if (a.valid() && b.valid() && a.dtype() == DType::Bool && b.dtype() == DType::Bool)
    return binary(OpKind::And, a, b, "multiply");
  return binary(OpKind::Mul, a, b, "multiply");
}

Tensor divide(const Tensor& a, const Tensor& b) {
  check_valid({a, b}, "divide");
  Promoted type = result_type(std::vector<Tensor>{a, b});
  if (ir::is_float(type.dtype)) return binary(OpKind::Div, a, b, "divide");
  return binary(OpKind::Div, a, b, "divide", kDefaultFloat);
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  Prepared p = prepare({a, b}, "floor_divide");
  const Tensor &x = p.operands[0], &y = p.operands[1];
  DType d = p.type.dtype;
  if (ir::is_float(d)) return floor(make(OpKind::Div, {x, y}, {}, {}, "floor_divide"));
  if (d == DType::Bool) fail("floor_divide", "expects numeric operands, got bool and bool");
  Tensor q = make(OpKind::Div, {x, y}, {}, {}, "floor_divide", p.type.weak);
  if (ir::is_unsigned(d)) return q;
  Tensor r = make(OpKind::Rem, {x, y}, {}, {}, "floor_divide");
  return where(needs_floor_fix(r, y), q - 1, q);
}

Tensor remainder(const Tensor& a, const Tensor& b) {
  Prepared p = prepare({a, b}, "remainder");
  const Tensor &x = p.operands[0], &y = p.operands[1];
  Tensor r = make(OpKind::Rem, {x, y}, {}, {}, "remainder", p.type.weak);
  if (ir::is_unsigned(p.type.dtype)) return r;
  return where(needs_floor_fix(r, y), r + y, r);
}

Tensor fmod(const Tensor& a, const Tensor& b) {
  return binary(OpKind::Rem, a, b, "fmod");
}
Tensor power(const Tensor& a, const Tensor& b) {
  return binary(OpKind::Pow, a, b, "power");
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary(OpKind::Max, a, b, "maximum");
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary(OpKind::Min, a, b, "minimum");
}
Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  // Checked here, so errors say clip rather than the maximum and minimum it is made of.
  check_valid({x, lo, hi}, "clip");
  broadcast_shapes(broadcast_shapes(x.shape(), lo.shape(), "clip"), hi.shape(), "clip");
  return minimum(maximum(x, lo), hi);
}

Tensor logaddexp(const Tensor& a, const Tensor& b) {
  auto [x, y] = as_float_pair(a, b, "logaddexp");
  // Apart, the max plus a log1p term in (0, log 2]: no overflow, and no precision lost when
  // that term is tiny. Its derivative in x is sigmoid(x - y) except at ties, where max gives
  // its whole tangent to one operand; there (and for equal infinities, whose difference is
  // NaN) the mean plus log 2 is the same value (x/2 + y/2 rather than (x + y)/2, which could
  // overflow) with the derivative 1/2 for each. NaN fails the equality and reaches the max,
  // which propagates it.
  Tensor apart = maximum(x, y) + log1p(exp(-abs(x - y)));
  return where(x == y, x * 0.5 + y * 0.5 + std::numbers::ln2, apart);
}

Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  auto [x, y] = as_float_pair(a, b, "isclose");
  // numpy's formula: an infinite b makes the tolerance infinite, so that case is left to the
  // equality, which holds for equal infinities only.
  Tensor close = logical_and(abs(x - y) <= atol + rtol * abs(y), isfinite(y));
  close = logical_or(close, x == y);
  return equal_nan ? logical_or(close, logical_and(isnan(x), isnan(y))) : close;
}

Tensor allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  check_valid({a, b}, "allclose");
  broadcast_shapes(a.shape(), b.shape(), "allclose");
  return all(isclose(a, b, rtol, atol, equal_nan));
}

Tensor nan_to_num(const Tensor& x, double nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  check_valid({x}, "nan_to_num");
  const DType d = x.dtype();
  if (!ir::is_float(d)) return x;
  const double inf = std::numeric_limits<double>::infinity();
  Tensor out = where(isnan(x), Tensor::scalar(nan, d), x);
  out = where(x == inf, Tensor::scalar(posinf.value_or(float_max(d)), d), out);
  return where(x == -inf, Tensor::scalar(neginf.value_or(-float_max(d)), d), out);
}

Tensor equal(const Tensor& a, const Tensor& b) {
  return compare(OpKind::Eq, a, b, "equal");
}
Tensor not_equal(const Tensor& a, const Tensor& b) {
  return compare(OpKind::Ne, a, b, "not_equal");
}
Tensor less(const Tensor& a, const Tensor& b) {
  return compare(OpKind::Lt, a, b, "less");
}
Tensor less_equal(const Tensor& a, const Tensor& b) {
  return compare(OpKind::Le, a, b, "less_equal");
}
Tensor greater(const Tensor& a, const Tensor& b) {
  return compare(OpKind::Gt, a, b, "greater");
}
Tensor greater_equal(const Tensor& a, const Tensor& b) {
  return compare(OpKind::Ge, a, b, "greater_equal");
}

Tensor isnan(const Tensor& x) {
  check_valid({x}, "isnan");
  return x != x;
}
Tensor isinf(const Tensor& x) {
  check_valid({x}, "isinf");
  if (!ir::is_float(x.dtype())) return x != x;  // all false
  return abs(x) == std::numeric_limits<double>::infinity();
}
Tensor isfinite(const Tensor& x) {
  check_valid({x}, "isfinite");
  if (!ir::is_float(x.dtype())) return x == x;  // all true
  return make(OpKind::IsFinite, {x}, {}, std::nullopt, "isfinite");
}

Tensor logical_not(const Tensor& x) {
  check_valid({x}, "logical_not");
  return make(OpKind::Not, {to_bool(x)}, {}, std::nullopt, "logical_not");
}
Tensor logical_and(const Tensor& a, const Tensor& b) {
  return binary(OpKind::And, to_bool(a), to_bool(b), "logical_and");
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return binary(OpKind::Or, to_bool(a), to_bool(b), "logical_or");
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return binary(OpKind::Xor, to_bool(a), to_bool(b), "logical_xor");
}

Tensor bitwise_not(const Tensor& x) {
  check_valid({x}, "bitwise_not");
  if (ir::is_float(x.dtype()))
    fail("bitwise_not", "expects a bool or integer operand, got " + x.type().str());
  return unary(OpKind::Not, x, "bitwise_not");
}
Tensor bitwise_and(const Tensor& a, const Tensor& b) {
  return bitwise(OpKind::And, a, b, "bitwise_and");
}
Tensor bitwise_or(const Tensor& a, const Tensor& b) {
  return bitwise(OpKind::Or, a, b, "bitwise_or");
}
Tensor bitwise_xor(const Tensor& a, const Tensor& b) {
  return bitwise(OpKind::Xor, a, b, "bitwise_xor");
}

Tensor left_shift(const Tensor& a, const Tensor& b) {
  return integer_only(OpKind::ShiftLeft, a, b, "left_shift");
}
Tensor right_shift(const Tensor& a, const Tensor& b) {
  check_valid({a, b}, "right_shift");
  const DType d = result_type(std::vector<Tensor>{a, b}).dtype;
  return integer_only(ir::is_unsigned(d) ? OpKind::ShiftRightLogical : OpKind::ShiftRightArithmetic,
                      a, b, "right_shift");
}
Tensor right_shift_logical(const Tensor& a, const Tensor& b) {
  return integer_only(OpKind::ShiftRightLogical, a, b, "right_shift_logical");
}
Tensor right_shift_arithmetic(const Tensor& a, const Tensor& b) {
  return integer_only(OpKind::ShiftRightArithmetic, a, b, "right_shift_arithmetic");
}
Tensor popcount(const Tensor& x) {
  return integer_unary(OpKind::Popcount, x, "popcount");
}
Tensor clz(const Tensor& x) {
  return integer_unary(OpKind::Clz, x, "clz");
}
Tensor view(const Tensor& x, DType dtype) {
  check_valid({x}, "view");
  if (x.dtype() == DType::Bool || dtype == DType::Bool ||
      ir::dtype_size(x.dtype()) != ir::dtype_size(dtype))
    fail("view", "reinterprets bits between numeric dtypes of one width, got " + x.type().str() +
                     " as " + std::string(ir::dtype_name(dtype)));
  if (x.dtype() == dtype) return x;
  return make(OpKind::BitcastConvert, {x}, {}, ir::TensorType{dtype, x.shape()}, "view");
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_valid({cond, a, b}, "where");
  Tensor c = to_bool(cond);
  Promoted type = result_type(std::vector<Tensor>{a, b});
  Shape shape =
      broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  std::vector<Tensor> operands = {broadcast_to(c, shape),
                                  broadcast_to(cast_operand(a, type.dtype, "where"), shape),
                                  broadcast_to(cast_operand(b, type.dtype, "where"), shape)};
  return make(OpKind::Select, operands, {}, std::nullopt, "where", type.weak);
}

}  // namespace kiln
